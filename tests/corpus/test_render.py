"""render_page: readable lines, numbered links, paging, find-in-page; deterministic."""
from __future__ import annotations

from airgap.corpus import render_page

HTML = b"""<html><head><title>  Render   me </title><script>var x = 1;</script></head><body>
<nav><a href="/">Home</a> <a href="about.html">About</a></nav>
<h1>Main heading</h1>
<p>First paragraph with a <a href="https://other.example/x?y=1">far link</a> and <b>bold</b> text.</p>
<ul><li>one</li><li>two <a href="#frag">anchor</a></li></ul>
<pre>code  line 1
    indented line 2</pre>
<table><tr><td>a</td><td>b</td></tr></table>
<img src="p.png" alt="a picture">
<p hidden>secret hidden text</p>
</body></html>"""


def test_render_lines_and_links():
    rp = render_page(HTML, "https://site.example/dir/page.html")
    assert rp.title == "Render me"
    assert rp.links == [(1, "Home", "https://site.example/"), (2, "About", "https://site.example/dir/about.html"),
                        (3, "far link", "https://other.example/x?y=1")]
    text = rp.text
    assert "[1]Home [2]About" in text
    assert "# Main heading" in rp.lines
    assert "First paragraph with a [3]far link and bold text." in rp.lines
    assert "- one" in rp.lines and "- two anchor" in rp.lines
    assert "    indented line 2" in rp.lines
    assert "[image: a picture]" in text
    assert "var x" not in text and "secret" not in text
    assert rp.link(3) == "https://other.example/x?y=1" and rp.link(9) is None


def test_find_and_paging_are_deterministic():
    rp = render_page(HTML, "https://site.example/")
    assert render_page(HTML, "https://site.example/") == rp
    assert [i for i, _ in rp.find("PARAGRAPH")] == [rp.lines.index(next(ln for ln in rp.lines if "paragraph" in ln))]
    assert rp.find("") == []
    assert rp.page(0, lines_per_page=3).startswith("Render me (https://site.example/) - page 1 of")
    assert rp.n_pages(3) == -(-len(rp.lines) // 3)


def test_plain_text_page():
    rp = render_page(b"line one\nline two\n", "https://t.example/a.txt", "text/plain; charset=utf-8")
    assert rp.lines == ["line one", "line two"] and rp.links == []
