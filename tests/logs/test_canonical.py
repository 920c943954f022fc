"""The log's fast RFC 8785 encoder produces the same bytes as the reference `rfc8785` package.

Why this matters: the hash chain is defined as sha256 over RFC 8785 canonical JSON so that
any tool can recompute it. The writer uses a faster encoder; if the two ever differed, logs
would stop verifying with third-party tools. Seeded random values, many of them.
"""
from __future__ import annotations

import math
import random
import struct

import rfc8785

from airgap.envs.logs.canonical import _canonical

ODD_CHARS = ["\x00", "\x01", "\x08", "\t", "\n", "\x0b", "\x0c", "\r", "\x1f", "\x7f", '"', "\\", "/", "é", "€",
             "\u2028", "\u2029", "\ufeff", "\uffff", "😀", "𝄞", "中", "\ue000", "a", "Z", "0", " "]


def _rand_str(rng: random.Random, n: int = 12) -> str:
    return "".join(rng.choice(ODD_CHARS) if rng.random() < 0.5 else chr(rng.randint(32, 126)) for _ in range(rng.randint(0, n)))


def _rand_float(rng: random.Random) -> float:
    while True:
        kind = rng.randint(0, 3)
        if kind == 0:
            x = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        elif kind == 1:
            x = rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30)
        elif kind == 2:
            x = round(rng.random(), rng.randint(0, 8)) * 10 ** rng.randint(-9, 25)
        else:
            x = float(rng.choice([0.0, -0.0, 1.0, 1e21, 1e-7, 1e-6, 123456789012345680000.0, 5e-324, 1.7976931348623157e308]))
        if math.isfinite(x):
            return x


def _rand_value(rng: random.Random, depth: int = 0):
    kind = rng.randint(0, 7 if depth < 4 else 4)
    if kind == 0:
        return None if rng.random() < 0.5 else rng.random() < 0.5
    if kind == 1:
        return rng.randint(-(2**53) + 1, 2**53 - 1) if rng.random() < 0.3 else rng.randint(-1000, 1000)
    if kind == 2:
        return _rand_float(rng)
    if kind in (3, 4):
        return _rand_str(rng)
    if kind == 5:
        return [_rand_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {_rand_str(rng, 6): _rand_value(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def test_fast_encoder_matches_rfc8785_on_random_values():
    rng = random.Random(20261123)
    for _ in range(3000):
        v = _rand_value(rng)
        assert _canonical(v) == rfc8785.dumps(v), v


def test_fast_encoder_matches_rfc8785_on_floats():
    rng = random.Random(7)
    for _ in range(20000):
        x = _rand_float(rng)
        assert _canonical(x) == rfc8785.dumps(x), repr(x)


def test_key_order_is_utf16_not_code_points():
    d = {"\ue000": 1, "😀": 2, "a": 3, "": 4}  # U+1F600 sorts before U+E000 in UTF-16 (surrogates D83D...)
    assert _canonical(d) == rfc8785.dumps(d)
    assert list(__import__("json").loads(_canonical(d))) == ["", "a", "😀", "\ue000"]


def test_every_line_the_writer_writes_is_rfc8785_canonical(tmp_path):
    """Both writer paths (the C json fast path and the careful one) against the reference."""
    import hashlib
    import json

    from airgap.envs.logs import EpisodeLog, verify

    rng = random.Random(99)
    p = tmp_path / "ep.jsonl"
    with EpisodeLog(p, {"env_id": "e", "seed": 1, "agent": {"ключ": "значение", "😀": 1.5e-7}}) as log:
        for k in range(1, 400):
            log.append("observation", step=k, observation=_rand_str(rng, 40), reward=_rand_float(rng),
                       info={"v": _rand_value(rng)}, extra={_rand_str(rng, 4): _rand_value(rng) for _ in range(3)})
    for line in p.read_bytes().splitlines():
        ev = json.loads(line, parse_int=float)  # big integer-valued floats read back as ints otherwise
        assert rfc8785.dumps(ev) == line
        h = ev.pop("hash")
        assert hashlib.sha256(rfc8785.dumps(ev)).hexdigest() == h
    assert verify(p).ok
