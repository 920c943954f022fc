"""Re-run a logged episode against a fresh env (first divergence), and fork it: replay to step K, then another agent."""
from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from airgap.envs.agents import make_agent as agent_from_spec
from airgap.envs.logs import EpisodeLog, log_context
from airgap.envs.logs.episode import Episode, ReplayError, Step, load_episode, observation_text
from airgap.envs.runner import play


@dataclass
class Divergence:
    """The first place a re-run differs from the log. ``step`` 0 is ``reset``."""

    step: int
    field: str
    logged: Any
    replayed: Any

    @property
    def message(self) -> str:
        if self.field == "observation":
            return f"step {self.step}: observation differs\n{_first_diff(str(self.logged), str(self.replayed))}"
        return f"step {self.step}: {self.field} logged {self.logged!r}, re-run gave {self.replayed!r}"


@dataclass
class RerunResult:
    path: Path
    steps_logged: int
    steps_replayed: int
    divergences: list[Divergence]
    replay_s: float
    original_s: float | None
    world_changes: list[str] = field(default_factory=list)  # pinned parts of the world that differ now

    @property
    def first(self) -> Divergence | None:
        return self.divergences[0] if self.divergences else None

    @property
    def ok(self) -> bool:
        return not self.divergences


@dataclass
class ForkResult:
    parent: Path
    log: Path | None
    at: int
    prefix: RerunResult
    steps: int
    reward: float | None
    terminated: bool
    truncated: bool


def _first_diff(a: str, b: str, context: int = 60) -> str:
    i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    lo = max(0, i - context)
    return (f"  first difference at character {i} (logged {len(a)} chars, re-run {len(b)} chars)\n"
            f"  logged: {a[lo:i + context]!r}\n  re-run: {b[lo:i + context]!r}")


