"""From archived bytes to what search needs: decoded text, title, main text, outlinks.

Bodies are stored exactly as the server sent them once transfer and content encodings
are undone; this module only reads them. Charset: the HTTP header first, then the
HTML's own declaration, then resiliparse's detector.
"""
from __future__ import annotations

import gzip
import html as htmllib
import re
import zlib
from urllib.parse import urljoin

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding
from resiliparse.parse.html import HTMLTree

from .urls import normalize_url

# Page furniture left out of the main text. Chosen over resiliparse's main_content heuristic, which
# took twice as long on the default snapshot and kept more navigation on documentation sites.
BOILERPLATE = ["nav", "header", "footer", "aside", "[role=navigation]", "[role=banner]", "[role=contentinfo]",
               ".sphinxsidebar", ".related", ".sidebar", "#sidebar", ".menu", ".navbar", ".breadcrumb",
               ".cookie-banner", "script", "style", "noscript"]


class UndecodableBody(ValueError):
    """The body cannot be turned into text (bad content encoding or charset)."""


_HREF = r"""\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"""
_A_HREF = re.compile(r"<a\s[^>]*?\bhref" + _HREF, re.I)
_BASE_HREF = re.compile(r"<base\s[^>]*?\bhref" + _HREF, re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


def undo_content_encoding(body: bytes, encoding: str | None) -> bytes:
    """Undo a Content-Encoding (gzip, deflate, zstd); raise UndecodableBody if it does not decode."""
    enc = (encoding or "").strip().lower()
    if enc in ("", "identity"):
        return body
    try:
        if enc in ("gzip", "x-gzip"):
            return gzip.decompress(body)
        if enc == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
        if enc == "zstd":
            import zstandard

            return zstandard.ZstdDecompressor().decompress(body, max_output_size=1 << 30)
    except (OSError, EOFError, zlib.error, ValueError) as e:
        raise UndecodableBody(f"Content-Encoding {enc} does not decode: {e}") from e
    raise UndecodableBody(f"unsupported Content-Encoding {enc!r}")


def charset_of(content_type: str | None) -> str | None:
    m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type or "", re.I)
    return m.group(1).lower() if m else None


def decode_text(body: bytes, content_type: str | None) -> str:
    """Bytes to str: header charset, then <meta charset>, then detection; strict, so garbage is caught."""
    candidates = [charset_of(content_type)]
    m = _META_CHARSET.search(body[:4096])
    if m:
        candidates.append(m.group(1).decode("ascii", "replace").lower())
    candidates.append(detect_encoding(body[:65536]))
    tried = []
    for enc in candidates:
        if not enc or enc in tried:
            continue
        tried.append(enc)
        try:
            return body.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    raise UndecodableBody(f"body is not valid text in any of {tried}")


def is_html(content_type: str | None, body: bytes) -> bool:
    ct = (content_type or "").lower()
    if "html" in ct:
        return True
    return not ct and body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))


def is_text(content_type: str | None) -> bool:
    ct = (content_type or "").lower()
    return ct.startswith("text/") or "json" in ct or "xml" in ct


def extract(body: bytes, content_type: str | None, url: str) -> tuple[str, str, list[str]]:
    """(title, main text, outlinks) of a page; non-text pages give empty strings."""
    if is_html(content_type, body):
        html = decode_text(body, content_type)
        tree = HTMLTree.parse(html)
        title = " ".join((tree.title or "").split())
        text = extract_plain_text(tree, main_content=False, preserve_formatting=True, list_bullets=False,
                                  skip_elements=BOILERPLATE)
        return title, text.strip(), outlinks(html, url)
    if is_text(content_type):
        text = decode_text(body, content_type)
        return "", text.strip(), []
    return "", "", []


def outlinks(html: str, base_url: str) -> list[str]:
    """Absolute, normalised, de-duplicated http(s) link targets in document order.

    A regular expression over the markup, not a DOM walk: resiliparse's node access
    from Python costs microseconds per node, which made big pages take a second.
    """
    base = base_url
    m = _BASE_HREF.search(html)
    if m:
        base = urljoin(base_url, htmllib.unescape(m.group(1) or m.group(2) or m.group(3)))
    hrefs: dict[str, None] = {}  # distinct raw targets first: pages repeat links, joining is the slow part
    for m in _A_HREF.finditer(html):
        href = (m.group(1) or m.group(2) or m.group(3) or "").split("#", 1)[0].strip()
        if href and not href.startswith(("javascript:", "mailto:", "data:")):
            hrefs.setdefault(href, None)
    seen: dict[str, None] = {}
    for href in hrefs:
        try:
            seen.setdefault(normalize_url(urljoin(base, htmllib.unescape(href))), None)
        except ValueError:
            continue
    return list(seen)
