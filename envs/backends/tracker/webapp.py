"""The tracker's web app on github.com's paths: repositories, issues, labels, comments and pull requests.

Signed in (a session cookie from ``/login``), ``/`` is your dashboard, ``/<owner>/<repo>`` a repository's overview,
``/<owner>/<repo>/issues`` its issues (open/closed, by label, paged), ``.../issues/new`` a new issue, ``.../issues/<n>``
an issue with its comments, a comment box (and Close with comment), labels and assignees to set;
``.../labels`` the labels (add one), ``.../pulls`` the pull requests, ``.../compare`` a new pull request from a branch,
``.../pull/<n>`` a pull request (commits, files, reviews, a review form, Merge after a confirmation). Without a
session those paths answer as before (the read-only pages with basic auth or ``?token=``, the API root's JSON).
Every write calls the JSON API's handler (``api.py``, ``code_api.py``), so its rows and ``backend_change`` event are
the API's (named as that call, ``via: web``)."""
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from airgap.envs.backends.tracker import API_HOST, Ctx, TrackerBackend, api, code_api
from airgap.envs.backends.tracker.model import (
    CommentIn,
    IssueCreate,
    IssueUpdate,
    LabelIn,
    MergeIn,
    PullCreate,
    PullUpdate,
    ReviewIn,
)
from airgap.envs.backends.web import PageError, current_backend, page_user
from airgap.envs.backends.webapp import (
    WebApp,
    api_origin,
    build,
    call_api,
    load_session,
    read_form,
    redirect,
    text,
)

PAGE = 25

APP = WebApp(
    brand=lambda b: "GitHub",
    home="/",
    nav=[("/", "Dashboard"), ("/issues", "Your issues"), ("/pulls", "Pull requests")],
    accent="#24292f",
    notices={"issue": "The issue was opened.", "comment": "Your comment was added.", "closed": "The issue was closed.",
             "reopened": "The issue was reopened.", "labels": "Labels and assignees were saved.",
             "label": "The label was created.", "pull": "The pull request was opened.",
             "merged": "The pull request was merged.", "review": "Your review was submitted.",
             "pull_closed": "The pull request was closed."},
)
Tracker = Annotated[TrackerBackend, Depends(current_backend)]
WebUser = Annotated[str, Depends(APP.user)]
Owner, Repo, Number = api.Owner, api.Repo, api.Number
web = APIRouter(include_in_schema=False)
LABELS = {"title": "Title", "body": "Description", "name": "Label name", "color": "Colour", "description": "Description",
          "head": "Compare (head branch)", "base": "Base branch", "event": "Review"}


def _session_user(request: Request) -> str | None:
    s = load_session(request)
    return s.user if s is not None else None


def _ctx(b: TrackerBackend, request: Request, user: str, owner: str, repo: str) -> dict[str, Any]:
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        counts = {"issues": db.execute("SELECT count(*) FROM issues i WHERE repo = ? AND state = 'open' AND NOT EXISTS "
                                       "(SELECT 1 FROM pulls p WHERE p.issue = i.id)", (r["id"],)).fetchone()[0],
                  "pulls": db.execute("SELECT count(*) FROM pulls p JOIN issues i ON i.id = p.issue WHERE p.repo = ? "
                                      "AND i.state = 'open'", (r["id"],)).fetchone()[0]}
    full = f"{r['owner']}/{r['name']}"
    return {"r": dict(r), "full": full, "counts": counts, "base": f"/{full}"}


