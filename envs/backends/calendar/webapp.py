"""The calendar web app: a week view, invitations to answer, and forms to create, edit and cancel events.

The week (``/calendar?week=N``, in your time zone) shows each day's events and the invitations waiting for an
answer; an event's page shows when, where, who and their answers, with Accept / Maybe / Decline for an invitee and
Edit / Cancel (after a confirmation) for its organiser. Times are typed as a date and local times in a chosen zone,
as the API reads naive times. Server-rendered forms (``pages/web_*.html.j2``); every write calls the JSON API's
handler in ``api.py``, so its rows and ``backend_change`` event are the API's (named as that call, ``via: web``)."""
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from airgap.envs.backends.calendar import CalendarBackend, api, zone
from airgap.envs.backends.calendar.model import EventIn, EventPatch, RespondIn
from airgap.envs.backends.web import ApiError, PageError, current_backend
from airgap.envs.backends.webapp import WebApp, api_origin, build, call_api, read_form, redirect, split_list, text
from airgap.envs.common import iso

APP = WebApp(
    brand=lambda b: f"{b.facts.org.name} Calendar",
    home="/calendar",
    nav=[("/calendar", "Week"), ("/calendar/new", "New event"), ("/calendar/invitations", "Invitations")],
    accent="#1a73e8",
    notices={"created": "The event was created; invitations were sent.", "saved": "The event was saved.",
             "answered": "Your answer was sent.", "cancelled": "The event was cancelled."},
)
Cal = Annotated[CalendarBackend, Depends(current_backend)]
WebUser = Annotated[str, Depends(APP.user)]
web = APIRouter(include_in_schema=False)
LABELS = {"title": "Title", "start": "Start", "end": "End", "timezone": "Time zone", "location": "Location",
          "description": "Description", "attendees": "Guests", "add_attendees": "Guests", "status": "Answer",
          "comment": "Comment"}


def _on(e: dict[str, Any], day: str) -> bool:
    """Whether event ``e`` (local times) takes part of ``day`` (an event ending at midnight is not on the next day)."""
    start, end = e["start_local"][:10], e["end_local"][:10]
    return start == day or start < day < end or (day == end and e["end_local"][11:16] != "00:00")


@web.get("/calendar", response_class=HTMLResponse)
def week(b: Cal, request: Request, user: WebUser, week: Annotated[int, Query(ge=-520, le=520)] = 0) -> HTMLResponse:
    """A week (this one, or ``week`` weeks away), Monday to Sunday in your zone, and your open invitations."""
    with b.read() as db:
        tz_name = b._tz_of(db, user)
        z = zone(tz_name)
        now = b.now(db).astimezone(z)
        monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0) \
            + timedelta(weeks=week)
        evs = b.events_between(db, user, iso(monday), iso(monday + timedelta(days=7)), tz_name)
    days = []
    for i in range(7):
        d = (monday + timedelta(days=i)).date().isoformat()
        days.append({"date": d, "label": (monday + timedelta(days=i)).strftime("%a %d %b"),
                     "today": d == now.date().isoformat(), "events": [e for e in evs if _on(e, d)]})
    title = f"Week of {monday.strftime('%d %B %Y')}"
    return APP.page(request, "calendar/web_week.html.j2", title, user, days=days, week=week, tz_name=tz_name)


@web.get("/calendar/invitations", response_class=HTMLResponse)
def invitations(b: Cal, request: Request, user: WebUser) -> HTMLResponse:
    """Upcoming invitations you have not answered."""
    rows = api.invitations(b, user, None)
    return APP.page(request, "calendar/web_invitations.html.j2", "Invitations", user, rows=rows)


def _event(b: CalendarBackend, user: str, event_id: int, tz: str | None = None) -> dict[str, Any]:
    with b.read() as db:
        ev = b._visible(db, user, event_id)
        return b._out(db, ev, user, tz or b._tz_of(db, user))


def _event_page(request: Request, b: CalendarBackend, user: str, event_id: int, errors: Any = None,
                status: int = 200, v: dict[str, Any] | None = None) -> HTMLResponse:
    e = _event(b, user, event_id)
    return APP.page(request, "calendar/web_event.html.j2", e["title"], user, status=status, errors=errors, e=e,
                    v=v or {"status": e["my_status"]}, current="/calendar")


