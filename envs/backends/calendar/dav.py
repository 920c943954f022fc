"""CalDAV (RFC 4791, with WebDAV RFC 4918) on the calendar host, over the same rows as the JSON API.

Why a small implementation here and not a CalDAV server such as Radicale with a storage plugin: a Radicale storage is a
folder of iCalendar items per collection, written item by item outside any request of this app. Here every write must
be ONE transaction of the backend inside the request (so the change event, the diff, graders and monitors see a CalDAV
write exactly as the JSON API's), an event is one row seen from several people's calendars (organiser and attendees,
with the same permissions as the API: only the organiser edits, an attendee answers), and a time-range query must use
the backend's own recurrence expansion (its exceptions included). A storage plugin can give none of these without
re-implementing them against Radicale's item model. What is hand-written is only the WebDAV/CalDAV envelope: exactly the
methods CalDAV clients use (OPTIONS, PROPFIND depth 0/1, REPORT calendar-query and calendar-multiget, GET/HEAD, PUT with
ETag/If-Match/If-None-Match, DELETE), with the standard library's ElementTree for the XML (expat: no external entities,
and a DOCTYPE is refused outright) and the well-kept ``icalendar`` package for every iCalendar byte read or written.

Layout (one calendar per person, holding the events they organise or are invited to):

    /.well-known/caldav  -> /dav/              (also PROPFIND on / answers current-user-principal)
    /dav/principals/<user>/                    principal: calendar-home-set, calendar-user-address-set (mailto:)
    /dav/calendars/<user>/                     calendar home
    /dav/calendars/<user>/events/              the calendar collection
    /dav/calendars/<user>/events/<UID>.ics     one event (a series: its master VEVENT + one VEVENT per changed instance)

Authentication: the user's calendar token as HTTP basic password (user name or e-mail address as the login) or as a
bearer token, or the user's world password over basic auth (what the JSON API and its pages accept). Writes map onto the
JSON API's own functions (``api.create``/``update``/``cancel``/``answer``/``update_one``/``cancel_one``): a PUT of a new
UID creates the event (the client's UID is kept), the organiser's PUT edits it (changed instances become the series'
exceptions, a new EXDATE cancels one instance), an attendee's PUT answers the invitation with the PARTSTAT of their own
ATTENDEE line, the organiser's DELETE cancels it. Not served: scheduling inbox/outbox (RFC 6638), sync-collection,
free-busy-query REPORT, VTODO/VJOURNAL, ACLs, MKCALENDAR; all-day (DATE) events are stored as midnight-to-midnight in
the user's zone.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import sqlite3
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

import icalendar
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from airgap.envs.backends.calendar import EARLIEST, LATEST, CalendarBackend, recurrence, zone
from airgap.envs.backends.calendar.model import EventIn, EventPatch, InstancePatch, RespondIn
from airgap.envs.backends.web import ApiError, current_backend
from airgap.envs.common import iso, parse_iso

D, C, CS = "DAV:", "urn:ietf:params:xml:ns:caldav", "http://calendarserver.org/ns/"
for _prefix, _ns in (("d", D), ("c", C), ("cs", CS)):
    ET.register_namespace(_prefix, _ns)
PRODID = "-//Airgap//calendar backend//EN"
DAV_HEADER = "1, 3, calendar-access"
ALLOW = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, REPORT"
CHALLENGE = {"WWW-Authenticate": 'Basic realm="calendar", Bearer realm="calendar"'}
MAX_UID = 255
PARTSTAT = {"needs-action": "NEEDS-ACTION", "accepted": "ACCEPTED", "declined": "DECLINED", "tentative": "TENTATIVE"}
XML_TYPE = "application/xml; charset=utf-8"
ICS_TYPE = "text/calendar; charset=utf-8"

dav = APIRouter(include_in_schema=False)


def q(tag: str, ns: str = D) -> str:
    return f"{{{ns}}}{tag}"


# ------------------------------------------------------------------------------------------------ paths
def principal_href(user: str) -> str:
    return f"/dav/principals/{quote(user, safe='')}/"


def home_href(user: str) -> str:
    return f"/dav/calendars/{quote(user, safe='')}/"


def collection_href(user: str) -> str:
    return home_href(user) + "events/"


def event_href(user: str, uid: str) -> str:
    return collection_href(user) + quote(uid, safe="@") + ".ics"


def _resolve(path: str, user: str) -> tuple[str, str | None]:
    """(kind, resource name) of a DAV path as sent (percent-encoded: a UID may hold an encoded "/"): root, principal,
    home, collection or item; 404 for another user's paths."""
    parts = [unquote(p) for p in path.split("/") if p]
    if parts in ([], ["dav"]):
        return "root", None
    if len(parts) >= 3 and parts[0] == "dav" and parts[1] in ("principals", "calendars"):
        if parts[2] != user:
            raise ApiError(404, f"{path} not found (you are {user}: your calendars are under {home_href(user)})")
        if parts[1] == "principals" and len(parts) == 3:
            return "principal", None
        if parts[1] == "calendars" and len(parts) == 3:
            return "home", None
        if parts[1] == "calendars" and len(parts) >= 4 and parts[3] == "events":
            if len(parts) == 4:
                return "collection", None
            if len(parts) == 5:
                return "item", parts[4]
    raise ApiError(404, f"{path} not found (CalDAV: PROPFIND /dav/ for your principal)")


def _uid_of(name: str) -> str:
    if not name.endswith(".ics") or len(name) <= 4:
        raise ApiError(404, f"{name} not found (events are <UID>.ics)")
    return name[:-4]


