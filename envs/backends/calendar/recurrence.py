"""Recurring events: the RFC 5545 subset Google Calendar's API takes in ``recurrence`` (``RRULE:`` with FREQ=DAILY,
WEEKLY or MONTHLY, INTERVAL, COUNT, UNTIL, BYDAY; ``EXDATE:`` exceptions), checked here and expanded by
python-dateutil's rrule (never by hand).

A series is expanded in the zone it was planned in, so a weekly 15:00 in Europe/Berlin stays at 15:00 local time
across daylight-saving changes. An instance is named by its original start in UTC, ``YYYYMMDDTHHMMSSZ`` (its
``instance_id`` is ``<series id>_<that stamp>``, as Google spells instance ids).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rruleset, rrulestr

from airgap.envs.backends.web import ApiError

FREQS = ("DAILY", "WEEKLY", "MONTHLY")
KEYS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY")
MAX_LINES = 10       # recurrence lines per event
MAX_COUNT = 1000     # COUNT at most
MAX_INTERVAL = 1000  # INTERVAL at most
MAX_EXDATES = 500    # EXDATE values per event, all lines together
DAY = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
STAMP = "%Y%m%dT%H%M%SZ"
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)  # as every calendar time (calendar.LATEST)


def stamp(dt: datetime) -> str:
    """An instance's name: its original start in UTC, ``20250317T150000Z``."""
    return dt.astimezone(timezone.utc).strftime(STAMP)


def _bad(msg: str) -> ApiError:
    return ApiError(422, f"recurrence: {msg}")


def _when(value: str, tz: ZoneInfo, what: str, end_of_day: bool = False) -> datetime:
    """``20250317T150000Z`` (UTC), ``20250317T150000`` (in the event's zone) or ``20250317`` (that day in the zone)."""
    try:
        if re.fullmatch(r"\d{8}", value):
            d = datetime.strptime(value, "%Y%m%d").date()
            return datetime.combine(d, time.max if end_of_day else time.min, tz)
        if re.fullmatch(r"\d{8}T\d{6}Z", value):
            return datetime.strptime(value, STAMP).replace(tzinfo=timezone.utc)
        if re.fullmatch(r"\d{8}T\d{6}", value):
            return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
    except ValueError:
        pass
    raise _bad(f"{what} {value!r} is not a date (YYYYMMDD) or a time (YYYYMMDDTHHMMSS, with Z for UTC)")


@dataclass(frozen=True)
class Rule:
    """A checked recurrence: the RRULE's parts and the excluded original starts (aware datetimes)."""
    parts: dict[str, str]
    exdates: tuple[datetime, ...]

    def rrule(self, dtstart: datetime) -> rrule:
        """dateutil's rrule from ``dtstart`` (aware, in the series' zone); a local UNTIL is read in that zone."""
        parts = dict(self.parts)
        if "UNTIL" in parts:
            until = _when(parts["UNTIL"], dtstart.tzinfo, "UNTIL", end_of_day=True)  # type: ignore[arg-type]
            parts["UNTIL"] = until.astimezone(timezone.utc).strftime(STAMP)
        text = ";".join(f"{k}={v}" for k, v in parts.items())
        try:
            return rrulestr(text, dtstart=dtstart)  # type: ignore[return-value]
        except (ValueError, TypeError) as e:
            raise _bad(f"RRULE:{text}: {e}") from None

    def set(self, dtstart: datetime) -> rruleset:
        rs = rruleset()
        rs.rrule(self.rrule(dtstart))
        for x in self.exdates:
            rs.exdate(x)
        return rs


def parse(lines: list[str], tz: ZoneInfo) -> Rule:
    """Check ``recurrence`` lines (422 naming what is wrong) and return the rule."""
    if not lines:
        raise _bad("give one RRULE line, e.g. RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6")
    if len(lines) > MAX_LINES:
        raise _bad(f"at most {MAX_LINES} lines")
    parts: dict[str, str] | None = None
    exdates: list[datetime] = []
    for line in lines:
        name, sep, value = line.partition(":")
        head, *params = name.strip().upper().split(";")
        if not sep or head not in ("RRULE", "EXDATE"):
            raise _bad(f"{line!r}: each line is RRULE:... or EXDATE:... (RDATE is not supported)")
        if head == "RRULE":
            if parts is not None:
                raise _bad("only one RRULE line")
            if params:
                raise _bad(f"{line!r}: RRULE takes no parameters")
            parts = _rrule_parts(value.strip())
            continue
        zone_ = tz
        for p in params:
            k, _, v = p.partition("=")
            if k == "TZID":
                try:
                    zone_ = ZoneInfo(v)
                except (ValueError, KeyError, OSError):
                    raise _bad(f"{line!r}: unknown time zone {v!r}") from None
            elif k == "VALUE" and v in ("DATE", "DATE-TIME"):
                continue
            else:
                raise _bad(f"{line!r}: unsupported EXDATE parameter {p!r} (TZID and VALUE are)")
        exdates += [_when(v.strip(), zone_, "EXDATE") for v in value.split(",")]
    if parts is None:
        raise _bad("an RRULE line is required (EXDATE alone repeats nothing)")
    if len(exdates) > MAX_EXDATES:
        raise _bad(f"at most {MAX_EXDATES} EXDATE values")
    if "UNTIL" in parts and _when(parts["UNTIL"], tz, "UNTIL", end_of_day=True) >= LATEST:
        raise _bad(f"UNTIL must be before {LATEST.year}")
    return Rule(parts, tuple(exdates))


