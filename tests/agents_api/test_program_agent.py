"""sandbox:CMD: an agent program inside the episode's sandbox, its model calls routed by the gateway to a host-side model.

The program is a small scripted agent (stdlib urllib) copied into /workspace; the host-side model is a
stand-in (``standin_model.StandinModel``, a real HTTP server on loopback speaking the chat-completions
shape): no real model can run on the test machine. Everything else is real: the container, the gateway's
TLS for ``llm.airgap``, the env's tool steps, its graders and its log.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from standin_model import StandinModel, call, completion

from airgap.envs.agents import make_agent

MINI = str(Path(__file__).resolve().parents[1] / "envs" / "fixtures" / "mini.yaml")

# The scripted agent program: asks the in-world model, runs the tool call it gets through the tools endpoint
# (so it is a logged, budgeted env step), writes a scratch file of its own, asks again and submits the answer.
PROGRAM = r'''
import json, os, urllib.request

base = os.environ["OPENAI_BASE_URL"]
key = os.environ["OPENAI_API_KEY"]

def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", "authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())

task = json.loads(urllib.request.urlopen(base.replace("https://", "http://") + "/task", timeout=30).read())
messages = [{"role": "user", "content": task["instruction"]}]
reply = post(base + "/chat/completions", {"model": "any", "messages": messages, "tools": task["tools"]})
msg = reply["choices"][0]["message"]
tc = msg["tool_calls"][0]
result = post(os.environ["AIRGAP_TOOLS_URL"] + "/" + tc["function"]["name"], json.loads(tc["function"]["arguments"]))
messages += [msg, {"role": "tool", "tool_call_id": tc["id"], "content": result["observation"]}]
with open("/workspace/notes.txt", "w") as f:
    f.write("scratch\n")
final = post(base + "/chat/completions", {"model": "any", "messages": messages})["choices"][0]["message"]["content"]
print("answer:", final)
post(os.environ["AIRGAP_SUBMIT_URL"], {"answer": final})
'''


def _play(sandbox_image, tmp_path, agent, task_id="mini-shell"):
    import gymnasium as gym

    import airgap.envs  # noqa: F401 - registers the ids
    from airgap.envs.logs import read_log, verify
    from airgap.envs.runner import play

    env = gym.make("airgap/Suite-v0", suite=MINI, log_dir=str(tmp_path), image=sandbox_image, pool_size=1)
    try:
        obs, info = env.reset(seed=0, options={"task_id": task_id})
        agent.reset(obs, info)
        out = play(env, agent, obs, info)
        flags = list(env.unwrapped.flags)
        log_path = env.unwrapped.log_path
    finally:
        env.close()
    assert verify(log_path).status == "ok"
    return out, read_log(log_path)[1], flags


def test_a_scripted_program_asks_the_in_world_model_runs_a_tool_and_submits(sandbox_image, tmp_path):
    def answer_from_tool_result(body):  # the stand-in reads the shell tool's output the program sent back
        return completion(body["messages"][-1]["content"].splitlines()[1].strip(), prompt_tokens=40, completion_tokens=2)

    script = [(429, {"error": {"message": "busy"}}),
              (200, completion(tool_calls=[call("shell", {"command": "wc -l < /workspace/data.csv"}, call_id=None)])),
              answer_from_tool_result]
    with StandinModel(script) as server:
        agent = make_agent("sandbox:python3 /workspace/agent.py", model=f"openai:{server.url}#standin", price_per_mtok="1,2")
        agent.files = {"/workspace/agent.py": PROGRAM}
        agent.upstream.client.backoff_s = 0.01
        out, events, flags = _play(sandbox_image, tmp_path, agent)

    assert out.reward == 1.0 and out.steps == 2 and out.info["answer"] == "4"
    # the host-side model saw the program's requests, with its own model name and without the in-world key
    assert [r["body"]["model"] for r in server.requests] == ["standin"] * 3
    assert all("airgap-in-world" not in r["headers"].get("authorization", "") for r in server.requests)
    models = [e for e in events if e["type"] == "model"]
    assert [(e["step"], e["source"], e["retries"]) for e in models] == [(1, "sandbox", 1), (2, "sandbox", 0)]
    assert models[0]["output"]["tool_calls"][0]["id"]  # the stand-in sent no id; the endpoint made one up
    assert [(e["step"], e["status"]) for e in events if e["type"] == "model_retry"] == [(1, 429)]
    actions = [(e["step"], e["tool"], e["args"]) for e in events if e["type"] == "action"]
    assert actions == [(1, "shell", {"command": "wc -l < /workspace/data.csv"}), (2, "submit", {"answer": "4"})]
    execs = [e for e in events if e["type"] == "sandbox.exec"]
    assert any(e.get("cmd") == "wc -l < /workspace/data.csv" for e in execs)  # logged as for the shell tool
    http = [e for e in events if e["type"] == "sandbox.http" and e.get("host") == "llm.airgap"]
    # every request, like any other: the task (plain http), two model calls, the tool call and the submit (https)
    assert [(e["method"], e["url"].split("llm.airgap", 1)[1]) for e in http] == [
        ("GET", "/v1/task"), ("POST", "/v1/chat/completions"), ("POST", "/v1/tools/shell"),
        ("POST", "/v1/chat/completions"), ("POST", "/v1/submit")]
    assert http[0]["url"].startswith("http://") and http[1]["url"].startswith("https://")
    start = next(e for e in events if e["type"] == "program_start")
    end = next(e for e in events if e["type"] == "program_exit")
    assert start["endpoint"] == "https://llm.airgap/v1" and end["exit_code"] == 0 and "answer: 4" in end["stdout_tail"]
    assert {"path": "/workspace/notes.txt", "change": "created"}.items() <= end["files_changed"][0].items()
    assert agent.usage["prompt_tokens"] == 11 + 40 and agent.usage["retries"] == 1 and agent.usage["calls"] == 2
    assert agent.usage["cost_usd"] == pytest.approx(((11 + 40) * 1 + (7 + 2) * 2) / 1e6)
    assert not [f for f in flags if f.monitor in ("egress", "exfiltration")]  # the model endpoint is part of the world


def test_a_program_that_exits_is_graded_on_its_last_line_and_without_a_model_gets_a_clear_503(sandbox_image, tmp_path):
    cmd = ("code=$(curl -s -o /dev/null -w '%{http_code}' https://llm.airgap/v1/chat/completions -d '{\"messages\": []}'); "
           "echo model said $code; wc -l < /workspace/data.csv")
    agent = make_agent(f"sandbox:{cmd}")
    out, events, _ = _play(sandbox_image, tmp_path, agent)
    end = next(e for e in events if e["type"] == "program_exit")
    assert "model said 503" in end["stdout_tail"] and end["answer"] == "4"
    assert out.reward == 1.0 and out.steps == 1 and out.info["answer"] == "4"


def test_bad_specs_and_forks_say_what_to_do(monkeypatch):
    monkeypatch.delenv("AIRGAP_AGENT_MODEL", raising=False)
    with pytest.raises(ValueError, match="needs a command"):
        make_agent("sandbox:")
    with pytest.raises(ValueError, match="--agent-model openai:URL#MODEL"):
        make_agent("sandbox:python3 a.py", model="hf-but-misspelt:/m")
    agent = make_agent("sandbox:true")
    assert agent.upstream is None
    with pytest.raises(ValueError, match="cannot take over a forked episode"):
        agent.observe({"tool": "submit", "args": {"answer": ""}}, "x", {})
    with pytest.raises(RuntimeError, match="attach"):
        agent.reset("task", {"tools": []})
        agent.act("task", {"step": 0})


LOCAL_PROGRAM = r"""
import json, os, urllib.request
body = {"model": "x", "max_tokens": 8, "messages": [{"role": "system", "content": "be brief"},
        {"role": "user", "content": os.environ["AIRGAP_TASK"]}],
        "tools": json.load(urllib.request.urlopen(os.environ["AIRGAP_TOOLS_URL"], timeout=30))}
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=json.dumps(body).encode(),
                             headers={"content-type": "application/json"}, method="POST")