@web.get("/calendar/event/{event_id}", response_class=HTMLResponse)
def event(b: Cal, event_id: api.EventId, request: Request, user: WebUser) -> HTMLResponse:
    """One event: when, where, who, answers; answer it (invitee) or edit / cancel it (organiser)."""
    return _event_page(request, b, user, event_id)


# ------------------------------------------------------------------------------------------------ create / edit
def _form(request: Request, b: CalendarBackend, user: str, v: dict[str, Any], event_id: int | None = None,
          errors: Any = None, status: int = 200) -> HTMLResponse:
    with b.read() as db:
        zones = sorted({r[0] for r in db.execute("SELECT timezone FROM calendars")} | {v.get("timezone") or "UTC"})
    title = "Edit event" if event_id else "New event"
    return APP.page(request, "calendar/web_form.html.j2", title, user, status=status, errors=errors, v=v,
                    event_id=event_id, zones=zones, current="/calendar/new" if not event_id else "/calendar")


@web.get("/calendar/new", response_class=HTMLResponse)
def new_form(b: Cal, request: Request, user: WebUser, date: Annotated[str | None, Query(max_length=10)] = None
             ) -> HTMLResponse:
    """The new-event form (``date``: a day to start on)."""
    with b.read() as db:
        tz = b._tz_of(db, user)
        today = b.now(db).astimezone(zone(tz)).date().isoformat()
    return _form(request, b, user, {"date": date or today, "start_time": "09:00", "end_time": "10:00", "timezone": tz,
                                    "title": "", "location": "", "description": "", "attendees": ""})


def _times(v: dict[str, str]) -> tuple[str | None, str | None, dict[str, str]]:
    errors = {}
    date, end_date = v["date"].strip(), (v.get("end_date") or v["date"]).strip()
    if not date:
        errors["date"] = "Date: choose the day"
    for k in ("start_time", "end_time"):
        if not v[k].strip():
            errors[k] = f"{'Start' if k == 'start_time' else 'End'} time: enter a time like 14:30"
    if errors:
        return None, None, errors
    return f"{date}T{v['start_time'].strip()}", f"{end_date}T{v['end_time'].strip()}", {}


FIELDS = ("title", "date", "end_date", "start_time", "end_time", "timezone", "location", "description", "attendees")


@web.post("/calendar/new", response_class=HTMLResponse)
async def create(b: Cal, request: Request, user: WebUser) -> Response:
    """Create the event (the API's POST /api/events): guests are invited."""
    form = await read_form(request)
    v = {k: text(form, k) for k in FIELDS}
    start, end, errors = _times(v)
    body, model_errs = build(EventIn, {"title": v["title"].strip(), "start": start or "x", "end": end or "x",
                                       "timezone": v["timezone"] or None, "location": v["location"],
                                       "description": v["description"], "attendees": split_list(v["attendees"])},
                             LABELS)
    errors = {**{k: m for k, m in model_errs.items() if not (errors and k in ("start", "end"))}, **errors}
    if errors or body is None:
        return _form(request, b, user, v, None, errors, 422)
    api_origin(request, "POST", "/api/events", 201)
    e, refused = await call_api(request, api.create_event, b, body, user, request)
    if refused:
        return _form(request, b, user, v, None, [refused], 422)
    return redirect(f"/calendar/event/{e['id']}", notice="created")


@web.get("/calendar/event/{event_id}/edit", response_class=HTMLResponse)
def edit_form(b: Cal, event_id: api.EventId, request: Request, user: WebUser) -> HTMLResponse:
    """The edit form of an event you organise, in the event's own zone."""
    with b.read() as db:
        tz = b._visible(db, user, event_id)["timezone"]
    e = _event(b, user, event_id, tz)
    if e["my_status"] != "organizer":
        raise PageError(403, "Only the organizer can edit this event; answer the invitation instead.")
    v = {"title": e["title"], "date": e["start_local"][:10], "end_date": e["end_local"][:10],
         "start_time": e["start_local"][11:16], "end_time": e["end_local"][11:16], "timezone": e["timezone"],
         "location": e["location"], "description": e["description"],
         "attendees": ", ".join(a["email"] for a in e["attendees"])}
    return _form(request, b, user, v, event_id)


