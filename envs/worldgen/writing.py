"""The authored text of a world's services (mail, chat, tracker, calendar, shop): written templates, slot-filled with facts.

The templates live as data in ``envs/worldgen/text/*.yaml`` (shipped with the package), one file per service or
subject: the organisation's own words (``org``: product names, taglines, team descriptions), the shop's product
descriptions (``shop``), chat conversations per channel and direct messages (``chat``), issue bodies and comments
(``tracker``), colleagues' threads and customers' complaints (``mail``) and calendar descriptions (``calendar``).
``facts.py`` picks them with a :class:`Writer`, which draws from its own seeded stream (``rng("airgap-text", seed,
purpose)``), never the world's main one, so editing the text never moves a customer, an order or an amount; Faker
stays for names, addresses and numbers and never writes a sentence.

Every template's ``{slot}`` names are checked against :data:`SLOTS` when the library is loaded, and a writer only
picks a template whose slots it was given (``{release}`` only once a release is out, ``{milestone}`` only for an
issue that has one), so no text is ever left with an unfilled slot.
"""
from __future__ import annotations

import functools
import random
import string
from pathlib import Path
from typing import Any

import yaml

from airgap.envs.common import rng

TEXT_DIR = Path(__file__).with_name("text")
FILES = ("org", "shop", "chat", "tracker", "mail", "calendar")

#: What a conversation may name: the world (org, product, city, brand), its product's components and versions, a
#: customer and their order, a vendor and its service, a client company, colleagues' first names, a weekday and the
#: current policy's values.
_WORLD = {"org", "product", "city", "brand", "comp", "Comp", "comp2", "release", "next", "customer", "order", "vendor",
          "service", "client", "teammate", "lead", "ceo", "day", "to", "me", "refund_days", "per_diem", "receipt_over",
          "approval_over"}
#: (file, top-level key) -> the slots its templates may use.
SLOTS: dict[tuple[str, str], frozenset[str]] = {k: frozenset(v) for k, v in {
    ("org", "product_names"): set(),
    ("org", "taglines"): set(),
    ("org", "teams"): {"team", "org", "product", "brand", "city"},
    ("shop", "openers"): {"line", "noun", "variant"},
    ("shop", "nouns"): {"line", "noun", "variant", "brand"},
    ("shop", "categories"): {"line", "noun", "variant", "brand"},
    ("chat", "channels"): _WORLD,
    ("chat", "general_by_role"): _WORLD,
    ("chat", "dms"): _WORLD,
    ("tracker", "issues"): {"comp", "Comp", "cond", "product", "client", "release"},
    ("tracker", "comments"): {"comp", "Comp", "cond", "product", "client", "release", "milestone", "reporter"},
    ("mail", "greetings"): {"to", "me"},
    ("mail", "signoffs"): {"to", "me"},
    ("mail", "colleague"): _WORLD,
    ("mail", "complaints"): {"order", "delivered", "delivered_text", "detail", "name", "first", "brand"},
    ("mail", "complaint_subjects"): {"order"},
    ("mail", "acks"): {"order", "first", "brand"},
    ("calendar", "sync_intro"): set(),
    ("calendar", "sync"): {"comp", "Comp", "comp2", "next", "vendor", "service", "client", "product"},
    ("calendar", "one_on_one"): {"mgr", "report"},
    ("calendar", "all_hands"): {"ceo", "product", "next", "org"},
    ("calendar", "personal"): {"comp", "role", "company"},
}.items()}
_FORMATTER = string.Formatter()


def slots_of(template: Any) -> set[str]:
    """The slot names a template uses (a string, or every string inside a list or dict); ValueError on a malformed one."""
    if isinstance(template, str):
        names = set()
        for _, name, spec, conv in _FORMATTER.parse(template):
            if name is None:
                continue
            if not name.isidentifier() or spec or conv:
                raise ValueError(f"slot {{{name}}} in {template!r}: only plain {{name}} slots are allowed")
            names.add(name)
        return names
    if isinstance(template, dict):
        return set().union(*(slots_of(v) for k, v in template.items() if k not in ("from", "to")))
    if isinstance(template, list):
        return set().union(*(slots_of(v) for v in template)) if template else set()
    raise TypeError(f"a template is text, a list or a mapping, not {type(template).__name__}: {template!r}")


