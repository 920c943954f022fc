"""git's smart HTTP protocol at ``https://github.com/<owner>/<repo>(.git)/...``, served by the real ``git http-backend``.

An ASGI middleware outside the tracker's FastAPI app (a pack is not a JSON body: no 1 MiB limit; requests at other
paths go to the app unchanged). Credentials as GitHub takes them: HTTP basic auth whose password is the user's token
(any user name, e.g. ``x-access-token``) or a login and its password; public repositories clone without any.
Anonymous access to a private repository, or any push without credentials, is a 401 with a basic challenge (git then
asks for credentials); wrong credentials are a 401; a repository the user cannot see is a 404; pushing needs write
access to it. ``http-backend`` runs in a worker thread, never on the event loop.

After a push the repository's branches are read back into the ``branches`` table (and the head of each open pull
request from a moved branch), in one transaction whose rows go to ``on_change`` as a change event of
``POST /<owner>/<repo>.git/git-receive-pack``, like any other write.
"""
from __future__ import annotations

import re
from typing import Any, Callable

import anyio

from airgap.envs.backends.tracker.gitrepo import ZERO, http_backend
from airgap.envs.backends.web import ApiError

PATH = re.compile(r"^/(?P<owner>[A-Za-z0-9_.-]{1,100})/(?P<repo>[A-Za-z0-9_.-]{1,100}?)(?:\.git)?"
                  r"/(?P<rest>info/refs|git-upload-pack|git-receive-pack|HEAD)$")
CHALLENGE = [(b"www-authenticate", b'Basic realm="GitHub"'), (b"content-type", b"text/plain")]


class _Scope:
    """What ``SqliteBackend.write`` needs of a request to collect the changes instead of emitting them."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {"airgap.changes": []}


class GitSmartHTTP:
    def __init__(self, app: Callable, backend: Any):
        self.app, self.backend = app, backend

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        from airgap.envs.backends.tracker import API_HOST
        m = PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())} if m else {}
        if m is None or headers.get("host", "").split(":")[0] == API_HOST:
            return await self.app(scope, receive, send)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        query = scope.get("query_string", b"").decode("latin-1")
        status, out_headers, payload = await anyio.to_thread.run_sync(
            self.serve, scope["method"], m["owner"], m["repo"], m["rest"], query, headers, bytes(body))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode("latin-1") if isinstance(k, str) else k,
                                 v.encode("latin-1") if isinstance(v, str) else v) for k, v in out_headers]})
        await send({"type": "http.response.body", "body": payload})

    # ------------------------------------------------------------------ in a worker thread
    def serve(self, method: str, owner: str, name: str, rest: str, query: str, headers: dict[str, str],
              body: bytes) -> tuple[int, list, bytes]:
        b = self.backend
        push = rest == "git-receive-pack" or (rest == "info/refs" and "service=git-receive-pack" in query)

        class _Req:
            def __init__(self, h: dict[str, str]):
                self.headers = h
                self.query_params: dict[str, str] = {}

        try:
            user = b.accounts.identify(_Req(headers))
        except ApiError as e:
            return 401, CHALLENGE, f"{e.message}\n".encode()
        login = b._login(user) if user else None
        with b._lock:
            with b.read() as db:
                repo = db.execute("SELECT * FROM repos WHERE lower(owner) = lower(?) AND lower(name) = lower(?)",
                                  (owner, name)).fetchone()
                member = repo is not None and login is not None and db.execute(
                    "SELECT permission FROM collaborators WHERE repo = ? AND login = ?", (repo["id"], login)).fetchone()
                visible = repo is not None and (member or not repo["private"])
                if not visible or (push and not member):
                    if login is None:  # ask for credentials, as GitHub does for a private repository
                        return 401, CHALLENGE, b"Authentication required\n"
                    if not visible:
                        return 404, [(b"content-type", b"text/plain")], b"Repository not found.\n"
                    return 403, [(b"content-type", b"text/plain")], \
                        f"Permission to {repo['owner']}/{repo['name']}.git denied to {login}.\n".encode()
                full = f"{repo['owner']}/{repo['name']}"
                before = b.branches(db, repo["id"])
                b.git.sync_refs(full, before)
            status, out, payload = http_backend(
                b.git.root, f"/{full}.git/{rest}", method, query, headers.get("content-type"),
                headers.get("content-encoding"), body, login or "anonymous", headers.get("git-protocol"))
            if method == "POST" and rest == "git-receive-pack":
                self._record(repo, full, before)
        return status, out, payload

    def _record(self, repo: Any, full: str, before: dict[str, str]) -> None:
        """The branches after a push, into the state (one transaction); its rows as one change event."""
        b = self.backend
        after = b.git.read_refs(full)
        if after == before:
            return
        holder = _Scope()
        with b.write(holder) as db:  # type: ignore[arg-type]
            for branch in sorted(set(before) | set(after)):
                old, new = before.get(branch), after.get(branch)
                if old == new:
                    continue
                if new is None:
                    db.execute("DELETE FROM branches WHERE repo = ? AND name = ?", (repo["id"], branch))
                elif old is None:
                    db.execute("INSERT INTO branches (repo, name, sha) VALUES (?,?,?)", (repo["id"], branch, new))
                else:
                    db.execute("UPDATE branches SET sha = ? WHERE repo = ? AND name = ?", (new, repo["id"], branch))
                if new is not None:
                    db.execute("UPDATE pulls SET head_sha = ? WHERE repo = ? AND head = ? AND merged = 0 AND issue IN "
                               "(SELECT id FROM issues WHERE state = 'open')", (new, repo["id"], branch))
        changes = holder.scope["airgap.changes"]
        if changes:
            b.emit({"backend": b.name, "method": "POST", "path": f"/{full}.git/git-receive-pack", "status": 200,
                    "changes": changes, "via": "git", "git": {"refs": {k: [before.get(k, ZERO), after.get(k, ZERO)]
                                                         for k in sorted(set(before) | set(after))
                                                         if before.get(k) != after.get(k)}}})
