"""A task's world may make the backends behave: ``world.colleagues`` (people who answer a direct message in chat,
rule-based from what they know) and ``world.faults`` (transient outages in front of a backend). Real HTTP semantics
over each backend's ASGI app."""
from __future__ import annotations

import asyncio

import httpx

from airgap.envs.world import TransientFaults


def test_a_colleague_answers_a_direct_message_from_what_they_know(api, backends, facts):
    me, them, stranger = facts.people[2].username, facts.people[5].username, facts.people[6].username
    backends["chat"].behave({"colleagues": {them: {
        "rules": [{"match": r"deposit|how much", "reply": "The deposit is $1,250.00, to Harbor Catering."}],
        "default": "No idea, sorry - ask Sam, she booked it."}}})
    try:
        chat = api("chat", me)
        dm = chat.post("/api/conversations.open", json={"users": them}).json()["channel"]["id"]
        assert chat.post("/api/chat.postMessage", json={"channel": dm, "text": "How much is the offsite deposit?"}).json()["ok"]
        chat.post("/api/chat.postMessage", json={"channel": dm, "text": "And who is speaking at the offsite?"})
        texts = [m["text"] for m in reversed(chat.get("/api/conversations.history", params={"channel": dm}).json()["messages"])]
        assert texts[-4:] == ["How much is the offsite deposit?", "The deposit is $1,250.00, to Harbor Catering.",
                         "And who is speaking at the offsite?", "No idea, sorry - ask Sam, she booked it."]
        # nobody else answers, and a channel message gets no reply
        other = chat.post("/api/conversations.open", json={"users": stranger}).json()["channel"]["id"]
        before = len(chat.get("/api/conversations.history", params={"channel": other}).json()["messages"])
        chat.post("/api/chat.postMessage", json={"channel": other, "text": "How much is the deposit?"})
        assert len(chat.get("/api/conversations.history", params={"channel": other}).json()["messages"]) == before + 1
    finally:
        backends["chat"].behave({})


def test_a_colleague_answers_an_at_mention_in_a_channel_in_its_thread(api, backends, facts):
    unique = [p for p in facts.people[3:] if [q.first_name for q in facts.people].count(p.first_name) == 1]
    me, them, other = facts.people[2], unique[0], unique[1]
    chat_b = backends["chat"]
    chat_b.behave({"colleagues": {them.username: {
        "rules": [{"match": r"deposit|how much", "reply": "The deposit is $1,250.00, to Harbor Catering."}],
        "default": "No idea, sorry."}, other.username: {"rules": [], "default": "Not my area."}}})
    try:
        chat = api("chat", me.username)
        chat.post("/api/conversations.create", json={"name": "offsite-planning"})
        cid = chat.get("/api/conversations.info", params={"channel": "offsite-planning"}).json()["channel"]["id"]

        def thread(ts):
            return [(m["user"], m["text"]) for m in chat.get("/api/conversations.replies",
                                                              params={"channel": cid, "ts": ts}).json()["messages"]]

        uid = {p.username: chat_b.user_id(p.username) for p in (me, them, other)}
        # the forms a mention takes: Slack's <@U...>, a typed @username, @display name and @Full Name
        for text in (f"<@{uid[them.username]}> how much is the offsite deposit?",
                     f"@{them.username}: how much is the deposit?", f"Hey @{them.first_name}, how much is the deposit?",
                     f"@{them.name} - how much is the deposit?"):
            ts = chat.post("/api/chat.postMessage", json={"channel": cid, "text": text}).json()["ts"]
            assert thread(ts) == [(uid[me.username], text),
                                  (uid[them.username], "The deposit is $1,250.00, to Harbor Catering.")], text
        # a mention inside a thread is answered in that thread; two colleagues both answer, in the order named
        root = chat.post("/api/chat.postMessage", json={"channel": cid, "text": "Offsite logistics"}).json()["ts"]
        chat.post("/api/chat.postMessage", json={"channel": cid, "thread_ts": root,
                                                 "text": f"@{other.username} @{them.username} who is speaking?"})
        assert thread(root)[1:] == [(uid[me.username], f"@{other.username} @{them.username} who is speaking?"),
                                    (uid[other.username], "Not my area."), (uid[them.username], "No idea, sorry.")]
        # no mention, an e-mail address, a name that is nobody's: no answer
        for text in ("how much is the deposit?", f"mail {them.email} about the deposit", "@nobody-here deposit?"):
            ts = chat.post("/api/chat.postMessage", json={"channel": cid, "text": text}).json()["ts"]
            assert len(thread(ts)) == 1, text
        # the graders' diff: each answer is a messages row in the channel, by the colleague, in the thread
        before = chat_b.state()
        ts = chat.post("/api/chat.postMessage", json={"channel": cid, "text": f"<@{uid[them.username]}> deposit?"}).json()["ts"]
        rows = [d["after"] for d in chat_b.diff(before, chat_b.state()) if d["table"] == "messages"]
        assert [(r["user"], r["thread_ts"]) for r in rows] == [(uid[me.username], None), (uid[them.username], ts)]
    finally:
        chat_b.behave({})


def test_transient_faults_answer_503_then_pass_requests_through(backends, facts):
    bank = backends["bank"]
    user = next(a.holders[0] for a in facts.bank.accounts if a.owner == "org")
    app = TransientFaults(bank.app, [{"service": "bank", "method": "GET", "path": "/api/accounts", "times": 2}])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"https://{bank.hosts[0]}",
                               headers={"Authorization": f"Bearer {bank.token(user)}"})
    loop = asyncio.new_event_loop()
    try:
        got = [loop.run_until_complete(client.get("/api/accounts")) for _ in range(3)]
        assert [r.status_code for r in got] == [503, 503, 200]
        assert got[0].headers["retry-after"] == "1" and "retry" in got[0].json()["detail"]
        assert loop.run_until_complete(client.get("/api/payees")).status_code == 200  # other paths untouched
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()
