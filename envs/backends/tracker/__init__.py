"""The tracker backend: issues and pull requests in GitHub's REST v3 shapes (api.github.com), and a code host.

Issues, comments, labels, milestones and assignees; real git repositories per world (``gitrepo.py``, ``content.py``)
served over git's smart HTTP at ``https://github.com/<owner>/<repo>(.git)`` (``githttp.py``), with branches, commits,
contents and pull requests (``code_api.py``)."""
import base64
import binascii
import importlib
import sqlite3
import weakref
from typing import Any, Callable

from fastapi import APIRouter, FastAPI, Request

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.tracker import content, gitrepo
from airgap.envs.backends.tracker.model import LabelRef, LabelsIn
from airgap.envs.backends.web import GITHUB, Accounts, ApiError, _challenge

API_HOST, WEB_HOST = "api.github.com", "github.com"


# ------------------------------------------------------------------------------------------------ GitHub shapes


def _node(kind: str, n: int) -> str:
    return f"{kind}_" + base64.b64encode(f"0:{kind}{n}".encode()).decode().rstrip("=")


class Ctx:
    """Absolute URLs the way GitHub writes them, for whichever host the request came in on."""

    def __init__(self, request: Request):
        host = request.headers.get("host", API_HOST)
        scheme = "https" if host in (API_HOST, WEB_HOST) else request.url.scheme  # the gateway terminates TLS
        self.api = f"{scheme}://{host}"
        self.web = f"https://{WEB_HOST}" if host == API_HOST else self.api


def _names(refs: list[LabelRef]) -> list[str]:
    out = []
    for r in refs:
        name = r.get("name") if isinstance(r, dict) else r
        if not isinstance(name, str) or not name.strip():
            raise ApiError(422, "Validation Failed", errors=[{"resource": "Label", "field": "name", "code": "missing_field"}])
        out.append(name.strip())
    return out


class TokenAccounts(Accounts):
    """GitHub's HTTP basic auth: the password may be the user's token (any user name, e.g. ``x-access-token``), as git
    and ``gh`` send it; a login with the account's password works too."""

    def _basic(self, value: str) -> str:
        try:
            _, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "Malformed basic credentials", "invalid_auth", headers=_challenge()) from None
        user = self.by_token.get(password)
        return user if user is not None else super()._basic(value)


