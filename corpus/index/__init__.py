"""Passage indexes: `sparse` (BM25 with bm25s), `dense` (an encoder's vectors in faiss), `fusion` (RRF of both)."""