# ------------------------------------------------------------------------------------------------ authentication
def dav_user(request: Request, b: CalendarBackend) -> str:
    """The user behind a DAV request: the calendar token as basic password or bearer token, or the world password."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    try:
        if scheme.lower() == "basic" and value.strip():
            try:
                login, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise ApiError(401, "Malformed basic credentials") from None
            owner = b.accounts.by_token.get(secret)
            if owner is not None and b.accounts.aliases.get(login, login) == owner:
                return owner
        user = b.accounts.identify(request)
    except ApiError as e:
        raise ApiError(401, e.message, "invalid_auth", headers=CHALLENGE) from None
    if user is None:
        raise ApiError(401, "Requires authentication: HTTP basic auth (your user name and your calendar token or "
                            "password) or 'Authorization: Bearer <calendar token>'", "not_authed", headers=CHALLENGE)
    return user


# ------------------------------------------------------------------------------------------------ XML
def _xml_body(raw: bytes) -> ET.Element | None:
    if not raw.strip():
        return None
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise ApiError(400, "XML with a DOCTYPE or ENTITY declaration is not accepted")
    try:
        return ET.fromstring(raw)
    except ET.ParseError as e:
        raise ApiError(400, f"malformed XML body: {e}") from None


def _xml(root: ET.Element, status: int = 207, headers: dict[str, str] | None = None) -> Response:
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", short_empty_elements=True)
    return Response(body, status_code=status, media_type=XML_TYPE, headers={"DAV": DAV_HEADER, **(headers or {})})


def _dav_error(status: int, condition: str, message: str) -> ApiError:
    """A refusal naming the CalDAV precondition it breaks (clients show the message)."""
    return ApiError(status, f"{message} (precondition {condition})", condition)


def _href(parent: ET.Element, text: str) -> ET.Element:
    e = ET.SubElement(parent, q("href"))
    e.text = text
    return e


Value = str | Callable[[ET.Element], None]


def _response(ms: ET.Element, href: str, values: dict[str, Value], wanted: list[str] | None) -> None:
    """One <response> of a multistatus: the ``wanted`` properties (None: all of ``values``) found (200) or not (404)."""
    resp = ET.SubElement(ms, q("response"))
    _href(resp, href)
    names = list(values) if wanted is None else wanted
    found = [n for n in names if n in values]
    missing = [n for n in names if n not in values]
    for props, status in ((found, "200 OK"), (missing, "404 Not Found")):
        if not props:
            continue
        ps = ET.SubElement(resp, q("propstat"))
        prop = ET.SubElement(ps, q("prop"))
        for n in props:
            el = ET.SubElement(prop, n)
            v = values.get(n)
            if callable(v):
                v(el)
            elif v is not None:
                el.text = v
        ET.SubElement(ps, q("status")).text = f"HTTP/1.1 {status}"


def _children(*tags: str) -> Callable[[ET.Element], None]:
    def fill(el: ET.Element) -> None:
        for t in tags:
            ET.SubElement(el, t)
    return fill


def _hrefs(*texts: str) -> Callable[[ET.Element], None]:
    def fill(el: ET.Element) -> None:
        for t in texts:
            _href(el, t)
    return fill


def _privileges(*names: str) -> Callable[[ET.Element], None]:
    def fill(el: ET.Element) -> None:
        for n in names:
            ET.SubElement(ET.SubElement(el, q("privilege")), q(n))
    return fill


def _comp_set(el: ET.Element) -> None:
    ET.SubElement(el, q("comp", C), name="VEVENT")


def _data_set(el: ET.Element) -> None:
    ET.SubElement(el, q("calendar-data", C), {"content-type": "text/calendar", "version": "2.0"})


def _reports(el: ET.Element) -> None:
    for name in ("calendar-query", "calendar-multiget"):
        ET.SubElement(ET.SubElement(ET.SubElement(el, q("supported-report")), q("report")), q(name, C))


# ------------------------------------------------------------------------------------------------ events as iCalendar
def _events(b: CalendarBackend, db: sqlite3.Connection, user: str) -> list[sqlite3.Row]:
    """The events in ``user``'s calendar: organised by them or inviting them, not cancelled."""
    return db.execute("SELECT * FROM events WHERE status = 'confirmed' AND (organizer = ? OR EXISTS (SELECT 1 FROM "
                      "attendees WHERE event = events.id AND username = ?)) ORDER BY start, id", (user, user)).fetchall()