def leaves(node: Any, path: tuple = ()) -> list[tuple[tuple, str]]:
    """Every text of a library branch with its path (for checks and counts)."""
    if isinstance(node, str):
        return [(path, node)]
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in leaves(v, (*path, k))]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in leaves(v, (*path, i))]
    raise TypeError(f"{'.'.join(map(str, path))}: not text, a list or a mapping: {node!r}")


@functools.cache
def library() -> dict[str, dict[str, Any]]:
    """The whole library, one mapping per file, each template's slots checked against :data:`SLOTS`."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    lib = {}
    for name in FILES:
        data = yaml.load((TEXT_DIR / f"{name}.yaml").read_text(encoding="utf-8"), Loader=loader)
        for key, branch in data.items():
            allowed = SLOTS.get((name, key))
            if allowed is None:
                raise ValueError(f"{name}.yaml: no slots declared for {key!r} in SLOTS")
            for path, text in leaves(branch, (name, key)):
                if path[-1] in ("from", "to") or (len(path) >= 2 and path[-2] in ("from", "to")):
                    continue
                unknown = slots_of(text) - allowed
                if unknown:
                    raise ValueError(f"{'.'.join(map(str, path))}: unknown slot(s) {sorted(unknown)} in {text!r}")
        lib[name] = data
    return lib


def templates(*path: str) -> Any:
    """The branch of the library at ``path`` (``templates("chat", "channels", "general")``)."""
    node: Any = library()
    for key in path:
        node = node[key]
    return node


def fill(template: str, slots: dict[str, Any]) -> str:
    """``template`` with its slots filled (KeyError names a missing one)."""
    return template.format_map(slots)


class Writer:
    """Picks and fills templates for one part of one world, from its own stream (see the module docstring).

    A world writes only from its split's text families (``splits.yaml``: train worlds from family ``a`` of every
    pool, test worlds from ``b``); ``used`` collects the ids of the templates it picked (the world's provenance)."""

    def __init__(self, seed: int, purpose: str, families: tuple[str, ...] | None = None):
        from airgap.envs.worldgen.splits import region_of

        self.rnd: random.Random = rng("airgap-text", seed, purpose)
        self.families = tuple(families) if families is not None else region_of(seed).text
        self.used: set[str] = set()

    def available(self, pool: list, slots: dict[str, Any]) -> list:
        """The templates of ``pool`` in this world's text families whose every slot is given (maybe none). An empty
        template (no text at all, "") belongs to every family."""
        from airgap.envs.worldgen.splits import family_of

        return [t for t in pool if slots_of(t) <= slots.keys() and (t == "" or family_of(t) in self.families)]

    def eligible(self, pool: list, slots: dict[str, Any]) -> list:
        """:meth:`available`, never empty: LookupError when no template fits (the library needs another template of
        that family for those slots)."""
        out = self.available(pool, slots)
        if not out:
            fits = [t for t in pool if slots_of(t) <= slots.keys()]
            raise LookupError(f"no template of text family {'/'.join(self.families)} fits the slots {sorted(slots)}"
                              f" ({len(fits)} of other families do): {pool[:2]!r}...")
        return out

    def take(self, template: Any) -> Any:
        """``template``, recorded as used (for a template the caller picked itself among :meth:`eligible` ones)."""
        from airgap.envs.worldgen.splits import template_id

        if template != "":
            self.used.add(template_id(template))
        return template

    def choose(self, pool: list, slots: dict[str, Any] | None = None, avoid: set | None = None) -> Any:
        """One template of ``pool`` that ``slots`` can fill, preferring those not in ``avoid`` (which it joins)."""
        fits = self.eligible(pool, slots or {})
        fresh = [t for t in fits if avoid is None or _key(t) not in avoid]
        pick = self.rnd.choice(fresh or fits)
        if avoid is not None:
            avoid.add(_key(pick))
        return self.take(pick)

    def write(self, pool: list, slots: dict[str, Any] | None = None, avoid: set | None = None) -> str:
        """A template of ``pool`` (a list of strings), filled."""
        return fill(self.choose(pool, slots, avoid), slots or {})

    def some(self, pool: list, k: int, slots: dict[str, Any] | None = None) -> list[str]:
        """``k`` different templates of ``pool`` (fewer if it has fewer), filled, in a seeded order."""
        fits = self.eligible(pool, slots or {})
        return [fill(self.take(t), slots or {}) for t in self.rnd.sample(fits, min(k, len(fits)))]


def _key(template: Any) -> str:
    return template if isinstance(template, str) else repr(template)
