"""The suite registry: every named suite, its gym id, its step budget and where its tasks come from.

A suite is registered by exactly one call, in its own folder (``envs/suites/<name>/__init__.py`` for the bundled
ones, any importable module for a plugin)::

    from airgap.envs.tasks import register_suite

    register_suite("office", env_id="airgap/Office-v0", max_steps=25,
                   generate="airgap.envs.suites.office.generator:generate",
                   description="Office work on the simulated services of a generated organisation.")

That call is the only place the suite is named: ``airgap tasks list``, ``load_suite("office")``, ``airgap evaluate
--suite office`` and ``gym.make("airgap/Office-v0")`` all read this registry. ``register_suite`` registers the gym id
itself (with ``max_steps`` as gymnasium's ``TimeLimit``), so registering costs nothing heavier than a dict entry:
the generator is a ``"module:function"`` string imported on first use (or a callable).

Two kinds of suite:

* **generated per world seed** (``generate=``): ``generate(seed)`` returns the suite as data, the same shape as a
  suite file (docs/task-format.md); ``load_suite(name, world_seed=N)`` checks it into a :class:`~.Suite`. Another
  seed is another organisation, other tokens, other answers. The seed also says the world's split (train, dev or
  test: ``airgap.envs.worldgen.splits``); such a suite declares its shift in a ``shift.yaml`` beside its
  generator, and ``gym.make`` serves its train worlds by default (``split="test"`` for the others).
* **fixed** (``file=``): a YAML suite file shipped in the suite's folder (``webqa`` over the bundled snapshot).
  ``world_seed`` does not apply.

Plugins: modules named in ``$AIRGAP_PLUGINS`` (comma-separated) or in the ``airgap.plugins`` entry-point group are
imported when ``airgap.envs`` is imported, in every process (evaluation workers too), so a suite, backend or
monitor defined outside this package registers itself exactly like a bundled one.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

#: Serves any suite file: gym.make("airgap/Suite-v0", suite="my_tasks.yaml"). Its step budget is the suite's own.
GENERIC_ENV_ID = "airgap/Suite-v0"
#: what gymnasium builds for every registered id (see register_suite)
ENTRY_POINT = "airgap.envs.env:AirgapEnv"
VECTOR_ENTRY_POINT = "airgap.envs.env:make_vec_env"


@dataclass(frozen=True)
class SuiteSpec:
    """One registered suite: what ``register_suite`` was told."""

    name: str
    env_id: str
    max_steps: int
    generate: str | Callable[[int], dict] | None = None  # "module:function" or a callable: seed -> suite data
    file: Path | None = None  # a fixed suite file
    description: str = ""

    @property
    def per_seed(self) -> bool:
        """Whether each world seed gives another suite (a generator), rather than one fixed file."""
        return self.generate is not None

    def data(self, world_seed: int) -> dict[str, Any]:
        """The suite as data for ``world_seed`` (generated suites only), each task put in one of its split's
        framings (``variant`` records which: ``airgap.envs.worldgen.splits.frame``)."""
        fn = self.generate
        if isinstance(fn, str):
            module, _, attr = fn.partition(":")
            fn = getattr(importlib.import_module(module), attr)
        assert callable(fn)
        data = fn(world_seed)
        if not isinstance(data, dict) or not isinstance(data.get("tasks"), list):
            return data  # the suite check says what is wrong
        # new task dicts, never the generator's own (it may cache what it returns)
        return {**data, "tasks": [_framed(world_seed, raw) for raw in data["tasks"]]}


def _framed(world_seed: int, raw: Any) -> Any:
    """A generated task with its instruction put in one of its world's framings (and ``variant`` naming it)."""
    from airgap.envs.worldgen.splits import frame

    if not isinstance(raw, dict) or not isinstance(raw.get("instruction"), str) or "variant" in raw:
        return raw
    instruction, variant = frame(world_seed, raw["instruction"])
    return {**raw, "instruction": instruction, "variant": variant}


SUITES: dict[str, SuiteSpec] = {}


