"""The tracker backend's HTTP routes, in GitHub's REST v3 paths and shapes, one APIRouter per area.

The tracker backend's HTTP routes, in GitHub's REST v3 paths and shapes, one APIRouter per area of GitHub's
documentation: ``users_api``, ``repos_api``, ``issues_api`` (a repository's issues), ``repo_comments_api`` (comments by
id), ``issue_api`` (one issue), ``issue_comments_api``, ``issue_labels_api``, ``assignees_api``, ``labels_api``,
``milestones_api``, ``search_api``, and ``pages`` (github.com's HTML pages, and the API root). The order matters: a
literal segment (``issues/comments``) must be matched before a parameter (``issues/{issue_number}``). Handlers get
the backend serving the request as ``b`` and the caller as ``user``."""
import sqlite3
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse

from airgap.envs.backends.tracker import (
    API_HOST,
    Ctx,
    TrackerBackend,
    _names,
)
from airgap.envs.backends.tracker.model import (
    AssigneesIn,
    CommentIn,
    CommentOut,
    IssueCreate,
    IssueOut,
    IssueUpdate,
    LabelIn,
    LabelOut,
    LabelPatch,
    LabelRef,
    LabelsIn,
    MilestoneIn,
    MilestoneOut,
    MilestonePatch,
    RepoOut,
    SearchOut,
    SimpleUser,
)
from airgap.envs.backends.web import ApiError, BearerAuth, PageError, current_backend, html_page, page_user
from airgap.envs.common import iso

Tracker = Annotated[TrackerBackend, Depends(current_backend)]
users_api = APIRouter()
repos_api = APIRouter()
issues_api = APIRouter()
repo_comments_api = APIRouter()
issue_api = APIRouter()
issue_comments_api = APIRouter()
issue_labels_api = APIRouter()
assignees_api = APIRouter()
labels_api = APIRouter()
milestones_api = APIRouter()
search_api = APIRouter()
pages = APIRouter(include_in_schema=False)

User = Annotated[str, Depends(BearerAuth("A personal access token (ghp_...). 'Authorization: token <tok>' works too."))]
PageUser = Annotated[str, Depends(page_user)]
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


@users_api.get("/user", response_model=SimpleUser, tags=["users"])
def me(b: Tracker, request: Request, user: User) -> dict:
    """The authenticated user."""
    with b.read() as db:
        return b._user(db, Ctx(request), b._login(user), full=True)


@users_api.get("/users/{username}", response_model=SimpleUser, tags=["users"])
def get_user(b: Tracker, username: Owner, request: Request, user: User) -> dict:
    """A user or organisation."""
    with b.read() as db:
        r = db.execute("SELECT login FROM users WHERE lower(login) = lower(?)", (username,)).fetchone()
        if r is None:
            raise ApiError(404, "Not Found")
        return b._user(db, Ctx(request), r[0], full=True)


@repos_api.get("/user/repos", response_model=list[RepoOut], tags=["repos"])
def my_repos(b: Tracker, request: Request, response: Response, user: User, per_page: PerPage = 30, page: Page = 1) -> list:
    """Repositories you can access."""
    with b.read() as db:
        login = b._login(user)
        rows = page_of(request, response, db, "FROM repos r JOIN collaborators c ON c.repo = r.id WHERE c.login = ? "
                       "ORDER BY r.owner, r.name", [login], "r.*", page, per_page)
        return [b._repo_json(db, Ctx(request), r, login) for r in rows]


@repos_api.get("/repos/{owner}/{repo}", response_model=RepoOut, tags=["repos"])
def get_repo(b: Tracker, owner: Owner, repo: Repo, request: Request, user: User) -> dict:
    """A repository (404 for private repositories you cannot access)."""
    with b.read() as db:
        login = b._login(user)
        return b._repo_json(db, Ctx(request), b._repo(db, login, owner, repo), login)


