"""URL normalisation and prefix rewriting.

Every URL that enters a snapshot goes through `normalize_url`, so that the same page
reached by slightly different spellings (upper-case host, default port, a fragment)
is stored and looked up once. `UrlMap` rewrites prefixes (``OLD=NEW``): a crawl of
``http://127.0.0.1:8000/`` becomes ``https://docs.python.org/3.11/``.
"""
from __future__ import annotations

import posixpath
from urllib.parse import quote, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": "80", "https": "443"}
# Characters left as they are when re-quoting a path or query (keeps valid escapes stable).
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"


def normalize_url(url: str) -> str:
    """Canonical form of an absolute http(s) URL; raises ValueError on anything else.

    Lower-case scheme and host, no default port, no fragment, dot segments resolved,
    an empty path becomes ``/``, percent-escapes kept but unsafe characters escaped.
    """
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname.lower().rstrip(".")
    port = parts.port
    netloc = host if port is None or str(port) == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = parts.path or "/"
    if "/." in path:
        trailing = path.endswith(("/", "/.", "/.."))
        path = posixpath.normpath(path)
        path = "/" + path.lstrip("/")
        if trailing and not path.endswith("/"):
            path += "/"
    path = quote(path, safe=_SAFE_PATH)
    query = quote(parts.query, safe=_SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


class UrlMap:
    """Ordered prefix rewrites, from ``OLD=NEW`` strings; the longest matching OLD wins."""

    def __init__(self, pairs: list[str] | list[tuple[str, str]] | None = None):
        rules = []
        for p in pairs or []:
            if isinstance(p, str):
                if "=" not in p:
                    raise ValueError(f"--url-map takes OLD=NEW (two URL prefixes), got {p!r}")
                old, new = p.split("=", 1)
            else:
                old, new = p
            rules.append((old, new))
        self.rules = sorted(rules, key=lambda r: -len(r[0]))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __call__(self, url: str) -> str:
        for old, new in self.rules:
            if url.startswith(old):
                return new + url[len(old):]
        return url

    def as_list(self) -> list[str]:
        return [f"{o}={n}" for o, n in self.rules]

