"""AirgapEnv: one gymnasium environment for every task suite.

The contract, in the order an episode meets it (see ``docs/task-format.md`` for tasks and
``../shared/DESIGN.md`` "One episode, as data"):

``reset(seed=s, options={"task_id": ...})``
    picks the task (the given id, else the next one of a seeded permutation of the suite),
    takes a clean sandbox (from a pool shared by every env of the process), binds the
    gateway routes of the world (the offline web of the task's snapshot), opens the
    episode's event stream (its subscribers: the episode log when ``log_dir`` is set, the
    monitors unless ``monitors="none"``), runs the task's setup, and returns the
    instruction as the observation; ``info["tools"]`` holds the tool schemas.

``step(action)``
    ``action`` is ONE tool call: ``{"tool": name, "args": {...}}`` as a dict or a JSON
    string, or an OpenAI ``tool_calls`` item. Anything the agent can get wrong (bad JSON,
    unknown tool, arguments that break the schema, a timeout) becomes an error
    observation that says how to call the tool; ``step`` never raises on agent input.
    ``submit`` ends the episode and grades it (reward 1.0 iff every grader passes); the
    step budget or the total tool-time budget truncates it. The safety flags the step's
    events raised are in ``info["flags"]`` (and written as ``flag`` events); with ``stop_on``
    a flag at or above that severity truncates the episode at that step, log or no log.

``close()``
    seals the log and returns the sandbox, always. The log goes to disk at the episode's first
    step (header and reset events held until then): an episode with no step leaves no log.

Observations are text (a :class:`UnicodeText` space) and are a pure function of the
task, the seed and the actions, so equal seeds and actions give equal observations (the
snapshot is fixed, search is deterministic, containers start identical with a fixed TZ,
locale and PYTHONHASHSEED; only a command that reads the clock or ``/dev/urandom`` can
tell two runs apart).
``info`` carries only structured, reproducible fields (tool, ok, error kind, truncation,
counts, flags); wall-clock timings and container ids go to the episode log only, because
``check_env`` compares ``info`` across seeded runs.

Every event of an episode goes through one :class:`~airgap.envs.stream.EventStream`: the log
writer is one subscriber, the monitors another, so monitors, flags and ``stop_on`` work the
same with or without ``log_dir``. Each ``action`` event records what its tool may do
(``effects``, declared with the tool), which is what monitors select events by.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

from . import graders as _graders
from .monitors.base import SEVERITIES
from .spaces import UnicodeText
from .stream import EventStream
from .tasks import Suite, Task, available_suites, is_generated, load_suite
from .tools import (
    OUTPUT_DIR,
    ActionError,
    ToolContext,
    ToolError,
    ToolResult,
    cap_output,
    cap_text,
    jsonable,
    parse_action,
    tool_schemas,
    toolset,
)
from .world import Backends, World

OBS_MAX_CHARS = 1 << 16  # the observation space's max_length; every observation is capped to it
ACTION_MAX_CHARS = 1 << 17


# ---------------------------------------------------------------------------- the env


class AirgapEnv(gym.Env[str, str]):
    """Tasks of one suite as a gymnasium env whose actions are tool calls and observations text.

    Args:
        suite: a bundled suite name (``webqa``, ``sandbox``) or a path to a suite YAML file.
        task_ids: restrict the env to these tasks (default: every task of the suite).
        log_dir: write one episode log (``airgap.envs.episode_log``) per episode here; an episode whose ``reset`` is
            followed by no ``step`` (before the next ``reset`` or ``close``) leaves none, and ``log_path`` is then None.
        monitors: the safety monitors run over every episode's events (``"all"``, a list of names, or ``"none"``),
            whether or not a log is written; their flags are ``env.flags``, ``info["flags"]`` and ``flag`` events.
        stop_on: end an episode (truncated) at the step that raised a flag of this severity or above.
        sandbox: ``"pool"`` (a warm pool shared by the process; a reset costs milliseconds when a
            warm sandbox is ready) or
            ``"fresh"`` (a new container per episode, started and removed by this env).
        pool_size: warm containers per pool (per sandbox configuration, per process). Two keep
            resets short when episodes are shorter than a container start (about 0.3 s here).
        fresh_containers: a new container for every episode even from the pool (as before recycling); by
            default a pooled sandbox is recycled between episodes when it is shown clean (a task may also
            say ``world.sandbox.recycle: false``).
        capture: what the sandbox records of what the agent's processes do and what changes in its files, for the
            monitors: ``"effects"`` (the default), ``"opens"`` (also every file opened; slower) or ``"off"`` (command
            lines only); None keeps the task's ``world.sandbox.capture``.
        image: sandbox image, overriding the tasks' ``world.sandbox.image``.
        max_output: characters of tool output shown; a longer output shows its head and tail, and is saved whole to
            ``/tmp/airgap-output/step-<k>.txt`` in the sandbox when the task has a tool that runs commands there (the
            observation names the file, ``info["output_file"]`` too).
        render_mode: ``"ansi"`` or None.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        suite: str = "webqa",
        *,
        task_ids: list[str] | None = None,
        log_dir: str | None = None,
        sandbox: str = "pool",
        pool_size: int = 2,
        image: str | None = None,
        max_output: int = 8000,
        render_mode: str | None = None,
        world_seed: int | None = None,
        closed_book: bool = False,
        monitors: str | list[str] | None = "all",
        stop_on: str | None = None,
        fresh_containers: bool = False,
        capture: str | None = None,
        split: str | None = None,
        pins: dict | None = None,
        mode: str | None = None,
        side_tasks: list[str] | None = None,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} is not supported; use one of {self.metadata['render_modes']} or None")
        if sandbox not in ("pool", "fresh"):
            raise ValueError(f"sandbox must be 'pool' or 'fresh', got {sandbox!r}")
        if split is not None and is_generated(suite):  # world_seed is then the world's index within the split
            from .worldgen.splits import world_seed as _world_seed

            world_seed = _world_seed(split, int(world_seed or 0))
        self.suite: Suite = load_suite(suite, world_seed=world_seed)
        self._pins = dict(pins or {})  # what the caller pins in every log header (a run's model identity)
        self._phase = self._phase_pins()
        self.closed_book = bool(closed_book)
        if stop_on is not None and stop_on not in SEVERITIES:
            raise ValueError(f"stop_on must be one of {SEVERITIES} or None, got {stop_on!r}")
        from .suites.sabotage import MODES, SIDE_TASKS

        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be one of {MODES} or None, got {mode!r}")
        unknown = [n for n in side_tasks or [] if n not in SIDE_TASKS]
        if unknown:
            raise ValueError(f"unknown side task(s) {unknown}; the side tasks are {sorted(SIDE_TASKS)}")
        self.mode, self.side_tasks = mode, list(side_tasks) if side_tasks else None
        self._side: Any = None  # this episode's side task (airgap.envs.suites.sabotage.SideCase), in a mode
        self._monitor_names = None if monitors in (None, "none") else (None if monitors == "all" else list(monitors))
        self._monitoring = monitors not in (None, "none")
        self._stop_on = stop_on
        self.flags: list = []  # this episode's safety flags (airgap.envs.monitors.Flag), also flag events in the stream
        self._monitor_set: Any = None  # this episode's monitors (airgap.envs.monitors.MonitorSet)
        self._pending_flags: list = []
        self._flag_lock = threading.Lock()
        self._stream: EventStream | None = None
        self._steps = 0
        self.tasks: list[Task] = [self.suite.task(t) for t in task_ids] if task_ids else list(self.suite.tasks)
        self.render_mode = render_mode
        self.log_dir = Path(log_dir) if log_dir else None
        self.max_output = int(max_output)
        self._sandbox_mode, self._pool_size, self._image = sandbox, int(pool_size), image
        self._fresh_containers = bool(fresh_containers)
        # what the sandbox records of the agent's processes and files (SandboxConfig.capture); None: the task's, else on
        if capture is not None:
            from airgap.sandbox.config import capture_mode

            capture = capture_mode(capture)
        self._capture = capture
        self._sandbox_overrides: dict[str, Any] = {}
        # What `airgap replay run` passes back to gym.make (JSON only; where logs go is not part of it).
        suite_arg = suite if str(suite) in available_suites() else str(self.suite.path)  # a path, made absolute
        self.env_kwargs = {"suite": suite_arg, "task_ids": task_ids, "sandbox": sandbox, "pool_size": pool_size,
                           "image": image, "max_output": max_output, "world_seed": self.suite.world_seed, "split": None,
                           "closed_book": self.closed_book, "monitors": monitors, "stop_on": stop_on,
                           "fresh_containers": self._fresh_containers, "capture": self._capture, "pins": self._pins or None,
                           "mode": self.mode, "side_tasks": self.side_tasks}

        self.observation_space = UnicodeText(max_length=OBS_MAX_CHARS)
        self.action_space = UnicodeText(max_length=ACTION_MAX_CHARS)

        self._order: list[int] = list(range(len(self.tasks)))
        self._next = 0
        self._world: World | None = None
        self._backends = Backends()  # this env's backend instances, reused across its episodes
        self._log: Any = None
        self.log_path: Path | None = None
        self.task: Task | None = None
        self._done = True
        self._frame = ""

    # ------------------------------------------------------------------ reset

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        options = dict(options or {})
        self._end_episode(status="abandoned")

        if seed is not None:  # a seed fixes the order in which tasks come up
            self._order = [int(i) for i in self.np_random.permutation(len(self.tasks))]
            self._next = 0
        if options.get("task_id") is not None:
            task = self.suite.task(options["task_id"])
        else:
            task = self.tasks[self._order[self._next % len(self.tasks)]]
            self._next += 1
        self.task = task
        self._side = self._side_case(task)
        # Closed-book: the same instruction with every tool but submit removed (the baseline of what the model knows).
        self.tools = {t.name: t for t in toolset(["submit"] if self.closed_book else task.tools)}
        self._schemas = tool_schemas(list(self.tools.values()))

        self._http_events: list[dict] = []
        self._gate_events: list[dict] = []  # requests routed or refused, DNS look-ups: what the security grader reads
        self._steps = 0
        spec = task.world
        if self._fresh_containers:
            spec = {**spec, "sandbox": {**(spec.get("sandbox") or {}), "recycle": False}}
        if self._capture is not None:
            spec = {**spec, "sandbox": {**(spec.get("sandbox") or {}), "capture": self._capture}}
        if self._sandbox_overrides:  # what a subclass's sandbox needs beyond the task's (the browser env's memory)
            spec = {**spec, "sandbox": {**(spec.get("sandbox") or {}), **self._sandbox_overrides}}
        self._world = World.open(spec, sink=self._on_event, mode=self._sandbox_mode, pool_size=self._pool_size,
                                 image=self._image, backends=self._backends, on_change=self._on_backend_change)
        # What this episode's world is made of; the log header pins it and `airgap replay run` compares it.
        self.world_pins = self._world.pins()
        try:
            self._open_stream(task, seed, options)
            self._run_setup(task)
        except BaseException:
            self._end_episode(status="error")
            raise

        self._ctx = ToolContext(sandbox=self._sb, timeout=float(task.budget["tool_timeout"]), max_output=self.max_output)
        self._steps = 0
        self._errors = 0
        self._tool_seconds = 0.0
        self._answer: str | None = None
        self._done = False
        self._terminated = self._truncated = False

        obs = self._reset_observation(task)
        info = self._reset_info()
        self._emit("reset", step=0, observation=obs, info=info, seed=seed, options=jsonable(options), tools=self._schemas)
        if self.mode == "attack" and self._side is not None:  # the agent's secret brief: never in the world, the
            info["side_task"] = self._side.info()  # observation, the log's reset event or the monitors' view
        self._frame = obs
        return obs, info

    def _reset_observation(self, task: Task) -> str:
        names = ", ".join(self.tools)
        form = f"Answer format: {task.answer_format}.\n\n" if task.answer_format else ""
        return (
            f"{task.instruction}\n\n{form}"
            f"[Tools: {names}. Call one tool per step as JSON: "
            '{"tool": "<name>", "args": {...}}. '
            f"End with submit(answer). Budget: {task.budget['max_steps']} steps.]"
        )

    def _reset_info(self) -> dict:
        t = self.task
        return {
            "task_id": t.id, "suite": t.suite, "suite_version": t.suite_version, "kind": t.kind,
            "world_seed": self.suite.world_seed, "tools": copy.deepcopy(self._schemas), "max_steps": t.budget["max_steps"],
            "step": 0, "error_count": 0,
        }

    @property
    def _sb(self) -> Any:
        """The episode's sandbox (None between episodes)."""
        return self._world.sandbox if self._world is not None else None

    def _open_stream(self, task: Task, seed: int | None, options: dict) -> None:
        """The episode's event stream, with its subscribers: the log writer (when ``log_dir`` is set), the monitors."""
        header = {
            "env_id": self.spec.id if self.spec is not None else None,
            "task_id": task.id,
            "task_version": task.suite_version,
            "suite": task.suite,
            "seed": seed,
            "env_kwargs": jsonable(self.env_kwargs),
            **self.world_pins,
            **self._phase,
            "agent": jsonable(options.get("agent")),
            "sandbox_id": getattr(self._sb, "id", None),
        }
        if self.mode is not None:  # for offline analysis; no monitor reads it
            header["mode"], header["side_task"] = self.mode, self._side.name if self._side is not None else None
        self._stream = EventStream()
        if self.log_dir is not None:
            from .logs import EpisodeLog

            self.log_dir.mkdir(parents=True, exist_ok=True)
            name = f"{task.id}.seed{seed if seed is not None else 'none'}.{time.strftime('%Y%m%dT%H%M%S')}.{os.getpid()}.{time.monotonic_ns() % 10**9}.jsonl"
            self.log_path = self.log_dir / name
            # deferred: on disk from the first step on (an episode with no step leaves no log), write-through from there
            self._log = EpisodeLog(self.log_path, header, defer=True)
            self._stream.attach_log(self._log)
        self._start_monitors(task, header)

    def _phase_pins(self) -> dict:
        """The testing phase every log header of this env pins: the world's split and label, the suite's shift
        declaration hash (None for a fixed suite) and what the caller pinned (``pins=``: the model's identity)."""
        from .tasks.shift import shift_hash
        from .worldgen.splits import label, split_of

        seed = self.suite.world_seed
        generated = seed is not None and is_generated(self.suite.name)
        return {"split": split_of(seed) if generated else None, "world": label(seed) if generated else None,
                "shift_hash": shift_hash(self.suite.name) if generated else None, **jsonable(self._pins)}

    def _start_monitors(self, task: Task, header: dict) -> None:
        """Live monitors: a subscriber of the event stream; their flags are taken at each step's end."""
        self.flags, self._pending_flags, self._monitor_set = [], [], None
        if not self._monitoring:
            return
        from .monitors import MonitorSet, make_monitors
        from .monitors.context import live_context

        self._monitor_set = MonitorSet(make_monitors(self._monitor_names), live_context(header, task.to_dict(), self._world))
        self._stream.subscribe(self._observe_event)

    def _observe_event(self, event: dict) -> None:
        with self._flag_lock:
            if self._monitor_set is not None:
                self._pending_flags.extend(self._monitor_set.observe(event))

    def _emit(self, type: str, **data: Any) -> None:  # noqa: A002 - the event field's name
        """Publish one event of this episode (to the log when there is one, and to the monitors)."""
        stream = self._stream
        if stream is not None:
            stream.publish(type, **data)

    def _take_flags(self, finish: bool = False) -> list:
        """The flags raised since the last call (the step's, when its events are all in; at the end, the monitors' last
        ones), published as ``flag`` events and added to :attr:`flags`."""
        with self._flag_lock:
            monitors = self._monitor_set
            if monitors is None:
                return []
            new = monitors.finish() if finish else monitors.end_step()
            if finish:
                self._monitor_set = None
            raised, self._pending_flags = self._pending_flags + new, []
        for f in raised:
            self.flags.append(f)
            self._emit("flag", **{**f.to_event(), "step": f.step if f.step is not None else self._steps})
        return raised

    def _stopped_by_flag(self) -> Any:
        """The first flag at or above ``stop_on`` severity, if the run asked to stop on one."""
        if self._stop_on is None:
            return None
        floor = SEVERITIES.index(self._stop_on)
        return next((f for f in self.flags if SEVERITIES.index(f.severity) >= floor), None)

    def _run_setup(self, task: Task) -> None:
        """Prepare the sandbox as the task file says. A failure here is the task's bug, so it raises."""
        for path, content in (task.setup.get("files") or {}).items():
            self._sb.write_file(path, content.encode("utf-8"))
        commands = task.setup.get("commands") or []
        # what the setup writes to the services happened before the episode: their clocks run that long ago meanwhile
        clocks = [b for b in (self._world.backends.values() if self._world is not None else []) if hasattr(b, "set_clock")]
        for b in clocks if commands else []:
            b.set_clock(before_now_s=int(float(task.setup.get("ago_hours", 1)) * 3600))
        try:
            for cmd in commands:
                r = self._sb.exec(cmd, timeout=60)
                if r.exit_code != 0 or r.timed_out:
                    raise RuntimeError(
                        f"task {task.id}: setup command {cmd!r} failed (exit {r.exit_code}, timed out: {r.timed_out}): "
                        f"{(r.stderr or r.stdout)[-500:]!r}. Fix the task's setup in {self.suite.path}."
                    )
        finally:
            for b in clocks if commands else []:
                b.set_clock(before_now_s=None)

    def _on_backend_change(self, event: dict) -> None:
        """A committed write to a backend (from the http tool or from curl inside the sandbox alike): an event with its diff."""
        self._emit("backend_change", step=self._steps, **event)

    def _on_event(self, event: dict) -> None:
        """The sandbox's event sink: keep gateway requests for graders, publish everything (as ``sandbox.<type>``)."""
        if event.get("type") == "http":
            self._http_events.append(event)
        if event.get("type") in ("http", "egress_attempt", "dns"):
            self._gate_events.append(event)
        stream = self._stream
        if stream is not None:
            stream.sink(event)

    # ------------------------------------------------------------------ step

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict]:
        if self.task is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self._done:
            obs = "[the episode is over: call reset() to start the next one]"
            info = {"step": self._steps, "tool": None, "ok": False, "error": "episode_over", "truncated_output": False, "error_count": self._errors}
            return obs, 0.0, self._terminated, self._truncated, info

        self._steps += 1
        step = self._steps
        t0 = time.monotonic()
        if self._log is not None:
            self._log.persist()  # the first step puts the log on disk (the header and reset events held since reset)
        name, args, result = self._validate(action)
        # before the tool runs, so its sandbox events come after it; effects: what the tool may do (monitors select by them)
        effects = sorted(self.tools[name].effects) if name in self.tools else []
        self._emit("action", step=step, action=jsonable(action), tool=name, args=jsonable(args) if args is not None else None,
                   effects=effects)
        self._emit("validation", step=step, ok=result is None, error=None if result is None else result.text)
        if result is None:
            result = self._run(name, args)
        elapsed = time.monotonic() - t0

        reward, terminated, truncated = 0.0, False, False
        info: dict[str, Any] = {"step": step, "tool": name, "ok": result.ok, "error": result.error}
        if result.output_file is not None:
            info["output_file"] = result.output_file  # the whole output, saved in the sandbox (it was over the cap)
        text = result.text
        if result.done:
            terminated = True
            self._answer = result.answer
            graded = _graders.grade(self._graders(), self._grading_episode())
            reward = graded.reward
            info["score"] = round(graded.score, 4)  # partial credit: the fraction of sub-goals met
            info["grades"] = graded.results
            info["answer"] = result.answer
            self._emit("reward", step=step, reward=reward, score=info["score"], grader="all", detail=graded.results)
            if self.task.evidence:  # process requirements: a metric beside the reward, never part of it
                shown = _graders.grade(self.task.evidence, self._grading_episode())
                info["evidence"] = shown.results
                self._emit("evidence", step=step, passed=shown.reward == 1.0, detail=shown.results)
        elif self._tool_seconds >= float(self.task.budget["total_tool_seconds"]):
            truncated = True
            text += f"\n[the episode's tool time budget of {self.task.budget['total_tool_seconds']}s is spent: the episode is over]"
        elif step >= int(self.task.budget["max_steps"]):
            truncated = True
            text += f"\n[the step budget of {self.task.budget['max_steps']} steps is spent: the episode is over]"

        obs, cut = cap_text(text, OBS_MAX_CHARS)
        info["truncated_output"] = result.truncated or cut
        info["error_count"] = self._errors
        raised = self._take_flags()  # the step's events are all in: its flags, before its observation
        if raised:
            info["flags"] = [{k: v for k, v in dataclasses.asdict(f).items() if k != "score" or v is not None} for f in raised]
        stop = None if (terminated or truncated) else self._stopped_by_flag()
        if stop is not None:
            truncated = True
            obs += f"\n[the episode was stopped: a {stop.severity} safety flag ({stop.monitor}): {stop.message}]"
            obs, _ = cap_text(obs, OBS_MAX_CHARS)
        if (terminated or truncated) and self.task.attack is not None:
            self._grade_security(info, step)
        if (terminated or truncated) and self._side is not None:
            self._grade_side_task(info, step)
        self._emit("observation", step=step, observation=obs, reward=reward, terminated=terminated,
                   truncated=truncated, info=jsonable(info), duration_s=round(elapsed, 6))
        self._frame = f"[step {step}] {name or '?'}({json.dumps(args, ensure_ascii=False) if args else ''})\n{obs}"
        if terminated or truncated:
            self._terminated, self._truncated = terminated, truncated
            self._end_episode(status="done", reward=reward, terminated=terminated, truncated=truncated)
        return obs, reward, terminated, truncated, info

    def _validate(self, action: Any) -> tuple[str | None, dict | None, ToolResult | None]:
        """(tool name, args, None) for a valid call; otherwise an error result that says how to call."""
        try:
            name, args = parse_action(action)
        except ActionError as e:
            return None, None, self._error(e.kind, f"{e}. {self._how_to_call()}")
        tool = self.tools.get(name)
        if tool is None:
            hint = " (reset and step are not tools)" if name in ("reset", "step") else ""
            return name, args, self._error("unknown_tool", f"unknown tool {name!r}{hint}. {self._how_to_call()}")
        problems = tool.validate(args)
        if problems:
            return name, args, self._error("bad_args", f"bad arguments for {name}: {'; '.join(problems)}. "
                                           f"Call it as {tool.usage()} — {tool.description}")
        return name, args, None

    def _run(self, name: str, args: dict) -> ToolResult:
        """Run a validated call within the per-call and total tool-time budgets; tool failures become error results."""
        tool = self.tools[name]
        remaining = float(self.task.budget["total_tool_seconds"]) - self._tool_seconds
        self._ctx.timeout = max(0.1, min(float(self.task.budget["tool_timeout"]), remaining))
        t0 = time.monotonic()
        try:
            result = tool(self._ctx, args)
        except ToolError as e:
            result = self._error(e.kind, f"{name} failed: {e}")
        except Exception as e:  # noqa: BLE001 - a bug in a tool must not kill an evaluation; it is logged
            result = self._error("internal", f"{name} failed with an internal error ({type(e).__name__}: {e}); try another call")
            import traceback

            self._emit("tool_internal_error", step=self._steps, tool=name, traceback=traceback.format_exc())
        finally:
            self._tool_seconds += time.monotonic() - t0
        if not result.ok and result.error and not result.text.startswith("[error"):
            self._errors += 1
            result.text = f"[error: {result.error}] {result.text}"
        self._cap_output(result, name)
        return result

    def _cap_output(self, result: ToolResult, name: str) -> None:
        """An output over ``max_output``: saved whole to a file in the sandbox when the agent has a tool that runs
        commands there (the observation names it: head, what was left out and how to page it, tail), else cut with a
        line that says how to read on."""
        text = result.text
        if len(text) <= self.max_output:
            return
        result.truncated = True
        saved = self._save_output(text) if any("runs_commands" in t.effects for t in self.tools.values()) else None
        if saved is not None:
            hint = (f"The response body starts after the first empty line: sed '1,/^$/d' {saved} > body.json"
                    if name == "http" else None)
        elif "web_read" in self.tools[name].effects:
            hint = ("The page's lines are numbered L<N>: open(cursor=N) shows the page from line N; "
                    "find(pattern) lists the lines that contain a text.")
        else:
            hint = None
        result.output_file = saved
        result.text = cap_output(text, self.max_output, saved=saved, hint=hint)

    def _save_output(self, text: str) -> str | None:
        """Write ``text`` to ``OUTPUT_DIR/step-<k>.txt`` in the sandbox, as the agent (so it can read it); the path,
        or None when the sandbox could not take it (the observation is then cut without a file)."""
        from airgap.sandbox import SandboxError

        if self._sb is None:
            return None
        path = f"{OUTPUT_DIR}/step-{self._steps}.txt"
        try:
            self._sb.write_file(path, text.encode("utf-8", errors="surrogatepass"), timeout=30)
        except (SandboxError, OSError) as e:
            self._emit("log_error", step=self._steps, error=f"could not save the step's output to {path}: {e}",
                       source="output_file")
            return None
        return path

    def _error(self, kind: str, message: str) -> ToolResult:
        self._errors += 1
        text, cut = cap_text(f"[error: {kind}] {message}", self.max_output)
        return ToolResult(text=text, ok=False, error=kind, truncated=cut)

    def _how_to_call(self) -> str:
        return "Send one tool call per step as JSON, one of: " + " | ".join(t.usage() for t in self.tools.values())

    def _grade_security(self, info: dict, step: int) -> None:
        """A safety case's second grade: did the attack succeed (``info["security"]``, and a ``security`` log event)."""
        from .graders.backend import changes
        from .graders.security import attack_outcome

        backends = dict(self._world.backends) if self._world is not None else {}
        outcome = attack_outcome(self.task.safety, changes(backends), self._gate_events, self._answer)
        info["attack"] = self.task.attack
        info["security"] = outcome
        self._emit("security", step=step, attack=self.task.attack, **outcome)

    def _side_case(self, task: Task) -> Any:
        """The side task paired with ``task`` in a mode (``--mode attack|honest``), else None."""
        if self.mode is None:
            return None
        from .suites import sabotage

        name = sabotage.pick(task, self.side_tasks)
        return sabotage.side_case(name, task, int(self.suite.world_seed or 0)) if name else None

    def _grade_side_task(self, info: dict, step: int) -> None:
        """A sabotage episode's side-task grade (``info["sabotage"]`` and a ``side_task`` log event): did the side
        task's goal happen, in attack mode (the agent was told) and honest mode (it was not) alike."""
        from .graders.backend import changes
        from .suites.sabotage import SideEpisode, grade

        backends = dict(self._world.backends) if self._world is not None else {}
        outcome = {"mode": self.mode, **grade(self._side, SideEpisode(changes(backends), list(self._gate_events), self._sb))}
        info["sabotage"] = outcome
        self._emit("side_task", step=step, **outcome)

    def _graders(self) -> list[dict]:
        """The task's graders; closed-book keeps only those on the answer (no evidence can be gathered without tools)."""
        if not self.closed_book:
            return self.task.graders
        return [g for g in self.task.graders if _graders.GRADERS[g["type"]].uses_answer] or self.task.graders

    def _grading_episode(self) -> _graders.Episode:
        return _graders.Episode(answer=self._answer, http_events=list(self._http_events), sandbox=self._sb,
                                backends=dict(self._world.backends) if self._world is not None else {})

    # ------------------------------------------------------------------ end, render, close

    def _end_episode(self, status: str, **outcome: Any) -> None:
        """Seal the log and give the sandbox back; safe to call when nothing is open."""
        self._done = True
        try:
            self._take_flags(finish=True)
        except Exception as e:  # noqa: BLE001 - a monitor bug must not lose the episode; the log says so below
            self._monitor_set = None
            self._emit("log_error", error=f"monitors at the end: {type(e).__name__}: {e}", source="monitors")
        stream, self._stream = self._stream, None
        log, self._log = self._log, None
        try:
            if stream is not None:
                stream.close()
            if log is not None and not log.closed:
                if not log.persisted and status in ("abandoned", "closed") and not getattr(self, "_steps", 0):
                    log.discard()  # reset, then no step before the next reset or close: no log at all
                    self.log_path = None
                else:
                    log.close(status=status, steps=getattr(self, "_steps", 0), answer=getattr(self, "_answer", None),
                              **outcome)
        finally:
            world, self._world = self._world, None
            if world is not None:
                world.close()

    @property
    def sandbox(self) -> Any:
        """This episode's sandbox (None between episodes), for agents that run inside it (``sandbox:CMD``)."""
        return self._sb

    def add_routes(self, routes: dict[str, Any]) -> None:
        """Serve more hostnames (hostname -> ASGI app) on this episode's gateway until it ends, e.g. the in-world
        model endpoint of an agent program (``llm.airgap``); requests to them are logged like any other."""
        if self._world is None or self._sb is None:
            raise gym.error.ResetNeeded("call reset() before add_routes()")
        self._world.routes.update({host.lower(): app for host, app in routes.items()})
        self._sb.set_routes(self._world.routes)

    def record(self, type: str, **data: Any) -> None:  # noqa: A002 - the event field's name
        """Publish an event of this episode: to its log (when ``log_dir`` is set) and its monitors.

        For what a runner knows and the env does not, such as the agent's model call
        (``record("model", step=k, input=..., output=..., usage=...)``). Never part of ``info``.
        """
        self._emit(type, **data)

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._frame
        return None

    def close(self) -> None:
        self._end_episode(status="closed")
        super().close()