@issues_api.get("/repos/{owner}/{repo}/issues", response_model=list[IssueOut], tags=["issues"])
def list_issues(b: Tracker, owner: Owner, repo: Repo, request: Request, response: Response, user: User,
                state: Literal["open", "closed", "all"] = "open",
                labels: Annotated[str | None, Query(max_length=500, description="comma-separated label names")] = None,
                assignee: Annotated[str | None, Query(max_length=100, description="a login, none or *")] = None,
                creator: Annotated[str | None, Query(max_length=100)] = None,
                milestone: Annotated[str | None, Query(max_length=20, description="a number, none or *")] = None,
                since: Since = None, sort: Literal["created", "updated", "comments"] = "created",
                direction: Literal["asc", "desc"] = "desc", per_page: PerPage = 30, page: Page = 1) -> list:
    """Issues of a repository, paginated (Link header)."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        sql, args = b.issues_query(db, r, state, labels, assignee, creator, milestone, since_iso(since), sort,
                                      direction)
        rows = page_of(request, response, db, sql, args, "*", page, per_page)
        return [b._issue(db, Ctx(request), r, i) for i in rows]


@issues_api.post("/repos/{owner}/{repo}/issues", response_model=IssueOut, status_code=201, tags=["issues"])
def create_issue(b: Tracker, owner: Owner, repo: Repo, body: IssueCreate, request: Request, user: User) -> dict:
    """Open an issue (unknown label names are created, as on GitHub)."""
    with b.write(request) as db:
        login = b._login(user)
        r = b._repo(db, login, owner, repo)
        title = str(body.title).strip()
        if not title:
            raise ApiError(422, "Validation Failed", errors=[{"resource": "Issue", "field": "title",
                                                               "code": "missing_field"}])
        ms = b._milestone_number(db, r, body.milestone)
        assignees = b._check_assignees(db, r, body.assignees + ([body.assignee] if body.assignee else []))
        number = db.execute("SELECT coalesce(max(number), 0) + 1 FROM issues WHERE repo = ?", (r["id"],)).fetchone()[0]
        now = b.now_iso(db)
        cur = db.execute("INSERT INTO issues (repo, number, title, body, user, state, state_reason, milestone, locked,"
                         " created_at, updated_at, closed_at, closed_by) VALUES (?,?,?,?,?,'open',NULL,?,0,?,?,NULL,NULL)",
                         (r["id"], number, title, body.body, login, ms, now, now))
        b._set_labels(db, r, cur.lastrowid, _names(body.labels), replace=True)
        b._set_assignees(db, cur.lastrowid, assignees)
        return b._issue(db, Ctx(request), r, b._issue_row(db, r, number))


@repo_comments_api.get("/repos/{owner}/{repo}/issues/comments", response_model=list[CommentOut], tags=["comments"])
def repo_comments(b: Tracker, owner: Owner, repo: Repo, request: Request, response: Response, user: User, since: Since = None,
                  per_page: PerPage = 30, page: Page = 1) -> list:
    """Every issue comment of a repository, oldest first."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        sql = "FROM comments WHERE issue IN (SELECT id FROM issues WHERE repo = ?)"
        args: list[Any] = [r["id"]]
        s = since_iso(since)
        if s:
            sql += " AND updated_at >= ?"
            args.append(s)
        rows = page_of(request, response, db, sql + " ORDER BY created_at, id", args, "*", page, per_page)
        return [b._comment(db, Ctx(request), r, c) for c in rows]


