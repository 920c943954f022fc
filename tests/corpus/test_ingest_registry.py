"""The reader registry: every kind is recognised by name or bytes, and a new kind is one registration."""
from __future__ import annotations

import json

import pytest

from airgap.corpus.build import build_snapshot
from airgap.corpus.capture import Capture
from airgap.corpus.ingest import READERS, Reader, detect_kind, read_source, register_reader


def test_kinds_by_name_bytes_folder_and_hub_name(tmp_path):
    files = {"a.warc.gz": b"\x1f\x8b\x08", "b.wet": b"WARC/1.0", "c.zim": b"ZIM\x04", "d.jsonl": b"{}",
             "e.parquet": b"PAR1", "f.bin": b"WARC/1.0\r\n", "g.bin": b"ZIM\x04\x00", "h.bin": b"PAR1xxxx"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    kinds = {name: detect_kind(str(tmp_path / name)) for name in files}
    assert kinds == {"a.warc.gz": "warc", "b.wet": "warc", "c.zim": "zim", "d.jsonl": "jsonl", "e.parquet": "parquet",
                     "f.bin": "warc", "g.bin": "zim", "h.bin": "parquet"}
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "dataset_info.json").write_text("{}")
    assert detect_kind(str(ds)) == "hf"
    assert detect_kind("someorg/somedata") == "hf"
    (tmp_path / "x.bin").write_bytes(b"nothing known")
    with pytest.raises(ValueError, match="cannot tell"):
        detect_kind(str(tmp_path / "x.bin"))
    with pytest.raises(FileNotFoundError):
        detect_kind(str(tmp_path / "absent.warc.gz"))
    with pytest.raises(ValueError, match="unknown source kind"):
        read_source(str(tmp_path / "d.jsonl"), "nope")


def test_a_new_kind_is_one_registration(tmp_path, monkeypatch):
    def read_lines(path):
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                text = line.strip()
                yield Capture(f"https://lines.example/{i}", "2024-01-01T00:00:00Z", 200,
                              [("Content-Type", "text/plain")], text.encode(), "text/plain", text=text)

    monkeypatch.setattr("airgap.corpus.ingest.READERS", dict(READERS))  # leave the real registry as it was
    register_reader(Reader("lines", read_lines, suffixes=(".lines",)))
    path = tmp_path / "notes.lines"
    path.write_text("Quinces ripen late in autumn.\nMedlars are eaten bletted.\n")
    snap = build_snapshot([str(path)], str(tmp_path / "snap"), progress=False)
    assert snap.manifest["sources"][0]["kind"] == "lines"
    assert snap.search("quince autumn", k=1)[0].url == "https://lines.example/0"


def test_tabular_readers_take_the_column_map(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"link": "https://r.example/1", "body_text": "Sorrel soup."}) + "\n")
    caps = list(read_source(str(path), "jsonl", {"url": "link", "text": "body_text"}))
    assert [c.url for c in caps] == ["https://r.example/1"]
