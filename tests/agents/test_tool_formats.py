"""Tool-call formats of open models (Hermes/Qwen, Llama 3.x, Mistral): chosen from the chat template, read back from
what each template renders as the assistant's call, and parsed from a real model's generated tokens end to end."""
from __future__ import annotations

import json

import pytest
from local_models import INFO
from tiny_model import make_tiny_model, make_tokenizer

from airgap.envs.agents import make_agent
from airgap.envs.agents.hf import _for_template
from airgap.envs.tools import parse_action
from airgap.envs.tools.actions import parse_tool_call_text, tool_call_format

FORMATS = ["hermes", "llama3", "mistral"]
CALL = {"tool": "submit", "args": {"answer": "42"}}
ASSISTANT = {"role": "assistant", "content": None,
             "tool_calls": [{"id": "call9abc1", "type": "function", "function": {"name": "submit", "arguments": '{"answer": "42"}'}}]}
CHAT = [{"role": "system", "content": "You are an agent."}, {"role": "user", "content": "What is 6*7?"}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_template_names_the_format_and_its_rendered_call_parses_back(fmt):
    tok = make_tokenizer(fmt)
    assert tool_call_format(tok.chat_template) == fmt
    tools = INFO["tools"]
    before = tok.apply_chat_template(CHAT, tools=tools, add_generation_prompt=True, tokenize=False)
    after = tok.apply_chat_template(_for_template([*CHAT, ASSISTANT]), tools=tools, tokenize=False)
    assert after.startswith(before)
    reply = after[len(before):]  # the assistant's turn exactly as this model family was trained to write it
    for special in (tok.eos_token, "<|eot_id|>"):
        reply = reply.replace(special, "")
    assert parse_tool_call_text(reply, fmt) == CALL
    assert parse_tool_call_text(reply) == CALL  # every format is tried, whatever the hint


@pytest.mark.parametrize("text,fmt", [
    ('[TOOL_CALLS] [{"name": "submit", "arguments": {"answer": "42"}, "id": "abc123xyz"}]', "mistral"),
    ('[TOOL_CALLS]submit[ARGS]{"answer": "42"}', "mistral"),  # newer Mistral tokenizers
    ('<|python_tag|>{"name": "submit", "parameters": {"answer": "42"}}', "llama3"),
    ('{"name": "submit", "parameters": {"answer": "42"}}', "llama3"),
    ('Let me answer.\n<tool_call>\n{"name": "submit", "arguments": "{\\"answer\\": \\"42\\"}"}\n</tool_call>', "hermes"),
])
def test_each_format_is_parsed(text, fmt):
    assert parse_tool_call_text(text, fmt) == CALL
    with pytest.raises(ValueError, match="unknown tool-call format"):
        parse_tool_call_text(text, "xml")


# What the wired model emits after the generation prompt, per format (whole strings are single added tokens).
EMIT = {
    "hermes": ["<tool_call>", '{"name": "submit", "arguments": {"answer": "42"}}', "</tool_call>", "<|im_end|>"],
    "llama3": ["<|python_tag|>", '{"name": "submit", "parameters": {"answer": "42"}}', "<|eom_id|>"],
    "mistral": ["[TOOL_CALLS]", ' [{"name": "submit", "arguments": {"answer": "42"}, "id": "abc123xyz"}]', "</s>"],
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_model_writing_its_format_is_understood_end_to_end(fmt, tmp_path):
    """A Llama-architecture model whose weights are set so that greedy decoding writes EMIT[fmt] after the prompt:
    one-hot embeddings, attention and MLP outputs zeroed (the residual stream carries the current token), and an LM
    head that maps each token to its successor. Tokenizer, template, engine, decoding (special markers kept, stop
    tokens dropped) and parsing all run for real."""
    import torch
    from transformers import AutoModelForCausalLM

    tok = make_tokenizer(fmt, extra_tokens=tuple(t for t in EMIT[fmt] if t not in make_tokenizer(fmt).get_vocab()))
    hidden = ((len(tok) + 7) // 8) * 8
    folder = make_tiny_model(tmp_path / fmt, fmt, hidden=hidden, layers=1, tokenizer=tok)
    model = AutoModelForCausalLM.from_pretrained(folder)
    agent_prompt = tok.apply_chat_template(CHAT, tools=INFO["tools"], add_generation_prompt=True, tokenize=True, return_dict=False)
    chain = [agent_prompt[-1], *tok.convert_tokens_to_ids(EMIT[fmt])]
    assert len(set(chain)) == len(chain)
    with torch.no_grad():
        model.model.embed_tokens.weight.copy_(torch.eye(len(tok), hidden))
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.lm_head.weight.zero_()
        for a, b in zip(chain, chain[1:], strict=False):
            model.lm_head.weight[b, a] = 10.0
    model.save_pretrained(folder)

    agent = make_agent(f"hf:{folder}")
    assert agent.model.format == fmt
    agent.reset(CHAT[1]["content"], INFO)
    agent.messages[0]["content"] = CHAT[0]["content"]
    action = agent.act(CHAT[1]["content"], INFO)
    assert parse_action(action) == ("submit", {"answer": "42"})
    assert agent.last_call["usage"]["completion_tokens"] == len(EMIT[fmt])  # stopped at the format's own stop token
    assert json.loads(agent.messages[-1]["tool_calls"][0]["function"]["arguments"]) == {"answer": "42"}
