"""WARC / WARC.gz / WET reading with fastwarc, resyncing after a broken record.

Reading yields `Capture`s for `response`, `revisit` and (WET) `conversion` records.
A broken record does not end the file: we note it as `Skipped` and start again at
the next record boundary (the next gzip member, or the next ``WARC/1.`` line), so a
truncated member or a bad header costs one record, not the rest of the crawl.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

from fastwarc.warc import ArchiveIterator, WarcRecordType

from ..capture import Capture, Skipped, iso_date
from ..extract import UndecodableBody, undo_content_encoding

_TYPES = WarcRecordType.response | WarcRecordType.revisit | WarcRecordType.conversion
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/1."
_DROP_ON_STORE = {"transfer-encoding", "content-encoding"}


def _strip_uri(value: str | None) -> str:
    return (value or "").strip().strip("<>")


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _next_boundary(f, start: int, gz: bool) -> int:
    """Offset of the next plausible record start at or after `start`, or -1 at end of file."""
    magic = _GZIP_MAGIC if gz else b"\n" + _WARC_MAGIC
    skip = 0 if gz else 1  # the newline before WARC/1. is not part of the record
    pos = start
    while True:
        f.seek(pos)
        chunk = f.read(1 << 20)
        if len(chunk) < len(magic):
            return -1
        i = chunk.find(magic)
        if i >= 0:
            return pos + i + skip
        pos += len(chunk) - len(magic) + 1


def read_warc(path: str) -> Iterator[Capture | Skipped]:
    """Every response/revisit/conversion record of one WARC file, in file order; broken ones as Skipped."""
    name = os.path.basename(path)
    gz = _is_gzip(path)
    with open(path, "rb") as f:
        start = 0
        while start >= 0:
            last_good = None  # offset of the last record read whole in this pass
            f.seek(start)
            try:
                # every type is read, and filtered here, so last_good is truly the record before a failure
                for rec in ArchiveIterator(f, parse_http=True, auto_decode="transfer"):
                    last_good = rec.stream_pos
                    if not rec.record_type & _TYPES:
                        continue
                    try:
                        cap = _to_capture(rec)
                    except Exception as e:
                        yield Skipped(name, f"{name}@{rec.stream_pos}", f"{type(e).__name__}: {e}")
                        continue
                    yield cap
                # fastwarc ends quietly at a truncated last record: any record start after the last one read
                # means there was another record that could not be read
                tail = _next_boundary(f, (start if last_good is None else last_good) + 1, gz)
                if tail >= 0:
                    yield Skipped(name, f"{name}@{tail}", "truncated record at the end of the file")
                return
            except BaseException as e:  # fastwarc reports some malformed input as a Rust panic (BaseException)
                if isinstance(e, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                    raise
                msg = f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]}"
                if last_good is not None:
                    # the failure is somewhere after the last good record: start again at the record boundary
                    # right after it; if that record is the broken one, the next pass fails at once (below)
                    start = _next_boundary(f, last_good + 1, gz)
                    if start < 0:
                        yield Skipped(name, f"{name}@{last_good}+", msg + " (trailing bytes)")
                else:  # the very record at `start` is broken: report it and skip to the next boundary
                    yield Skipped(name, f"{name}@{start}", msg)
                    start = _next_boundary(f, start + 1, gz)


def _to_capture(rec) -> Capture | None:
    h = rec.headers
    url = _strip_uri(h.get("WARC-Target-URI"))
    date = iso_date(h.get("WARC-Date"))
    if rec.record_type == WarcRecordType.conversion:  # WET: plain text extracted by the crawler
        text = rec.reader.read().decode("utf-8", "strict")
        return Capture(url, date, 200, [("Content-Type", "text/plain; charset=utf-8")], text.encode(),
                       "text/plain; charset=utf-8", text=text)
    http = rec.http_headers
    if http is None:
        if rec.record_type == WarcRecordType.revisit:
            http_status, headers = 200, []
        else:
            raise ValueError("response record without an HTTP header block")
    else:
        http_status, headers = http.status_code, [(k, v) for k, v in http.astuples()]
    lower = {k.lower(): v for k, v in headers}
    ctype = lower.get("content-type", "")
    if rec.record_type == WarcRecordType.revisit:
        return Capture(url, date, http_status, _stored_headers(headers), None, ctype,
                       revisit_digest=h.get("WARC-Payload-Digest"),
                       revisit_of=(_strip_uri(h.get("WARC-Refers-To-Target-URI")) or url,
                                   iso_date(h.get("WARC-Refers-To-Date")) if h.get("WARC-Refers-To-Date") else ""))
    body = rec.reader.read()
    if "chunked" in lower.get("transfer-encoding", "").lower() and body[:1].isalnum() and b"\r\n" in body[:12]:
        raise UndecodableBody("chunked transfer encoding left undecoded")
    body = undo_content_encoding(body, lower.get("content-encoding"))
    return Capture(url, date, http_status, _stored_headers(headers), body, ctype,
                   payload_digest=h.get("WARC-Payload-Digest"))


def _stored_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers as archived, less the encodings we have undone (the body is stored decoded)."""
    return [(k, v) for k, v in headers if k.lower() not in _DROP_ON_STORE]