@register_backend
class TrackerBackend(SqliteBackend):
    name = "tracker"
    title = "GitHub (issues, pull requests, git)"
    note = "GitHub REST API v3; git clone/push over HTTPS"
    style = GITHUB
    api_description = ("A subset of GitHub's REST API v3 (issues, comments, labels, milestones, assignees, "
                       "organisations, branches, commits, contents, pull requests, search) for the organisation's "
                       "repositories, which git clones from https://github.com/<owner>/<repo>.git. Authenticate with "
                       "'Authorization: Bearer <token>' or 'token <token>' (git: the token as the HTTP basic password).")

    def __init__(self, facts: Any):
        self.git_template = gitrepo.build(content.specs(facts))   # before the fixture: its branches name commits
        self.git = gitrepo.Store(self.git_template)
        weakref.finalize(self, self.git.cleanup)
        super().__init__(facts)
        self.accounts = TokenAccounts(self.accounts.by_token, self.accounts.passwords, self.accounts.aliases)

    def seed(self, db: sqlite3.Connection) -> None:
        importlib.import_module(f"{__name__}.seed").seed(self.facts, db, self.git_template.refs)

    def routers(self) -> list[APIRouter]:
        """The issue routes, then the code routes, then the web app's (``webapp.py``; before github.com's read-only pages,
        whose ``/{owner}/{repo}`` would match ``/orgs/{org}`` and which it hands requests without a session to)."""
        base = importlib.import_module(f"{__name__}.api").routers
        code = importlib.import_module(f"{__name__}.code_api").routers
        web = importlib.import_module(f"{__name__}.webapp").routers  # github.com's pages for a signed-in browser
        return base[:-1] + code + web + base[-1:]

    def _make_app(self) -> FastAPI:
        from airgap.envs.backends.tracker.githttp import GitSmartHTTP
        app = super()._make_app()
        app.add_middleware(GitSmartHTTP, backend=self)  # outermost: a pack is no JSON body (no 1 MiB limit)
        return app

    # -------------------------------------------------------------- git
    def branches(self, db: sqlite3.Connection, repo_id: int) -> dict[str, str]:
        return dict(db.execute("SELECT name, sha FROM branches WHERE repo = ?", (repo_id,)).fetchall())

    def git_path(self, db: sqlite3.Connection, repo: sqlite3.Row) -> Any:
        """The repository's bare git folder, its branches synced from ``db`` (call with the backend's lock held)."""
        full = f"{repo['owner']}/{repo['name']}"
        self.git.sync_refs(full, self.branches(db, repo["id"]))
        return self.git.path(full)

    @classmethod
    def make_token(cls, derive: Callable[..., str]) -> str:
        """A classic GitHub personal access token: ``ghp_`` and 36 characters."""
        return "ghp_" + derive(36)

    @classmethod
    def hosts_for(cls, facts: Any) -> list[str]:
        return [API_HOST, WEB_HOST]

    @classmethod
    def login_aliases(cls, facts: Any) -> dict[str, str]:
        """People log in (HTTP basic auth) with their GitHub login."""
        return {p.github_login: p.username for p in facts.people}


    # -------------------------------------------------------------- shapes
    def _user(self, db: sqlite3.Connection, ctx: Ctx, login: str | None, full: bool = False) -> dict[str, Any] | None:
        if login is None:
            return None
        r = db.execute("SELECT * FROM users WHERE login = ?", (login,)).fetchone()
        uid = r["id"] if r else 0
        out = {"login": login, "id": uid, "node_id": _node("U", uid), "gravatar_id": "",
               "avatar_url": f"{ctx.api}/avatars/{login}", "url": f"{ctx.api}/users/{login}",
               "html_url": f"{ctx.web}/{login}", "repos_url": f"{ctx.api}/users/{login}/repos",
               "type": r["type"] if r else "User", "site_admin": False}
        if full and r:
            out.update(name=r["name"], email=r["email"])
        return out

    def _label(self, ctx: Ctx, repo: sqlite3.Row, lab: sqlite3.Row) -> dict[str, Any]:
        return {"id": lab["id"], "node_id": _node("LA", lab["id"]), "name": lab["name"], "color": lab["color"],
                "url": f"{ctx.api}/repos/{repo['owner']}/{repo['name']}/labels/{lab['name']}",
                "default": bool(lab["is_default"]), "description": lab["description"]}

    def _milestone(self, db: sqlite3.Connection, ctx: Ctx, repo: sqlite3.Row, m: sqlite3.Row) -> dict[str, Any]:
        counts = dict(db.execute("SELECT state, count(*) FROM issues WHERE repo = ? AND milestone = ? GROUP BY state",
                                 (repo["id"], m["number"])).fetchall())
        base = f"{ctx.api}/repos/{repo['owner']}/{repo['name']}/milestones/{m['number']}"
        return {"url": base, "html_url": f"{ctx.web}/{repo['owner']}/{repo['name']}/milestone/{m['number']}",
                "labels_url": f"{base}/labels", "id": m["id"], "node_id": _node("MI", m["id"]), "number": m["number"],
                "state": m["state"], "title": m["title"], "description": m["description"],
                "creator": self._user(db, ctx, m["creator"]), "open_issues": counts.get("open", 0),
                "closed_issues": counts.get("closed", 0), "created_at": m["created_at"], "updated_at": m["updated_at"],
                "closed_at": m["closed_at"], "due_on": m["due_on"]}

    def _association(self, db: sqlite3.Connection, repo: sqlite3.Row, login: str) -> str:
        if login == repo["owner"]:
            return "OWNER"
        owner = db.execute("SELECT type FROM users WHERE login = ?", (repo["owner"],)).fetchone()
        member = db.execute("SELECT 1 FROM users WHERE login = ? AND username IS NOT NULL", (login,)).fetchone()
        if owner and owner[0] == "Organization" and member:
            return "MEMBER"
        collab = db.execute("SELECT 1 FROM collaborators WHERE repo = ? AND login = ?", (repo["id"], login)).fetchone()
        return "COLLABORATOR" if collab else "NONE"

    def _issue(self, db: sqlite3.Connection, ctx: Ctx, repo: sqlite3.Row, i: sqlite3.Row) -> dict[str, Any]:
        base = f"{ctx.api}/repos/{repo['owner']}/{repo['name']}"
        labels = db.execute("SELECT l.* FROM labels l JOIN issue_labels il ON il.label = l.id WHERE il.issue = ? "
                            "ORDER BY l.name", (i["id"],)).fetchall()
        assignees = [r[0] for r in db.execute("SELECT login FROM issue_assignees WHERE issue = ? ORDER BY id", (i["id"],))]
        ms = db.execute("SELECT * FROM milestones WHERE repo = ? AND number = ?", (repo["id"], i["milestone"])).fetchone() \
            if i["milestone"] is not None else None
        n_comments = db.execute("SELECT count(*) FROM comments WHERE issue = ?", (i["id"],)).fetchone()[0]
        users = [self._user(db, ctx, a) for a in assignees]
        return {"id": i["id"], "node_id": _node("I", i["id"]), "url": f"{base}/issues/{i['number']}",
                "repository_url": base, "labels_url": f"{base}/issues/{i['number']}/labels{{/name}}",
                "comments_url": f"{base}/issues/{i['number']}/comments", "events_url": f"{base}/issues/{i['number']}/events",
                "html_url": f"{ctx.web}/{repo['owner']}/{repo['name']}/issues/{i['number']}", "number": i["number"],
                "state": i["state"], "state_reason": i["state_reason"], "title": i["title"], "body": i["body"],
                "user": self._user(db, ctx, i["user"]), "labels": [self._label(ctx, repo, lab) for lab in labels],
                "assignee": users[0] if users else None, "assignees": users,
                "milestone": self._milestone(db, ctx, repo, ms) if ms else None, "locked": bool(i["locked"]),
                "active_lock_reason": None, "comments": n_comments, "closed_at": i["closed_at"],
                "created_at": i["created_at"], "updated_at": i["updated_at"],
                "closed_by": self._user(db, ctx, i["closed_by"]) if i["state"] == "closed" else None,
                "author_association": self._association(db, repo, i["user"]),
                **self._pull_link(db, ctx, repo, i)}

    def _pull_link(self, db: sqlite3.Connection, ctx: Ctx, repo: sqlite3.Row, i: sqlite3.Row) -> dict[str, Any]:
        """GitHub's ``pull_request`` key on an issue that is a pull request."""
        p = db.execute("SELECT merged_at FROM pulls WHERE issue = ?", (i["id"],)).fetchone()
        if p is None:
            return {}
        full = f"{repo['owner']}/{repo['name']}"
        return {"pull_request": {"url": f"{ctx.api}/repos/{full}/pulls/{i['number']}",
                                 "html_url": f"{ctx.web}/{full}/pull/{i['number']}",
                                 "diff_url": f"{ctx.web}/{full}/pull/{i['number']}.diff",
                                 "patch_url": f"{ctx.web}/{full}/pull/{i['number']}.patch", "merged_at": p[0]}}

    def _comment(self, db: sqlite3.Connection, ctx: Ctx, repo: sqlite3.Row, c: sqlite3.Row) -> dict[str, Any]:
        num = db.execute("SELECT number FROM issues WHERE id = ?", (c["issue"],)).fetchone()[0]
        base = f"{ctx.api}/repos/{repo['owner']}/{repo['name']}"
        return {"id": c["id"], "node_id": _node("IC", c["id"]), "url": f"{base}/issues/comments/{c['id']}",
                "html_url": f"{ctx.web}/{repo['owner']}/{repo['name']}/issues/{num}#issuecomment-{c['id']}",
                "issue_url": f"{base}/issues/{num}", "body": c["body"], "user": self._user(db, ctx, c["user"]),
                "created_at": c["created_at"], "updated_at": c["updated_at"],
                "author_association": self._association(db, repo, c["user"])}

    def _repo_json(self, db: sqlite3.Connection, ctx: Ctx, r: sqlite3.Row, login: str) -> dict[str, Any]:
        base = f"{ctx.api}/repos/{r['owner']}/{r['name']}"
        n_open = db.execute("SELECT count(*) FROM issues WHERE repo = ? AND state = 'open'", (r["id"],)).fetchone()[0]
        perm = db.execute("SELECT permission FROM collaborators WHERE repo = ? AND login = ?", (r["id"], login)).fetchone()
        admin = bool(perm and perm[0] == "admin")
        pushed = db.execute("SELECT 1 FROM branches WHERE repo = ?", (r["id"],)).fetchone()
        return {"id": r["id"], "node_id": _node("R", r["id"]), "name": r["name"], "full_name": f"{r['owner']}/{r['name']}",
                "owner": self._user(db, ctx, r["owner"]), "private": bool(r["private"]),
                "visibility": "private" if r["private"] else "public", "html_url": f"{ctx.web}/{r['owner']}/{r['name']}",
                "description": r["description"], "fork": False, "url": base, "issues_url": f"{base}/issues{{/number}}",
                "labels_url": f"{base}/labels{{/name}}", "milestones_url": f"{base}/milestones{{/number}}",
                "created_at": r["created_at"], "updated_at": r["updated_at"], "pushed_at": r["updated_at"],
                "has_issues": True, "open_issues_count": n_open, "open_issues": n_open, "default_branch": "main",
                "archived": False, "disabled": False, "size": 1 if pushed else 0,
                "clone_url": f"https://{WEB_HOST}/{r['owner']}/{r['name']}.git",
                "git_url": f"git://{WEB_HOST}/{r['owner']}/{r['name']}.git",
                "ssh_url": f"git@{WEB_HOST}:{r['owner']}/{r['name']}.git", "svn_url": f"https://{WEB_HOST}/{r['owner']}/{r['name']}",
                "pulls_url": f"{base}/pulls{{/number}}", "branches_url": f"{base}/branches{{/branch}}",
                "commits_url": f"{base}/commits{{/sha}}", "contents_url": f"{base}/contents/{{+path}}",
                "git_refs_url": f"{base}/git/refs{{/sha}}", "has_pull_requests": True,
                "allow_merge_commit": True, "allow_squash_merge": True, "allow_rebase_merge": False,
                "permissions": {"admin": admin, "maintain": admin, "push": True, "triage": True, "pull": True}}

    # -------------------------------------------------------------- look-ups
    def _login(self, user: str) -> str:
        return self.facts.person(user).github_login

    def _repo(self, db: sqlite3.Connection, login: str, owner: str, name: str) -> sqlite3.Row:
        r = db.execute("SELECT r.* FROM repos r JOIN collaborators c ON c.repo = r.id WHERE lower(r.owner) = lower(?) AND "
                       "lower(r.name) = lower(?) AND c.login = ?", (owner, name, login)).fetchone()
        if r is None:  # private repositories of others are indistinguishable from missing ones
            raise ApiError(404, "Not Found")
        return r

    def _issue_row(self, db: sqlite3.Connection, repo: sqlite3.Row, number: int) -> sqlite3.Row:
        i = db.execute("SELECT * FROM issues WHERE repo = ? AND number = ?", (repo["id"], number)).fetchone()
        if i is None:
            raise ApiError(404, "Not Found")
        return i

    def _label_row(self, db: sqlite3.Connection, repo: sqlite3.Row, name: str, create: bool = False) -> sqlite3.Row:
        lab = db.execute("SELECT * FROM labels WHERE repo = ? AND name = ?", (repo["id"], name)).fetchone()
        if lab is None and create:  # GitHub creates unknown labels named on an issue
            db.execute("INSERT INTO labels (repo, name, color, description, is_default) VALUES (?, ?, 'ededed', NULL, 0)",
                       (repo["id"], name))
            lab = db.execute("SELECT * FROM labels WHERE repo = ? AND name = ?", (repo["id"], name)).fetchone()
        if lab is None:
            raise ApiError(404, "Not Found")
        return lab

    def _milestone_number(self, db: sqlite3.Connection, repo: sqlite3.Row, value: int | str | None) -> int | None:
        if value is None:
            return None
        try:
            n = int(value)
        except (TypeError, ValueError):
            n = -1
        if not db.execute("SELECT 1 FROM milestones WHERE repo = ? AND number = ?", (repo["id"], n)).fetchone():
            raise ApiError(422, "Validation Failed", errors=[{"value": value, "resource": "Issue", "field": "milestone",
                                                               "code": "invalid"}])
        return n

    def _check_assignees(self, db: sqlite3.Connection, repo: sqlite3.Row, logins: list[str]) -> list[str]:
        out = []
        for login in logins:
            row = db.execute("SELECT login FROM collaborators WHERE repo = ? AND lower(login) = lower(?)",
                             (repo["id"], login)).fetchone()
            if row is None:
                raise ApiError(422, "Validation Failed", errors=[{"value": login, "resource": "Issue", "field": "assignees",
                                                                   "code": "invalid"}])
            if row[0] not in out:
                out.append(row[0])
        return out

    def _set_labels(self, db: sqlite3.Connection, repo: sqlite3.Row, issue_id: int, names: list[str], replace: bool) -> None:
        rows = [self._label_row(db, repo, n, create=True) for n in names]
        if replace:  # labels that stay keep their row: a replacement changes only what it changes
            keep = [lab["id"] for lab in rows]
            db.execute("DELETE FROM issue_labels WHERE issue = ? AND label NOT IN (%s)" % ",".join("?" * len(keep)),
                       (issue_id, *keep))
        for lab in rows:
            if not db.execute("SELECT 1 FROM issue_labels WHERE issue = ? AND label = ?", (issue_id, lab["id"])).fetchone():
                db.execute("INSERT INTO issue_labels (issue, label) VALUES (?, ?)", (issue_id, lab["id"]))

    def _set_assignees(self, db: sqlite3.Connection, issue_id: int, logins: list[str]) -> None:
        db.execute("DELETE FROM issue_assignees WHERE issue = ? AND login NOT IN (%s)" % ",".join("?" * len(logins)),
                   (issue_id, *logins))
        for login in logins:
            if not db.execute("SELECT 1 FROM issue_assignees WHERE issue = ? AND login = ?", (issue_id, login)).fetchone():
                db.execute("INSERT INTO issue_assignees (issue, login) VALUES (?, ?)", (issue_id, login))

    def _touch(self, db: sqlite3.Connection, issue_id: int) -> None:
        db.execute("UPDATE issues SET updated_at = ? WHERE id = ?", (self.now_iso(db), issue_id))

    def issues_query(self, db: sqlite3.Connection, repo: sqlite3.Row, state: str, labels: str | None,
                     assignee: str | None, creator: str | None, milestone: str | None, since: str | None, sort: str,
                     direction: str, text: str | None = None, kind: str | None = None,
                     in_fields: tuple[str, ...] = ("title", "body"), merged: bool | None = None) -> tuple[str, list[Any]]:
        where, args = ["repo = ?"], [repo["id"]]
        if kind == "issue":
            where.append("NOT EXISTS (SELECT 1 FROM pulls WHERE issue = issues.id)")
        elif kind == "pr":
            where.append("EXISTS (SELECT 1 FROM pulls WHERE issue = issues.id)")
        if merged is not None:
            where.append(("" if merged else "NOT ") + "EXISTS (SELECT 1 FROM pulls WHERE issue = issues.id AND merged = 1)")
        if state != "all":
            where.append("state = ?")
            args.append(state)
        for name in [x.strip() for x in (labels or "").split(",") if x.strip()]:
            where.append("EXISTS (SELECT 1 FROM issue_labels il JOIN labels l ON l.id = il.label WHERE il.issue = issues.id "
                         "AND l.name = ?)")
            args.append(name)
        if assignee == "none":
            where.append("NOT EXISTS (SELECT 1 FROM issue_assignees WHERE issue = issues.id)")
        elif assignee == "*":
            where.append("EXISTS (SELECT 1 FROM issue_assignees WHERE issue = issues.id)")
        elif assignee:
            where.append("EXISTS (SELECT 1 FROM issue_assignees WHERE issue = issues.id AND lower(login) = lower(?))")
            args.append(assignee)
        if creator:
            where.append("lower(user) = lower(?)")
            args.append(creator)
        if milestone == "none":
            where.append("milestone IS NULL")
        elif milestone == "*":
            where.append("milestone IS NOT NULL")
        elif milestone:
            where.append("milestone = ?")
            args.append(int(milestone) if milestone.isdigit() else -1)
        if since:
            where.append("updated_at >= ?")
            args.append(since)
        for term in (text or "").split():
            where.append("(" + " OR ".join(f"{c} LIKE ?" for c in in_fields) + ")")
            args += [f"%{term}%"] * len(in_fields)
        key = {"created": "created_at", "updated": "updated_at",
               "comments": "(SELECT count(*) FROM comments WHERE issue = issues.id)"}[sort]
        order = "DESC" if direction == "desc" else "ASC"
        return f"FROM issues WHERE {' AND '.join(where)} ORDER BY {key} {order}, number {order}", args

    # -------------------------------------------------------------- routes

    # -------------------------------------------------------------- more look-ups
    def _comment_row(self, db: sqlite3.Connection, repo: sqlite3.Row, cid: int) -> sqlite3.Row:
        c = db.execute("SELECT c.* FROM comments c JOIN issues i ON i.id = c.issue WHERE c.id = ? AND i.repo = ?",
                       (cid, repo["id"])).fetchone()
        if c is None:
            raise ApiError(404, "Not Found")
        return c

    def _milestone_row(self, db: sqlite3.Connection, repo: sqlite3.Row, number: int) -> sqlite3.Row:
        m = db.execute("SELECT * FROM milestones WHERE repo = ? AND number = ?", (repo["id"], number)).fetchone()
        if m is None:
            raise ApiError(404, "Not Found")
        return m

    def _labels_edit(self, request: Request, user: str, owner: str, repo: str, number: int, body: Any,
                     replace: bool) -> list:
        refs = body.labels if isinstance(body, LabelsIn) else body
        with self.write(request) as db:
            r = self._repo(db, self._login(user), owner, repo)
            i = self._issue_row(db, r, number)
            self._set_labels(db, r, i["id"], _names(refs), replace=replace)
            self._touch(db, i["id"])
            return self._issue(db, Ctx(request), r, self._issue_row(db, r, number))["labels"]
