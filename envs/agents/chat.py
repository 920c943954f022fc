"""Chat bookkeeping shared by model agents: the history in OpenAI message format, one tool call per turn."""
from __future__ import annotations

import json
from typing import Any

SYSTEM_PROMPT = (
    "You are an agent in an offline sandboxed world. Solve the task with the tools you are given, "
    "one tool call per turn. When you know the answer, call submit with it."
)



class ChatAgent:
    """Shared chat bookkeeping for model agents: history in OpenAI format, one tool call per turn."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.tools: list[dict] = []
        self._pending: dict | None = None  # the tool call whose result the next obs is
        self.last_call: dict | None = None
        self._pending_obs: str | None = None  # the result of a replayed call, added when the next turn starts

    def reset(self, obs: str, info: dict) -> None:
        self.tools = json.loads(json.dumps(info.get("tools", [])))
        self.messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": obs}]
        self._pending = None
        self._pending_obs = None

    def _observe(self, obs: str) -> None:
        """Add the observation that answers the last turn (a tool result, or a user message)."""
        self._pending_obs = None  # act() is handed the observation the last replayed step produced: the same text
        if self._pending is not None:
            self.messages.append({"role": "tool", "tool_call_id": self._pending["id"], "name": self._pending["function"]["name"], "content": obs})
        elif len(self.messages) > 2 or self.messages[-1]["role"] != "user":
            self.messages.append({"role": "user", "content": obs})
        self._pending = None

    def _remember(self, content: str, call: dict | None, call_id: str | None = None) -> Any:
        """Record the assistant turn; return the action for the env."""
        n = sum(1 for m in self.messages if m["role"] == "assistant")
        if call is None:
            self.messages.append({"role": "assistant", "content": content})
            return content  # the env answers with an error that says how to call a tool
        item = {"id": call_id or f"call_{n}", "type": "function",
                "function": {"name": call["tool"], "arguments": json.dumps(call["args"], ensure_ascii=False) if not isinstance(call["args"], str) else call["args"]}}
        self.messages.append({"role": "assistant", "content": content or None, "tool_calls": [item]})
        self._pending = item
        return item

    def observe(self, action: Any, obs: str, info: dict) -> None:
        """Take a step chosen elsewhere (a replayed prefix) into the history as if this agent had made it."""
        from airgap.envs.tools import ActionError, parse_action

        if self._pending_obs is not None:
            self._observe(self._pending_obs)  # the previous replayed call's result
        try:
            name, args = parse_action(action)
            self._remember("", {"tool": name, "args": args})
        except ActionError:
            self._remember(action if isinstance(action, str) else json.dumps(action, default=str), None)
        self._pending_obs = obs