# ------------------------------------------------------------------------------------------------ dashboard
@web.get("/", response_model=None)
def dashboard(b: Tracker, request: Request) -> Any:
    """Signed in with a browser: your repositories, the issues assigned to you and the open pull requests; otherwise
    the API root (or the read-only page) as before."""
    user = _session_user(request)
    if user is None or request.headers.get("host", "") == API_HOST or \
            "text/html" not in request.headers.get("accept", ""):
        return api.root(b, request)
    request.scope["airgap.page"] = True
    login = b._login(user)
    with b.read() as db:
        repos = [dict(r) for r in db.execute("SELECT r.* FROM repos r JOIN collaborators c ON c.repo = r.id "
                                             "WHERE c.login = ? ORDER BY r.owner, r.name", (login,))]
        assigned = [dict(x) for x in db.execute(
            "SELECT i.number, i.title, r.owner, r.name FROM issues i JOIN issue_assignees a ON a.issue = i.id JOIN "
            "repos r ON r.id = i.repo WHERE a.login = ? AND i.state = 'open' ORDER BY i.updated_at DESC LIMIT 20", (login,))]
    return APP.page(request, "tracker/web_dashboard.html.j2", "Dashboard", user, repos=repos, assigned=assigned,
                    login=login)


@web.get("/issues", response_class=HTMLResponse)
def my_issues(b: Tracker, request: Request, user: WebUser) -> HTMLResponse:
    """Open issues you opened or are assigned to, across your repositories."""
    login = b._login(user)
    with b.read() as db:
        rows = [dict(x) for x in db.execute(
            "SELECT DISTINCT i.number, i.title, i.state, i.updated_at, r.owner, r.name FROM issues i JOIN repos r ON "
            "r.id = i.repo LEFT JOIN issue_assignees a ON a.issue = i.id WHERE (a.login = ? OR i.user = ?) AND "
            "i.state = 'open' AND NOT EXISTS (SELECT 1 FROM pulls p WHERE p.issue = i.id) ORDER BY i.updated_at DESC "
            "LIMIT 100", (login, login))]
    return APP.page(request, "tracker/web_my.html.j2", "Your issues", user, rows=rows, kind="issues")


@web.get("/pulls", response_class=HTMLResponse)
def my_pulls(b: Tracker, request: Request, user: WebUser) -> HTMLResponse:
    """Open pull requests in your repositories."""
    login = b._login(user)
    with b.read() as db:
        rows = [dict(x) for x in db.execute(
            "SELECT i.number, i.title, i.state, i.updated_at, r.owner, r.name FROM pulls p JOIN issues i ON i.id = "
            "p.issue JOIN repos r ON r.id = p.repo JOIN collaborators c ON c.repo = r.id AND c.login = ? WHERE "
            "i.state = 'open' ORDER BY i.updated_at DESC LIMIT 100", (login,))]
    return APP.page(request, "tracker/web_my.html.j2", "Pull requests", user, rows=rows, kind="pull")


# ------------------------------------------------------------------------------------------------ repository, issues
@web.get("/{owner}/{repo}", response_class=HTMLResponse)
async def repo_home(b: Tracker, owner: Owner, repo: Repo, request: Request) -> HTMLResponse:
    """A repository's overview: description, branches, open issues and pull requests."""
    user = _session_user(request)
    if user is None:
        return api.repo_page(b, owner, repo, request, await page_user(request))
    request.scope["airgap.page"] = True
    c = _ctx(b, request, user, owner, repo)
    with b.read() as db:
        branches = sorted(b.branches(db, c["r"]["id"]))
        recent = [dict(x) for x in db.execute("SELECT number, title, state, updated_at FROM issues WHERE repo = ? "
                                              "ORDER BY updated_at DESC, number DESC LIMIT 10", (c["r"]["id"],))]
    return APP.page(request, "tracker/web_repo.html.j2", c["full"], user, branches=branches, recent=recent, tab="code",
                    current="/", **c)