@repo_comments_api.get("/repos/{owner}/{repo}/issues/comments/{comment_id}", response_model=CommentOut, tags=["comments"])
def get_comment(b: Tracker, owner: Owner, repo: Repo, comment_id: Annotated[int, PathParam(ge=1, le=2**62)],
                request: Request, user: User) -> dict:
    """One issue comment."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        return b._comment(db, Ctx(request), r, b._comment_row(db, r, comment_id))


@repo_comments_api.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}", response_model=CommentOut, tags=["comments"])
def edit_comment(b: Tracker, owner: Owner, repo: Repo, comment_id: Annotated[int, PathParam(ge=1, le=2**62)], body: CommentIn,
                 request: Request, user: User) -> dict:
    """Edit your own comment."""
    with b.write(request) as db:
        login = b._login(user)
        r = b._repo(db, login, owner, repo)
        c = b._comment_row(db, r, comment_id)
        if c["user"] != login:
            raise ApiError(403, "Must have admin rights to Repository.")
        db.execute("UPDATE comments SET body = ?, updated_at = ? WHERE id = ?", (body.body, b.now_iso(db), c["id"]))
        return b._comment(db, Ctx(request), r, b._comment_row(db, r, comment_id))


@repo_comments_api.delete("/repos/{owner}/{repo}/issues/comments/{comment_id}", status_code=204, response_class=Response,
            responses=ok204, tags=["comments"])
def delete_comment(b: Tracker, owner: Owner, repo: Repo, comment_id: Annotated[int, PathParam(ge=1, le=2**62)],
                   request: Request, user: User) -> Response:
    """Delete your own comment."""
    with b.write(request) as db:
        login = b._login(user)
        r = b._repo(db, login, owner, repo)
        c = b._comment_row(db, r, comment_id)
        if c["user"] != login:
            raise ApiError(403, "Must have admin rights to Repository.")
        db.execute("DELETE FROM comments WHERE id = ?", (c["id"],))
    return Response(status_code=204)


@issue_api.get("/repos/{owner}/{repo}/issues/{issue_number}", response_model=IssueOut, tags=["issues"])
def get_issue(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, request: Request, user: User) -> dict:
    """One issue."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        return b._issue(db, Ctx(request), r, b._issue_row(db, r, issue_number))


@issue_api.patch("/repos/{owner}/{repo}/issues/{issue_number}", response_model=IssueOut, tags=["issues"])
def update_issue(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, body: IssueUpdate, request: Request,
                 user: User) -> dict:
    """Edit title, body, state, labels (replaced), assignees (replaced) or milestone (null removes it)."""
    with b.write(request) as db:
        login = b._login(user)
        r = b._repo(db, login, owner, repo)
        i = b._issue_row(db, r, issue_number)
        given = body.model_fields_set
        now = b.now_iso(db)
        if "title" in given and body.title is not None:
            if not str(body.title).strip():
                raise ApiError(422, "Validation Failed", errors=[{"resource": "Issue", "field": "title",
                                                                   "code": "missing_field"}])
            db.execute("UPDATE issues SET title = ? WHERE id = ?", (str(body.title).strip(), i["id"]))
        if "body" in given:
            db.execute("UPDATE issues SET body = ? WHERE id = ?", (body.body, i["id"]))
        if "milestone" in given:
            db.execute("UPDATE issues SET milestone = ? WHERE id = ?",
                       (b._milestone_number(db, r, body.milestone), i["id"]))
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
            b._set_labels(db, r, i["id"], _names(body.labels), replace=True)
        if body.assignees is not None or "assignee" in given:
            wanted = (body.assignees or []) + ([body.assignee] if body.assignee else [])
            b._set_assignees(db, i["id"], b._check_assignees(db, r, wanted))
        b._touch(db, i["id"])
        return b._issue(db, Ctx(request), r, b._issue_row(db, r, issue_number))


@issue_comments_api.get("/repos/{owner}/{repo}/issues/{issue_number}/comments", response_model=list[CommentOut], tags=["comments"])
def list_comments(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, request: Request, response: Response,
                  user: User, since: Since = None, per_page: PerPage = 30, page: Page = 1) -> list:
    """Comments of an issue, oldest first."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        i = b._issue_row(db, r, issue_number)
        sql, args = "FROM comments WHERE issue = ?", [i["id"]]
        s = since_iso(since)
        if s:
            sql += " AND updated_at >= ?"
            args.append(s)
        rows = page_of(request, response, db, sql + " ORDER BY created_at, id", args, "*", page, per_page)
        return [b._comment(db, Ctx(request), r, c) for c in rows]


@issue_comments_api.post("/repos/{owner}/{repo}/issues/{issue_number}/comments", response_model=CommentOut, status_code=201,
          tags=["comments"])
def add_comment(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, body: CommentIn, request: Request,
                user: User) -> dict:
    """Comment on an issue."""
    with b.write(request) as db:
        login = b._login(user)
        r = b._repo(db, login, owner, repo)
        i = b._issue_row(db, r, issue_number)
        if not body.body.strip():
            raise ApiError(422, "Validation Failed", errors=[{"resource": "IssueComment", "field": "body",
                                                               "code": "missing_field"}])
        now = b.now_iso(db)
        cur = db.execute("INSERT INTO comments (issue, user, body, created_at, updated_at) VALUES (?,?,?,?,?)",
                         (i["id"], login, body.body, now, now))
        b._touch(db, i["id"])
        return b._comment(db, Ctx(request), r, b._comment_row(db, r, cur.lastrowid))

LabelsBody = Annotated[LabelsIn | list[LabelRef], Body(description='{"labels": [...]} or a bare array of names')]


@issue_labels_api.get("/repos/{owner}/{repo}/issues/{issue_number}/labels", response_model=list[LabelOut], tags=["labels"])
def issue_labels(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, request: Request, user: User) -> list:
    """Labels on an issue."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        return b._issue(db, Ctx(request), r, b._issue_row(db, r, issue_number))["labels"]


