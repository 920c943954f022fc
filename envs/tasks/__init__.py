"""Task suites: YAML files of tasks, loaded and checked before any episode runs (the bundled ones live beside this module).

A suite file (format: ``docs/task-format.md``) holds suite-wide defaults (``world``,
``budget``) and a list of tasks; each task may override any default key. Loading
merges the defaults into every task and checks everything that can be checked without
running an episode, so a typo in a task file is an error at ``gym.make`` with the file,
the task id and the key, never a surprise in step 40 of an evaluation:

* the file's shape (a JSON schema, below), unique task ids;
* every tool named exists, and every oracle call validates against its tool's schema;
* every grader spec validates against its grader type, and no answer grader passes an
  empty answer (a grader a do-nothing agent passes is a bug);
* the oracle ends with ``submit``.

Named suites come from the suite registry (``registry.py``: one ``register_suite`` call per suite, in its folder
``envs/suites/<name>/``), generated per world seed or shipped as a file; a path to any YAML file works too
(``AirgapEnv(suite="my_tasks.yaml")``).
"""
from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .registry import GENERIC_ENV_ID, SUITES, SuiteSpec, at_level, load_plugins, register_generic_env, register_suite, suite_spec
from .schema import DEFAULT_BUDGET, DEFAULT_WORLD, SUITE_SCHEMA

__all__ = ["GENERIC_ENV_ID", "SUITES", "Suite", "SuiteSpec", "Task", "TaskFileError", "at_level", "available_suites", "dump_yaml", "is_generated", "load_plugins",
           "load_suite", "parse_suite", "peek_max_steps", "register_generic_env", "register_suite", "suite_path", "suite_spec"]

class TaskFileError(ValueError):
    """A suite file that cannot be used; the message lists every problem with where it is."""


@dataclass(frozen=True)
class Task:
    """One task with the suite's defaults merged in."""

    id: str
    suite: str
    suite_version: int
    instruction: str
    graders: list[dict]
    oracle: list[dict]
    world: dict
    budget: dict
    kind: str = ""
    answer: Any = None
    supporting_urls: list[str] = field(default_factory=list)
    setup: dict = field(default_factory=dict)
    decoy: list[dict] = field(default_factory=list)  # a wrong-but-plausible solution; graders must give it 0
    canaries: list[str] = field(default_factory=list)  # secrets planted for this task (the exfiltration monitor's)
    safety: dict = field(default_factory=dict)  # attack predicates and allowed changes, for the safety monitors
    attack: str | None = None  # a safety case's attack style ("none": its benign twin); None outside safety suites
    obey: list[dict] = field(default_factory=list)  # what obeying the planted instructions looks like (the obey agent)
    answer_format: str | None = None  # the answer's form as the agent is told it (stated or derived from the graders)
    evidence: list[dict] = field(default_factory=list)  # process requirements: a metric beside the reward, never in it
    audit: list[dict] = field(default_factory=list)  # hand-written adversarial answers with their expected verdicts
    variant: str = ""  # how a generated task was put (its framing's id, envs/worldgen/framings.yaml): the split check

    @property
    def tools(self) -> list[str]:
        names = list(self.world["tools"])
        return names if "submit" in names else names + ["submit"]

    def to_dict(self) -> dict:
        return {
            "id": self.id, "suite": self.suite, "suite_version": self.suite_version, "kind": self.kind,
            "instruction": self.instruction, "answer": self.answer, "supporting_urls": list(self.supporting_urls),
            "world": copy.deepcopy(self.world), "budget": dict(self.budget), "setup": copy.deepcopy(self.setup),
            "graders": copy.deepcopy(self.graders), "oracle": copy.deepcopy(self.oracle), "decoy": copy.deepcopy(self.decoy),
            "canaries": list(self.canaries), "safety": copy.deepcopy(self.safety), "attack": self.attack,
            "obey": copy.deepcopy(self.obey), "answer_format": self.answer_format,
            "evidence": copy.deepcopy(self.evidence), "audit": copy.deepcopy(self.audit), "variant": self.variant,
        }


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    path: Path
    tasks: tuple[Task, ...]
    description: str = ""
    world_seed: int | None = None  # the world a generated suite was made for; None for a suite file

    def __len__(self) -> int:
        return len(self.tasks)

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(f"no task {task_id!r} in suite {self.name!r} ({self.path}); `airgap tasks list` shows the ids")

    @property
    def max_steps(self) -> int:
        return max(t.budget["max_steps"] for t in self.tasks)


def _yaml_load(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("r", encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)


def suite_path(name_or_path: str | Path) -> Path:
    """A registered fixed suite's file (``webqa`` -> ``envs/suites/webqa/tasks.yaml``); a path -> itself."""
    spec = suite_spec(str(name_or_path))
    if spec is not None and spec.file is not None:
        return spec.file
    return Path(name_or_path)


def available_suites() -> list[str]:
    """Names of the registered suites (bundled and plugins), in registration order."""
    return list(SUITES)


def is_generated(name: str | Path) -> bool:
    """Whether ``name`` is a registered suite generated per world seed (``worldqa``, ``office``), not a file."""
    spec = suite_spec(str(name))
    return spec is not None and spec.per_seed


class _BlockDumper(yaml.SafeDumper):
    """Block style for multi-line text (instructions, programs), so a dumped suite reads like the tasks it holds."""


_BlockDumper.add_representer(
    str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))


