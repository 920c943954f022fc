"""Train, dev and test worlds: which region of the generator's parameters a world draws from (``splits.yaml``).

A world is ``(split, index)``; its world seed carries both, so every log, manifest and cache key that holds a world
seed also says its split: test worlds are seeds ``0..999999`` (``test/3`` is seed 3, the worlds Airgap has always
evaluated on), dev worlds ``1000000..`` and train worlds ``2000000..``. :func:`world_seed` and :func:`split_of`
convert; :func:`region` is what a split's worlds are made of (industries, naming, name pools, authored-text
families, task framings); the generator (``facts.py``) and the suite generators read it from the seed, so nothing
else has to pass a split around.

The cut is exact where it can be: a surname belongs to name part 0 or 1 by a hash of its spelling
(:func:`surname_part`), an authored template to text family ``a`` or ``b`` by its rank among its pool's hashes
(:func:`family_of`), an attack phrasing to family ``a`` or ``b`` by its place in its style's tier. Train and test
share no part and no family (``tests/worldgen/test_splits.py`` builds 100 train and 20 test worlds to show it).

Each generated suite declares its shift in a ``shift.yaml`` beside its generator (``airgap.envs.tasks.shift``):
the world axes here plus its own (the safety suites' attack phrasings); its hash is pinned in every run manifest
and log header, and ``airgap tasks splits SUITE`` prints it.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SPLITS = ("train", "dev", "test")
#: world seeds per split: a split's index i is seed BASE[split] + i
SPAN = 1_000_000
BASE = {"test": 0, "dev": SPAN, "train": 2 * SPAN}
FILE = Path(__file__).with_name("splits.yaml")
FAMILIES = ("a", "b")
_AXES = ("industries", "org_suffixes", "bank_suffixes", "tlds", "name_locales", "name_parts", "text", "framings")


@dataclass(frozen=True)
class Region:
    """What one split's worlds are made of (one entry of ``splits.yaml``)."""

    split: str
    industries: tuple[str, ...]
    org_suffixes: tuple[str, ...]
    bank_suffixes: tuple[str, ...]
    tlds: tuple[str, ...]
    name_locales: tuple[str, ...]
    name_parts: tuple[int, ...]
    text: tuple[str, ...]
    framings: tuple[str, ...]


def check_split(split: str) -> str:
    """``split`` if it is one; ValueError naming the splits otherwise."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; the splits are {', '.join(SPLITS)} (`airgap tasks splits SUITE`)")
    return split


def world_seed(split: str, index: int) -> int:
    """The world seed of ``split``'s world ``index`` (``world_seed("train", 3)`` is 2000003)."""
    check_split(split)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < SPAN:
        raise ValueError(f"a world index is an int in 0..{SPAN - 1}, got {index!r}")
    return BASE[split] + index


