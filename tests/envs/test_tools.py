"""Tool declarations: signature + docstring -> schema; validation; parsing every action shape."""
import json

import pytest

from airgap.envs.tools import (
    TOOLS,
    ActionError,
    Browser,
    ToolContext,
    ToolError,
    cap_text,
    parse_action,
    tool,
    tool_schemas,
    toolset,
)


@tool
def demo(ctx: ToolContext, name: str, count: int = 2, ratio: float | None = None, tags: list[str] | None = None) -> str:
    """Say hello a few times.

    Args:
        name: Who to greet.
        count: How many times.
        ratio: An optional
            number spread over two lines.
        tags: Labels.
    """
    return " ".join([f"hello {name}"] * count)


def test_schema_from_signature_and_docstring():
    s = demo.schema()
    assert s["type"] == "function"
    fn = s["function"]
    assert fn["name"] == "demo" and fn["description"] == "Say hello a few times."
    p = fn["parameters"]
    assert p["required"] == ["name"] and p["additionalProperties"] is False
    assert p["properties"]["name"] == {"type": "string", "description": "Who to greet."}
    assert p["properties"]["count"] == {"type": "integer", "description": "How many times.", "default": 2}
    assert p["properties"]["ratio"]["type"] == ["number", "null"]
    assert p["properties"]["ratio"]["description"] == "An optional number spread over two lines."
    assert p["properties"]["tags"]["type"] == ["array", "null"]
    assert demo(ToolContext(sandbox=None), {"name": "x"}).text == "hello x hello x"


def test_validation_messages_name_the_problem():
    assert demo.validate({"name": "a"}) == []
    msgs = demo.validate({"count": "3", "extra": 1})
    text = " ".join(msgs)
    assert "'name' is a required property" in text
    assert "extra" in text and "count" in text


def test_builtin_tool_names_and_args_match_the_task_format():
    expected = {
        "search": ["query", "k", "as_of"], "open": ["url", "link", "cursor", "as_of"], "find": ["pattern"], "click": ["link"],
        "shell": ["command", "timeout"], "python": ["code", "timeout"], "read_file": ["path"],
        "write_file": ["path", "content"], "http": ["method", "url", "headers", "body"], "submit": ["answer"],
    }
    assert {n: list(t.parameters["properties"]) for n, t in TOOLS.items()} == expected
    schemas = tool_schemas(toolset(["search", "open"]))
    assert [s["function"]["name"] for s in schemas] == ["search", "open", "submit"]
    json.dumps(schemas)  # plain JSON, as agents get it
    with pytest.raises(ValueError, match="unknown tools"):
        toolset(["serach"])


def test_a_tool_needs_a_docstring_and_json_types():
    with pytest.raises(ValueError, match="docstring"):
        tool(lambda ctx, x: x)
    with pytest.raises(TypeError, match="no JSON schema"):
        @tool
        def bad(ctx, x: object) -> str:
            """Bad."""


@pytest.mark.parametrize("action", [
    {"tool": "search", "args": {"query": "x"}},
    '{"tool": "search", "args": {"query": "x"}}',
    {"name": "search", "arguments": {"query": "x"}},
    {"name": "search", "arguments": '{"query": "x"}'},
    {"type": "function", "id": "call_1", "function": {"name": "search", "arguments": '{"query": "x"}'}},
    [{"type": "function", "function": {"name": "search", "arguments": {"query": "x"}}}],
    b'{"tool": "search", "args": {"query": "x"}}',
])
def test_parse_action_accepts_every_documented_shape(action):
    assert parse_action(action) == ("search", {"query": "x"})


@pytest.mark.parametrize("action,kind", [
    ("{bad", "bad_json"), ("[" * 100000, "bad_json"), ("null", "bad_action"), ([], "bad_action"),
    ([{"tool": "a"}, {"tool": "b"}], "bad_action"), ({"args": {}}, "bad_action"), (42, "bad_action"),
    ({"tool": "x", "args": [1]}, "bad_args"), ({"name": "x", "arguments": "{nope"}, "bad_json"),
])
def test_parse_action_rejects_with_a_kind(action, kind):
    with pytest.raises(ActionError) as e:
        parse_action(action)
    assert e.value.kind == kind
    assert isinstance(e.value, ToolError)


def test_parse_action_without_args_means_no_args():
    assert parse_action({"tool": "submit"}) == ("submit", {})


def test_cap_text_keeps_head_and_tail_with_a_marker():
    text = "A" * 500 + "B" * 500
    out, cut = cap_text(text, 100)
    assert cut and out.startswith("A" * 66) and out.endswith("B" * 34) and "characters cut" in out
    assert cap_text("short", 100) == ("short", False)


def test_page_view_numbers_lines_and_pages_with_a_cursor():
    from airgap.corpus import RenderedPage

    browser = Browser()
    page = RenderedPage(url="https://x/", title="T", lines=[f"line {i}" for i in range(130)], links=[(1, "a", "https://x/a")])
    v = browser.show(page)
    assert "L0: line 0" in v and "L59: line 59" in v and "L60:" not in v and "open(cursor=60)" in v
    v = browser.view(120)
    assert "L129: line 129" in v and browser.cursor == 120 and "more lines" not in v
    assert "L129" in browser.view(10_000)  # clamped to the last line
    assert browser.link_url(1) == "https://x/a" and browser.link_url(2) is None


def test_compiled_validation_agrees_with_jsonschema():
    """fastjsonschema decides validity; it must agree with jsonschema on 2,000 fuzzed argument sets per tool."""
    from jsonschema import Draft202012Validator

    from airgap.envs.agents import RandomAgent

    agent = RandomAgent(seed=5)
    agent.reset("", {"tools": tool_schemas(toolset(None))})
    extra = [{"k": 1.0, "query": "x"}, {"query": "x", "k": True}, {"timeout": float("nan"), "command": "x"},
             {"method": "GET", "url": "u", "headers": {"a": 1}}, {"method": "get", "url": "u"}, {"url": None}]
    valid_seen = invalid_seen = 0
    for i in range(2000):
        for name, tool_ in TOOLS.items():
            args = agent._args(name) if i < 1990 else extra[i % len(extra)]
            valid = not list(Draft202012Validator(tool_.parameters).iter_errors(args))
            assert (tool_.validate(args) == []) == valid, (name, args)
            valid_seen += valid
            invalid_seen += not valid
    assert valid_seen > 1000 and invalid_seen > 1000  # both verdicts were exercised
