"""The mail API's request and response bodies (pydantic): what its OpenAPI document describes."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_RECIPIENTS = 50


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MailboxOut(BaseModel):
    address: str
    name: str
    kind: str = Field(description="personal or shared")
    unread: int


class MeOut(BaseModel):
    username: str
    name: str
    email: str
    mailboxes: list[MailboxOut]


class FolderOut(BaseModel):
    name: str
    system: bool
    total: int
    unread: int


class FolderIn(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^/\x00-\x1f]+$")


class AttachmentMeta(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class MessageSummary(BaseModel):
    id: int
    mailbox: str
    folder: str
    thread_id: str
    sender: str = Field(serialization_alias="from")
    to: list[str]
    subject: str
    date: str
    read: bool
    flagged: bool
    draft: bool
    has_attachments: bool
    snippet: str


class MessageOut(MessageSummary):
    message_id: str
    in_reply_to: str | None
    cc: list[str]
    bcc: list[str]
    body: str
    attachments: list[AttachmentMeta]


class MessageList(BaseModel):
    total: int
    offset: int
    messages: list[MessageSummary]


class AttachmentIn(Strict):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field("application/octet-stream", max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")
    content_base64: str = Field(description="the file, base64-encoded (422 if it is not valid base64); the whole "
                                "request body may be at most 1 MiB (413 otherwise)")


Addresses = Annotated[list[str], Field(max_length=MAX_RECIPIENTS)]


class SendIn(Strict):
    from_mailbox: str | None = Field(None, description="a mailbox you may use; default: your own")
    to: Addresses = Field(default_factory=list, description=f"at most {MAX_RECIPIENTS} addresses in each of to, cc "
                          "and bcc, and at least one in all unless draft (422 otherwise)")
    cc: Addresses = Field(default_factory=list)
    bcc: Addresses = Field(default_factory=list)
    subject: str = Field("", max_length=998)
    body: str = Field("", max_length=200_000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    draft: bool = Field(False, description="save to Drafts instead of sending")


class ReplyIn(Strict):
    body: str = Field(max_length=200_000)
    reply_all: bool = False
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


class ForwardIn(Strict):
    to: Addresses = Field(min_length=1)
    cc: Addresses = Field(default_factory=list)
    body: str = Field("", max_length=200_000)


class SentOut(BaseModel):
    message: MessageOut
    delivered_to: list[str] = Field(description="local mailboxes that received a copy")
    external: list[str] = Field(description="recipients outside this mail server (sent, not stored here)")


class PatchIn(Strict):
    read: bool | None = None
    flagged: bool | None = None


class MoveIn(Strict):
    folder: str = Field(min_length=1, max_length=64)


class DeleteOut(BaseModel):
    id: int
    deleted: bool = Field(description="true: purged from Trash; false: moved to Trash")
    folder: str | None