@issue_labels_api.post("/repos/{owner}/{repo}/issues/{issue_number}/labels", response_model=list[LabelOut], tags=["labels"])
def add_labels(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, body: LabelsBody, request: Request,
               user: User) -> list:
    """Add labels to an issue; returns all of its labels."""
    return b._labels_edit(request, user, owner, repo, issue_number, body, replace=False)


@issue_labels_api.put("/repos/{owner}/{repo}/issues/{issue_number}/labels", response_model=list[LabelOut], tags=["labels"])
def set_labels(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, body: LabelsBody, request: Request,
               user: User) -> list:
    """Replace all labels of an issue."""
    return b._labels_edit(request, user, owner, repo, issue_number, body, replace=True)


@issue_labels_api.delete("/repos/{owner}/{repo}/issues/{issue_number}/labels", status_code=204, response_class=Response,
            responses=ok204, tags=["labels"])
def clear_labels(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, request: Request, user: User) -> Response:
    """Remove every label from an issue."""
    with b.write(request) as db:
        r = b._repo(db, b._login(user), owner, repo)
        i = b._issue_row(db, r, issue_number)
        db.execute("DELETE FROM issue_labels WHERE issue = ?", (i["id"],))
        b._touch(db, i["id"])
    return Response(status_code=204)


@issue_labels_api.delete("/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", response_model=list[LabelOut],
            tags=["labels"])
def remove_label(b: Tracker, owner: Owner, repo: Repo, issue_number: Number,
                 name: Annotated[str, PathParam(min_length=1, max_length=50)], request: Request, user: User) -> list:
    """Remove one label from an issue; returns the labels left (404 if it was not there)."""
    with b.write(request) as db:
        r = b._repo(db, b._login(user), owner, repo)
        i = b._issue_row(db, r, issue_number)
        lab = b._label_row(db, r, name)
        if not db.execute("DELETE FROM issue_labels WHERE issue = ? AND label = ?", (i["id"], lab["id"])).rowcount:
            raise ApiError(404, "Label does not exist")
        b._touch(db, i["id"])
        return b._issue(db, Ctx(request), r, b._issue_row(db, r, issue_number))["labels"]


@assignees_api.post("/repos/{owner}/{repo}/issues/{issue_number}/assignees", response_model=IssueOut, status_code=201,
          tags=["assignees"])
def add_assignees(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, body: AssigneesIn, request: Request,
                  user: User) -> dict:
    """Add assignees to an issue."""
    with b.write(request) as db:
        r = b._repo(db, b._login(user), owner, repo)
        i = b._issue_row(db, r, issue_number)
        have = [x[0] for x in db.execute("SELECT login FROM issue_assignees WHERE issue = ? ORDER BY id", (i["id"],))]
        b._set_assignees(db, i["id"], have + [a for a in b._check_assignees(db, r, body.assignees)
                                                 if a not in have])
        b._touch(db, i["id"])
        return b._issue(db, Ctx(request), r, b._issue_row(db, r, issue_number))


@assignees_api.delete("/repos/{owner}/{repo}/issues/{issue_number}/assignees", response_model=IssueOut, tags=["assignees"])
def remove_assignees(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, body: AssigneesIn, request: Request,
                     user: User) -> dict:
    """Remove assignees from an issue."""
    with b.write(request) as db:
        r = b._repo(db, b._login(user), owner, repo)
        i = b._issue_row(db, r, issue_number)
        drop = {a.lower() for a in body.assignees}
        keep = [x[0] for x in db.execute("SELECT login FROM issue_assignees WHERE issue = ? ORDER BY id", (i["id"],))
                if x[0].lower() not in drop]
        b._set_assignees(db, i["id"], keep)
        b._touch(db, i["id"])
        return b._issue(db, Ctx(request), r, b._issue_row(db, r, issue_number))


