"""The full split check: every generated suite on 100 train and 20 test worlds (the test suite samples 4 and 3).

For each suite: the task framings, attack phrasings and task kinds of the train worlds and of the test worlds, and
what the two share (must be nothing, except the kinds, which must be the same). Also the world-level axes
(industries, hosts, surnames, authored templates) over all 120 worlds. Exits 1 on any overlap.

    python scripts/check_splits.py [--train 100] [--test 20]
"""
from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console
from rich.progress import track
from rich.table import Table

import airgap.envs  # noqa: F401 - registers the suites
from airgap.envs.tasks import SUITES, is_generated
from airgap.envs.tasks.shift import task_axes
from airgap.envs.worldgen.facts import generate
from airgap.envs.worldgen.splits import world_seed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=100)
    ap.add_argument("--test", type=int, default=20)
    args = ap.parse_args()
    seeds = {"train": [world_seed("train", i) for i in range(args.train)],
             "test": [world_seed("test", i) for i in range(args.test)]}
    console, bad, t0 = Console(), 0, time.monotonic()
    world = {s: {"industry": set(), "host": set(), "surname": set(), "template": set()} for s in seeds}
    for split, ss in seeds.items():
        for s in track(ss, description=f"{split} worlds"):
            f = generate(s)
            w = world[split]
            w["industry"].add(f.org.industry)
            w["host"].update({f.org.domain, f.shop.domain, f.bank.domain, *(v.domain for v in f.vendors)})
            w["surname"].update(p.last_name for p in f.people)
            w["template"].update(f.provenance["text"])
    t = Table(title=f"World axes: {args.train} train vs {args.test} test worlds")
    for c in ("axis", "train", "test", "shared"):
        t.add_column(c)
    for axis in world["train"]:
        shared = world["train"][axis] & world["test"][axis]
        bad += bool(shared)
        t.add_row(axis, str(len(world["train"][axis])), str(len(world["test"][axis])), str(len(shared)))
    console.print(t)
    t = Table(title="Suites: framings, attack phrasings and kinds")
    for c in ("suite", "framings train/test/shared", "phrasings train/test/shared", "kinds train/test", "same kinds"):
        t.add_column(c)
    for name in [n for n in SUITES if is_generated(n)]:
        got = {split: task_axes(name, track(ss, description=f"{name} {split}", transient=True))
               for split, ss in seeds.items()}
        (tv, tp, tk), (sv, sp, sk) = ((got[s]["framings"], got[s]["phrasings"], got[s]["kinds"]) for s in ("train", "test"))
        bad += bool(tv & sv) + bool(tp & sp) + (tk != sk)
        t.add_row(name, f"{len(tv)}/{len(sv)}/{len(tv & sv)}", f"{len(tp)}/{len(sp)}/{len(tp & sp)}",
                  f"{len(tk)}/{len(sk)}", "yes" if tk == sk else "NO")
    console.print(t)
    console.print(f"{'no overlap' if not bad else f'{bad} overlap(s)'} in {time.monotonic() - t0:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
