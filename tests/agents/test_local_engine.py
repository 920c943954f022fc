"""The local model engine: batch-invariant greedy decoding, one engine process serving many clients over its socket,
a clear error when it is gone, and an evaluation with --workers 4 that holds one model (real Docker, real workers)."""
from __future__ import annotations

import importlib.util
import json
import threading

import pytest
from local_models import INFO, prompts
from tiny_model import make_tiny_model

from airgap.envs.agents import make_agent
from airgap.envs.agents.engine import ENV_VAR, Batcher, EngineGone, HFBackend, RemoteEngine, Request, engine_for, serving


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny-hermes"), "hermes", context_length=2048)


def test_an_episodes_output_is_the_same_at_batch_size_1_and_8(tiny):
    backend = HFBackend(tiny)
    from transformers import AutoTokenizer

    ids = prompts(AutoTokenizer.from_pretrained(tiny), 8)
    assert len({len(p) for p in ids}) == 8  # every row is padded differently in the batch
    greedy = [Request(ids=p, max_new_tokens=20) for p in ids]
    alone = [backend.generate([r])[0] for r in greedy]
    assert backend.generate(greedy) == alone
    assert backend.generate(greedy[::-1]) == alone[::-1]  # and whatever the row order
    assert len({tuple(a) for a in alone}) > 1  # the prompts do lead to different outputs
    sampled = [Request(ids=p, max_new_tokens=20, do_sample=True, seed=k) for k, p in enumerate(ids)]
    assert backend.generate(sampled) == [backend.generate([r])[0] for r in sampled]  # a generator per request

    # the batcher: eight callers at once share forward passes and each gets its own answer
    batcher = Batcher(backend, window_ms=200)
    batcher.clients = 8
    got: dict[int, tuple] = {}
    threads = [threading.Thread(target=lambda k=k: got.__setitem__(k, batcher.submit(greedy[k]))) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[k][0] for k in range(8)] == alone
    assert batcher.stats["max_batch"] > 1 and batcher.stats["batches"] < 8


def test_one_engine_process_serves_every_client_and_a_client_of_a_stopped_engine_is_told(tiny, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with serving(f"hf:{tiny}", window_ms=200) as eng:
        served = json.loads(__import__("os").environ[ENV_VAR])[f"hf:{tiny}"]
        clients = [RemoteEngine(served["address"], bytes.fromhex(served["authkey"]), "hf", tiny) for _ in range(4)]
        assert {c.info["pid"] for c in clients} == {eng["pid"]} and len({c.info["id"] for c in clients}) == 1
        metas: list[dict] = []
        threads = [threading.Thread(target=lambda c=c: metas.append(c.generate(Request(ids=[5, 6, 7], max_new_tokens=8))[1]))
                   for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(metas) == 4 and all(m["shared"] and m["pid"] == eng["pid"] for m in metas)
        # an agent made in this process (as a worker would) talks to the same engine
        agent = make_agent(f"hf:{tiny}")
        agent.max_new_tokens = 8
        agent.reset("What is 6*7?", INFO)
        agent.act("What is 6*7?", INFO)
        assert agent.last_call["engine"]["id"] == clients[0].info["id"]
        stats = clients[0].stats()
        assert stats["loads"] == 1 and stats["requests"] == 5 and stats["max_batch"] > 1
    with pytest.raises(EngineGone, match="owned by the evaluation's driver process"):
        clients[0].generate(Request(ids=[5], max_new_tokens=2))
    # outside `serving` the model is loaded in this process instead, once
    assert engine_for("hf", tiny) is engine_for("hf", tiny) and not engine_for("hf", tiny).info["shared"]


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_without_vllm_says_what_to_install(tiny):
    """vLLM needs a GPU, which this machine lacks: the vllm backend itself is untested here, only its absence."""
    with pytest.raises(ImportError, match=r"pip install 'airgap\[vllm\]'"):
        make_agent(f"vllm:{tiny}")
    with pytest.raises(ImportError, match="use hf:PATH"), serving(f"vllm:{tiny}"):
        pass


SUITE = """suite: engine-mini
version: 1
world:
  snapshot: none
  tools: [shell, submit]
  sandbox: {memory: 256m}
budget: {max_steps: 2, tool_timeout: 10, total_tool_seconds: 30}
tasks:
"""


@pytest.mark.docker
def test_evaluate_with_4_workers_holds_one_model(tmp_path, tiny, sandbox_image):
    """`airgap evaluate --agent hf:PATH --workers 4`: four worker processes, one engine, one model load."""
    from airgap.envs.logs import read_log
    from airgap.envs.runner import EvalConfig, run_evaluation

    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE + "".join(
        f"  - id: t{k}\n    kind: qa\n    instruction: \"Say {k}.\"\n    graders:\n      - {{type: normalized_match, expected: ['{k}']}}\n"
        f"    oracle:\n      - {{tool: submit, args: {{answer: '{k}'}}}}\n"
        for k in range(4)))
    rows = run_evaluation(EvalConfig(suite=str(suite), agent=f"hf:{tiny}", out=str(tmp_path / "run"), workers=4,
                                     env_kwargs={"pool_size": 1}))
    assert len(rows) == 4 and not [r for r in rows if "error" in r]
    engines, batches = set(), []
    for r in rows:
        for e in read_log(tmp_path / "run" / r["log"])[1]:
            if e.get("type") == "model":
                engines.add((e["engine"]["id"], e["engine"]["pid"], e["engine"]["shared"]))
                batches.append(e["engine"]["batch"])
    assert len(engines) == 1 and next(iter(engines))[2] is True  # every episode of every worker: one model, loaded once
    print("batch sizes seen:", sorted(batches))


def test_an_evaluation_with_a_missing_model_folder_stops_before_any_episode(tmp_path):
    from airgap.envs.runner import EvalConfig, EvaluationError, run_evaluation

    with pytest.raises(EvaluationError, match="not a folder; give a local model folder"):
        run_evaluation(EvalConfig(suite="webqa", agent=f"hf:{tmp_path / 'nope'}", out=str(tmp_path / "run"), limit=1))
    assert not (tmp_path / "run").exists()