@assignees_api.get("/repos/{owner}/{repo}/assignees", response_model=list[SimpleUser], tags=["assignees"])
def assignees(b: Tracker, owner: Owner, repo: Repo, request: Request, response: Response, user: User,
              per_page: PerPage = 30, page: Page = 1) -> list:
    """People who can be assigned to issues."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        rows = page_of(request, response, db, "FROM collaborators WHERE repo = ? ORDER BY login", [r["id"]],
                       "login", page, per_page)
        return [b._user(db, Ctx(request), x[0]) for x in rows]


@assignees_api.get("/repos/{owner}/{repo}/assignees/{assignee}", status_code=204, response_class=Response, responses=ok204,
         tags=["assignees"])
def can_assign(b: Tracker, owner: Owner, repo: Repo, assignee: Owner, user: User) -> Response:
    """204 if the user can be assigned, 404 otherwise."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        if not db.execute("SELECT 1 FROM collaborators WHERE repo = ? AND lower(login) = lower(?)",
                          (r["id"], assignee)).fetchone():
            raise ApiError(404, "Not Found")
    return Response(status_code=204)


@labels_api.get("/repos/{owner}/{repo}/labels", response_model=list[LabelOut], tags=["labels"])
def list_labels(b: Tracker, owner: Owner, repo: Repo, request: Request, response: Response, user: User,
                per_page: PerPage = 30, page: Page = 1) -> list:
    """Labels of a repository."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        rows = page_of(request, response, db, "FROM labels WHERE repo = ? ORDER BY name", [r["id"]], "*", page,
                       per_page)
        return [b._label(Ctx(request), r, lab) for lab in rows]


@labels_api.post("/repos/{owner}/{repo}/labels", response_model=LabelOut, status_code=201, tags=["labels"])
def create_label(b: Tracker, owner: Owner, repo: Repo, body: LabelIn, request: Request, user: User) -> dict:
    """Create a label."""
    with b.write(request) as db:
        r = b._repo(db, b._login(user), owner, repo)
        if db.execute("SELECT 1 FROM labels WHERE repo = ? AND name = ?", (r["id"], body.name)).fetchone():
            raise ApiError(422, "Validation Failed", errors=[{"resource": "Label", "code": "already_exists",
                                                               "field": "name"}])
        color = (body.color or "ededed").lstrip("#").lower()
        db.execute("INSERT INTO labels (repo, name, color, description, is_default) VALUES (?,?,?,?,0)",
                   (r["id"], body.name, color, body.description))
        return b._label(Ctx(request), r, b._label_row(db, r, body.name))


@labels_api.get("/repos/{owner}/{repo}/labels/{name}", response_model=LabelOut, tags=["labels"])
def get_label(b: Tracker, owner: Owner, repo: Repo, name: Annotated[str, PathParam(min_length=1, max_length=50)],
              request: Request, user: User) -> dict:
    """One label."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        return b._label(Ctx(request), r, b._label_row(db, r, name))


@labels_api.patch("/repos/{owner}/{repo}/labels/{name}", response_model=LabelOut, tags=["labels"])
def update_label(b: Tracker, owner: Owner, repo: Repo, name: Annotated[str, PathParam(min_length=1, max_length=50)],
                 body: LabelPatch, request: Request, user: User) -> dict:
    """Rename or recolour a label."""
    with b.write(request) as db:
        r = b._repo(db, b._login(user), owner, repo)
        lab = b._label_row(db, r, name)
        new = body.new_name or lab["name"]
        if new.lower() != lab["name"].lower() and db.execute(
                "SELECT 1 FROM labels WHERE repo = ? AND name = ?", (r["id"], new)).fetchone():
            raise ApiError(422, "Validation Failed", errors=[{"resource": "Label", "code": "already_exists",
                                                               "field": "name"}])
        db.execute("UPDATE labels SET name = ?, color = ?, description = ? WHERE id = ?",
                   (new, (body.color or lab["color"]).lstrip("#").lower(),
                    body.description if "description" in body.model_fields_set else lab["description"], lab["id"]))
        return b._label(Ctx(request), r, b._label_row(db, r, new))


