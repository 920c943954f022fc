"""The mail backend's HTTP routes, one APIRouter per area.

The mail backend's HTTP routes, one APIRouter per area: ``boxes_api`` (who you are, mailboxes, folders),
``messages_api`` (list, search, read, flag, move, delete, attachments), ``sending_api`` (send, reply, forward) and ``pages``
(the webmail's HTML pages). Handlers get the backend serving the request as ``b`` and the caller as ``user``."""

import json
from email.utils import parseaddr
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as Path_
from fastapi.responses import HTMLResponse

from airgap.envs.backends.mail import MailBackend
from airgap.envs.backends.mail.model import (
    DeleteOut,
    FolderIn,
    FolderOut,
    ForwardIn,
    MailboxOut,
    MeOut,
    MessageList,
    MessageOut,
    MoveIn,
    PatchIn,
    ReplyIn,
    SendIn,
    SentOut,
)
from airgap.envs.backends.web import ApiError, BearerAuth, current_backend, html_page, page_user

Mail = Annotated[MailBackend, Depends(current_backend)]
User = Annotated[str, Depends(BearerAuth())]
PageUser = Annotated[str, Depends(page_user)]
Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
MsgId = Annotated[int, Path_(ge=1, le=2**62)]
AttachmentId = Annotated[int, Path_(ge=1, le=2**62)]

boxes_api = APIRouter(prefix="/api")
messages_api = APIRouter(prefix="/api")
sending_api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)


@boxes_api.get("/me", response_model=MeOut, tags=["mailboxes"])
def me(b: Mail, user: User) -> dict:
    """Who you are and which mailboxes you can read."""
    with b.read() as db:
        p = b.facts.person(user)
        return {"username": user, "name": p.name, "email": p.email, "mailboxes": b._mailboxes(db, user)}


@boxes_api.get("/mailboxes", response_model=list[MailboxOut], tags=["mailboxes"])
def mailboxes(b: Mail, user: User) -> list:
    """Your mailbox and the shared mailboxes you are a member of."""
    with b.read() as db:
        return b._mailboxes(db, user)


@boxes_api.get("/mailboxes/{address}/folders", response_model=list[FolderOut], tags=["folders"])
def folders(b: Mail, address: str, user: User) -> list:
    """Folders of one mailbox with message counts."""
    with b.read() as db:
        box = b._box(db, user, address)
        return b._folders(db, box)


@boxes_api.post("/mailboxes/{address}/folders", response_model=FolderOut, status_code=201, tags=["folders"])
def create_folder(b: Mail, address: str, body: FolderIn, user: User, request: Request) -> dict:
    """Create a folder."""
    with b.write(request) as db:
        box = b._box(db, user, address)
        if db.execute("SELECT 1 FROM folders WHERE mailbox = ? AND lower(name) = lower(?)",
                      (box, body.name)).fetchone():
            raise ApiError(409, f"folder {body.name!r} already exists in {box}", "conflict")
        db.execute("INSERT INTO folders (mailbox, name, system) VALUES (?, ?, 0)", (box, body.name))
        return {"name": body.name, "system": False, "total": 0, "unread": 0}


@messages_api.get("/messages", response_model=MessageList, response_model_by_alias=True, tags=["messages"])
def list_messages(b: Mail, user: User, mailbox: str | None = None, folder: str | None = None,
                  q: Annotated[str | None, Query(max_length=200, description="words in subject, body, addresses")] = None,
                  sender: Annotated[str | None, Query(alias="from", max_length=200)] = None,
                  unread: bool | None = None, limit: Limit = 50, offset: Offset = 0) -> dict:
    """List or search messages, newest first. Without folder, q or from: the INBOX; with q: every folder."""
    with b.read() as db:
        return b.search(db, user, mailbox, folder, q, sender, unread, limit, offset)


@messages_api.get("/messages/{message_id}", response_model=MessageOut, tags=["messages"])
def get_message(b: Mail, message_id: MsgId, user: User) -> dict:
    """One message with its body and attachment list (does not mark it read: PATCH does)."""
    with b.read() as db:
        return b._full(db, b._message_row(db, user, message_id))


@messages_api.patch("/messages/{message_id}", response_model=MessageOut, tags=["messages"])
def patch_message(b: Mail, message_id: MsgId, body: PatchIn, user: User, request: Request) -> dict:
    """Mark read/unread, flag/unflag."""
    with b.write(request) as db:
        r = b._message_row(db, user, message_id)
        if body.read is not None:
            db.execute("UPDATE messages SET is_read = ? WHERE id = ?", (int(body.read), r["id"]))
        if body.flagged is not None:
            db.execute("UPDATE messages SET flagged = ? WHERE id = ?", (int(body.flagged), r["id"]))
        return b._full(db, b._message_row(db, user, message_id))


@messages_api.post("/messages/{message_id}/move", response_model=MessageOut, tags=["messages"])
def move_message(b: Mail, message_id: MsgId, body: MoveIn, user: User, request: Request) -> dict:
    """Move a message to another folder of its mailbox."""
    with b.write(request) as db:
        r = b._message_row(db, user, message_id)
        folder = b._folder(db, r["mailbox"], body.folder)
        db.execute("UPDATE messages SET folder = ? WHERE id = ?", (folder, r["id"]))
        return b._full(db, b._message_row(db, user, message_id))