def split_of(seed: int) -> str:
    """The split world seed ``seed`` belongs to."""
    if seed < 0 or seed >= 3 * SPAN:
        raise ValueError(f"world seed {seed} is outside every split (0..{3 * SPAN - 1})")
    return SPLITS[2 - seed // SPAN]


def index_of(seed: int) -> int:
    """The world's index within its split."""
    return seed - BASE[split_of(seed)]


def label(seed: int) -> str:
    """``test/3``: a world seed as people read it."""
    return f"{split_of(seed)}/{index_of(seed)}"


@functools.cache
def world_file() -> dict[str, Any]:
    data = yaml.safe_load(FILE.read_text(encoding="utf-8"))
    splits = data.get("splits") or {}
    if set(splits) != set(SPLITS):
        raise ValueError(f"{FILE}: needs exactly the splits {SPLITS}, has {sorted(splits)}")
    for name, axes in splits.items():
        missing = [a for a in _AXES if not axes.get(a)]
        if missing:
            raise ValueError(f"{FILE}: split {name!r} lacks {missing}")
        bad = set(axes["text"]) - set(FAMILIES) or set(axes["framings"]) - set(FAMILIES)
        if bad or not set(axes["name_parts"]) <= {0, 1}:
            raise ValueError(f"{FILE}: split {name!r}: text and framings are families {FAMILIES}, name_parts 0 or 1")
    return data


@functools.cache
def region(split: str) -> Region:
    """What ``split``'s worlds draw from."""
    axes = world_file()["splits"][check_split(split)]
    return Region(split=split, **{a: tuple(axes[a]) for a in _AXES})


def region_of(seed: int) -> Region:
    """The region of world seed ``seed``'s split."""
    return region(split_of(seed))


def _h(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def surname_part(surname: str) -> int:
    """The name part (0 or 1) a surname belongs to, by a hash of its spelling (case-insensitive)."""
    return _h("surname:" + surname.strip().lower()) % 2


def template_key(template: Any) -> str:
    """A template's identity: its text, or the repr of a structured one (a conversation)."""
    return template if isinstance(template, str) else repr(template)


def template_id(template: Any) -> str:
    """A short, stable id of an authored template (the hash of its text)."""
    return hashlib.sha256(template_key(template).encode("utf-8")).hexdigest()[:12]


@functools.cache
def _text_families() -> dict[str, str]:
    """Every authored template's family: within each pool of the library (a list under a key), templates sorted by
    hash alternate between ``a`` and ``b``, so each family gets half of every pool (the odd one to ``a``)."""
    out: dict[str, str] = {}
    for pool in pools():
        ranked = sorted({template_key(t) for t in pool}, key=lambda k: (_h(k), k))
        for i, k in enumerate(ranked):
            out.setdefault(k, FAMILIES[i % 2])
    return out


def pools() -> list[list]:
    """Every template pool of the authored-text library: each list under a key (a conversation's replies too)."""
    from airgap.envs.worldgen.writing import library

    out: list[list] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for v in node.values():
                if isinstance(v, list):
                    out.append(v)
                walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(library())
    return out


def family_of(template: Any) -> str:
    """The text family (``a`` or ``b``) of an authored template, the same wherever it is drawn from (its pool, or
    the pool filtered by speaker or slots); a text outside the library falls to a family by its hash."""
    key = template_key(template)
    fam = _text_families().get(key)
    return fam if fam is not None else FAMILIES[_h("template:" + key) % 2]


# ---------------------------------------------------------------------------------------------------------------
# Task framings
# ---------------------------------------------------------------------------------------------------------------
@functools.cache
def framings() -> dict[str, str]:
    """framings.yaml: id (``a1``, ``b3``: family and position) -> the framing, with its one ``{instruction}`` slot."""
    data = yaml.safe_load(Path(__file__).with_name("framings.yaml").read_text(encoding="utf-8"))
    if set(data) != set(FAMILIES):
        raise ValueError(f"framings.yaml: needs exactly the families {FAMILIES}, has {sorted(data)}")
    out = {}
    for fam, texts in data.items():
        for i, text in enumerate(texts, 1):
            if text.count("{instruction}") != 1 or text.replace("{instruction}", "").count("{") > 0:
                raise ValueError(f"framings.yaml: {fam}{i} must have exactly one slot, {{instruction}}: {text!r}")
            out[f"{fam}{i}"] = text
    return out


def frame(seed: int, instruction: str) -> tuple[str, str]:
    """``instruction`` put the way world ``seed``'s split puts tasks: (the framed instruction, the framing's id),
    the framing picked by the world and the instruction (the same instruction in the same world is always framed
    alike: a safety case and its benign twin differ only in the planted text)."""
    from airgap.envs.common import rng

    ids = [i for i in framings() if i[0] in region_of(seed).framings]
    pick = rng("framing", seed, instruction).choice(ids)  # by the text: a safety case and its twins read alike
    return framings()[pick].replace("{instruction}", instruction), pick
