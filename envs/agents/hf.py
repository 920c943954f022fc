"""hf:PATH and vllm:PATH — a local model (from a LOCAL folder) served by the engine: shared by every worker, or loaded in this process."""
from __future__ import annotations

import json
import os
import time
from typing import Any

from airgap.envs.tools.actions import parse_tool_call_text, tool_call_format

from .chat import SYSTEM_PROMPT, ChatAgent
from .context import ContextError, fit_messages
from .engine import Request, check_model_dir, engine_for

#: Special tokens that carry a tool call in some formats: decoding keeps them (the others are dropped).
CALL_MARKERS = ("<tool_call>", "</tool_call>", "[TOOL_CALLS]", "[ARGS]", "<|python_tag|>")

#: How to write a call, per format, for models whose template does not render tools itself.
CALL_HINTS = {
    "hermes": '<tool_call>{"name": ..., "arguments": {...}}</tool_call>',
    "llama3": '{"name": ..., "parameters": {...}}',
    "mistral": '[TOOL_CALLS] [{"name": ..., "arguments": {...}}]',
    "json": '<tool_call>{"name": ..., "arguments": {...}}</tool_call>',
}


class HFAgent(ChatAgent):
    """A local causal LM. Greedy decoding by default, so runs are reproducible.

    Generation goes through :func:`airgap.envs.agents.engine.engine_for`: the evaluation's shared
    engine process when the driver started one (``$AIRGAP_ENGINES``), else the model loaded in
    this process (once per process). The prompt is the tokenizer's chat template with ``tools=``
    when it has one (Qwen, Llama 3.1+, Mistral and Hermes-style templates render tool schemas
    themselves); otherwise a plain transcript with the tool schemas as JSON. The chat is fitted
    into the model's own context length (:mod:`.context`: oldest observations cut first, with a
    marker). The reply is parsed by :func:`parse_tool_call_text` in the format the template uses.
    """

    def __init__(self, path: str, *, max_new_tokens: int = 256, device: str | None = None, do_sample: bool = False,
                 seed: int = 0, kind: str = "hf", engine: Any = None):
        super().__init__()
        path = os.path.realpath(os.path.expanduser(path))
        check_model_dir(kind, path)
        from transformers import AutoTokenizer

        self.path, self.kind = path, kind
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.engine = engine or engine_for(kind, path, device=device)
        self.context_length = int(self.engine.info["context_length"])
        self.stop_ids = set(self.engine.info.get("stop_ids") or [])
        self.format = tool_call_format(getattr(self.tokenizer, "chat_template", None))
        self.max_new_tokens, self.do_sample, self.seed = max_new_tokens, do_sample, seed
        self._template_ok: bool | None = None

    # --- prompts --------------------------------------------------------------------------------------------

    def _prompt(self, messages: list[dict] | None = None) -> str:
        messages = self.messages if messages is None else messages
        if getattr(self.tokenizer, "chat_template", None) and self._template_ok is not False:
            try:
                text = self.tokenizer.apply_chat_template(_for_template(messages), tools=self.tools or None,
                                                          add_generation_prompt=True, tokenize=False)
                self._template_ok = True
                return text
            except Exception:  # noqa: BLE001 - templates that reject tools/roles fall back to the plain transcript
                if self._template_ok:
                    raise
                self._template_ok = False
        lines = [f"system: {messages[0]['content'] if messages else SYSTEM_PROMPT}",
                 f"tools (call one as {CALL_HINTS[self.format]}):",
                 json.dumps(self.tools, ensure_ascii=False)]
        for m in messages[1:]:
            if m.get("tool_calls"):
                lines.append(f"assistant: <tool_call>{json.dumps(m['tool_calls'][0]['function'])}</tool_call>")
            else:
                lines.append(f"{m['role']}: {m.get('content') or ''}")
        return "\n".join(lines) + "\nassistant:"

    def _encode(self, messages: list[dict]) -> list[int]:
        return list(self.tokenizer(self._prompt(messages), add_special_tokens=False)["input_ids"])

    def _decode(self, ids: list[int]) -> str:
        for i, t in enumerate(ids):
            if t in self.stop_ids:
                ids = ids[:i]
                break
        text = self.tokenizer.decode(ids, skip_special_tokens=False)
        for special in getattr(self.tokenizer, "all_special_tokens", []):
            if special and special not in CALL_MARKERS:
                text = text.replace(special, "")
        return text.strip()

    def fit(self) -> tuple[list[dict], list[int], int]:
        """The messages the model is shown (fitted to its context), their token ids, and the room left to generate."""
        gen_cap = min(self.max_new_tokens, max(16, self.context_length // 4))
        budget = self.context_length - gen_cap
        try:
            msgs = fit_messages(self.messages, lambda m: len(self._encode(m)) <= budget)
        except ContextError:
            need = len(self._encode(self.messages[:2]))
            raise ContextError(f"{self.kind}:{self.path}: the system prompt, the tool schemas and the task take {need} tokens, "
                               f"but the model's context of {self.context_length} tokens leaves {budget} for the prompt "
                               f"({gen_cap} are kept for the reply); use a model with a longer context, fewer tools or a "
                               "shorter task") from None
        ids = self._encode(msgs)
        return msgs, ids, min(self.max_new_tokens, self.context_length - len(ids))

    # --- acting ---------------------------------------------------------------------------------------------

    def act(self, obs: str, info: dict) -> Any:
        self._observe(obs)
        msgs, ids, room = self.fit()
        turn = sum(1 for m in self.messages if m["role"] == "assistant")
        t0 = time.monotonic()
        new, meta = self.engine.generate(Request(ids=ids, max_new_tokens=room, do_sample=self.do_sample,
                                                 seed=self.seed * 1_000_003 + turn))
        text = self._decode(new)
        self.last_call = {"input": json.loads(json.dumps(msgs)), "output": {"role": "assistant", "content": text},
                          "usage": {"prompt_tokens": len(ids), "completion_tokens": len(new), "total_tokens": len(ids) + len(new)},
                          "latency_s": time.monotonic() - t0, "model": f"{self.kind}:{self.path}",
                          "engine": meta, "context": {"length": self.context_length, "cut": msgs != self.messages},
                          "tool_call_format": self.format}
        return self._remember(text, parse_tool_call_text(text, self.format))


def _for_template(messages: list[dict]) -> list[dict]:
    """Chat templates (Llama 3.1's, Mistral's) expect tool-call arguments as an object, not the OpenAI JSON string."""
    out = []
    for m in messages:
        if m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                args = c["function"].get("arguments")
                if isinstance(args, str):
                    try:
                        args = json.loads(args)
                    except json.JSONDecodeError:
                        pass
                calls.append({**c, "function": {**c["function"], "arguments": args}})
            m = {**m, "tool_calls": calls}
        out.append(m)
    return out
