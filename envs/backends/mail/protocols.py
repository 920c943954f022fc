"""The mail backend over the real mail protocols: SMTP submission and IMAP4rev1 on the world's mail host.

``streams(backend)`` is what ``MailBackend.streams()`` returns: for each of its hosts, SMTP on 587 (STARTTLS) and 465
(implicit TLS), and on 25 as on 587 (``smtplib.SMTP(host)``'s default port: signing in is still required, there is
no relay), IMAP on 143 (STARTTLS) and 993 (implicit TLS), as the gateway's stream services. The servers are
``aiosmtpd`` (``smtp.py``) and ``pymap`` (``imap.py``), imported at the first connection (not with the backend).

Both sign in with the user's world credentials: the login is the username or the e-mail address, the password
either the account's password or the mail token the task gives (what the JSON API takes as its bearer token: an
"app password"). Both read and write the backend's own state, each write one transaction whose ``backend_change``
names the JSON API call with the same effect (``method``, ``path``, ``status``) and says how it came (``via``,
``command``, ``session``): a mail sent over SMTP is the very same rows as one sent with ``POST /api/messages``.
Every session and command is a ``protocol`` event of the gateway's channel (never a password).
"""
from __future__ import annotations

from typing import Any

from pysasl.identity import ClearIdentity

SMTP_PORTS = {587: "starttls", 465: "implicit", 25: "starttls"}
IMAP_PORTS = {143: "starttls", 993: "implicit"}


def authenticate(backend: Any, login: str, secret: str, verify: Any = None) -> str | None:
    """The username that ``login`` (username or e-mail address) and ``secret`` (the account's password or its mail
    token) sign in as, or None. ``verify(identity)``, when given, checks a SASL mechanism's credentials instead of
    comparing ``secret`` (pysasl's ``ServerCredentials.verify``)."""
    accounts = backend.accounts
    user = accounts.aliases.get(login, accounts.aliases.get(login.lower(), login))
    if user not in accounts.passwords:
        return None
    secrets = [accounts.passwords[user], *(t for t, u in accounts.by_token.items() if u == user)]
    for s in secrets:
        if verify(ClearIdentity(login, s)) if verify is not None else secret == s:
            return user
    return None


def streams(backend: Any) -> dict[tuple[str, int], Any]:
    """(host, port) -> StreamService for SMTP and IMAP on every host of ``backend``."""
    from airgap.sandbox import StreamService

    def smtp(implicit: bool):
        def factory(session):
            from airgap.envs.backends.mail.smtp import smtp_protocol

            return smtp_protocol(backend, session, implicit)
        return factory

    def imap(implicit: bool):
        def factory(session):
            from airgap.envs.backends.mail.imap import imap_protocol

            return imap_protocol(backend, session, implicit)
        return factory

    out: dict[tuple[str, int], Any] = {}
    for host in backend.hosts:
        for port, tls in SMTP_PORTS.items():
            out[(host, port)] = StreamService(smtp(tls == "implicit"), tls, "smtp")
        for port, tls in IMAP_PORTS.items():
            out[(host, port)] = StreamService(imap(tls == "implicit"), tls, "imap")
    return out
