"""Agents: spec parsing, the tool-call parser, a real transformers model from a local folder, and an
OpenAI-compatible endpoint served by the test itself on loopback."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from envs_helpers import MINI

from airgap.envs.agents import ChatAgent, NoopAgent, OracleAgent, RandomAgent, make_agent
from airgap.envs.tools import TOOLS, parse_action, parse_tool_call_text, tool_schemas, toolset

INFO = {"task_id": "mini-code", "suite": "mini", "tools": tool_schemas(toolset(["shell", "python"]))}


def test_make_agent_specs():
    assert isinstance(make_agent("oracle"), OracleAgent)
    assert isinstance(make_agent("noop"), NoopAgent)
    assert isinstance(make_agent("random:3"), RandomAgent)
    assert isinstance(make_agent("openai:http://127.0.0.1:1/v1#m"), ChatAgent)
    for bad in ("nope", "openai:127.0.0.1#m", "openai:http://x/v1", "hf:"):
        with pytest.raises(ValueError):
            make_agent(bad)
    with pytest.raises(FileNotFoundError, match="local model folder"):
        make_agent("hf:/no/such/model")


def test_oracle_replays_and_noop_submits_nothing():
    agent = make_agent("oracle", suite=MINI)
    agent.reset("obs", INFO)
    assert agent.act("", INFO) == {"tool": "python", "args": {"code": "print(sorted('banana'))"}}
    assert agent.act("", INFO)["tool"] == "submit"
    assert NoopAgent().act("", INFO) == {"tool": "submit", "args": {"answer": ""}}


def test_random_agent_is_seeded_and_mixes_valid_and_broken_actions():
    def run(seed):
        a = RandomAgent(seed)
        a.reset("", INFO)
        return [json.dumps(a.act("", INFO), sort_keys=True, default=str) for _ in range(300)]

    acts = run(7)
    assert acts == run(7) and acts != run(8)
    kinds = set()
    for raw in run(7):
        try:
            name, args = parse_action(json.loads(raw))
            tool = TOOLS.get(name)
            kinds.add("valid" if tool and not tool.validate(args) else "bad_args")
        except Exception as e:  # noqa: BLE001
            kinds.add(getattr(e, "kind", "other"))
    assert {"valid", "bad_args", "bad_json", "bad_action"} <= kinds


@pytest.mark.parametrize("text,expected", [
    ('<tool_call>{"name": "shell", "arguments": {"command": "ls"}}</tool_call>', {"tool": "shell", "args": {"command": "ls"}}),
    ('I will look.\n<tool_call>\n{"name": "search", "arguments": "{\\"query\\": \\"x\\"}"}\n', {"tool": "search", "args": {"query": "x"}}),
    ('Sure: {"tool": "submit", "args": {"answer": "42"}} done', {"tool": "submit", "args": {"answer": "42"}}),
    ('{"type": "function", "function": {"name": "find", "arguments": {"pattern": "a"}}}', {"tool": "find", "args": {"pattern": "a"}}),
    ("no call here {not json}", None),
])
def test_parse_tool_call_text(text, expected):
    assert parse_tool_call_text(text) == expected


# ---------------------------------------------------------------------------- a real local HF model

CALL = '{"name": "submit", "arguments": {"answer": "42"}}'
CHAIN = ["<|assistant|>", "<tool_call>", CALL, "</tool_call>", "<|end|>"]
TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] or '' }} {% endfor %}"
    "{% if tools %}<|tools|> {{ tools | tojson }} {% endif %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A GPT-2 built from a config and a word-level tokenizer trained here, saved to a folder.

    Its weights are set by hand so that greedy decoding walks CHAIN (each token's successor):
    the embeddings are one-hot, attention and MLP are zeroed (the residual stream carries the
    embedding through), and the untied LM head maps token i to its successor. So the agent's
    loading, chat templating, generation and parsing all run for real and the output is known.
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(["the user asks a question and the system answers"], trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="<|end|>", pad_token="<|end|>")
    fast.add_special_tokens({"additional_special_tokens": ["<|system|>", "<|user|>", "<|tool|>", "<|tools|>", "<|assistant|>"]})
    fast.add_tokens(CHAIN[1:4])  # ordinary tokens: decoding keeps them
    fast.chat_template = TEMPLATE
    vocab = len(fast)
    d = max(32, ((vocab + 3) // 4) * 4)
    cfg = GPT2Config(vocab_size=vocab, n_embd=d, n_layer=1, n_head=4, n_positions=4096, tie_word_embeddings=False,
                     bos_token_id=fast.eos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
    model = GPT2LMHeadModel(cfg)
    with torch.no_grad():
        for p in model.transformer.h.parameters():
            p.zero_()
        model.transformer.wpe.weight.zero_()
        model.transformer.wte.weight.copy_(torch.eye(vocab, d))
        model.lm_head.weight.zero_()
        ids = fast.convert_tokens_to_ids(CHAIN)
        for a, b in zip(ids, ids[1:], strict=False):
            model.lm_head.weight[b, a] = 10.0
    path = tmp_path_factory.mktemp("tiny-gpt2")
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return str(path)


def test_hf_agent_generates_and_parses_a_tool_call(tiny_model_dir):
    agent = make_agent(f"hf:{tiny_model_dir}")
    assert isinstance(agent, ChatAgent) and agent.model.kind == "hf"
    agent.reset("What is 6*7?", INFO)
    action = agent.act("What is 6*7?", INFO)
    assert action["type"] == "function" and parse_action(action) == ("submit", {"answer": "42"})
    call = agent.last_call
    assert call["usage"]["completion_tokens"] >= 3 and call["input"][1]["content"] == "What is 6*7?"
    # the next turn carries the tool result back in the chat, and the prompt renders the tools
    agent.act("submitted: 42", INFO)
    assert agent.messages[3] == {"role": "tool", "tool_call_id": "call_0", "name": "submit", "content": "submitted: 42"}
    assert '"name": "shell"' in agent.model.prompt(agent.messages, agent.tools)


# ---------------------------------------------------------------------------- an OpenAI-compatible endpoint


class _FakeChat(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions: a structured tool call first, then a call written in the content."""

    requests: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        type(self).requests.append({"path": self.path, "body": body})
        if len(type(self).requests) == 1:
            msg = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "python", "arguments": '{"code": "print(6*7)"}'}}]}
        else:
            msg = {"role": "assistant", "content": 'Done. <tool_call>{"name": "submit", "arguments": {"answer": "42"}}</tool_call>'}
        out = json.dumps({"choices": [{"message": msg}], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def test_openai_agent_against_a_loopback_server():
    server = HTTPServer(("127.0.0.1", 0), _FakeChat)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        agent = make_agent(f"openai:http://127.0.0.1:{server.server_port}/v1#tiny")
        agent.reset("What is 6*7?", INFO)
        a1 = agent.act("What is 6*7?", INFO)
        assert parse_action(a1) == ("python", {"code": "print(6*7)"})
        a2 = agent.act("[exit code 0]\n42", INFO)
        assert parse_action(a2) == ("submit", {"answer": "42"})
        first, second = _FakeChat.requests
        assert first["path"] == "/v1/chat/completions" and first["body"]["model"] == "tiny"
        assert [t["function"]["name"] for t in first["body"]["tools"]] == ["shell", "python", "submit"]
        assert second["body"]["messages"][-1] == {"role": "tool", "tool_call_id": "c1", "name": "python", "content": "[exit code 0]\n42"}
        assert agent.last_call["usage"]["total_tokens"] == 15
    finally:
        server.shutdown()
