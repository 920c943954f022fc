"""The real clients, unchanged, against the calendar and chat backends over real loopback sockets: the ``caldav``
library (CalDAV: discovery, list, range search with recurrences, create, edit, delete, answer an invitation) and
``slack_sdk``'s ``WebClient`` (every chat method the backend has). Each write is checked through the JSON API, and a
CalDAV write is checked to be the same rows (the same change event) as the JSON API's. The in-sandbox path (curl
through the gateway) is tests/envs/test_caldav_slack_sandbox.py."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import caldav  # test dependency (pip install -e ".[test]")
import icalendar
import pytest
import requests
from backend_support import LiveServer
from caldav.lib import error as caldav_error
from caldav.requests import HTTPBearerAuth
from slack_sdk import WebClient  # test dependency
from slack_sdk.errors import SlackApiError

from airgap.envs.backends import make_backends

UTC = timezone.utc


@pytest.fixture(scope="module")
def two(facts):
    """The calendar and chat backends of world 0 (built once for the module)."""
    return make_backends(["calendar", "chat"], facts)


@pytest.fixture(scope="module")
def servers(two):
    with LiveServer(two["calendar"].app) as cal, LiveServer(two["chat"].app) as chat:
        yield {"calendar": cal.url, "chat": chat.url}


@pytest.fixture
def world(two, servers):
    """Both backends back at their fixture, their change events collected in ``changes``."""
    changes: list[dict] = []
    for b in two.values():
        b.reset()
        b.on_change = changes.append
    yield {"b": two, "url": servers, "changes": changes}
    for b in two.values():
        b.on_change = None


def _json(world, user: str, method: str, path: str, **kw):
    b = world["b"]["calendar"]
    r = requests.request(method, world["url"]["calendar"] + path, headers={"Authorization": f"Bearer {b.token(user)}"},
                         timeout=10, **kw)
    assert r.status_code < 300, r.text
    return r.json()


def _dav(world, user: str, **kw) -> caldav.DAVClient:
    b = world["b"]["calendar"]
    return caldav.DAVClient(url=world["url"]["calendar"] + "/", username=user, password=b.token(user), **kw)


def _calendar(client: caldav.DAVClient):
    cals = client.principal().calendars()
    assert len(cals) == 1
    return cals[0]


def _save(cal, **props):
    """caldav's save_event with an iCalendar object made by the icalendar library (caldav 2.0's own keyword form
    builds it through an icalendar 6 internal that icalendar 7 no longer has)."""
    ev = icalendar.Event()
    ev.add("uid", str(uuid.uuid4()))
    ev.add("dtstamp", datetime(2025, 1, 1, tzinfo=UTC))
    for k, v in props.items():
        ev.add(k, v)
    c = icalendar.Calendar()
    c.add("prodid", "-//test//caldav//EN")
    c.add("version", "2.0")
    c.add_component(ev)
    return cal.save_event(c.to_ical().decode())


def _invitation(world, facts):
    """(attendee, event row) of an upcoming single event the attendee has not answered yet."""
    st = world["b"]["calendar"].state()["tables"]
    rows = {e["id"]: e for e in st["events"]}
    a = next(a for a in st["attendees"] if a["status"] == "needs-action" and rows[a["event"]]["end"] > facts.now
             and rows[a["event"]]["recurrence"] is None)
    return a["username"], rows[a["event"]]


# ------------------------------------------------------------------------------------------------ CalDAV
def test_caldav_discovery_and_listing_match_the_json_api(world, facts):
    user = facts.people[2].username
    client = _dav(world, user)
    principal = client.principal()
    assert str(principal.url).endswith(f"/dav/principals/{user}/")
    assert [str(a) for a in principal.calendar_user_address_set()][0] == f"mailto:{facts.person(user).email}"
    cal = _calendar(client)
    assert str(cal.url).endswith(f"/dav/calendars/{user}/events/")
    uids = sorted(e.icalendar_component["uid"] for e in cal.events())
    st = world["b"]["calendar"].state()["tables"]
    mine = {a["event"] for a in st["attendees"] if a["username"] == user}
    expected = sorted(e["uid"] for e in st["events"] if e["status"] == "confirmed" and
                      (e["organizer"] == user or e["id"] in mine))
    assert uids == expected and uids
    # RFC 6764 discovery: the well-known path redirects to the DAV root, which names the principal
    r = requests.request("PROPFIND", world["url"]["calendar"] + "/.well-known/caldav", headers={"Depth": "0"},
                         auth=(user, world["b"]["calendar"].token(user)), timeout=10)
    assert r.status_code == 207 and f"/dav/principals/{user}/" in r.text and r.url.endswith("/dav/")
    opts = requests.options(world["url"]["calendar"] + "/dav/", timeout=10)
    assert "calendar-access" in opts.headers["DAV"] and "REPORT" in opts.headers["Allow"]
    assert world["changes"] == []  # reads write nothing


def test_caldav_auth_is_the_users_calendar_token_or_password(world, facts):
    p = facts.people[2]
    b = world["b"]["calendar"]
    by_email = caldav.DAVClient(url=world["url"]["calendar"] + "/dav/", username=p.email, password=b.token(p.username))
    assert str(by_email.principal().url).endswith(f"/dav/principals/{p.username}/")
    bearer = caldav.DAVClient(url=world["url"]["calendar"] + "/dav/", auth=HTTPBearerAuth(b.token(p.username)))
    assert str(bearer.principal().url).endswith(f"/dav/principals/{p.username}/")
    pw = caldav.DAVClient(url=world["url"]["calendar"] + "/", username=p.username,
                          password=facts.credentials_for(p.username).password)
    assert len(_calendar(pw).events()) > 0
    wrong = requests.request("PROPFIND", world["url"]["calendar"] + "/dav/", auth=(p.username, "cal_wrong"), timeout=10)
    assert wrong.status_code == 401 and "Basic" in wrong.headers["WWW-Authenticate"]
    # another person's token with this person's name, and another person's calendar: refused, 401 and 404
    other = facts.people[3].username
    assert requests.request("PROPFIND", world["url"]["calendar"] + "/dav/", auth=(p.username, b.token(other)),
                            timeout=10).status_code == 401
    r = requests.request("PROPFIND", world["url"]["calendar"] + f"/dav/calendars/{other}/events/", headers={"Depth": "1"},
                         auth=(p.username, b.token(p.username)), timeout=10)
    assert r.status_code == 404


def test_caldav_create_is_the_same_rows_as_the_json_api(world, facts):
    """The same event made through POST /api/events and through caldav's save_event: the same change event, row for
    row (only the UID differs: the client chooses it in CalDAV)."""
    org, guest = facts.people[2], facts.people[3]
    body = {"title": "Quarterly planning", "start": "2031-02-03T10:00:00+01:00", "end": "2031-02-03T11:30:00+01:00",
            "timezone": "Europe/Berlin", "location": "Room 4", "description": "Bring the numbers.",
            "attendees": [guest.email], "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=MO"]}
    made = _json(world, org.username, "POST", "/api/events", json=body)
    by_json = world["changes"][-1]
    world["b"]["calendar"].reset()
    cal = _calendar(_dav(world, org.username))
    berlin = ZoneInfo("Europe/Berlin")
    ev = _save(cal, dtstart=datetime(2031, 2, 3, 10, tzinfo=berlin), dtend=datetime(2031, 2, 3, 11, 30, tzinfo=berlin),
               summary="Quarterly planning", location="Room 4", description="Bring the numbers.",
               rrule={"FREQ": "WEEKLY", "COUNT": 4, "BYDAY": "MO"})
    ev.icalendar_component.add("attendee", f"mailto:{guest.email}")
    ev.save()
    by_dav = [c for c in world["changes"] if c["method"] == "PUT"]
    assert [c["status"] for c in by_dav] == [201, 204] and by_dav[0]["path"].startswith(f"/dav/calendars/{org.username}/")
    rows = {(r["table"], r["id"]): r["after"] for c in by_dav for r in c["changes"]}
    want = {(r["table"], r["id"]): r["after"] for r in by_json["changes"]}
    assert set(rows) == set(want)
    for key, after in want.items():
        got = dict(rows[key])
        if key[0] == "events":
            assert got.pop("uid") == ev.icalendar_component["uid"] and after.pop("uid") == made["uid"]
            got.pop("updated"), after.pop("updated")  # the attendee came in a second write: a later clock
        assert got == after, key
    seen = _json(world, org.username, "GET", f"/api/events/{made['id']}")
    assert seen["title"] == "Quarterly planning" and seen["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=MO"]
    assert [a["email"] for a in seen["attendees"]] == [guest.email] and seen["start"] == "2031-02-03T09:00:00Z"


def test_caldav_range_search_uses_the_backends_recurrence_expansion(world, facts):
    user = facts.people[2].username
    series = _json(world, user, "POST", "/api/events", json={
        "title": "Standup", "start": "2031-03-03T09:00:00", "end": "2031-03-03T09:15:00", "timezone": "America/New_York",
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=10", "EXDATE:20310305T140000Z"]})
    sid = series["id"]
    _json(world, user, "PATCH", f"/api/events/{sid}/instances/20310306T140000Z", json={
        "start": "2031-03-06T11:00:00-05:00", "end": "2031-03-06T11:15:00-05:00", "title": "Standup (late)"})
    _json(world, user, "DELETE", f"/api/events/{sid}/instances/20310307T140000Z")
    listed = _json(world, user, "GET", "/api/events", params={"start": "2031-03-04T00:00:00Z", "end": "2031-03-09T00:00:00Z"})
    want = sorted((e["start"], e["title"]) for e in listed["events"] if e["id"] == sid)
    cal = _calendar(_dav(world, user))
    for server_expand in (False, True):
        found = cal.search(start=datetime(2031, 3, 4, tzinfo=UTC), end=datetime(2031, 3, 9, tzinfo=UTC), event=True,
                           expand=True, server_expand=server_expand)
        got = sorted((c.icalendar_component["dtstart"].dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      str(c.icalendar_component["summary"])) for c in found
                     if c.icalendar_component["uid"] == series["uid"])
        assert got == want, server_expand
    assert ("2031-03-06T16:00:00Z", "Standup (late)") in want and len(want) == 3  # 4th, 6th (moved), 8th
    # a range with no instance of the series does not return it; the series resource holds its rule and exceptions
    empty = cal.search(start=datetime(2031, 4, 1, tzinfo=UTC), end=datetime(2031, 4, 2, tzinfo=UTC), event=True)
    assert series["uid"] not in {str(c.icalendar_component["uid"]) for c in empty}
    whole = cal.event_by_uid(series["uid"]).icalendar_instance
    masters = [c for c in whole.walk("VEVENT") if c.get("recurrence-id") is None]
    assert masters[0]["rrule"].to_ical() == b"FREQ=DAILY;COUNT=10" and len(whole.walk("VEVENT")) == 2


def test_caldav_edit_one_instance_move_and_delete(world, facts):
    user = facts.people[2].username
    cal = _calendar(_dav(world, user))
    ny = ZoneInfo("America/New_York")
    ev = _save(cal, dtstart=datetime(2031, 3, 3, 9, tzinfo=ny), dtend=datetime(2031, 3, 3, 9, 30, tzinfo=ny),
               summary="Sync", rrule={"FREQ": "DAILY", "COUNT": 5})
    eid = world["changes"][-1]["changes"][0]["id"]
    # one occurrence, as the client expands it, renamed: an exception of the series, the others untouched
    occ = cal.search(start=datetime(2031, 3, 4, tzinfo=UTC), end=datetime(2031, 3, 5, tzinfo=UTC), event=True,
                     expand=True)[0]
    occ.icalendar_component["summary"] = "Sync (with sales)"
    occ.save(only_this_recurrence=True)
    assert [(r["table"], r["op"]) for r in world["changes"][-1]["changes"]] == [("event_exceptions", "insert")]
    inst = _json(world, user, "GET", f"/api/events/{eid}/instances", params={"start": "2031-03-03T00:00:00Z",
                                                                             "end": "2031-03-09T00:00:00Z"})["events"]
    assert [i["title"] for i in sorted(inst, key=lambda i: i["start"])] == ["Sync", "Sync (with sales)", "Sync", "Sync",
                                                                              "Sync"]
    # move the whole event an hour later (the JSON API's PATCH: the series moves, its exceptions go)
    master = cal.event_by_uid(ev.id)
    comp = master.icalendar_component
    comp["dtstart"].dt = datetime(2031, 3, 3, 10, tzinfo=ny)
    comp["dtend"].dt = datetime(2031, 3, 3, 10, 30, tzinfo=ny)
    master.save()
    seen = _json(world, user, "GET", f"/api/events/{eid}")
    assert seen["start"] == "2031-03-03T15:00:00Z" and seen["end"] == "2031-03-03T15:30:00Z"
    # a stale ETag is refused (412), nothing written
    n = len(world["changes"])
    stale = requests.put(str(master.url), data=master.data.replace("Sync", "Stale"), auth=(user, _tok(world, user)),
                         headers={"If-Match": '"0000"', "Content-Type": "text/calendar"}, timeout=10)
    assert stale.status_code == 412 and len(world["changes"]) == n
    # delete: the organiser's cancel; gone from CalDAV, cancelled in the JSON API
    cal.event_by_uid(ev.id).delete()
    assert _json(world, user, "GET", f"/api/events/{eid}")["status"] == "cancelled"
    with pytest.raises(caldav_error.NotFoundError):
        cal.event_by_uid(ev.id)


def _tok(world, user: str) -> str:
    return world["b"]["calendar"].token(user)


def test_caldav_answer_an_invitation(world, facts):
    user, row = _invitation(world, facts)
    cal = _calendar(_dav(world, user))
    ev = cal.event_by_uid(row["uid"])
    ev.change_attendee_status(partstat="ACCEPTED")
    ev.save()
    change = world["changes"][-1]
    assert [(r["table"], r["op"], r["after"]["status"]) for r in change["changes"]] == [("attendees", "update", "accepted")]
    assert _json(world, user, "GET", f"/api/events/{row['id']}")["my_status"] == "accepted"
    assert _json(world, user, "GET", "/api/invitations") == [i for i in _json(world, user, "GET", "/api/invitations")
                                                             if i["id"] != row["id"]]
    # an attendee cannot rename the organiser's event, nor delete it (decline instead)
    again = cal.event_by_uid(row["uid"])
    again.icalendar_component["summary"] = "Mine now"
    with pytest.raises(caldav_error.AuthorizationError):  # 403: only the organiser edits
        again.save()
    with pytest.raises(caldav_error.AuthorizationError):
        cal.event_by_uid(row["uid"]).delete()
    assert _json(world, user, "GET", f"/api/events/{row['id']}")["title"] == row["title"]


def test_caldav_bad_input_is_a_clear_4xx(world, facts):
    user = facts.people[2].username
    url = world["url"]["calendar"] + f"/dav/calendars/{user}/events/x.ics"
    auth = (user, _tok(world, user))
    bad = requests.put(url, data="not a calendar", auth=auth, headers={"Content-Type": "text/calendar"}, timeout=10)
    assert bad.status_code == 400 and "valid-calendar-data" in bad.text
    todo = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    r = requests.put(url, data=todo, auth=auth, headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code == 403 and "VTODO" in r.text
    ev = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:y\r\nDTSTAMP:20250101T000000Z\r\n"
          "DTSTART:20310101T100000Z\r\nDTEND:20310101T090000Z\r\nSUMMARY:backwards\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    r = requests.put(url.replace("x.ics", "y.ics"), data=ev, auth=auth, headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code == 422 and "end must be after start" in r.text
    r = requests.put(url, data=ev, auth=auth, headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code == 403 and "y.ics" in r.text  # the resource name is the UID
    r = requests.request("REPORT", url.rsplit("/", 1)[0] + "/", data="<x/>", auth=auth, timeout=10)
    assert r.status_code == 403
    assert world["changes"] == []


# ------------------------------------------------------------------------------------------------ Slack
def test_slack_sdk_webclient_works_unchanged(world, facts):
    b = world["b"]["chat"]
    me, other = facts.people[2], facts.people[3]
    client = WebClient(token=b.token(me.username), base_url=world["url"]["chat"] + "/api/")
    auth = client.auth_test()
    assert auth["ok"] and auth["user"] == me.username
    # cursor pagination in response_metadata: slack_sdk's page iterator walks every page
    users = [u for page in client.users_list(limit=7) for u in page["members"]]
    assert len(users) == len({u["id"] for u in users}) == len(b.state()["tables"]["users"])
    them = client.users_lookupByEmail(email=other.email)["user"]
    assert client.users_info(user=them["id"])["user"]["name"] == other.username
    chans = [c for page in client.conversations_list(types="public_channel,private_channel", limit=2)
             for c in page["channels"]]
    general = next(c for c in chans if c["name"] == "general")
    assert client.conversations_info(channel=general["id"])["channel"]["name"] == "general"
    assert b.user_id(me.username) in client.conversations_members(channel=general["id"])["members"]
    posted = client.chat_postMessage(channel=general["id"], text="Release notes are out")
    reply = client.chat_postMessage(channel=general["id"], text="Thanks!", thread_ts=posted["ts"])
    assert [m["text"] for m in client.conversations_replies(channel=general["id"], ts=posted["ts"])["messages"]] == \
        ["Release notes are out", "Thanks!"]
    client.chat_update(channel=general["id"], ts=posted["ts"], text="Release notes are out (v2)")
    client.reactions_add(channel=general["id"], timestamp=posted["ts"], name="tada")
    assert client.reactions_get(channel=general["id"], timestamp=posted["ts"])["message"]["reactions"][0]["name"] == "tada"
    client.reactions_remove(channel=general["id"], timestamp=posted["ts"], name="tada")
    client.chat_delete(channel=general["id"], ts=reply["ts"])
    dm = client.conversations_open(users=[them["id"]])["channel"]
    client.chat_postMessage(channel=dm["id"], text="Lunch?")
    new = client.conversations_create(name="launch-room", is_private=True)["channel"]
    assert new["is_private"] and new["id"].startswith("G")
    client.conversations_invite(channel=new["id"], users=[them["id"]])
    random = next(c for c in chans if c["name"] == "random")
    client.conversations_join(channel=random["id"])
    hist = client.conversations_history(channel=general["id"], limit=1)
    assert hist["messages"][0]["text"] == "Release notes are out (v2)" and not hist["messages"][0].get("reactions")
    # every write as the JSON API sees it (GET with a query, the API's documented shape)
    h = {"Authorization": f"Bearer {b.token(me.username)}"}
    api = lambda m, **p: requests.get(world["url"]["chat"] + f"/api/{m}", params=p, headers=h, timeout=10).json()  # noqa: E731
    assert [m["text"] for m in api("conversations.history", channel=dm["id"])["messages"]] == ["Lunch?"]
    assert set(api("conversations.members", channel=new["id"])["members"]) == {b.user_id(me.username), them["id"]}
    assert b.user_id(me.username) in api("conversations.members", channel=random["id"])["members"]
    thread = api("conversations.replies", channel=general["id"], ts=posted["ts"])["messages"]
    assert [m["text"] for m in thread] == ["Release notes are out (v2)"]
    # failures are SlackApiError with Slack's error codes
    with pytest.raises(SlackApiError) as e:
        client.conversations_info(channel="C0NOPE")
    assert e.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as e:
        WebClient(token="xoxp-1-2-wrong", base_url=world["url"]["chat"] + "/api/").auth_test()
    assert e.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as e, pytest.warns(UserWarning, match="text"):  # slack_sdk warns, then sends it
        client.chat_postMessage(channel=general["id"], text="")
    assert e.value.response["error"] == "invalid_arguments" and "text" in e.value.response["detail"]


def test_slack_encodings_form_json_and_token_argument(world, facts):
    """What slack_sdk and Slack's docs send besides the API's own shapes: a form POST to a read method, a form POST to
    a write method (typed from the body model), the token as a form argument; the JSON API's shapes are unchanged."""
    b = world["b"]["chat"]
    me = facts.people[2].username
    url = world["url"]["chat"] + "/api/"
    tok = b.token(me)
    r = requests.post(url + "auth.test", data={"token": tok}, timeout=10)
    assert r.status_code == 200 and r.json()["user"] == me
    r = requests.post(url + "conversations.history", data={"token": tok, "channel": "general", "limit": "1"}, timeout=10)
    assert r.json()["ok"] and len(r.json()["messages"]) == 1
    r = requests.post(url + "conversations.create", data={"token": tok, "name": "form-made", "is_private": "false"},
                      timeout=10)
    assert r.json()["channel"]["id"].startswith("C")
    r = requests.post(url + "chat.postMessage", json={"token": tok, "channel": "form-made", "text": "json + token"},
                      timeout=10)
    assert r.json()["ok"]
    r = requests.post(url + "conversations.create", data={"token": tok, "name": "Bad Name!"}, timeout=10)
    assert r.status_code == 422 and r.json()["error"] == "invalid_arguments" and "name" in r.json()["detail"]
    r = requests.post(url + "chat.postMessage", data={"channel": "general", "text": "no token"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "not_authed"
    assert [c["path"] for c in world["changes"]] == ["/api/conversations.create", "/api/chat.postMessage"]
    # the API's own shapes still work: GET with a query, POST with JSON and the header
    h = {"Authorization": f"Bearer {tok}"}
    assert requests.get(url + "conversations.history", params={"channel": "form-made"}, headers=h,
                        timeout=10).json()["messages"][0]["text"] == "json + token"


def test_caldav_uid_with_slash_and_at_sign(world, facts):
    """A UID is the resource name, percent-encoded ("/" too, as caldav does): stored, found and fetched as given."""
    user = facts.people[2].username
    uid = "team/review@example.org"
    ev = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20250101T000000Z\r\n"
          "DTSTART:20310101T100000Z\r\nDTEND:20310101T110000Z\r\nSUMMARY:slash\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    href = world["url"]["calendar"] + f"/dav/calendars/{user}/events/team%2Freview%40example.org.ics"
    r = requests.put(href, data=ev, auth=(user, _tok(world, user)), headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code == 201, r.text
    assert world["changes"][-1]["changes"][0]["after"]["uid"] == uid
    cal = _calendar(_dav(world, user))
    got = cal.event_by_uid(uid)
    assert str(got.icalendar_component["summary"]) == "slash"
    assert requests.get(href, auth=(user, _tok(world, user)), timeout=10).status_code == 200
