"""The webmail: sign in, read, search, compose, reply, forward, move and delete mail in server-rendered forms.

Log-in, mailboxes and folders, message list with paging and search, read, compose (with attachments),
reply, reply all, forward, move, delete (to Trash; for good from Trash after a confirmation), read/flag marks, new
folders. Server-rendered forms (``pages/web_*.html.j2``); every write calls the JSON API's handler in ``api.py``, so
its rows and ``backend_change`` event are the API's (named as that call, ``via: web``)."""
import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from airgap.envs.backends.mail import ADDRESS, MailBackend, api
from airgap.envs.backends.mail.model import FolderIn, ForwardIn, MoveIn, PatchIn, ReplyIn, SendIn
from airgap.envs.backends.web import PageError, current_backend
from airgap.envs.backends.webapp import WebApp, api_origin, build, call_api, read_form, redirect, split_list, text

PAGE_SIZE = 25

APP = WebApp(
    brand=lambda b: f"{b.facts.org.name} Mail",
    home="/mail",
    nav=[("/mail", "Inbox"), ("/mail/compose", "Compose")],
    accent="#c5221f",
    notices={"sent": "Your message was sent.", "draft": "Your draft was saved in Drafts.",
             "moved": "The message was moved.", "trashed": "The message was moved to Trash.",
             "purged": "The message was deleted for good.", "marked": "The message was updated.",
             "folder": "The folder was created."},
)
Mail = Annotated[MailBackend, Depends(current_backend)]
WebUser = Annotated[str, Depends(APP.user)]
web = APIRouter(include_in_schema=False)
LABELS = {"to": "To", "cc": "Cc", "bcc": "Bcc", "subject": "Subject", "body": "Message", "from_mailbox": "From",
          "attachments": "Attachments", "name": "Folder name", "folder": "Folder"}


def _side(b: MailBackend, user: str, box: str) -> dict[str, Any]:
    with b.read() as db:
        return {"boxes": b._mailboxes(db, user), "folders": b._folders(db, box), "box": box}


def _message(b: MailBackend, user: str, mid: int) -> dict[str, Any]:
    with b.read() as db:
        return b._full(db, b._message_row(db, user, mid))


