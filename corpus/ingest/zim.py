"""ZIM (Kiwix) archives via libzim: HTML articles become pages, redirects become 301s.

A ZIM file stores paths, not URLs. A page's URL is the archive's ``Source`` metadata
(when it is an http(s) URL, e.g. ``https://en.wikipedia.org/wiki/``) joined with the
entry path, else ``https://<Name or file stem>/<path>``; `--url-map` can change either.
The crawl date is the archive's ``Date`` metadata. Redirect entries (Kiwix keeps
Wikipedia's redirects, and zimwriterfs turns ``<meta http-equiv=refresh>`` files into
them) become 301 responses with a Location header. Non-HTML entries (images, CSS,
scripts) are left out: search needs text, and serving them is not worth the space.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from urllib.parse import quote, urljoin

from libzim.reader import Archive

from ..capture import Capture, Skipped, iso_date
from ..urls import normalize_url


def _meta(archive: Archive, key: str) -> str:
    try:
        return bytes(archive.get_metadata(key)).decode("utf-8", "replace").strip()
    except (RuntimeError, KeyError):
        return ""


def zim_base_url(archive: Archive, path: str) -> str:
    source = _meta(archive, "Source")
    if source.startswith(("http://", "https://")):
        return source if source.endswith("/") else source + "/"
    name = _meta(archive, "Name") or os.path.basename(path).rsplit(".", 1)[0]
    return f"https://{re.sub(r'[^a-z0-9.-]+', '-', name.lower()).strip('-')}/"


def read_zim(path: str) -> Iterator[Capture | Skipped]:
    name = os.path.basename(path)
    archive = Archive(path)
    base = zim_base_url(archive, path)
    date = iso_date(_meta(archive, "Date") or None)

    def url_of(entry_path: str) -> str:
        return normalize_url(urljoin(base, quote(entry_path, safe="/:@!$&'()*+,;=-._~%")))

    # ids below entry_count are the content entries (metadata, listings and indexes come after them)
    for i in range(archive.entry_count):
        try:
            entry = archive._get_entry_by_id(i)  # libzim's only way to walk every entry
            if entry.path.startswith(("M/", "X/", "W/", "-/")) and not archive.has_new_namespace_scheme:
                continue  # metadata, indexes and well-known entries of old-scheme archives
            if entry.is_redirect:
                target = entry.get_redirect_entry()
                if not target.get_item().mimetype.startswith("text/html"):
                    continue
                loc = url_of(target.path)
                yield Capture(url_of(entry.path), date, 301, [("Location", loc)], b"", "text/html",
                              title=entry.title)
                continue
            item = entry.get_item()
            if not item.mimetype.startswith("text/html"):
                continue
            ctype = item.mimetype if "charset" in item.mimetype else item.mimetype + "; charset=utf-8"
            yield Capture(url_of(entry.path), date, 200, [("Content-Type", ctype)], bytes(item.content), ctype,
                          title=entry.title or None)
        except Exception as e:
            yield Skipped(name, f"entry {i}", f"{type(e).__name__}: {e}")
