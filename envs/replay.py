"""Replay: read an episode log back as steps, re-run it against a fresh env, fork it, render it.

Why a separate module from :mod:`airgap.envs.episode_log`: the log module is about
bytes on disk (format, chain, crash safety) and has no dependency on gymnasium or
on the env; this module is about *meaning* (what step did what) and is where the env
comes in. Three layers, each usable alone:

* :func:`load_episode` turns a log into an :class:`Episode`: the header, the ``reset``
  event, and one :class:`Step` per action with everything that step caused (model call,
  validation, sandbox execs and HTTP requests, observation, flags, rewards).
* :func:`rerun` builds a fresh env from the header (``gymnasium.make(env_id, **env_kwargs)``,
  ``reset(seed=seed, options={"task_id": task_id})``), feeds it the logged actions
  unchanged, and compares each observation, reward, ``terminated`` and ``truncated``
  with the logged ones. The first difference is a :class:`Divergence`.
* :func:`fork` re-runs to step K, then hands the env to an agent from
  :func:`airgap.envs.agents.make_agent`, recording a new log whose header names its parent.

:func:`render_html` (one self-contained HTML page) lives here too; the terminal
transcript is in :mod:`airgap.envs.replay_cli`.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .episode_log import RESERVED_KEYS as RESERVED
from .episode_log import EpisodeLog, LogError, VerifyResult, read_log, verify

__all__ = [
    "Step",
    "Episode",
    "Divergence",
    "RerunResult",
    "ForkResult",
    "ReplayError",
    "load_episode",
    "make_env_from_header",
    "rerun",
    "fork",
    "render_html",
    "tool_call_of",
    "observation_text",
]

#: Events that belong to the step in progress rather than carrying their own meaning.
_SANDBOX_PREFIX = "sandbox."


class ReplayError(Exception):
    """Replay cannot proceed; the message says why and what to do."""


# --------------------------------------------------------------------------- the episode model


@dataclass
class Step:
    """Everything that happened between one ``action`` and the next.

    ``index`` is the env step (1 = the first ``step()`` call). Step 0 collects what
    happened during ``reset`` (sandbox start, fixture loads) before any action.
    """

    index: int
    action: dict | None = None
    validation: dict | None = None
    observation: dict | None = None
    model: list[dict] = field(default_factory=list)
    sandbox: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    rewards: list[dict] = field(default_factory=list)
    backend: list[dict] = field(default_factory=list)
    other: list[dict] = field(default_factory=list)

    @property
    def tool(self) -> str | None:
        return tool_call_of(self.action)[0] if self.action else None

    @property
    def args(self) -> Any:
        return tool_call_of(self.action)[1] if self.action else None

    @property
    def text(self) -> str | None:
        """The observation text returned by ``step`` (full, never cut)."""
        return observation_text(self.observation) if self.observation else None

    @property
    def reward(self) -> float | None:
        return self.observation.get("reward") if self.observation else None

    @property
    def terminated(self) -> bool:
        return bool(self.observation and self.observation.get("terminated"))

    @property
    def truncated(self) -> bool:
        return bool(self.observation and self.observation.get("truncated"))

    @property
    def ok(self) -> bool | None:
        """False when the action was rejected or the tool reported an error."""
        if self.validation is not None and self.validation.get("ok") is False:
            return False
        info = (self.observation or {}).get("info") or {}
        if isinstance(info, dict) and info.get("ok") is False:
            return False
        return None if self.observation is None else True

    @property
    def error(self) -> str | None:
        if self.validation is not None and self.validation.get("error"):
            return str(self.validation["error"])
        info = (self.observation or {}).get("info") or {}
        if isinstance(info, dict) and info.get("ok") is False:
            return str(info.get("error") or "error")
        return None

    @property
    def duration_s(self) -> float | None:
        """From the action (or the model call before it) to its observation, by the monotonic clock."""
        start = self.action or (self.model[0] if self.model else None)
        if start is None or self.observation is None:
            return None
        return max(0.0, float(self.observation["t_mono"]) - float(start["t_mono"]))

    def events(self) -> list[dict]:
        """All of this step's events in log order."""
        evs = [e for e in (self.action, self.validation, self.observation) if e is not None]
        evs += self.model + self.sandbox + self.flags + self.rewards + self.backend + self.other
        return sorted(evs, key=lambda e: e["seq"])


