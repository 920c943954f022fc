"""The backends' web apps: cookie sessions, log-in pages, CSRF tokens, forms, and change events named like the API.

A backend's web app (its package's ``webapp.py``, whose ``routers`` the app includes after ``api.routers``) is made of
server-rendered HTML forms that work without JavaScript. What this module gives them:

- **Log-in** (:meth:`WebApp.login_router`): ``GET /login`` shows a form taking the same credentials as the API (the
  user name or e-mail address with the world's password, or the service's access token); ``POST /login`` checks them
  against the backend's ``accounts`` and sets a session cookie; ``POST /logout`` ends it.
- **Sessions**: a signed cookie (``<backend>_session``, HMAC-SHA256, ``HttpOnly``, ``SameSite=Lax``) holding a random
  nonce and the username; nothing is stored server-side, so a backend's ``reset()`` or ``load_image()`` leaves its
  state (and its diffs) untouched by log-ins. The key is derived from the service's credentials in the world.
- **CSRF**: every form carries ``csrf_token`` = HMAC(key, nonce); a POST without it (or with another session's) is
  refused with 403 before anything is read or written.
- **Writes through the API's own handlers**: a form handler builds the API's request model and calls the JSON API's
  handler function, so the rows written are the same; :func:`api_origin` names the JSON API call with the same effect
  in the request's ``backend_change`` event (``method``, ``path``, ``status`` of that call, plus ``via: "web"`` and
  ``command``: the form's method and path), as the mail protocols do.
- **Pages**: :meth:`WebApp.page` renders a template extending ``backends/app.html.j2`` (product header, a ``nav``
  landmark, ``main``, notices with ``role=status``, errors with ``role=alert``; CSS inline from ``app.css``).
- Post/Redirect/Get: a successful form answers 303 to a page, with ``?notice=<code>`` naming one of the app's fixed
  notices (never text from the URL); a refused one re-renders its form with the message and what was typed.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from airgap.envs.backends.web import ApiError, PageError, current_backend
from airgap.envs.templates import render

CSRF_FIELD = "csrf_token"


class SignInFirst(PageError):
    """A page of the app opened without a session: 303 to the log-in page, which comes back here afterwards."""

    def __init__(self, location: str):
        super().__init__(303, "Sign in to continue.")
        self.headers = {"Location": location}


@dataclass(frozen=True)
class Session:
    nonce: str
    user: str | None


def _key(b: Any) -> bytes:
    """The backend's signing key: derived from its service's credentials in the world (stable per world, not guessable
    from one user's own token)."""
    k = getattr(b, "_web_key", None)
    if k is None:
        acc = b.accounts
        material = json.dumps([b.name, sorted(acc.by_token.items()), sorted(acc.passwords.items())])
        k = hashlib.sha256(b"airgap-webapp\0" + material.encode()).digest()
        b._web_key = k
    return k


def _sign(b: Any, data: str) -> str:
    return hmac.new(_key(b), data.encode(), hashlib.sha256).hexdigest()


def cookie_name(b: Any) -> str:
    return f"{b.name}_session"


def load_session(request: Request) -> Session | None:
    """The session of the request's cookie, None when it has none or its signature is wrong (or its user is gone)."""
    b = current_backend(request)
    raw = request.cookies.get(cookie_name(b))
    if not raw or "." not in raw:
        return None
    data, _, sig = raw.rpartition(".")
    if not hmac.compare_digest(sig, _sign(b, data)):
        return None
    try:
        d = json.loads(base64.urlsafe_b64decode(data.encode()))
        nonce, user = str(d["n"]), d.get("u")
    except (ValueError, KeyError, TypeError):
        return None
    if user is not None and user not in b.accounts.passwords:
        user = None
    return Session(nonce, user)


def _cookie_value(b: Any, s: Session) -> str:
    data = base64.urlsafe_b64encode(json.dumps({"n": s.nonce, "u": s.user}).encode()).decode()
    return f"{data}.{_sign(b, data)}"


def csrf_token(b: Any, s: Session) -> str:
    return _sign(b, "csrf\0" + s.nonce)


def set_session(request: Request, response: Response, s: Session) -> None:
    b = current_backend(request)
    response.set_cookie(cookie_name(b), _cookie_value(b, s), httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https")


def safe_next(target: str | None, default: str) -> str:
    """A local path to go to after log-in (never another site: no scheme, no ``//``)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def api_origin(request: Request, method: str, path: str, status: int) -> None:
    """Name the JSON API call with the same effect in this request's ``backend_change`` event (``via: web``)."""
    request.scope["airgap.origin"] = {"method": method, "path": path, "status": status, "via": "web",
                                      "command": f"{request.method} {request.url.path}"}


def redirect(path: str, **query: Any) -> RedirectResponse:
    q = {k: v for k, v in query.items() if v is not None}
    return RedirectResponse(path + ("?" + urlencode(q) if q else ""), status_code=303)


def model_errors(e: ValidationError, labels: dict[str, str] | None = None) -> dict[str, str]:
    """pydantic's errors as {field: message a person understands}."""
    out: dict[str, str] = {}
    for err in e.errors():
        loc = [str(x) for x in err.get("loc", ())]
        name = loc[0] if loc else "form"
        label = (labels or {}).get(name, name.replace("_", " "))
        msg = str(err.get("msg", "invalid"))
        msg = msg.removeprefix("Value error, ")
        out.setdefault(name, f"{label}: {msg}")
    return out


def build(model: type[BaseModel], data: dict[str, Any], labels: dict[str, str] | None = None
          ) -> tuple[BaseModel | None, dict[str, str]]:
    """The API's request model from a form's fields, or the errors saying what is wrong with them."""
    try:
        return model.model_validate(data), {}
    except ValidationError as e:
        return None, model_errors(e, labels)


async def read_form(request: Request) -> FormData:
    """The posted form (urlencoded or multipart), after its CSRF token is checked against the session's: 403 if not."""
    request.scope["airgap.page"] = True
    s = load_session(request)
    try:
        form = await request.form(max_files=10, max_fields=200)
    except Exception as e:  # a malformed body: python-multipart's or starlette's own error types
        raise PageError(400, f"the form could not be read: {e}") from None
    token = form.get(CSRF_FIELD)
    if s is None or not isinstance(token, str) or not hmac.compare_digest(token, csrf_token(current_backend(request), s)):
        raise PageError(403, "This form was refused: its security token (CSRF) is missing or does not belong to your "
                             "session. Reload the page and send it again.")
    return form


def text(form: FormData, name: str, default: str = "") -> str:
    v = form.get(name)
    return v if isinstance(v, str) else default


def split_list(value: str) -> list[str]:
    """Addresses typed as ``a@x.com, b@y.com`` (commas, semicolons or spaces) as a list."""
    return [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p.strip()]


@dataclass
class WebApp:
    """One backend's web app: its product name (from the world), accent colour, home page, navigation and notices."""

    brand: Callable[[Any], str]
    home: str
    nav: list[tuple[str, str]]
    accent: str = "#1a56db"
    notices: dict[str, str] = field(default_factory=dict)
    public: bool = False  # its pages can be browsed signed out (a shop's catalogue): the navigation shows then too

    # ---------------------------------------------------------------- pages
    def page(self, request: Request, template: str, title: str, user: str | None, status: int = 200,
             errors: dict[str, str] | list[str] | None = None, current: str | None = None,
             headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
        """A page of the app: ``template`` (extending ``backends/app.html.j2``) with the session's CSRF token, the
        navigation (``current`` marks the page it is on), the notice named by ``?notice=`` and ``errors``."""
        b = current_backend(request)
        s = load_session(request)
        fresh = s is None
        if fresh:
            s = Session(secrets.token_urlsafe(18), None)
        notice = self.notices.get(request.query_params.get("notice") or "")
        err_list = list(errors.values()) if isinstance(errors, dict) else list(errors or [])
        field_errors = errors if isinstance(errors, dict) else {}
        who = _display_name(b, user) if user else None
        html = render(template, title=title, brand=self.brand(b), home=self.home,
                      nav=self.nav if user or self.public else [], public=self.public,
                      current=current or request.url.path, user=user, who=who, csrf=csrf_token(b, s), notice=notice,
                      errors=err_list, field_errors=field_errors, accent=self.accent, app=b.name, **context)
        resp = HTMLResponse(html, status_code=status, headers=headers)
        if fresh:
            set_session(request, resp, s)
        return resp

    def visitor(self, request: Request) -> str | None:
        """The signed-in user or None (a dependency of pages anyone may see)."""
        request.scope["airgap.page"] = True
        s = load_session(request)
        return s.user if s is not None else None

    def user(self, request: Request) -> str:
        """The signed-in user (a dependency of the app's pages); not signed in: 303 to the log-in page."""
        request.scope["airgap.page"] = True
        s = load_session(request)
        if s is None or s.user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInFirst(f"/login?next={quote(target, safe='')}")
        return s.user

    # ---------------------------------------------------------------- log-in
    def login_router(self, hint: str) -> APIRouter:
        """``GET|POST /login`` and ``POST /logout``; ``hint`` says which access token the service issues."""
        router = APIRouter(include_in_schema=False)
        app = self

        @router.get("/login", response_class=HTMLResponse, name="webapp_login")
        def login_form(request: Request, next: str | None = None) -> Response:
            request.scope["airgap.page"] = True
            s = load_session(request)
            if s is not None and s.user is not None:
                return redirect(safe_next(next, app.home))
            return app.page(request, "backends/login.html.j2", "Sign in", None, next=safe_next(next, app.home),
                            login="", hint=hint)

        @router.post("/login", response_class=HTMLResponse)
        async def login(request: Request) -> Response:
            form = await read_form(request)
            b = current_backend(request)
            login, password, token = text(form, "username").strip(), text(form, "password"), text(form, "token").strip()
            target = safe_next(text(form, "next"), app.home)
            user, error = None, None
            if token:
                user = b.accounts.by_token.get(token)
                error = None if user else "That access token is not valid for this service."
            elif login and password:
                name = b.accounts.aliases.get(login, b.accounts.aliases.get(login.lower(), login))
                if name not in b.accounts.passwords:  # an e-mail address also signs in where the API's aliases differ
                    name = next((p.username for p in b.facts.people if p.email == login.lower()), name)
                if b.accounts.passwords.get(name) == password:
                    user = name
                else:
                    error = "Wrong user name or password."
            else:
                error = "Enter your user name (or e-mail address) and password, or an access token."
            if user is None:
                return app.page(request, "backends/login.html.j2", "Sign in", None, status=401, errors=[error],
                                next=target, login=login, hint=hint)
            resp = redirect(target)
            set_session(request, resp, Session(secrets.token_urlsafe(18), user))  # a new nonce: no session fixation
            return resp

        @router.post("/logout")
        async def logout(request: Request) -> Response:
            await read_form(request)
            resp = redirect("/login", notice="signed_out")
            resp.delete_cookie(cookie_name(current_backend(request)), path="/")
            return resp

        self.notices.setdefault("signed_out", "You have signed out.")
        return router


def _display_name(b: Any, user: str) -> str:
    """A member of staff's name, a shop customer's name, else the username."""
    try:
        return b.facts.person(user).name
    except LookupError:
        shop = getattr(b.facts, "shop", None)
        return next((c.name for c in getattr(shop, "customers", ()) if c.username == user), user)


async def call_api(request: Request, fn: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """Run one of the JSON API's handler functions in the threadpool: (its result, None) or (None, the refusal's
    message) when it refuses with a 4xx (nothing was written: the handler's transaction rolled back)."""
    try:
        return await run_in_threadpool(fn, *args), None
    except ApiError as e:
        if e.status_code >= 500:
            raise
        return None, refusal(e)


def refusal(e: ApiError) -> str:
    """An API refusal for a person: its message, with the details GitHub-style errors carry (field and code)."""
    details = []
    for err in e.errors or []:
        if err.get("message"):
            details.append(str(err["message"]))
        elif err.get("field"):
            details.append(f"{err['field']}: {str(err.get('code', 'invalid')).replace('_', ' ')}")
    return e.message + (f" ({'; '.join(details)})" if details and "; ".join(details) not in e.message else "")
