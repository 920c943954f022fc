"""SMTP submission (RFC 6409) for the mail backend, on aiosmtpd: 587 (and 25) with STARTTLS, 465 with implicit TLS.

A session must sign in (AUTH PLAIN or LOGIN, only once encrypted) before MAIL. The envelope sender must be a mailbox
the user may send from (their own or a shared one they are a member of: ``from_mailbox`` of the JSON API); the
message's To and Cc headers are its To and Cc, every other envelope recipient a Bcc; its text/plain body (else its
HTML) is the body and its attached files the attachments. Then it is delivered exactly as ``POST /api/messages``
delivers (``MailBackend.deliver``, one transaction): the same rows, the same ``backend_change`` (``method`` POST,
``path`` /api/messages, ``status`` 201, plus ``via: smtp``). What the JSON API would refuse (422: a mailbox of the
organisation that does not exist, too many recipients) is refused with an SMTP 5xx reply and changes nothing.
"""
from __future__ import annotations

import asyncio
import logging
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from airgap.envs.backends.mail import ADDRESS
from airgap.envs.backends.mail.model import MAX_RECIPIENTS
from airgap.envs.backends.mail.protocols import authenticate
from airgap.envs.backends.web import ApiError

MAX_MESSAGE = 10 * 1024 * 1024  # bytes of DATA (the JSON API's body limit is near this, base64 and all)
MAX_BODY = 200_000  # characters of text, as SendIn.body
MAX_FILES = 10  # attachments, as SendIn.attachments


