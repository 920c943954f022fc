"""An Airgap suite as TRL's ``environment_factory``, its tasks as the dataset, its graders as the reward.

    from trl import GRPOConfig, GRPOTrainer
    from airgap.envs.bridges.trl.environment import airgap_reward, environment_factory, task_dataset

    trainer = GRPOTrainer(model, reward_funcs=airgap_reward, train_dataset=task_dataset("webqa"),
                          environment_factory=environment_factory("webqa", log_dir="runs/grpo/logs"), args=GRPOConfig(...))

What TRL (1.16) asks of an environment, and what this one does:

- TRL calls the factory with no argument for each concurrent rollout and reuses the instances (``reset`` between
  rollouts). Each instance owns one :class:`~airgap.envs.env.AirgapEnv` (made at its first reset); each reset takes a
  sandbox from the process's pool, the next reset (or the instance's end) gives it back and seals the episode's log.
- ``reset(**row)`` gets the dataset row: its ``task_id`` and ``seed`` start that task's episode; the observation
  returned (the task's instruction, as every Airgap agent sees it) is appended by TRL to the row's last user message.
- Every other public method is a tool the model may call: one per tool of the suite, with the tool's own signature and
  Google-style docstring, so the JSON schema TRL renders (transformers' ``get_json_schema``) is the one Airgap gives
  every agent. A call is one ``env.step``: validated against the schema (a bad call is an error observation), logged,
  budgeted and seen by the monitors, as in ``airgap evaluate``.
- The reward is :func:`airgap_reward`, the graders' reward at submit. A rollout that ends without a ``submit`` (the
  model answered in text) has its last assistant text submitted as its answer, so the graders judge what the model
  said; the log records it (a ``trl_final_text`` event before that ``submit``). ``submit_final_text=False`` scores
  such a rollout 0.0 instead, as an Airgap episode that runs out of budget.
"""
from __future__ import annotations

import inspect
import typing
import weakref
from typing import Any

#: The system prompt of the dataset's rows: the chat agent's, so a model trained here meets the prompt it is evaluated with.
from airgap.envs.agents.chat import SYSTEM_PROMPT


class AirgapToolEnv:
    """One rollout's Airgap episode (TRL's environment); :func:`environment_factory` makes the class of a suite, with
    the suite's tools as its methods. After a rollout: ``reward`` (None until the episode ends), ``done``, ``task_id``,
    ``steps`` (tool calls), ``log_path`` (when the factory was given ``log_dir``)."""

    _config: dict[str, Any] = {}  # set on each suite's class by environment_factory

    def __init__(self) -> None:
        self._env: Any = None
        self.task_id: str | None = None
        self.reward: float | None = None
        self.done = False
        self.steps = 0
        self.info: dict = {}

    def _gym(self) -> Any:
        if self._env is None:
            import gymnasium as gym

            import airgap.envs  # noqa: F401 - registers the gym ids
            from airgap.envs.runner.evaluate import env_for_suite

            env_id, kwargs = env_for_suite(self._config["suite"])
            self._env = gym.make(env_id, **{**kwargs, **self._config["env_kwargs"]})
            weakref.finalize(self, self._env.close)  # TRL never closes its environments: at the instance's end, or exit
        return self._env

    def reset(self, **row: Any) -> str:
        """Start the episode of the row's task (``task_id``; ``seed``): its observation, which TRL appends to the prompt."""
        env = self._gym()
        options = {"agent": "trl"}
        if row.get("task_id") is not None:
            options["task_id"] = row["task_id"]
        seed = row.get("seed")
        obs, info = env.reset(seed=None if seed is None else int(seed), options=options)
        self.task_id, self.reward, self.done, self.steps, self.info = info["task_id"], None, False, 0, info
        return obs

    def _call(self, tool: str, args: dict) -> str:
        if self.task_id is None:
            raise RuntimeError("reset before calling a tool")
        obs, reward, terminated, truncated, info = self._env.step({"tool": tool, "args": args})
        self.steps += 1
        self.info = info
        if terminated or truncated:
            self.done, self.reward = True, float(reward)
        return obs

    def _finish(self, final_text: str) -> float:
        """The rollout is over: its reward, submitting ``final_text`` first when the model did not submit."""
        if self.task_id is None:
            raise RuntimeError("no episode: reset was never called")
        if not self.done:
            if self._config.get("submit_final_text", True):
                self._env.unwrapped.record("trl_final_text", step=self.steps, text=final_text,
                                           note="the rollout ended without submit: its last assistant text is submitted")
                self._call("submit", {"answer": final_text})
            else:
                self.done, self.reward = True, 0.0
        return float(self.reward or 0.0)

    @property
    def log_path(self) -> str | None:
        path = getattr(self._env.unwrapped, "log_path", None) if self._env is not None else None
        return str(path) if path else None


