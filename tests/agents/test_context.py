"""Context management: the system prompt, the tools and the task always reach the model; the oldest observations are
cut first, with a marker the model sees; the limit is the model's own context length (a real tokenizer and template)."""
from __future__ import annotations

import pytest
from local_models import INFO
from tiny_model import make_tiny_model

from airgap.envs.agents import SYSTEM_PROMPT, make_agent
from airgap.envs.agents.context import ContextError, fit_messages

CUT = "were cut to fit the model's context"
TASK = "How many lines does /workspace/data.csv have? Answer with the number."


def test_fit_messages_cuts_the_oldest_observation_first_and_only_as_much_as_needed():
    msgs = [{"role": "system", "content": "S" * 50}, {"role": "user", "content": "T" * 50},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "a", "function": {"name": "shell", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "a", "content": "old " * 100},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "b", "function": {"name": "shell", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "b", "content": "new " * 100}]

    def size(m):
        return sum(len(x.get("content") or "") for x in m)

    fitted = fit_messages(msgs, lambda m: size(m) <= 800)
    assert fitted[:3] == msgs[:3] and fitted[5] == msgs[5]  # system, task and the newest observation untouched
    assert CUT in fitted[3]["content"] and fitted[3]["content"].startswith("old old") and size(fitted) <= 800
    assert size(fitted) > 800 - 10  # cut to the longest head that fits, not to nothing
    both = fit_messages(msgs, lambda m: size(m) <= 400)
    assert CUT in both[3]["content"] and CUT in both[5]["content"] and both[:3] == msgs[:3]
    with pytest.raises(ContextError):
        fit_messages(msgs, lambda m: size(m) <= 90)
    assert msgs[3]["content"] == "old " * 100  # the agent's own history is never edited


@pytest.fixture(scope="module")
def short_model(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny-1k"), "hermes", context_length=1024)


def test_a_long_episode_keeps_system_tools_and_task_and_cuts_old_observations(short_model):
    """The old agent cut tokens from the front of the prompt: the system prompt and the tools went first."""
    agent = make_agent(f"hf:{short_model}")
    agent.sampling["max_tokens"] = 16
    agent.reset(TASK, INFO)
    # the model's context is 1024 tokens; the system prompt, tools and task take ~600 of them
    outputs = [f"line {k}: " + "a,b,c,d,e,f,g " * n for k, n in enumerate((40, 5))] + ["newest: 4 lines"]  # ~520, ~65 tokens
    for k, out in enumerate(outputs):  # a replayed prefix of three shell calls
        agent.observe({"tool": "shell", "args": {"command": f"cat part{k}.csv"}}, out, INFO)
    agent.act("newest: 4 lines", INFO)
    call = agent.last_call
    seen = call["input"]
    assert seen[0] == {"role": "system", "content": SYSTEM_PROMPT} and seen[1] == {"role": "user", "content": TASK}
    prompt = agent.model.prompt(seen, agent.tools)
    assert '"name": "shell"' in prompt and '"name": "submit"' in prompt  # the tool schemas are in what the model saw
    # what the model was given is exactly the rendered input, and it fits the model's own context with room to reply
    assert call["usage"]["prompt_tokens"] == len(agent.model.encode(seen, agent.tools)) <= 1024 - 16
    tools = [m["content"] for m in seen if m["role"] == "tool"]
    assert CUT in tools[0] and tools[0].startswith("line 0:")  # the oldest observation is cut, with the marker
    assert tools[1:] == outputs[1:] and call["context"]["cut"] is True
    assert agent.messages[3]["content"] == outputs[0]  # the agent's history keeps everything


def test_a_task_longer_than_the_context_is_a_clear_error(short_model):
    agent = make_agent(f"hf:{short_model}")
    agent.reset("Read this: " + "x y z " * 800, INFO)
    with pytest.raises(ContextError, match=r"context of 1024 tokens.*longer context"):
        agent.act("", INFO)
