"""HTTP plumbing shared by the backends: error bodies, authentication, request-size limit, HTML pages.

A backend's handlers are module-level functions of its ``api.py``; they reach the backend instance serving the
request through ``Depends(current_backend)`` (the app built for an instance keeps it in ``app.state.backend``),
and the caller through the dependencies here (``BearerAuth``, ``optional_user``, ``page_user``, ``page_visitor``),
which read that instance's ``accounts``. HTML pages are Jinja templates rendered by :func:`page` from the
package's one environment (:mod:`airgap.envs.templates`); they extend ``backends/layout.html.j2`` (in ``pages/``
beside this module).
"""
from __future__ import annotations

import base64
import binascii
import http
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security.base import SecurityBase
from markupsafe import Markup
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import NoMatchFound

from airgap.envs.templates import register_templates, render

register_templates("backends", Path(__file__).resolve().parent / "pages")

MAX_BODY = 1 << 20  # bytes; a larger request body is answered 413

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_request",
          500: "internal_error"}


class ApiError(StarletteHTTPException):
    """An error a handler raises on purpose: status, a message saying what is wrong, an optional short code."""

    def __init__(self, status: int, message: str, code: str | None = None, errors: list[dict] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status_code=status, detail=message, headers=headers)
        self.message = message
        self.code = code
        self.errors = errors


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int):
        super().__init__(413, f"request body larger than {limit} bytes", "payload_too_large")


# ------------------------------------------------------------------------------------------------ error styles
class RestError(BaseModel):
    """The error body of the mail, calendar, shop and bank APIs."""
    error: str = Field(description="short machine-readable code, e.g. not_found")
    message: str = Field(description="what is wrong, for a person")
    details: list[dict[str, Any]] | None = None


class GitHubError(BaseModel):
    """GitHub's REST error body."""
    message: str
    documentation_url: str
    status: str | None = None
    errors: list[dict[str, Any]] | None = None


class SlackError(BaseModel):
    """Slack's Web API envelope for a failure."""
    ok: bool
    error: str
    detail: str | None = None


class ErrorStyle:
    """How one backend family spells its error bodies (and documents them in its OpenAPI)."""

    def __init__(self, model: type[BaseModel], render: Callable[[int, str, str, list | None], dict]):
        self.model = model
        self.render = render

    def response(self, status: int, message: str, code: str | None = None, errors: list | None = None,
                 headers: dict[str, str] | None = None) -> JSONResponse:
        code = code or _CODES.get(status, "error")
        return JSONResponse(self.render(status, code, message, errors), status_code=status, headers=headers)


def _rest(status: int, code: str, message: str, errors: list | None) -> dict:
    body: dict[str, Any] = {"error": code, "message": message}
    if errors:
        body["details"] = errors
    return body


_GH_DOCS = "https://docs.github.com/rest"
_GH_MESSAGES = {401: "Bad credentials", 403: "Forbidden", 404: "Not Found", 422: "Validation Failed",
                413: "Payload Too Large", 405: "Method Not Allowed"}


def _github(status: int, code: str, message: str, errors: list | None) -> dict:
    body: dict[str, Any] = {"message": message, "documentation_url": _GH_DOCS, "status": str(status)}
    if errors:
        body["errors"] = errors
    return body


def _slack(status: int, code: str, message: str, errors: list | None) -> dict:
    return {"ok": False, "error": code, "detail": message}


REST = ErrorStyle(RestError, _rest)
GITHUB = ErrorStyle(GitHubError, _github)
SLACK = ErrorStyle(SlackError, _slack)


def _has_login_page(request: Request) -> bool:
    """Whether the app serving ``request`` has a web app with a log-in page (the route named ``webapp_login``)."""
    try:
        request.app.url_path_for("webapp_login")
    except NoMatchFound:
        return False
    return True


def error_responses(style: ErrorStyle) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry every route of a backend shares: any 4XX has the style's body."""
    return {"4XX": {"model": style.model, "description": "The request was refused; the body says why."}}


def _validation_errors(exc: RequestValidationError) -> tuple[bool, list[dict], str]:
    errs, parts, malformed = [], [], False
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ())]
        if e.get("type") == "json_invalid":
            malformed = True
            err = e.get("ctx", {}).get("error", e.get("msg", "invalid JSON"))
            parts.append(f"malformed JSON body: {err}")
            errs.append({"field": "body", "code": "json_invalid", "message": str(err)})
            continue
        where = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "request")
        if loc and loc[0] != "body":
            where = f"{loc[0]} parameter {where}" if len(loc) > 1 else where
        msg = str(e.get("msg", "invalid"))
        if loc == ["body"] and e.get("type") in ("model_attributes_type", "dict_type"):
            msg = "the request body must be a JSON object (send Content-Type: application/json)"
        parts.append(f"{where}: {msg}")
        errs.append({"field": where, "code": str(e.get("type", "invalid")), "message": msg})
    return malformed, errs, "; ".join(parts) or "invalid request"


