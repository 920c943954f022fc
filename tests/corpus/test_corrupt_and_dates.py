"""Corrupt records are counted and skipped; --as-of picks the capture current on a date; revisits."""
from __future__ import annotations

import gzip
import io

from corpus_fixtures import REAL
from typer.testing import CliRunner

from airgap.corpus.build import build_snapshot
from airgap.corpus.cli import app
from airgap.corpus.ingest.warc import read_warc
from airgap.corpus.warcwriter import write_record

runner = CliRunner()


def _response(url: str, date: str, body: bytes, extra: str = "", status: str = "200 OK") -> tuple[list, bytes]:
    http = (f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    hdr = [("WARC-Type", "response"), ("WARC-Target-URI", url), ("WARC-Date", date),
           ("WARC-Record-ID", f"<urn:uuid:{abs(hash((url, date))):032x}>"),
           ("Content-Type", "application/http;msgtype=response")]
    return hdr, http


def _page(title: str, text: str) -> bytes:
    return f"<html><head><title>{title}</title></head><body><p>{text}</p></body></html>".encode()


def _members(records) -> list[bytes]:
    out = []
    for hdr, block in records:
        buf = io.BytesIO()
        write_record(buf, hdr, block)
        out.append(buf.getvalue())
    return out


OLD = _page("Harbour news", "The old lighthouse keeper retired and the harbour ferry schedule changed.")
NEW = _page("Harbour news", "A new solar lighthouse opened; the harbour now hosts regattas every summer.")


def test_as_of_picks_capture_by_date(tmp_path):
    url = REAL + "news.html"
    recs = [_response(url, "2024-01-10T12:00:00Z", OLD), _response(url, "2025-03-01T08:00:00Z", NEW),
            _response(REAL + "other.html", "2024-06-01T00:00:00Z", _page("Other", "Unrelated orchard apples."))]
    path = tmp_path / "two.warc.gz"
    path.write_bytes(b"".join(_members(recs)))
    snap = build_snapshot([str(path)], str(tmp_path / "snap"), progress=False)
    assert snap.dates(url) == ["2024-01-10T12:00:00Z", "2025-03-01T08:00:00Z"]
    assert snap.get(url).body == NEW
    assert snap.get(url, as_of="2024-12-31").body == OLD
    assert snap.get(url, as_of="2024-01-10").body == OLD  # a bare date includes the whole day
    assert snap.get(url, as_of="2024-01-09") is None
    # search sees one version of a URL at a time
    assert [h.url for h in snap.search("lighthouse keeper retired")] == [url]
    assert snap.search("lighthouse keeper retired")[0].date == "2025-03-01T08:00:00Z"
    assert snap.search("regattas", as_of="2024-06-01") == []
    assert snap.search("keeper retired", as_of="2024-06-01")[0].date == "2024-01-10T12:00:00Z"
    assert snap.search("regattas")[0].url == url
    r = runner.invoke(app, ["open", snap.path, url, "--as-of", "2024-02-01", "--raw"])
    assert r.exit_code == 0 and r.stdout_bytes == OLD
    r = runner.invoke(app, ["search", snap.path, "keeper", "--as-of", "2024-02-01", "--json"])
    assert r.exit_code == 0 and '"2024-01-10T12:00:00Z"' in r.stdout


def test_revisit_and_exact_duplicates(tmp_path):
    url = REAL + "same.html"
    body = _page("Same", "Identical bytes crawled twice and once more under another URL.")
    first = _response(url, "2024-01-01T00:00:00Z", body)
    first[0].append(("WARC-Payload-Digest", "sha1:TESTDIGEST"))
    revisit = ([("WARC-Type", "revisit"), ("WARC-Target-URI", url), ("WARC-Date", "2024-02-01T00:00:00Z"),
                ("WARC-Record-ID", "<urn:uuid:00000000000000000000000000000001>"),
                ("WARC-Payload-Digest", "sha1:TESTDIGEST"),
                ("WARC-Profile", "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"),
                ("Content-Type", "application/http;msgtype=response")],
               b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n")
    copy = _response(REAL + "copy.html", "2024-01-01T00:00:00Z", body)
    path = tmp_path / "dup.warc.gz"
    path.write_bytes(b"".join(_members([first, revisit, copy])))
    snap = build_snapshot([str(path)], str(tmp_path / "snap"), progress=False)
    c = snap.manifest["counts"]
    assert c["captures"] == 3 and c["bodies"] == 1 and c["duplicate_bodies"] == 2 and c["skipped"] == 0
    assert snap.get(url).date == "2024-02-01T00:00:00Z" and snap.get(url).body == body
    assert snap.get(REAL + "copy.html").body == body


def test_corrupt_records_are_counted_and_skipped(tmp_path):
    good = [_response(REAL + f"p{i}.html", "2024-01-01T00:00:00Z", _page(f"Page {i}", f"Kumquat number {i}."))
            for i in range(4)]
    members = _members(good)
    truncated = members[1][: len(members[1]) // 2]  # a gzip member cut in the middle
    bad_header = gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\nthis is not a header line\r\n"
                               b"Content-Length: zz\r\n\r\nHTTP/1.1 200 OK\r\n\r\nx\r\n\r\n", mtime=0)
    undecodable = _members([_response(REAL + "gz.html", "2024-01-01T00:00:00Z", b"this is not gzip data",
                                      extra="Content-Encoding: gzip\r\n")])[0]
    path = tmp_path / "corrupt.warc.gz"
    path.write_bytes(members[0] + truncated + members[2] + bad_header + undecodable + members[3])
    skipped = [s for s in read_warc(str(path)) if not hasattr(s, "url")]
    assert len(skipped) >= 2
    seen = []
    snap = build_snapshot([str(path)], str(tmp_path / "snap"), progress=False, on_skip=seen.append)
    m = snap.manifest
    assert m["counts"]["skipped"] == 3 == m["skipped"]["count"] == len(seen)
    assert any("undecodable" in e["error"].lower() for e in m["skipped"]["first"])
    for i in (0, 2, 3):
        assert snap.get(REAL + f"p{i}.html") is not None, i
    assert snap.get(REAL + "p1.html") is None and snap.get(REAL + "gz.html") is None
    assert snap.search("kumquat", k=10)


def test_build_cli_reports_skips(tmp_path):
    members = _members([_response(REAL + "a.html", "2024-01-01T00:00:00Z", _page("A", "Quince jelly."))])
    path = tmp_path / "x.warc.gz"
    path.write_bytes(members[0] + members[0][:30])
    r = runner.invoke(app, ["build", str(path), "--out", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    assert "skipped 1 bad record" in r.output
    r = runner.invoke(app, ["build", str(path), "--out", str(tmp_path / "s")])
    assert r.exit_code == 2 and "--overwrite" in r.output
    r = runner.invoke(app, ["info", str(tmp_path / "s")])
    assert r.exit_code == 0 and "x.warc.gz" in r.output
