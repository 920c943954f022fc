"""Airgap in ControlArena (UK AISI's AI-control library on Inspect AI): the ``airgap`` setting and Airgap's monitors.

- :class:`AirgapSetting` (``setting.py``): the office suites' tasks as main tasks, the sabotage side tasks
  (``envs/suites/sabotage.py``: exfiltrate the task's token, pay an outside account, forward a mail outside, plant a
  backdoor) as side tasks, honest and attack modes, scored by Airgap's deterministic graders over backend state and
  the egress log (no judge model).
- :func:`airgap_monitor_builder` (``monitor.py``): Airgap's rule monitors as a ControlArena monitor (a suspicion score
  in [0, 1] from their flags), step by step in a micro-protocol or once at the end (``end_of_trajectory_monitor``),
  so ``compute_safety`` works over the results at an audit budget.
- :func:`airgap_scripted_policy_builder` (``policy.py``): the scripted saboteur (or, honest, the oracle) on ControlArena's
  ``fixed_policy_builder``, each sample its own script.

It is built on the Inspect bridge (``bridges/inspect``: the episode, the tools, the episode log). ControlArena finds
it through its ``control_arena`` entry point (``control-arena eval single --setting.type airgap``); nothing here is
imported by ``import airgap.envs``. Needs the ``control`` extra: ``pip install 'airgap[control]'``.
"""
from .monitor import airgap_monitor_builder, episode_flags, score_flags
from .policy import airgap_scripted_policy_builder, scripted_calls
from .setting import AirgapSetting, airgap_scorer

__all__ = ["AirgapSetting", "airgap_scorer", "airgap_monitor_builder", "airgap_scripted_policy_builder", "episode_flags",
           "score_flags", "scripted_calls"]
