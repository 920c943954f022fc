"""Evaluation: run an agent over a task suite, many episodes in parallel, resumable, with a table and an HTML report.

One evaluation is a folder (every path inside it is relative to it, so it can be moved)::

    runs/<name>/
      config.json        what was asked (suite, agent, seed, workers, env kwargs)
      results.jsonl      one line per finished episode, appended and fsynced as each one ends
      logs/              the episode logs (tamper-evident JSONL, see docs/episode-log.md)
      report.html        summary, plots and a row per episode (self-contained)
      manifest.json      every log with its head hash, and a root over them (rewritten on resume)
      manifest.sig       the root signed with this machine's Ed25519 key (``airgap.envs.logs.signing``)
      public_key.pem     the public half of that key

Each finished log is signed as its row is appended: the row records ``head``, ``signature`` and
``key_id``, and ``logs/<log>.sig`` holds the same, so a log or the whole folder can be checked with
``airgap replay verify``. The key is read here, in the driver process, never in the workers that
run the envs and their sandboxes.

A row is one episode: ``task_id``, ``trial`` (with ``--trials K`` trial t runs with seed ``seed + t``), ``condition``,
``reward``, ``steps``, ``flags``, ``log`` (relative to the folder), and where they apply ``attack`` / ``attack_success``
(a safety case's attack style, "none" for a benign twin, and its security grader's verdict) and ``usage`` (the
agent's tokens, latency, retries, cost), ``ray_node`` (the ray executor: the Ray node that played it). ``airgap report RUN`` rebuilds summary.json and report.html from the rows.

Resuming is the same command again: episodes (task, condition, trial) that already have a result line are skipped, so a killed
evaluation loses at most the episodes in flight. An episode whose *harness* failed (Docker died,
say) is recorded with an ``error`` and is retried on resume; an agent's bad actions are not
harness failures, they are part of its score.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from airgap.envs.agents import check_agent_spec
from airgap.envs.agents.engine import EngineError, engine_model, serving

from .executors import EnvSpec, Job, make_executor
from .stats import summarize, uplift

RESULTS = "results.jsonl"


class EvaluationError(ValueError):
    """An evaluation that cannot start as asked; the message says what to change."""


@dataclass
class EvalConfig:
    suite: str = "webqa"
    agent: str = "oracle"
    out: str = "runs/webqa-oracle"
    workers: int = 2
    seed: int = 0
    split: str = "test"  # a generated suite's worlds: test (the default), dev or train (splits.yaml)
    tasks: list[str] | None = None  # task ids; None = the whole suite
    limit: int | None = None  # only the first N tasks (after `tasks`)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    executor: str = "local"
    closed_book: bool = False  # also run every task with only `submit` (the baseline of what the agent already knows)
    trials: int = 1  # every task this many times, trial t with seed ``seed + t`` (pass@k, pass^k in the summary)
    attacks: list[str] | None = None  # safety cases to run by their task's attack: None all, ["none"] benign twins, names (+ twins)
    price_per_mtok: list[float] | None = None  # [input, output] US$ per million tokens, for the usage cost
    executor_options: dict[str, Any] = field(default_factory=dict)  # e.g. {"address": "auto"} for the ray executor
    agent_options: dict[str, Any] = field(default_factory=dict)  # more options for make_agent (e.g. key_env)
    mode: str | None = None  # sabotage: "attack" (each task with a secret side task) or "honest" (the same pairs, untold)
    side_tasks: list[str] | None = None  # the side tasks to pair from (None: every one that fits a task)


def env_for_suite(suite: str) -> tuple[str, dict]:
    """(env id, extra make kwargs) for a suite: the gym id its ``register_suite`` call gave a registered suite
    (bundled or plugin), or the generic ``airgap/Suite-v0`` with ``suite=<absolute path>`` for a suite file. A
    generated suite's kwargs ask for its test split; :func:`run_evaluation` passes the run's own."""
    from airgap.envs.tasks import GENERIC_ENV_ID, load_suite, suite_spec

    spec = suite_spec(suite)
    if spec is not None:  # the evaluation tools default to the test worlds of a generated suite (gym.make: train)
        return spec.env_id, ({"split": "test"} if spec.per_seed else {})
    loaded = load_suite(suite)  # raises TaskFileError with the problems when it is not a usable suite
    return GENERIC_ENV_ID, {"suite": str(loaded.path)}


def read_results(out: Path) -> list[dict]:
    """Finished rows of an evaluation folder; a torn last line (killed mid-write) is ignored."""
    path = Path(out) / RESULTS
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def episode_key(row: dict) -> tuple[str, str, int]:
    """What identifies an episode of an evaluation: (task id, condition, trial); rows before trials existed are trial 0."""
    return (row["task_id"], row.get("condition", "world"), int(row.get("trial", 0)))


def collect(results: list[dict]) -> tuple[list[dict], list[dict]]:
    """(finished rows, harness failures not since retried) from the lines of a results.jsonl, the last row of each episode winning."""
    finished: dict[tuple, dict] = {}
    failed: dict[tuple, dict] = {}
    for r in results:
        if "task_id" not in r:
            continue
        (failed if "error" in r else finished)[episode_key(r)] = r
    return list(finished.values()), [r for k, r in failed.items() if k not in finished]


def _append(path: Path, row: dict) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def seal_row(row: dict, out: Path) -> dict:
    """Sign the row's log (if any, absolute path) and record ``head``, ``signature``, ``key_id``; make ``log`` relative to ``out``."""
    from airgap.envs.logs.signing import seal_log

    if row.get("log"):
        row.update(seal_log(row["log"]))
        row["log"] = os.path.relpath(row["log"], Path(out).resolve())
    return row


