"""Tiny local models for the tests: a tokenizer trained here, random weights from a config, a chat template per tool-call format.

``make_tiny_model(folder, fmt)`` writes a folder that ``hf:FOLDER`` loads like any model: a
byte-level BPE tokenizer trained on a few paragraphs (so any text tokenizes), the special tokens
and a condensed chat template of the family the format comes from (Qwen/Hermes ``<tool_call>``,
Llama 3.x JSON with ``"parameters"``, Mistral ``[TOOL_CALLS]``), and a Llama-architecture model
with random weights. Nothing is downloaded. Its replies are noise; what it is for is the
plumbing (templating, context fitting, batching, parsing) with real tokenizers and real forward
passes.
"""
from __future__ import annotations

import json
import os
from typing import Any

HERMES = r"""{%- if tools %}<|im_start|>system
{{ messages[0]['content'] if messages[0]['role'] == 'system' else 'You are a helpful assistant.' }}

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>{% for tool in tools %}
{{ tool | tojson }}{% endfor %}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call><|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message['role'] == 'system' %}{% if not tools %}<|im_start|>system
{{ message['content'] }}<|im_end|>
{% endif %}
{%- elif message['role'] == 'user' %}<|im_start|>user
{{ message['content'] }}<|im_end|>
{% elif message['role'] == 'assistant' %}<|im_start|>assistant
{% if message['content'] %}{{ message['content'] }}{% endif %}
{%- for tc in message['tool_calls'] or [] %}
<tool_call>
{"name": "{{ tc['function']['name'] }}", "arguments": {{ tc['function']['arguments'] | tojson }}}
</tool_call>{% endfor %}<|im_end|>
{% elif message['role'] == 'tool' %}<|im_start|>user
<tool_response>
{{ message['content'] }}
</tool_response><|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}"""

LLAMA3 = r"""{{- bos_token }}<|start_header_id|>system<|end_header_id|>

{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}{% endif %}<|eot_id|>
{%- for message in messages %}
{%- if message['role'] == 'user' %}<|start_header_id|>user<|end_header_id|>

{% if tools and loop.index0 == 1 %}Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.

Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}. Do not use variables.

{% for t in tools %}{{ t | tojson }}

{% endfor %}{% endif %}{{ message['content'] }}<|eot_id|>
{%- elif message['role'] == 'assistant' and message['tool_calls'] %}<|start_header_id|>assistant<|end_header_id|>

{% for tc in message['tool_calls'] %}{"name": "{{ tc['function']['name'] }}", "parameters": {{ tc['function']['arguments'] | tojson }}}{% endfor %}<|eot_id|>
{%- elif message['role'] == 'assistant' %}<|start_header_id|>assistant<|end_header_id|>

{{ message['content'] }}<|eot_id|>
{%- elif message['role'] == 'tool' %}<|start_header_id|>ipython<|end_header_id|>

{{ message['content'] }}<|eot_id|>
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>

{% endif %}"""

MISTRAL = r"""{{- bos_token }}{% if tools %}[AVAILABLE_TOOLS] {{ tools | tojson }}[/AVAILABLE_TOOLS]{% endif %}
{%- for message in messages %}
{%- if message['role'] == 'user' %}[INST] {% if loop.index0 == 1 and messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}

{% endif %}{{ message['content'] }}[/INST]
{%- elif message['role'] == 'assistant' and message['tool_calls'] %}[TOOL_CALLS] [
{%- for tc in message['tool_calls'] %}{"name": "{{ tc['function']['name'] }}", "arguments": {{ tc['function']['arguments'] | tojson }}, "id": "{{ tc['id'] }}"}{% if not loop.last %}, {% endif %}{% endfor %}]{{ eos_token }}
{%- elif message['role'] == 'assistant' %}{{ message['content'] }}{{ eos_token }}
{%- elif message['role'] == 'tool' %}[TOOL_RESULTS] {"content": {{ message['content'] | tojson }}, "call_id": "{{ message['tool_call_id'] }}"}[/TOOL_RESULTS]
{%- endif %}
{%- endfor %}"""

