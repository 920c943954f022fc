"""Page storage: compressed bodies in one file, everything else in SQLite.

Layout of a snapshot folder (see build.py for the rest):

- ``bodies.zst``: the bodies, each its own zstd frame, each distinct body once
  (exact duplicates, found by SHA-256, share a frame).
- ``pages.sqlite``: table ``pages`` is the (url, date) -> body index, CDXJ-like, one row
  per capture with its status, headers, title and outlinks; table ``bodies`` gives a
  body's offset and length in ``bodies.zst`` and its extracted text.

So `get(url)` is one indexed SQLite look-up, one seek and one decompression.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field

import zstandard

from .capture import as_of_key, date_key
from .urls import host_of

COMPRESSION_LEVEL = 6  # zstd: HTML compresses ~7x; higher levels cost ingest speed for a few percent
_SCHEMA = """
CREATE TABLE bodies (
    id INTEGER PRIMARY KEY, sha256 TEXT UNIQUE NOT NULL, payload_digest TEXT,
    offset INTEGER NOT NULL, length INTEGER NOT NULL, size INTEGER NOT NULL, text TEXT NOT NULL);
CREATE TABLE pages (
    id INTEGER PRIMARY KEY, url TEXT NOT NULL, date TEXT NOT NULL, date_key INTEGER NOT NULL,
    status INTEGER NOT NULL, content_type TEXT NOT NULL, headers TEXT NOT NULL, title TEXT NOT NULL,
    outlinks TEXT NOT NULL, body_id INTEGER NOT NULL REFERENCES bodies(id), source TEXT NOT NULL,
    UNIQUE (url, date_key));
CREATE INDEX bodies_digest ON bodies(payload_digest);
"""


@dataclass
class Page:
    """One capture of a URL. `body` is the original body, transfer/content encodings undone."""

    url: str
    date: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    content_type: str
    title: str
    text: str
    outlinks: list[str] = field(default_factory=list)
    content_hash: str = ""  # SHA-256 of the body


class StoreWriter:
    """Appends captures; used once, by the build."""

    def __init__(self, folder: str):
        self.folder = folder
        self.db = sqlite3.connect(os.path.join(folder, "pages.sqlite"))
        self.db.executescript(_SCHEMA)
        self.bodies = open(os.path.join(folder, "bodies.zst"), "w+b")  # read back for revisits
        self.offset = 0
        self.body_sha = hashlib.sha256()  # checksum of bodies.zst, computed as it is written

    def find_body(self, sha256: str) -> int | None:
        row = self.db.execute("SELECT id FROM bodies WHERE sha256=?", (sha256,)).fetchone()
        return row[0] if row else None

    def find_body_by_digest(self, digest: str) -> int | None:
        row = self.db.execute("SELECT id FROM bodies WHERE payload_digest=?", (digest,)).fetchone()
        return row[0] if row else None

    def find_capture_body(self, url: str, date: str | None) -> int | None:
        """Body of (url, date) or, with no date, of the latest capture of url (for revisits)."""
        if date:
            row = self.db.execute("SELECT body_id FROM pages WHERE url=? AND date=?", (url, date)).fetchone()
        else:
            row = self.db.execute("SELECT body_id FROM pages WHERE url=? ORDER BY date_key DESC", (url,)).fetchone()
        return row[0] if row else None

    def read_body(self, body_id: int) -> bytes:
        self.bodies.flush()
        offset, length = self.db.execute("SELECT offset, length FROM bodies WHERE id=?", (body_id,)).fetchone()
        return zstandard.ZstdDecompressor().decompress(os.pread(self.bodies.fileno(), length, offset))

    def has_capture(self, url: str, date: str) -> bool:
        return self.db.execute("SELECT 1 FROM pages WHERE url=? AND date_key=?", (url, date_key(date))).fetchone() is not None

    def add_body(self, frame: bytes, size: int, sha256: str, text: str, payload_digest: str | None) -> int:
        """Append one body, already compressed to a zstd frame (done in the ingest workers)."""
        self.bodies.write(frame)
        self.body_sha.update(frame)
        cur = self.db.execute(
            "INSERT INTO bodies (sha256, payload_digest, offset, length, size, text) VALUES (?,?,?,?,?,?)",
            (sha256, payload_digest, self.offset, len(frame), size, text))
        self.offset += len(frame)
        return cur.lastrowid

    def add_page(self, url, date, status, content_type, headers, title, outlinks, body_id, source) -> int:
        cur = self.db.execute(
            "INSERT INTO pages (url, date, date_key, status, content_type, headers, title, outlinks, body_id, source)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (url, date, date_key(date), status, content_type, json.dumps(headers), title, json.dumps(outlinks),
             body_id, source))
        return cur.lastrowid

    def close(self) -> None:
        self.bodies.close()
        self.db.commit()
        self.db.close()


class Store:
    """Read side: thread-safe look-ups (one SQLite connection and one zstd decompressor per thread)."""

    def __init__(self, folder: str):
        self.folder = folder
        self.db_path = os.path.join(folder, "pages.sqlite")
        self.bodies = open(os.path.join(folder, "bodies.zst"), "rb")
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def read_body(self, offset: int, length: int) -> bytes:
        frame = os.pread(self.bodies.fileno(), length, offset)
        dctx = getattr(self._local, "dctx", None)
        if dctx is None:  # a ZstdDecompressor must not be used by two threads at once
            dctx = self._local.dctx = zstandard.ZstdDecompressor()
        return dctx.decompress(frame)

    def get(self, url: str, as_of: str | None = None) -> Page | None:
        """The latest capture of `url` not after `as_of` (None: the latest)."""
        key = as_of_key(as_of)
        sql = ("SELECT p.url, p.date, p.status, p.headers, p.content_type, p.title, p.outlinks, b.offset, b.length,"
               " b.text, b.sha256 FROM pages p JOIN bodies b ON b.id = p.body_id WHERE p.url = ?")
        args: tuple = (url,)
        if key is not None:
            sql += " AND p.date_key <= ?"
            args += (key,)
        row = self.db.execute(sql + " ORDER BY p.date_key DESC LIMIT 1", args).fetchone()
        if row is None:
            return None
        url, date, status, headers, ctype, title, outlinks, off, length, text, sha = row
        return Page(url, date, status, [tuple(h) for h in json.loads(headers)], self.read_body(off, length),
                    ctype, title, text, json.loads(outlinks), sha)

    def close(self) -> None:
        self.bodies.close()
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def dates(self, url: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT date FROM pages WHERE url=? ORDER BY date_key", (url,))]

    def hosts(self) -> list[str]:
        return sorted({host_of(u) for (u,) in self.db.execute("SELECT DISTINCT url FROM pages")})