class _Quiet(logging.Filter):
    """aiosmtpd logs at every AUTH that its own legacy ``Session.login_data`` is deprecated: not news, and a flood."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Session.login_data is deprecated")


logging.getLogger("mail.log").addFilter(_Quiet())


def _addresses(values: list[str] | None) -> list[str]:
    return [a for _, a in getaddresses(values or []) if a]


class Submission:
    """The aiosmtpd handler: checks the envelope as the JSON API checks a send, then delivers through the backend."""

    def __init__(self, backend: Any, session: Any):
        self.backend, self.session = backend, session

    async def handle_MAIL(self, server, session, envelope, address: str, mail_options: list[str]) -> str:
        user = session.auth_data
        if address:
            boxes = await asyncio.to_thread(self._boxes, user)
            if address.lower() not in boxes:
                return f"553 5.7.1 {user} may not send as {address}; your mailboxes: {', '.join(boxes)}"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list[str]) -> str:
        if not ADDRESS.match(address):
            return f"553 5.1.3 invalid e-mail address {address!r}"
        if len(envelope.rcpt_tos) >= 3 * MAX_RECIPIENTS:
            return f"452 4.5.3 too many recipients (at most {MAX_RECIPIENTS} in each of To, Cc and Bcc)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        user = session.auth_data
        try:
            raw = envelope.original_content or envelope.content
            msg = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))  # SMTP's line ends
            rcpts = list(dict.fromkeys(envelope.rcpt_tos))
            lowered = {a.lower(): a for a in rcpts}
            to = [lowered.pop(a.lower()) for a in _addresses(msg.get_all("to")) if a.lower() in lowered]
            cc = [lowered.pop(a.lower()) for a in _addresses(msg.get_all("cc")) if a.lower() in lowered]
            bcc = list(lowered.values())
            part = msg.get_body(preferencelist=("plain", "html"))
            body = part.get_content() if part is not None else ""
            body = body[:-1] if body.endswith("\n") else body  # set_content's own line end
            files = [(a.get_filename() or "attachment", a.get_content_type(), a.get_payload(decode=True) or b"")
                     for a in msg.iter_attachments()]
            subject = str(msg.get("subject", ""))
        except (ValueError, LookupError, TypeError) as e:
            return f"554 5.6.0 the message could not be read: {e}"
        for field, values in (("To", to), ("Cc", cc), ("Bcc", bcc)):
            if len(values) > MAX_RECIPIENTS:
                return f"552 5.5.3 too many {field} recipients: {len(values)} (at most {MAX_RECIPIENTS})"
        if len(body) > MAX_BODY or len(files) > MAX_FILES or len(subject) > 998:
            return f"552 5.3.4 message too big (body at most {MAX_BODY} characters, {MAX_FILES} attachments)"
        try:
            out = await asyncio.to_thread(self._deliver, user, envelope.mail_from, to, cc, bcc, subject, body, files)
        except ApiError as e:
            return f"550 5.1.1 {e.message}"
        self.session.log(event="message", user=user, mail_from=envelope.mail_from, to=to, cc=cc, bcc=bcc,
                         subject=subject[:200], bytes=len(envelope.original_content or b""), message=out["message"]["id"],
                         delivered_to=out["delivered_to"], external=out["external"])
        return f"250 2.0.0 OK: message {out['message']['id']} sent ({out['message']['message_id']})"

    def _boxes(self, user: str) -> list[str]:
        with self.backend.read() as db:
            return self.backend._boxes(db, user)

    def _deliver(self, user: str, mail_from: str, to: list[str], cc: list[str], bcc: list[str], subject: str,
                 body: str, files: list[tuple[str, str, bytes]]) -> dict:
        b = self.backend
        origin = {"method": "POST", "path": "/api/messages", "status": 201, "via": "smtp", "command": "DATA",
                  "session": self.session.id}
        with b.write(origin=origin) as db:
            box = b._box(db, user, mail_from or None)
            return b.deliver(db, user, box, to, cc, bcc, subject, body, files)


class LoggedSMTP(SMTP):
    """aiosmtpd's server, with every command (and its reply code) a ``protocol`` event of the session."""

    def __init__(self, airgap_session: Any, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.airgap = airgap_session
        self._last_reply = ""
        for name, method in list(self._smtp_methods.items()):
            self._smtp_methods[name] = self._logged(name, method)

    def _logged(self, name: str, method: Any) -> Any:
        async def run(arg: str | None) -> None:
            self._last_reply = ""
            await method(arg)
            if name == "STARTTLS" and self._last_reply.startswith("220"):
                self.airgap.tls = True
            said = {} if not arg else {"mechanism": arg.split()[0].upper()} if name == "AUTH" else {"arg": arg[:300]}
            user = self.session.auth_data if name == "AUTH" and self.session.authenticated else None
            self.airgap.log(command=name, reply=self._last_reply[:3], **said, **({"user": user} if user else {}))
        return run

    async def push(self, status: Any) -> None:
        self._last_reply = status.decode("utf-8", "replace") if isinstance(status, bytes) else str(status)
        await super().push(status)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None
        super().connection_made(transport)
        if first:
            self.airgap.log(event="connect")

    def connection_lost(self, error: Exception | None) -> None:
        self.airgap.log(event="close")
        super().connection_lost(error)


def smtp_protocol(backend: Any, session: Any, implicit: bool) -> LoggedSMTP:
    """One SMTP submission session: implicit TLS (465: the gateway terminated it) or STARTTLS required (587)."""

    def authenticator(server, sess, envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        user = authenticate(backend, login, auth_data.password.decode("utf-8", "replace"))
        if user is None:
            session.log(event="auth_failed", mechanism=mechanism, login=login[:200])
            return AuthResult(success=False, handled=False)  # aiosmtpd answers 535
        return AuthResult(success=True, auth_data=user)

    server = LoggedSMTP(session, Submission(backend, session), hostname=session.host, ident="Airgap mail submission",
                        data_size_limit=MAX_MESSAGE, tls_context=None if implicit else session.tls_context,
                        require_starttls=not implicit, auth_required=True, auth_require_tls=True,
                        authenticator=authenticator, timeout=300)
    if implicit:  # encrypted from the first byte (aiosmtpd only knows of its own STARTTLS): AUTH may go ahead
        server._auth_require_tls = False
    return server