def _same_number(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    try:
        fa, fb = float(a), float(b)
    except (TypeError, ValueError):
        return a == b
    if math.isnan(fa) and math.isnan(fb):
        return True
    return math.isclose(fa, fb, rel_tol=1e-9, abs_tol=1e-12)


def _as_text(obs: Any) -> str:
    return observation_text({"observation": obs})


def make_env_from_header(header: dict, **overrides: Any):
    """``gymnasium.make(header env_id, **header env_kwargs, **overrides)``, after importing the
    package that registers Airgap's envs. Raises :class:`ReplayError` with a hint when it cannot."""
    import gymnasium

    env_id = header.get("env_id")
    if not env_id:
        raise ReplayError("the log's header has no env_id, so there is no env to re-run it in")
    with contextlib.suppress(ImportError):
        import airgap.envs  # noqa: F401 - registers airgap/* ids
    if env_id.startswith("airgap/"):
        with contextlib.suppress(ImportError):
            import importlib

            importlib.import_module("airgap.envs.env")
    kwargs = dict(header.get("env_kwargs") or {})
    kwargs.update(overrides)
    try:
        return gymnasium.make(env_id, **kwargs)
    except gymnasium.error.Error as e:
        raise ReplayError(
            f"cannot make env {env_id!r}: {e}. Is the package that registers it installed "
            f"(for airgap/* ids: `pip install -e .` and `import airgap.envs`)?"
        ) from None


def _reset_env(env, header: dict):
    options = {"task_id": header["task_id"]} if header.get("task_id") else None
    return env.reset(seed=header.get("seed"), options=options)


def _compare_reset(ep: Episode, obs: Any) -> Divergence | None:
    if ep.reset is None:
        return None
    logged, replayed = observation_text(ep.reset), _as_text(obs)
    return None if logged == replayed else Divergence(0, "observation", logged, replayed)


def _compare_step(s: Step, obs: Any, reward: Any, terminated: bool, truncated: bool) -> Divergence | None:
    if s.observation is None:  # the writer died between action and observation: nothing to compare
        return None
    logged = s.text
    replayed = _as_text(obs)
    if logged != replayed:
        return Divergence(s.index, "observation", logged, replayed)
    if not _same_number(s.observation.get("reward"), reward) and "reward" in s.observation:
        return Divergence(s.index, "reward", s.observation.get("reward"), reward)
    for name, value in (("terminated", terminated), ("truncated", truncated)):
        if name in s.observation and bool(s.observation[name]) != bool(value):
            return Divergence(s.index, name, s.observation[name], bool(value))
    return None


def _replay_prefix(env, ep: Episode, upto: int | None, *, stop_at_first: bool,
                   observer: Callable[[Step, tuple], None] | None = None):
    """Reset and feed the first ``upto`` logged actions (all when None). Returns
    (divergences, steps_replayed, last (obs, reward, terminated, truncated, info), reset (obs, info))."""
    divergences: list[Divergence] = []
    obs, info = _reset_env(env, ep.header)
    first = (obs, info)
    d = _compare_reset(ep, obs)
    if d:
        divergences.append(d)
        if stop_at_first:
            return divergences, 0, (obs, 0.0, False, False, info), first
    last = (obs, 0.0, False, False, info)
    n = 0
    for s in ep.steps:
        if upto is not None and s.index > upto:
            break
        if s.action is None:
            continue
        if last[2] or last[3]:
            divergences.append(Divergence(s.index, "terminated", False, True))
            break
        result = env.step(s.action.get("action"))
        n += 1
        last = result
        if observer is not None:
            observer(s, result)
        d = _compare_step(s, *result[:4])
        if d:
            divergences.append(d)
            if stop_at_first:
                break
    return divergences, n, last, first


def rerun(path: str | os.PathLike, *, stop_at_first: bool = True, env_overrides: dict | None = None,
          log_dir: str | os.PathLike | None = None, make_env: Callable[[dict], Any] | None = None) -> RerunResult:
    """Re-run a logged episode in a fresh env with the same seed, task and actions.

    Returns a :class:`RerunResult`; ``result.first`` is the first divergence (None when the
    re-run matched at every step). ``log_dir`` makes an env that takes ``log_dir`` (AirgapEnv)
    log the re-run too, so the two logs can be compared event by event. ``make_env(header)``
    may replace the default :func:`make_env_from_header` (tests use it to inject an env).
    """
    ep = load_episode(path, check=False)
    overrides = dict(env_overrides or {})
    if log_dir is not None:
        if not _env_logs_itself(ep.header.get("env_id")):
            raise ReplayError(f"env {ep.header.get('env_id')!r} does not take log_dir, so its re-run cannot be logged")
        overrides["log_dir"] = str(log_dir)
    env = make_env(ep.header) if make_env else make_env_from_header(ep.header, **overrides)
    t0 = time.perf_counter()
    try:
        divergences, n, _, _ = _replay_prefix(env, ep, None, stop_at_first=stop_at_first)
        changes = world_changes(ep.header, getattr(env.unwrapped, "world_pins", None) or {})
    finally:
        env.close()
    dt = time.perf_counter() - t0
    return RerunResult(Path(path), len(ep.steps), n, divergences, dt, ep.duration_s, changes)


def world_changes(header: dict, pins: dict) -> list[str]:
    """The pinned parts of the world (snapshot, image) that differ between a log's header and a fresh env.

    A re-run against another snapshot may well diverge: this says so, instead of leaving the reader to
    suspect the env. Parts the log or the env does not know are not compared.
    """
    out = []
    for key in ("snapshot_manifest_hash", "image_digest"):
        logged, now = header.get(key), pins.get(key)
        if logged and now and logged != now:
            out.append(f"{key.replace('_', ' ')}: logged {logged[:19]}…, now {now[:19]}…")
    logged, now = header.get("backend_fixture_hash"), pins.get("backend_fixture_hash")
    if isinstance(logged, dict) and isinstance(now, dict):
        for name in sorted(set(logged) | set(now)):
            if logged.get(name) != now.get(name):
                out.append(f"backend {name} fixture: logged {str(logged.get(name))[:19]}…, now {str(now.get(name))[:19]}…")
    return out


def _env_logs_itself(env_id: str | None) -> bool:
    """True when the registered env's constructor takes ``log_dir`` (AirgapEnv does): then the
    env writes the fork's log itself, sandbox events, validation and rewards included."""
    import importlib
    import inspect

    import gymnasium

    if not env_id:
        return False
    with contextlib.suppress(ImportError):
        import airgap.envs  # noqa: F401 - registers airgap/* ids
    try:
        entry = gymnasium.spec(env_id).entry_point
        if isinstance(entry, str):
            mod, _, attr = entry.partition(":")
            entry = getattr(importlib.import_module(mod), attr)
        return "log_dir" in inspect.signature(entry).parameters
    except Exception:  # unknown id, odd entry point: record the fork ourselves
        return False


def fork(path: str | os.PathLike, at: int, agent_spec: str, *, out_dir: str | os.PathLike | None = None,
         max_steps: int | None = None, strict: bool = True, make_env: Callable[..., Any] | None = None,
         make_agent: Callable[[str], Any] | None = None) -> ForkResult:
    """Re-run ``path`` to step ``at`` (its first ``at`` actions), then let the agent ``agent_spec``
    continue until the episode ends, recording a new log in ``out_dir`` (default: next to ``path``).

    The new log's header has ``parent = {"log", "head", "at_step"}`` (``head`` is the parent's
    head hash, so the fork names one exact, verifiable parent) and ``agent = {"spec",
    "after_step", "before"}``. A ``fork`` event marks where the agent took over.

    Who writes the log: when the env's constructor takes ``log_dir`` (AirgapEnv), the env
    writes it as it writes every log (sandbox events, validation, rewards), and
    :func:`~airgap.envs.logs.log_context` adds ``parent``/``agent`` to its header.
    Otherwise this function records reset, actions and observations itself, marking the
    replayed ones ``"replayed": true``. Agents that expose ``last_call`` (model agents) get
    a ``model`` event before each of their actions.

    With ``strict=True`` a divergence before step ``at`` stops the fork: the agent would be
    continuing from a state the parent never saw. The agent gets ``reset(obs0, info0)`` with
    the initial observation and ``observe(action, obs, info)`` for each replayed step, so it
    continues with the right history (a model agent's chat holds the replayed calls; the
    oracle goes on with its call ``at + 1``). The agent loop is :func:`airgap.envs.runner.play`,
    the same one ``airgap evaluate`` runs.
    """
    path = Path(path)
    ep = load_episode(path, check=True)
    if ep.verification is not None and ep.verification.status in ("tampered", "invalid"):
        raise ReplayError(f"{path} does not verify ({ep.verification.status}: {ep.verification.message}); "
                          "refusing to fork from a log that may have been edited")
    if at < 0 or at > len(ep.steps):
        raise ReplayError(f"--at {at} is outside this episode: it has steps 1..{len(ep.steps)} (0 = right after reset)")
    if make_agent is None:
        suite = (ep.header.get("env_kwargs") or {}).get("suite")
        if suite:  # oracle finds tasks of a suite given by path
            def make_agent(spec: str) -> Any:
                return agent_from_spec(spec, suite=suite)
        else:
            make_agent = agent_from_spec
    agent = make_agent(agent_spec)
    out_dir = Path(out_dir) if out_dir is not None else path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    parent = {"log": str(path), "head": ep.verification.head if ep.verification else None, "at_step": at}
    agent_desc = {"spec": agent_spec, "after_step": at, "before": ep.header.get("agent")}
    overrides = {"log_dir": str(out_dir)} if _env_logs_itself(ep.header.get("env_id")) else {}

    t0 = time.perf_counter()
    with log_context(parent=parent, agent=agent_desc) as opened:
        env = make_env(ep.header, **overrides) if make_env else make_env_from_header(ep.header, **overrides)
        log: EpisodeLog | None = None
        try:
            replayed: list[tuple[Step, tuple]] = []
            divergences, n, last, first = _replay_prefix(
                env, ep, at, stop_at_first=True, observer=lambda s, r: replayed.append((s, r)))
            prefix = RerunResult(path, at, n, divergences, time.perf_counter() - t0, None)
            own = not opened  # the env did not open a log: record the fork here
            obs0, info0 = first
            if own:
                header = {k: ep.header.get(k) for k in (
                    "env_id", "task_id", "task_version", "seed", "env_kwargs", "snapshot_manifest_hash",
                    "image_digest", "backend_fixture_hash")}
                redaction = (ep.header.get("redaction") or {}).get("patterns")
                log = EpisodeLog(out_dir / f"{path.stem}.fork{at}-{_slug(agent_spec)}.jsonl", header, redact=redaction)
                log.append("reset", step=0, observation=obs0, info=_plain(info0), seed=ep.header.get("seed"),
                           options={"task_id": ep.header.get("task_id")}, tools=ep.tools)
                for s, (obs, reward, terminated, truncated, info) in replayed:
                    log.append("action", step=s.index, action=s.action.get("action"), tool=s.tool, args=s.args,
                               replayed=True)
                    log.append("observation", step=s.index, observation=obs, reward=_num(reward),
                               terminated=bool(terminated), truncated=bool(truncated), info=_plain(info), replayed=True)
            else:
                log = opened[0]
            if divergences and strict:
                if not log.closed:
                    log.append("replay_divergence", step=divergences[0].step, field=divergences[0].field,
                               message=divergences[0].message)
                raise ReplayError(f"cannot fork at step {at}: the re-run diverged first. {divergences[0].message} "
                                  "(use --force to fork anyway)")
            agent.reset(obs0, info0)
            observe = getattr(agent, "observe", None)  # agents written before the protocol had it may lack it
            for s, (obs, _reward, _terminated, _truncated, info) in replayed:
                if observe is not None:
                    observe(s.action.get("action"), obs, info)
            obs, reward, terminated, truncated, info = last
            if not log.closed:
                log.append("fork", step=n, at_step=at, agent=agent_spec, parent=parent)

            def record(type_: str, **data: Any) -> None:
                if not log.closed:
                    log.append(type_, **data)

            def on_step(k: int, action: Any, result: tuple) -> None:
                if own:
                    obs, reward, terminated, truncated, info = result
                    log.append("action", step=k, action=action, agent=agent_spec)
                    log.append("observation", step=k, observation=obs, reward=_num(reward),
                               terminated=bool(terminated), truncated=bool(truncated), info=_plain(info))

            k = n
            if not (terminated or truncated):
                played = play(env, agent, obs, info, first_step=n + 1, max_steps=max_steps, record=record, on_step=on_step)
                reward, terminated, truncated, k = played.last_reward, played.terminated, played.truncated, n + played.steps
            if own:
                log.close(status="closed", reward=_num(reward), terminated=bool(terminated),
                          truncated=bool(truncated), steps=k)
            return ForkResult(path, log.path, at, prefix, k, _num(reward), bool(terminated), bool(truncated))
        except BaseException as e:
            if log is not None and not log.closed and log is not (opened[0] if opened else None):
                log.close(status="error", error=f"{type(e).__name__}: {e}")
            raise
        finally:
            env.close()  # seals the env's own log, if it wrote one


def _num(x: Any) -> Any:
    try:
        return float(x)
    except (TypeError, ValueError):
        return x


def _plain(info: Any) -> Any:
    """``info`` dicts can hold numpy values; the log turns those into JSON itself."""
    return dict(info) if isinstance(info, dict) else info


def _slug(s: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s)[:40].strip("_") or "agent"