@dataclass
class Episode:
    """A log read back as steps. ``events`` are all events after the header, blobs resolved."""

    path: Path
    header: dict
    events: list[dict]
    reset: dict | None
    setup: Step
    steps: list[Step]
    end: dict | None
    verification: VerifyResult | None = None

    @property
    def flags(self) -> list[dict]:
        return [e for e in self.events if e["type"] == "flag"]

    @property
    def tools(self) -> list[dict]:
        """The tool schemas the agent was given (from the ``reset`` event, else the header)."""
        for src in (self.reset or {}, self.header):
            t = src.get("tools")
            if isinstance(t, list):
                return t
        return []

    @property
    def instruction(self) -> str:
        return observation_text(self.reset) if self.reset else ""

    @property
    def reward(self) -> float | None:
        """The episode's reward: the ``end`` event's, else the sum of step rewards."""
        if self.end is not None and isinstance(self.end.get("reward"), (int, float)):
            return float(self.end["reward"])
        rs = [s.reward for s in self.steps if isinstance(s.reward, (int, float))]
        return float(sum(rs)) if rs else None

    @property
    def terminated(self) -> bool:
        if self.end is not None and "terminated" in self.end:
            return bool(self.end["terminated"])
        return bool(self.steps and self.steps[-1].terminated)

    @property
    def truncated(self) -> bool:
        if self.end is not None and "truncated" in self.end:
            return bool(self.end["truncated"])
        return bool(self.steps and self.steps[-1].truncated)

    @property
    def answer(self) -> str | None:
        if self.end is not None and self.end.get("answer") is not None:
            return str(self.end["answer"])
        for s in reversed(self.steps):
            if s.tool in ("submit", "answer") and isinstance(s.args, dict):
                a = s.args.get("answer")
                return None if a is None else str(a)
        return None

    @property
    def duration_s(self) -> float | None:
        if not self.events:
            return None
        return float(self.events[-1]["t_mono"])

    def step(self, k: int) -> Step:
        for s in self.steps:
            if s.index == k:
                return s
        raise ReplayError(
            f"{self.path} has no step {k}; its steps are 1..{len(self.steps)}" if self.steps
            else f"{self.path} has no steps (the episode ended or was killed before the first action)"
        )

    def actions(self) -> list[Any]:
        """The actions exactly as the agent gave them, in order (what ``rerun`` feeds the env)."""
        return [s.action.get("action") for s in self.steps if s.action is not None]


def tool_call_of(action_event: dict | None) -> tuple[str | None, Any]:
    """``(tool, args)`` of an ``action`` event: the parsed members when the env wrote them,
    else parsed here from the raw action (dict, JSON string, or OpenAI tool_calls item)."""
    if not action_event:
        return None, None
    if action_event.get("tool") is not None:
        return action_event.get("tool"), action_event.get("args")
    raw = action_event.get("action")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return None, raw
    if isinstance(raw, dict):
        if isinstance(raw.get("function"), dict):  # OpenAI tool_calls item
            fn = raw["function"]
            args = fn.get("arguments")
            if isinstance(args, str):
                with contextlib.suppress(json.JSONDecodeError):
                    args = json.loads(args)
            return fn.get("name"), args
        name = raw.get("tool", raw.get("name"))
        return (str(name) if name is not None else None), raw.get("args", raw.get("arguments"))
    return None, raw


def observation_text(event: dict | None) -> str:
    """The text of an ``observation``/``reset`` event, whatever shape the env gave it."""
    if not event:
        return ""
    obs = event.get("observation")
    if isinstance(obs, str):
        return obs
    if isinstance(obs, bytes):
        return obs.decode("utf-8", "replace")
    if isinstance(obs, dict) and isinstance(obs.get("text"), str):
        return obs["text"]
    return json.dumps(obs, ensure_ascii=False, indent=1, default=str)


def load_episode(path: str | os.PathLike, *, check: bool = True) -> Episode:
    """Read a log as an :class:`Episode`. ``check=True`` also verifies it (see ``episode.verification``);
    a tampered log still loads, so it can be inspected, but callers should say so."""
    path = Path(path)
    try:
        header, events = read_log(path)
    except LogError as e:
        raise ReplayError(str(e)) from None
    verification = verify(path) if check else None
    reset = None
    setup = Step(0)
    steps: dict[int, Step] = {}
    current = setup
    end = None
    for ev in events:
        t = ev["type"]
        if t == "end":
            end = ev
            continue
        if t == "reset":
            reset = ev
            continue
        k = ev.get("step")
        if t == "action" and isinstance(k, int):
            current = steps.setdefault(k, Step(k))
            if current.action is None:
                current.action = ev
            else:  # the same step number twice: keep both visible
                current.other.append(ev)
            continue
        target = current
        if isinstance(k, int) and not isinstance(k, bool):
            target = setup if k == 0 else steps.setdefault(k, Step(k))
        if t == "model":
            target.model.append(ev)
        elif t == "validation" and target.validation is None:
            target.validation = ev
        elif t == "observation" and target.observation is None:
            target.observation = ev
        elif t.startswith(_SANDBOX_PREFIX):
            target.sandbox.append(ev)
        elif t == "flag":
            target.flags.append(ev)
        elif t == "reward":
            target.rewards.append(ev)
        elif t == "backend_change":
            target.backend.append(ev)
        else:
            target.other.append(ev)
    return Episode(path, header, events, reset, setup, [steps[k] for k in sorted(steps)], end, verification)