def world_seed_of(cfg: EvalConfig) -> int | None:
    """A generated suite (``worldqa``) is made for a world: the evaluation's split and seed pick it (test world 3
    is world seed 3, train world 3 is 2000003: ``airgap.envs.worldgen.splits``)."""
    from airgap.envs.tasks import is_generated
    from airgap.envs.worldgen.splits import world_seed

    return world_seed(cfg.split, cfg.seed) if is_generated(cfg.suite) else None


def phase_of(cfg: EvalConfig) -> dict:
    """The testing phase this evaluation pins (manifest, summary, every log header): the suite, its split, world and
    shift declaration hash (None for a fixed suite), and the model's identity (``airgap.envs.agents.identity``);
    ``pins`` is the part each log header carries beside its own split and world."""
    from airgap.envs.agents.identity import model_identity
    from airgap.envs.tasks import is_generated
    from airgap.envs.tasks.shift import shift_hash
    from airgap.envs.worldgen.splits import label

    generated = is_generated(cfg.suite)
    seed = world_seed_of(cfg)
    try:
        model = model_identity(cfg.agent, cfg.agent_options.get("model"))
    except OSError as e:
        raise EvaluationError(f"cannot identify the model of {cfg.agent!r}: {e}") from None
    return {"suite": cfg.suite, "split": cfg.split if generated else None, "world_seed": seed,
            "world": label(seed) if generated else None, "shift_hash": shift_hash(cfg.suite) if generated else None,
            "model": model, "pins": {"model": model}}


def attack_of(task) -> str | None:
    """The attack style a safety case carries ("none" for a benign twin), None for a task that is not a safety case."""
    return getattr(task, "attack", None)


def subtlety_of(task) -> str | None:
    """How a safety case's planted text reads (``blunt`` | ``subtle``, its ``safety.subtlety``); None for a benign
    twin, a case that does not say, or a task that is not a safety case."""
    value = (getattr(task, "safety", None) or {}).get("subtlety")
    return value if isinstance(value, str) else None


def known_attacks() -> list[str] | None:
    """The names in the attack registry (``airgap.envs.attacks.ATTACKS``), or None where there is no registry yet."""
    try:
        from airgap.envs.attacks import ATTACKS
    except ImportError:
        return None
    return sorted(ATTACKS)


def select_attacks(tasks: list, attacks: list[str] | None, suite: str = "") -> list:
    """Keep the cases asked for by ``--attack``: None every task; "all" every safety case; "none" the benign twins;
    attack names those attacks and the benign twins too (utility without attack is the baseline of utility under it)."""
    if not attacks:
        return tasks
    names = {a.strip() for item in attacks for a in str(item).split(",") if a.strip()}
    known = known_attacks()
    unknown = sorted(names - {"all", "none"} - set(known)) if known is not None else []
    if unknown:
        raise EvaluationError(f"unknown attack(s) {unknown}; known: {', '.join(['all', 'none', *known])}")
    cases = [t for t in tasks if attack_of(t) is not None]
    if not cases:
        raise EvaluationError(f"suite {suite!r} has no safety cases (no task carries an attack); drop --attack, "
                              "or pick a safety suite (`airgap tasks list`)")
    if "all" in names:
        return cases
    chosen = [t for t in cases if attack_of(t) == "none" or attack_of(t) in names]
    if not chosen or (names - {"none"} and not any(attack_of(t) in names for t in chosen)):
        present = sorted({attack_of(t) for t in cases})
        raise EvaluationError(f"no case of suite {suite!r} has attack {sorted(names)}; its cases have: {', '.join(present)}")
    return chosen


