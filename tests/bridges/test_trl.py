"""An Airgap suite in TRL's own `GRPOTrainer(environment_factory=...)` (the `trl` extra): a few GRPO steps of a tiny
random-weight model on CPU, with webqa's tasks as the dataset and Airgap's graders as the reward.

The model is the tests' tiny Llama (tests/tiny_model.py: random weights, a tokenizer trained here) with TRL's own
Qwen2.5 chat template, so TRL parses its tool calls as it parses Qwen2.5's; its replies are noise, which is the point:
the trainer, the tool loop, the per-rollout environments and the reward path run for real, and every reward it logs
is checked against the graders' verdicts in the episode logs. The environment is also played with the task's oracle
calls through the very methods TRL calls (reward 1.0), and with a text answer (graded as submitted). Nothing is
mocked: Docker sandboxes, the offline web, the gateway, the graders, the signed logs.
"""
from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl", reason="the trl extra is not installed: pip install 'airgap[trl]'")

SUITE = "webqa"
TASKS = ["webqa-001", "webqa-002"]


def _oracle(task_id: str) -> list[dict]:
    from airgap.envs.tasks import load_suite

    return load_suite(SUITE).task(task_id).oracle


def test_import_airgap_envs_loads_no_trl_or_openenv():
    code = ("import sys, json, airgap.envs, airgap.envs.cli\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('trl', 'openenv', 'gradio', 'accelerate')"
            " or m.startswith(('airgap.envs.bridges.trl', 'airgap.envs.bridges.openenv')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_tool_methods_carry_airgap_schemas():
    from transformers.utils import get_json_schema

    from airgap.envs.bridges.trl.environment import environment_factory
    from airgap.envs.tools import TOOLS

    cls = environment_factory(SUITE, task_ids=TASKS)
    exposed = sorted(n for n, _ in inspect.getmembers(cls, predicate=inspect.isfunction)
                     if n not in ("reset", "get_reward") and not n.startswith("_"))  # what TRL takes as tools
    assert exposed == sorted(cls._config["tools"]) and "submit" in exposed
    env = cls()
    for name in exposed:
        schema = get_json_schema(getattr(env, name))["function"]
        ours = TOOLS[name].parameters
        assert schema["name"] == name and schema["description"] == TOOLS[name].description
        assert set(schema["parameters"]["properties"]) == set(ours["properties"])
        assert set(schema["parameters"].get("required", [])) == set(ours["required"])


def test_oracle_calls_through_the_tool_methods_score_one_and_text_answers_are_graded(default_snapshot, tmp_path):
    from airgap.envs.bridges.trl.environment import airgap_reward, environment_factory, task_dataset
    from airgap.envs.logs import read_log

    cls = environment_factory(SUITE, task_ids=TASKS, log_dir=str(tmp_path), pool_size=1, monitors="none")
    rows = task_dataset(SUITE, task_ids=TASKS)
    assert rows["task_id"] == TASKS and all(r[-1] == {"role": "user", "content": ""} for r in rows["prompt"])
    env = cls()
    obs = env.reset(**rows[0])
    assert env.task_id == TASKS[0] and obs.startswith(rows[0]["instruction"])
    calls = _oracle(TASKS[0])
    for c in calls:
        getattr(env, c["tool"])(**c["args"])  # as TRL calls a tool: by name, with the parsed arguments
    assert env.done and env.reward == 1.0
    assert airgap_reward([[{"role": "assistant", "content": "(ignored: submitted already)"}]], environments=[env]) == [1.0]
    # no submit: the rollout's last text is the answer the graders judge
    answer = _oracle(TASKS[1])[-1]["args"]["answer"]
    env.reset(**rows[1])
    assert airgap_reward([[{"role": "assistant", "content": answer}]], environments=[env]) == [1.0]
    first_log = env.log_path
    env.reset(**rows[1])
    assert airgap_reward([[{"role": "assistant", "content": "I do not know."}]], environments=[env]) == [0.0]
    _, events = read_log(first_log)
    [final] = [e for e in events if e["type"] == "trl_final_text"]
    assert final["text"] == answer and [e for e in events if e["type"] == "reward"][-1]["reward"] == 1.0


def _tiny(folder) -> str:
    from trl.chat_template_utils import qwen2_5_chat_template

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tiny_model import make_tiny_model, make_tokenizer

    tok = make_tokenizer("hermes")
    tok.chat_template = qwen2_5_chat_template  # TRL's own Qwen2.5 template: TRL knows how to parse its tool calls
    return make_tiny_model(folder, "hermes", tokenizer=tok, context_length=8192)


def _teach(folder: str, env, row: dict, call: dict, *, target_loss: float = 0.02, max_steps: int = 300) -> tuple[float, int]:
    """Teach the random model one reply to the prompt TRL will render for ``row`` (the env's observation, its tools):
    ``call`` as a Qwen2.5 tool call, until its mean token loss is ``target_loss`` (sampled at temperature 1, the
    call then comes out whole in about exp(-loss * tokens) of the rollouts, garbled in the rest). Returns the loss and
    the optimiser steps it took."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    messages = [*row["prompt"][:-1], {"role": "user", "content": env.reset(**row)}]
    tools = [getattr(env, n) for n, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
             if n not in ("reset", "get_reward") and not n.startswith("_")]  # as TRL passes them: the methods, by name
    prompt = tok.apply_chat_template(messages, tools=tools, add_generation_prompt=True, tokenize=False)
    reply = f'<tool_call>\n{json.dumps({"name": call["tool"], "arguments": call["args"]})}\n</tool_call><|im_end|>'
    p_ids, r_ids = tok(prompt, add_special_tokens=False).input_ids, tok(reply, add_special_tokens=False).input_ids
    ids = torch.tensor([p_ids + r_ids])
    labels = torch.tensor([[-100] * len(p_ids) + r_ids])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    steps = 0
    while True:
        loss = model(input_ids=ids, labels=labels).loss
        if loss.item() <= target_loss or steps == max_steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
    assert loss.item() <= target_loss, f"the tiny model did not learn the call in {max_steps} steps (loss {loss.item():.3f})"
    model.save_pretrained(folder)
    return loss.item(), steps


def test_grpo_trains_a_tiny_model_on_cpu_with_airgap_rewards(default_snapshot, tmp_path):
    import torch
    from trl import GRPOConfig, GRPOTrainer

    from airgap.envs.bridges.trl.environment import airgap_reward, environment_factory, task_dataset
    from airgap.envs.logs import read_log

    torch.manual_seed(0)
    task = TASKS[0]
    logs = tmp_path / "logs"
    factory = environment_factory(SUITE, task_ids=[task], log_dir=str(logs), pool_size=2, monitors="none")
    dataset = task_dataset(SUITE, task_ids=[task], seeds=[0, 1])
    folder = _tiny(tmp_path / "tiny")
    taught, teach_steps = _teach(folder, factory(), dataset[0], _oracle(task)[-1])  # the oracle's submit call as its reply
    for p in logs.glob("*"):  # the teaching episode is not part of the run
        p.unlink() if p.is_file() else None
    steps, generations = 2, 4
    args = GRPOConfig(output_dir=str(tmp_path / "out"), max_steps=steps, per_device_train_batch_size=generations,
                      num_generations=generations, max_completion_length=64, max_tool_calling_iterations=1,
                      learning_rate=1e-3, logging_steps=1, report_to="none", save_strategy="no", use_cpu=True, bf16=False,
                      seed=0, dataloader_num_workers=0)
    trainer = GRPOTrainer(model=folder, reward_funcs=airgap_reward, args=args, train_dataset=dataset,
                          environment_factory=factory)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.train()
    assert trainer.state.global_step == steps
    logged = [h for h in trainer.state.log_history if "rewards/airgap_reward/mean" in h]
    assert len(logged) == steps
    # every rollout is one graded episode: its reward event is the graders', and the trainer logged their mean
    episodes = []
    for p in sorted(logs.glob("*.jsonl")):
        header, events = read_log(p)
        rewards = [e for e in events if e["type"] == "reward"]
        assert len(rewards) == 1 and rewards[0]["detail"], p
        assert header["task_id"] == task and header["agent"] == "trl"
        by_model = not any(e["type"] == "trl_final_text" for e in events)  # submitted by the model's own tool call
        episodes.append((events[-1]["t_wall"], rewards[0]["reward"], by_model))
    assert len(episodes) == steps * generations
    episodes.sort()
    for i, h in enumerate(logged):
        step = [r for _, r, _ in episodes[i * generations:(i + 1) * generations]]
        assert math.isclose(h["rewards/airgap_reward/mean"], sum(step) / len(step), abs_tol=1e-6)
    # the taught call came out whole in some rollouts: TRL parsed it, called the environment's submit, the graders passed
    assert any(r == 1.0 and by_model for _, r, by_model in episodes)
    assert any(h["tools/call_frequency"] > 0 for h in logged)
    # where a group's rewards differed, GRPO had an advantage to follow: the weights moved
    if any(h["frac_reward_zero_std"] < 1 for h in logged):
        assert any(not torch.equal(a, b.detach()) for a, b in zip(before, trainer.model.parameters(), strict=True))
    print(f"GRPO on CPU: {steps} steps x {generations} rollouts of {task} (taught to loss {taught:.3f} in {teach_steps} steps); rewards "
          f"{[r for _, r, _ in episodes]}, by the model's own submit {[m for _, _, m in episodes]}; "
          f"tool calls per rollout {[h['tools/call_frequency'] for h in logged]}; {trainer.state.log_history[-1]['train_runtime']:.1f}s")
