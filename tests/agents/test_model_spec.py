"""THE model spec parser (every accepted form, every error, each error listing the accepted forms) and the registries
of models, agents and executors: a name registered twice is an error, the same object registered again is not."""
from __future__ import annotations

import os

import pytest

from airgap.envs.agents import (
    AGENTS,
    PROVIDERS,
    ChatAgent,
    ModelSpec,
    ModelSpecError,
    NoopAgent,
    check_agent_spec,
    make_agent,
    parse_model_spec,
    register_agent,
    register_model,
)
from airgap.envs.agents.model import endpoint_spec, folder_spec
from airgap.envs.agents.openai import OpenAIModel
from airgap.envs.runner import EXECUTORS, register_executor

FORMS = "openai:URL#MODEL, hf:PATH, vllm:PATH"


@pytest.mark.parametrize("spec, parsed", [
    ("openai:http://127.0.0.1:8000/v1#qwen2.5-7b", ModelSpec("openai", "http://127.0.0.1:8000/v1", "qwen2.5-7b")),
    ("openai:https://api.example.com/v1#gpt-4o-mini", ModelSpec("openai", "https://api.example.com/v1", "gpt-4o-mini")),
    ("openai:http://127.0.0.1:8000/v1/chat/completions#Qwen/Qwen2.5-7B-Instruct#int4",  # the name is all after the first #
     ModelSpec("openai", "http://127.0.0.1:8000/v1/chat/completions", "Qwen/Qwen2.5-7B-Instruct#int4")),
    ("hf:/models/my-model", ModelSpec("hf", "/models/my-model")),
    ("vllm:/models/my-model", ModelSpec("vllm", "/models/my-model")),
])
def test_every_accepted_form_parses_and_writes_back(spec, parsed):
    assert parse_model_spec(spec) == parsed
    assert str(parsed) == spec


def test_a_local_model_path_is_made_absolute(tmp_path, monkeypatch):
    (tmp_path / "models" / "m").mkdir(parents=True)
    os.symlink(tmp_path / "models" / "m", tmp_path / "link")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "models"))
    real = str((tmp_path / "models" / "m").resolve())
    assert parse_model_spec("hf:link") == ModelSpec("hf", real)
    assert parse_model_spec("vllm:~/m") == ModelSpec("vllm", real)


@pytest.mark.parametrize("spec, message", [
    ("", "is not a model spec"),
    ("qwen2.5-7b", "is not a model spec"),
    ("gpt:http://127.0.0.1:8000/v1#m", "unknown model 'gpt:"),
    ("openai:127.0.0.1:8000/v1#m", "of the form openai:URL#MODEL"),  # no scheme
    ("openai:http://127.0.0.1:8000/v1", "of the form openai:URL#MODEL"),  # no model name
    ("openai:http://127.0.0.1:8000/v1#", "of the form openai:URL#MODEL"),
    ("openai:", "of the form openai:URL#MODEL"),
    ("hf:", "hf:PATH needs the path of a local model folder"),
    ("vllm:", "vllm:PATH needs the path of a local model folder"),
])
def test_every_malformed_spec_says_what_is_accepted(spec, message):
    with pytest.raises(ModelSpecError, match=message) as e:
        parse_model_spec(spec)
    assert isinstance(e.value, ValueError)
    if "model spec" in message or "unknown" in message:
        assert FORMS in str(e.value)
    else:  # the provider's own form, with an example
        assert "e.g." in str(e.value)


def test_agent_specs_use_the_same_parser():
    assert isinstance(make_agent("openai:http://127.0.0.1:9/v1#m"), ChatAgent)
    with pytest.raises(ValueError, match="of the form openai:URL#MODEL"):
        make_agent("openai:http://127.0.0.1:9/v1")
    with pytest.raises(ValueError, match=f"unknown agent spec 'orcale'; use one of: oracle, .*sandbox:CMD.*{FORMS}"):
        make_agent("orcale")
    check_agent_spec("oracle")
    check_agent_spec("hf:/models/not-loaded-by-a-check")  # a check builds nothing
    check_agent_spec("sandbox:python3 a.py", model="openai:http://127.0.0.1:9/v1#m")
    with pytest.raises(ValueError, match="hf:PATH needs"):
        check_agent_spec("hf:")
    with pytest.raises(ValueError, match="unknown model 'hf-but-misspelt:/m'"):
        check_agent_spec("sandbox:python3 a.py", model="hf-but-misspelt:/m")


def _another_openai(spec: ModelSpec) -> OpenAIModel:
    return OpenAIModel(spec)


def test_a_name_registered_twice_is_an_error_in_every_registry():
    with pytest.raises(ValueError, match="a model provider named 'openai' is already registered"):
        register_model("openai", "openai:URL#MODEL", endpoint_spec)(_another_openai)
    with pytest.raises(ValueError, match="an agent kind named 'noop' is already registered"):
        register_agent("noop", "noop")(lambda rest, suite: NoopAgent())
    with pytest.raises(ValueError, match="an executor named 'local' is already registered"):
        register_executor("local")(EXECUTORS["ray"])
    # the same object again (a module imported twice) is not a second name
    register_model("hf", "hf:PATH", folder_spec)(PROVIDERS["hf"].factory)
    register_agent("noop", "noop")(AGENTS["noop"][0])
    register_executor("local")(EXECUTORS["local"])
    with pytest.raises(ValueError, match="a word without ':'"):
        register_model("a:b", "a:b:X", endpoint_spec)(_another_openai)


def test_a_registered_provider_is_a_model_spec_and_an_agent_spec():
    register_model("relay", "relay:URL#MODEL (an OpenAI-compatible relay)", endpoint_spec)(_another_openai)
    try:
        assert "relay:URL#MODEL" in str(pytest.raises(ValueError, make_agent, "relay:nothing").value)
        agent = make_agent("relay:http://127.0.0.1:9/v1#m")
        assert isinstance(agent, ChatAgent) and isinstance(agent.model, OpenAIModel) and agent.model.name == "m"
        assert make_agent("sandbox:true", model="relay:http://127.0.0.1:9/v1#m").upstream.name == "m"
    finally:
        PROVIDERS.pop("relay")