def dump_yaml(data: dict) -> str:
    """Suite data as the YAML text of a suite file (key order kept, multi-line strings as blocks)."""
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, width=120, allow_unicode=True, default_flow_style=False)


def _merge(base: dict, override: dict | None) -> dict:
    out = copy.deepcopy(base)
    for k, v in (override or {}).items():
        out[k] = {**out[k], **v} if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def _stated(spec: dict, instruction: str) -> bool:
    """Whether the instruction names every page a ``url_visited`` check requires (then it is no hidden requirement)."""
    urls = spec["url"] if isinstance(spec["url"], list) else [spec["url"]]
    return all(u.split("://", 1)[-1].rstrip("/") in instruction for u in urls)


def parse_suite(data: Any, path: Path) -> Suite:
    """Check and build a :class:`Suite` from already-parsed YAML data."""
    from jsonschema import Draft202012Validator

    from airgap.envs import graders as _graders
    from airgap.envs.tools import TOOLS

    problems = [
        f"{'/'.join(map(str, e.path)) or '(top level)'}: {e.message}"
        for e in sorted(Draft202012Validator(SUITE_SCHEMA).iter_errors(data), key=lambda e: list(map(str, e.path)))
    ]
    if problems:
        raise TaskFileError(f"{path}: not a valid task suite (see docs/task-format.md):\n  " + "\n  ".join(problems[:30]))

    world_defaults = _merge(DEFAULT_WORLD, data.get("world"))
    budget_defaults = _merge(DEFAULT_BUDGET, data.get("budget"))
    seen: set[str] = set()
    tasks = []
    for raw in data["tasks"]:
        where = f"task {raw['id']}"
        if raw["id"] in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(raw["id"])
        world = _merge(world_defaults, raw.get("world"))
        budget = _merge(budget_defaults, raw.get("budget"))
        tools = list(world["tools"])
        if world.get("backends"):
            from airgap.envs.backends import BACKENDS

            for name in world["backends"]:
                if name not in BACKENDS:
                    problems.append(f"{where}: world.backends: unknown backend {name!r} (known: {sorted(BACKENDS)})")
        for name in tools:
            if name not in TOOLS:
                problems.append(f"{where}: world.tools: unknown tool {name!r} (known: {sorted(TOOLS)})")
        for i, spec in enumerate(raw["graders"]):
            errs = _graders.validate_spec(spec)
            problems += [f"{where}: graders[{i}]: {m}" for m in errs]
            if not errs and _graders.passes_on_empty_answer(spec):
                problems.append(f"{where}: graders[{i}] ({spec['type']}) passes an empty answer: a do-nothing agent would score")
            if not errs and spec["type"] == "url_visited" and not _stated(spec, raw["instruction"]):
                problems.append(f"{where}: graders[{i}] (url_visited) is a requirement the instruction does not state: "
                                "name the page in the instruction, or move the check to `evidence` (a metric beside the reward)")
        for i, spec in enumerate(raw.get("evidence", [])):
            problems += [f"{where}: evidence[{i}]: {m}" for m in _graders.validate_spec(spec)]
        answer_format = raw.get("answer_format") or _graders.answer_format(raw["graders"])
        if answer_format is None and any(_graders.reads_answer(g) for g in raw["graders"]) and "answer" not in raw["instruction"].lower():
            problems.append(f"{where}: the instruction does not state the answer's form and its graders cannot describe "
                            "it: add `answer_format` or say it in the instruction (\"Answer with ...\")")
        for i, call in enumerate(raw["oracle"]):
            name = call["tool"]
            if name not in tools and name != "submit":
                problems.append(f"{where}: oracle[{i}]: tool {name!r} is not in this task's world.tools {tools}")
            elif name in TOOLS:
                problems += [f"{where}: oracle[{i}] ({name}): {m}" for m in TOOLS[name].validate(call.get("args", {}))]
        for key in ("decoy", "obey"):
            for i, call in enumerate(raw.get(key, [])):
                name = call["tool"]
                if name not in tools and name != "submit":
                    problems.append(f"{where}: {key}[{i}]: tool {name!r} is not in this task's world.tools {tools}")
                elif name in TOOLS:
                    problems += [f"{where}: {key}[{i}] ({name}): {m}" for m in TOOLS[name].validate(call.get("args", {}))]
            if raw.get(key) and raw[key][-1]["tool"] != "submit":
                problems.append(f"{where}: the {key} calls must end with a submit call")
        if raw.get("safety"):
            from airgap.envs.graders.security import check_safety

            problems += [f"{where}: safety: {m}" for m in check_safety(raw["safety"])]
        if raw["oracle"][-1]["tool"] != "submit":
            problems.append(f"{where}: the oracle must end with a submit call")
        if len(raw["oracle"]) > budget["max_steps"]:
            problems.append(f"{where}: the oracle needs {len(raw['oracle'])} steps but budget.max_steps is {budget['max_steps']}")
        tasks.append(
            Task(
                id=raw["id"], suite=data["suite"], suite_version=data["version"], instruction=raw["instruction"],
                graders=raw["graders"], oracle=[{"tool": c["tool"], "args": c.get("args", {})} for c in raw["oracle"]],
                world=world, budget=budget, kind=raw.get("kind", ""), answer=raw.get("answer"),
                supporting_urls=raw.get("supporting_urls", []), setup=raw.get("setup", {}),
                decoy=[{"tool": c["tool"], "args": c.get("args", {})} for c in raw.get("decoy", [])],
                canaries=list(raw.get("canaries", [])), safety=dict(raw.get("safety", {})), attack=raw.get("attack"),
                obey=[{"tool": c["tool"], "args": c.get("args", {})} for c in raw.get("obey", [])],
                answer_format=answer_format, evidence=list(raw.get("evidence", [])), audit=list(raw.get("audit", [])),
                variant=raw.get("variant", ""),
            )
        )
    if problems:
        raise TaskFileError(f"{path}: {len(problems)} problem(s):\n  " + "\n  ".join(problems[:50]))
    return Suite(name=data["suite"], version=data["version"], path=path, tasks=tuple(tasks), description=data.get("description", ""))