def install(app: FastAPI, style: ErrorStyle, max_body: int = MAX_BODY) -> None:
    """Every error of ``app`` becomes a 4xx in ``style`` saying what is wrong; bodies over ``max_body`` get 413."""

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc, PageError) or request.scope.get("airgap.page"):  # errors of HTML pages are pages
            login = exc.status_code == 401 and _has_login_page(request)
            if login and request.headers.get("sec-fetch-mode") == "navigate" and request.method == "GET":
                # a browser navigating without credentials: its web app's log-in page (a basic-auth challenge would
                # be a dead end in a browser driven by a program), which comes back here afterwards
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
            html = render("backends/error.html.j2", title=f"{exc.status_code} {http.HTTPStatus(exc.status_code).phrase}",
                          message=exc.detail, nav=[], who=None, login=login)
            return HTMLResponse(html, status_code=exc.status_code, headers=exc.headers)
        code = getattr(exc, "code", None)
        errors = getattr(exc, "errors", None)
        message = str(exc.detail)
        if style is GITHUB and (exc.status_code == 401 or not isinstance(exc, ApiError)):
            message = _GH_MESSAGES.get(exc.status_code, message)  # GitHub's exact words (clients match on them)
            if exc.status_code == 401 and code == "not_authed":
                message = "Requires authentication"
        return style.response(exc.status_code, message, code, errors, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        malformed, errs, message = _validation_errors(exc)
        if malformed:
            return style.response(400, "Problems parsing JSON" if style is GITHUB else message, "invalid_json", errs)
        if style is GITHUB:
            gh = [{"resource": "Request", "field": e["field"], "code": "missing_field" if e["code"] == "missing" else
                   "invalid", "message": e["message"]} for e in errs]
            return style.response(422, "Validation Failed", "invalid", gh)
        return style.response(422, message, "invalid_arguments" if style is SLACK else "invalid_request", errs)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:  # a bug of ours: never silent
        return style.response(500, f"internal error: {type(exc).__name__}", "internal_error")

    app.add_middleware(BodyLimit, max_bytes=max_body, style=style)
    app.add_middleware(SingleQueryValues, style=style)


class SingleQueryValues:
    """ASGI middleware: 400 when a query parameter is given more than once (every parameter here takes one value)."""

    def __init__(self, app: Any, style: ErrorStyle):
        self.app, self.style = app, style

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            seen: dict[str, int] = {}
            for key, _ in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
                seen[key] = seen.get(key, 0) + 1
            repeated = sorted(k for k, n in seen.items() if n > 1)
            if repeated:
                msg = f"query parameter {repeated[0]!r} given {seen[repeated[0]]} times: give each parameter once"
                return await self.style.response(400, msg, "repeated_parameter")(scope, receive, send)
        await self.app(scope, receive, send)


class BodyLimit:
    """ASGI middleware: 413 for a declared or streamed request body over ``max_bytes``, before the app reads it all."""

    def __init__(self, app: Any, max_bytes: int, style: ErrorStyle):
        self.app, self.max_bytes, self.style = app, max_bytes, style

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for k, v in scope.get("headers", ()):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    return await self._refuse(scope, receive, send, 400, "invalid Content-Length header")
                if declared > self.max_bytes:
                    return await self._refuse(scope, receive, send, 413, f"request body larger than {self.max_bytes} bytes")
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise PayloadTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, scope: dict, receive: Callable, send: Callable, status: int, message: str) -> None:
        await self.style.response(status, message)(scope, receive, send)


