"""Writing WARC files: one gzip member per record, and copying a WARC with its URLs rewritten.

`crawl.py` uses this to turn a loopback crawl into one with the real URLs; tests use it
to write exact (and deliberately broken) records.
"""
from __future__ import annotations

import base64
import gzip
import hashlib

from fastwarc.warc import ArchiveIterator, WarcRecordType


def _strip_uri(value: str | None) -> str:
    return (value or "").strip().strip("<>")


def _sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def write_record(out, warc_headers: list[tuple[str, str]], block: bytes) -> None:
    """One WARC/1.0 record as its own gzip member (so readers can seek and resync)."""
    hdr = [(k, v) for k, v in warc_headers if k.lower() not in ("content-length", "warc-block-digest")]
    hdr += [("WARC-Block-Digest", _sha1_b32(block)), ("Content-Length", str(len(block)))]
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdr) + "\r\n"
    out.write(gzip.compress(head.encode("utf-8") + block + b"\r\n\r\n", mtime=0))


def rewrite_warc(src: str, dst: str, url_map, keep_types=("warcinfo", "response", "revisit")) -> int:
    """Copy a WARC, rewriting WARC-Target-URI (and HTTP Location headers) with `url_map`.

    Used to turn a loopback crawl into one with the real URLs. Returns records written.
    """
    n = 0
    with open(src, "rb") as f, open(dst, "wb") as out:
        for rec in ArchiveIterator(f, record_types=WarcRecordType.any_type, parse_http=False):
            rtype = rec.headers.get("WARC-Type")
            if rtype not in keep_types:
                continue
            block = rec.reader.read()
            headers = []
            for k, v in rec.headers.astuples():
                if k in ("WARC-Target-URI", "WARC-Refers-To-Target-URI"):
                    v = url_map(_strip_uri(v))
                headers.append((k, v))
            if rtype in ("response", "revisit"):
                block = _rewrite_location(block, url_map)
            write_record(out, headers, block)
            n += 1
    return n


def _rewrite_location(block: bytes, url_map) -> bytes:
    head, sep, body = block.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    for i, line in enumerate(lines):
        if line.lower().startswith(b"location:"):
            value = line.split(b":", 1)[1].strip().decode("latin-1")
            lines[i] = b"Location: " + url_map(value).encode("latin-1")
    return b"\r\n".join(lines) + sep + body
