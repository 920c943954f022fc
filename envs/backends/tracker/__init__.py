"""The tracker backend: issues, comments, labels, milestones and assignees in GitHub's REST v3 shapes (api.github.com)."""
import base64
import sqlite3
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Body, Depends, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import (
    GITHUB,
    Accounts,
    ApiError,
    BearerAuth,
    Linker,
    PageError,
    esc,
    html_response,
    page_user,
    table,
)
from airgap.envs.common import iso
from airgap.envs.worldgen import WorldFacts

API_HOST, WEB_HOST = "api.github.com", "github.com"

SCHEMA = """
CREATE TABLE users (login TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE, username TEXT, name TEXT, email TEXT,
                    type TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE repos (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, description TEXT, private INTEGER NOT NULL,
                    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (owner, name));
CREATE TABLE collaborators (id INTEGER PRIMARY KEY, repo INTEGER NOT NULL, login TEXT NOT NULL, permission TEXT NOT NULL,
                            UNIQUE (repo, login));
CREATE TABLE labels (id INTEGER PRIMARY KEY, repo INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE, color TEXT NOT NULL,
                     description TEXT, is_default INTEGER NOT NULL, UNIQUE (repo, name));
CREATE TABLE milestones (id INTEGER PRIMARY KEY, repo INTEGER NOT NULL, number INTEGER NOT NULL, title TEXT NOT NULL,
                         description TEXT, state TEXT NOT NULL, due_on TEXT, created_at TEXT NOT NULL,
                         updated_at TEXT NOT NULL, closed_at TEXT, creator TEXT NOT NULL, UNIQUE (repo, number));
CREATE TABLE issues (id INTEGER PRIMARY KEY, repo INTEGER NOT NULL, number INTEGER NOT NULL, title TEXT NOT NULL, body TEXT,
                     user TEXT NOT NULL, state TEXT NOT NULL, state_reason TEXT, milestone INTEGER, locked INTEGER NOT NULL,
                     created_at TEXT NOT NULL, updated_at TEXT NOT NULL, closed_at TEXT, closed_by TEXT,
                     UNIQUE (repo, number));
CREATE TABLE issue_labels (id INTEGER PRIMARY KEY, issue INTEGER NOT NULL, label INTEGER NOT NULL, UNIQUE (issue, label));
CREATE TABLE issue_assignees (id INTEGER PRIMARY KEY, issue INTEGER NOT NULL, login TEXT NOT NULL, UNIQUE (issue, login));
CREATE TABLE comments (id INTEGER PRIMARY KEY, issue INTEGER NOT NULL, user TEXT NOT NULL, body TEXT NOT NULL,
                       created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
"""


# ------------------------------------------------------------------------------------------------ GitHub shapes
class SimpleUser(BaseModel):
    login: str
    id: int
    node_id: str
    avatar_url: str
    gravatar_id: str
    url: str
    html_url: str
    repos_url: str
    type: str
    site_admin: bool
    name: str | None = None
    email: str | None = None


class LabelOut(BaseModel):
    id: int
    node_id: str
    url: str
    name: str
    color: str
    default: bool
    description: str | None


class MilestoneOut(BaseModel):
    url: str
    html_url: str
    labels_url: str
    id: int
    node_id: str
    number: int
    state: Literal["open", "closed"]
    title: str
    description: str | None
    creator: SimpleUser | None
    open_issues: int
    closed_issues: int
    created_at: str
    updated_at: str
    closed_at: str | None
    due_on: str | None


class IssueOut(BaseModel):
    id: int
    node_id: str
    url: str
    repository_url: str
    labels_url: str
    comments_url: str
    events_url: str
    html_url: str
    number: int
    state: Literal["open", "closed"]
    state_reason: str | None
    title: str
    body: str | None
    user: SimpleUser
    labels: list[LabelOut]
    assignee: SimpleUser | None
    assignees: list[SimpleUser]
    milestone: MilestoneOut | None
    locked: bool
    active_lock_reason: str | None
    comments: int
    closed_at: str | None
    created_at: str
    updated_at: str
    closed_by: SimpleUser | None
    author_association: str


class CommentOut(BaseModel):
    id: int
    node_id: str
    url: str
    html_url: str
    issue_url: str
    body: str
    user: SimpleUser
    created_at: str
    updated_at: str
    author_association: str


class Permissions(BaseModel):
    admin: bool
    maintain: bool
    push: bool
    triage: bool
    pull: bool


class RepoOut(BaseModel):
    id: int
    node_id: str
    name: str
    full_name: str
    owner: SimpleUser
    private: bool
    visibility: str
    html_url: str
    description: str | None
    fork: bool
    url: str
    issues_url: str
    labels_url: str
    milestones_url: str
    created_at: str
    updated_at: str
    pushed_at: str
    has_issues: bool
    open_issues_count: int
    open_issues: int
    default_branch: str
    archived: bool
    disabled: bool
    permissions: Permissions


class SearchOut(BaseModel):
    total_count: int
    incomplete_results: bool
    items: list[IssueOut]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


LabelRef = str | dict[str, str]


class IssueCreate(Strict):
    title: str | int = Field(description="the issue title")
    body: str | None = Field(None, max_length=65536)
    assignee: str | None = None
    milestone: int | str | None = None
    labels: list[LabelRef] = Field(default_factory=list, max_length=100)
    assignees: list[str] = Field(default_factory=list, max_length=10)


class IssueUpdate(Strict):
    title: str | int | None = None
    body: str | None = Field(None, max_length=65536)
    assignee: str | None = None
    state: Literal["open", "closed"] | None = None
    state_reason: Literal["completed", "not_planned", "reopened"] | None = None
    milestone: int | str | None = Field(None, description="a milestone number; null removes it")
    labels: list[LabelRef] | None = Field(None, max_length=100)
    assignees: list[str] | None = Field(None, max_length=10)


class CommentIn(Strict):
    body: str = Field(max_length=65536)


