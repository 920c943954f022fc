"""hf:PATH — a transformers causal LM and tokenizer loaded from a local folder."""
from __future__ import annotations

import json
import os
import time
from typing import Any

from airgap.envs.tools import parse_tool_call_text

from .chat import SYSTEM_PROMPT, ChatAgent


class HFAgent(ChatAgent):
    """A local transformers causal LM. Greedy decoding by default, so runs are reproducible.

    The prompt is the tokenizer's chat template with ``tools=`` when it has one (Qwen,
    Llama 3.1+, Mistral and Hermes-style templates render tool schemas themselves);
    otherwise a plain transcript with the tool schemas as JSON. The reply is parsed by
    :func:`parse_tool_call_text`.
    """

    def __init__(self, path: str, *, max_new_tokens: int = 256, device: str | None = None, do_sample: bool = False, seed: int = 0):
        super().__init__()
        if not os.path.isdir(path):
            raise FileNotFoundError(f"hf agent: {path} is not a folder; give a local model folder (config.json, weights, tokenizer files)")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.path = path
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype).to(self.device).eval()
        self.max_new_tokens, self.do_sample, self.seed = max_new_tokens, do_sample, seed

    def _prompt(self) -> str:
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            try:
                return tok.apply_chat_template(self.messages, tools=self.tools or None, add_generation_prompt=True, tokenize=False)
            except Exception:  # noqa: BLE001 - templates that reject tools/roles fall back to the plain transcript
                pass
        lines = [f"system: {SYSTEM_PROMPT}",
                 "tools (call one as <tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call>):",
                 json.dumps(self.tools, ensure_ascii=False)]
        for m in self.messages[1:]:
            if m.get("tool_calls"):
                lines.append(f"assistant: <tool_call>{json.dumps(m['tool_calls'][0]['function'])}</tool_call>")
            else:
                lines.append(f"{m['role']}: {m.get('content') or ''}")
        return "\n".join(lines) + "\nassistant:"

    def act(self, obs: str, info: dict) -> Any:
        self._observe(obs)
        torch = self.torch
        prompt = self._prompt()
        enc = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        limit = getattr(self.model.config, "max_position_embeddings", None) or 4096
        keep = max(8, limit - self.max_new_tokens)
        input_ids = enc["input_ids"][:, -keep:].to(self.device)  # keep the most recent context
        attention = torch.ones_like(input_ids)
        t0 = time.monotonic()
        torch.manual_seed(self.seed)
        with torch.no_grad():
            out = self.model.generate(
                input_ids=input_ids, attention_mask=attention, max_new_tokens=self.max_new_tokens, do_sample=self.do_sample,
                pad_token_id=self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id,
            )
        new = out[0, input_ids.shape[1]:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        self.last_call = {"input": json.loads(json.dumps(self.messages)), "output": {"role": "assistant", "content": text},
                          "usage": {"prompt_tokens": int(input_ids.shape[1]), "completion_tokens": int(new.shape[0]),
                                    "total_tokens": int(input_ids.shape[1] + new.shape[0])},
                          "latency_s": time.monotonic() - t0, "model": self.path}
        return self._remember(text, parse_tool_call_text(text))

