"""Tool declarations: signature + docstring -> schema; validation; parsing every action shape."""
import json

import pytest

from airgap.envs.tools import (
    TOOLS,
    ActionError,
    Browser,
    ToolContext,
    ToolError,
    cap_output,
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


def test_cap_output_keeps_head_and_tail_within_the_cap_and_says_what_was_left_out():
    text = "\n".join(f"row {i:04d}" for i in range(1, 3001))
    out = cap_output(text, 2000, saved="/tmp/airgap-output/step-7.txt")
    first, last = out.split("\n")[0], out.split("\n")[-1]
    assert first == "row 0001" and last == "row 3000" and len(out) <= 2000
    marker = next(line for line in out.split("\n") if line.startswith("[... "))
    shown = [line for line in out.split("\n") if line.startswith("row ")]
    head_n = next(i for i, line in enumerate(shown) if line != f"row {i + 1:04d}")  # the head: rows 1..head_n
    assert f"(lines {head_n + 1}-{3000 - (len(shown) - head_n)} of 3000) left out" in marker
    assert "saved in /tmp/airgap-output/step-7.txt" in marker and f"sed -n '{head_n + 1}," in marker
    cut = cap_output("a" * 5000, 1000, hint="open(cursor=N) shows more.")
    assert len(cut) <= 1000 and "(line 1 of 1) left out" in cut and "open(cursor=N) shows more." in cut
    assert cap_output("short", 100) == "short"


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


# ---------------------------------------------------------------------------- through a real env, gateway and backends


def _world_suite(tmp_path_factory, name: str, tools: list[str], snapshot: str = "none", backends=("calendar", "tracker")):
    """A one-task suite over world 0's calendar and tracker (or a snapshot's web) with the given tools."""
    import yaml

    suite = {
        "suite": name, "version": 1,
        "world": {"snapshot": snapshot, "backends": list(backends), "world_seed": 0, "tools": tools,
                  "sandbox": {"memory": "256m"}},
        "budget": {"max_steps": 12, "tool_timeout": 20, "total_tool_seconds": 120},
        "tasks": [{"id": f"{name}-1", "kind": "tools", "instruction": "Look around.",
                   "graders": [{"type": "normalized_match", "expected": ["done"]}],
                   "oracle": [{"tool": "submit", "args": {"answer": "done"}}]}],
    }
    path = tmp_path_factory.mktemp(name) / f"{name}.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return str(path)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from airgap.envs.backends import make_backends
    from airgap.envs.world import world_facts

    f = world_facts(0)
    cal_user = f.people[2].username
    dev = next(p for p in f.people if p.github_login)
    repo = f.repos[0]
    return {
        "shell": _world_suite(tmp_path_factory, "withshell", ["http", "shell", "submit"]),
        "noshell": _world_suite(tmp_path_factory, "noshell", ["http", "submit"]),
        "calendar": f"https://calendar.{f.org.domain}",
        "cal_auth": {"Authorization": f"Bearer {f.token('calendar', cal_user)}"},
        "tracker_auth": {"Authorization": f"Bearer {f.token('tracker', dev.username)}"},
        "labels": f"https://api.github.com/repos/{repo.owner}/{repo.name}/issues/2/labels",
        "openapi_paths": sorted(make_backends(["calendar"], f)["calendar"].openapi()["paths"]),
    }


def _status(obs: str) -> int:
    return int(obs.split("\n", 1)[0].split()[1])


def test_http_body_may_be_an_object_an_array_or_a_string(world, sandbox_image, tmp_path):
    """An object or array is sent as JSON with Content-Type application/json (unless the call sets one); a string is
    sent as it is. Real requests through the env's gateway to the calendar and the tracker."""
    from airgap.envs.env import AirgapEnv
    from airgap.envs.logs import read_log

    schema = TOOLS["http"].parameters["properties"]["body"]
    assert schema["type"] == ["string", "object", "array", "null"] and "JSON object or array" in schema["description"]
    event = {"title": "Planning", "start": "2031-05-06T10:00:00", "end": "2031-05-06T10:30:00", "timezone": "UTC"}
    url, auth = world["calendar"] + "/api/events", world["cal_auth"]
    env = AirgapEnv(suite=world["shell"], log_dir=str(tmp_path), sandbox="fresh")
    try:
        env.reset(seed=0)
        obs, _, _, _, info = env.step({"tool": "http", "args": {"method": "POST", "url": url, "headers": auth, "body": event}})
        assert info["ok"] and _status(obs) == 201, obs
        assert json.loads(obs.split("\n\n", 1)[1])["title"] == "Planning"
        # the call's own content type wins: the calendar then refuses the body, as it says
        obs, *_ = env.step({"tool": "http", "args": {"method": "POST", "url": url, "body": event,
                                                     "headers": {**auth, "content-type": "text/plain"}}})
        assert _status(obs) == 422 and "Content-Type: application/json" in obs
        # a string is sent as it is: JSON with its content type is accepted, without one it is not (as before)
        text = json.dumps({**event, "title": "Retro"})
        obs, *_ = env.step({"tool": "http", "args": {"method": "POST", "url": url, "body": text,
                                                     "headers": {**auth, "Content-Type": "application/json"}}})
        assert _status(obs) == 201 and '"title":"Retro"' in obs
        obs, *_ = env.step({"tool": "http", "args": {"method": "POST", "url": url, "headers": auth, "body": text}})
        assert _status(obs) == 422
        # an array: the tracker takes a bare array of label names (GitHub's shape)
        obs, _, _, _, info = env.step({"tool": "http", "args": {"method": "POST", "url": world["labels"],
                                                                "headers": world["tracker_auth"], "body": ["bug", "docs"]}})
        assert _status(obs) == 200, obs
        names = {label["name"] for label in json.loads(obs.split("\n\n", 1)[1])}
        assert {"bug", "docs"} <= names
        # a number is neither: the schema says so before anything is sent
        obs, _, _, _, info = env.step({"tool": "http", "args": {"method": "POST", "url": url, "body": 5}})
        assert info["error"] == "bad_args" and "'string', 'object', 'array', 'null'" in obs
        log = env.log_path
    finally:
        env.close()
    _, events = read_log(log)
    changes = [e for e in events if e["type"] == "backend_change"]
    assert [(c["backend"], c["status"]) for c in changes] == [("calendar", 201), ("calendar", 201), ("tracker", 200)]
    actions = [e for e in events if e["type"] == "action"]
    assert actions[0]["args"]["body"] == event and actions[4]["args"]["body"] == ["bug", "docs"]  # logged as sent


def test_an_output_over_the_cap_is_saved_whole_in_the_sandbox(world, sandbox_image, tmp_path):
    """The calendar's 15 KB OpenAPI document through http: the observation has its head and tail and names the file,
    which holds every path; the shell pages it as the hint says. Shell output over the cap is saved the same way."""
    from airgap.envs.env import AirgapEnv
    from airgap.envs.logs import read_log, verify

    env = AirgapEnv(suite=world["shell"], log_dir=str(tmp_path), sandbox="fresh")
    try:
        env.reset(seed=0)
        obs, _, _, _, info = env.step({"tool": "http", "args": {"method": "GET", "url": world["calendar"] + "/openapi.json"}})
        path = "/tmp/airgap-output/step-1.txt"
        assert info["output_file"] == path and info["truncated_output"] and info["ok"]
        assert obs.startswith("HTTP 200") and len(obs) <= env.max_output
        assert f"saved in {path}" in obs and f"grep -n 'PATTERN' {path}" in obs and "sed '1,/^$/d'" in obs
        saved = env.sandbox.read_file(path).decode()
        body = json.loads(saved.split("\n\n", 1)[1])
        assert sorted(body["paths"]) == world["openapi_paths"] and len(saved) > env.max_output
        assert obs.endswith(saved[-200:])  # the tail is the output's own end
        # the agent's way: the hint's command, in the sandbox, as the agent (it owns the file)
        obs, _, _, _, info = env.step({"tool": "shell", "args": {"command": (
            f"stat -c %U {path}; sed '1,/^$/d' {path} | python3 -c "
            "\"import json, sys; print('\\n'.join(sorted(json.load(sys.stdin)['paths'])))\"")}})
        assert "output_file" not in info and obs.splitlines()[1] == "agent"
        assert obs.splitlines()[2:] == world["openapi_paths"]
        # shell output over the cap: saved whole, lines counted
        obs, _, _, _, info = env.step({"tool": "shell", "args": {"command": "seq 1 5000"}})
        assert info["output_file"] == "/tmp/airgap-output/step-3.txt"
        whole = env.sandbox.read_file(info["output_file"]).decode()
        assert whole == "[exit code 0]\n" + "\n".join(map(str, range(1, 5001)))
        assert obs.startswith("[exit code 0]\n1\n2\n") and obs.endswith("\n4999\n5000")
        assert "of 5001) left out" in obs and "sed -n '" in obs
        obs, _, _, _, info = env.step({"tool": "shell", "args": {"command": "echo short"}})
        assert obs == "[exit code 0]\nshort" and "output_file" not in info and not info["truncated_output"]
        log = env.log_path
    finally:
        env.close()
    assert verify(log).ok
    _, events = read_log(log)
    seen = [e["info"].get("output_file") for e in events if e["type"] == "observation"]
    assert seen == ["/tmp/airgap-output/step-1.txt", None, "/tmp/airgap-output/step-3.txt", None]
    writes = [e["path"] for e in events if e["type"] == "sandbox.file_write"]
    assert writes == ["/tmp/airgap-output/step-1.txt", "/tmp/airgap-output/step-3.txt"]


def test_without_a_shell_the_cut_says_how_to_read_on(world, sandbox_image, default_snapshot, tmp_path_factory):
    """No tool to read a sandbox file: no file is written; the cut says how to get the rest (a page's cursor)."""
    from airgap.envs.env import AirgapEnv

    env = AirgapEnv(suite=world["noshell"], sandbox="fresh")
    try:
        env.reset(seed=0)
        obs, _, _, _, info = env.step({"tool": "http", "args": {"method": "GET", "url": world["calendar"] + "/openapi.json"}})
        assert info["truncated_output"] and "output_file" not in info
        assert "left out" in obs and "Ask for less at a time" in obs and "/tmp/airgap-output" not in obs
        assert len(obs) <= env.max_output
    finally:
        env.close()
    web = _world_suite(tmp_path_factory, "webonly", ["search", "open", "find", "submit"], snapshot="default", backends=())
    env = AirgapEnv(suite=web, sandbox="fresh", max_output=1500)
    try:
        env.reset(seed=0)
        obs, _, _, _, info = env.step({"tool": "open", "args": {"url": "https://docs.python.org/3.11/library/json.html"}})
        assert info["ok"] and info["truncated_output"] and "output_file" not in info
        assert "open(cursor=N) shows the page from line N" in obs and len(obs) <= 1500
        assert obs.startswith("[page]") and "[lines 0-59 of" in obs
    finally:
        env.close()
