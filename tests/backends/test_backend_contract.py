"""The Backend contract on all six backends: fixture hash, reset, state/restore, diff, change events, registry, bad input."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from backend_support import NAMES, basic
from backends_helpers import MUTATIONS, collapse

from airgap.envs.backends import BACKENDS, Backend, SqliteBackend, make_backends, register_backend
from airgap.envs.backends.sqlstore import BYTES_KEY
from airgap.envs.worldgen import generate


def test_registry_has_the_six_backends(facts):
    assert sorted(BACKENDS) == ["bank", "calendar", "chat", "mail", "shop", "tracker"]
    with pytest.raises(KeyError, match="unknown backend.*known"):
        make_backends(["mail", "nope"], facts)
    with pytest.raises(ValueError, match="already registered"):
        register_backend(type("MailAgain", (SqliteBackend,), {"name": "mail"}))
    with pytest.raises(TypeError):
        register_backend(dict)


@pytest.mark.parametrize("name", NAMES)
def test_fixture_hash_is_deterministic_per_seed(name, backends, facts):
    b = backends[name]
    same = BACKENDS[name](generate(0))          # a fresh world object, same seed
    other = BACKENDS[name](generate(1))
    assert b.fixture_hash() == same.fixture_hash() != other.fixture_hash()
    assert json.loads(json.dumps(b.state())) == same.state()
    assert b.hosts and all("." in h for h in b.hosts)
    assert isinstance(b, Backend)


@pytest.mark.parametrize("name", NAMES)
def test_reset_restores_the_fixture_after_mutations(name, backends, api, facts):
    b = backends[name]
    fixture = b.state()
    expected = MUTATIONS[name](api, facts)
    assert sum(expected.values()) > 0
    assert b.state() != fixture
    b.reset()
    assert b.state() == fixture
    # a reset world answers as fresh: the same mutations give the same result
    MUTATIONS[name](api, facts)


@pytest.mark.parametrize("name", NAMES)
def test_state_restore_round_trip(name, backends, api, facts):
    b = backends[name]
    MUTATIONS[name](api, facts)
    saved = json.loads(json.dumps(b.state()))   # through JSON, as a log or a file would carry it
    b.reset()
    b.restore(saved)
    assert b.state() == saved
    other = BACKENDS[name](facts)               # another instance of the same world accepts it too
    other.restore(saved)
    assert other.state() == saved


@pytest.mark.parametrize("name", NAMES)
def test_restore_refuses_a_state_that_does_not_fit(name, backends):
    b = backends[name]
    good = b.state()
    with pytest.raises(ValueError, match="belongs to backend"):
        b.restore({**good, "backend": "other"})
    with pytest.raises(ValueError, match="missing"):
        b.restore({"backend": name, "tables": {}})
    table = next(iter(b.tables))
    bad = json.loads(json.dumps(good))
    bad["tables"][table].append({"no_such_column": 1})
    with pytest.raises(ValueError, match="unknown columns"):
        b.restore(bad)
    assert b.state() == good                    # a refused restore changed nothing


@pytest.mark.parametrize("name", NAMES)
def test_diff_and_change_events_list_exactly_the_changed_objects(name, backends, api, facts):
    b = backends[name]
    events: list[dict] = []
    b.on_change = events.append
    before = b.state()
    expected = MUTATIONS[name](api, facts)
    after = b.state()
    diff = b.diff(before, after)
    assert Counter((d["table"], d["op"]) for d in diff) == expected
    for d in diff:
        assert d["backend"] == name and set(d) == {"backend", "table", "id", "op", "before", "after"}
        assert (d["before"] is None) == (d["op"] == "insert") and (d["after"] is None) == (d["op"] == "delete")
    # the per-request change events add up to the same net change as the diff of whole states
    net = collapse(events)
    assert net == {(d["table"], d["id"]): (d["before"], d["after"]) for d in diff}
    for ev in events:
        assert ev["backend"] == name and ev["method"] in ("POST", "PATCH", "PUT", "DELETE")
        assert ev["path"].startswith("/") and 200 <= ev["status"] < 300 and ev["changes"]
    assert b.diff(after, after) == []
    assert not any(d["table"].startswith("_") for d in diff)


@pytest.mark.parametrize("name", NAMES)
def test_reads_and_refused_requests_emit_no_change(name, backends, api, facts):
    b = backends[name]
    events: list[dict] = []
    b.on_change = events.append
    before = b.state()
    a = api(name, facts.people[1].username)
    for path in [r for r in b.openapi()["paths"] if "{" not in r][:5]:
        if "get" in b.openapi()["paths"][path]:
            a.get(path)
    a.post(next(p for p, ops in b.openapi()["paths"].items() if "post" in ops).replace("{", "x").replace("}", ""),
           content=b"{not json", headers={"content-type": "application/json"})
    assert events == [] and b.state() == before


def test_state_carries_attachment_bytes_as_base64(backends):
    atts = backends["mail"].state()["tables"]["attachments"]
    assert atts and all(set(a["data"]) == {BYTES_KEY} for a in atts)


# ------------------------------------------------------------------------------------- bad input, never a 500
@pytest.mark.parametrize("name", NAMES)
def test_bad_input_gets_a_4xx_that_says_what_is_wrong(name, backends, api, facts):
    b = backends[name]
    user = facts.people[1].username
    a = api(name, user)
    repo = facts.repos[0]
    post = {"mail": "/api/messages", "calendar": "/api/events", "shop": "/api/cart/items", "bank": "/api/transfers",
            "tracker": f"/repos/{repo.owner}/{repo.name}/issues", "chat": "/api/chat.postMessage"}[name]
    assert "post" in b.openapi()["paths"][post.replace(repo.owner, "{owner}").replace(f"/{repo.name}/", "/{repo}/")]
    # malformed JSON
    r = a.post(post, content=b'{"a": ', headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert "JSON" in r.text
    # wrong types
    r = a.post(post, json={"to": 5, "title": [1], "channel": {}, "sku": 3, "from_account": 1, "body": 7, "name": 1,
                           "users": 1, "text": []})
    assert r.status_code in (400, 422), r.text
    # oversized body, declared and streamed (chunked, no Content-Length)
    r = a.post(post, content=b"x" * ((1 << 20) + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.text

    def chunks():
        for _ in range(17):
            yield b"y" * 65536

    async def agen():
        for c in chunks():
            yield c

    r = a.post(post, content=agen(), headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    # unknown route, wrong method
    assert a.get("/definitely/not/here/at/all/x").status_code == 404
    assert a.request("PUT", post).status_code in (404, 405)


@pytest.mark.parametrize("name", NAMES)
def test_auth_missing_and_wrong_credentials_are_401(name, backends, api, facts):
    b = backends[name]
    paths = b.openapi()["paths"]
    secured = [p for p, ops in paths.items() if "{" not in p and "get" in ops and ops["get"].get("security")]
    assert secured
    anon = api(name)
    wrong = api(name, token="ghp_" + "0" * 36)
    for p in secured[:4]:
        r = anon.get(p)
        assert r.status_code == 401, (p, r.text)
        assert r.headers.get("www-authenticate", "").startswith("Bearer")
        r = wrong.get(p)
        assert r.status_code == 401, (p, r.text)
        assert "ghp_0000" not in r.text
    r = anon.get(secured[0], headers={"Authorization": "Digest abc"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("name", NAMES)
def test_html_pages_need_a_login_and_accept_token_or_basic_auth(name, backends, api, facts):
    b = backends[name]
    user = next(p.username for p in facts.people if p.team == "support")
    anon = api(name, host=b.hosts[-1] if name == "tracker" else None)
    home = "/"
    if name == "shop":                          # the catalogue is public, orders are not
        assert anon.get("/").status_code == 200
        home = "/orders"
    r = anon.get(home, headers={"accept": "text/html"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert r.headers["content-type"].startswith("text/html")
    r = anon.get(home, params={"token": b.token(user)}, headers={"accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
    assert "<html" in r.text and f"token={b.token(user)}" in r.text  # links keep the token
    pw = facts.credentials_for(user).password
    login = facts.person(user).github_login if name == "tracker" else user
    r = anon.get(home, headers={"accept": "text/html", **basic(login, pw)})
    assert r.status_code == 200, r.text
    r = anon.get(home, headers={"accept": "text/html", **basic(login, pw + "x")})
    assert r.status_code == 401 and pw not in r.text