def _tool_method(tool: Any) -> Any:
    """A method ``name(self, <the tool's parameters>) -> str`` that steps the env with that call; its signature and type
    hints are the tool handler's (less its ``ctx``), its docstring the tool's description and argument descriptions as
    Airgap gives them to every agent: what TRL turns into the tool's schema."""
    handler = tool.handler
    sig = inspect.signature(handler)
    params = list(sig.parameters.values())[1:]
    hints = typing.get_type_hints(handler)
    name = tool.name

    def method(self: AirgapToolEnv, **args: Any) -> str:
        return self._call(name, args)

    method.__name__ = method.__qualname__ = name
    props = tool.parameters.get("properties", {})
    described = "".join(f"\n    {p.name}: {props.get(p.name, {}).get('description') or p.name}" for p in params)
    method.__doc__ = tool.description + (f"\n\nArgs:{described}" if params else "")  # Airgap's words, one line each
    method.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *params], return_annotation=str)
    method.__annotations__ = {**{p.name: hints[p.name] for p in params}, "return": str}
    return method


def environment_factory(suite: str, *, task_ids: list[str] | None = None, submit_final_text: bool = True,
                        **env_kwargs: Any) -> type[AirgapToolEnv]:
    """The environment class of ``suite`` for ``GRPOTrainer(environment_factory=...)``: TRL calls it once per rollout.

    Its tool methods are every tool of the suite's tasks (``task_ids``: of those only), plus ``submit``; a task that
    does not offer a tool answers a call to it with Airgap's ``unknown_tool`` error. ``env_kwargs`` go to ``gym.make``
    (``world_seed``, ``log_dir``, ``monitors``, ``image``, ``pool_size``, ...).
    """
    from airgap.envs.tasks import load_suite
    from airgap.envs.tools import TOOLS

    loaded = load_suite(suite, world_seed=env_kwargs.get("world_seed"))
    tasks = [loaded.task(t) for t in task_ids] if task_ids else list(loaded.tasks)
    names = list(dict.fromkeys([t for task in tasks for t in task.tools] + ["submit"]))
    reserved = [n for n in names if n in ("reset", "get_reward") or n.startswith("_")]
    if reserved:
        raise ValueError(f"tool names {reserved} collide with what TRL reserves (reset, get_reward, private names)")
    if task_ids:
        env_kwargs = {**env_kwargs, "task_ids": list(task_ids)}
    config = {"suite": suite, "env_kwargs": env_kwargs, "submit_final_text": submit_final_text, "tools": names}
    cls_name = "Airgap" + "".join(p.capitalize() for p in loaded.name.replace("-", "_").split("_")) + "Env"
    return type(cls_name, (AirgapToolEnv,), {"_config": config, "__module__": __name__,
                                             **{n: _tool_method(TOOLS[n]) for n in names}})


def task_dataset(suite: str, *, task_ids: list[str] | None = None, seeds: list[int] | tuple[int, ...] = (0,),
                 world_seed: int | None = None) -> Any:
    """The suite's tasks as a ``datasets.Dataset`` for GRPO: one row per task and seed, with a conversational
    ``prompt`` (the chat agent's system prompt and an empty user turn, which the environment's ``reset`` fills with the
    task's instruction), ``task_id``, ``seed`` and the ``instruction`` (for reading; the prompt gets it from reset)."""
    from datasets import Dataset

    from airgap.envs.tasks import load_suite

    loaded = load_suite(suite, world_seed=world_seed)
    tasks = [loaded.task(t) for t in task_ids] if task_ids else list(loaded.tasks)
    rows = [{"prompt": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": ""}],
             "task_id": t.id, "seed": int(s), "instruction": t.instruction} for t in tasks for s in seeds]
    return Dataset.from_list(rows)


def _final_text(completion: Any) -> str:
    """The rollout's last assistant text: its answer when it made no tool call at the end (else empty)."""
    if isinstance(completion, str):
        return completion
    last = completion[-1] if completion else {}
    if last.get("role") != "assistant" or last.get("tool_calls"):
        return ""
    content = last.get("content") or ""
    if isinstance(content, list):  # content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def airgap_reward(completions: list, environments: list | None = None, **kwargs: Any) -> list[float]:
    """TRL reward function: each rollout's reward from Airgap's graders (its episode ended, by ``submit`` or by the
    final text submitted for it; see the module's docstring)."""
    if environments is None:
        raise ValueError("airgap_reward scores Airgap episodes: pass environment_factory=environment_factory(suite) to GRPOTrainer")
    return [env._finish(_final_text(c)) for c, env in zip(completions, environments, strict=True)]
