"""The tracker as a code host, in GitHub's REST v3 paths and shapes: organisations, branches, commits, git refs, the
contents API and pull requests (with reviews and real merges), one APIRouter per area like ``api.py``.

Branches live in the ``branches`` table (the state); each git operation first syncs them into the repository's bare
folder (``TrackerBackend.git_path``) and reads or writes objects with the real ``git``. A merge is ``git merge-tree
--write-tree`` and ``commit-tree`` (no work tree), and moving the base branch is an update of its row: one
transaction, so a merge shows in the diff as the ``branches``, ``pulls`` and ``issues`` rows it changed.
"""
from __future__ import annotations

import base64
import binascii
import re
import sqlite3
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam

from airgap.envs.backends.tracker import Ctx, TrackerBackend, _node, gitrepo
from airgap.envs.backends.tracker.api import Owner, Page, PerPage, Repo, Tracker, User, ok204, page_of
from airgap.envs.backends.tracker.model import (
    BranchOut,
    BranchShort,
    CommitOut,
    ContentDelete,
    ContentOut,
    ContentPut,
    ContentWrite,
    FileOut,
    MergeIn,
    MergeOut,
    OrgOut,
    PullCreate,
    PullOut,
    PullUpdate,
    RefCreate,
    RefOut,
    RefUpdate,
    RepoOut,
    ReviewIn,
    ReviewOut,
    SimpleUser,
)
from airgap.envs.backends.web import ApiError
from airgap.envs.common import iso, parse_iso

orgs_api = APIRouter()
branches_api = APIRouter()
commits_api = APIRouter()
refs_api = APIRouter()
contents_api = APIRouter()
pulls_api = APIRouter()
reviews_api = APIRouter()

Number = Annotated[int, PathParam(ge=1, le=2**31)]
BranchName = Annotated[str, PathParam(min_length=1, max_length=250)]
RefPath = Annotated[str, PathParam(min_length=1, max_length=260, description="heads/<branch>")]
FilePath = Annotated[str, PathParam(min_length=1, max_length=1000)]
AnyPath = Annotated[str, PathParam(max_length=1000, description="a file or folder; empty: the top folder")]
RefQuery = Annotated[str | None, Query(max_length=250, description="a branch or a commit sha (default: main)")]
Since = Annotated[str | None, Query(max_length=40, description="ISO 8601")]
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
CLOSES = re.compile(r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d{1,9})\b", re.IGNORECASE)


def _invalid(resource: str, field: str, code: str = "invalid", message: str | None = None) -> ApiError:
    err: dict[str, Any] = {"resource": resource, "field": field, "code": code}
    if message:
        err["message"] = message
    return ApiError(422, "Validation Failed", errors=[err])


def _custom(resource: str, message: str) -> ApiError:
    return ApiError(422, "Validation Failed", errors=[{"resource": resource, "code": "custom", "message": message}])