@labels_api.delete("/repos/{owner}/{repo}/labels/{name}", status_code=204, response_class=Response, responses=ok204,
            tags=["labels"])
def delete_label(b: Tracker, owner: Owner, repo: Repo, name: Annotated[str, PathParam(min_length=1, max_length=50)],
                 request: Request, user: User) -> Response:
    """Delete a label (and remove it from every issue)."""
    with b.write(request) as db:
        r = b._repo(db, b._login(user), owner, repo)
        lab = b._label_row(db, r, name)
        db.execute("DELETE FROM issue_labels WHERE label = ?", (lab["id"],))
        db.execute("DELETE FROM labels WHERE id = ?", (lab["id"],))
    return Response(status_code=204)


@milestones_api.get("/repos/{owner}/{repo}/milestones", response_model=list[MilestoneOut], tags=["milestones"])
def list_milestones(b: Tracker, owner: Owner, repo: Repo, request: Request, response: Response, user: User,
                    state: Literal["open", "closed", "all"] = "open",
                    sort: Literal["due_on", "completeness"] = "due_on", direction: Literal["asc", "desc"] = "asc",
                    per_page: PerPage = 30, page: Page = 1) -> list:
    """Milestones of a repository."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        cond = "" if state == "all" else " AND state = ?"
        args: list[Any] = [r["id"]] + ([] if state == "all" else [state])
        order = "due_on" if sort == "due_on" else "(SELECT count(*) FROM issues i WHERE i.repo = milestones.repo " \
            "AND i.milestone = milestones.number AND i.state = 'closed')"
        rows = page_of(request, response, db, f"FROM milestones WHERE repo = ?{cond} ORDER BY {order} "
                       f"{direction.upper()}, number", args, "*", page, per_page)
        return [b._milestone(db, Ctx(request), r, m) for m in rows]


@milestones_api.post("/repos/{owner}/{repo}/milestones", response_model=MilestoneOut, status_code=201, tags=["milestones"])
def create_milestone(b: Tracker, owner: Owner, repo: Repo, body: MilestoneIn, request: Request, user: User) -> dict:
    """Create a milestone."""
    with b.write(request) as db:
        login = b._login(user)
        r = b._repo(db, login, owner, repo)
        if db.execute("SELECT 1 FROM milestones WHERE repo = ? AND title = ?", (r["id"], body.title)).fetchone():
            raise ApiError(422, "Validation Failed", errors=[{"resource": "Milestone", "code": "already_exists",
                                                               "field": "title"}])
        n = db.execute("SELECT coalesce(max(number), 0) + 1 FROM milestones WHERE repo = ?", (r["id"],)).fetchone()[0]
        now = b.now_iso(db)
        db.execute("INSERT INTO milestones (repo, number, title, description, state, due_on, created_at, updated_at, "
                   "closed_at, creator) VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (r["id"], n, body.title, body.description, body.state, since_iso(body.due_on), now, now,
                    now if body.state == "closed" else None, login))
        return b._milestone(db, Ctx(request), r, b._milestone_row(db, r, n))


@milestones_api.get("/repos/{owner}/{repo}/milestones/{milestone_number}", response_model=MilestoneOut, tags=["milestones"])
def get_milestone(b: Tracker, owner: Owner, repo: Repo, milestone_number: Number, request: Request, user: User) -> dict:
    """One milestone."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        return b._milestone(db, Ctx(request), r, b._milestone_row(db, r, milestone_number))


@milestones_api.patch("/repos/{owner}/{repo}/milestones/{milestone_number}", response_model=MilestoneOut, tags=["milestones"])
def update_milestone(b: Tracker, owner: Owner, repo: Repo, milestone_number: Number, body: MilestonePatch, request: Request,
                     user: User) -> dict:
    """Edit a milestone."""
    with b.write(request) as db:
        r = b._repo(db, b._login(user), owner, repo)
        m = b._milestone_row(db, r, milestone_number)
        given = body.model_fields_set
        now = b.now_iso(db)
        state = body.state or m["state"]
        db.execute("UPDATE milestones SET title = ?, description = ?, state = ?, due_on = ?, updated_at = ?, "
                   "closed_at = ? WHERE id = ?",
                   (body.title or m["title"], body.description if "description" in given else m["description"],
                    state, since_iso(body.due_on) if "due_on" in given else m["due_on"], now,
                    (m["closed_at"] or now) if state == "closed" else None, m["id"]))
        return b._milestone(db, Ctx(request), r, b._milestone_row(db, r, milestone_number))