@messages_api.delete("/messages/{message_id}", response_model=DeleteOut, tags=["messages"])
def delete_message(b: Mail, message_id: MsgId, user: User, request: Request) -> dict:
    """Move to Trash; a message already in Trash is deleted for good (with its attachments)."""
    with b.write(request) as db:
        r = b._message_row(db, user, message_id)
        if r["folder"] == "Trash":
            db.execute("DELETE FROM attachments WHERE message = ?", (r["id"],))
            db.execute("DELETE FROM messages WHERE id = ?", (r["id"],))
            return {"id": r["id"], "deleted": True, "folder": None}
        db.execute("UPDATE messages SET folder = 'Trash' WHERE id = ?", (r["id"],))
        return {"id": r["id"], "deleted": False, "folder": "Trash"}


@messages_api.get("/messages/{message_id}/attachments/{attachment_id}", tags=["messages"],
         response_class=Response, responses={200: {"content": {"application/octet-stream": {}},
                                                   "description": "the file"}})
def download(b: Mail, message_id: MsgId, attachment_id: AttachmentId, user: User) -> Response:
    """The attachment's bytes, with its content type and file name."""
    with b.read() as db:
        return b._download(db, user, message_id, attachment_id)


@sending_api.post("/messages", response_model=SentOut, status_code=201, tags=["send"])
def send(b: Mail, body: SendIn, user: User, request: Request) -> dict:
    """Send a message (or save a draft). Local recipients and mailing lists get a copy in their INBOX."""
    files = b._attachments_in(body.attachments)
    with b.write(request) as db:
        box = b._box(db, user, body.from_mailbox)
        return b.deliver(db, user, box, body.to, body.cc, body.bcc, body.subject, body.body, files,
                            draft=body.draft)


@sending_api.post("/messages/{message_id}/reply", response_model=SentOut, status_code=201, tags=["send"])
def reply(b: Mail, message_id: MsgId, body: ReplyIn, user: User, request: Request) -> dict:
    """Reply from the mailbox the message is in (to its sender; reply_all adds the other recipients)."""
    files = b._attachments_in(body.attachments)
    with b.write(request) as db:
        r = b._message_row(db, user, message_id)
        box = r["mailbox"]
        orig_from = parseaddr(r["sender"])[1].lower()
        to = [orig_from] if orig_from != box else json.loads(r["recipients"])
        cc: list[str] = []
        if body.reply_all:
            cc = [a for a in json.loads(r["recipients"]) + json.loads(r["cc"]) if a.lower() not in (box, *to)]
        subject = r["subject"] if r["subject"].lower().startswith("re:") else f"Re: {r['subject']}"
        quoted = "\n".join("> " + line for line in r["body"].splitlines())
        text = f"{body.body}\n\nOn {r['date']}, {r['sender']} wrote:\n{quoted}\n"
        return b.deliver(db, user, box, to, cc, [], subject, text, files, r["message_id"], r["thread_id"])


@sending_api.post("/messages/{message_id}/forward", response_model=SentOut, status_code=201, tags=["send"])
def forward(b: Mail, message_id: MsgId, body: ForwardIn, user: User, request: Request) -> dict:
    """Forward a message with its attachments."""
    with b.write(request) as db:
        r = b._message_row(db, user, message_id)
        files = [(a[0], a[1], a[2]) for a in db.execute(
            "SELECT filename, content_type, data FROM attachments WHERE message = ? ORDER BY id", (r["id"],))]
        subject = r["subject"] if r["subject"].lower().startswith("fwd:") else f"Fwd: {r['subject']}"
        text = (f"{body.body}\n\n---------- Forwarded message ---------\nFrom: {r['sender']}\nDate: {r['date']}\n"
                f"Subject: {r['subject']}\nTo: {', '.join(json.loads(r['recipients']))}\n\n{r['body']}")
        return b.deliver(db, user, r["mailbox"], body.to, body.cc, [], subject, text, files)

# ---------------------------------------------------------------------------------------------- HTML pages
@pages.get("/", response_class=HTMLResponse)
def inbox_page(b: Mail, request: Request, user: PageUser, mailbox: str | None = None, folder: str | None = None,
               q: str | None = None, page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> HTMLResponse:
    """A mailbox's folder (the INBOX by default) or a search in it, with the mailboxes and folders to switch to."""
    with b.read() as db:
        res = b.search(db, user, mailbox, folder, q, None, None, 50, (page - 1) * 50)
        box = b._box(db, user, mailbox)
        boxes = b._mailboxes(db, user)
        folders = b._folders(db, box)
    return html_page(request, "mail/inbox.html.j2", f"{box} - {folder or ('search' if q else 'INBOX')}",
                     [("/", "Inbox")], user, box=box, boxes=boxes, folders=folders, q=q, result=res)


@pages.get("/message/{message_id}", response_class=HTMLResponse)
def message_page(b: Mail, message_id: MsgId, request: Request, user: PageUser) -> HTMLResponse:
    """One message: headers, body, links to its attachments."""
    with b.read() as db:
        m = b._full(db, b._message_row(db, user, message_id))
    return html_page(request, "mail/message.html.j2", m["subject"] or "(no subject)",
                     [(f"/?mailbox={m['mailbox']}", "Inbox")], user, m=m)


@pages.get("/attachment/{message_id}/{attachment_id}")
def attachment_page(b: Mail, message_id: MsgId, attachment_id: AttachmentId, user: PageUser) -> Response:
    """An attachment's bytes, for the links on a message page."""
    with b.read() as db:
        return b._download(db, user, message_id, attachment_id)


routers = [boxes_api, messages_api, sending_api, pages]