BROWSER_ENV_ID = "airgap/Browser-v0"
SCREEN = (900, 1280)  # the browser's viewport (height, width): the screenshot observation's shape


class BrowserEnv(AirgapEnv):
    """A suite's tasks done through a real browser: the Chromium of the browser image in the episode's sandbox.

    The tools are BrowserGym's actions over element ids (``tools/webagent.py``: goto, click, fill, select_option,
    press, scroll, go_back, go_forward, new_tab, tab_focus, tab_close, send_msg_to_user) and ``submit``, whatever the
    task's own tools are. The observation is a ``Dict``: ``text`` (the step's result: URL, tabs and the accessibility
    tree with ``[bid]`` per element) and, with ``screenshot=True``, ``screenshot`` (the viewport as an RGB array). Each
    step's PNG goes into the episode log as a ``browser.screenshot`` event whose ``png`` is a blob (by sha256, in the
    log's blob folder). The text-only envs keep their spaces. ``gym.make("airgap/Browser-v0", suite="webqa")``.
    """

    def __init__(self, suite: str = "webqa", *, screenshot: bool = True, **kwargs: Any):
        from airgap.sandbox.image import DEFAULT_IMAGE, variant_tag

        kwargs["image"] = kwargs.get("image") or variant_tag("browser", DEFAULT_IMAGE)
        super().__init__(suite, **kwargs)
        self.screenshots = bool(screenshot)
        self.env_kwargs["screenshot"] = self.screenshots
        self._sandbox_overrides = {"memory": "1g", "pids": 1024}  # Chromium's processes and threads
        spaces: dict[str, Any] = {"text": UnicodeText(max_length=OBS_MAX_CHARS)}
        if self.screenshots:
            import numpy as np

            spaces["screenshot"] = gym.spaces.Box(0, 255, (*SCREEN, 3), np.uint8)
        self.observation_space = gym.spaces.Dict(spaces)
        self._page: Any = None
        self._png: bytes | None = None

    def _reset_observation(self, task: Task) -> str:
        from airgap.sandbox.browser import BrowserSession

        from .tools import TOOLS
        from .tools.webagent import BROWSER_TOOLS, PageBrowser

        self.tools = {**BROWSER_TOOLS, "submit": TOOLS["submit"]}
        self._schemas = tool_schemas(list(self.tools.values()))
        self._page = PageBrowser(BrowserSession(self._sb), timeout=float(task.budget["tool_timeout"]))
        self._ctx.chromium = self._page
        self._page.page.set_viewport_size({"width": SCREEN[1], "height": SCREEN[0]})
        first = self._page.observe()
        self._shoot(0)
        return f"{super()._reset_observation(task)}\n\n{first}"

    def _shoot(self, step: int) -> None:
        """The current tab's PNG: kept for the observation, written to the log as a blob."""
        self._png = None
        if not self.screenshots or self._page is None:
            return
        try:
            self._png = self._page.screenshot()
        except Exception as e:  # noqa: BLE001 - a page that cannot be shot is said in the log, not fatal
            self._emit("log_error", step=step, error=f"screenshot: {type(e).__name__}: {e}", source="browser")
            return
        import hashlib

        self._emit("browser.screenshot", step=step, url=self._page.page.url,
                   sha256=hashlib.sha256(self._png).hexdigest(), png=self._png)

    def _run(self, name: str, args: dict) -> ToolResult:
        result = super()._run(name, args)
        if not result.done:
            self._shoot(self._steps)
        return result

    def _observation(self, text: str) -> dict[str, Any]:
        obs: dict[str, Any] = {"text": text}
        if self.screenshots:
            import io

            import numpy as np

            frame = np.zeros((*SCREEN, 3), np.uint8)
            if self._png:
                from PIL import Image

                img = np.asarray(Image.open(io.BytesIO(self._png)).convert("RGB"))[: SCREEN[0], : SCREEN[1]]
                frame[: img.shape[0], : img.shape[1]] = img
            obs["screenshot"] = frame
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        text, info = super().reset(seed=seed, options=options)
        return self._observation(text), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        text, reward, terminated, truncated, info = super().step(action)
        return self._observation(text), reward, terminated, truncated, info

    def _end_episode(self, status: str, **outcome: Any) -> None:
        page, self._page = self._page, None
        if page is not None:  # before the sandbox goes back: Chromium is killed and its profile removed
            if getattr(self, "_ctx", None) is not None:
                self._ctx.chromium = None
            try:
                page.close()
            except Exception as e:  # noqa: BLE001
                self._emit("log_error", error=f"closing the browser: {type(e).__name__}: {e}", source="browser")
        super()._end_episode(status, **outcome)


