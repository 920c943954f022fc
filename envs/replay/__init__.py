"""Replay: read an episode log back as steps, re-run it against a fresh env, fork it, render it.

Why a separate module from :mod:`airgap.envs.logs`: the log module is about
bytes on disk (format, chain, crash safety) and has no dependency on gymnasium or
on the env; this module is about *meaning* (what step did what) and is where the env
comes in. Three layers, each usable alone:

* :func:`load_episode` (from :mod:`airgap.envs.logs.episode`, where the evaluation report reads episodes too) turns a log into an :class:`Episode`: the header, the ``reset``
  event, and one :class:`Step` per action with everything that step caused (model call,
  validation, sandbox execs and HTTP requests, observation, flags, rewards).
* :func:`rerun` builds a fresh env from the header (``gymnasium.make(env_id, **env_kwargs)``,
  ``reset(seed=seed, options={"task_id": task_id})``), feeds it the logged actions
  unchanged, and compares each observation, reward, ``terminated`` and ``truncated``
  with the logged ones. The first difference is a :class:`Divergence`.
* :func:`fork` re-runs to step K, then hands the env to an agent from
  :func:`airgap.envs.agents.make_agent`, recording a new log whose header names its parent.

:func:`render_html` (one self-contained HTML page, :mod:`airgap.envs.logs.html`) is exported here too; the
terminal transcript is in :mod:`airgap.envs.cli.replay`. Layer order: logs < runner < replay: replay imports the
runner's agent loop, and the runner never imports replay.
"""
from __future__ import annotations

from airgap.envs.logs.episode import Episode, ReplayError, Step, load_episode, observation_text
from airgap.envs.logs.html import render_html

from .rerun import Divergence, ForkResult, RerunResult, fork, make_env_from_header, rerun, world_changes

__all__ = ["Divergence", "Episode", "ForkResult", "ReplayError", "RerunResult", "Step", "fork", "load_episode",
           "make_env_from_header", "observation_text", "render_html", "rerun", "world_changes"]
