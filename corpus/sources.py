"""Which reader handles an input: WARC/WET, ZIM, Hugging Face dataset, JSONL, Parquet."""
from __future__ import annotations

import os
from collections.abc import Iterator

from .capture import Capture, Skipped

KINDS = ("warc", "zim", "hf", "jsonl", "parquet")


def detect_kind(path: str) -> str:
    """Guess the kind of a source from its name or contents; raise with what to do if we cannot."""
    low = path.lower()
    if os.path.isdir(path):
        markers = ("dataset_info.json", "state.json", "dataset_dict.json")
        if any(os.path.exists(os.path.join(path, m)) for m in markers):
            return "hf"
        raise ValueError(f"{path} is a folder but not a `datasets` save_to_disk folder (no dataset_info.json)")
    if not os.path.exists(path):
        if "/" in path and not path.startswith((".", "/")) and path.count("/") == 1:
            return "hf"  # a hub name such as "org/name"
        raise FileNotFoundError(f"{path}: no such file or folder")
    if low.endswith((".warc", ".warc.gz", ".wet", ".wet.gz", ".arc.gz", ".warc.zst")):
        return "warc"
    if low.endswith(".zim"):
        return "zim"
    if low.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if low.endswith(".parquet"):
        return "parquet"
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith((b"WARC/", b"\x1f\x8b")):
        return "warc"
    if head.startswith(b"ZIM\x04"):
        return "zim"
    if head.startswith(b"PAR1"):
        return "parquet"
    raise ValueError(f"cannot tell what {path} is: name it .warc.gz, .zim, .jsonl or .parquet")


def read_source(path: str, kind: str, column_map: dict[str, str] | None = None) -> Iterator[Capture | Skipped]:
    if kind == "warc":
        from .warc import read_warc

        return read_warc(path)
    if kind == "zim":
        from .zim import read_zim

        return read_zim(path)
    from . import tabular

    if kind == "hf":
        return tabular.read_hf(path, column_map)
    if kind == "jsonl":
        return tabular.read_jsonl(path, column_map)
    if kind == "parquet":
        return tabular.read_parquet(path, column_map)
    raise ValueError(f"unknown source kind {kind!r}; one of {', '.join(KINDS)}")