def _by_uid(db: sqlite3.Connection, user: str, uid: str) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM events WHERE uid = ? AND status = 'confirmed' AND (organizer = ? OR EXISTS (SELECT "
                      "1 FROM attendees WHERE event = events.id AND username = ?))", (uid, user, user)).fetchone()


def _address(row: sqlite3.Row, **params: str) -> icalendar.vCalAddress:
    a = icalendar.vCalAddress(f"mailto:{row['email']}")
    a.params["CN"] = row["name"]
    a.params.update(params)
    return a


def _rrule_value(rule: recurrence.Rule, z: ZoneInfo) -> icalendar.vRecur:
    parts = dict(rule.parts)
    if "UNTIL" in parts:  # RFC 5545: with a TZID start, UNTIL is UTC (a local or date UNTIL as the backend reads it)
        parts["UNTIL"] = recurrence.stamp(recurrence._when(parts["UNTIL"], z, "UNTIL", end_of_day=True))
    return icalendar.vRecur.from_ical(";".join(f"{k}={v}" for k, v in parts.items()))


def _vevent(uid: str, start: datetime, end: datetime, title: str, description: str, location: str,
            stamp: str) -> icalendar.Event:
    ev = icalendar.Event()
    ev.add("uid", uid)
    ev.add("dtstamp", parse_iso(stamp))
    ev.add("dtstart", start)
    ev.add("dtend", end)
    ev.add("summary", title)
    if description:
        ev.add("description", description)
    if location:
        ev.add("location", location)
    return ev


_RENDERED: OrderedDict[tuple, bytes] = OrderedDict()
_RENDERED_LOCK = threading.Lock()
_RENDERED_MAX = 4096


def render(b: CalendarBackend, db: sqlite3.Connection, e: sqlite3.Row,
           expand: tuple[str, str] | None = None) -> bytes:
    """:func:`render_event`, kept by what it is made of (the event's row, its attendees' answers, its exceptions, the
    world): a listing renders only what changed since it was last asked for."""
    key = (b.fixture_hash(), tuple(e), expand,
           tuple(tuple(r) for r in db.execute("SELECT username, status FROM attendees WHERE event = ? ORDER BY id",
                                              (e["id"],))),
           tuple(tuple(r) for r in db.execute("SELECT * FROM event_exceptions WHERE event = ? ORDER BY id", (e["id"],))))
    with _RENDERED_LOCK:
        data = _RENDERED.get(key)
        if data is not None:
            _RENDERED.move_to_end(key)
            return data
    data = render_event(b, db, e, expand)
    with _RENDERED_LOCK:
        _RENDERED[key] = data
        while len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return data


def render_event(b: CalendarBackend, db: sqlite3.Connection, e: sqlite3.Row,
                 expand: tuple[str, str] | None = None) -> bytes:
    """Event row ``e`` as an iCalendar object: a series is its master VEVENT (RRULE, EXDATE: its excluded and cancelled
    instances) and one VEVENT per changed instance (RECURRENCE-ID). ``expand`` (UTC start, end): RFC 4791's expand, each
    instance in the window its own VEVENT in UTC, no rule."""
    z = zone(e["timezone"])
    org = db.execute("SELECT * FROM calendars WHERE username = ?", (e["organizer"],)).fetchone()
    atts = db.execute("SELECT a.status, c.* FROM attendees a JOIN calendars c ON c.username = a.username WHERE a.event = ? "
                      "ORDER BY a.id", (e["id"],)).fetchall()

    def people(ev: icalendar.Event) -> None:
        ev.add("status", "CONFIRMED")
        ev.add("created", parse_iso(e["created"]))
        ev.add("last-modified", parse_iso(e["updated"]))
        ev.add("organizer", _address(org))
        for a in atts:
            ev.add("attendee", _address(a, PARTSTAT=PARTSTAT[a["status"]], ROLE="REQ-PARTICIPANT",
                                        CUTYPE="INDIVIDUAL", RSVP="TRUE" if a["status"] == "needs-action" else "FALSE"))

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    rule = b.rule(e)
    local = lambda s: parse_iso(s).astimezone(z)  # noqa: E731
    if expand is not None:
        if rule is None:
            insts = [{"start": e["start"], "end": e["end"], "original_start": None}]
        else:
            insts = b.instances(db, e, *expand)
        for i in sorted(insts, key=lambda i: i["start"]):
            ev = _vevent(e["uid"], parse_iso(i["start"]), parse_iso(i["end"]), i.get("title") or e["title"],
                         i.get("description") or e["description"], i.get("location") or e["location"], e["updated"])
            if i["original_start"] is not None:
                ev.add("recurrence-id", parse_iso(i["original_start"]))
            people(ev)
            cal.add_component(ev)
        return cal.to_ical()
    master = _vevent(e["uid"], local(e["start"]), local(e["end"]), e["title"], e["description"], e["location"],
                     e["updated"])
    people(master)
    cal.add_component(master)
    if rule is not None:
        master.add("rrule", _rrule_value(rule, z))
        length = parse_iso(e["end"]) - parse_iso(e["start"])
        exc = db.execute("SELECT * FROM event_exceptions WHERE event = ? ORDER BY original_start", (e["id"],)).fetchall()
        gone = {x.astimezone(timezone.utc) for x in rule.exdates}
        gone |= {parse_iso(r["original_start"]) for r in exc if r["status"] == "cancelled"}
        if gone:
            master.add("exdate", [x.astimezone(z) for x in sorted(gone)])
        for r in exc:
            if r["status"] != "confirmed" or not recurrence.occurs(rule, b.dtstart(e), parse_iso(r["original_start"])):
                continue
            ev = _vevent(e["uid"], local(r["start"] or r["original_start"]),
                         local(r["end"] or iso(parse_iso(r["original_start"]) + length)), r["title"] or e["title"],
                         r["description"] if r["description"] is not None else e["description"],
                         r["location"] if r["location"] is not None else e["location"], r["updated"])
            ev.add("recurrence-id", local(r["original_start"]))
            people(ev)
            cal.add_component(ev)
    return _with_timezone(cal.to_ical(), e["timezone"])


_VTIMEZONES: dict[str, bytes] = {}


def _with_timezone(data: bytes, name: str) -> bytes:
    """``data`` with the VTIMEZONE of its TZID ``name`` (icalendar's, from zoneinfo), made once per zone: building and
    writing one costs more than the rest of an event."""
    if name in ("UTC", "Etc/UTC") or b"TZID=" not in data:
        return data
    if name not in _VTIMEZONES:
        _VTIMEZONES[name] = icalendar.Timezone.from_tzid(name).to_ical()
    head, sep, rest = data.partition(b"BEGIN:VEVENT\r\n")
    return head + _VTIMEZONES[name] + sep + rest


def etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _ctag(items: list[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for uid, data in items:
        h.update(uid.encode() + b"\0" + data + b"\0")
    return h.hexdigest()[:32]


# ------------------------------------------------------------------------------------------------ properties
def _values(b: CalendarBackend, db: sqlite3.Connection, user: str, kind: str, href: str,
            data: bytes | None = None, ctag: str | None = None) -> dict[str, Value]:
    me = db.execute("SELECT * FROM calendars WHERE username = ?", (user,)).fetchone()
    common: dict[str, Value] = {q("current-user-principal"): _hrefs(principal_href(user))}
    if kind == "item":
        assert data is not None
        return {q("resourcetype"): "", q("getetag"): etag(data), q("getcontenttype"): ICS_TYPE + "; component=vevent",
                q("getcontentlength"): str(len(data)), q("calendar-data", C): data.decode(),
                q("current-user-privilege-set"): _privileges("read", "write", "write-content"), **common}
    out: dict[str, Value] = {**common, q("calendar-home-set", C): _hrefs(home_href(user)),
                             q("principal-URL"): _hrefs(principal_href(user)),
                             q("current-user-privilege-set"): _privileges("read")}
    if kind == "root":
        out.update({q("resourcetype"): _children(q("collection")), q("displayname"): "CalDAV"})
    elif kind == "principal":
        out.update({q("resourcetype"): _children(q("collection"), q("principal")), q("displayname"): me["name"],
                    q("calendar-user-address-set", C): _hrefs(f"mailto:{me['email']}", principal_href(user)),
                    q("calendar-user-type", C): "INDIVIDUAL"})
    elif kind == "home":
        out.update({q("resourcetype"): _children(q("collection")), q("displayname"): f"Calendars of {me['name']}",
                    q("owner"): _hrefs(principal_href(user))})
    elif kind == "collection":
        out.update({q("resourcetype"): _children(q("collection"), q("calendar", C)), q("displayname"): me["name"],
                    q("calendar-description", C): f"{me['name']}'s events and invitations",
                    q("owner"): _hrefs(principal_href(user)),
                    q("supported-calendar-component-set", C): _comp_set, q("supported-calendar-data", C): _data_set,
                    q("supported-report-set"): _reports, q("getctag", CS): ctag or "",
                    q("getcontenttype"): "text/calendar",
                    q("current-user-privilege-set"): _privileges("read", "write", "write-content", "bind", "unbind")})
    return out


def _wanted(body: ET.Element | None) -> list[str] | None:
    """The property names a PROPFIND asks for; None for allprop (or an empty body)."""
    if body is None or body.find(q("allprop")) is not None:
        return None
    prop = body.find(q("prop"))
    if prop is None:
        if body.find(q("propname")) is not None:
            return None
        raise ApiError(400, "PROPFIND body must hold <prop>, <allprop/> or <propname/>")
    return [child.tag for child in prop]


def _items(b: CalendarBackend, db: sqlite3.Connection, user: str) -> list[tuple[sqlite3.Row, bytes]]:
    return [(e, render(b, db, e)) for e in _events(b, db, user)]


def _propfind(b: CalendarBackend, request: Request, path: str, depth: str, raw: bytes) -> Response:
    user = dav_user(request, b)
    kind, name = _resolve(path, user)
    wanted = _wanted(_xml_body(raw))
    ms = ET.Element(q("multistatus"))
    with b.read() as db:
        if kind == "item":
            e = _by_uid(db, user, _uid_of(name or ""))
            if e is None:
                raise ApiError(404, f"{path} not found")
            _response(ms, event_href(user, e["uid"]), _values(b, db, user, "item", path, render(b, db, e)), wanted)
            return _xml(ms)
        items = _items(b, db, user) if kind == "collection" else []
        ctag = _ctag([(e["uid"], d) for e, d in items]) if kind == "collection" else None
        self_href = {"root": path if path in ("/", "/dav", "/dav/") else "/dav/", "principal": principal_href(user), "home": home_href(user),
                     "collection": collection_href(user)}[kind]
        _response(ms, self_href, _values(b, db, user, kind, self_href, ctag=ctag), wanted)
        if depth != "0":
            if kind == "home":
                coll = _items(b, db, user)
                _response(ms, collection_href(user), _values(b, db, user, "collection", collection_href(user),
                                                             ctag=_ctag([(e["uid"], d) for e, d in coll])), wanted)
            elif kind == "collection":
                for e, d in items:
                    vals = _values(b, db, user, "item", "", d)
                    if wanted is None:  # allprop: no calendar data (RFC 4791 9.6)
                        vals.pop(q("calendar-data", C))
                    _response(ms, event_href(user, e["uid"]), vals, wanted)
    return _xml(ms)


# ------------------------------------------------------------------------------------------------ REPORT
def _utc(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    try:
        return datetime.strptime(text.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ApiError(400, f"time-range value {text!r} is not a UTC date-time such as 20250317T150000Z") from None


def _range(el: ET.Element) -> tuple[str, str]:
    s = _utc(el.get("start"), EARLIEST)
    t = _utc(el.get("end"), LATEST)
    if t <= s:
        raise ApiError(400, "time-range: end must be after start")
    return iso(max(s, EARLIEST)), iso(min(t, LATEST))


def _overlaps(b: CalendarBackend, db: sqlite3.Connection, e: sqlite3.Row, span: tuple[str, str]) -> bool:
    """Whether event ``e`` (a series: any instance, where it now is) overlaps [start, end): the backend's expansion."""
    s, t = span
    if e["recurrence"] is None:
        return e["start"] < t and e["end"] > s
    return bool(b.instances(db, e, s, t))


def _text_match(values: list[str], tm: ET.Element) -> bool:
    needle = (tm.text or "")
    fold = tm.get("collation", "i;ascii-casemap") != "i;octet"
    kind = tm.get("match-type", "contains")
    hit = False
    for v in values:
        a, n = (v.lower(), needle.lower()) if fold else (v, needle)
        if (kind == "equals" and a == n) or (kind == "starts-with" and a.startswith(n)) or \
                (kind == "ends-with" and a.endswith(n)) or (kind == "contains" and n in a):
            hit = True
            break
    return hit != (tm.get("negate-condition") == "yes")


def _prop_filter(comp: icalendar.Event, pf: ET.Element) -> bool:
    name = (pf.get("name") or "").upper()
    values = comp.get(name)
    present = values is not None
    if pf.find(q("is-not-defined", C)) is not None:
        return not present
    if not present:
        return False
    values = values if isinstance(values, list) else [values]
    tm = pf.find(q("text-match", C))
    return tm is None or _text_match([str(v) for v in values], tm)


def _matches(b: CalendarBackend, db: sqlite3.Connection, e: sqlite3.Row, data: Callable[[], bytes],
             f: ET.Element | None) -> bool:
    """RFC 4791 9.7 filter on one event: VCALENDAR > VEVENT with time-range (the backend's expansion) and prop-filters."""
    if f is None:
        return True
    top = f.find(q("comp-filter", C))
    if top is None:
        return True
    if (top.get("name") or "").upper() != "VCALENDAR":
        return False
    for cf in top.findall(q("comp-filter", C)):
        comp = (cf.get("name") or "").upper()
        defined = cf.find(q("is-not-defined", C)) is None
        if comp != "VEVENT":
            if defined:
                return False  # only events are stored
            continue
        if not defined:
            return False
        tr = cf.find(q("time-range", C))
        if tr is not None and not _overlaps(b, db, e, _range(tr)):
            return False
        filters = cf.findall(q("prop-filter", C))
        if filters:
            master = icalendar.Calendar.from_ical(data()).walk("VEVENT")[0]
            if not all(_prop_filter(master, pf) for pf in filters):
                return False
    return True


def _report(b: CalendarBackend, request: Request, path: str, raw: bytes) -> Response:
    user = dav_user(request, b)
    kind, item = _resolve(path, user)
    body = _xml_body(raw)
    if body is None or body.tag not in (q("calendar-query", C), q("calendar-multiget", C)):
        tag = None if body is None else body.tag
        raise ApiError(403, f"REPORT {tag} is not supported here (calendar-query and calendar-multiget are)",
                       "supported-report")
    if kind not in ("collection", "item"):
        raise ApiError(403, f"REPORT on {path}: ask the calendar collection {collection_href(user)}", "supported-report")
    prop = body.find(q("prop"))
    wanted = [c.tag for c in prop] if prop is not None else [q("getetag")]
    expand = None
    if prop is not None:
        cd = prop.find(q("calendar-data", C))
        ex = cd.find(q("expand", C)) if cd is not None else None
        if ex is not None:
            if not ex.get("start") or not ex.get("end"):
                raise ApiError(400, "expand needs start and end")
            expand = _range(ex)
    ms = ET.Element(q("multistatus"))
    with b.read() as db:
        if body.tag == q("calendar-multiget", C):
            for h in body.findall(q("href")):
                try:
                    kind_, name = _resolve(urlsplit((h.text or "").strip()).path, user)
                except ApiError:
                    kind_, name = "", None
                e = _by_uid(db, user, name[:-4]) if kind_ == "item" and name and name.endswith(".ics") else None
                if e is None:
                    resp = ET.SubElement(ms, q("response"))
                    _href(resp, (h.text or "").strip())
                    ET.SubElement(resp, q("status")).text = "HTTP/1.1 404 Not Found"
                    continue
                _response(ms, event_href(user, e["uid"]), _values(b, db, user, "item", "", render(b, db, e, expand)),
                          wanted)
            return _xml(ms)
        f = body.find(q("filter", C))
        rows = _events(b, db, user)
        if kind == "item":
            rows = [r for r in rows if r["uid"] == _uid_of(item or "")]
        for e in rows:
            if not _matches(b, db, e, lambda e=e: render(b, db, e), f):
                continue
            data = render(b, db, e, expand)
            _response(ms, event_href(user, e["uid"]), _values(b, db, user, "item", "", data), wanted)
    return _xml(ms)


# ------------------------------------------------------------------------------------------------ PUT
def _dt(value: Any, tz: ZoneInfo, end_of: bool = False) -> datetime:
    """A DTSTART/DTEND value as an aware datetime: a DATE is midnight in ``tz``, a floating time is read in ``tz``."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tz)
    raise ApiError(422, f"not a date or date-time: {value!r}")


def _zone_name(dt: datetime) -> str | None:
    """The IANA zone of a DTSTART (None: UTC or an unnamed zone, so the user's zone is the event's)."""
    key = getattr(dt.tzinfo, "key", None)
    if not key or key in ("UTC", "Etc/UTC", "GMT", "Etc/GMT"):
        return None
    return key


def _when(comp: icalendar.Event, user_tz: ZoneInfo) -> tuple[datetime, datetime, str | None]:
    if comp.get("dtstart") is None:
        raise ApiError(422, "a VEVENT needs DTSTART")
    raw = comp.decoded("dtstart")
    start = _dt(raw, user_tz)
    if comp.get("dtend") is not None:
        end = _dt(comp.decoded("dtend"), start.tzinfo)  # type: ignore[arg-type]
    elif comp.get("duration") is not None:
        end = start + comp.decoded("duration")
    elif not isinstance(raw, datetime):
        end = start + timedelta(days=1)
    else:
        raise ApiError(422, "a VEVENT needs DTEND or DURATION (an event of no length is not stored)")
    return start, end, _zone_name(start) if isinstance(raw, datetime) else None


def _utc_stamp(value: Any, tz: ZoneInfo) -> str:
    return recurrence.stamp(_dt(value, tz))


def _lines(comp: icalendar.Event, tz: ZoneInfo) -> list[str]:
    """The backend's ``recurrence`` lines of a master VEVENT: RRULE as given, EXDATEs in UTC."""
    if comp.get("rdate") is not None:
        raise ApiError(422, "recurrence: RDATE is not supported (one RRULE and EXDATEs are)")
    rules = comp.get("rrule")
    if rules is None:
        return []
    rules = rules if isinstance(rules, list) else [rules]
    out = ["RRULE:" + r.to_ical().decode() for r in rules]
    ex = comp.get("exdate")
    for group in (ex if isinstance(ex, list) else [ex]) if ex is not None else []:
        out += [f"EXDATE:{_utc_stamp(v.dt, tz)}" for v in group.dts]
    return out


def _same_rule(old: recurrence.Rule | None, new: recurrence.Rule | None, z: ZoneInfo) -> bool:
    if old is None or new is None:
        return old is new
    norm = lambda r: {k: (",".join(sorted(v.split(","))) if k == "BYDAY" else  # noqa: E731
                          recurrence.stamp(recurrence._when(v, z, k, end_of_day=True)) if k == "UNTIL" else v)
                      for k, v in r.parts.items() if not (k == "INTERVAL" and v == "1")}
    return norm(old) == norm(new)


def _email(addr: Any) -> str:
    text = str(addr).strip()
    return (text[7:] if text.lower().startswith("mailto:") else text).lower()


def _addresses(comp: icalendar.Event, name: str) -> list[Any]:
    v = comp.get(name)
    return [] if v is None else v if isinstance(v, list) else [v]


def _text(comp: icalendar.Event, name: str) -> str:
    v = comp.get(name)
    return "" if v is None else str(v)


def _parse(raw: bytes) -> tuple[icalendar.Event, list[icalendar.Event]]:
    """The master VEVENT and the changed instances (RECURRENCE-ID) of one calendar object resource."""
    try:
        cal = icalendar.Calendar.from_ical(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, KeyError, IndexError) as e:
        raise _dav_error(400, "valid-calendar-data", f"not a valid iCalendar object: {e}") from None
    if not isinstance(cal, icalendar.Calendar) or cal.name != "VCALENDAR":
        raise _dav_error(400, "valid-calendar-data", "the body must be one VCALENDAR")
    other = {c.name for c in cal.subcomponents} - {"VEVENT", "VTIMEZONE"}
    if other:
        raise _dav_error(403, "supported-calendar-component",
                         f"only VEVENT is stored here, not {', '.join(sorted(other))}")
    events = [c for c in cal.subcomponents if c.name == "VEVENT"]
    masters = [c for c in events if c.get("recurrence-id") is None]
    if len(masters) != 1:
        raise _dav_error(403, "valid-calendar-object-resource",
                         "one VEVENT without RECURRENCE-ID (the event or a series' master) is required")
    uids = {str(c.get("uid", "")) for c in events}
    if len(uids) != 1 or not next(iter(uids)):
        raise _dav_error(403, "valid-calendar-object-resource", "every VEVENT needs the same UID")
    return masters[0], [c for c in events if c.get("recurrence-id") is not None]


def _model(cls: type, **fields: Any) -> Any:
    """A request model of the JSON API built from iCalendar fields; its validation errors as a 422 naming the field."""
    try:
        return cls(**fields)
    except ValidationError as e:
        parts = "; ".join(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors())
        raise ApiError(422, f"the event does not fit the calendar: {parts}") from None


def _put(b: CalendarBackend, request: Request, path: str, raw: bytes) -> Response:
    from airgap.envs.backends.calendar import api  # the JSON API's own write functions (api imports this module's router)

    user = dav_user(request, b)
    kind, name = _resolve(path, user)
    if kind != "item":
        raise ApiError(405, f"PUT goes to an event resource {collection_href(user)}<UID>.ics")
    ctype = request.headers.get("content-type", "text/calendar").split(";")[0].strip().lower()
    if ctype not in ("text/calendar", "application/octet-stream", ""):
        raise _dav_error(415, "supported-calendar-data", f"send text/calendar, not {ctype}")
    master, overrides = _parse(raw)
    uid = str(master["uid"])
    if len(uid) > MAX_UID:
        raise _dav_error(403, "valid-calendar-object-resource", f"UID longer than {MAX_UID} characters")
    if _uid_of(name or "") != uid:
        raise _dav_error(403, "valid-calendar-object-resource",
                         f"the resource name must be the event's UID: PUT it to {event_href(user, uid)}")
    with b.write(request) as db:
        me = db.execute("SELECT * FROM calendars WHERE username = ?", (user,)).fetchone()
        user_tz = zone(me["timezone"])
        e = _by_uid(db, user, uid)
        current = etag(render(b, db, e)) if e is not None else None
        match, none_match = request.headers.get("if-match"), request.headers.get("if-none-match")
        if match is not None and (current is None or (match.strip() != "*" and current not in match)):
            raise ApiError(412, f"If-Match {match} does not match the event's ETag {current}", "precondition_failed")
        if none_match is not None and current is not None and (none_match.strip() == "*" or current in none_match):
            raise ApiError(412, "the event exists (If-None-Match)", "precondition_failed")
        if e is None:
            if db.execute("SELECT 1 FROM events WHERE uid = ?", (uid,)).fetchone() is not None:
                raise _dav_error(409, "no-uid-conflict", f"UID {uid} is taken (a cancelled or another event)")
            org = master.get("organizer")
            if org is not None and _email(org) != me["email"]:
                raise _dav_error(403, "valid-organizer", f"you can only create events you organise (ORGANIZER "
                                                            f"{_email(org)} is not you, {me['email']})")
            start, end, tz_name = _when(master, user_tz)
            z = zone(tz_name) if tz_name else user_tz
            event_id = api.create(b, db, user, _model(
                EventIn, title=_text(master, "summary"), start=start, end=end, timezone=tz_name,
                description=_text(master, "description"), location=_text(master, "location"),
                attendees=[a for a in (_email(x) for x in _addresses(master, "attendee")) if a != me["email"]],
                recurrence=_lines(master, z) or None), uid=uid)
            _apply_instances(b, db, user, event_id, overrides, user_tz)
            status = 201
        elif e["organizer"] == user:
            _edit(b, db, user, e, master, overrides, user_tz)
            status = 204
        else:
            _answer(b, db, user, me, e, master)
            status = 204
        data = render(b, db, _by_uid(db, user, uid))
    return Response(status_code=status, headers={"ETag": etag(data), "DAV": DAV_HEADER})


def _edit(b: CalendarBackend, db: sqlite3.Connection, user: str, e: sqlite3.Row, master: icalendar.Event,
          overrides: list[icalendar.Event], user_tz: ZoneInfo) -> None:
    """The organiser's PUT of an existing event: the JSON API's PATCH for what changed in the master, then one
    instance change (or cancellation) per changed RECURRENCE-ID or new EXDATE."""
    from airgap.envs.backends.calendar import api

    if _text(master, "status").upper() == "CANCELLED":
        api.cancel(b, db, user, e["id"])
        return
    start, end, tz_name = _when(master, user_tz)
    tz_name = tz_name or e["timezone"]  # a start in UTC (or an unnamed zone) keeps the event's zone
    z = zone(tz_name)
    lines = _lines(master, z)
    new_rule = recurrence.parse(lines, z) if lines else None
    old_rule = b.rule(e)
    cancelled = {r[0] for r in db.execute("SELECT original_start FROM event_exceptions WHERE event = ? AND "
                                          "status = 'cancelled'", (e["id"],))}
    patch: dict[str, Any] = {}
    new_exdates: set[str] = set()
    if _same_rule(old_rule, new_rule, z):
        old_ex = {iso(x) for x in old_rule.exdates} if old_rule else set()
        new_ex = {iso(x) for x in new_rule.exdates} if new_rule else set()
        if old_ex <= new_ex and cancelled <= new_ex:
            new_exdates = new_ex - old_ex - cancelled   # instances the client removed: cancelled one by one
        else:
            patch["recurrence"] = lines
    else:
        patch["recurrence"] = lines
    if iso(start) != e["start"] or iso(end) != e["end"] or tz_name != e["timezone"]:
        patch.update(start=start, end=end, timezone=tz_name)
    for field, prop in (("title", "summary"), ("description", "description"), ("location", "location")):
        if _text(master, prop) != e[field]:
            patch[field] = _text(master, prop)
    me = db.execute("SELECT email FROM calendars WHERE username = ?", (user,)).fetchone()[0]
    want = {a for a in (_email(x) for x in _addresses(master, "attendee")) if a != me}
    have = {r[0] for r in db.execute("SELECT c.email FROM attendees a JOIN calendars c ON c.username = a.username "
                                     "WHERE a.event = ?", (e["id"],))}
    if want - have:
        patch["add_attendees"] = sorted(want - have)
    if have - want:
        patch["remove_attendees"] = sorted(have - want)
    if patch:
        api.update(b, db, user, e["id"], _model(EventPatch, **patch))
    e = db.execute("SELECT * FROM events WHERE id = ?", (e["id"],)).fetchone()
    rule = b.rule(e)
    for when in sorted(new_exdates):
        if rule is not None and recurrence.occurs(rule, b.dtstart(e), parse_iso(when)):
            api.cancel_one(b, db, user, e["id"], recurrence.stamp(parse_iso(when)))
    _apply_instances(b, db, user, e["id"], overrides, user_tz)


def _apply_instances(b: CalendarBackend, db: sqlite3.Connection, user: str, event_id: int,
                     overrides: list[icalendar.Event], user_tz: ZoneInfo) -> None:
    """Each RECURRENCE-ID VEVENT that differs from the instance as stored becomes the JSON API's instance change."""
    from airgap.envs.backends.calendar import api

    if not overrides:
        return
    e = db.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
    rule = b.rule(e)
    if rule is None:
        raise _dav_error(403, "valid-calendar-object-resource", "RECURRENCE-ID in an event without RRULE")
    z = zone(e["timezone"])
    length = parse_iso(e["end"]) - parse_iso(e["start"])
    for comp in overrides:
        original = _dt(comp.decoded("recurrence-id"), z)
        if not recurrence.occurs(rule, b.dtstart(e), original):
            continue  # an instance the (changed) rule no longer has
        key = iso(original)
        r = db.execute("SELECT * FROM event_exceptions WHERE event = ? AND original_start = ?", (event_id, key)).fetchone()
        if r is not None and r["status"] == "cancelled":
            continue
        if _text(comp, "status").upper() == "CANCELLED":
            api.cancel_one(b, db, user, event_id, recurrence.stamp(original))
            continue
        now_view = {"start": (r and r["start"]) or key, "end": (r and r["end"]) or iso(original + length),
                    "title": (r and r["title"]) or e["title"],
                    "description": r["description"] if r is not None and r["description"] is not None else e["description"],
                    "location": r["location"] if r is not None and r["location"] is not None else e["location"]}
        start, end, _ = _when(comp, z)
        want = {"start": iso(start), "end": iso(end), "title": _text(comp, "summary") or e["title"],
                "description": _text(comp, "description"), "location": _text(comp, "location")}
        changed = {k: v for k, v in want.items() if v != now_view[k]}
        if not changed:
            continue
        fields = {k: v for k, v in changed.items() if k in ("title", "description", "location")}
        if "start" in changed or "end" in changed:
            fields.update(start=start, end=end)
        api.update_one(b, db, user, event_id, recurrence.stamp(original), _model(InstancePatch, **fields))


def _answer(b: CalendarBackend, db: sqlite3.Connection, user: str, me: sqlite3.Row, e: sqlite3.Row,
            master: icalendar.Event) -> None:
    """An attendee's PUT: the PARTSTAT of their own ATTENDEE line is their answer; the rest is the organiser's."""
    from airgap.envs.backends.calendar import api

    for field, prop in (("title", "summary"), ("description", "description"), ("location", "location")):
        if _text(master, prop) != e[field]:
            raise ApiError(403, f"only the organizer can change this event ({prop.upper()}); answer the invitation "
                                "with the PARTSTAT of your ATTENDEE line instead", "forbidden")
    mine = [a for a in _addresses(master, "attendee") if _email(a) == me["email"]]
    if not mine:
        raise ApiError(403, f"your ATTENDEE line (mailto:{me['email']}) is missing: answer with its PARTSTAT")
    partstat = str(mine[0].params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    status = {v: k for k, v in PARTSTAT.items()}.get(partstat)
    if status is None:
        raise ApiError(422, f"PARTSTAT {partstat} is not an answer here (ACCEPTED, DECLINED or TENTATIVE)")
    stored = db.execute("SELECT status FROM attendees WHERE event = ? AND username = ?", (e["id"], user)).fetchone()[0]
    if status != stored and status != "needs-action":
        comment = mine[0].params.get("X-RESPONSE-COMMENT")
        api.answer(b, db, user, e["id"], _model(RespondIn, status=status, comment=str(comment) if comment else None))


# ------------------------------------------------------------------------------------------------ routes
def _delete(b: CalendarBackend, request: Request, path: str) -> Response:
    from airgap.envs.backends.calendar import api

    user = dav_user(request, b)
    kind, name = _resolve(path, user)
    if kind != "item":
        raise ApiError(403, "only events can be deleted here (a calendar collection cannot)")
    with b.write(request) as db:
        e = _by_uid(db, user, _uid_of(name or ""))
        if e is None:
            raise ApiError(404, f"{path} not found")
        match = request.headers.get("if-match")
        if match is not None and match.strip() != "*" and etag(render(b, db, e)) not in match:
            raise ApiError(412, "If-Match does not match the event's ETag", "precondition_failed")
        if e["organizer"] != user:
            raise ApiError(403, "you are invited, not the organizer: decline with PARTSTAT=DECLINED on your ATTENDEE "
                                "line (PUT) instead of deleting", "forbidden")
        api.cancel(b, db, user, e["id"])
    return Response(status_code=204, headers={"DAV": DAV_HEADER})


def _get(b: CalendarBackend, request: Request, path: str, head: bool) -> Response:
    user = dav_user(request, b)
    kind, name = _resolve(path, user)
    if kind != "item":
        raise ApiError(405, "GET an event resource (<UID>.ics); list a collection with PROPFIND or REPORT")
    with b.read() as db:
        e = _by_uid(db, user, _uid_of(name or ""))
        if e is None:
            raise ApiError(404, f"{path} not found")
        data = render(b, db, e)
    return Response(b"" if head else data, media_type=ICS_TYPE, headers={"ETag": etag(data), "DAV": DAV_HEADER})


@dav.api_route("/.well-known/caldav", methods=["GET", "HEAD", "PROPFIND", "OPTIONS"])
async def well_known() -> Response:
    """RFC 6764: the CalDAV context path."""
    return Response(status_code=301, headers={"Location": "/dav/"})


@dav.api_route("/", methods=["PROPFIND", "OPTIONS"])
@dav.api_route("/dav", methods=["PROPFIND", "OPTIONS", "REPORT"])
@dav.api_route("/dav/{rest:path}", methods=["PROPFIND", "OPTIONS", "REPORT", "GET", "HEAD", "PUT", "DELETE"])
async def dav_request(request: Request) -> Response:
    """Every CalDAV method on every DAV path (one handler: the path says which resource)."""
    b: CalendarBackend = current_backend(request)
    method = request.method
    path = (request.scope.get("raw_path") or b"").decode("latin-1") or quote(request.url.path)
    if method == "OPTIONS":
        return Response(status_code=200, headers={"DAV": DAV_HEADER, "Allow": ALLOW})
    raw = await request.body()
    if method == "PROPFIND":
        depth = request.headers.get("depth", "infinity").strip().lower()
        if depth not in ("0", "1", "infinity"):
            raise ApiError(400, f"Depth {depth!r}: 0, 1 or infinity")
        return await run_in_threadpool(_propfind, b, request, path, depth, raw)
    if method == "REPORT":
        return await run_in_threadpool(_report, b, request, path, raw)
    if method in ("GET", "HEAD"):
        return await run_in_threadpool(_get, b, request, path, method == "HEAD")
    if method == "PUT":
        return await run_in_threadpool(_put, b, request, path, raw)
    return await run_in_threadpool(_delete, b, request, path)