class LabelsIn(Strict):
    labels: list[LabelRef] = Field(max_length=100)


class AssigneesIn(Strict):
    assignees: list[str] = Field(default_factory=list, max_length=10)


Color = Annotated[str, Field(pattern=r"^#?[0-9a-fA-F]{6}$")]


class LabelIn(Strict):
    name: str = Field(min_length=1, max_length=50)
    color: Color | None = None
    description: str | None = Field(None, max_length=100)


class LabelPatch(Strict):
    new_name: str | None = Field(None, min_length=1, max_length=50)
    color: Color | None = None
    description: str | None = Field(None, max_length=100)


class MilestoneIn(Strict):
    title: str = Field(min_length=1, max_length=255)
    state: Literal["open", "closed"] = "open"
    description: str | None = Field(None, max_length=10000)
    due_on: datetime | None = None


class MilestonePatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=255)
    state: Literal["open", "closed"] | None = None
    description: str | None = Field(None, max_length=10000)
    due_on: datetime | None = None


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


@register_backend
class TrackerBackend(SqliteBackend):
    name = "tracker"
    title = "GitHub (issues)"
    schema = SCHEMA
    style = GITHUB
    api_description = ("A subset of GitHub's REST API v3 (issues, comments, labels, milestones, assignees) for the "
                       "organisation's repositories. Authenticate with 'Authorization: Bearer <token>' or 'token <token>'.")

    def hosts_for(self, facts: WorldFacts) -> list[str]:
        return [API_HOST, WEB_HOST]

    def seed(self, db: sqlite3.Connection) -> None:
        f = self.facts
        org = f.org
        db.execute("INSERT INTO users VALUES (?, ?, NULL, ?, NULL, 'Organization', ?)",
                   (org.slug, 9_000_001, org.name, f"{org.founded}-01-15T00:00:00Z"))
        for i, p in enumerate(f.people):
            db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, 'User', ?)",
                       (p.github_login, 9_100_001 + i * 17, p.username, p.name, p.email, p.start_date + "T00:00:00Z"))
        label_id = 5_000_001
        issue_id = 2_000_001
        comment_id = 3_000_001
        for r_i, r in enumerate(f.repos):
            rid = 700_001 + r_i
            db.execute("INSERT INTO repos VALUES (?,?,?,?,?,?,?)", (rid, r.owner, r.name, r.description, int(r.private),
                                                                    r.created_at, f.now))
            for login in r.collaborators:
                perm = "admin" if login == r.owner else "write"
                db.execute("INSERT INTO collaborators (repo, login, permission) VALUES (?,?,?)", (rid, login, perm))
            if r.owner == org.slug:  # org repos: the org's leadership administers
                db.execute("UPDATE collaborators SET permission = 'admin' WHERE repo = ? AND login = ?",
                           (rid, f.person(f.teams[0].lead).github_login))
            ids = {}
            for lab in r.labels:
                db.execute("INSERT INTO labels VALUES (?,?,?,?,?,?)", (label_id, rid, lab.name, lab.color, lab.description,
                                                                       int(lab.name in _DEFAULT_LABELS)))
                ids[lab.name] = label_id
                label_id += 1
            creator = r.collaborators[0]
            for m in r.milestones:
                db.execute("INSERT INTO milestones (repo, number, title, description, state, due_on, created_at, updated_at, "
                           "closed_at, creator) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           (rid, m.number, m.title, m.description, m.state, m.due_on, m.created_at, m.created_at,
                            m.due_on if m.state == "closed" else None, creator))
            for iss in r.issues:
                db.execute("INSERT INTO issues VALUES (?,?,?,?,?,?,?,?,?,0,?,?,?,?)",
                           (issue_id, rid, iss.number, iss.title, iss.body, iss.author, iss.state, iss.state_reason,
                            iss.milestone, iss.created_at, iss.updated_at, iss.closed_at,
                            iss.assignees[0] if iss.closed_at and iss.assignees else (iss.author if iss.closed_at else None)))
                db.executemany("INSERT INTO issue_labels (issue, label) VALUES (?, ?)", [(issue_id, ids[n]) for n in iss.labels])
                db.executemany("INSERT INTO issue_assignees (issue, login) VALUES (?, ?)",
                               [(issue_id, a) for a in iss.assignees])
                for c in iss.comments:
                    db.execute("INSERT INTO comments VALUES (?,?,?,?,?,?)", (comment_id, issue_id, c.author, c.body,
                                                                             c.created_at, c.created_at))
                    comment_id += 1
                issue_id += 1

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
                "author_association": self._association(db, repo, i["user"])}

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
        return {"id": r["id"], "node_id": _node("R", r["id"]), "name": r["name"], "full_name": f"{r['owner']}/{r['name']}",
                "owner": self._user(db, ctx, r["owner"]), "private": bool(r["private"]),
                "visibility": "private" if r["private"] else "public", "html_url": f"{ctx.web}/{r['owner']}/{r['name']}",
                "description": r["description"], "fork": False, "url": base, "issues_url": f"{base}/issues{{/number}}",
                "labels_url": f"{base}/labels{{/name}}", "milestones_url": f"{base}/milestones{{/number}}",
                "created_at": r["created_at"], "updated_at": r["updated_at"], "pushed_at": r["updated_at"],
                "has_issues": True, "open_issues_count": n_open, "open_issues": n_open, "default_branch": "main",
                "archived": False, "disabled": False,
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
        if replace:
            db.execute("DELETE FROM issue_labels WHERE issue = ?", (issue_id,))
        for n in names:
            lab = self._label_row(db, repo, n, create=True)
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
                     direction: str, text: str | None = None) -> tuple[str, list[Any]]:
        where, args = ["repo = ?"], [repo["id"]]
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
            where.append("(title LIKE ? OR body LIKE ?)")
            args += [f"%{term}%", f"%{term}%"]
        key = {"created": "created_at", "updated": "updated_at",
               "comments": "(SELECT count(*) FROM comments WHERE issue = issues.id)"}[sort]
        order = "DESC" if direction == "desc" else "ASC"
        return f"FROM issues WHERE {' AND '.join(where)} ORDER BY {key} {order}, number {order}", args

    # -------------------------------------------------------------- routes
    def routes(self, app: FastAPI) -> None:
        logins = {p.github_login: p.username for p in self.facts.people}
        accounts = Accounts.for_service(self.facts, self.name, logins)
        auth = BearerAuth(accounts, "A personal access token (ghp_...). 'Authorization: token <tok>' works too.")
        User = Annotated[str, Depends(auth)]
        PageUser = Annotated[str, Depends(page_user(accounts))]
        Owner = Annotated[str, PathParam(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
        Repo = Annotated[str, PathParam(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
        Number = Annotated[int, PathParam(ge=1, le=2**31)]
        PerPage = Annotated[int, Query(ge=1, le=100)]
        Page = Annotated[int, Query(ge=1, le=100_000)]
        Since = Annotated[datetime | None, Query(description="only issues updated at or after this time (ISO 8601)")]
        ok204 = {204: {"description": "No Content"}}

        def page_of(request: Request, response: Response, db: sqlite3.Connection, base_sql: str, args: list,
                    select: str, page: int, per_page: int) -> list[sqlite3.Row]:
            total = db.execute(f"SELECT count(*) {base_sql}", args).fetchone()[0]
            rows = db.execute(f"SELECT {select} {base_sql} LIMIT ? OFFSET ?", (*args, per_page, (page - 1) * per_page))
            last = max(1, -(-total // per_page))
            links = []
            url = Ctx(request).api + request.url.path

            def at(p: int) -> str:
                q = dict(request.query_params)
                q.update(page=str(p), per_page=str(per_page))
                return f"<{url}?{urlencode(q)}>"

            if page < last:
                links += [f'{at(page + 1)}; rel="next"', f'{at(last)}; rel="last"']
            if page > 1:
                links += [f'{at(1)}; rel="first"', f'{at(min(page - 1, last))}; rel="prev"']
            if links:
                response.headers["Link"] = ", ".join(links)
            return rows.fetchall()

        def since_iso(since: datetime | None) -> str | None:
            if since is None:
                return None
            try:
                return iso(since) if since.tzinfo else since.strftime("%Y-%m-%dT%H:%M:%SZ")
            except (OverflowError, ValueError):
                raise ApiError(422, "Validation Failed", errors=[{"field": "since", "code": "invalid"}]) from None

        @app.get("/user", response_model=SimpleUser, tags=["users"])
        def me(request: Request, user: User) -> dict:
            """The authenticated user."""
            with self.read() as db:
                return self._user(db, Ctx(request), self._login(user), full=True)

        @app.get("/users/{username}", response_model=SimpleUser, tags=["users"])
        def get_user(username: Owner, request: Request, user: User) -> dict:
            """A user or organisation."""
            with self.read() as db:
                r = db.execute("SELECT login FROM users WHERE lower(login) = lower(?)", (username,)).fetchone()
                if r is None:
                    raise ApiError(404, "Not Found")
                return self._user(db, Ctx(request), r[0], full=True)

        @app.get("/user/repos", response_model=list[RepoOut], tags=["repos"])
        def my_repos(request: Request, response: Response, user: User, per_page: PerPage = 30, page: Page = 1) -> list:
            """Repositories you can access."""
            with self.read() as db:
                login = self._login(user)
                rows = page_of(request, response, db, "FROM repos r JOIN collaborators c ON c.repo = r.id WHERE c.login = ? "
                               "ORDER BY r.owner, r.name", [login], "r.*", page, per_page)
                return [self._repo_json(db, Ctx(request), r, login) for r in rows]

        @app.get("/repos/{owner}/{repo}", response_model=RepoOut, tags=["repos"])
        def get_repo(owner: Owner, repo: Repo, request: Request, user: User) -> dict:
            """A repository (404 for private repositories you cannot access)."""
            with self.read() as db:
                login = self._login(user)
                return self._repo_json(db, Ctx(request), self._repo(db, login, owner, repo), login)

        @app.get("/repos/{owner}/{repo}/issues", response_model=list[IssueOut], tags=["issues"])
        def list_issues(owner: Owner, repo: Repo, request: Request, response: Response, user: User,
                        state: Literal["open", "closed", "all"] = "open",
                        labels: Annotated[str | None, Query(max_length=500, description="comma-separated label names")] = None,
                        assignee: Annotated[str | None, Query(max_length=100, description="a login, none or *")] = None,
                        creator: Annotated[str | None, Query(max_length=100)] = None,
                        milestone: Annotated[str | None, Query(max_length=20, description="a number, none or *")] = None,
                        since: Since = None, sort: Literal["created", "updated", "comments"] = "created",
                        direction: Literal["asc", "desc"] = "desc", per_page: PerPage = 30, page: Page = 1) -> list:
            """Issues of a repository, paginated (Link header)."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                sql, args = self.issues_query(db, r, state, labels, assignee, creator, milestone, since_iso(since), sort,
                                              direction)
                rows = page_of(request, response, db, sql, args, "*", page, per_page)
                return [self._issue(db, Ctx(request), r, i) for i in rows]

        @app.post("/repos/{owner}/{repo}/issues", response_model=IssueOut, status_code=201, tags=["issues"])
        def create_issue(owner: Owner, repo: Repo, body: IssueCreate, request: Request, user: User) -> dict:
            """Open an issue (unknown label names are created, as on GitHub)."""
            with self.write(request) as db:
                login = self._login(user)
                r = self._repo(db, login, owner, repo)
                title = str(body.title).strip()
                if not title:
                    raise ApiError(422, "Validation Failed", errors=[{"resource": "Issue", "field": "title",
                                                                       "code": "missing_field"}])
                ms = self._milestone_number(db, r, body.milestone)
                assignees = self._check_assignees(db, r, body.assignees + ([body.assignee] if body.assignee else []))
                number = db.execute("SELECT coalesce(max(number), 0) + 1 FROM issues WHERE repo = ?", (r["id"],)).fetchone()[0]
                now = self.now_iso(db)
                cur = db.execute("INSERT INTO issues (repo, number, title, body, user, state, state_reason, milestone, locked,"
                                 " created_at, updated_at, closed_at, closed_by) VALUES (?,?,?,?,?,'open',NULL,?,0,?,?,NULL,NULL)",
                                 (r["id"], number, title, body.body, login, ms, now, now))
                self._set_labels(db, r, cur.lastrowid, _names(body.labels), replace=True)
                self._set_assignees(db, cur.lastrowid, assignees)
                return self._issue(db, Ctx(request), r, self._issue_row(db, r, number))

        @app.get("/repos/{owner}/{repo}/issues/comments", response_model=list[CommentOut], tags=["comments"])
        def repo_comments(owner: Owner, repo: Repo, request: Request, response: Response, user: User, since: Since = None,
                          per_page: PerPage = 30, page: Page = 1) -> list:
            """Every issue comment of a repository, oldest first."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                sql = "FROM comments WHERE issue IN (SELECT id FROM issues WHERE repo = ?)"
                args: list[Any] = [r["id"]]
                s = since_iso(since)
                if s:
                    sql += " AND updated_at >= ?"
                    args.append(s)
                rows = page_of(request, response, db, sql + " ORDER BY created_at, id", args, "*", page, per_page)
                return [self._comment(db, Ctx(request), r, c) for c in rows]

        @app.get("/repos/{owner}/{repo}/issues/comments/{comment_id}", response_model=CommentOut, tags=["comments"])
        def get_comment(owner: Owner, repo: Repo, comment_id: Annotated[int, PathParam(ge=1, le=2**62)],
                        request: Request, user: User) -> dict:
            """One issue comment."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                return self._comment(db, Ctx(request), r, self._comment_row(db, r, comment_id))

        @app.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}", response_model=CommentOut, tags=["comments"])
        def edit_comment(owner: Owner, repo: Repo, comment_id: Annotated[int, PathParam(ge=1, le=2**62)], body: CommentIn,
                         request: Request, user: User) -> dict:
            """Edit your own comment."""
            with self.write(request) as db:
                login = self._login(user)
                r = self._repo(db, login, owner, repo)
                c = self._comment_row(db, r, comment_id)
                if c["user"] != login:
                    raise ApiError(403, "Must have admin rights to Repository.")
                db.execute("UPDATE comments SET body = ?, updated_at = ? WHERE id = ?", (body.body, self.now_iso(db), c["id"]))
                return self._comment(db, Ctx(request), r, self._comment_row(db, r, comment_id))

        @app.delete("/repos/{owner}/{repo}/issues/comments/{comment_id}", status_code=204, response_class=Response,
                    responses=ok204, tags=["comments"])
        def delete_comment(owner: Owner, repo: Repo, comment_id: Annotated[int, PathParam(ge=1, le=2**62)],
                           request: Request, user: User) -> Response:
            """Delete your own comment."""
            with self.write(request) as db:
                login = self._login(user)
                r = self._repo(db, login, owner, repo)
                c = self._comment_row(db, r, comment_id)
                if c["user"] != login:
                    raise ApiError(403, "Must have admin rights to Repository.")
                db.execute("DELETE FROM comments WHERE id = ?", (c["id"],))
            return Response(status_code=204)

        @app.get("/repos/{owner}/{repo}/issues/{issue_number}", response_model=IssueOut, tags=["issues"])
        def get_issue(owner: Owner, repo: Repo, issue_number: Number, request: Request, user: User) -> dict:
            """One issue."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                return self._issue(db, Ctx(request), r, self._issue_row(db, r, issue_number))

        @app.patch("/repos/{owner}/{repo}/issues/{issue_number}", response_model=IssueOut, tags=["issues"])
        def update_issue(owner: Owner, repo: Repo, issue_number: Number, body: IssueUpdate, request: Request,
                         user: User) -> dict:
            """Edit title, body, state, labels (replaced), assignees (replaced) or milestone (null removes it)."""
            with self.write(request) as db:
                login = self._login(user)
                r = self._repo(db, login, owner, repo)
                i = self._issue_row(db, r, issue_number)
                given = body.model_fields_set
                now = self.now_iso(db)
                if "title" in given and body.title is not None:
                    if not str(body.title).strip():
                        raise ApiError(422, "Validation Failed", errors=[{"resource": "Issue", "field": "title",
                                                                           "code": "missing_field"}])
                    db.execute("UPDATE issues SET title = ? WHERE id = ?", (str(body.title).strip(), i["id"]))
                if "body" in given:
                    db.execute("UPDATE issues SET body = ? WHERE id = ?", (body.body, i["id"]))
                if "milestone" in given:
                    db.execute("UPDATE issues SET milestone = ? WHERE id = ?",
                               (self._milestone_number(db, r, body.milestone), i["id"]))
                if body.state is not None and body.state != i["state"]:
                    if body.state == "closed":
                        db.execute("UPDATE issues SET state = 'closed', state_reason = ?, closed_at = ?, closed_by = ? "
                                   "WHERE id = ?", (body.state_reason or "completed", now, login, i["id"]))
                    else:
                        db.execute("UPDATE issues SET state = 'open', state_reason = 'reopened', closed_at = NULL, "
                                   "closed_by = NULL WHERE id = ?", (i["id"],))
                elif body.state_reason is not None and i["state"] == "closed" and body.state_reason != "reopened":
                    db.execute("UPDATE issues SET state_reason = ? WHERE id = ?", (body.state_reason, i["id"]))
                if body.labels is not None:
                    self._set_labels(db, r, i["id"], _names(body.labels), replace=True)
                if body.assignees is not None or "assignee" in given:
                    wanted = (body.assignees or []) + ([body.assignee] if body.assignee else [])
                    self._set_assignees(db, i["id"], self._check_assignees(db, r, wanted))
                self._touch(db, i["id"])
                return self._issue(db, Ctx(request), r, self._issue_row(db, r, issue_number))

        @app.get("/repos/{owner}/{repo}/issues/{issue_number}/comments", response_model=list[CommentOut], tags=["comments"])
        def list_comments(owner: Owner, repo: Repo, issue_number: Number, request: Request, response: Response,
                          user: User, since: Since = None, per_page: PerPage = 30, page: Page = 1) -> list:
            """Comments of an issue, oldest first."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                i = self._issue_row(db, r, issue_number)
                sql, args = "FROM comments WHERE issue = ?", [i["id"]]
                s = since_iso(since)
                if s:
                    sql += " AND updated_at >= ?"
                    args.append(s)
                rows = page_of(request, response, db, sql + " ORDER BY created_at, id", args, "*", page, per_page)
                return [self._comment(db, Ctx(request), r, c) for c in rows]

        @app.post("/repos/{owner}/{repo}/issues/{issue_number}/comments", response_model=CommentOut, status_code=201,
                  tags=["comments"])
        def add_comment(owner: Owner, repo: Repo, issue_number: Number, body: CommentIn, request: Request,
                        user: User) -> dict:
            """Comment on an issue."""
            with self.write(request) as db:
                login = self._login(user)
                r = self._repo(db, login, owner, repo)
                i = self._issue_row(db, r, issue_number)
                if not body.body.strip():
                    raise ApiError(422, "Validation Failed", errors=[{"resource": "IssueComment", "field": "body",
                                                                       "code": "missing_field"}])
                now = self.now_iso(db)
                cur = db.execute("INSERT INTO comments (issue, user, body, created_at, updated_at) VALUES (?,?,?,?,?)",
                                 (i["id"], login, body.body, now, now))
                self._touch(db, i["id"])
                return self._comment(db, Ctx(request), r, self._comment_row(db, r, cur.lastrowid))

        LabelsBody = Annotated[LabelsIn | list[LabelRef], Body(description='{"labels": [...]} or a bare array of names')]

        @app.get("/repos/{owner}/{repo}/issues/{issue_number}/labels", response_model=list[LabelOut], tags=["labels"])
        def issue_labels(owner: Owner, repo: Repo, issue_number: Number, request: Request, user: User) -> list:
            """Labels on an issue."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                return self._issue(db, Ctx(request), r, self._issue_row(db, r, issue_number))["labels"]

        @app.post("/repos/{owner}/{repo}/issues/{issue_number}/labels", response_model=list[LabelOut], tags=["labels"])
        def add_labels(owner: Owner, repo: Repo, issue_number: Number, body: LabelsBody, request: Request,
                       user: User) -> list:
            """Add labels to an issue; returns all of its labels."""
            return self._labels_edit(request, user, owner, repo, issue_number, body, replace=False)

        @app.put("/repos/{owner}/{repo}/issues/{issue_number}/labels", response_model=list[LabelOut], tags=["labels"])
        def set_labels(owner: Owner, repo: Repo, issue_number: Number, body: LabelsBody, request: Request,
                       user: User) -> list:
            """Replace all labels of an issue."""
            return self._labels_edit(request, user, owner, repo, issue_number, body, replace=True)

        @app.delete("/repos/{owner}/{repo}/issues/{issue_number}/labels", status_code=204, response_class=Response,
                    responses=ok204, tags=["labels"])
        def clear_labels(owner: Owner, repo: Repo, issue_number: Number, request: Request, user: User) -> Response:
            """Remove every label from an issue."""
            with self.write(request) as db:
                r = self._repo(db, self._login(user), owner, repo)
                i = self._issue_row(db, r, issue_number)
                db.execute("DELETE FROM issue_labels WHERE issue = ?", (i["id"],))
                self._touch(db, i["id"])
            return Response(status_code=204)

        @app.delete("/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", response_model=list[LabelOut],
                    tags=["labels"])
        def remove_label(owner: Owner, repo: Repo, issue_number: Number,
                         name: Annotated[str, PathParam(min_length=1, max_length=50)], request: Request, user: User) -> list:
            """Remove one label from an issue; returns the labels left (404 if it was not there)."""
            with self.write(request) as db:
                r = self._repo(db, self._login(user), owner, repo)
                i = self._issue_row(db, r, issue_number)
                lab = self._label_row(db, r, name)
                if not db.execute("DELETE FROM issue_labels WHERE issue = ? AND label = ?", (i["id"], lab["id"])).rowcount:
                    raise ApiError(404, "Label does not exist")
                self._touch(db, i["id"])
                return self._issue(db, Ctx(request), r, self._issue_row(db, r, issue_number))["labels"]

        @app.post("/repos/{owner}/{repo}/issues/{issue_number}/assignees", response_model=IssueOut, status_code=201,
                  tags=["assignees"])
        def add_assignees(owner: Owner, repo: Repo, issue_number: Number, body: AssigneesIn, request: Request,
                          user: User) -> dict:
            """Add assignees to an issue."""
            with self.write(request) as db:
                r = self._repo(db, self._login(user), owner, repo)
                i = self._issue_row(db, r, issue_number)
                have = [x[0] for x in db.execute("SELECT login FROM issue_assignees WHERE issue = ? ORDER BY id", (i["id"],))]
                self._set_assignees(db, i["id"], have + [a for a in self._check_assignees(db, r, body.assignees)
                                                         if a not in have])
                self._touch(db, i["id"])
                return self._issue(db, Ctx(request), r, self._issue_row(db, r, issue_number))

        @app.delete("/repos/{owner}/{repo}/issues/{issue_number}/assignees", response_model=IssueOut, tags=["assignees"])
        def remove_assignees(owner: Owner, repo: Repo, issue_number: Number, body: AssigneesIn, request: Request,
                             user: User) -> dict:
            """Remove assignees from an issue."""
            with self.write(request) as db:
                r = self._repo(db, self._login(user), owner, repo)
                i = self._issue_row(db, r, issue_number)
                drop = {a.lower() for a in body.assignees}
                keep = [x[0] for x in db.execute("SELECT login FROM issue_assignees WHERE issue = ? ORDER BY id", (i["id"],))
                        if x[0].lower() not in drop]
                self._set_assignees(db, i["id"], keep)
                self._touch(db, i["id"])
                return self._issue(db, Ctx(request), r, self._issue_row(db, r, issue_number))

        @app.get("/repos/{owner}/{repo}/assignees", response_model=list[SimpleUser], tags=["assignees"])
        def assignees(owner: Owner, repo: Repo, request: Request, response: Response, user: User,
                      per_page: PerPage = 30, page: Page = 1) -> list:
            """People who can be assigned to issues."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                rows = page_of(request, response, db, "FROM collaborators WHERE repo = ? ORDER BY login", [r["id"]],
                               "login", page, per_page)
                return [self._user(db, Ctx(request), x[0]) for x in rows]

        @app.get("/repos/{owner}/{repo}/assignees/{assignee}", status_code=204, response_class=Response, responses=ok204,
                 tags=["assignees"])
        def can_assign(owner: Owner, repo: Repo, assignee: Owner, user: User) -> Response:
            """204 if the user can be assigned, 404 otherwise."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                if not db.execute("SELECT 1 FROM collaborators WHERE repo = ? AND lower(login) = lower(?)",
                                  (r["id"], assignee)).fetchone():
                    raise ApiError(404, "Not Found")
            return Response(status_code=204)

        @app.get("/repos/{owner}/{repo}/labels", response_model=list[LabelOut], tags=["labels"])
        def list_labels(owner: Owner, repo: Repo, request: Request, response: Response, user: User,
                        per_page: PerPage = 30, page: Page = 1) -> list:
            """Labels of a repository."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                rows = page_of(request, response, db, "FROM labels WHERE repo = ? ORDER BY name", [r["id"]], "*", page,
                               per_page)
                return [self._label(Ctx(request), r, lab) for lab in rows]

        @app.post("/repos/{owner}/{repo}/labels", response_model=LabelOut, status_code=201, tags=["labels"])
        def create_label(owner: Owner, repo: Repo, body: LabelIn, request: Request, user: User) -> dict:
            """Create a label."""
            with self.write(request) as db:
                r = self._repo(db, self._login(user), owner, repo)
                if db.execute("SELECT 1 FROM labels WHERE repo = ? AND name = ?", (r["id"], body.name)).fetchone():
                    raise ApiError(422, "Validation Failed", errors=[{"resource": "Label", "code": "already_exists",
                                                                       "field": "name"}])
                color = (body.color or "ededed").lstrip("#").lower()
                db.execute("INSERT INTO labels (repo, name, color, description, is_default) VALUES (?,?,?,?,0)",
                           (r["id"], body.name, color, body.description))
                return self._label(Ctx(request), r, self._label_row(db, r, body.name))

        @app.get("/repos/{owner}/{repo}/labels/{name}", response_model=LabelOut, tags=["labels"])
        def get_label(owner: Owner, repo: Repo, name: Annotated[str, PathParam(min_length=1, max_length=50)],
                      request: Request, user: User) -> dict:
            """One label."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                return self._label(Ctx(request), r, self._label_row(db, r, name))

        @app.patch("/repos/{owner}/{repo}/labels/{name}", response_model=LabelOut, tags=["labels"])
        def update_label(owner: Owner, repo: Repo, name: Annotated[str, PathParam(min_length=1, max_length=50)],
                         body: LabelPatch, request: Request, user: User) -> dict:
            """Rename or recolour a label."""
            with self.write(request) as db:
                r = self._repo(db, self._login(user), owner, repo)
                lab = self._label_row(db, r, name)
                new = body.new_name or lab["name"]
                if new.lower() != lab["name"].lower() and db.execute(
                        "SELECT 1 FROM labels WHERE repo = ? AND name = ?", (r["id"], new)).fetchone():
                    raise ApiError(422, "Validation Failed", errors=[{"resource": "Label", "code": "already_exists",
                                                                       "field": "name"}])
                db.execute("UPDATE labels SET name = ?, color = ?, description = ? WHERE id = ?",
                           (new, (body.color or lab["color"]).lstrip("#").lower(),
                            body.description if "description" in body.model_fields_set else lab["description"], lab["id"]))
                return self._label(Ctx(request), r, self._label_row(db, r, new))

        @app.delete("/repos/{owner}/{repo}/labels/{name}", status_code=204, response_class=Response, responses=ok204,
                    tags=["labels"])
        def delete_label(owner: Owner, repo: Repo, name: Annotated[str, PathParam(min_length=1, max_length=50)],
                         request: Request, user: User) -> Response:
            """Delete a label (and remove it from every issue)."""
            with self.write(request) as db:
                r = self._repo(db, self._login(user), owner, repo)
                lab = self._label_row(db, r, name)
                db.execute("DELETE FROM issue_labels WHERE label = ?", (lab["id"],))
                db.execute("DELETE FROM labels WHERE id = ?", (lab["id"],))
            return Response(status_code=204)

        @app.get("/repos/{owner}/{repo}/milestones", response_model=list[MilestoneOut], tags=["milestones"])
        def list_milestones(owner: Owner, repo: Repo, request: Request, response: Response, user: User,
                            state: Literal["open", "closed", "all"] = "open",
                            sort: Literal["due_on", "completeness"] = "due_on", direction: Literal["asc", "desc"] = "asc",
                            per_page: PerPage = 30, page: Page = 1) -> list:
            """Milestones of a repository."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                cond = "" if state == "all" else " AND state = ?"
                args: list[Any] = [r["id"]] + ([] if state == "all" else [state])
                order = "due_on" if sort == "due_on" else "(SELECT count(*) FROM issues i WHERE i.repo = milestones.repo " \
                    "AND i.milestone = milestones.number AND i.state = 'closed')"
                rows = page_of(request, response, db, f"FROM milestones WHERE repo = ?{cond} ORDER BY {order} "
                               f"{direction.upper()}, number", args, "*", page, per_page)
                return [self._milestone(db, Ctx(request), r, m) for m in rows]

        @app.post("/repos/{owner}/{repo}/milestones", response_model=MilestoneOut, status_code=201, tags=["milestones"])
        def create_milestone(owner: Owner, repo: Repo, body: MilestoneIn, request: Request, user: User) -> dict:
            """Create a milestone."""
            with self.write(request) as db:
                login = self._login(user)
                r = self._repo(db, login, owner, repo)
                if db.execute("SELECT 1 FROM milestones WHERE repo = ? AND title = ?", (r["id"], body.title)).fetchone():
                    raise ApiError(422, "Validation Failed", errors=[{"resource": "Milestone", "code": "already_exists",
                                                                       "field": "title"}])
                n = db.execute("SELECT coalesce(max(number), 0) + 1 FROM milestones WHERE repo = ?", (r["id"],)).fetchone()[0]
                now = self.now_iso(db)
                db.execute("INSERT INTO milestones (repo, number, title, description, state, due_on, created_at, updated_at, "
                           "closed_at, creator) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           (r["id"], n, body.title, body.description, body.state, since_iso(body.due_on), now, now,
                            now if body.state == "closed" else None, login))
                return self._milestone(db, Ctx(request), r, self._milestone_row(db, r, n))

        @app.get("/repos/{owner}/{repo}/milestones/{milestone_number}", response_model=MilestoneOut, tags=["milestones"])
        def get_milestone(owner: Owner, repo: Repo, milestone_number: Number, request: Request, user: User) -> dict:
            """One milestone."""
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                return self._milestone(db, Ctx(request), r, self._milestone_row(db, r, milestone_number))

        @app.patch("/repos/{owner}/{repo}/milestones/{milestone_number}", response_model=MilestoneOut, tags=["milestones"])
        def update_milestone(owner: Owner, repo: Repo, milestone_number: Number, body: MilestonePatch, request: Request,
                             user: User) -> dict:
            """Edit a milestone."""
            with self.write(request) as db:
                r = self._repo(db, self._login(user), owner, repo)
                m = self._milestone_row(db, r, milestone_number)
                given = body.model_fields_set
                now = self.now_iso(db)
                state = body.state or m["state"]
                db.execute("UPDATE milestones SET title = ?, description = ?, state = ?, due_on = ?, updated_at = ?, "
                           "closed_at = ? WHERE id = ?",
                           (body.title or m["title"], body.description if "description" in given else m["description"],
                            state, since_iso(body.due_on) if "due_on" in given else m["due_on"], now,
                            (m["closed_at"] or now) if state == "closed" else None, m["id"]))
                return self._milestone(db, Ctx(request), r, self._milestone_row(db, r, milestone_number))

        @app.delete("/repos/{owner}/{repo}/milestones/{milestone_number}", status_code=204, response_class=Response,
                    responses=ok204, tags=["milestones"])
        def delete_milestone(owner: Owner, repo: Repo, milestone_number: Number, request: Request, user: User) -> Response:
            """Delete a milestone (its issues keep no milestone)."""
            with self.write(request) as db:
                r = self._repo(db, self._login(user), owner, repo)
                m = self._milestone_row(db, r, milestone_number)
                db.execute("UPDATE issues SET milestone = NULL WHERE repo = ? AND milestone = ?", (r["id"], m["number"]))
                db.execute("DELETE FROM milestones WHERE id = ?", (m["id"],))
            return Response(status_code=204)

        @app.get("/search/issues", response_model=SearchOut, tags=["search"])
        def search_issues(request: Request, response: Response, user: User,
                          q: Annotated[str, Query(min_length=1, max_length=256,
                                                  description="e.g. 'repo:o/r is:open label:bug crash'")],
                          sort: Literal["created", "updated", "comments"] = "created",
                          order: Literal["asc", "desc"] = "desc", per_page: PerPage = 30, page: Page = 1) -> dict:
            """Search issues of the repositories you can access (qualifiers repo:, is:, label:, assignee:, author:, no:)."""
            with self.read() as db:
                login = self._login(user)
                ctx = Ctx(request)
                quals: dict[str, list[str]] = {}
                words = []
                for tok in q.split():
                    k, sep, v = tok.partition(":")
                    if sep and k in ("repo", "is", "label", "assignee", "author", "no", "state", "milestone") and v:
                        quals.setdefault(k, []).append(v.strip('"'))
                    else:
                        words.append(tok)
                repos = db.execute("SELECT r.* FROM repos r JOIN collaborators c ON c.repo = r.id WHERE c.login = ?",
                                   (login,)).fetchall()
                if "repo" in quals:
                    wanted = {x.lower() for x in quals["repo"]}
                    repos = [r for r in repos if f"{r['owner']}/{r['name']}".lower() in wanted]
                states = {v for v in quals.get("is", []) + quals.get("state", []) if v in ("open", "closed")}
                state = states.pop() if len(states) == 1 else "all"
                hits: list[tuple[sqlite3.Row, sqlite3.Row]] = []
                for r in repos:
                    sql, args = self.issues_query(db, r, state, ",".join(quals.get("label", [])) or None,
                                                  "none" if "assignee" in quals.get("no", []) else
                                                  (quals.get("assignee") or [None])[0],
                                                  (quals.get("author") or [None])[0],
                                                  "none" if "milestone" in quals.get("no", []) else None,
                                                  None, sort, order, " ".join(words))
                    if "label" in quals.get("no", []):
                        sql = sql.replace("WHERE ", "WHERE NOT EXISTS (SELECT 1 FROM issue_labels WHERE issue = issues.id) "
                                          "AND ", 1)
                    hits += [(r, i) for i in db.execute(f"SELECT * {sql}", args)]
                key = {"created": "created_at", "updated": "updated_at", "comments": "id"}[sort]
                hits.sort(key=lambda x: x[1][key], reverse=order == "desc")
                chunk = hits[(page - 1) * per_page: page * per_page]
                return {"total_count": len(hits), "incomplete_results": False,
                        "items": [self._issue(db, ctx, r, i) for r, i in chunk]}

        # ---------------------------------------------------------- the API root and the github.com pages
        @app.get("/", include_in_schema=False)
        def root(request: Request) -> Any:
            host = request.headers.get("host", "")
            if host == API_HOST or "text/html" not in request.headers.get("accept", ""):
                base = Ctx(request).api
                return JSONResponse({"current_user_url": f"{base}/user", "issues_url": f"{base}/issues",
                                     "repository_url": f"{base}/repos/{{owner}}/{{repo}}",
                                     "issue_search_url": f"{base}/search/issues?q={{query}}{{&page,per_page,sort,order}}",
                                     "user_url": f"{base}/users/{{user}}"})
            return dashboard(request, page_user_dep_sync(request))

        def page_user_dep_sync(request: Request) -> str:
            request.scope["airgap.page"] = True
            try:
                user = accounts.identify(request, allow_query=True)
            except ApiError as e:
                raise PageError(401, e.message) from None
            if user is None:
                raise PageError(401, "Sign in: HTTP basic auth (login and password) or ?token=<personal access token>.")
            return user

        def dashboard(request: Request, user: str) -> HTMLResponse:
            link = Linker(request)
            with self.read() as db:
                rows = db.execute("SELECT r.* FROM repos r JOIN collaborators c ON c.repo = r.id WHERE c.login = ? "
                                  "ORDER BY r.owner, r.name", (self._login(user),)).fetchall()
            items = "".join(f"<li>{link.a(f'/{r[1]}/{r[2]}/issues', f'{r[1]}/{r[2]}')}: {esc(r[3])}</li>" for r in rows)
            return html_response("Your repositories", f"<ul>{items}</ul>", request, [("/", "Home")], self._login(user))

        @app.get("/{owner}/{repo}", response_class=HTMLResponse, include_in_schema=False)
        def repo_page(owner: Owner, repo: Repo, request: Request, user: PageUser) -> HTMLResponse:
            return issues_page(owner, repo, request, user)

        @app.get("/{owner}/{repo}/issues", response_class=HTMLResponse, include_in_schema=False)
        def issues_page(owner: Owner, repo: Repo, request: Request, user: PageUser,
                        state: Literal["open", "closed", "all"] = "open", labels: str | None = None,
                        page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> HTMLResponse:
            link = Linker(request)
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                sql, args = self.issues_query(db, r, state, labels, None, None, None, None, "created", "desc")
                rows = db.execute(f"SELECT * {sql} LIMIT 50 OFFSET ?", (*args, (page - 1) * 50)).fetchall()
                issues = [self._issue(db, Ctx(request), r, i) for i in rows]
            full = f"{r['owner']}/{r['name']}"
            lines = [[f"#{i['number']}", link.a(f"/{full}/issues/{i['number']}", i["title"]), esc(i["state"]),
                      esc(", ".join(lab["name"] for lab in i["labels"])), esc(", ".join(a["login"] for a in i["assignees"])),
                      str(i["comments"])] for i in issues]
            body = (f"<p>{esc(r['description'])}</p><p>{link.a(f'/{full}/issues', 'Open', state='open')} | "
                    f"{link.a(f'/{full}/issues', 'Closed', state='closed')} | {link.a(f'/{full}/issues', 'All', state='all')}"
                    f"</p>" + table(["#", "Title", "State", "Labels", "Assignees", "Comments"], lines))
            return html_response(f"Issues - {full}", body, request, [("/", "Home"), (f"/{full}/issues", "Issues")],
                                 self._login(user))

        @app.get("/{owner}/{repo}/issues/{issue_number}", response_class=HTMLResponse, include_in_schema=False)
        def issue_page(owner: Owner, repo: Repo, issue_number: Number, request: Request, user: PageUser) -> HTMLResponse:
            with self.read() as db:
                r = self._repo(db, self._login(user), owner, repo)
                i = self._issue(db, Ctx(request), r, self._issue_row(db, r, issue_number))
                cs = [self._comment(db, Ctx(request), r, c) for c in db.execute(
                    "SELECT * FROM comments WHERE issue = ? ORDER BY created_at, id", (i["id"],))]
            full = f"{r['owner']}/{r['name']}"
            meta = (f"<p><b>{esc(i['state'])}</b> &middot; opened by {esc(i['user']['login'])} on {esc(i['created_at'])}"
                    f" &middot; labels: {esc(', '.join(lab['name'] for lab in i['labels']) or 'none')} &middot; assignees: "
                    f"{esc(', '.join(a['login'] for a in i['assignees']) or 'none')} &middot; milestone: "
                    f"{esc(i['milestone']['title'] if i['milestone'] else 'none')}</p>")
            comments = "".join(f"<h3>{esc(c['user']['login'])} commented on {esc(c['created_at'])}</h3><pre>{esc(c['body'])}"
                               "</pre>" for c in cs)
            body = meta + f"<pre>{esc(i['body'] or '')}</pre><h2>{len(cs)} comment(s)</h2>{comments}"
            return html_response(f"{i['title']} #{i['number']}", body, request,
                                 [("/", "Home"), (f"/{full}/issues", "Issues")], self._login(user))

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


_DEFAULT_LABELS = {"bug", "documentation", "duplicate", "enhancement", "good first issue", "help wanted", "invalid",
                   "question", "wontfix"}
