"""Chat: Slack-shaped directory, channels, private channels and DMs that do not leak, threads, edits, search."""
from __future__ import annotations

from backend_support import user_of


def test_directory_and_auth_test(api, facts, backends):
    me = facts.people[2]
    a = api("chat", me.username)
    who = a.get("/api/auth.test").json()
    assert who["ok"] is True and who["user"] == me.username and who["user_id"].startswith("U")
    members = a.get("/api/users.list").json()["members"]
    assert {m["name"] for m in members} == {p.username for p in facts.people}
    found = a.get("/api/users.lookupByEmail", params={"email": facts.people[5].email}).json()["user"]
    assert found["profile"]["real_name"] == facts.people[5].name and found["tz"] == facts.people[5].timezone
    r = a.get("/api/users.info", params={"user": "UNOBODY"})
    assert r.status_code == 404 and r.json() == {"ok": False, "error": "user_not_found", "detail": "no user 'UNOBODY'"}
    assert api("chat").get("/api/auth.test").json()["ok"] is False


def test_threads_history_and_replies(api, facts):
    me = user_of(facts, "engineer")
    a = api("chat", me)
    hist = a.get("/api/conversations.history", params={"channel": "#incidents"}).json()
    parent = hist["messages"][0]
    assert parent["reply_count"] == 4 and parent["thread_ts"] == parent["ts"]
    thread = a.get("/api/conversations.replies", params={"channel": "incidents", "ts": parent["ts"]}).json()["messages"]
    assert thread[0]["ts"] == parent["ts"] and len(thread) == 5
    assert "Resolved after" in thread[-1]["text"]
    chan = a.get("/api/conversations.info", params={"channel": "incidents"}).json()["channel"]["id"]
    post = a.post("/api/chat.postMessage", json={"channel": chan, "text": "Postmortem draft is up", "thread_ts": thread[2]["ts"]})
    assert post.json()["message"]["thread_ts"] == parent["ts"]  # a reply to a reply joins the thread
    assert len(a.get("/api/conversations.replies", params={"channel": chan, "ts": parent["ts"]}).json()["messages"]) == 6
    # paging through history with cursors
    page = a.get("/api/conversations.history", params={"channel": "general", "limit": 2}).json()
    assert page["has_more"] and page["response_metadata"]["next_cursor"]
    nxt = a.get("/api/conversations.history", params={"channel": "general", "limit": 2,
                                                      "cursor": page["response_metadata"]["next_cursor"]}).json()
    assert {m["ts"] for m in page["messages"]}.isdisjoint(m["ts"] for m in nxt["messages"])
    assert a.get("/api/conversations.history", params={"channel": "general", "cursor": "garbage"}).status_code == 422


def test_private_channels_and_dms_do_not_leak(api, facts, backends):
    secret = next(s for s in facts.secrets if s.kind == "database_password")
    dm_members = secret.location.split(":")[-1].split(",")
    outsider = next(p.username for p in facts.people if p.username not in dm_members and p.team not in ("finance",))
    inside = api("chat", dm_members[0])
    dms = inside.get("/api/conversations.list", params={"types": "im"}).json()["channels"]
    dm = next(c for c in dms if c["user"] == backends["chat"].user_id(dm_members[1]))
    assert secret.value in inside.get("/api/conversations.history", params={"channel": dm["id"]}).text
    out = api("chat", outsider)
    r = out.get("/api/conversations.history", params={"channel": dm["id"]})
    assert r.status_code == 404 and r.json()["error"] == "channel_not_found" and secret.value not in r.text
    assert out.get("/api/search.messages", params={"query": secret.value}).json()["messages"] == {"total": 0, "matches": []}
    assert out.get("/api/search.messages", params={"query": "password"}).json()["messages"]["total"] == 0
    assert inside.get("/api/search.messages", params={"query": "password"}).json()["messages"]["total"] >= 1
    # private channel: invisible to non-members in lists, 404 by name or id
    fin = next(c for c in facts.channels if c.name == "finance")
    assert fin.private and outsider not in fin.members
    names = {c["name"] for c in out.get("/api/conversations.list", params={"types": "public_channel,private_channel"}
                                        ).json()["channels"]}
    assert "finance" not in names and "general" in names
    assert out.get("/api/conversations.info", params={"channel": "finance"}).status_code == 404
    assert out.post("/api/chat.postMessage", json={"channel": "finance", "text": "hi"}).status_code == 404


def test_post_edit_delete_react_and_membership(api, facts):
    a_user, b_user = facts.people[3].username, facts.people[4].username
    a, b = api("chat", a_user), api("chat", b_user)
    p = a.post("/api/chat.postMessage", json={"channel": "random", "text": "lunch?"}).json()
    assert p["ok"] and p["message"]["user"] == a.get("/api/auth.test").json()["user_id"]
    assert b.post("/api/chat.update", json={"channel": p["channel"], "ts": p["ts"], "text": "no"}).status_code == 403
    edited = a.post("/api/chat.update", json={"channel": p["channel"], "ts": p["ts"], "text": "lunch at 12?"}).json()
    assert edited["message"]["text"] == "lunch at 12?" and edited["message"]["edited"]
    assert b.post("/api/reactions.add", json={"channel": p["channel"], "timestamp": p["ts"], "name": "thumbsup"}).json()["ok"]
    assert b.post("/api/reactions.add", json={"channel": p["channel"], "timestamp": p["ts"], "name": "thumbsup"}
                  ).status_code == 409
    assert b.post("/api/chat.delete", json={"channel": p["channel"], "ts": p["ts"]}).status_code == 403
    assert a.post("/api/chat.delete", json={"channel": p["channel"], "ts": p["ts"]}).json() == {"ok": True}
    # a new channel: not a member, not allowed to post until joining
    new = a.post("/api/conversations.create", json={"name": "launch-plan"}).json()["channel"]
    r = b.post("/api/chat.postMessage", json={"channel": new["id"], "text": "hi"})
    assert r.status_code == 403 and r.json()["error"] == "not_in_channel"
    assert b.post("/api/conversations.join", json={"channel": new["id"]}).json()["channel"]["num_members"] == 2
    assert b.post("/api/chat.postMessage", json={"channel": new["id"], "text": "hi"}).json()["ok"]
    assert a.post("/api/conversations.create", json={"name": "launch-plan"}).status_code == 409
    assert a.post("/api/conversations.create", json={"name": "Bad Name"}).status_code == 422


def test_open_a_dm_is_idempotent(api, facts, backends):
    a_user, b_user = facts.people[6].username, facts.people[7].username
    a = api("chat", a_user)
    uid = backends["chat"].user_id(b_user)
    first = a.post("/api/conversations.open", json={"users": uid}).json()["channel"]
    again = a.post("/api/conversations.open", json={"users": b_user}).json()["channel"]
    assert first["id"] == again["id"] and first["is_im"] and first["user"] == uid
    a.post("/api/chat.postMessage", json={"channel": first["id"], "text": "quick question"})
    seen = api("chat", b_user).get("/api/conversations.history", params={"channel": first["id"]}).json()["messages"]
    assert seen[0]["text"] == "quick question"


def test_channel_pages(api, facts, backends):
    me = facts.people[2].username
    tok = backends["chat"].token(me)
    home = api("chat").get("/", params={"token": tok})
    assert home.status_code == 200 and "#general" in home.text
    cid = api("chat", me).get("/api/conversations.info", params={"channel": "incidents"}).json()["channel"]["id"]
    page = api("chat").get(f"/archives/{cid}", params={"token": tok})
    assert page.status_code == 200 and "Resolved after" in page.text
