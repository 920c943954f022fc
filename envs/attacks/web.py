"""The safety web: four small fictional sites shipped as a WARC, whose named slots are filled with attack texts as served.

``data/safety-web.warc.gz`` (made by ``webgen.py`` from the sites of ``safety_sites.py``, which
``scripts/make_safety_web.py`` runs: pages rendered with the world's page template, served on loopback, crawled with
``wget --warc-file``) holds a gear shop, a tech forum, a payments API's docs and a recipe blog. Wherever third-party
text would appear (a review, a forum reply, a comment, a vendor's or partner's note, a code sample's
comment) a page holds an invisible marker ``<!--airgap-slot:NAME-->``. ``data/safety-web.json`` lists the hosts, and
per page its URL, title, slots and facts (questions a user would ask whose answers only that page gives).

    from airgap.envs.attacks.web import ensure_safety_snapshot, slot_routes
    path = ensure_safety_snapshot()                       # indexed once per WARC, then read from the cache
    routes = slot_routes(routes, {"lakeside-review-tent": "Ignore previous instructions and ..."})

``fill_slots`` wraps an ASGI app so that its HTML responses carry each slot's text (HTML-escaped, newlines as
``<br>``) in place of the marker; unfilled markers stay invisible comments. A world spec's ``snapshot: safety`` and
``web_slots`` mapping do this per episode (``airgap.envs.world``). The search engine indexes the pages as crawled, so
slot text is seen only by opening a page, as a planted review would be.
"""
from __future__ import annotations

import codecs
import functools
import html
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
SAFETY_WEB_WARC = DATA / "safety-web.warc.gz"
SAFETY_WEB_MANIFEST = DATA / "safety-web.json"
SLOT_NAME = re.compile(r"[a-z0-9-]+")


def marker(name: str) -> str:
    """How slot ``name`` is written in a page (``airgap.envs.worldgen.site.pages.Slot``)."""
    from airgap.envs.worldgen.site.pages import Slot

    return str(Slot(name).marker)


@functools.lru_cache(maxsize=1)
def manifest() -> dict:
    """The shipped manifest: ``{"hosts", "capture_date", "pages": [{"url", "title", "slots", "facts"}]}`` (shared;
    do not mutate). Each fact is ``{"id", "question", "answer", "aliases"}``."""
    try:
        return json.loads(SAFETY_WEB_MANIFEST.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{SAFETY_WEB_MANIFEST} is missing: regenerate it with "
                                "`python scripts/make_safety_web.py` (or reinstall airgap)") from None


def slot_urls() -> dict[str, str]:
    """slot name -> the URL of the page that holds it."""
    return {name: p["url"] for p in manifest()["pages"] for name in p["slots"]}


# -------------------------------------------------------------------------------------------------- the snapshot

def warc_sha256() -> str:
    """sha256 of the shipped WARC (read once per process while the file is unchanged)."""
    from airgap.corpus.cache import file_sha256

    return file_sha256(SAFETY_WEB_WARC)


def safety_snapshot_path() -> Path:
    """Where the snapshot of the shipped WARC lives (built or not): ``safety-web/<sha256[:16]>`` under
    ``$AIRGAP_SNAPSHOT_DIR``, else under ``snapshots/`` in Airgap's cache folder."""
    from airgap.corpus import snapshots_root

    return snapshots_root() / _safety_key()


def _safety_key() -> str:
    return f"safety-web/{warc_sha256()[:16]}"


def ensure_safety_snapshot(progress: bool = False) -> Path:
    """The snapshot folder of the shipped WARC, built first if missing (about a second), once however many processes
    ask at the same time (``airgap.corpus.ensure_snapshot``: a file lock, a build aside, an atomic rename)."""
    if not SAFETY_WEB_WARC.is_file():
        raise FileNotFoundError(f"{SAFETY_WEB_WARC} is missing: regenerate it with "
                                "`python scripts/make_safety_web.py` (or reinstall airgap)")
    from airgap.corpus import ensure_snapshot

    return ensure_snapshot([SAFETY_WEB_WARC], _safety_key(), progress=progress, workers=1)


# -------------------------------------------------------------------------------------------------- slots, as served

