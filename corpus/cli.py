"""`airgap corpus ...`: build, inspect, search, open and serve offline-web snapshots."""
from __future__ import annotations

import json
import os
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="The offline web: turn web archives into a snapshot that agents search and browse as if online.\n\n"
    "Quick start: `airgap corpus build-default`, then `airgap corpus search \"json dumps indent\"`.\n"
    "Your own: `airgap corpus build crawl.warc.gz --out snaps/mine`, then `airgap corpus serve snaps/mine`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

SNAP_HELP = "Snapshot folder (default: the bundled default snapshot, see `build-default`)."


def _open(path: Optional[str]):
    from .defaults import default_snapshot_path
    from .snapshot import Snapshot

    path = path or default_snapshot_path()
    try:
        return Snapshot.open(path)
    except (FileNotFoundError, ValueError) as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None


def _snapshot_and(snapshot: Optional[str], arg: Optional[str], name: str) -> tuple[Optional[str], str]:
    """`cmd SNAPSHOT ARG` or just `cmd ARG` (default snapshot)."""
    if arg is None:
        if snapshot is None:
            raise typer.BadParameter(f"missing {name}")
        return None, snapshot
    return snapshot, arg


def _column_map(items: list[str]) -> dict[str, str]:
    out_map = {}
    for item in items:
        if "=" not in item:
            raise typer.BadParameter(f"--column-map takes FIELD=COLUMN (e.g. text=contents), got {item!r}")
        field, col = item.split("=", 1)
        out_map[field] = col
    return out_map


def _report_skips(snap) -> None:
    sk = snap.manifest["skipped"]
    if sk["count"]:
        err.print(f"[yellow]skipped {sk['count']} bad record(s)[/yellow]; the first ones:")
        for e in sk["first"][:5]:
            err.print(f"  {e['where']}: {e['error']}")
        err.print("  (all are listed under \"skipped\" in manifest.json; `airgap corpus info` shows counts)")


@app.command()
def build(
    sources: list[str] = typer.Argument(..., help="WARC/WARC.gz/WET files, .zim files, `datasets` folders saved "
                                        "with save_to_disk (or hub names), .jsonl or .parquet files."),
    out_dir: str = typer.Option(..., "--out", "-o", help="Snapshot folder to create."),
    dense_model: Optional[str] = typer.Option(None, help="Local path of a transformers encoder (e.g. a "
                                              "sentence-transformers folder) to also build a dense index."),
    index: str = typer.Option("flat", help="Dense index: flat (exact), hnsw (fast, more memory) or ivfpq "
                              "(compressed, for millions of passages)."),
    device: str = typer.Option("cpu", help="cpu or cuda, for encoding (fp16 on cuda) and faiss."),
    url_map: list[str] = typer.Option([], help="OLD=NEW URL prefix rewrite, repeatable; e.g. "
                                      "http://127.0.0.1:8000/=https://docs.python.org/3.11/"),
    column_map: list[str] = typer.Option([], help="FIELD=COLUMN for datasets/JSONL/Parquet, repeatable; "
                                         "fields: url, title, text, html, date, id."),
    batch_size: int = typer.Option(64, help="Encoder batch size."),
    workers: Optional[int] = typer.Option(None, help="Ingest processes (default: up to 4 CPUs; 1: no pool). "
                                          "The snapshot is the same for any number."),
    overwrite: bool = typer.Option(False, help="Replace --out if it exists."),
):
    """Ingest sources into a new snapshot and index its passages (BM25; dense with --dense-model)."""
    from .build import build_snapshot

    try:
        snap = build_snapshot(sources, out_dir, url_map=url_map, column_map=_column_map(column_map),
                              dense_model=dense_model, index=index, device=device, batch_size=batch_size,
                              overwrite=overwrite, workers=workers)
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    _report_skips(snap)
    c = snap.manifest["counts"]
    err.print(f"[green]built[/green] {snap.path}: {c['captures']} captures of {c['urls']} URLs, "
              f"{c['passages']} passages. Next: `airgap corpus search {out_dir} \"your query\"`")


@app.command("build-default")
def build_default_cmd(
    out_dir: Optional[str] = typer.Option(None, "--out", "-o", help="Where (default: $AIRGAP_SNAPSHOT_DIR/default "
                                          "or ~/.cache/airgap/snapshots/default on Linux)."),
    dense_model: Optional[str] = typer.Option(None, help="Also build a dense index with this local encoder "
                                              "(slow on CPU: about 65 passages/s)."),
):
    """Build the bundled default snapshot (Python 3.11 docs + SQLite docs) from the WARCs shipped in the package."""
    from .defaults import build_default

    snap = build_default(out_dir, dense_model=dense_model)
    _report_skips(snap)
    c = snap.manifest["counts"]
    err.print(f"[green]built[/green] {snap.path}: {c['urls']} URLs, {c['passages']} passages.")


@app.command("make-default-warc")
def make_default_warc(
    out_dir: Optional[str] = typer.Option(None, "--out", "-o", help="Folder for the WARCs (default: the package's "
                                          "data/ folder)."),
):
    """Regenerate the default WARCs: serve Debian's python3.11-doc and sqlite3-doc on loopback, crawl with wget."""
    from .crawl import make_default_warcs
    from .defaults import DATA_DIR

    for p in make_default_warcs(out_dir or DATA_DIR):
        err.print(f"wrote {p} ({os.path.getsize(p) / 1e6:.1f} MB)")


