"""UnicodeText: any str within bounds, seeded samples, lossless flatten and shared memory."""
import copy

import numpy as np
from gymnasium.spaces.utils import flatten, unflatten
from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory, write_to_shared_memory

from airgap.envs.spaces import UnicodeText


def test_contains_any_unicode_within_length():
    space = UnicodeText(max_length=20)
    assert space.contains("grüße, 世界 $HOME 😀")
    assert space.contains("")
    assert not space.contains("x" * 21)
    assert not space.contains(b"bytes")
    assert not space.contains(None)
    assert UnicodeText(max_length=5, min_length=2).contains("ab")
    assert not UnicodeText(max_length=5, min_length=2).contains("a")


def test_sample_is_seeded_and_contained():
    a, b = UnicodeText(max_length=50, seed=3), UnicodeText(max_length=50, seed=3)
    xs = [a.sample() for _ in range(20)]
    assert xs == [b.sample() for _ in range(20)]
    assert all(a.contains(x) for x in xs)
    assert any(ord(c) > 127 for x in xs for c in x)


def test_flatten_roundtrip_keeps_every_character():
    space = UnicodeText(max_length=32)
    s = "a\x00é中😀\n"
    assert unflatten(space, flatten(space, s)) == s


def test_shared_memory_roundtrip():
    space = UnicodeText(max_length=16)
    shm = create_shared_memory(space, n=2)
    view = read_from_shared_memory(space, shm, n=2)  # AsyncVectorEnv reads once, then only writes
    write_to_shared_memory(space, 0, "héllo 😀", shm)
    write_to_shared_memory(space, 1, "", shm)
    assert view == ("héllo 😀", "") and view[0] == "héllo 😀" and len(view) == 2
    snapshot = copy.deepcopy(view)
    write_to_shared_memory(space, 1, "later", shm)
    assert snapshot == ("héllo 😀", "") and type(snapshot) is tuple and view[1] == "later"


def test_equality_and_repr():
    assert UnicodeText(10) == UnicodeText(10)
    assert UnicodeText(10) != UnicodeText(11)
    assert "UnicodeText" in repr(UnicodeText(10))
    assert isinstance(np.int32(UnicodeText(10).max_length), np.int32)