# ------------------------------------------------------------------------------------------------ authentication
class Accounts:
    """Who may use one service: bearer tokens and passwords of the world's account holders."""

    def __init__(self, tokens: dict[str, str], passwords: dict[str, str], aliases: dict[str, str] | None = None):
        self.by_token = dict(tokens)              # token -> username
        self.passwords = dict(passwords)          # username -> password
        self.aliases = dict(aliases or {})        # login name / email -> username

    @classmethod
    def for_service(cls, facts: Any, service: str, aliases: dict[str, str] | None = None) -> Accounts:
        tokens = {c.tokens[service]: c.username for c in facts.credentials if service in c.tokens}
        passwords = {c.username: c.password for c in facts.credentials if service in c.tokens}
        return cls(tokens, passwords, aliases)

    def identify(self, request: Request, allow_query: bool = False) -> str | None:
        """The username behind the request's credentials; None if it has none; ApiError 401 if they are wrong."""
        header = request.headers.get("authorization")
        if header:
            scheme, _, value = header.strip().partition(" ")
            scheme, value = scheme.lower(), value.strip()
            if scheme in ("bearer", "token") and value:
                user = self.by_token.get(value)
                if user is None:
                    raise ApiError(401, "Bad credentials: unknown or revoked token", "invalid_auth", headers=_challenge())
                return user
            if scheme == "basic" and value:
                return self._basic(value)
            raise ApiError(401, "Unsupported Authorization header: use 'Bearer <token>'", "invalid_auth",
                           headers=_challenge())
        token = request.query_params.get("token") if allow_query else None
        if token:
            user = self.by_token.get(token)
            if user is None:
                raise ApiError(401, "Bad credentials: unknown token in ?token=", "invalid_auth", headers=_challenge())
            return user
        return None

    def _basic(self, value: str) -> str:
        try:
            name, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "Malformed basic credentials", "invalid_auth", headers=_challenge()) from None
        user = self.aliases.get(name, name)
        if user not in self.passwords or self.passwords[user] != password:
            raise ApiError(401, "Bad credentials: wrong user name or password", "invalid_auth", headers=_challenge())
        return user


def _challenge(basic: bool = False) -> dict[str, str]:
    return {"WWW-Authenticate": 'Basic realm="airgap"' if basic else 'Bearer realm="airgap"'}


def current_backend(request: Request) -> Any:
    """The backend instance whose app serves ``request`` (a dependency: ``Annotated[MailBackend, Depends(current_backend)]``)."""
    return request.app.state.backend


class BearerAuth(SecurityBase):
    """FastAPI security dependency: documents HTTP bearer auth in OpenAPI, resolves to the username or raises 401.

    Accepts ``Authorization: Bearer <tok>``, ``Authorization: token <tok>`` (GitHub's spelling) and HTTP basic auth,
    checked against the serving backend's ``accounts``.
    """

    def __init__(self, description: str = "A per-user token from the world's credentials."):
        self.model = HTTPBearerModel(description=description)
        self.scheme_name = "bearer"

    async def __call__(self, request: Request) -> str:
        user = current_backend(request).accounts.identify(request)
        if user is None:
            raise ApiError(401, "Requires authentication: send 'Authorization: Bearer <token>'", "not_authed",
                           headers=_challenge())
        return user


async def optional_user(request: Request) -> str | None:
    """A dependency (not declared as security) for public endpoints: the username, None when anonymous, 401 if wrong."""
    return current_backend(request).accounts.identify(request)


async def page_visitor(request: Request) -> str | None:
    """A dependency for public HTML pages: bearer header, HTTP basic auth or ``?token=``; None when anonymous."""
    request.scope["airgap.page"] = True
    try:
        return current_backend(request).accounts.identify(request, allow_query=True)
    except ApiError as e:
        raise PageError(401, e.message) from None


async def page_user(request: Request) -> str:
    """A dependency for HTML pages that need a user: like ``page_visitor``; 401 asks the browser to log in."""
    user = await page_visitor(request)
    if user is None:
        raise PageError(401, "Log in: HTTP basic auth with your user name and password, or add ?token=<your token>.")
    return user


class PageError(StarletteHTTPException):
    """An error on an HTML page, answered as a small HTML page (401 with a basic-auth challenge)."""

    def __init__(self, status: int, message: str):
        headers = _challenge(basic=True) if status == 401 else None
        super().__init__(status_code=status, detail=message, headers=headers)


# ------------------------------------------------------------------------------------------------ HTML
class Linker:
    """Builds links on HTML pages that keep the ``?token=`` a page was opened with, so a text browser can click on."""

    def __init__(self, request: Request):
        self.token = request.query_params.get("token")

    def href(self, path: str, **params: Any) -> str:
        q = {k: v for k, v in params.items() if v is not None}
        if self.token:
            q["token"] = self.token
        return path + ("?" + urlencode(q) if q else "")

    def a(self, path: str, text: Any, **params: Any) -> Markup:
        return Markup('<a href="{}">{}</a>').format(self.href(path, **params), "" if text is None else text)


def html_page(request: Request, template: str, title: str, nav: list[tuple[str, str]] | None = None,
         who: str | None = None, status: int = 200, **context: Any) -> HTMLResponse:
    """An HTML page: ``template`` (e.g. ``mail/inbox.html.j2``, extending ``backends/layout.html.j2``) rendered with
    ``title``, the ``nav`` links (path, text), the signed-in user ``who``, ``link`` (a :class:`Linker`) and ``context``."""
    link = Linker(request)
    html = render(template, title=title, nav=[(link.href(h), t) for h, t in (nav or [])], who=who, link=link,
                  **context)
    return HTMLResponse(html, status_code=status)