def plan(cfg: EvalConfig) -> list:
    """The tasks this evaluation covers, in suite order."""
    from airgap.envs.tasks import load_suite

    tasks = list(load_suite(cfg.suite, world_seed=world_seed_of(cfg)).tasks)
    if cfg.tasks:
        wanted = set(cfg.tasks)
        unknown = wanted - {t.id for t in tasks}
        if unknown:
            raise EvaluationError(f"unknown task ids for suite {cfg.suite!r}: {sorted(unknown)} (`airgap tasks list`)")
        tasks = [t for t in tasks if t.id in wanted]
    tasks = select_attacks(tasks, cfg.attacks, cfg.suite)
    return tasks[: cfg.limit] if cfg.limit else tasks


def _check_config(out: Path, cfg: EvalConfig) -> None:
    config_path = out / "config.json"
    if config_path.exists():
        old = json.loads(config_path.read_text())
        old.setdefault("split", "test")  # a folder from before splits evaluated test worlds
        for key in ("suite", "agent", "seed", "split"):
            if old.get(key) != getattr(cfg, key):
                raise EvaluationError(
                    f"{out} holds an evaluation with {key}={old.get(key)!r}, not {getattr(cfg, key)!r}; "
                    "use another --out or delete the folder to start over"
                )
    config_path.write_text(json.dumps(asdict(cfg), indent=2, sort_keys=True))


def serve_models(fn):
    """Decorator for ``run_evaluation(cfg, ...)``: the agent spec is checked before anything runs, and the local
    executor's workers share one model engine for an ``hf:``/``vllm:`` agent (:func:`~airgap.envs.agents.engine.serving`).

    Other executors start their own: the ``ray`` executor runs one engine actor per node (see ``EngineActor``).
    """

    @functools.wraps(fn)
    def wrapper(cfg, *args, **kwargs):
        try:
            check_agent_spec(cfg.agent, model=cfg.agent_options.get("model"))
        except ValueError as e:
            raise EvaluationError(str(e)) from None
        if cfg.executor != "local" or engine_model(cfg.agent) is None:
            return fn(cfg, *args, **kwargs)
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(serving(cfg.agent))
            except (OSError, ImportError, EngineError) as e:  # a bad model folder, vllm missing: say so before any episode
                raise EvaluationError(str(e)) from None
            return fn(cfg, *args, **kwargs)

    return wrapper


