"""The reader registry: which source kind a path is, and the reader that turns it into Captures.

Each reader module (``warc``, ``zim``, ``hf``, ``tabular``) holds one format; its entry
here says how to recognise an input (name suffixes, first bytes, a folder's marker files,
a hub name) and where its reader function is, imported only when a source of that kind is
read. Detection tries folders, then names, then first bytes, each in registration order.
A new format is one `register_reader` call.
"""
from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..capture import Capture, Skipped


@dataclass(frozen=True)
class Reader:
    """One source kind: how to recognise it, and `target`, its reader function or "module:function"
    (relative to this package, imported on first use), called with the path (and the column map
    when `columns`)."""

    kind: str
    target: str | Callable[..., Iterator[Capture | Skipped]]
    suffixes: tuple[str, ...] = ()  # lower-case name endings
    magic: tuple[bytes, ...] = ()  # possible first bytes of a file
    markers: tuple[str, ...] = ()  # files that make a folder this kind
    hub: bool = False  # takes "org/name" strings that are not local paths
    columns: bool = False  # takes a column map (the tabular kinds)

    def load(self) -> Callable[..., Iterator[Capture | Skipped]]:
        if callable(self.target):
            return self.target
        module, func = self.target.split(":")
        return getattr(importlib.import_module(module, __name__), func)


READERS: dict[str, Reader] = {}


def register_reader(reader: Reader) -> None:
    """Add (or replace) the reader of one kind."""
    READERS[reader.kind] = reader


# WET files are WARC files of `conversion` records: the one WARC reader takes both.
register_reader(Reader("warc", ".warc:read_warc", (".warc", ".warc.gz", ".wet", ".wet.gz", ".arc.gz", ".warc.zst"),
                       (b"WARC/", b"\x1f\x8b")))
register_reader(Reader("zim", ".zim:read_zim", (".zim",), (b"ZIM\x04",)))
register_reader(Reader("hf", ".hf:read_hf", markers=("dataset_info.json", "state.json", "dataset_dict.json"),
                       hub=True, columns=True))
register_reader(Reader("jsonl", ".tabular:read_jsonl", (".jsonl", ".ndjson", ".json"), columns=True))
register_reader(Reader("parquet", ".tabular:read_parquet", (".parquet",), (b"PAR1",), columns=True))

KINDS = tuple(READERS)


def _looks_like_hub_name(path: str) -> bool:
    return "/" in path and not path.startswith((".", "/")) and path.count("/") == 1


def detect_kind(path: str) -> str:
    """The kind of a source, from its name or contents; raise with what to do if we cannot tell."""
    readers = list(READERS.values())
    if os.path.isdir(path):
        for r in readers:
            if any(os.path.exists(os.path.join(path, m)) for m in r.markers):
                return r.kind
        raise ValueError(f"{path} is a folder but not a `datasets` save_to_disk folder (no dataset_info.json)")
    if not os.path.exists(path):
        hub = next((r for r in readers if r.hub), None)
        if hub is not None and _looks_like_hub_name(path):
            return hub.kind
        raise FileNotFoundError(f"{path}: no such file or folder")
    low = path.lower()
    for r in readers:
        if r.suffixes and low.endswith(r.suffixes):
            return r.kind
    with open(path, "rb") as f:
        head = f.read(8)
    for r in readers:
        if r.magic and head.startswith(r.magic):
            return r.kind
    raise ValueError(f"cannot tell what {path} is: name it .warc.gz, .zim, .jsonl or .parquet")


def read_source(path: str, kind: str, column_map: dict[str, str] | None = None) -> Iterator[Capture | Skipped]:
    """Every record of one source as Captures (bad ones as Skipped), by the reader registered for `kind`."""
    reader = READERS.get(kind)
    if reader is None:
        raise ValueError(f"unknown source kind {kind!r}; one of {', '.join(READERS)}")
    read = reader.load()
    return read(path, column_map) if reader.columns else read(path)