@milestones_api.delete("/repos/{owner}/{repo}/milestones/{milestone_number}", status_code=204, response_class=Response,
            responses=ok204, tags=["milestones"])
def delete_milestone(b: Tracker, owner: Owner, repo: Repo, milestone_number: Number, request: Request, user: User) -> Response:
    """Delete a milestone (its issues keep no milestone)."""
    with b.write(request) as db:
        r = b._repo(db, b._login(user), owner, repo)
        m = b._milestone_row(db, r, milestone_number)
        db.execute("UPDATE issues SET milestone = NULL WHERE repo = ? AND milestone = ?", (r["id"], m["number"]))
        db.execute("DELETE FROM milestones WHERE id = ?", (m["id"],))
    return Response(status_code=204)


@search_api.get("/search/issues", response_model=SearchOut, tags=["search"])
def search_issues(b: Tracker, request: Request, response: Response, user: User,
                  q: Annotated[str, Query(min_length=1, max_length=256,
                                          description="e.g. 'repo:o/r is:open label:bug crash'")],
                  sort: Literal["created", "updated", "comments"] = "created",
                  order: Literal["asc", "desc"] = "desc", per_page: PerPage = 30, page: Page = 1) -> dict:
    """Search issues and pull requests of the repositories you can access (qualifiers repo:, org:, user:,
    is:open|closed|issue|pr|merged|unmerged, type:issue|pr, label:, assignee:, author:, no:label|assignee|milestone,
    in:title|body)."""
    with b.read() as db:
        login = b._login(user)
        ctx = Ctx(request)
        quals: dict[str, list[str]] = {}
        words = []
        for tok in q.split():
            k, sep, v = tok.partition(":")
            if sep and k in ("repo", "is", "label", "assignee", "author", "no", "state", "milestone", "type", "in",
                             "org", "user") and v:
                quals.setdefault(k, []).append(v.strip('"'))
            else:
                words.append(tok)
        repos = db.execute("SELECT r.* FROM repos r JOIN collaborators c ON c.repo = r.id WHERE c.login = ?",
                           (login,)).fetchall()
        if "repo" in quals:
            wanted = {x.lower() for x in quals["repo"]}
            repos = [r for r in repos if f"{r['owner']}/{r['name']}".lower() in wanted]
        for owner in quals.get("org", []) + quals.get("user", []):
            repos = [r for r in repos if r["owner"].lower() == owner.lower()]
        kinds = {"pull-request": "pr", "pr": "pr", "issue": "issue"}
        wanted_kinds = {kinds[v] for v in quals.get("is", []) + quals.get("type", []) if v in kinds}
        kind = wanted_kinds.pop() if len(wanted_kinds) == 1 else None
        merged = True if "merged" in quals.get("is", []) else False if "unmerged" in quals.get("is", []) else None
        if merged is not None:
            kind = "pr"
        fields = tuple(f for f in ("title", "body") if any(f in v.split(",") for v in quals.get("in", []))) \
            or ("title", "body")
        states = {v for v in quals.get("is", []) + quals.get("state", []) if v in ("open", "closed")}
        state = states.pop() if len(states) == 1 else "all"
        hits: list[tuple[sqlite3.Row, sqlite3.Row]] = []
        for r in repos:
            sql, args = b.issues_query(db, r, state, ",".join(quals.get("label", [])) or None,
                                          "none" if "assignee" in quals.get("no", []) else
                                          (quals.get("assignee") or [None])[0],
                                          (quals.get("author") or [None])[0],
                                          "none" if "milestone" in quals.get("no", []) else None,
                                          None, sort, order, " ".join(words), kind, fields, merged)
            if "label" in quals.get("no", []):
                sql = sql.replace("WHERE ", "WHERE NOT EXISTS (SELECT 1 FROM issue_labels WHERE issue = issues.id) "
                                  "AND ", 1)
            hits += [(r, i) for i in db.execute(f"SELECT * {sql}", args)]
        key = {"created": "created_at", "updated": "updated_at", "comments": "id"}[sort]
        hits.sort(key=lambda x: x[1][key], reverse=order == "desc")
        chunk = hits[(page - 1) * per_page: page * per_page]
        return {"total_count": len(hits), "incomplete_results": False,
                "items": [b._issue(db, ctx, r, i) for r, i in chunk]}

