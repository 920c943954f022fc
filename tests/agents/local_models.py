"""Helpers shared by the local-model tests (imported by name): tiny models written once per session, prompts of many lengths."""
from __future__ import annotations

from airgap.envs.tools import tool_schemas, toolset

INFO = {"task_id": "t", "suite": "s", "tools": tool_schemas(toolset(["shell", "submit"]))}


def prompts(tokenizer, n: int) -> list[list[int]]:
    """``n`` different chat prompts of different lengths, as token ids."""
    out = []
    for i in range(n):
        msgs = [{"role": "system", "content": "You are an agent."},
                {"role": "user", "content": f"Task {i}: " + "count the lines of data.csv and say how many. " * (1 + 3 * i)}]
        out.append(tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True, return_dict=False))
    return out
