"""ZIM written by zimwriterfs, a `datasets` dataset saved to disk, JSONL and Parquet."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from airgap.corpus.build import build_snapshot

ARTICLES = {
    "Okapi.html": ("Okapi", "The okapi is a giraffid mammal native to the Ituri rainforest of the Congo."),
    "Narwhal.html": ("Narwhal", "The narwhal is a toothed whale with a long spiral tusk, living in Arctic waters."),
    "index.html": ("Animals", "A tiny encyclopedia of animals: <a href='Okapi.html'>okapi</a>, "
                              "<a href='Narwhal.html'>narwhal</a>."),
}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture(scope="module")
def zim_file(tmp_path_factory):
    if shutil.which("zimwriterfs") is None:
        pytest.fail("zimwriterfs not installed: apt-get install zim-tools (scripts/setup.sh does)")
    tmp = tmp_path_factory.mktemp("zim")
    html = tmp / "html"
    html.mkdir()
    for name, (title, text) in ARTICLES.items():
        (html / name).write_text(f"<html><head><title>{title}</title></head><body><p>{text}</p></body></html>")
    (html / "icon.png").write_bytes(PNG)
    # zimwriterfs turns a meta-refresh page into a ZIM redirect entry
    (html / "Monodon.html").write_text('<html><head><meta http-equiv="refresh" content="0;url=Narwhal.html">'
                                       "</head><body></body></html>")
    out = tmp / "animals.zim"
    subprocess.run(["zimwriterfs", "--welcome=index.html", "--illustration=icon.png", "--language=eng",
                    "--title=Animals", "--description=Test animals", "--creator=Airgap tests",
                    "--publisher=Airgap", "--name=animals", "--source=https://animals.example/wiki/",
                    "--withoutFTIndex", str(html), str(out)],
                   check=True, capture_output=True)
    return str(out)


def test_zim_articles_and_redirects(zim_file, tmp_path):
    snap = build_snapshot([zim_file], str(tmp_path / "snap"), progress=False)
    page = snap.get("https://animals.example/wiki/Okapi.html")
    assert page.status == 200 and page.title == "Okapi" and b"Ituri rainforest" in page.body
    redirect = snap.get("https://animals.example/wiki/Monodon.html")
    assert redirect.status == 301
    assert dict(redirect.headers)["Location"] == "https://animals.example/wiki/Narwhal.html"
    assert snap.get("https://animals.example/wiki/icon.png") is None  # non-HTML entries are left out
    assert snap.get("https://animals.example/wiki/mainPage") is None  # so are ZIM internals
    assert snap.manifest["crawl_dates"]["first"].endswith("T00:00:00Z")  # the ZIM Date metadata
    assert snap.search("arctic tusk whale", k=1)[0].url == "https://animals.example/wiki/Narwhal.html"
    assert snap.manifest["sources"][0]["kind"] == "zim"


ROWS = [
    {"id": "d1", "title": "Basalt", "text": "Basalt is a fine-grained volcanic rock rich in magnesium and iron.",
     "date": "2023-05-01"},
    {"id": "d2", "title": "Granite", "text": "Granite is a coarse-grained intrusive rock of quartz and feldspar.",
     "date": "2023-05-02"},
]


def test_hf_dataset_saved_to_disk(tmp_path):
    import datasets  # a dependency of airgap
    folder = tmp_path / "rocks_ds"
    datasets.Dataset.from_list(ROWS).save_to_disk(str(folder))
    snap = build_snapshot([str(folder)], str(tmp_path / "snap"), progress=False)
    hit = snap.search("quartz feldspar", k=1)[0]
    assert hit.url == "https://rocks-ds.dataset/d2" and hit.title == "Granite"
    page = snap.get(hit.url)
    assert page.date == "2023-05-02T00:00:00Z" and page.body == ROWS[1]["text"].encode()


def test_jsonl_with_column_map_and_search_r1_contents(tmp_path):
    path = tmp_path / "wiki.jsonl"
    rows = [{"docid": "7", "contents": '"Marie Curie"\nMarie Curie won Nobel prizes in physics and chemistry.',
             "link": "https://en.example.org/wiki/Marie_Curie"},
            {"docid": "8", "contents": '"Ada Lovelace"\nAda Lovelace wrote the first published algorithm.',
             "link": "https://en.example.org/wiki/Ada_Lovelace"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    snap = build_snapshot([str(path)], str(tmp_path / "snap"), column_map={"url": "link", "id": "docid"},
                          progress=False)
    hit = snap.search("nobel chemistry", k=1)[0]
    assert hit.url == "https://en.example.org/wiki/Marie_Curie" and hit.title == "Marie Curie"
    assert snap.manifest["counts"]["skipped"] == 1


def test_parquet_with_html_column(tmp_path):
    import pyarrow as pa  # a dependency of airgap
    import pyarrow.parquet as pq

    table = pa.table({"url": ["https://shop.example/kettle"],
                      "html": ["<html><head><title>Kettle</title></head><body><p>An enamel stovetop kettle "
                               "that whistles.</p><a href='/mugs'>mugs</a></body></html>"]})
    path = tmp_path / "shop.parquet"
    pq.write_table(table, str(path))
    snap = build_snapshot([str(path)], str(tmp_path / "snap"), progress=False)
    page = snap.get("https://shop.example/kettle")
    assert page.title == "Kettle" and page.outlinks == ["https://shop.example/mugs"]
    assert snap.search("whistling enamel kettle", k=1)[0].url == "https://shop.example/kettle"


def test_bad_column_map_says_what_to_do(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"body_text": "hello"}) + "\n")
    with pytest.raises(ValueError, match="--column-map text=COLUMN"):
        build_snapshot([str(path)], str(tmp_path / "snap"), progress=False)


def test_wet_conversion_records(tmp_path):
    import io

    from airgap.corpus.warcwriter import write_record

    buf = io.BytesIO()
    text = "Lighthouses guide ships along rocky coasts at night.".encode()
    write_record(buf, [("WARC-Type", "conversion"), ("WARC-Target-URI", "https://coast.example/lights"),
                       ("WARC-Date", "2024-04-04T04:04:04Z"), ("WARC-Record-ID", "<urn:uuid:1>"),
                       ("Content-Type", "text/plain")], text)
    path = tmp_path / "crawl.warc.wet.gz"
    path.write_bytes(buf.getvalue())
    snap = build_snapshot([str(path)], str(tmp_path / "snap"), progress=False)
    page = snap.get("https://coast.example/lights")
    assert page.body == text and page.content_type.startswith("text/plain")
    assert snap.search("rocky coast lighthouse", k=1)[0].url == "https://coast.example/lights"
