"""Calendar: time zones, invitations, free/busy, organiser rights, visibility."""
from __future__ import annotations

from airgap.envs.common import parse_iso


def test_events_in_my_zone_and_in_another(api, facts):
    me = facts.people[2]
    a = api("calendar", me.username)
    mine = a.get("/api/events").json()
    assert mine["events"], "the fixture gives everyone upcoming meetings"
    e = mine["events"][0]
    assert e["display_timezone"] == me.timezone
    assert parse_iso(e["start_local"]) == parse_iso(e["start"])  # same instant, other wall clock
    tokyo = a.get(f"/api/events/{e['id']}", params={"tz": "Asia/Tokyo"}).json()
    assert tokyo["start_local"].endswith("+09:00") and tokyo["start"] == e["start"]
    assert a.get("/api/events", params={"tz": "Mars/Olympus"}).status_code == 422


def test_naive_times_are_read_in_the_given_zone(api, facts):
    a = api("calendar", facts.people[2].username)
    r = a.post("/api/events", json={"title": "Berlin call", "start": "2031-05-06T10:00:00", "end": "2031-05-06T10:30:00",
                                    "timezone": "Europe/Berlin"})
    assert r.status_code == 201
    assert r.json()["start"] == "2031-05-06T08:00:00Z"  # CEST is UTC+2 in May
    r = a.post("/api/events", json={"title": "Offset given", "start": "2031-12-06T10:00:00-05:00",
                                    "end": "2031-12-06T11:00:00-05:00", "timezone": "Europe/Berlin"})
    assert r.json()["start"] == "2031-12-06T15:00:00Z"
    assert a.post("/api/events", json={"title": "x", "start": "2031-05-06T11:00:00", "end": "2031-05-06T10:00:00"}
                  ).status_code == 422


def test_invitation_accept_decline_and_organizer_view(api, facts):
    org, x, y = (p.username for p in facts.people[5:8])
    a = api("calendar", org)
    ev = a.post("/api/events", json={"title": "Budget", "start": "2031-01-07T15:00:00Z", "end": "2031-01-07T16:00:00Z",
                                     "attendees": [x, facts.person(y).email, org]}).json()
    assert {t["username"]: t["status"] for t in ev["attendees"]} == {x: "needs-action", y: "needs-action"}
    bx, by = api("calendar", x), api("calendar", y)
    assert any(i["id"] == ev["id"] for i in bx.get("/api/invitations").json())
    assert bx.post(f"/api/events/{ev['id']}/respond", json={"status": "accepted"}).json()["my_status"] == "accepted"
    by.post(f"/api/events/{ev['id']}/respond", json={"status": "declined", "comment": "travelling"})
    seen = {t["username"]: (t["status"], t["comment"]) for t in a.get(f"/api/events/{ev['id']}").json()["attendees"]}
    assert seen == {x: ("accepted", None), y: ("declined", "travelling")}
    assert not any(i["id"] == ev["id"] for i in bx.get("/api/invitations").json())
    assert a.post(f"/api/events/{ev['id']}/respond", json={"status": "accepted"}).status_code == 422
    assert bx.post(f"/api/events/{ev['id']}/respond", json={"status": "maybe"}).status_code == 422
    # only the organiser edits; moving the event asks everyone again
    assert bx.patch(f"/api/events/{ev['id']}", json={"title": "Mine now"}).status_code == 403
    moved = a.patch(f"/api/events/{ev['id']}", json={"start": "2031-01-08T15:00:00Z", "end": "2031-01-08T16:00:00Z"})
    assert {t["status"] for t in moved.json()["attendees"]} == {"needs-action"}
    assert bx.delete(f"/api/events/{ev['id']}").status_code == 403
    assert a.delete(f"/api/events/{ev['id']}").json()["status"] == "cancelled"
    assert all(e["id"] != ev["id"] for e in bx.get("/api/events", params={"start": "2031-01-01T00:00:00Z"}).json()["events"])


def test_freebusy_merges_busy_time_ignores_declines_and_hides_details(api, facts):
    x, y = facts.people[8].username, facts.people[9].username
    a = api("calendar", x)
    for s, e in [("09:00", "10:00"), ("09:30", "11:00"), ("14:00", "15:00")]:
        a.post("/api/events", json={"title": "Secret project", "start": f"2032-03-03T{s}:00Z", "end": f"2032-03-03T{e}:00Z"})
    ev = api("calendar", y).post("/api/events", json={"title": "Y's thing", "start": "2032-03-03T12:00:00Z",
                                                      "end": "2032-03-03T13:00:00Z", "attendees": [x]}).json()
    a.post(f"/api/events/{ev['id']}/respond", json={"status": "declined"})
    fb = api("calendar", y).post("/api/freebusy", json={"users": [x, y], "start": "2032-03-03T00:00:00Z",
                                                        "end": "2032-03-04T00:00:00Z", "timezone": "UTC"})
    assert fb.status_code == 200
    busy = fb.json()["busy"]
    assert [(b["start"], b["end"]) for b in busy[x]] == [("2032-03-03T09:00:00Z", "2032-03-03T11:00:00Z"),
                                                         ("2032-03-03T14:00:00Z", "2032-03-03T15:00:00Z")]
    assert [(b["start"], b["end"]) for b in busy[y]] == [("2032-03-03T12:00:00Z", "2032-03-03T13:00:00Z")]
    assert "Secret project" not in fb.text
    assert api("calendar", y).post("/api/freebusy", json={"users": ["nobody"], "start": "2032-03-03T00:00:00Z",
                                                           "end": "2032-03-04T00:00:00Z"}).status_code == 422


def test_events_of_others_are_not_found(api, facts, backends):
    rows = backends["calendar"].state()["tables"]
    solo = next(e for e in rows["events"] if not any(a["event"] == e["id"] for a in rows["attendees"]))
    stranger = next(p.username for p in facts.people if p.username != solo["organizer"])
    r = api("calendar", stranger).get(f"/api/events/{solo['id']}")
    assert r.status_code == 404 and solo["title"] not in r.text
    assert api("calendar", stranger).patch(f"/api/events/{solo['id']}", json={"title": "x"}).status_code == 404
    assert api("calendar", solo["organizer"]).get(f"/api/events/{solo['id']}").status_code == 200


def test_agenda_page(api, facts, backends):
    me = facts.people[2].username
    r = api("calendar").get("/", params={"token": backends["calendar"].token(me)})
    assert r.status_code == 200 and "Week of" in r.text and me in r.text