# ---------------------------------------------------------- the API root and the github.com pages
@pages.get("/")
def root(b: Tracker, request: Request) -> Any:
    """The API root's URL templates on api.github.com (or for a non-browser); your repositories for a browser."""
    host = request.headers.get("host", "")
    if host == API_HOST or "text/html" not in request.headers.get("accept", ""):
        base = Ctx(request).api
        return JSONResponse({"current_user_url": f"{base}/user", "issues_url": f"{base}/issues",
                             "repository_url": f"{base}/repos/{{owner}}/{{repo}}",
                             "issue_search_url": f"{base}/search/issues?q={{query}}{{&page,per_page,sort,order}}",
                             "user_url": f"{base}/users/{{user}}"})
    request.scope["airgap.page"] = True
    try:
        user = b.accounts.identify(request, allow_query=True)
    except ApiError as e:
        raise PageError(401, e.message) from None
    if user is None:
        raise PageError(401, "Sign in: HTTP basic auth (login and password) or ?token=<personal access token>.")
    with b.read() as db:
        rows = db.execute("SELECT r.* FROM repos r JOIN collaborators c ON c.repo = r.id WHERE c.login = ? "
                          "ORDER BY r.owner, r.name", (b._login(user),)).fetchall()
    return html_page(request, "tracker/dashboard.html.j2", "Your repositories", [("/", "Home")], b._login(user),
                     repos=[dict(r) for r in rows])


@pages.get("/{owner}/{repo}", response_class=HTMLResponse)
def repo_page(b: Tracker, owner: Owner, repo: Repo, request: Request, user: PageUser) -> HTMLResponse:
    """A repository's page: its open issues."""
    return issues_page(b, owner, repo, request, user)


@pages.get("/{owner}/{repo}/issues", response_class=HTMLResponse)
def issues_page(b: Tracker, owner: Owner, repo: Repo, request: Request, user: PageUser,
                state: Literal["open", "closed", "all"] = "open", labels: str | None = None,
                page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> HTMLResponse:
    """A repository's issues (50 a page), open, closed or all, optionally with given labels."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        sql, args = b.issues_query(db, r, state, labels, None, None, None, None, "created", "desc")
        rows = db.execute(f"SELECT * {sql} LIMIT 50 OFFSET ?", (*args, (page - 1) * 50)).fetchall()
        issues = [b._issue(db, Ctx(request), r, i) for i in rows]
    full = f"{r['owner']}/{r['name']}"
    return html_page(request, "tracker/issues.html.j2", f"Issues - {full}", [("/", "Home"), (f"/{full}/issues", "Issues")],
                     b._login(user), full=full, description=r["description"], issues=issues)


@pages.get("/{owner}/{repo}/issues/{issue_number}", response_class=HTMLResponse)
def issue_page(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, request: Request, user: PageUser) -> HTMLResponse:
    """One issue with its labels, assignees, milestone and comments."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        i = b._issue(db, Ctx(request), r, b._issue_row(db, r, issue_number))
        cs = [b._comment(db, Ctx(request), r, c) for c in db.execute(
            "SELECT * FROM comments WHERE issue = ? ORDER BY created_at, id", (i["id"],))]
    full = f"{r['owner']}/{r['name']}"
    return html_page(request, "tracker/issue.html.j2", f"{i['title']} #{i['number']}",
                     [("/", "Home"), (f"/{full}/issues", "Issues")], b._login(user), i=i, comments=cs)


routers = [users_api, repos_api, issues_api, repo_comments_api, issue_api, issue_comments_api, issue_labels_api,
           assignees_api, labels_api, milestones_api, search_api, pages]