@functools.lru_cache(maxsize=32)
def _load_cached(path: Path, mtime_ns: int) -> Suite:
    try:
        data = _yaml_load(path)
    except yaml.YAMLError as e:
        raise TaskFileError(f"{path}: not valid YAML: {e}") from None
    return parse_suite(data, path)


@functools.lru_cache(maxsize=8)
def _load_generated(name: str, world_seed: int) -> Suite:
    spec = SUITES[name]
    from airgap.envs.worldgen.splits import label

    where = Path(f"<{name}: generated for world {world_seed} ({label(world_seed)})>")
    suite = parse_suite(spec.data(world_seed), where)
    _check_budget(suite, spec)
    return dataclasses.replace(suite, world_seed=world_seed)


def _check_budget(suite: Suite, spec: SuiteSpec) -> None:
    """A task whose budget is over the registered ``max_steps`` would be cut short by gymnasium's TimeLimit."""
    if suite.max_steps > spec.max_steps:
        worst = max(suite.tasks, key=lambda t: t.budget["max_steps"])
        raise TaskFileError(f"{suite.path}: task {worst.id} has budget.max_steps {worst.budget['max_steps']}, over the "
                            f"{spec.max_steps} that register_suite({spec.name!r}, max_steps=...) gave gymnasium's TimeLimit; "
                            "raise max_steps in the suite's register_suite call")


def load_suite(name_or_path: str | Path, world_seed: int | None = None) -> Suite:
    """Load and check a suite by registered name (``webqa``), by path (cached until the file changes), or generate
    one (``worldqa``, ``office``) for ``world_seed`` (default 0; ignored by fixed suites and suite files)."""
    if is_generated(name_or_path):
        return _load_generated(str(name_or_path), int(world_seed or 0))
    s = str(name_or_path)
    if suite_spec(s) is None and not s.endswith((".yaml", ".yml")) and "/" not in s and not Path(s).is_file():
        raise TaskFileError(
            f"no suite named {s!r}; registered suites: {', '.join(available_suites()) or 'none'} "
            "(`airgap tasks list`). Pass a path to a YAML file for a suite of your own (format: docs/task-format.md)."
        )
    path = suite_path(name_or_path).resolve()
    if not path.is_file():
        raise TaskFileError(
            f"task suite {s!r} not found at {path}; registered suites: {', '.join(available_suites()) or 'none'}. "
            "Pass a path to a YAML file (format: docs/task-format.md)."
        )
    suite = _load_cached(path, path.stat().st_mtime_ns)
    spec = suite_spec(s)
    if spec is not None:
        _check_budget(suite, spec)
    return suite


def peek_max_steps(name_or_path: str | Path, default: int = DEFAULT_BUDGET["max_steps"]) -> int:
    """The largest ``max_steps`` of a suite without validating it: a registered suite's own (from its
    ``register_suite`` call), or a suite file's, read cheaply (``airgap/Suite-v0`` uses it for a file)."""
    spec = suite_spec(str(name_or_path))
    if spec is not None:
        return spec.max_steps
    try:
        data = _yaml_load(suite_path(name_or_path))
        base = (data.get("budget") or {}).get("max_steps", default)
        return max([base] + [(t.get("budget") or {}).get("max_steps", base) for t in data.get("tasks") or []])
    except Exception:  # noqa: BLE001 - a missing/broken file is reported by load_suite at make() time
        return default
