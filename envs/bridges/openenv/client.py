"""The typed OpenEnv client of an Airgap server (OpenEnv's ``EnvClient``), named as OpenEnv's discovery expects.

OpenEnv's discovery reads this package's ``openenv.yaml`` (name ``airgap``) and looks for ``AirgapEnv``,
``AirgapAction`` and ``AirgapObservation`` in ``<package>.client``: this module. ``AirgapEnv`` here is the client (a
WebSocket session with a server), not :class:`airgap.envs.env.AirgapEnv`, the gym env that the server runs.

    async with AirgapEnv(base_url="http://127.0.0.1:8000") as env:
        r = await env.reset(task_id="webqa-001")
        r = await env.step(AirgapAction(tool="search", args={"query": "lru_cache maxsize"}))
"""
from __future__ import annotations

from typing import Any

from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient

from .models import AirgapAction, AirgapObservation, AirgapState

__all__ = ["AirgapAction", "AirgapEnv", "AirgapObservation", "AirgapState"]


class AirgapEnv(EnvClient[AirgapAction, AirgapObservation, AirgapState]):
    """A session with ``airgap openenv serve``: ``reset(seed=, task_id=)``, ``step(AirgapAction | dict)``, ``state()``."""

    def _step_payload(self, action: AirgapAction | dict) -> dict[str, Any]:
        if isinstance(action, dict):
            action = AirgapAction(**action)
        return action.model_dump()

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[AirgapObservation]:
        obs = AirgapObservation(**payload.get("observation", {}), reward=payload.get("reward"), done=bool(payload.get("done")))
        return StepResult(observation=obs, reward=payload.get("reward"), done=bool(payload.get("done")))

    def _parse_state(self, payload: dict[str, Any]) -> AirgapState:
        return AirgapState(**payload)