def _issues_page(request: Request, b: TrackerBackend, user: str, owner: str, repo: str, state: str, label: str | None,
                 page: int) -> HTMLResponse:
    c = _ctx(b, request, user, owner, repo)
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        sql, args = b.issues_query(db, r, state, label, None, None, None, None, "created", "desc")
        sql = sql.replace("WHERE ", "WHERE NOT EXISTS (SELECT 1 FROM pulls p WHERE p.issue = issues.id) AND ", 1)
        total = db.execute(f"SELECT count(*) {sql}", args).fetchone()[0]
        rows = db.execute(f"SELECT * {sql} LIMIT ? OFFSET ?", (*args, PAGE, (page - 1) * PAGE)).fetchall()
        issues = [b._issue(db, Ctx(request), r, i) for i in rows]
        labels = [dict(x) for x in db.execute("SELECT * FROM labels WHERE repo = ? ORDER BY name", (r["id"],))]
    pages = max(1, -(-total // PAGE))
    return APP.page(request, "tracker/web_issues.html.j2", f"Issues · {c['full']}", user, issues=issues, total=total,
                    state=state, label=label or "", labels=labels, page=page, pages=pages, tab="issues", current="/",
                    **c)


@web.get("/{owner}/{repo}/issues", response_class=HTMLResponse)
async def issues(b: Tracker, owner: Owner, repo: Repo, request: Request,
                 state: Literal["open", "closed", "all"] = "open",
                 labels: Annotated[str | None, Query(max_length=100)] = None,
                 page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> HTMLResponse:
    """The repository's issues (pull requests apart), open, closed or all, with one label or any, 25 a page."""
    user = _session_user(request)
    if user is None:
        return api.issues_page(b, owner, repo, request, await page_user(request), state, labels, page)
    request.scope["airgap.page"] = True
    return _issues_page(request, b, user, owner, repo, state, labels, page)


def _new_issue_form(request: Request, b: TrackerBackend, user: str, owner: str, repo: str, v: dict[str, Any],
                    errors: Any = None, status: int = 200) -> HTMLResponse:
    c = _ctx(b, request, user, owner, repo)
    with b.read() as db:
        labels = [dict(x) for x in db.execute("SELECT * FROM labels WHERE repo = ? ORDER BY name", (c["r"]["id"],))]
        people = [x[0] for x in db.execute("SELECT login FROM collaborators WHERE repo = ? ORDER BY login",
                                           (c["r"]["id"],))]
    return APP.page(request, "tracker/web_issue_new.html.j2", f"New issue · {c['full']}", user, status=status,
                    errors=errors, v=v, labels=labels, people=people, tab="issues", current="/", **c)


@web.get("/{owner}/{repo}/issues/new", response_class=HTMLResponse)
def new_issue_form(b: Tracker, owner: Owner, repo: Repo, request: Request, user: WebUser) -> HTMLResponse:
    """The form to open an issue: title, description, labels, assignees."""
    return _new_issue_form(request, b, user, owner, repo, {"labels": [], "assignees": []})


@web.post("/{owner}/{repo}/issues/new", response_class=HTMLResponse)
async def new_issue(b: Tracker, owner: Owner, repo: Repo, request: Request, user: WebUser) -> Response:
    """Open the issue (the API's POST /repos/{owner}/{repo}/issues)."""
    form = await read_form(request)
    v = {"title": text(form, "title"), "body": text(form, "body"),
         "labels": [x for x in form.getlist("labels") if isinstance(x, str)],
         "assignees": [x for x in form.getlist("assignees") if isinstance(x, str)]}
    errors = {} if v["title"].strip() else {"title": "Title: an issue needs a title"}
    body, model_errs = build(IssueCreate, {"title": v["title"].strip() or "x", "body": v["body"] or None,
                                           "labels": v["labels"], "assignees": v["assignees"]}, LABELS)
    errors = {**model_errs, **errors}
    if errors or body is None:
        return _new_issue_form(request, b, user, owner, repo, v, errors, 422)
    api_origin(request, "POST", f"/repos/{owner}/{repo}/issues", 201)
    i, refused = await call_api(request, api.create_issue, b, owner, repo, body, request, user)
    if refused:
        return _new_issue_form(request, b, user, owner, repo, v, [refused], 422)
    return redirect(f"/{owner}/{repo}/issues/{i['number']}", notice="issue")


def _issue_page(request: Request, b: TrackerBackend, user: str, owner: str, repo: str, number: int,
                errors: Any = None, status: int = 200, comment: str = "") -> Response:
    c = _ctx(b, request, user, owner, repo)
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        row = b._issue_row(db, r, number)
        if db.execute("SELECT 1 FROM pulls WHERE issue = ?", (row["id"],)).fetchone():
            return redirect(f"/{owner}/{repo}/pull/{number}")
        i = b._issue(db, Ctx(request), r, row)
        comments = [b._comment(db, Ctx(request), r, x) for x in db.execute(
            "SELECT * FROM comments WHERE issue = ? ORDER BY created_at, id", (row["id"],))]
        labels = [dict(x) for x in db.execute("SELECT * FROM labels WHERE repo = ? ORDER BY name", (r["id"],))]
        people = [x[0] for x in db.execute("SELECT login FROM collaborators WHERE repo = ? ORDER BY login", (r["id"],))]
    return APP.page(request, "tracker/web_issue.html.j2", f"{i['title']} · Issue #{number}", user, status=status,
                    errors=errors, i=i, comments=comments, labels=labels, people=people, comment=comment,
                    have_labels={x["name"] for x in i["labels"]},
                    have_assignees={x["login"] for x in i["assignees"]}, tab="issues", current="/", **c)


@web.get("/{owner}/{repo}/issues/{issue_number}", response_model=None)
async def issue(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, request: Request) -> Response:
    """An issue: description, comments, a comment box, Close / Reopen, labels and assignees."""
    user = _session_user(request)
    if user is None:
        return api.issue_page(b, owner, repo, issue_number, request, await page_user(request))
    request.scope["airgap.page"] = True
    return _issue_page(request, b, user, owner, repo, issue_number)


@web.post("/{owner}/{repo}/issues/{issue_number}/comment", response_class=HTMLResponse)
async def comment(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, request: Request,
                  user: WebUser) -> Response:
    """Comment (the API's POST .../comments); with ``close``, then close the issue (its PATCH), as GitHub's button."""
    form = await read_form(request)
    typed, close = text(form, "body"), text(form, "close") == "1"
    back = f"/{owner}/{repo}/pull/{issue_number}" if text(form, "pull") == "1" else None
    if not typed.strip() and not close:
        page = _pull_page if back else _issue_page
        return page(request, b, user, owner, repo, issue_number, {"body": "Comment: write something first"}, 422)
    if typed.strip():
        api_origin(request, "POST", f"/repos/{owner}/{repo}/issues/{issue_number}/comments", 201)
        _, refused = await call_api(request, api.add_comment, b, owner, repo, issue_number, CommentIn(body=typed),
                                    request, user)
        if refused:
            return _issue_page(request, b, user, owner, repo, issue_number, [refused], 422, typed)
    if close:  # GitHub's "Close with comment" is two API calls: the same form re-posted (307) closes it, its own event
        return RedirectResponse(f"/{owner}/{repo}/issues/{issue_number}/state", status_code=307)
    return redirect(back or f"/{owner}/{repo}/issues/{issue_number}", notice="comment")


async def _set_state(request: Request, b: TrackerBackend, user: str, owner: str, repo: str, number: int, state: str,
                     reason: str | None) -> Response:
    body = IssueUpdate(state=state, state_reason=reason if state == "closed" else None)  # type: ignore[arg-type]
    api_origin(request, "PATCH", f"/repos/{owner}/{repo}/issues/{number}", 200)
    _, refused = await call_api(request, api.update_issue, b, owner, repo, number, body, request, user)
    if refused:
        return _issue_page(request, b, user, owner, repo, number, [refused], 422)
    return redirect(f"/{owner}/{repo}/issues/{number}", notice="closed" if state == "closed" else "reopened")


@web.post("/{owner}/{repo}/issues/{issue_number}/state", response_class=HTMLResponse)
async def set_state(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, request: Request,
                    user: WebUser) -> Response:
    """Close (as completed or not planned) or reopen the issue (the API's PATCH)."""
    form = await read_form(request)
    state, reason = text(form, "state"), text(form, "state_reason") or None
    if text(form, "close") == "1":  # the comment form's "Close with comment", re-posted here
        state, reason = "closed", "completed"
    if state not in ("open", "closed") or reason not in (None, "completed", "not_planned"):
        raise PageError(422, "state must be open or closed (state_reason completed or not_planned)")
    return await _set_state(request, b, user, owner, repo, issue_number, state, reason)


@web.post("/{owner}/{repo}/issues/{issue_number}/meta", response_class=HTMLResponse)
async def set_meta(b: Tracker, owner: Owner, repo: Repo, issue_number: Number, request: Request,
                   user: WebUser) -> Response:
    """Set the issue's labels and assignees (the API's PATCH with ``labels`` and ``assignees``)."""
    form = await read_form(request)
    labels = [x for x in form.getlist("labels") if isinstance(x, str)]
    people = [x for x in form.getlist("assignees") if isinstance(x, str)]
    body, errors = build(IssueUpdate, {"labels": labels, "assignees": people}, LABELS)
    if body is None:
        return _issue_page(request, b, user, owner, repo, issue_number, errors, 422)
    api_origin(request, "PATCH", f"/repos/{owner}/{repo}/issues/{issue_number}", 200)
    _, refused = await call_api(request, api.update_issue, b, owner, repo, issue_number, body, request, user)
    if refused:
        return _issue_page(request, b, user, owner, repo, issue_number, [refused], 422)
    return redirect(f"/{owner}/{repo}/issues/{issue_number}", notice="labels")


# ------------------------------------------------------------------------------------------------ labels
def _labels_page(request: Request, b: TrackerBackend, user: str, owner: str, repo: str, v: dict[str, Any] | None = None,
                 errors: Any = None, status: int = 200) -> HTMLResponse:
    c = _ctx(b, request, user, owner, repo)
    with b.read() as db:
        labels = [dict(x) | {"open": db.execute(
            "SELECT count(*) FROM issue_labels il JOIN issues i ON i.id = il.issue WHERE il.label = ? AND "
            "i.state = 'open'", (x["id"],)).fetchone()[0]} for x in db.execute(
            "SELECT * FROM labels WHERE repo = ? ORDER BY name", (c["r"]["id"],))]
    return APP.page(request, "tracker/web_labels.html.j2", f"Labels · {c['full']}", user, status=status, errors=errors,
                    labels=labels, v=v or {"color": "#ededed"}, tab="issues", current="/", **c)


@web.get("/{owner}/{repo}/labels", response_class=HTMLResponse)
def labels(b: Tracker, owner: Owner, repo: Repo, request: Request, user: WebUser) -> HTMLResponse:
    """The repository's labels with their open issues, and a form to add one."""
    return _labels_page(request, b, user, owner, repo)


@web.post("/{owner}/{repo}/labels", response_class=HTMLResponse)
async def new_label(b: Tracker, owner: Owner, repo: Repo, request: Request, user: WebUser) -> Response:
    """Create a label (the API's POST .../labels)."""
    form = await read_form(request)
    v = {k: text(form, k).strip() for k in ("name", "color", "description")}
    body, errors = build(LabelIn, {"name": v["name"], "color": v["color"].lstrip("#") or None,
                                   "description": v["description"] or None}, LABELS)
    if body is None:
        return _labels_page(request, b, user, owner, repo, v, errors, 422)
    api_origin(request, "POST", f"/repos/{owner}/{repo}/labels", 201)
    _, refused = await call_api(request, api.create_label, b, owner, repo, body, request, user)
    if refused:
        return _labels_page(request, b, user, owner, repo, v, [f"Label name: {refused}"], 422)
    return redirect(f"/{owner}/{repo}/labels", notice="label")


# ------------------------------------------------------------------------------------------------ pull requests
@web.get("/{owner}/{repo}/pulls", response_class=HTMLResponse)
def pulls(b: Tracker, owner: Owner, repo: Repo, request: Request, user: WebUser,
          state: Literal["open", "closed", "all"] = "open") -> HTMLResponse:
    """The repository's pull requests, open, closed or all."""
    c = _ctx(b, request, user, owner, repo)
    rows = code_api.list_pulls(b, owner, repo, request, Response(), user, state, None, None, "created", None, 100, 1)
    return APP.page(request, "tracker/web_pulls.html.j2", f"Pull requests · {c['full']}", user, rows=rows, state=state,
                    tab="pulls", current="/", **c)


def _compare_page(request: Request, b: TrackerBackend, user: str, owner: str, repo: str, v: dict[str, Any],
                  errors: Any = None, status: int = 200) -> HTMLResponse:
    c = _ctx(b, request, user, owner, repo)
    with b.read() as db:
        branches = sorted(b.branches(db, c["r"]["id"]))
    return APP.page(request, "tracker/web_compare.html.j2", f"Open a pull request · {c['full']}", user, status=status,
                    errors=errors, v=v, branches=branches, tab="pulls", current="/", **c)


@web.get("/{owner}/{repo}/compare", response_class=HTMLResponse)
def compare(b: Tracker, owner: Owner, repo: Repo, request: Request, user: WebUser,
            head: Annotated[str | None, Query(max_length=250)] = None) -> HTMLResponse:
    """The form to open a pull request: base and head branches, title, description."""
    return _compare_page(request, b, user, owner, repo, {"base": "main", "head": head or ""})


@web.post("/{owner}/{repo}/compare", response_class=HTMLResponse)
async def open_pull(b: Tracker, owner: Owner, repo: Repo, request: Request, user: WebUser) -> Response:
    """Open the pull request (the API's POST .../pulls)."""
    form = await read_form(request)
    v = {k: text(form, k) for k in ("base", "head", "title", "body")}
    v["draft"] = text(form, "draft") == "on"
    errors = {} if v["title"].strip() else {"title": "Title: a pull request needs a title"}
    body, model_errs = build(PullCreate, {"base": v["base"], "head": v["head"], "title": v["title"].strip() or "x",
                                          "body": v["body"] or None, "draft": v["draft"]}, LABELS)
    errors = {**model_errs, **errors}
    if errors or body is None:
        return _compare_page(request, b, user, owner, repo, v, errors, 422)
    api_origin(request, "POST", f"/repos/{owner}/{repo}/pulls", 201)
    p, refused = await call_api(request, code_api.create_pull, b, owner, repo, body, request, user)
    if refused:
        return _compare_page(request, b, user, owner, repo, v, [refused], 422)
    return redirect(f"/{owner}/{repo}/pull/{p['number']}", notice="pull")


def _pull_page(request: Request, b: TrackerBackend, user: str, owner: str, repo: str, number: int,
               errors: Any = None, status: int = 200, confirm_merge: bool = False, v: dict | None = None) -> HTMLResponse:
    c = _ctx(b, request, user, owner, repo)
    r0 = Response()
    p = code_api.get_pull(b, owner, repo, number, request, user)
    commits = code_api.pull_commits(b, owner, repo, number, request, r0, user, 100, 1)
    files = code_api.pull_files(b, owner, repo, number, request, r0, user, 100, 1)
    reviews = code_api.list_reviews(b, owner, repo, number, request, r0, user, 100, 1)
    with b.read() as db:
        r = b._repo(db, b._login(user), owner, repo)
        row = b._issue_row(db, r, number)
        comments = [b._comment(db, Ctx(request), r, x) for x in db.execute(
            "SELECT * FROM comments WHERE issue = ? ORDER BY created_at, id", (row["id"],))]
    return APP.page(request, "tracker/web_pull.html.j2", f"{p['title']} · Pull request #{number}", user, status=status,
                    errors=errors, p=p, commits=commits, files=files, reviews=reviews, comments=comments,
                    confirm_merge=confirm_merge, me=b._login(user), v=v or {}, tab="pulls", current="/", **c)


@web.get("/{owner}/{repo}/pull/{pull_number}", response_class=HTMLResponse)
def pull(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, request: Request, user: WebUser) -> HTMLResponse:
    """A pull request: its description, commits, changed files, reviews and comments; review it, merge it."""
    return _pull_page(request, b, user, owner, repo, pull_number)


@web.post("/{owner}/{repo}/pull/{pull_number}/review", response_class=HTMLResponse)
async def review(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, request: Request,
                 user: WebUser) -> Response:
    """Submit a review: approve, request changes or comment (the API's POST .../reviews)."""
    form = await read_form(request)
    v = {"event": text(form, "event"), "review": text(form, "review")}
    body, errors = build(ReviewIn, {"event": v["event"] or None, "body": v["review"] or None}, LABELS)
    if body is None or body.event is None:  # type: ignore[union-attr]
        return _pull_page(request, b, user, owner, repo, pull_number, errors or ["Review: choose Approve, Request "
                                                                                 "changes or Comment"], 422, v=v)
    api_origin(request, "POST", f"/repos/{owner}/{repo}/pulls/{pull_number}/reviews", 200)
    _, refused = await call_api(request, code_api.create_review, b, owner, repo, pull_number, body, request, user)
    if refused:
        return _pull_page(request, b, user, owner, repo, pull_number, [refused], 422, v=v)
    return redirect(f"/{owner}/{repo}/pull/{pull_number}", notice="review")


@web.post("/{owner}/{repo}/pull/{pull_number}/merge", response_class=HTMLResponse)
async def merge(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, request: Request, user: WebUser) -> Response:
    """Merge, in two steps as on GitHub: "Merge pull request" shows the merge to confirm; "Confirm merge" (with the
    head commit that was shown, so a moved branch is refused) is the API's PUT .../merge."""
    form = await read_form(request)
    if text(form, "confirm") != "yes":
        return _pull_page(request, b, user, owner, repo, pull_number, confirm_merge=True)
    method = text(form, "merge_method") or "merge"
    body, errors = build(MergeIn, {"merge_method": method, "sha": text(form, "sha") or None,
                                   "commit_title": text(form, "commit_title") or None}, LABELS)
    if body is None:
        return _pull_page(request, b, user, owner, repo, pull_number, errors, 422, confirm_merge=True)
    api_origin(request, "PUT", f"/repos/{owner}/{repo}/pulls/{pull_number}/merge", 200)
    _, refused = await call_api(request, code_api.merge_pull, b, owner, repo, pull_number, request, user, body)
    if refused:
        return _pull_page(request, b, user, owner, repo, pull_number, [refused], 409)
    return redirect(f"/{owner}/{repo}/pull/{pull_number}", notice="merged")


@web.post("/{owner}/{repo}/pull/{pull_number}/close", response_class=HTMLResponse)
async def close_pull(b: Tracker, owner: Owner, repo: Repo, pull_number: Number, request: Request,
                     user: WebUser) -> Response:
    """Close the pull request without merging (the API's PATCH .../pulls/{n} with state closed)."""
    await read_form(request)
    api_origin(request, "PATCH", f"/repos/{owner}/{repo}/pulls/{pull_number}", 200)
    _, refused = await call_api(request, code_api.update_pull, b, owner, repo, pull_number,
                                PullUpdate(state="closed"), request, user)
    if refused:
        return _pull_page(request, b, user, owner, repo, pull_number, [refused], 422)
    return redirect(f"/{owner}/{repo}/pull/{pull_number}", notice="pull_closed")


routers = [APP.login_router("A personal access token (it starts with ghp_)."), web]
