"""`Capture`: one archived HTTP response as every source reader yields it.

Readers (the ``ingest`` package) turn their format into Captures; ``build.py`` stores
them. A reader never raises on a bad record: it yields a `Skipped` instead,
so the build can count it, show the first few and go on.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

UNDATED = "1970-01-01T00:00:00Z"  # for sources that carry no crawl date


@dataclass
class Capture:
    url: str
    date: str  # ISO 8601 UTC, "YYYY-MM-DDTHH:MM:SSZ"
    status: int
    headers: list[tuple[str, str]]
    body: bytes | None  # None for a revisit: the body is that of an earlier capture
    content_type: str = ""
    revisit_digest: str | None = None  # payload digest a revisit points at
    revisit_of: tuple[str, str] | None = None  # (url, date) a revisit points at
    payload_digest: str | None = None  # as the archive recorded it, for revisits to find this body
    title: str | None = None  # set by sources that know it better than the HTML does
    text: str | None = None  # set by sources that carry plain text and no HTML


@dataclass
class Skipped:
    source: str
    where: str  # record offset or row number, for people to find it
    error: str


def iso_date(value: str | datetime | None) -> str:
    """Any reasonable date spelling -> "YYYY-MM-DDTHH:MM:SSZ" (UTC)."""
    if value is None or value == "":
        return UNDATED
    if isinstance(value, datetime):
        dt = value
    else:
        s = str(value).strip().replace("Z", "+00:00")
        if len(s) == 14 and s.isdigit():  # CDX style 20240101123000
            s = f"{s[:4]}-{s[4:6]}-{s[6:8]}T{s[8:10]}:{s[10:12]}:{s[12:14]}+00:00"
        dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_key(iso: str) -> int:
    """"2024-01-02T03:04:05Z" -> 20240102030405, the integer that index masks compare."""
    return int(iso[0:4] + iso[5:7] + iso[8:10] + iso[11:13] + iso[14:16] + iso[17:19])


def as_of_key(as_of: str | None) -> int | None:
    """An --as-of value as a date key; a bare date means the end of that day (inclusive)."""
    if not as_of:
        return None
    s = str(as_of).strip()
    if len(s) == 10:
        return date_key(iso_date(s + "T23:59:59"))
    return date_key(iso_date(s))