#: format -> (chat template, special tokens, added non-special tokens, bos, eos, extra stop tokens)
FAMILIES: dict[str, tuple[str, list[str], list[str], str | None, str, list[str]]] = {
    "hermes": (HERMES, ["<|im_start|>", "<|im_end|>"], ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"],
               None, "<|im_end|>", []),
    "llama3": (LLAMA3, ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>", "<|python_tag|>"],
               [], "<|begin_of_text|>", "<|eot_id|>", ["<|eom_id|>"]),
    "mistral": (MISTRAL, ["<s>", "</s>", "[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]",
                          "[TOOL_RESULTS]", "[/TOOL_RESULTS]"], [], "<s>", "</s>", []),
}

CORPUS = """You are an agent in an offline sandboxed world. Solve the task with the tools you are given, one tool call
per turn. When you know the answer, call submit with it. The user asks a question and the system answers.
{"type": "function", "function": {"name": "shell", "description": "Run a shell command in the sandbox and return its
output.", "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}}
{"name": "search", "arguments": {"query": "python release date"}} {"name": "submit", "parameters": {"answer": "42"}}
total 12 drwxr-xr-x 2 agent agent 4096 Jan 1 00:00 workspace -rw-r--r-- 1 agent agent 18 data.csv a,b 1,2 3,4 5,6
Traceback (most recent call last): File "/workspace/fix.py", line 1, in <module> print('ko') NameError: name
The quick brown fox jumps over the lazy dog. 0123456789 + - * / = < > ( ) [ ] { } : ; , . ' " ! ? @ # $ % ^ & _ |
HTTP/1.1 200 OK content-type: text/html <html><head><title>Example Domain</title></head><body>Example</body></html>
"""


def make_tokenizer(fmt: str = "hermes", *, vocab_size: int = 600, extra_tokens: tuple[str, ...] = ()):
    """A byte-level BPE tokenizer trained on :data:`CORPUS`, with the specials and chat template of ``fmt``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if fmt not in FAMILIES:
        raise ValueError(f"unknown format {fmt!r}; use one of {sorted(FAMILIES)}")
    template, specials, added, bos, eos, _ = FAMILIES[fmt]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", *specials],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([CORPUS] * 4, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token=eos, bos_token=bos,
                                   additional_special_tokens=[s for s in specials if s not in (bos, eos)])
    fast.add_tokens([*added, *extra_tokens])
    fast.chat_template = template
    return fast


def make_tiny_model(folder: str | os.PathLike, fmt: str = "hermes", *, context_length: int = 2048, hidden: int = 64,
                    layers: int = 2, heads: int = 4, seed: int = 0, extra_tokens: tuple[str, ...] = (),
                    tokenizer: Any = None) -> str:
    """Write a tokenizer (``fmt``'s template) and a random-weight Llama-architecture model to ``folder``; returns its path."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    tok = tokenizer or make_tokenizer(fmt, extra_tokens=extra_tokens)
    stops = [tok.convert_tokens_to_ids(t) for t in [tok.eos_token, *FAMILIES[fmt][5]]]
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
                      num_attention_heads=heads, num_key_value_heads=max(1, heads // 2), max_position_embeddings=context_length,
                      bos_token_id=tok.bos_token_id, eos_token_id=stops[0], pad_token_id=tok.pad_token_id,
                      tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg).eval()
    model.generation_config = GenerationConfig(eos_token_id=stops, pad_token_id=tok.pad_token_id,
                                               bos_token_id=tok.bos_token_id)
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    with open(os.path.join(folder, "airgap_tiny.json"), "w", encoding="utf-8") as f:
        json.dump({"format": fmt, "context_length": context_length, "hidden": hidden, "layers": layers, "seed": seed}, f)
    return str(folder)
