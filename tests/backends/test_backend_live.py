"""Every backend over a real loopback socket (uvicorn on an ephemeral port): requests, urllib and PyGithub unchanged."""
from __future__ import annotations

import json
import threading
import urllib.request

import pytest
import requests
from backend_support import NAMES, LiveServer, user_of

from airgap.envs.worldgen import WorldFacts


def _one_write(name: str, facts: WorldFacts) -> tuple[str, str, dict]:
    """(user, path, JSON body) of one state-changing POST per backend."""
    p = facts.people[2]
    repo = facts.repos[0]
    fin = user_of(facts, "finance")
    return {
        "mail": (p.username, "/api/messages", {"to": [facts.people[3].email], "subject": "live", "body": "over TCP"}),
        "calendar": (p.username, "/api/events", {"title": "live", "start": "2031-02-03T10:00:00Z",
                                                 "end": "2031-02-03T11:00:00Z"}),
        "shop": (facts.shop.customers[0].username, "/api/cart/items",
                 {"sku": next(x.sku for x in facts.shop.products if x.stock > 0)}),
        "bank": (fin, "/api/transfers", {"from_account": facts.bank.accounts[0].id, "amount_cents": 100,
                                         "payee_id": next(x.id for x in facts.bank.payees if x.owner == "org")}),
        "tracker": (p.username, f"/repos/{repo.owner}/{repo.name}/issues", {"title": "live issue"}),
        "chat": (p.username, "/api/chat.postMessage", {"channel": "general", "text": "live"}),
    }[name]


@pytest.mark.parametrize("name", NAMES)
def test_backend_over_loopback(name, backends, live, facts):
    b = backends[name]
    server = live(name)
    events: list[dict] = []
    b.on_change = events.append
    user, path, body = _one_write(name, facts)
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {b.token(user)}"
    spec = s.get(server.url + "/openapi.json", timeout=10)
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")
    r = s.post(server.url + path, json=body, timeout=10)
    assert r.status_code == 201 if name not in ("chat",) else 200, r.text
    assert len(events) == 1 and events[0]["status"] == r.status_code and events[0]["path"] == path
    assert events[0]["changes"] and events[0]["method"] == "POST"
    # wrong credentials over the wire
    bad = requests.get(server.url + path, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert bad.status_code in (401, 405)
    # an HTML page with the stdlib client and basic auth
    page = "/orders" if name == "shop" else "/"
    login = facts.person(user).github_login if name == "tracker" else user
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, server.url, login, facts.credentials_for(user).password)
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr))
    with opener.open(urllib.request.Request(server.url + page, headers={"Accept": "text/html"}), timeout=10) as resp:
        assert resp.status == 200 and b"<html" in resp.read()


def test_concurrent_requests_are_serialised_safely(backends, live, facts):
    """Many clients at once on one backend: every write lands exactly once, nothing errors."""
    b = backends["chat"]
    server = live("chat")
    users = [p.username for p in facts.people[:8]]
    errors: list[str] = []

    def worker(u: str) -> None:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {b.token(u)}"
        for i in range(10):
            r = s.post(server.url + "/api/chat.postMessage", json={"channel": "random", "text": f"{u} {i}"}, timeout=20)
            if r.status_code != 200:
                errors.append(r.text)
            s.get(server.url + "/api/conversations.history", params={"channel": "random", "limit": 5}, timeout=20)

    threads = [threading.Thread(target=worker, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    texts = [m["text"] for m in b.state()["tables"]["messages"]]
    assert all(sum(t == f"{u} {i}" for t in texts) == 1 for u in users for i in range(10))


def test_pygithub_works_unchanged(backends, live, facts):
    import github  # PyGithub: a test dependency (pip install -e ".[test]")
    server = live("tracker")
    repo_f = facts.repos[0]
    eng = facts.person(user_of(facts, "engineer"))
    gh = github.Github(base_url=server.url, auth=github.Auth.Token(backends["tracker"].token(eng.username)), per_page=7,
                       seconds_between_requests=0, seconds_between_writes=0)  # PyGithub's politeness pauses, off
    assert gh.get_user().login == eng.github_login
    repo = gh.get_repo(f"{repo_f.owner}/{repo_f.name}")
    assert repo.full_name == f"{repo_f.owner}/{repo_f.name}" and repo.private
    open_issues = list(repo.get_issues(state="open"))                  # follows the Link headers, 7 per page
    assert len(open_issues) == sum(i.state == "open" for i in repo_f.issues)
    issue = repo.create_issue(title="Search times out when filtering", body="via PyGithub", labels=["bug"],
                              assignee=eng.github_login)
    issue.add_to_labels("performance")
    issue.create_comment("On it.")
    issue.edit(state="closed", state_reason="completed")
    again = repo.get_issue(issue.number)
    assert again.state == "closed" and {lab.name for lab in again.labels} == {"bug", "performance"}
    assert [c.body for c in again.get_comments()] == ["On it."]
    assert [a.login for a in again.assignees] == [eng.github_login]
    ms = repo.get_milestone(2)
    assert ms.title == repo_f.milestones[1].title
    with pytest.raises(github.GithubException) as e:
        gh.get_repo(f"{repo_f.owner}/does-not-exist")
    assert e.value.status == 404
    bad = github.Github(base_url=server.url, auth=github.Auth.Token("ghp_wrong"))
    with pytest.raises(github.BadCredentialsException):
        _ = bad.get_user().login


def test_serve_answers_json_to_curl_style_clients(backends, live, facts):
    server = live("tracker")
    tok = backends["tracker"].token(facts.people[2].username)
    req = urllib.request.Request(server.url + "/user", headers={"Authorization": f"token {tok}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["login"] == facts.people[2].github_login


def test_a_blocked_request_does_not_stall_other_backends_on_the_same_loop(backends, facts, monkeypatch):
    """One event loop serves two backends (like the gateway): while a bank request is stuck in its DB work, mail
    still answers, so the blocking work is off the loop. Checked by order of events, not by time."""
    bank, mail = backends["bank"], backends["mail"]

    async def by_host(scope, receive, send):
        host = dict(scope.get("headers", [])).get(b"host", b"").decode().split(":")[0]
        app = bank.app if host in bank.hosts else mail.app
        await app(scope, receive, send)

    entered, release = threading.Event(), threading.Event()
    real = type(bank)._accounts

    def stuck(self, db, user):
        entered.set()
        release.wait(30)
        return real(self, db, user)

    monkeypatch.setattr(type(bank), "_accounts", stuck)
    fin = user_of(facts, "finance")
    with LiveServer(by_host) as server:
        result: dict = {}

        def slow() -> None:
            result["bank"] = requests.get(server.url + "/api/accounts", timeout=60, headers={
                "Host": bank.hosts[0], "Authorization": f"Bearer {bank.token(fin)}"}).status_code

        t = threading.Thread(target=slow)
        t.start()
        assert entered.wait(30)
        r = requests.get(server.url + "/api/me", timeout=30, headers={
            "Host": mail.hosts[0], "Authorization": f"Bearer {mail.token(fin)}"})
        assert r.status_code == 200 and not release.is_set() and "bank" not in result
        release.set()
        t.join(30)
        assert result["bank"] == 200