def register_suite(name: str, *, env_id: str, max_steps: int, generate: str | Callable[[int], dict] | None = None,
                   file: str | Path | None = None, description: str = "") -> SuiteSpec:
    """Register suite ``name`` and its gym id ``env_id``; exactly one of ``generate`` and ``file``.

    ``max_steps`` is the largest step budget of any of the suite's tasks (a test checks it against the generated
    suite): gymnasium's ``TimeLimit`` truncates there. Registering a name or env id twice is an error.
    """
    import gymnasium as gym

    if not name or "/" in name or name.endswith((".yaml", ".yml")):
        raise ValueError(f"suite name {name!r}: a short name without '/' or a .yaml suffix (those mean a file path)")
    if (generate is None) == (file is None):
        raise ValueError(f"suite {name!r}: give exactly one of generate= (seed -> suite data) and file= (a YAML file)")
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"suite {name!r}: max_steps must be a positive int, got {max_steps!r}")
    if name in SUITES:
        raise ValueError(f"a suite named {name!r} is already registered ({SUITES[name].env_id})")
    if env_id in gym.registry or any(s.env_id == env_id for s in SUITES.values()):
        raise ValueError(f"env id {env_id!r} is already registered; pick another for suite {name!r}")
    spec = SuiteSpec(name=name, env_id=env_id, max_steps=max_steps, generate=generate,
                     file=Path(file).resolve() if file is not None else None, description=description)
    SUITES[name] = spec
    gym.register(
        id=env_id,
        entry_point=ENTRY_POINT,
        # gym.make_vec(id, num_envs=n) with no mode: AsyncVectorEnv(shared_memory=False), the right choice for text.
        # With vectorization_mode="async" gymnasium builds AsyncVectorEnv itself, with shared memory on:
        # UnicodeText registers a lossless shared-memory layout, so that works too. (A `vector_kwargs` default in
        # `kwargs` would break the "sync" and default modes.)
        vector_entry_point=VECTOR_ENTRY_POINT,
        max_episode_steps=max_steps,
        # a generated suite made through gym (RL, the training bridges) serves train worlds unless told otherwise:
        # gym.make("airgap/Office-v0", world_seed=3) is train world 3; split="test" asks for the test worlds
        kwargs={"suite": name, **({"split": "train"} if generate is not None else {})},
    )
    return spec


def register_generic_env() -> None:
    """Register ``airgap/Suite-v0``, which serves any suite file given as ``suite=`` (once per process)."""
    import gymnasium as gym

    if GENERIC_ENV_ID not in gym.registry:
        gym.register(id=GENERIC_ENV_ID, entry_point=ENTRY_POINT, vector_entry_point=VECTOR_ENTRY_POINT)
    # the same suites done through the sandbox's real browser (observations: text and a screenshot)
    if "airgap/Browser-v0" not in gym.registry:
        gym.register(id="airgap/Browser-v0", entry_point="airgap.envs.env:BrowserEnv")


def suite_spec(name: str) -> SuiteSpec | None:
    """The registered suite ``name``, or None."""
    return SUITES.get(str(name))


def at_level(suite: str, level: str | None) -> str:
    """The suite that is ``suite``'s ``level`` (``office`` + ``hard`` is ``office-hard``); ``None`` is the suite.
    ValueError, listing the suite's levels, when there is no such level."""
    if not level:
        return suite
    name = f"{suite}-{level}"
    if name in SUITES:
        return name
    levels = sorted(n[len(suite) + 1:] for n in SUITES if n.startswith(suite + "-"))
    raise ValueError(f"suite {suite!r} has no level {level!r}; its levels: "
                     + (", ".join(levels) if levels else "none (it is one level)"))


def load_plugins() -> list[str]:
    """Import the modules named in ``$AIRGAP_PLUGINS`` and the ``airgap.plugins`` entry points; their names.

    A plugin that fails to import is an error naming it (an evaluation must not silently run without the suite,
    backend or monitor the user asked for)."""
    import os
    from importlib.metadata import entry_points

    names = [m.strip() for m in os.environ.get("AIRGAP_PLUGINS", "").split(",") if m.strip()]
    names += [ep.value.split(":", 1)[0] for ep in entry_points(group="airgap.plugins")]
    for module in names:
        try:
            importlib.import_module(module)
        except Exception as e:
            raise ImportError(f"airgap plugin {module!r} (from $AIRGAP_PLUGINS or the airgap.plugins entry points) "
                              f"failed to import: {type(e).__name__}: {e}") from e
    return names
