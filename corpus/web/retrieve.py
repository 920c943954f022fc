"""Search-R1's batch retrieval protocol: {"queries", "topk", "return_scores"} -> {"result": [[...], ...]}."""
from __future__ import annotations

from ..snapshot import Snapshot
from .search import MAX_K


def retrieve_response(snap: Snapshot, body: dict) -> dict:
    """Passages (not pages) per query, as Search-R1's retrieval server returns them. Blocking."""
    queries = body.get("queries")
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        raise ValueError('"queries" must be a list of strings')
    topk = min(MAX_K, max(1, int(body.get("topk", 3))))
    mode = body.get("mode", "bm25")
    result = []
    for hits in snap.retrieve(queries, topk=topk, mode=mode):
        docs = [{"id": h.passage_id, "contents": f'"{h.title}"\n{h.text}', "url": h.url} for h in hits]
        if body.get("return_scores", False):
            result.append([{"document": d, "score": h.score} for d, h in zip(docs, hits, strict=True)])
        else:
            result.append(docs)
    return {"result": result}
