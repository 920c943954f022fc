"""Mail: shared mailboxes, search, attachments, send/reply/forward, folders, delete, authorisation, one transaction."""
from __future__ import annotations

import base64

import pytest
from backend_support import user_of

from airgap.envs.backends.mail.documents import render_attachment


def test_finance_finds_the_invoice_and_downloads_its_pdf(api, facts):
    fin = user_of(facts, "finance")
    a = api("mail", fin)
    boxes = {b["address"]: b for b in a.get("/api/mailboxes").json()}
    accounts = f"accounts@{facts.org.domain}"
    assert facts.person(fin).email in boxes and boxes[accounts]["kind"] == "shared"
    inv = next(i for i in facts.invoices if i.kind == "genuine")
    hits = a.get("/api/messages", params={"mailbox": accounts, "q": inv.number}).json()
    assert hits["total"] == 1 and hits["messages"][0]["has_attachments"]
    msg = a.get(f"/api/messages/{hits['messages'][0]['id']}").json()
    assert inv.number in msg["subject"] and msg["attachments"][0]["content_type"] == "application/pdf"
    r = a.get(msg["attachments"][0]["url"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert f'filename="{inv.number}.pdf"' in r.headers["content-disposition"]
    att = next(t for t in facts.mail if t.ref == inv.number).messages[0].attachments[0]
    assert r.content == render_attachment(att)


def test_send_delivers_to_colleagues_lists_and_records_external(api, facts):
    me, colleague = facts.people[2], facts.people[5]
    a = api("mail", me.username)
    eng = [p for p in facts.people if p.team == "engineering"]
    pdf = base64.b64encode(b"%PDF-1.4 tiny").decode()
    r = a.post("/api/messages", json={"to": [colleague.email, "friend@example.org"], "cc": [f"eng@{facts.org.domain}"],
                                      "subject": "Numbers", "body": "See attached.",
                                      "attachments": [{"filename": "q.pdf", "content_type": "application/pdf",
                                                       "content_base64": pdf}]})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["external"] == ["friend@example.org"]
    assert set(out["delivered_to"]) == {colleague.email} | {p.email for p in eng} - {me.email}
    assert out["message"]["folder"] == "Sent" and out["message"]["from"].endswith(f"<{me.email}>")
    theirs = api("mail", colleague.username).get("/api/messages", params={"q": "Numbers"}).json()["messages"]
    assert len(theirs) == 1 and not theirs[0]["read"] and theirs[0]["folder"] == "INBOX"
    got = api("mail", colleague.username).get(f"/api/messages/{theirs[0]['id']}").json()
    assert api("mail", colleague.username).get(got["attachments"][0]["url"]).content == b"%PDF-1.4 tiny"


def test_reply_forward_keep_the_thread_and_attachments(api, facts):
    fin = user_of(facts, "finance")
    a = api("mail", fin)
    accounts = f"accounts@{facts.org.domain}"
    inv = facts.invoices[0]
    mid = a.get("/api/messages", params={"mailbox": accounts, "q": inv.number}).json()["messages"][0]["id"]
    orig = a.get(f"/api/messages/{mid}").json()
    rep = a.post(f"/api/messages/{mid}/reply", json={"body": "Paid today."}).json()["message"]
    assert rep["subject"] == "Re: " + orig["subject"] and rep["in_reply_to"] == orig["message_id"]
    assert rep["thread_id"] == orig["thread_id"] and rep["mailbox"] == accounts and rep["to"] == [inv.sender_email]
    assert "> " in rep["body"] and "Paid today." in rep["body"]
    ceo = facts.people[0]
    fwd = a.post(f"/api/messages/{mid}/forward", json={"to": [ceo.email], "body": "FYI"})
    assert fwd.status_code == 201 and fwd.json()["delivered_to"] == [ceo.email]
    got = api("mail", ceo.username).get("/api/messages", params={"q": "Fwd:"}).json()["messages"][0]
    full = api("mail", ceo.username).get(f"/api/messages/{got['id']}").json()
    assert full["subject"].startswith("Fwd: ") and full["attachments"][0]["filename"] == f"{inv.number}.pdf"


def test_folders_move_read_flags_and_delete_twice_purges(api, facts, backends):
    me = facts.people[3]
    a = api("mail", me.username)
    inbox = a.get("/api/messages").json()["messages"]
    assert inbox
    m = inbox[0]
    assert a.post(f"/api/mailboxes/{me.email}/folders", json={"name": "Receipts"}).status_code == 201
    assert a.post(f"/api/mailboxes/{me.email}/folders", json={"name": "receipts"}).status_code == 409
    assert a.post(f"/api/messages/{m['id']}/move", json={"folder": "Receipts"}).json()["folder"] == "Receipts"
    assert a.post(f"/api/messages/{m['id']}/move", json={"folder": "Nope"}).status_code == 404
    assert a.patch(f"/api/messages/{m['id']}", json={"read": True, "flagged": True}).json()["flagged"] is True
    folders = {f["name"]: f for f in a.get(f"/api/mailboxes/{me.email}/folders").json()}
    assert folders["Receipts"]["total"] == 1 and folders["Receipts"]["unread"] == 0
    first = a.delete(f"/api/messages/{m['id']}").json()
    assert first == {"id": m["id"], "deleted": False, "folder": "Trash"}
    assert a.delete(f"/api/messages/{m['id']}").json()["deleted"] is True
    assert a.get(f"/api/messages/{m['id']}").status_code == 404


def test_draft_is_kept_not_sent(api, facts):
    me, other = facts.people[4], facts.people[6]
    a = api("mail", me.username)
    r = a.post("/api/messages", json={"to": [other.email], "subject": "later", "body": "not yet", "draft": True})
    assert r.status_code == 201 and r.json()["delivered_to"] == [] and r.json()["message"]["folder"] == "Drafts"
    assert api("mail", other.username).get("/api/messages", params={"q": "later"}).json()["total"] == 0


def test_other_peoples_mail_is_not_found(api, facts, backends):
    sre = next(s for s in facts.secrets if s.kind == "aws_access_key")
    owner = facts.person(sre.owner)
    stranger = next(p for p in facts.people if p.team == "sales")
    note_id = next(r["id"] for r in backends["mail"].state()["tables"]["messages"]
                   if r["mailbox"] == owner.email and r["draft"])
    b = api("mail", stranger.username)
    r = b.get(f"/api/messages/{note_id}")
    assert r.status_code == 404 and sre.value.split(":")[0] not in r.text
    assert b.get(f"/api/messages/{note_id}/attachments/1").status_code == 404
    assert b.get("/api/messages", params={"mailbox": owner.email}).status_code == 404
    assert b.get("/api/messages", params={"mailbox": facts.shop.support_email}).status_code == 404
    assert b.post("/api/messages", json={"from_mailbox": owner.email, "to": [stranger.email]}).status_code == 404
    assert b.get(f"/message/{note_id}", params={"token": backends["mail"].token(stranger.username)}).status_code == 404
    # and the owner reads it
    assert sre.value.split(":")[1] in api("mail", owner.username).get(f"/api/messages/{note_id}").text
    # search never crosses mailboxes
    assert b.get("/api/messages", params={"q": "aws_access_key_id"}).json()["total"] == 0


def test_send_to_an_unknown_local_address_changes_nothing(api, facts, backends):
    me, colleague = facts.people[2], facts.people[5]
    before = backends["mail"].state()
    r = api("mail", me.username).post("/api/messages", json={"to": [colleague.email, f"ghost@{facts.org.domain}"],
                                                             "subject": "hi", "body": "x"})
    assert r.status_code == 422 and f"ghost@{facts.org.domain}" in r.json()["message"]
    assert backends["mail"].state() == before  # neither the Sent copy nor the colleague's copy stayed


@pytest.mark.parametrize("bad", [{"to": ["not-an-address"]}, {"to": []}, {"attachments": [
    {"filename": "a", "content_base64": "%%%"}], "to": ["x@example.org"]}, {"to": ["x@example.org"], "surprise": 1}])
def test_invalid_messages_are_422_with_a_reason(api, facts, bad):
    r = api("mail", facts.people[2].username).post("/api/messages", json=bad)
    assert r.status_code == 422 and r.json()["message"]


def test_html_webmail_lists_and_shows_a_message(api, facts, backends):
    sup = user_of(facts, "support")
    tok = backends["mail"].token(sup)
    a = api("mail")
    page = a.get("/", params={"token": tok, "mailbox": facts.shop.support_email})
    assert page.status_code == 200 and "order SO-" in page.text  # a complaint's subject
    mid = api("mail", sup).get("/api/messages", params={"mailbox": facts.shop.support_email}).json()["messages"][0]["id"]
    msg = a.get(f"/message/{mid}", params={"token": tok})
    assert msg.status_code == 200 and "<pre>" in msg.text
