"""CalDAV and Slack's Web API from inside a real sandbox, through the gateway, in one episode.

The sandbox image has curl and python3-requests but neither ``caldav`` nor ``slack_sdk``, and nothing is installed
into it at test time: the sandbox sends, with curl, the requests those libraries send (caldav: PROPFIND for the
principal after the well-known redirect, PUT of an iCalendar object, REPORT calendar-query with a time range;
slack_sdk: a JSON chat.postMessage with the token in the Authorization header, a form-encoded read with the token as
an argument). The libraries themselves are run unchanged on the host against the same apps over real sockets in
tests/backends/test_backend_caldav_slack.py. Each write is checked through the JSON API from inside the sandbox and as
a ``backend_change`` in the episode log, and graded on the final state like any task."""
from __future__ import annotations

import shlex

import pytest
import yaml

from airgap.envs.env import AirgapEnv
from airgap.envs.logs import read_log, verify
from airgap.envs.world import world_facts

UID = "sandbox-caldav-0001@example.org"


def _ics(organizer_email: str) -> str:
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example Corp.//CalDAV Client//EN", "BEGIN:VEVENT", f"UID:{UID}",
        "DTSTAMP:20250318T120000Z", "DTSTART;TZID=Europe/Berlin:20310203T100000",
        "DTEND;TZID=Europe/Berlin:20310203T110000", "SUMMARY:Vendor review (CalDAV)",
        f"ORGANIZER:mailto:{organizer_email}", "RRULE:FREQ=WEEKLY;COUNT=3", "END:VEVENT", "END:VCALENDAR", ""])


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    f = world_facts(0)
    user = f.people[2]
    suite = {
        "suite": "protocols", "version": 1,
        "world": {"snapshot": "none", "backends": ["calendar", "chat"], "world_seed": 0, "tools": ["shell", "submit"],
                  "sandbox": {"memory": "256m"}},
        "budget": {"max_steps": 12, "tool_timeout": 30, "total_tool_seconds": 200},
        "tasks": [{
            "id": "dav-slack", "kind": "calendar",
            "instruction": f"You are {user.username}. Add a weekly vendor review to your calendar and tell #general.",
            "graders": [{"type": "backend_state", "expect": [
                {"backend": "calendar", "table": "events", "op": "insert",
                 "where": {"uid": UID, "title": "Vendor review (CalDAV)", "timezone": "Europe/Berlin",
                           "start": "2031-02-03T09:00:00Z"}},
                {"backend": "chat", "table": "messages", "op": "insert", "where": {"text": "Vendor review is booked"}}]}],
            "oracle": [{"tool": "submit", "args": {"answer": "done"}}],
        }],
    }
    path = tmp_path_factory.mktemp("suite") / "protocols.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return {"path": str(path), "facts": f, "user": user, "cal": f"https://calendar.{f.org.domain}",
            "chat": f"https://chat.{f.org.domain}", "cal_token": f.token("calendar", user.username),
            "chat_token": f.token("chat", user.username)}


def test_caldav_and_slack_requests_from_inside_the_sandbox(suite, sandbox_image, tmp_path):
    s = suite
    env = AirgapEnv(suite=s["path"], log_dir=str(tmp_path), sandbox="fresh")
    try:
        env.reset(seed=0, options={"task_id": "dav-slack"})

        def sh(cmd: str) -> str:
            obs, *_ = env.step({"tool": "shell", "args": {"command": cmd}})
            return obs

        login = shlex.quote(f"{s['user'].username}:{s['cal_token']}")
        # caldav's discovery: PROPFIND current-user-principal at the well-known URL (curl -L keeps the method)
        find = ('<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>')
        out = sh(f"curl -sL -X PROPFIND -H 'Depth: 0' -u {login} --data {shlex.quote(find)} {s['cal']}/.well-known/caldav")
        assert f"/dav/principals/{s['user'].username}/" in out, out
        # caldav's save_event: PUT <UID>.ics, If-None-Match: * (create only)
        href = f"{s['cal']}/dav/calendars/{s['user'].username}/events/{UID}.ics"
        ics = shlex.quote(_ics(s["user"].email))
        out = sh(f"printf %s {ics} > /tmp/ev.ics && curl -s -o /dev/null -w '%{{http_code}} %header{{etag}}' -X PUT "
                 f"-u {login} -H 'Content-Type: text/calendar; charset=utf-8' -H 'If-None-Match: *' "
                 f"--data-binary @/tmp/ev.ics {href}")
        assert out.splitlines()[-1].startswith('201 "'), out
        # caldav's date search: REPORT calendar-query with a time range (the second instance, a week later)
        query = ('<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/>'
                 '<c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
                 '<c:time-range start="20310210T000000Z" end="20310211T000000Z"/></c:comp-filter></c:comp-filter>'
                 '</c:filter></c:calendar-query>')
        out = sh(f"curl -s -X REPORT -H 'Depth: 1' -u {login} --data {shlex.quote(query)} "
                 f"{s['cal']}/dav/calendars/{s['user'].username}/events/")
        assert UID in out and "RRULE:FREQ=WEEKLY;COUNT=3" in out, out
        # the write, through the JSON API
        out = sh(f"curl -s -H 'Authorization: Bearer {s['cal_token']}' "
                 f"'{s['cal']}/api/events?start=2031-02-09T00:00:00Z&end=2031-02-11T00:00:00Z'")
        assert "Vendor review (CalDAV)" in out and '"recurring_event_id"' in out, out
        # slack_sdk's chat_postMessage: JSON body, token in the Authorization header
        out = sh(f"curl -s -X POST -H 'Authorization: Bearer {s['chat_token']}' -H 'Content-Type: application/json; "
                 f"charset=utf-8' --data '{{\"channel\": \"general\", \"text\": \"Vendor review is booked\"}}' "
                 f"{s['chat']}/api/chat.postMessage")
        assert '"ok":true' in out, out
        # slack_sdk's conversations_history: a form-encoded POST (here with the token as a form argument, as Slack takes it)
        out = sh(f"curl -s --data-urlencode token={s['chat_token']} --data channel=general --data limit=1 "
                 f"{s['chat']}/api/conversations.history")
        assert '"ok":true' in out and "Vendor review is booked" in out, out
        obs, reward, term, trunc, info = env.step({"tool": "submit", "args": {"answer": "done"}})
        assert term and reward == 1.0, info["grades"]
        log = env.log_path
    finally:
        env.close()
    assert verify(log).ok
    _, events = read_log(log)
    changes = [(e["method"], e["path"].split("?")[0]) for e in events if e["type"] == "backend_change"]
    assert changes == [("PUT", f"/dav/calendars/{s['user'].username}/events/{UID}.ics"), ("POST", "/api/chat.postMessage")]