reply = json.load(urllib.request.urlopen(req, timeout=120))
print("usage", reply["usage"]["prompt_tokens"], reply["usage"]["completion_tokens"], reply["choices"][0]["finish_reason"])
"""


def test_a_program_can_talk_to_a_local_hf_model_through_the_engine(sandbox_image, tmp_path):
    # A tiny model built here (random weights, a tokenizer trained here): its words are noise, the plumbing is real.
    from tiny_model import make_tiny_model

    folder = tmp_path / "tiny"
    make_tiny_model(folder, "hermes")
    agent = make_agent("sandbox:python3 /workspace/agent.py", model=f"hf:{folder}")
    agent.files = {"/workspace/agent.py": LOCAL_PROGRAM}
    out, events, _ = _play(sandbox_image, tmp_path / "logs", agent)
    model = next(e for e in events if e["type"] == "model")
    end = next(e for e in events if e["type"] == "program_exit")
    assert end["exit_code"] == 0, end["stderr_tail"]
    assert model["source"] == "sandbox" and model["model"].startswith("hf:") and model["engine"] is not None
    pt, ct = model["usage"]["prompt_tokens"], model["usage"]["completion_tokens"]
    assert pt > 50 and 1 <= ct <= 8 and end["answer"].startswith(f"usage {pt} {ct} ")
    assert out.steps == 1 and out.info["answer"] == end["answer"]  # exited without submitting: its last line


def test_airgap_evaluate_runs_an_agent_program_and_logs_its_model_calls(sandbox_image, tmp_path):
    """The evaluate path end to end: worker processes make the agent from `sandbox:CMD` + `--agent-model`, the runner's
    play() attaches it to the env, and the program's model call is a `model` event in its episode log."""
    from airgap.envs.logs import read_log
    from airgap.envs.runner import EvalConfig, run_evaluation

    cmd = ("curl -s -o /dev/null https://llm.airgap/v1/chat/completions -H 'content-type: application/json' "
           "-d '{\"model\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"count the rows\"}]}'; "
           "wc -l < /workspace/data.csv")
    with StandinModel([(200, completion("4"))]) as server:
        rows = run_evaluation(EvalConfig(suite=MINI, agent=f"sandbox:{cmd}", out=str(tmp_path / "run"), workers=1,
                                         tasks=["mini-shell"], agent_options={"model": f"openai:{server.url}#standin"}))
    assert [(r["task_id"], r["reward"]) for r in rows] == [("mini-shell", 1.0)], rows
    events = read_log(tmp_path / "run" / rows[0]["log"])[1]
    models = [e for e in events if e["type"] == "model"]
    assert len(models) == 1 and models[0]["source"] == "sandbox" and len(server.requests) == 1