@web.post("/calendar/event/{event_id}/edit", response_class=HTMLResponse)
async def edit(b: Cal, event_id: api.EventId, request: Request, user: WebUser) -> Response:
    """Save the changes (the API's PATCH /api/events/{id}: only what changed; guests added and removed)."""
    form = await read_form(request)
    v = {k: text(form, k) for k in FIELDS}
    with b.read() as db:
        tz = b._visible(db, user, event_id)["timezone"]
    e = _event(b, user, event_id, tz)
    start, end, errors = _times(v)
    before = {a["email"].lower(): a["username"] for a in e["attendees"]}
    typed = [a.lower() for a in split_list(v["attendees"])]
    data: dict[str, Any] = {k: v[k] for k in ("title", "location", "description") if v[k] != e[k]}
    if start and end and (start != e["start_local"][:16] or end != e["end_local"][:16] or v["timezone"] != e["timezone"]):
        data.update(start=start, end=end, timezone=v["timezone"] or None)
    data["add_attendees"] = [a for a in typed if a not in before and a not in before.values()]
    data["remove_attendees"] = [u for mail, u in before.items() if mail not in typed and u not in typed]
    body, model_errs = build(EventPatch, data, LABELS)
    errors = {**model_errs, **errors}
    if errors or body is None:
        return _form(request, b, user, v, event_id, errors, 422)
    api_origin(request, "PATCH", f"/api/events/{event_id}", 200)
    _, refused = await call_api(request, api.update_event, b, event_id, body, user, request)
    if refused:
        return _form(request, b, user, v, event_id, [refused], 422)
    return redirect(f"/calendar/event/{event_id}", notice="saved")


@web.post("/calendar/event/{event_id}/respond", response_class=HTMLResponse)
async def respond(b: Cal, event_id: api.EventId, request: Request, user: WebUser) -> Response:
    """Answer an invitation (the API's POST /api/events/{id}/respond)."""
    form = await read_form(request)
    v = {"status": text(form, "status"), "comment": text(form, "comment")}
    body, errors = build(RespondIn, {"status": v["status"], "comment": v["comment"].strip() or None}, LABELS)
    if body is None:
        return _event_page(request, b, user, event_id, errors, 422, v)
    api_origin(request, "POST", f"/api/events/{event_id}/respond", 200)
    _, refused = await call_api(request, api.respond, b, event_id, body, user, request)
    if refused:
        return _event_page(request, b, user, event_id, [refused], 422, v)
    back = text(form, "back")
    return redirect(back if back in ("/calendar", "/calendar/invitations") else f"/calendar/event/{event_id}",
                    notice="answered")


@web.get("/calendar/event/{event_id}/cancel", response_class=HTMLResponse)
def cancel_confirm(b: Cal, event_id: api.EventId, request: Request, user: WebUser) -> HTMLResponse:
    """The confirmation step before an event is cancelled for everyone."""
    e = _event(b, user, event_id)
    if e["my_status"] != "organizer":
        raise PageError(403, "Only the organizer can cancel this event; decline it instead.")
    return APP.page(request, "calendar/web_cancel.html.j2", f"Cancel “{e['title']}”?", user, e=e, current="/calendar")


@web.post("/calendar/event/{event_id}/cancel", response_class=HTMLResponse)
async def cancel(b: Cal, event_id: api.EventId, request: Request, user: WebUser) -> Response:
    """Cancel it (the API's DELETE /api/events/{id})."""
    await read_form(request)
    api_origin(request, "DELETE", f"/api/events/{event_id}", 200)
    _, refused = await call_api(request, api.cancel_event, b, event_id, user, request)
    if refused:
        try:
            return _event_page(request, b, user, event_id, [refused], 403)
        except ApiError:
            raise PageError(404, refused) from None
    return redirect(f"/calendar/event/{event_id}", notice="cancelled")


routers = [APP.login_router("Your calendar access token."), web]