@serve_models
def run_evaluation(cfg: EvalConfig, on_result: Callable[[dict, int, int], None] | None = None) -> list[dict]:
    """Run (or resume) an evaluation; returns every finished row, old and new. ``on_result(row, done, total)``.

    With ``closed_book`` every task runs twice, with the world and with only ``submit``; rows carry
    ``condition`` ("world" or "closed_book") and the summary gives the world uplift per task kind.
    """
    from airgap.envs.logs.manifest import write_manifest
    from airgap.envs.logs.signing import SigningError, private_key

    try:
        private_key()  # a bad or missing key fails here, before any episode runs
    except SigningError as e:
        raise EvaluationError(str(e)) from None
    out = Path(cfg.out)
    logs = out / "logs"
    from airgap.envs.worldgen.splits import SPLITS

    if cfg.split not in SPLITS:
        raise EvaluationError(f"unknown split {cfg.split!r}; the splits are {', '.join(SPLITS)} "
                              "(`airgap tasks splits SUITE` shows how they differ)")
    logs.mkdir(parents=True, exist_ok=True)
    _check_config(out, cfg)
    phase = {k: v for k, v in phase_of(cfg).items() if k != "pins"}  # what the run pins (config, manifest, headers)
    (out / "config.json").write_text(json.dumps({**asdict(cfg), "phase": phase}, indent=2, sort_keys=True))

    if cfg.trials < 1:
        raise EvaluationError(f"trials must be at least 1, not {cfg.trials}")
    tasks = plan(cfg)
    env_id, suite_kwargs = env_for_suite(cfg.suite)
    by_id = {t.id: t for t in tasks}
    conditions = ["world", "closed_book"] if cfg.closed_book else ["world"]
    trials = range(cfg.trials)
    done_rows, _ = collect(read_results(out))
    finished = {episode_key(r): r for r in done_rows if r["task_id"] in by_id and episode_key(r)[1] in conditions
                and episode_key(r)[2] < cfg.trials}
    total = len(tasks) * len(conditions) * cfg.trials
    if on_result:
        for row in finished.values():
            on_result(row, len(finished), total)
    executor = make_executor(cfg.executor, workers=cfg.workers, **cfg.executor_options)
    for condition in conditions:
        kwargs = {**cfg.env_kwargs, **suite_kwargs}
        if world_seed_of(cfg) is not None:
            kwargs["split"], kwargs["world_seed"] = cfg.split, cfg.seed
        kwargs["pins"] = {"model": phase["model"]}
        if cfg.mode is not None:
            kwargs["mode"], kwargs["side_tasks"] = cfg.mode, cfg.side_tasks
        if condition == "closed_book":
            kwargs["closed_book"] = True
        agent_options = {**cfg.agent_options}
        if cfg.price_per_mtok:
            agent_options["price_per_mtok"] = tuple(cfg.price_per_mtok)
        spec = EnvSpec(env_id, kwargs, str(logs.resolve()), suite=suite_kwargs.get("suite"), agent_options=agent_options)
        # trial-major: every task's first trial before any second one, so an interrupted run is still a whole suite
        todo = [Job(t.id, cfg.seed + k, cfg.agent) for k in trials for t in tasks if (t.id, condition, k) not in finished]
        for row in executor.run(spec, todo):
            task = by_id[row["task_id"]]
            row["kind"] = task.kind
            row["condition"] = condition
            row["trial"] = row["seed"] - cfg.seed
            if "attack" not in row and attack_of(task) is not None:
                row["attack"] = attack_of(task)
            if "subtlety" not in row and subtlety_of(task) is not None:
                row["subtlety"] = subtlety_of(task)
            seal_row(row, out)
            _append(out / RESULTS, row)
            if "error" not in row:
                finished[episode_key(row)] = row
            if on_result:
                on_result(row, len(finished), total)
    rows = [finished[(t.id, c, k)] for c in conditions for t in tasks for k in trials if (t.id, c, k) in finished]
    _, failures = collect(read_results(out))
    errors = [r for r in failures if r["task_id"] in by_id and episode_key(r) not in finished]
    write_outputs(out, {**asdict(cfg), "phase": phase}, rows, errors, len(tasks))
    write_manifest(out, read_results(out), phase=phase)
    return rows


def write_outputs(out: Path, config: dict, rows: list[dict], errors: list[dict], n_tasks: int,
                  compare: list[dict] | None = None) -> dict:
    """summary.json and report.html of an evaluation folder from its finished rows; returns the summary."""
    from .report import write_report

    world_rows = [r for r in rows if r.get("condition", "world") == "world"]
    trials = int(config.get("trials") or 1)
    failed = len({episode_key(r) for r in errors})
    summary = summarize(world_rows, total=n_tasks, failed=failed, trials=trials, price_per_mtok=config.get("price_per_mtok"))
    if config.get("closed_book"):
        closed = [r for r in rows if r.get("condition") == "closed_book"]
        summary["closed_book"] = summarize(closed, total=n_tasks, trials=trials)
        summary["uplift"] = uplift(summary, summary["closed_book"])
    if compare:
        summary["compare"] = compare
    served = sorted({m for r in world_rows for m in (r.get("usage") or {}).get("served_models") or []})
    if served:  # the model names the API's responses said answered (an id may resolve to a dated snapshot)
        summary["served_models"] = served
    (Path(out) / "summary.json").write_text(json.dumps({"config": config, **summary}, indent=2, sort_keys=True))
    write_report(Path(out), config, rows, summary, errors)
    return {"config": config, **summary}


def load_run(folder: str | os.PathLike) -> tuple[dict, list[dict], list[dict], int]:
    """(config, finished rows, unretried harness failures, planned tasks) of an evaluation folder, wherever it now lies."""
    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise EvaluationError(f"{folder} is not an evaluation folder (no config.json); give the --out folder of an `airgap evaluate`")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    rows, errors = collect(read_results(folder))
    if not rows and not errors:
        raise EvaluationError(f"{folder} has no finished episodes in {RESULTS}; run `airgap evaluate --out {folder}` to fill it")
    keys = ("world", "closed_book") if config.get("closed_book") else ("world",)
    order = {k: i for i, k in enumerate(keys)}
    rows = sorted((r for r in rows if episode_key(r)[1] in order), key=lambda r: order[episode_key(r)[1]])
    n_tasks = len({r["task_id"] for r in rows} | {r["task_id"] for r in errors})
    summary_path = folder / "summary.json"
    if summary_path.is_file():  # the plan as the evaluation saw it (tasks that never finished count too)
        try:
            n_tasks = max(n_tasks, int(json.loads(summary_path.read_text(encoding="utf-8"))["tasks"]))
        except (ValueError, KeyError, TypeError):
            pass
    return config, rows, errors, n_tasks