def _links(request: Request, response: Response, page: int, per_page: int, total: int) -> None:
    last = max(1, -(-total // per_page))
    url = Ctx(request).api + request.url.path

    def at(p: int) -> str:
        q = dict(request.query_params)
        q.update(page=str(p), per_page=str(per_page))
        return f"<{url}?{urlencode(q)}>"

    links = []
    if page < last:
        links += [f'{at(page + 1)}; rel="next"', f'{at(last)}; rel="last"']
    if page > 1:
        links += [f'{at(1)}; rel="first"', f'{at(min(page - 1, last))}; rel="prev"']
    if links:
        response.headers["Link"] = ", ".join(links)


# ------------------------------------------------------------------------------------------------ shapes
def _z(date: str) -> str:
    return iso(parse_iso(date))


def _login_of(db: sqlite3.Connection, email: str) -> str | None:
    r = db.execute("SELECT login FROM users WHERE lower(email) = lower(?)", (email,)).fetchone()
    return r[0] if r else None


def commit_json(b: TrackerBackend, db: sqlite3.Connection, ctx: Ctx, r: sqlite3.Row, c: dict[str, Any],
                files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    full = f"{r['owner']}/{r['name']}"
    base = f"{ctx.api}/repos/{full}"
    sha = c["sha"]
    out = {"sha": sha, "node_id": _node("C", int(sha[:12], 16)), "url": f"{base}/commits/{sha}",
           "html_url": f"{ctx.web}/{full}/commit/{sha}", "comments_url": f"{base}/commits/{sha}/comments",
           "commit": {"url": f"{base}/git/commits/{sha}",
                      "author": {"name": c["author_name"], "email": c["author_email"], "date": _z(c["author_date"])},
                      "committer": {"name": c["committer_name"], "email": c["committer_email"],
                                    "date": _z(c["committer_date"])},
                      "message": c["message"], "tree": {"sha": c["tree"], "url": f"{base}/git/trees/{c['tree']}"},
                      "comment_count": 0},
           "author": b._user(db, ctx, _login_of(db, c["author_email"])),
           "committer": b._user(db, ctx, _login_of(db, c["committer_email"])),
           "parents": [{"sha": p, "url": f"{base}/commits/{p}", "html_url": f"{ctx.web}/{full}/commit/{p}"}
                       for p in c["parents"]]}
    if files is not None:
        adds, dels = sum(f["additions"] for f in files), sum(f["deletions"] for f in files)
        out["stats"] = {"additions": adds, "deletions": dels, "total": adds + dels}
        out["files"] = [file_json(ctx, full, sha, f) for f in files]
    return out


def file_json(ctx: Ctx, full: str, ref: str, f: dict[str, Any]) -> dict[str, Any]:
    return {"sha": f["sha"], "filename": f["filename"], "status": f["status"], "additions": f["additions"],
            "deletions": f["deletions"], "changes": f["additions"] + f["deletions"],
            "blob_url": f"{ctx.web}/{full}/blob/{ref}/{f['filename']}",
            "raw_url": f"{ctx.web}/{full}/raw/{ref}/{f['filename']}",
            "contents_url": f"{ctx.api}/repos/{full}/contents/{f['filename']}?ref={ref}", "patch": f["patch"]}


def ref_json(ctx: Ctx, r: sqlite3.Row, name: str, sha: str) -> dict[str, Any]:
    full = f"{r['owner']}/{r['name']}"
    return {"ref": f"refs/heads/{name}", "node_id": _node("REF", int(sha[:12], 16)),
            "url": f"{ctx.api}/repos/{full}/git/refs/heads/{name}",
            "object": {"type": "commit", "sha": sha, "url": f"{ctx.api}/repos/{full}/git/commits/{sha}"}}


def org_json(b: TrackerBackend, db: sqlite3.Connection, ctx: Ctx, login: str, me: str, full: bool) -> dict[str, Any]:
    u = db.execute("SELECT * FROM users WHERE login = ?", (login,)).fetchone()
    base = f"{ctx.api}/orgs/{login}"
    out = {"login": login, "id": u["id"], "node_id": _node("O", u["id"]), "url": base, "repos_url": f"{base}/repos",
           "members_url": f"{base}/members{{/member}}", "public_members_url": f"{base}/public_members{{/member}}",
           "issues_url": f"{base}/issues", "avatar_url": f"{ctx.api}/avatars/{login}",
           "description": b.facts.org.tagline if login == b.facts.org.slug else None}
    if full:
        n_public = db.execute("SELECT count(*) FROM repos WHERE owner = ? AND private = 0", (login,)).fetchone()[0]
        n_private = db.execute("SELECT count(*) FROM repos r JOIN collaborators c ON c.repo = r.id WHERE r.owner = ? "
                               "AND r.private = 1 AND c.login = ?", (login, me)).fetchone()[0]
        out.update(name=u["name"], html_url=f"{ctx.web}/{login}", type="Organization", public_repos=n_public,
                   total_private_repos=n_private, created_at=u["created_at"], updated_at=u["created_at"])
    return out


def content_json(ctx: Ctx, full: str, ref: str, item: dict[str, Any], data: bytes | None) -> dict[str, Any]:
    kind = "dir" if item["type"] == "tree" else "file"
    url = f"{ctx.api}/repos/{full}/contents/{item['path']}?ref={ref}"
    git_url = f"{ctx.api}/repos/{full}/git/{'trees' if kind == 'dir' else 'blobs'}/{item['sha']}"
    html = f"{ctx.web}/{full}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{item['path']}"
    out = {"type": kind, "name": item["name"], "path": item["path"], "sha": item["sha"], "size": item["size"],
           "url": url, "html_url": html, "git_url": git_url,
           "download_url": f"{ctx.web}/{full}/raw/{ref}/{item['path']}" if kind == "file" else None,
           "_links": {"self": url, "git": git_url, "html": html}}
    if data is not None:
        b64 = base64.b64encode(data).decode()
        out.update(encoding="base64", content="\n".join(b64[i:i + 60] for i in range(0, len(b64), 60)) + "\n")
    return out


# ------------------------------------------------------------------------------------------------ look-ups
def _repo_git(b: TrackerBackend, db: sqlite3.Connection, user: str, owner: str, repo: str):
    r = b._repo(db, b._login(user), owner, repo)
    return r, b.git_path(db, r)


def _commitish(b: TrackerBackend, db: sqlite3.Connection, r: sqlite3.Row, path, ref: str | None) -> tuple[str, str]:
    """(name as given, commit sha) of a branch or a commit id (7 to 40 hex digits) of the repository; 404 otherwise."""
    ref = ref or "main"
    branches = b.branches(db, r["id"])
    name = ref.removeprefix("refs/heads/")
    if name in branches:
        return name, branches[name]
    if re.fullmatch(r"[0-9a-f]{7,40}", ref):
        sha = gitrepo.resolve(path, ref)
        if sha:
            return ref, sha
    raise ApiError(404, f"No commit found for the ref {ref}")


def _branch_name(ref: str) -> str:
    name = ref.removeprefix("refs/").removeprefix("heads/")
    if not ref.startswith(("refs/heads/", "heads/")) or not gitrepo.valid_ref(name):
        raise ApiError(422, "Reference name is not a branch (refs/heads/<name>)", errors=[
            {"resource": "Reference", "field": "ref", "code": "invalid"}])
    return name


def _user_row(b: TrackerBackend, db: sqlite3.Connection, login: str) -> sqlite3.Row:
    return db.execute("SELECT * FROM users WHERE login = ?", (login,)).fetchone()


# ------------------------------------------------------------------------------------------------ organisations
@orgs_api.get("/user/orgs", response_model=list[OrgOut], tags=["orgs"])
def my_orgs(b: Tracker, request: Request, user: User) -> list:
    """Organisations you are a member of."""
    with b.read() as db:
        me = b._login(user)
        rows = db.execute("SELECT login FROM users WHERE type = 'Organization' ORDER BY login").fetchall()
        member = db.execute("SELECT username FROM users WHERE login = ?", (me,)).fetchone()
        return [org_json(b, db, Ctx(request), o[0], me, False) for o in rows if member and member[0]]


@orgs_api.get("/orgs/{org}", response_model=OrgOut, tags=["orgs"])
def get_org(b: Tracker, org: Owner, request: Request, user: User) -> dict:
    """An organisation."""
    with b.read() as db:
        row = db.execute("SELECT login FROM users WHERE lower(login) = lower(?) AND type = 'Organization'",
                         (org,)).fetchone()
        if row is None:
            raise ApiError(404, "Not Found")
        return org_json(b, db, Ctx(request), row[0], b._login(user), True)


@orgs_api.get("/orgs/{org}/repos", response_model=list[RepoOut], tags=["orgs"])
def org_repos(b: Tracker, org: Owner, request: Request, response: Response, user: User,
              type: Literal["all", "public", "private", "forks", "sources", "member"] = "all",
              per_page: PerPage = 30, page: Page = 1) -> list:
    """An organisation's repositories you can see (public ones and private ones you collaborate on)."""
    with b.read() as db:
        me = b._login(user)
        if not db.execute("SELECT 1 FROM users WHERE lower(login) = lower(?) AND type = 'Organization'",
                          (org,)).fetchone():
            raise ApiError(404, "Not Found")
        cond = {"public": " AND r.private = 0", "private": " AND r.private = 1", "forks": " AND 0"}.get(type, "")
        rows = page_of(request, response, db, "FROM repos r WHERE lower(r.owner) = lower(?) AND (r.private = 0 OR "
                       f"EXISTS (SELECT 1 FROM collaborators c WHERE c.repo = r.id AND c.login = ?)){cond} "
                       "ORDER BY r.name", [org, me], "r.*", page, per_page)
        return [b._repo_json(db, Ctx(request), r, me) for r in rows]


@orgs_api.get("/orgs/{org}/members", response_model=list[SimpleUser], tags=["orgs"])
def org_members(b: Tracker, org: Owner, request: Request, response: Response, user: User, per_page: PerPage = 30,
                page: Page = 1) -> list:
    """The organisation's people."""
    with b.read() as db:
        if not db.execute("SELECT 1 FROM users WHERE lower(login) = lower(?) AND type = 'Organization'",
                          (org,)).fetchone():
            raise ApiError(404, "Not Found")
        rows = page_of(request, response, db, "FROM users WHERE username IS NOT NULL ORDER BY login", [], "login",
                       page, per_page)
        return [b._user(db, Ctx(request), r[0]) for r in rows]


@orgs_api.get("/users/{username}/repos", response_model=list[RepoOut], tags=["repos"])
def user_repos(b: Tracker, username: Owner, request: Request, response: Response, user: User,
               per_page: PerPage = 30, page: Page = 1) -> list:
    """A user's (or organisation's) repositories you can see."""
    with b.read() as db:
        me = b._login(user)
        if not db.execute("SELECT 1 FROM users WHERE lower(login) = lower(?)", (username,)).fetchone():
            raise ApiError(404, "Not Found")
        rows = page_of(request, response, db, "FROM repos r WHERE lower(r.owner) = lower(?) AND (r.private = 0 OR "
                       "EXISTS (SELECT 1 FROM collaborators c WHERE c.repo = r.id AND c.login = ?)) ORDER BY r.name",
                       [username, me], "r.*", page, per_page)
        return [b._repo_json(db, Ctx(request), r, me) for r in rows]


# ------------------------------------------------------------------------------------------------ branches
@branches_api.get("/repos/{owner}/{repo}/branches", response_model=list[BranchShort], tags=["branches"])
def list_branches(b: Tracker, owner: Owner, repo: Repo, request: Request, response: Response, user: User,
                  protected: bool | None = None, per_page: PerPage = 30, page: Page = 1) -> list:
    """The repository's branches, by name (none is protected)."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        ctx = Ctx(request)
        rows = [] if protected else page_of(request, response, db, "FROM branches WHERE repo = ? ORDER BY name",
                                            [r["id"]], "name, sha", page, per_page)
        return [{"name": n, "commit": {"sha": s, "url": f"{ctx.api}/repos/{r['owner']}/{r['name']}/commits/{s}"},
                 "protected": False} for n, s in rows]


@branches_api.get("/repos/{owner}/{repo}/branches/{branch:path}", response_model=BranchOut, tags=["branches"])
def get_branch(b: Tracker, owner: Owner, repo: Repo, branch: BranchName, request: Request, user: User) -> dict:
    """One branch with its head commit."""
    with b.read() as db:
        r, path = _repo_git(b, db, user, owner, repo)
        sha = b.branches(db, r["id"]).get(branch)
        if sha is None:
            raise ApiError(404, "Branch not found")
        return {"name": branch, "protected": False,
                "commit": commit_json(b, db, Ctx(request), r, gitrepo.commit_info(path, sha))}


# ------------------------------------------------------------------------------------------------ commits
@commits_api.get("/repos/{owner}/{repo}/commits", response_model=list[CommitOut], tags=["commits"])
def list_commits(b: Tracker, owner: Owner, repo: Repo, request: Request, response: Response, user: User,
                 sha: RefQuery = None, path: Annotated[str | None, Query(max_length=1000)] = None,
                 author: Annotated[str | None, Query(max_length=100, description="a login, name or e-mail")] = None,
                 since: Since = None, until: Since = None, per_page: PerPage = 30, page: Page = 1) -> list:
    """Commits reachable from a branch or commit (default main), newest first, optionally touching ``path``."""
    with b.read() as db:
        r, gp = _repo_git(b, db, user, owner, repo)
        _, head = _commitish(b, db, r, gp, sha)
        if path is not None and not gitrepo.valid_path(path.strip("/")):
            raise _invalid("Commit", "path")
        who = author
        if author:
            u = db.execute("SELECT email FROM users WHERE lower(login) = lower(?)", (author,)).fetchone()
            who = u[0] if u and u[0] else author
        dates = []
        for d in (since, until):
            try:
                dates.append(iso(parse_iso(d)) if d else None)
            except ValueError:
                raise _invalid("Commit", "since" if d is since else "until") from None
        every = gitrepo.log(gp, head, path.strip("/") if path else None, limit=100_000, author=who,
                            since=dates[0], until=dates[1])
        _links(request, response, page, per_page, len(every))
        chunk = every[(page - 1) * per_page: page * per_page]
        return [commit_json(b, db, Ctx(request), r, c) for c in chunk]


@commits_api.get("/repos/{owner}/{repo}/commits/{ref:path}", response_model=CommitOut, tags=["commits"])
def get_commit(b: Tracker, owner: Owner, repo: Repo, ref: BranchName, request: Request, user: User) -> dict:
    """One commit (a branch name or a commit id), with its stats and changed files against its first parent."""
    with b.read() as db:
        r, gp = _repo_git(b, db, user, owner, repo)
        _, sha = _commitish(b, db, r, gp, ref)
        c = gitrepo.commit_info(gp, sha)
        files = gitrepo.diff_files(gp, c["parents"][0] if c["parents"] else EMPTY_TREE, sha)
        return commit_json(b, db, Ctx(request), r, c, files)


# ------------------------------------------------------------------------------------------------ git refs
@refs_api.get("/repos/{owner}/{repo}/git/refs", response_model=list[RefOut], tags=["git"])
def list_refs(b: Tracker, owner: Owner, repo: Repo, request: Request, user: User) -> list:
    """Every branch as a git ref (``refs/heads/<name>``)."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        return [ref_json(Ctx(request), r, n, s) for n, s in sorted(b.branches(db, r["id"]).items())]


@refs_api.get("/repos/{owner}/{repo}/git/matching-refs/{ref:path}", response_model=list[RefOut], tags=["git"])
def matching_refs(b: Tracker, owner: Owner, repo: Repo, ref: RefPath, request: Request, user: User) -> list:
    """The branches whose ref starts with ``ref`` (``heads/fix`` matches ``refs/heads/fix-1``)."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        want = "refs/" + ref.removeprefix("refs/")
        return [ref_json(Ctx(request), r, n, s) for n, s in sorted(b.branches(db, r["id"]).items())
                if f"refs/heads/{n}".startswith(want)]


@refs_api.get("/repos/{owner}/{repo}/git/ref/{ref:path}", response_model=RefOut, tags=["git"])
@refs_api.get("/repos/{owner}/{repo}/git/refs/{ref:path}", response_model=RefOut, tags=["git"], include_in_schema=False)
def get_ref(b: Tracker, owner: Owner, repo: Repo, ref: RefPath, request: Request, user: User) -> dict:
    """One branch's ref (``heads/<branch>``)."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        name = ref.removeprefix("refs/").removeprefix("heads/")
        sha = b.branches(db, r["id"]).get(name) if ref.removeprefix("refs/").startswith("heads/") else None
        if sha is None:
            raise ApiError(404, "Not Found")
        return ref_json(Ctx(request), r, name, sha)


@refs_api.post("/repos/{owner}/{repo}/git/refs", response_model=RefOut, status_code=201, tags=["git"])
def create_ref(b: Tracker, owner: Owner, repo: Repo, body: RefCreate, request: Request, user: User) -> dict:
    """Create a branch at a commit of the repository."""
    with b.write(request) as db:
        r, gp = _repo_git(b, db, user, owner, repo)
        name = _branch_name(body.ref)
        if name in b.branches(db, r["id"]):
            raise ApiError(422, "Reference already exists")
        if gitrepo.resolve(gp, body.sha) != body.sha:
            raise ApiError(422, "Object does not exist")
        db.execute("INSERT INTO branches (repo, name, sha) VALUES (?,?,?)", (r["id"], name, body.sha))
        return ref_json(Ctx(request), r, name, body.sha)


@refs_api.patch("/repos/{owner}/{repo}/git/refs/{ref:path}", response_model=RefOut, tags=["git"])
def update_ref(b: Tracker, owner: Owner, repo: Repo, ref: RefPath, body: RefUpdate, request: Request,
               user: User) -> dict:
    """Move a branch (a fast-forward unless ``force``)."""
    with b.write(request) as db:
        r, gp = _repo_git(b, db, user, owner, repo)
        name = _branch_name("refs/" + ref.removeprefix("refs/"))
        old = b.branches(db, r["id"]).get(name)
        if old is None:
            raise ApiError(422, "Reference does not exist")
        if gitrepo.resolve(gp, body.sha) != body.sha:
            raise ApiError(422, "Object does not exist")
        if not body.force and gitrepo.merge_base(gp, old, body.sha) != old:
            raise ApiError(422, "Update is not a fast forward")
        db.execute("UPDATE branches SET sha = ? WHERE repo = ? AND name = ?", (body.sha, r["id"], name))
        return ref_json(Ctx(request), r, name, body.sha)


@refs_api.delete("/repos/{owner}/{repo}/git/refs/{ref:path}", status_code=204, response_class=Response,
                 responses=ok204, tags=["git"])
def delete_ref(b: Tracker, owner: Owner, repo: Repo, ref: RefPath, request: Request, user: User) -> Response:
    """Delete a branch (not the default one)."""
    with b.write(request) as db:
        r = b._repo(db, b._login(user), owner, repo)
        name = _branch_name("refs/" + ref.removeprefix("refs/"))
        if name not in b.branches(db, r["id"]):
            raise ApiError(422, "Reference does not exist")
        if name == "main":
            raise ApiError(422, "Cannot delete the default branch")
        db.execute("DELETE FROM branches WHERE repo = ? AND name = ?", (r["id"], name))
    return Response(status_code=204)


# ------------------------------------------------------------------------------------------------ contents
def _contents(b: TrackerBackend, owner: str, repo: str, path: str, ref: str | None, request: Request,
              user: str) -> Any:
    with b.read() as db:
        r, gp = _repo_git(b, db, user, owner, repo)
        name, sha = _commitish(b, db, r, gp, ref)
        path = path.strip("/")
        if path and not gitrepo.valid_path(path):
            raise ApiError(404, "Not Found")
        entry = gitrepo.tree_entry(gp, sha, path)
        if entry is None:
            raise ApiError(404, "Not Found")
        full, ctx = f"{r['owner']}/{r['name']}", Ctx(request)
        if entry[0] == "tree":
            return [content_json(ctx, full, name, it, None) for it in gitrepo.list_tree(gp, sha, path)
                    if it["type"] in ("blob", "tree")]
        if entry[0] != "blob":
            raise ApiError(404, "Not Found")
        data = gitrepo.blob(gp, entry[1])
        item = {"name": path.rsplit("/", 1)[-1], "path": path, "type": "blob", "sha": entry[1], "size": len(data)}
        return content_json(ctx, full, name, item, data)


@contents_api.get("/repos/{owner}/{repo}/contents", response_model=list[ContentOut], tags=["contents"])
def root_contents(b: Tracker, owner: Owner, repo: Repo, request: Request, user: User, ref: RefQuery = None) -> Any:
    """The repository's top folder at a branch or commit (default main)."""
    return _contents(b, owner, repo, "", ref, request, user)


@contents_api.get("/repos/{owner}/{repo}/contents/{path:path}", response_model=ContentOut | list[ContentOut],
                  tags=["contents"])
def get_contents(b: Tracker, owner: Owner, repo: Repo, path: AnyPath, request: Request, user: User,
                 ref: RefQuery = None) -> Any:
    """A file (its bytes base64 in ``content``) or a folder (its entries) at a branch or commit (default main)."""
    return _contents(b, owner, repo, path, ref, request, user)


def _write_file(b: TrackerBackend, request: Request, user: str, owner: str, repo: str, path: str, message: str,
                content: bytes | None, sha: str | None, branch: str | None) -> tuple[dict, bool]:
    with b.write(request) as db:
        r, gp = _repo_git(b, db, user, owner, repo)
        path = path.strip("/")
        if not gitrepo.valid_path(path):
            raise _invalid("Content", "path")
        name = branch or "main"
        head = b.branches(db, r["id"]).get(name)
        if head is None:
            raise ApiError(404, f"Branch {name} not found")
        entry = gitrepo.tree_entry(gp, head, path)
        if entry is not None and entry[0] != "blob":
            raise _invalid("Content", "path", message=f"{path} is a folder")
        if content is None and entry is None:
            raise ApiError(404, "Not Found")
        if entry is not None and sha is None:
            raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', errors=[
                {"resource": "Content", "field": "sha", "code": "missing_field"}])
        if entry is not None and sha != entry[1]:
            raise ApiError(409, f"{path} does not match {sha}")
        me = _user_row(b, db, b._login(user))
        tree = gitrepo.write_file(gp, head, path, content)
        new = gitrepo.commit_tree(gp, tree, [head], message, me["name"] or me["login"],
                                  me["email"] or f"{me['login']}@users.noreply.github.com", b.now_iso(db))
        db.execute("UPDATE branches SET sha = ? WHERE repo = ? AND name = ?", (new, r["id"], name))
        ctx, full = Ctx(request), f"{r['owner']}/{r['name']}"
        out: dict[str, Any] = {"commit": commit_json(b, db, ctx, r, gitrepo.commit_info(gp, new)), "content": None}
        if content is not None:
            blob_sha = gitrepo.tree_entry(gp, new, path)[1]
            item = {"name": path.rsplit("/", 1)[-1], "path": path, "type": "blob", "sha": blob_sha, "size": len(content)}
            out["content"] = content_json(ctx, full, name, item, None)
        return out, entry is None


@contents_api.put("/repos/{owner}/{repo}/contents/{path:path}", response_model=ContentWrite, tags=["contents"],
                  responses={201: {"model": ContentWrite, "description": "Created"}})
def put_contents(b: Tracker, owner: Owner, repo: Repo, path: FilePath, body: ContentPut, request: Request,
                 response: Response, user: User) -> dict:
    """Create or replace a file as one commit on a branch (default main); replacing needs the file's blob ``sha``."""
    try:
        data = base64.b64decode(body.content, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("Content", "content", message="content must be base64") from None
    out, created = _write_file(b, request, user, owner, repo, path, body.message, data, body.sha, body.branch)
    response.status_code = 201 if created else 200
    return out


@contents_api.delete("/repos/{owner}/{repo}/contents/{path:path}", response_model=ContentWrite, tags=["contents"])
def delete_contents(b: Tracker, owner: Owner, repo: Repo, path: FilePath, body: ContentDelete, request: Request,
                    user: User) -> dict:
    """Delete a file as one commit on a branch (default main)."""
    return _write_file(b, request, user, owner, repo, path, body.message, None, body.sha, body.branch)[0]


# ------------------------------------------------------------------------------------------------ pull requests
def _pull_row(db: sqlite3.Connection, r: sqlite3.Row, number: int) -> tuple[sqlite3.Row, sqlite3.Row]:
    p = db.execute("SELECT * FROM pulls WHERE repo = ? AND number = ?", (r["id"], number)).fetchone()
    if p is None:
        raise ApiError(404, "Not Found")
    i = db.execute("SELECT * FROM issues WHERE id = ?", (p["issue"],)).fetchone()
    return p, i


def _ends(b: TrackerBackend, db: sqlite3.Connection, r: sqlite3.Row, p: sqlite3.Row, i: sqlite3.Row) -> tuple[str, str]:
    """(head sha, base sha): the branches' current commits while the pull request is open, else as recorded."""
    if i["state"] == "open" and not p["merged"]:
        br = b.branches(db, r["id"])
        return br.get(p["head"], p["head_sha"]), br.get(p["base"], p["base_sha"])
    return p["head_sha"], p["base_sha"]


def pull_json(b: TrackerBackend, db: sqlite3.Connection, ctx: Ctx, r: sqlite3.Row, p: sqlite3.Row, i: sqlite3.Row,
              me: str, gp) -> dict[str, Any]:
    issue = b._issue(db, ctx, r, i)
    full = f"{r['owner']}/{r['name']}"
    base = f"{ctx.api}/repos/{full}"
    head_sha, base_sha = _ends(b, db, r, p, i)
    fork = gitrepo.merge_base(gp, base_sha, head_sha) or base_sha
    stats = gitrepo.numstat(gp, fork, head_sha)
    is_open = i["state"] == "open"
    mergeable = (gitrepo.merge_tree(gp, base_sha, head_sha) is not None) if is_open else None
    repo_json = b._repo_json(db, ctx, r, me)
    owner = b._user(db, ctx, r["owner"])
    n = p["number"]
    return {"url": f"{base}/pulls/{n}", "id": p["id"], "node_id": _node("PR", p["id"]),
            "html_url": f"{ctx.web}/{full}/pull/{n}", "diff_url": f"{ctx.web}/{full}/pull/{n}.diff",
            "patch_url": f"{ctx.web}/{full}/pull/{n}.patch", "issue_url": f"{base}/issues/{n}",
            "commits_url": f"{base}/pulls/{n}/commits", "review_comments_url": f"{base}/pulls/{n}/comments",
            "comments_url": f"{base}/issues/{n}/comments", "statuses_url": f"{base}/statuses/{head_sha}",
            "number": n, "state": i["state"], "locked": bool(i["locked"]), "title": i["title"], "user": issue["user"],
            "body": i["body"], "labels": issue["labels"], "milestone": issue["milestone"], "assignee": issue["assignee"],
            "assignees": issue["assignees"], "requested_reviewers": [], "created_at": i["created_at"],
            "updated_at": i["updated_at"], "closed_at": i["closed_at"], "merged_at": p["merged_at"],
            "merge_commit_sha": p["merge_commit_sha"],
            "head": {"label": f"{r['owner']}:{p['head']}", "ref": p["head"], "sha": head_sha, "user": owner,
                     "repo": repo_json},
            "base": {"label": f"{r['owner']}:{p['base']}", "ref": p["base"], "sha": base_sha, "user": owner,
                     "repo": repo_json},
            "draft": bool(p["draft"]), "merged": bool(p["merged"]), "mergeable": mergeable,
            "mergeable_state": ("clean" if mergeable else "dirty") if is_open else "unknown",
            "merged_by": b._user(db, ctx, p["merged_by"]), "comments": issue["comments"], "review_comments": 0,
            "maintainer_can_modify": False, "commits": gitrepo.count(gp, head_sha, exclude=base_sha),
            "additions": stats[0], "deletions": stats[1], "changed_files": stats[2],
            "author_association": issue["author_association"]}


@pulls_api.get("/repos/{owner}/{repo}/pulls", response_model=list[PullOut], tags=["pulls"])
def list_pulls(b: Tracker, owner: Owner, repo: Repo, request: Request, response: Response, user: User,
               state: Literal["open", "closed", "all"] = "open",
               head: Annotated[str | None, Query(max_length=250, description="owner:branch")] = None,
               base: Annotated[str | None, Query(max_length=250)] = None,
               sort: Literal["created", "updated", "popularity", "long-running"] = "created",
               direction: Literal["asc", "desc"] | None = None, per_page: PerPage = 30, page: Page = 1) -> list:
    """Pull requests of a repository, paginated (Link header)."""
    with b.read() as db:
        me = b._login(user)
        r, gp = _repo_git(b, db, user, owner, repo)
        where, args = ["p.repo = ?"], [r["id"]]
        if state != "all":
            where.append("i.state = ?")
            args.append(state)
        if head:
            who, _, branch = head.rpartition(":")
            if who and who.lower() != r["owner"].lower():
                where.append("0")
            where.append("p.head = ?")
            args.append(branch)
        if base:
            where.append("p.base = ?")
            args.append(base)
        key = {"created": "i.created_at", "updated": "i.updated_at", "popularity": "i.id",
               "long-running": "i.created_at"}[sort]
        order = (direction or ("asc" if sort == "long-running" else "desc")).upper()
        rows = page_of(request, response, db, f"FROM pulls p JOIN issues i ON i.id = p.issue WHERE {' AND '.join(where)} "
                       f"ORDER BY {key} {order}, p.number {order}", args, "p.number", page, per_page)
        ctx = Ctx(request)
        return [pull_json(b, db, ctx, r, *_pull_row(db, r, n), me, gp) for (n,) in rows]


@pulls_api.post("/repos/{owner}/{repo}/pulls", response_model=PullOut, status_code=201, tags=["pulls"])
def create_pull(b: Tracker, owner: Owner, repo: Repo, body: PullCreate, request: Request, user: User) -> dict:
    """Open a pull request from a branch (``head``, or ``owner:branch``) into another (``base``)."""
    with b.write(request) as db:
        me = b._login(user)
        r, gp = _repo_git(b, db, user, owner, repo)
        who, _, head = body.head.rpartition(":")
        if who and who.lower() != r["owner"].lower():
            raise _invalid("PullRequest", "head", message="pull requests from forks are not supported here")
        branches = b.branches(db, r["id"])
        if head not in branches:
            raise _invalid("PullRequest", "head")
        if body.base not in branches:
            raise _invalid("PullRequest", "base")
        if gitrepo.count(gp, branches[head], exclude=branches[body.base]) == 0:
            raise _custom("PullRequest", f"No commits between {body.base} and {head}")
        if db.execute("SELECT 1 FROM pulls p JOIN issues i ON i.id = p.issue WHERE p.repo = ? AND p.head = ? AND "
                      "p.base = ? AND i.state = 'open'", (r["id"], head, body.base)).fetchone():
            raise _custom("PullRequest", f"A pull request already exists for {r['owner']}:{head}.")
        now = b.now_iso(db)
        if body.issue is not None:
            i = b._issue_row(db, r, body.issue)
            if db.execute("SELECT 1 FROM pulls WHERE issue = ?", (i["id"],)).fetchone() or i["state"] != "open":
                raise _invalid("PullRequest", "issue")
            issue_id, number = i["id"], i["number"]
            b._touch(db, issue_id)
        else:
            title = (body.title or "").strip()
            if not title:
                raise _invalid("PullRequest", "title", "missing_field")
            number = db.execute("SELECT coalesce(max(number), 0) + 1 FROM issues WHERE repo = ?",
                                (r["id"],)).fetchone()[0]
            issue_id = db.execute(
                "INSERT INTO issues (repo, number, title, body, user, state, state_reason, milestone, locked, "
                "created_at, updated_at, closed_at, closed_by) VALUES (?,?,?,?,?,'open',NULL,NULL,0,?,?,NULL,NULL)",
                (r["id"], number, title, body.body, me, now, now)).lastrowid
        db.execute("INSERT INTO pulls (issue, repo, number, head, base, head_sha, base_sha, draft, merged, merged_at, "
                   "merged_by, merge_commit_sha) VALUES (?,?,?,?,?,?,?,?,0,NULL,NULL,NULL)",
                   (issue_id, r["id"], number, head, body.base, branches[head], branches[body.base], int(body.draft)))
        return pull_json(b, db, Ctx(request), r, *_pull_row(db, r, number), me, gp)


@pulls_api.get("/repos/{owner}/{repo}/pulls/{pull_number}", response_model=PullOut, tags=["pulls"])
def get_pull(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, request: Request, user: User) -> dict:
    """One pull request (``mergeable`` from a real trial merge while it is open)."""
    with b.read() as db:
        r, gp = _repo_git(b, db, user, owner, repo)
        return pull_json(b, db, Ctx(request), r, *_pull_row(db, r, pull_number), b._login(user), gp)


@pulls_api.patch("/repos/{owner}/{repo}/pulls/{pull_number}", response_model=PullOut, tags=["pulls"])
def update_pull(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, body: PullUpdate, request: Request,
                user: User) -> dict:
    """Edit the title, body or base, close it, or reopen it (not once merged)."""
    with b.write(request) as db:
        me = b._login(user)
        r, gp = _repo_git(b, db, user, owner, repo)
        p, i = _pull_row(db, r, pull_number)
        now = b.now_iso(db)
        if body.title is not None:
            if not body.title.strip():
                raise _invalid("PullRequest", "title", "missing_field")
            db.execute("UPDATE issues SET title = ? WHERE id = ?", (body.title.strip(), i["id"]))
        if "body" in body.model_fields_set:
            db.execute("UPDATE issues SET body = ? WHERE id = ?", (body.body, i["id"]))
        if body.base is not None and body.base != p["base"]:
            br = b.branches(db, r["id"])
            if body.base not in br or p["merged"]:
                raise _invalid("PullRequest", "base")
            db.execute("UPDATE pulls SET base = ?, base_sha = ? WHERE id = ?", (body.base, br[body.base], p["id"]))
        if body.state is not None and body.state != i["state"]:
            if body.state == "closed":
                head_sha, base_sha = _ends(b, db, r, p, i)
                db.execute("UPDATE pulls SET head_sha = ?, base_sha = ? WHERE id = ?", (head_sha, base_sha, p["id"]))
                db.execute("UPDATE issues SET state = 'closed', closed_at = ?, closed_by = ? WHERE id = ?",
                           (now, me, i["id"]))
            else:
                if p["merged"]:
                    raise _custom("PullRequest", "state cannot be changed. The pull request has been merged.")
                if p["head"] not in b.branches(db, r["id"]):
                    raise _custom("PullRequest", f"state cannot be changed. The {p['head']} branch has been deleted.")
                db.execute("UPDATE issues SET state = 'open', closed_at = NULL, closed_by = NULL WHERE id = ?",
                           (i["id"],))
        b._touch(db, i["id"])
        return pull_json(b, db, Ctx(request), r, *_pull_row(db, r, pull_number), me, gp)


@pulls_api.get("/repos/{owner}/{repo}/pulls/{pull_number}/commits", response_model=list[CommitOut], tags=["pulls"])
def pull_commits(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, request: Request, response: Response,
                 user: User, per_page: PerPage = 30, page: Page = 1) -> list:
    """The pull request's commits, oldest first."""
    with b.read() as db:
        r, gp = _repo_git(b, db, user, owner, repo)
        p, i = _pull_row(db, r, pull_number)
        head_sha, base_sha = _ends(b, db, r, p, i)
        every = list(reversed(gitrepo.log(gp, head_sha, limit=250, exclude=base_sha if not p["merged"] else
                                          gitrepo.merge_base(gp, p["base_sha"], head_sha))))
        _links(request, response, page, per_page, len(every))
        return [commit_json(b, db, Ctx(request), r, c) for c in every[(page - 1) * per_page: page * per_page]]


@pulls_api.get("/repos/{owner}/{repo}/pulls/{pull_number}/files", response_model=list[FileOut], tags=["pulls"])
def pull_files(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, request: Request, response: Response,
               user: User, per_page: PerPage = 30, page: Page = 1) -> list:
    """The files the pull request changes (against where its branch left the base), with their patches."""
    with b.read() as db:
        r, gp = _repo_git(b, db, user, owner, repo)
        p, i = _pull_row(db, r, pull_number)
        head_sha, base_sha = _ends(b, db, r, p, i)
        files = gitrepo.diff_files(gp, gitrepo.merge_base(gp, base_sha, head_sha) or base_sha, head_sha)
        _links(request, response, page, per_page, len(files))
        full = f"{r['owner']}/{r['name']}"
        return [file_json(Ctx(request), full, head_sha, f) for f in files[(page - 1) * per_page: page * per_page]]


@pulls_api.get("/repos/{owner}/{repo}/pulls/{pull_number}/merge", status_code=204, response_class=Response,
               responses=ok204, tags=["pulls"])
def is_merged(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, user: User) -> Response:
    """204 if the pull request has been merged, else 404."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        p, _ = _pull_row(db, r, pull_number)
        if not p["merged"]:
            raise ApiError(404, "Not Found")
    return Response(status_code=204)


@pulls_api.put("/repos/{owner}/{repo}/pulls/{pull_number}/merge", response_model=MergeOut, tags=["pulls"])
def merge_pull(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, request: Request, user: User,
               body: MergeIn | None = None) -> dict:
    """Merge (a merge commit, or ``squash``) into the base branch; issues it says it fixes (``Fixes #12``) close."""
    body = body or MergeIn()
    with b.write(request) as db:
        me = b._login(user)
        r, gp = _repo_git(b, db, user, owner, repo)
        p, i = _pull_row(db, r, pull_number)
        if p["merged"] or i["state"] != "open":
            raise ApiError(405, "Pull Request is not mergeable")
        if body.merge_method == "rebase":
            raise ApiError(405, "Rebase merges are not allowed on this repository.")
        br = b.branches(db, r["id"])
        head_sha, base_sha = br.get(p["head"]), br.get(p["base"])
        if head_sha is None or base_sha is None:
            raise ApiError(405, "Pull Request is not mergeable")
        if body.sha is not None and body.sha != head_sha:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        tree = gitrepo.merge_tree(gp, base_sha, head_sha)
        if tree is None:
            raise ApiError(405, "Pull Request is not mergeable")
        who = _user_row(b, db, me)
        if body.merge_method == "squash":
            title = body.commit_title or f"{i['title']} (#{p['number']})"
            parents = [base_sha]
            default = "\n".join(f"* {c['message'].splitlines()[0]}" for c in
                                reversed(gitrepo.log(gp, head_sha, limit=250, exclude=base_sha)))
        else:
            title = body.commit_title or f"Merge pull request #{p['number']} from {r['owner']}/{p['head']}"
            parents = [base_sha, head_sha]
            default = i["title"]
        message = f"{title}\n\n{body.commit_message if body.commit_message is not None else default}".rstrip() + "\n"
        now = b.now_iso(db)
        sha = gitrepo.commit_tree(gp, tree, parents, message, who["name"] or me,
                                  who["email"] or f"{me}@users.noreply.github.com", now)
        db.execute("UPDATE branches SET sha = ? WHERE repo = ? AND name = ?", (sha, r["id"], p["base"]))
        db.execute("UPDATE pulls SET merged = 1, merged_at = ?, merged_by = ?, merge_commit_sha = ?, head_sha = ?, "
                   "base_sha = ? WHERE id = ?", (now, me, sha, head_sha, base_sha, p["id"]))
        db.execute("UPDATE issues SET state = 'closed', closed_at = ?, closed_by = ?, updated_at = ? WHERE id = ?",
                   (now, me, now, i["id"]))
        if p["base"] == "main":  # closing keywords work on the default branch, as on GitHub
            for n in sorted({int(x) for x in CLOSES.findall(f"{i['title']}\n{i['body'] or ''}")}):
                db.execute("UPDATE issues SET state = 'closed', state_reason = 'completed', closed_at = ?, "
                           "closed_by = ?, updated_at = ? WHERE repo = ? AND number = ? AND state = 'open' AND id NOT "
                           "IN (SELECT issue FROM pulls)", (now, me, now, r["id"], n))
        return {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}


# ------------------------------------------------------------------------------------------------ reviews
def review_json(b: TrackerBackend, db: sqlite3.Connection, ctx: Ctx, r: sqlite3.Row, p: sqlite3.Row,
                v: sqlite3.Row) -> dict[str, Any]:
    full = f"{r['owner']}/{r['name']}"
    return {"id": v["id"], "node_id": _node("PRR", v["id"]), "user": b._user(db, ctx, v["user"]), "body": v["body"] or "",
            "state": v["state"], "html_url": f"{ctx.web}/{full}/pull/{p['number']}#pullrequestreview-{v['id']}",
            "pull_request_url": f"{ctx.api}/repos/{full}/pulls/{p['number']}", "submitted_at": v["submitted_at"],
            "commit_id": v["commit_id"], "author_association": b._association(db, r, v["user"])}


@reviews_api.get("/repos/{owner}/{repo}/pulls/{pull_number}/reviews", response_model=list[ReviewOut], tags=["pulls"])
def list_reviews(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, request: Request, response: Response,
                 user: User, per_page: PerPage = 30, page: Page = 1) -> list:
    """The pull request's reviews, oldest first."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        p, _ = _pull_row(db, r, pull_number)
        rows = page_of(request, response, db, "FROM reviews WHERE pull = ? ORDER BY id", [p["id"]], "*", page, per_page)
        return [review_json(b, db, Ctx(request), r, p, v) for v in rows]


@reviews_api.post("/repos/{owner}/{repo}/pulls/{pull_number}/reviews", response_model=ReviewOut, tags=["pulls"])
def create_review(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, body: ReviewIn, request: Request,
                  user: User) -> dict:
    """Approve, request changes or comment (``event``); with no event the review stays PENDING."""
    with b.write(request) as db:
        me = b._login(user)
        r = b._repo(db, me, owner, repo)
        p, i = _pull_row(db, r, pull_number)
        if body.comments:
            raise ApiError(422, "Unprocessable Entity", errors=[{"field": "comments", "code": "invalid",
                                                                  "message": "line comments are not supported here; "
                                                                  "put the remarks in the review body"}])
        if body.event == "APPROVE" and i["user"] == me:
            raise ApiError(422, "Unprocessable Entity", errors=[{"message": "Can not approve your own pull request"}])
        if body.event in ("REQUEST_CHANGES", "COMMENT") and not (body.body or "").strip():
            raise ApiError(422, "Unprocessable Entity", errors=[{"field": "body", "code": "missing_field",
                                                                  "message": f"Review Can not {body.event.lower()} "
                                                                  "without a body"}])
        state = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}.get(
            body.event or "", "PENDING")
        commit = body.commit_id or _ends(b, db, r, p, i)[0]
        rid = db.execute("INSERT INTO reviews (pull, user, state, body, commit_id, submitted_at) VALUES (?,?,?,?,?,?)",
                         (p["id"], me, state, body.body, commit, None if state == "PENDING" else b.now_iso(db))).lastrowid
        b._touch(db, i["id"])
        return review_json(b, db, Ctx(request), r, p, db.execute("SELECT * FROM reviews WHERE id = ?", (rid,)).fetchone())


@reviews_api.get("/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}", response_model=ReviewOut,
                 tags=["pulls"])
def get_review(b: Tracker, owner: Owner, repo: Repo, pull_number: Number,
               review_id: Annotated[int, PathParam(ge=1, le=2**62)], request: Request, user: User) -> dict:
    """One review."""
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        p, _ = _pull_row(db, r, pull_number)
        v = db.execute("SELECT * FROM reviews WHERE id = ? AND pull = ?", (review_id, p["id"])).fetchone()
        if v is None:
            raise ApiError(404, "Not Found")
        return review_json(b, db, Ctx(request), r, p, v)

routers = [orgs_api, branches_api, commits_api, refs_api, contents_api, pulls_api, reviews_api]
