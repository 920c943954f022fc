"""A text space for the strings agents and tools actually exchange.

Gymnasium's :class:`~gymnasium.spaces.Text` only contains strings built from a fixed
charset (alphanumerics by default), so a page in German, a shell prompt with a ``$`` or
an emoji in a tool call would be "outside the observation space". :class:`UnicodeText`
accepts any ``str`` whose length is within bounds. It still subclasses ``Text`` so that
code which dispatches on ``Text`` (vector env batching, wrappers) treats it as text.

Two things ``Text`` does through its charset are redone here with code points:

* ``sample()`` draws from a fixed, mixed charset (ASCII, JSON punctuation, accented
  letters, CJK, emoji, control characters), seeded by the space's ``np_random``. It is
  meant for fuzzing and ``check_env``, not for producing meaningful text.
* flattening and the shared memory used by ``AsyncVectorEnv(shared_memory=True)`` store
  code points (``ord``) prefixed by the length, so no character is lost (``gym.make_vec(id,
  vectorization_mode="async")`` uses this). ``gym.make_vec(id)`` with no mode uses the
  registered vector entry point, ``shared_memory=False``: a fixed buffer of ``max_length``
  code points per env is mostly wasted on short observations.
"""
from __future__ import annotations

import multiprocessing as mp
import string
from collections.abc import Sequence
from ctypes import c_int32
from multiprocessing.sharedctypes import SynchronizedArray
from types import ModuleType
from typing import Any

import numpy as np
from gymnasium.spaces import Text
from gymnasium.spaces.utils import flatdim, flatten, unflatten
from gymnasium.vector.utils.shared_memory import (
    create_shared_memory,
    read_from_shared_memory,
    write_to_shared_memory,
)

# What sample() draws from: enough variety to exercise parsers (quotes, braces,
# backslashes, newlines, NUL, non-BMP characters), small enough to build instantly.
SAMPLE_CHARSET = (
    string.ascii_letters
    + string.digits
    + string.punctuation
    + " \t\n\r\x00\x1b"
    + "äöüßéèçñøåÆŒ"
    + "αβγδλπΩ"
    + "дЖщЯ"
    + "中文字符検索한국어"
    + "😀🚀🐍"
    + "\u200b\u202e\ufeff"
)


class UnicodeText(Text):
    """Any Python ``str`` with ``min_length <= len(s) <= max_length``.

    Example::

        >>> space = UnicodeText(max_length=100, seed=0)
        >>> space.contains("grüße, 世界 $HOME")
        True
        >>> space.contains("x" * 101)
        False
    """

    def __init__(self, max_length: int, *, min_length: int = 0, seed: int | np.random.Generator | None = None):
        super().__init__(max_length=max_length, min_length=min_length, charset=SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )

    def __hash__(self) -> int:
        return hash((UnicodeText, self.min_length, self.max_length))


# ---- flattening: [length, code points..., padding] ------------------------------------

@flatdim.register(UnicodeText)
def _flatdim_unicode(space: UnicodeText) -> int:
    return space.max_length + 1


@flatten.register(UnicodeText)
def _flatten_unicode(space: UnicodeText, x: str) -> np.ndarray:
    out = np.zeros(space.max_length + 1, dtype=np.int32)
    out[0] = len(x)
    out[1 : len(x) + 1] = [ord(c) for c in x]
    return out


@unflatten.register(UnicodeText)
def _unflatten_unicode(space: UnicodeText, x: np.ndarray) -> str:
    n = int(x[0])
    return "".join(map(chr, x[1 : n + 1]))


# ---- shared memory for AsyncVectorEnv(shared_memory=True) -----------------------------

@create_shared_memory.register(UnicodeText)
def _create_unicode_shared_memory(space: UnicodeText, n: int = 1, ctx: ModuleType = mp) -> SynchronizedArray[c_int32]:
    return ctx.Array(np.dtype(np.int32).char, n * (space.max_length + 1))


class SharedTextView(Sequence):
    """The strings in a shared-memory buffer, decoded when read.

    ``AsyncVectorEnv`` calls ``read_from_shared_memory`` once, at construction, and expects a *view*
    that later writes show through (true of numpy arrays). A tuple of ``str`` would be a frozen
    snapshot (gymnasium's own ``Text`` has that problem), so this object decodes on every access,
    and a deep copy (what ``AsyncVectorEnv(copy=True)`` returns) is a plain tuple.
    """

    def __init__(self, space: UnicodeText, data: np.ndarray):
        self._space, self._data = space, data

    def __len__(self) -> int:
        return self._data.shape[0]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self)[i]
        return _unflatten_unicode(self._space, self._data[i])

    def __deepcopy__(self, memo) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, (tuple, SharedTextView)) else NotImplemented

    def __repr__(self) -> str:
        return f"SharedTextView({tuple(self)!r})"


@read_from_shared_memory.register(UnicodeText)
def _read_unicode_from_shared_memory(space: UnicodeText, shared_memory: SynchronizedArray[c_int32], n: int = 1) -> SharedTextView:
    data = np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape((n, space.max_length + 1))
    return SharedTextView(space, data)


@write_to_shared_memory.register(UnicodeText)
def _write_unicode_to_shared_memory(space: UnicodeText, index: int, values: str, shared_memory: SynchronizedArray[c_int32]) -> None:
    size = space.max_length + 1
    destination = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)
    np.copyto(destination[index * size : (index + 1) * size], _flatten_unicode(space, values))