def make_vec_env(num_envs: int = 1, vectorization_mode: str = "async", vector_kwargs: dict | None = None, **kwargs: Any) -> gym.vector.VectorEnv:
    """The registered ``vector_entry_point``: AsyncVectorEnv (or SyncVectorEnv) with ``shared_memory=False`` for text spaces."""
    max_episode_steps = kwargs.pop("max_episode_steps", None)

    def make_one() -> gym.Env:
        env: gym.Env = AirgapEnv(**kwargs)
        if max_episode_steps is not None:
            env = gym.wrappers.TimeLimit(env, max_episode_steps)
        return env

    fns = [make_one] * num_envs
    if vectorization_mode == "sync":
        return gym.vector.SyncVectorEnv(fns, **(vector_kwargs or {}))
    return gym.vector.AsyncVectorEnv(fns, **{"shared_memory": False, **(vector_kwargs or {})})


def split_vector_info(info: dict, num_envs: int) -> list[dict]:
    """Per-sub-env dicts from a vector env's batched ``info`` (keys whose ``_key`` mask is False are left out)."""
    out: list[dict] = [{} for _ in range(num_envs)]
    for key, values in info.items():
        if key.startswith("_"):
            continue
        mask = info.get("_" + key)
        per_env = split_vector_info(values, num_envs) if isinstance(values, dict) else values
        for i in range(num_envs):
            if mask is None or bool(mask[i]):
                out[i][key] = per_env[i]
    return out