# --------------------------------------------------------------------------- re-run and fork


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
    :func:`~airgap.envs.episode_log.log_context` adds ``parent``/``agent`` to its header.
    Otherwise this function records reset, actions and observations itself, marking the
    replayed ones ``"replayed": true``. Agents that expose ``last_call`` (model agents) get
    a ``model`` event before each of their actions.

    With ``strict=True`` a divergence before step ``at`` stops the fork: the agent would be
    continuing from a state the parent never saw. The agent gets ``reset(obs0, info0)`` with
    the initial observation; if it has ``observe(action, obs, reward, terminated, truncated,
    info)`` it is also told each replayed step, so agents with memory continue with the
    right history (without it, a scripted agent starts its script at step ``at + 1``).
    """
    from .episode_log import log_context

    path = Path(path)
    ep = load_episode(path, check=True)
    if ep.verification is not None and ep.verification.status in ("tampered", "invalid"):
        raise ReplayError(f"{path} does not verify ({ep.verification.status}: {ep.verification.message}); "
                          "refusing to fork from a log that may have been edited")
    if at < 0 or at > len(ep.steps):
        raise ReplayError(f"--at {at} is outside this episode: it has steps 1..{len(ep.steps)} (0 = right after reset)")
    if make_agent is None:
        import inspect

        from .agents import make_agent as _make_agent  # the other half of the envs package

        suite = (ep.header.get("env_kwargs") or {}).get("suite")
        if suite and "suite" in inspect.signature(_make_agent).parameters:  # oracle finds tasks of a suite given by path
            def make_agent(spec: str) -> Any:
                return _make_agent(spec, suite=suite)
        else:
            make_agent = _make_agent
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
            for s, (obs, reward, terminated, truncated, info) in replayed:
                if hasattr(agent, "observe"):
                    agent.observe(s.action.get("action"), obs, reward, terminated, truncated, info)
            obs, reward, terminated, truncated, info = last
            if not log.closed:
                log.append("fork", step=n, at_step=at, agent=agent_spec, parent=parent)
            k = n
            limit = max_steps if max_steps is not None else 10_000
            while not (terminated or truncated) and k < at + limit:
                k += 1
                if hasattr(agent, "last_call"):
                    agent.last_call = None
                action = agent.act(obs, info)
                call = getattr(agent, "last_call", None)
                if isinstance(call, dict) and not log.closed:
                    log.append("model", step=k, **{key: v for key, v in call.items() if key not in RESERVED})
                if own:
                    log.append("action", step=k, action=action, agent=agent_spec)
                obs, reward, terminated, truncated, info = env.step(action)
                if own:
                    log.append("observation", step=k, observation=obs, reward=_num(reward),
                               terminated=bool(terminated), truncated=bool(truncated), info=_plain(info))
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


# --------------------------------------------------------------------------- HTML


#: Outputs longer than this many lines start collapsed in the HTML page.
COLLAPSE_LINES = 12


def _fmt_json(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return json.dumps(v, ensure_ascii=False, indent=2, default=lambda o: o.decode("utf-8", "replace") if isinstance(o, bytes) else str(o))


def _sandbox_summary(ev: dict) -> str:
    t = ev["type"][len(_SANDBOX_PREFIX):]
    if t == "exec":
        cmd = ev.get("argv") or ev.get("cmd") or ev.get("command")
        if isinstance(cmd, list):
            cmd = " ".join(map(str, cmd))
        return f"exec {cmd!s} → exit {ev.get('exit_code')}"
    if t == "http":
        return f"{ev.get('method', 'GET')} {ev.get('url') or ev.get('host', '')} → {ev.get('status')}"
    if t == "dns":
        return f"dns {ev.get('name') or ev.get('host') or ev.get('query')} → {ev.get('answer', ev.get('result', ''))}"
    if t == "egress_attempt":
        return f"BLOCKED egress to {ev.get('host') or ev.get('dest') or ev.get('address') or '?'}"
    if t in ("file_read", "file_write"):
        size = ev.get("size", ev.get("bytes"))
        return f"{t.replace('_', ' ')} {ev.get('path', '')}" + (f" ({size} bytes)" if size is not None else "")
    return t.replace("_", " ")


def render_html(episode: Episode | str | os.PathLike) -> str:
    """One self-contained HTML page for an episode: header, steps with tool calls and full
    outputs (long ones collapsed), sandbox events, flags, rewards and timings. No external
    assets: styles are inline and nothing is fetched, so the file opens offline and can be
    attached to a bug report as is."""
    import jinja2

    ep = episode if isinstance(episode, Episode) else load_episode(episode)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).with_name("templates"))),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = _fmt_json
    env.filters["nlines"] = lambda s: (s or "").count("\n") + 1
    env.globals["sandbox_summary"] = _sandbox_summary
    env.globals["COLLAPSE_LINES"] = COLLAPSE_LINES
    tmpl = env.get_template("episode.html.j2")
    header_rows = [(k, ep.header.get(k)) for k in (
        "env_id", "task_id", "task_version", "seed", "agent", "started_at", "package_version", "git_revision",
        "snapshot_manifest_hash", "image_digest", "backend_fixture_hash", "env_kwargs", "redaction", "parent",
        "schema_version")]
    return tmpl.render(
        ep=ep,
        header_rows=header_rows,
        end_outcome={k: v for k, v in (ep.end or {}).items() if k not in ("prev", "hash", "seq", "type")},
        generated=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        name=ep.path.name,
    )