def _folder_view(request: Request, b: MailBackend, user: str, mailbox: str | None, folder: str | None,
                 q: str | None, page: int, status: int = 200, errors: list[str] | None = None,
                 new_folder: str = "") -> HTMLResponse:
    with b.read() as db:
        box = b._box(db, user, mailbox)
        res = b.search(db, user, box, folder, q or None, None, None, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        folder = b._folder(db, box, folder) if folder else (None if q else "INBOX")
    pages = max(1, -(-res["total"] // PAGE_SIZE))
    title = f"Search results for “{q}”" if q else str(folder)
    return APP.page(request, "mail/web_folder.html.j2", title, user, status=status, errors=errors, result=res,
                    folder=folder, q=q or "", page=page, pages=pages, page_size=PAGE_SIZE, new_folder=new_folder,
                    **_side(b, user, box))


@web.get("/mail", response_class=HTMLResponse)
def folder_page(b: Mail, request: Request, user: WebUser, mailbox: str | None = None, folder: str | None = None,
                q: Annotated[str | None, Query(max_length=200)] = None,
                page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """A folder of a mailbox (INBOX by default) or a search in the mailbox, 25 messages a page, newest first."""
    return _folder_view(request, b, user, mailbox, folder, q, page)


@web.get("/mail/message/{message_id}", response_class=HTMLResponse)
def message_page(b: Mail, message_id: api.MsgId, request: Request, user: WebUser) -> HTMLResponse:
    """One message: headers, body, attachments to download, and what can be done with it."""
    m = _message(b, user, message_id)
    return APP.page(request, "mail/web_message.html.j2", m["subject"] or "(no subject)", user, m=m,
                    current="/mail", **_side(b, user, m["mailbox"]))


@web.get("/mail/message/{message_id}/attachment/{attachment_id}")
def attachment(b: Mail, message_id: api.MsgId, attachment_id: api.AttachmentId, request: Request,
               user: WebUser) -> Response:
    """Download an attachment (the API's bytes, content type and file name)."""
    with b.read() as db:
        return b._download(db, user, message_id, attachment_id)


# ------------------------------------------------------------------------------------------------ compose
def _compose(request: Request, b: MailBackend, user: str, mode: str, orig: dict | None, values: dict[str, Any],
             errors: dict[str, str] | list[str] | None = None, status: int = 200) -> HTMLResponse:
    title = {"new": "New message", "reply": "Reply", "forward": "Forward"}[mode]
    box = orig["mailbox"] if orig else (values.get("from_mailbox") or b._own(user))
    side = _side(b, user, box)
    return APP.page(request, "mail/web_compose.html.j2", title, user, status=status, errors=errors, mode=mode,
                    orig=orig, v=values, current="/mail/compose", **side)


@web.get("/mail/compose", response_class=HTMLResponse)
def compose_form(b: Mail, request: Request, user: WebUser, reply: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                 forward: Annotated[int | None, Query(ge=1, le=2**62)] = None, all: bool = False,
                 mailbox: str | None = None) -> HTMLResponse:
    """A new message, or a reply (``?reply=<id>``, ``&all=1`` for reply all) or forward (``?forward=<id>``)."""
    if reply and forward:
        raise PageError(400, "reply or forward, not both")
    if reply or forward:
        orig = _message(b, user, reply or forward)  # type: ignore[arg-type]
        mode = "reply" if reply else "forward"
        return _compose(request, b, user, mode, orig, {"reply_all": all, "body": ""})
    return _compose(request, b, user, "new", None, {"from_mailbox": mailbox or b._own(user)})


async def _files(form: Any) -> tuple[list[dict[str, str]], list[str]]:
    out, errors = [], []
    for f in form.getlist("attachments"):
        if isinstance(f, UploadFile) and f.filename:
            data = await f.read()
            out.append({"filename": f.filename[:255], "content_type": f.content_type or "application/octet-stream",
                        "content_base64": base64.b64encode(data).decode()})
    if len(out) > 10:
        errors.append("Attachments: at most 10 files")
    return out, errors


def _check_addresses(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    errors = {}
    for name in names:
        bad = [a for a in values.get(name, []) if not ADDRESS.match(a)]
        if bad:
            errors[name] = f"{LABELS[name]}: {', '.join(repr(a) for a in bad)} is not an e-mail address"
    return errors


@web.post("/mail/compose", response_class=HTMLResponse)
async def compose_send(b: Mail, request: Request, user: WebUser) -> Response:
    """Send (or save as a draft) a new message, a reply or a forward; a refused one comes back with what was typed."""
    form = await read_form(request)
    mode = text(form, "mode", "new")
    orig_id = text(form, "orig")
    orig = None
    if mode in ("reply", "forward"):
        if not orig_id.isdigit():
            raise PageError(400, "the message replied to or forwarded is missing")
        orig = _message(b, user, int(orig_id))
    elif mode != "new":
        raise PageError(400, f"unknown compose mode {mode!r}")
    draft = text(form, "action") == "draft" and mode == "new"
    raw = {k: text(form, k) for k in ("from_mailbox", "to", "cc", "bcc", "subject", "body")}
    values: dict[str, Any] = {**raw, "reply_all": text(form, "reply_all") == "on"}
    files, file_errors = await _files(form)
    lists = {k: split_list(raw[k]) for k in ("to", "cc", "bcc")}
    errors = _check_addresses(lists, ("to", "cc", "bcc") if mode != "reply" else ())
    if not errors and not draft and mode != "reply" and not (lists["to"] or lists["cc"] or lists["bcc"]):
        errors["to"] = "To: enter at least one recipient"
    body: BaseModel | None
    if mode == "new":
        body, model_errs = build(SendIn, {"from_mailbox": raw["from_mailbox"] or None, **lists, "subject": raw["subject"],
                                          "body": raw["body"], "attachments": files, "draft": draft}, LABELS)
        fn, args, path = api.send, (), "/api/messages"
    elif mode == "reply":
        body, model_errs = build(ReplyIn, {"body": raw["body"], "reply_all": values["reply_all"],
                                           "attachments": files}, LABELS)
        fn, args, path = api.reply, (int(orig_id),), f"/api/messages/{orig_id}/reply"
    else:
        body, model_errs = build(ForwardIn, {"to": lists["to"], "cc": lists["cc"], "body": raw["body"]}, LABELS)
        fn, args, path = api.forward, (int(orig_id),), f"/api/messages/{orig_id}/forward"
    errors = {**model_errs, **errors}
    if file_errors:
        errors["attachments"] = file_errors[0]
    if errors or body is None:
        return _compose(request, b, user, mode, orig, values, errors, status=422)
    api_origin(request, "POST", path, 201)
    sent, refused = await call_api(request, fn, b, *args, body, user, request)
    if refused:
        return _compose(request, b, user, mode, orig, values, [refused], status=422)
    box = sent["message"]["mailbox"]
    return redirect("/mail", mailbox=box, folder="Drafts" if draft else "Sent", notice="draft" if draft else "sent")


# ------------------------------------------------------------------------------------------------ one message's actions
@web.post("/mail/message/{message_id}/move")
async def move(b: Mail, message_id: api.MsgId, request: Request, user: WebUser) -> Response:
    """Move the message to another folder of its mailbox."""
    form = await read_form(request)
    body, errors = build(MoveIn, {"folder": text(form, "folder")}, LABELS)
    if body is None:
        raise PageError(422, "; ".join(errors.values()))
    api_origin(request, "POST", f"/api/messages/{message_id}/move", 200)
    m, refused = await call_api(request, api.move_message, b, message_id, body, user, request)
    if refused:
        raise PageError(422, refused)
    return redirect(f"/mail/message/{message_id}", notice="moved")


@web.post("/mail/message/{message_id}/flags")
async def flags(b: Mail, message_id: api.MsgId, request: Request, user: WebUser) -> Response:
    """Mark read or unread, flag or unflag (the buttons send ``read`` or ``flagged`` as ``1``/``0``)."""
    form = await read_form(request)
    marks = {k: text(form, k) == "1" for k in ("read", "flagged") if text(form, k) in ("0", "1")}
    if not marks:
        raise PageError(422, "nothing to change: send read or flagged as 1 or 0")
    api_origin(request, "PATCH", f"/api/messages/{message_id}", 200)
    _, refused = await call_api(request, api.patch_message, b, message_id, PatchIn(**marks), user, request)
    if refused:
        raise PageError(422, refused)
    back = text(form, "back")
    return redirect(back if back.startswith("/mail") and not back.startswith("//") else f"/mail/message/{message_id}",
                    notice="marked")


@web.get("/mail/message/{message_id}/delete", response_class=HTMLResponse)
def delete_confirm(b: Mail, message_id: api.MsgId, request: Request, user: WebUser) -> HTMLResponse:
    """The confirmation step before a message in Trash is deleted for good."""
    m = _message(b, user, message_id)
    return APP.page(request, "mail/web_delete.html.j2", "Delete this message for good?", user, m=m, current="/mail",
                    **_side(b, user, m["mailbox"]))


@web.post("/mail/message/{message_id}/delete")
async def delete(b: Mail, message_id: api.MsgId, request: Request, user: WebUser) -> Response:
    """Move to Trash; a message already in Trash is deleted for good only with ``confirm=yes`` (from the confirmation
    page), otherwise that page is shown."""
    form = await read_form(request)
    m = _message(b, user, message_id)
    if m["folder"] == "Trash" and text(form, "confirm") != "yes":
        return redirect(f"/mail/message/{message_id}/delete")
    api_origin(request, "DELETE", f"/api/messages/{message_id}", 200)
    out, refused = await call_api(request, api.delete_message, b, message_id, user, request)
    if refused:
        raise PageError(422, refused)
    return redirect("/mail", mailbox=m["mailbox"], folder=m["folder"], notice="purged" if out["deleted"] else "trashed")


@web.post("/mail/folders")
async def new_folder(b: Mail, request: Request, user: WebUser) -> Response:
    """Create a folder in a mailbox."""
    form = await read_form(request)
    box = text(form, "mailbox")
    body, errors = build(FolderIn, {"name": text(form, "name").strip()}, LABELS)
    refused = "; ".join(errors.values()) if body is None else None
    if body is not None:
        api_origin(request, "POST", f"/api/mailboxes/{box}/folders", 201)
        _, refused = await call_api(request, api.create_folder, b, box, body, user, request)
    if refused:
        return _folder_view(request, b, user, box, None, None, 1, status=422, errors=[refused],
                            new_folder=text(form, "name"))
    return redirect("/mail", mailbox=box, folder=body.name, notice="folder")  # type: ignore[union-attr]


routers = [APP.login_router("Your mail access token (it starts with mlt_)."), web]
