"""Rows as pages: JSONL and Parquet readers, and the row-to-Capture mapping the `hf` reader shares.

A row needs text (or HTML); url, title, date and id are used when present. Column
names are guessed from common spellings and can be set with a column map, e.g.
``{"text": "contents", "url": "link"}``. Rows without a URL get one made from the
source name and the row's id (or number), so every passage can still be opened.
Search-R1-style ``contents`` ('"Title"\\ntext') is split into title and text.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote

from ..capture import Capture, Skipped, iso_date
from ..urls import normalize_url

FIELDS = ("url", "title", "text", "html", "date", "id")
_GUESSES = {
    "url": ("url", "link", "uri", "href"),
    "title": ("title", "headline", "name"),
    "text": ("text", "contents", "content", "body", "document", "passage"),
    "html": ("html", "raw_html", "raw_content"),
    "date": ("date", "crawl_date", "timestamp", "published"),
    "id": ("id", "_id", "docid", "doc_id"),
}


def resolve_columns(columns: Iterable[str], column_map: dict[str, str] | None) -> dict[str, str]:
    """field -> column name, from the explicit map first, then the guesses."""
    columns = list(columns)
    out: dict[str, str] = {}
    for f, col in (column_map or {}).items():
        if f not in FIELDS:
            raise ValueError(f"--column-map field {f!r} is not one of {', '.join(FIELDS)}")
        if col not in columns:
            raise ValueError(f"--column-map {f}={col}: no column {col!r}; columns are {columns}")
        out[f] = col
    for f, names in _GUESSES.items():
        if f not in out:
            for name in names:
                if name in columns:
                    out[f] = name
                    break
    if "text" not in out and "html" not in out:
        raise ValueError(f"no text or html column among {columns}: pass --column-map text=COLUMN")
    return out


def _host(source_name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", source_name.lower()).strip("-") + ".dataset"


def rows_to_captures(rows: Iterable[dict], columns: dict[str, str], source_name: str,
                     host: str | None = None, start: int = 0) -> Iterator[Capture | Skipped]:
    host = host or _host(source_name)
    for i, row in enumerate(rows, start):
        try:
            cap = _row_capture(row, columns, host, i)
        except Exception as e:  # a bad row is reported, not fatal
            yield Skipped(source_name, f"row {i}", f"{type(e).__name__}: {e}")
            continue
        yield cap


def _row_capture(row: dict, cols: dict[str, str], host: str, i: int) -> Capture:
    get = lambda f: row.get(cols[f]) if f in cols else None  # noqa: E731
    title, text, html = get("title"), get("text"), get("html")
    if text is not None and not isinstance(text, str):
        raise ValueError(f"text column holds {type(text).__name__}, not str")
    if title is None and text and text.startswith('"') and '"\n' in text:
        title, text = text[1:].split('"\n', 1)
    ident = get("id")
    url = get("url") or f"https://{host}/{quote(str(ident if ident is not None else i), safe='')}"
    url = normalize_url(str(url))
    date = iso_date(get("date"))
    if html:
        body, ctype = str(html).encode("utf-8"), "text/html; charset=utf-8"
        text = None  # extracted from the HTML like any page
    else:
        body, ctype = (text or "").encode("utf-8"), "text/plain; charset=utf-8"
    return Capture(url, date, 200, [("Content-Type", ctype)], body, ctype,
                   title=str(title) if title is not None else None, text=text)


def read_jsonl(path: str, column_map=None) -> Iterator[Capture | Skipped]:
    """One JSON object a line; a line that is not JSON is reported and skipped."""
    name = os.path.basename(path)
    host = _host(source_stem(name))
    cols = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                yield Skipped(name, f"line {lineno}", f"JSONDecodeError: {e}")
                continue
            if cols is None:  # a column map that does not fit is for the user to fix: not skipped
                cols = resolve_columns(row.keys(), column_map)
            yield from rows_to_captures([row], cols, name, host=host, start=lineno - 1)


def source_stem(name: str) -> str:
    """A file name up to its first dot: "wiki.v2.jsonl" -> "wiki"."""
    return name.split(".")[0]


def read_parquet(path: str, column_map=None) -> Iterator[Capture | Skipped]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    cols = resolve_columns(pf.schema_arrow.names, column_map)
    rows = (row for batch in pf.iter_batches(batch_size=1024) for row in batch.to_pylist())
    yield from rows_to_captures(rows, cols, source_stem(os.path.basename(path)))