@app.command()
def info(snapshot: Optional[str] = typer.Argument(None, help=SNAP_HELP),
         as_json: bool = typer.Option(False, "--json", help="Print the whole manifest as JSON.")):
    """Show a snapshot's manifest: sources, counts, crawl dates, index settings, sizes, checksums."""
    snap = _open(snapshot)
    m = snap.manifest
    if as_json:
        print(json.dumps(m, indent=2, sort_keys=True))
        return
    t = Table(title=f"{snap.path}  (manifest sha256 {snap.manifest_hash[:16]}…)", show_lines=False)
    t.add_column("what")
    t.add_column("value", overflow="fold")
    for s in m["sources"]:
        t.add_row(f"source {s['kind']}", f"{s['path']}: {s['captures']} captures, {s['skipped']} skipped, "
                  f"sha256 {s['sha256'][:16]}")
    for k, v in m["counts"].items():
        t.add_row(f"count {k}", json.dumps(v) if isinstance(v, dict) else str(v))
    t.add_row("crawl dates", f"{m['crawl_dates']['first']} .. {m['crawl_dates']['last']}")
    t.add_row("hosts", ", ".join(snap.hosts()))
    for name, settings in m["index"].items():
        t.add_row(f"index {name}", json.dumps(settings, sort_keys=True))
    for name, size in m["sizes"].items():
        t.add_row(f"size {name}", f"{size:,} B")
    if m["url_map"]:
        t.add_row("url map", " ; ".join(m["url_map"]))
    t.add_row("skipped", str(m["skipped"]["count"]))
    out.print(t)


@app.command()
def search(
    snapshot: Optional[str] = typer.Argument(None, help=SNAP_HELP),
    query: Optional[str] = typer.Argument(None, help="What to look for (alone, it searches the default snapshot)."),
    k: int = typer.Option(10, "-k", help="Number of hits (one per page)."),
    mode: str = typer.Option("bm25", help="bm25, dense or hybrid (dense/hybrid need a dense index)."),
    as_of: Optional[str] = typer.Option(None, help="Search the web as it was on this date (YYYY-MM-DD or ISO time)."),
    as_json: bool = typer.Option(False, "--json", help="Print hits as a JSON list."),
):
    """Search a snapshot; prints title, URL, score and snippet per hit."""
    snapshot, query = _snapshot_and(snapshot, query, "QUERY")
    snap = _open(snapshot)
    try:
        hits = snap.search(query, k=k, mode=mode, as_of=as_of)
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps([{kk: v for kk, v in h.to_dict().items() if kk != "text"} for h in hits], indent=2))
        return
    for i, h in enumerate(hits, 1):
        out.print(f"[bold]{i}. {h.title}[/bold]  [dim]{h.score:.3f}[/dim]\n   [green]{h.url}[/green]\n   {h.snippet}\n",
                  highlight=False)
    if not hits:
        err.print("no hits")


@app.command("open")
def open_cmd(
    snapshot: Optional[str] = typer.Argument(None, help=SNAP_HELP),
    url: Optional[str] = typer.Argument(None, help="The page's original URL (alone, it opens from the default "
                                        "snapshot)."),
    as_of: Optional[str] = typer.Option(None, help="The capture current on this date."),
    raw: bool = typer.Option(False, help="Write the archived body bytes exactly, nothing else."),
    page: int = typer.Option(1, help="Page of the rendered text to show (50 lines each)."),
):
    """Show an archived page as readable text with numbered links (or its raw bytes with --raw)."""
    snapshot, url = _snapshot_and(snapshot, url, "URL")
    snap = _open(snapshot)
    p = snap.get(url, as_of)
    if p is None:
        dates = snap.dates(url)
        hint = f" (captures: {', '.join(dates)})" if dates else "; try `airgap corpus search` to find pages"
        err.print(f"[red]not in this snapshot:[/red] {url}{' as of ' + as_of if as_of else ''}{hint}")
        raise typer.Exit(1)
    if raw:
        sys.stdout.buffer.write(p.body)
        sys.stdout.buffer.flush()
        return
    from .render import render_page

    rp = render_page(p.body, p.url, p.content_type)
    err.print(f"[dim]{p.status} {p.content_type}  captured {p.date}[/dim]")
    print(rp.page(page - 1))
    if rp.links:
        print("\nLinks:")
        for n, text, target in rp.links:
            print(f"[{n}] {text} -> {target}")


@app.command()
def serve(
    snapshot: Optional[str] = typer.Argument(None, help=SNAP_HELP),
    port: int = typer.Option(8080, help="Port on 127.0.0.1."),
    as_of: Optional[str] = typer.Option(None, help="Pin the whole web to this date."),
):
    """Serve on loopback: search engine at /, pages at /web/<url>, JSON at /api/search, POST /retrieve."""
    import uvicorn

    from .web.serve import serve_app

    snap = _open(snapshot)
    err.print(f"search: http://127.0.0.1:{port}/   pages: http://127.0.0.1:{port}/web/<url>   "
              f"retrieval: POST http://127.0.0.1:{port}/retrieve")
    uvicorn.run(serve_app(snap, as_of=as_of), host="127.0.0.1", port=port, log_level="warning")