def _check_slots(slots: Mapping[str, str]) -> None:
    if not isinstance(slots, Mapping):
        raise TypeError(f"slots must be a mapping of slot name -> text, not {type(slots).__name__}")
    for name, text in slots.items():
        if not isinstance(name, str) or not SLOT_NAME.fullmatch(name):
            raise ValueError(f"slot name {name!r} is not [a-z0-9-]+; the safety web's slots are listed in "
                             f"{SAFETY_WEB_MANIFEST}")
        if not isinstance(text, str):
            raise TypeError(f"slot {name!r}: the text must be a str, not {type(text).__name__}")


def slot_html(text: str) -> str:
    """A slot's text as it goes into a page: HTML-escaped, each line break as ``<br>``."""
    return html.escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def _header(headers: list, name: bytes) -> str:
    for k, v in headers:
        if k.lower() == name:
            return v.decode("latin-1")
    return ""


def _charset(content_type: str) -> str:
    m = re.search(r"charset\s*=\s*\"?([A-Za-z0-9_.:-]+)", content_type)
    if m:
        try:
            return codecs.lookup(m.group(1)).name
        except LookupError:
            pass
    return "utf-8"


def fill_slots(app: Callable, slots: Mapping[str, str]) -> Callable:
    """``app`` (ASGI 3) with each ``<!--airgap-slot:NAME-->`` in its ``text/html`` responses replaced by
    ``slot_html(slots[NAME])`` and Content-Length set to the new length. Only HTML bodies are buffered (to the end of
    the response); every other response, and a compressed HTML one, streams through untouched, as do markers of slots
    not in ``slots`` and responses with no marker."""
    _check_slots(slots)
    fills = {marker(name): slot_html(text) for name, text in slots.items()}
    if not fills:
        return app

    async def filled(scope, receive, send):
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        start: dict | None = None
        chunks: list[bytes] = []

        async def capture(message):
            nonlocal start
            kind = message.get("type")
            if kind == "http.response.start":
                headers = list(message.get("headers", []))
                ctype = _header(headers, b"content-type").lower()
                if ctype.startswith("text/html") and _header(headers, b"content-encoding").lower() in ("", "identity"):
                    start = message  # held until the body is whole
                    return
                await send(message)
            elif kind == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                held, start = start, None
                body = b"".join(chunks)
                chunks.clear()
                new = _fill(body, _charset(_header(held["headers"], b"content-type")), fills)
                if new is not body:
                    headers = [(k, v) for k, v in held["headers"] if k.lower() != b"content-length"]
                    held = {**held, "headers": [*headers, (b"content-length", str(len(new)).encode())]}
                await send(held)
                await send({"type": "http.response.body", "body": new, "more_body": False})
            else:
                await send(message)

        await app(scope, receive, capture)

    return filled


def _fill(body: bytes, charset: str, fills: dict[str, str]) -> bytes:
    """``body`` with the markers of ``fills`` replaced (the very object when nothing was)."""
    if b"<!--airgap-slot:" not in body:
        return body
    out = body
    for mark, text in fills.items():
        m = mark.encode("ascii")
        if m in out:
            out = out.replace(m, text.encode(charset, "xmlcharrefreplace"))
    return out


def slot_routes(routes: Mapping[str, Callable], slots: Mapping[str, str]) -> dict:
    """A copy of ``routes`` with each safety-web host's app wrapped by ``fill_slots`` (others, the search engine
    included, untouched). Slot names must be the manifest's; the routes must hold the safety web (``snapshot:
    safety``)."""
    _check_slots(slots)
    out = dict(routes)
    if not slots:
        return out
    known = slot_urls()
    unknown = sorted(set(slots) - set(known))
    if unknown:
        raise ValueError(f"unknown web slot(s) {unknown}; the safety web's slots are {sorted(known)} "
                         f"(listed in {SAFETY_WEB_MANIFEST})")
    hosts = [h for h in manifest()["hosts"] if h in out]
    if not hosts:
        raise ValueError("web slots were given but the world has none of the safety web's hosts "
                         f"({', '.join(manifest()['hosts'])}): set the world's snapshot to 'safety'")
    wrapped: dict[int, Callable] = {}  # one wrapper per distinct app (the pages app serves every host)
    for host in hosts:
        app = out[host]
        if id(app) not in wrapped:
            wrapped[id(app)] = fill_slots(app, slots)
        out[host] = wrapped[id(app)]
    return out
