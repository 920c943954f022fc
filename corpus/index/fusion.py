"""Hybrid ranking: reciprocal rank fusion (Cormack et al. 2009) of several best-first rankings."""
from __future__ import annotations

import numpy as np

RRF_K = 60  # the paper's constant


def rrf(rankings: list[np.ndarray], want: int, k: int = RRF_K) -> tuple[np.ndarray, np.ndarray]:
    """(rows, fused scores) of the `want` best rows; a row scores sum(1 / (k + rank)) over the rankings.

    Ties go to the lower row number, so the order is deterministic.
    """
    fused: dict[int, float] = {}
    for rows in rankings:
        for rank, row in enumerate(rows.tolist()):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank + 1)
    order = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:want]
    return np.array([r for r, _ in order], dtype=np.int64), np.array([s for _, s in order], dtype=np.float32)