def phase_in(config: dict) -> dict:
    """The phase a run's config records (a run from before splits: test worlds of a generated suite, model unknown)."""
    from airgap.envs.tasks import is_generated

    if config.get("phase"):
        return config["phase"]
    generated = bool(config.get("suite")) and is_generated(str(config["suite"]))
    return {"suite": config.get("suite"), "split": config.get("split", "test") if generated else None, "model": None}


def phase_mismatch(a: dict, b: dict, agents: tuple[str | None, str | None] = (None, None)) -> list[str]:
    """How two runs' phases differ in what a comparison must not hide: the split, the shift declaration, and a model
    that changed under one agent spec (the same ``hf:PATH`` with other weights, the same ``openai:`` spec answered by
    another model). Two different agents are what a comparison is for, so they are no mismatch."""
    from airgap.envs.agents.identity import describe, same_model

    out = []
    if a.get("split") != b.get("split"):
        out.append(f"split {a.get('split')} vs {b.get('split')}")
    if a.get("split") and b.get("split") and a.get("shift_hash") != b.get("shift_hash"):
        out.append("shift declaration (the splits were declared differently)")
    same_spec = agents[0] is not None and agents[0] == agents[1]
    if same_spec and a.get("model") and b.get("model") and not same_model(a.get("model"), b.get("model")):
        out.append(f"model under the same agent spec {agents[0]}: {describe(a.get('model'))} vs {describe(b.get('model'))}")
    served_a, served_b = a.get("served_models"), b.get("served_models")
    if same_spec and served_a and served_b and set(served_a) != set(served_b):
        out.append(f"served model {', '.join(served_a)} vs {', '.join(served_b)}")
    return out


def _served(rows: list[dict]) -> list[str]:
    return sorted({m for r in rows for m in (r.get("usage") or {}).get("served_models") or []})


def rebuild(folder: str | os.PathLike, compare: list[str | os.PathLike] = (), allow_mismatch: bool = False) -> dict:
    """``airgap report``: summary.json and report.html again from results.jsonl, optionally beside other runs.

    Each compared run gives ``{"run", "agent", "suite", ...compare_runs(this, that)}``: differences are this run
    minus that one, paired on the episodes both have. Runs whose split or shift declaration differ, or whose model
    changed under the same agent spec, are compared only with ``allow_mismatch`` (EvaluationError otherwise), and the block says how they differ
    (``mismatch``); runs on different splits are never paired (their worlds differ), so the block is the
    generalisation gap per kind, this split's success beside that one's.
    """
    from .stats import compare_runs

    folder = Path(folder)
    config, rows, errors, n_tasks = load_run(folder)
    mine = phase_in(config)
    blocks = []
    for other in compare:
        oc, orows, _, _ = load_run(other)
        theirs = phase_in(oc)
        mismatch = phase_mismatch({**mine, "served_models": _served(rows)}, {**theirs, "served_models": _served(orows)},
                                  (config.get("agent"), oc.get("agent")))
        if mismatch and not allow_mismatch:
            raise EvaluationError(f"{folder} and {other} differ in {'; '.join(mismatch)}: a difference between them "
                                  "is not the difference between two models on one test. Pass --allow-mismatch to "
                                  "compare them anyway (the report says how they differ).")
        world = [r for r in rows if r.get("condition", "world") == "world"]
        oworld = [r for r in orows if r.get("condition", "world") == "world"]
        if mine.get("split") != theirs.get("split"):  # other worlds: nothing pairs, per kind side by side
            world = [{**r, "task_id": f"{mine.get('split')}:{r['task_id']}"} for r in world]
            oworld = [{**r, "task_id": f"{theirs.get('split')}:{r['task_id']}"} for r in oworld]
        block = {"run": str(other), "agent": oc.get("agent"), "suite": oc.get("suite"), "models": [
            mine.get("model"), theirs.get("model")], **compare_runs(world, oworld)}
        if mismatch:
            block["mismatch"] = mismatch
            block["splits"] = [mine.get("split"), theirs.get("split")]
        blocks.append(block)
    return write_outputs(folder, config, rows, errors, n_tasks, compare=blocks or None)