def _rrule_parts(value: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for item in value.split(";"):
        k, eq, v = item.partition("=")
        k, v = k.strip().upper(), v.strip().upper()
        if not eq or not v:
            raise _bad(f"RRULE part {item!r} is not NAME=VALUE")
        if k not in KEYS:
            raise _bad(f"RRULE part {k} is not supported (only {', '.join(KEYS)})")
        if k in parts:
            raise _bad(f"RRULE names {k} twice")
        parts[k] = v
    if parts.get("FREQ") not in FREQS:
        raise _bad(f"RRULE needs FREQ, one of {', '.join(FREQS)} (got {parts.get('FREQ')!r})")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _bad("RRULE may give COUNT or UNTIL, not both")
    for k, top in (("COUNT", MAX_COUNT), ("INTERVAL", MAX_INTERVAL)):
        if k in parts and not (parts[k].isdigit() and 1 <= int(parts[k]) <= top):
            raise _bad(f"{k} must be a whole number from 1 to {top} (got {parts[k]!r})")
    for day in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        m = DAY.match(day)
        if not m:
            raise _bad(f"BYDAY {day!r}: use MO, TU, WE, TH, FR, SA or SU (MONTHLY also takes 1MO, -1FR, ...)")
        if m.group(1) and parts["FREQ"] != "MONTHLY":
            raise _bad(f"BYDAY {day!r}: a numbered weekday only goes with FREQ=MONTHLY")
    return parts


def load(text: str | None) -> list[str] | None:
    return None if text is None else json.loads(text)


def check_start(rule: Rule, start: datetime) -> None:
    """The series' start must be its first instance (a start on a Tuesday with BYDAY=MO would not be one)."""
    first = next(iter(rule.rrule(start)), None)
    if first is None or first != start:
        raise _bad(f"start ({start.isoformat()}) is not an occurrence of the rule: start the series on its first "
                   f"instance{f' ({first.isoformat()})' if first is not None else ''}")


def starts(rule: Rule, dtstart: datetime, after: datetime, before: datetime) -> Iterator[datetime]:
    """Original starts in [after, before) (aware), EXDATEs left out."""
    for x in rule.set(dtstart).between(after, before, inc=True):
        if x < before:
            yield x


def occurs(rule: Rule, dtstart: datetime, original: datetime) -> bool:
    """Whether ``original`` is an instance of the series (and not excluded)."""
    hit = rule.set(dtstart).after(original - timedelta(seconds=1))
    return hit is not None and hit == original


def last_start(rule: Rule, dtstart: datetime) -> datetime | None:
    """The series' last original start, or None when it never ends."""
    if "COUNT" not in rule.parts and "UNTIL" not in rule.parts:
        return None
    every = list(rule.set(dtstart))  # bounded: COUNT <= 1000, UNTIL before 2100
    return every[-1] if every else None


def parse_instance(text: str, series_id: int) -> datetime:
    """The instance a path names: ``20250317T150000Z``, ``<series id>_20250317T150000Z`` or ISO 8601 with an offset."""
    s = text
    if "_" in s:
        sid, _, s = s.partition("_")
        if sid != str(series_id):
            raise ApiError(404, f"instance {text} is not of event {series_id}")
    if re.fullmatch(r"\d{8}T\d{6}Z", s):
        return datetime.strptime(s, STAMP).replace(tzinfo=timezone.utc)
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        dt = None
    if dt is None or dt.tzinfo is None:
        raise ApiError(422, f"instance {text!r}: name it by its original start in UTC, e.g. 20250317T150000Z")
    return dt.astimezone(timezone.utc)


