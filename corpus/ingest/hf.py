"""Hugging Face `datasets` as a source: a folder saved with save_to_disk, or a hub name when a hub is reachable."""
from __future__ import annotations

import os
from collections.abc import Iterator

from ..capture import Capture, Skipped
from .tabular import resolve_columns, rows_to_captures


def read_hf(name_or_path: str, column_map=None, split: str | None = None) -> Iterator[Capture | Skipped]:
    """A `datasets` dataset saved with save_to_disk (a folder), or a hub name when a hub is reachable."""
    import datasets

    if os.path.isdir(name_or_path):
        ds = datasets.load_from_disk(name_or_path)
    else:
        try:
            ds = datasets.load_dataset(name_or_path)
        except Exception as e:  # offline, unknown name, gated...: all end the same way for the user
            raise ValueError(f"cannot load dataset {name_or_path!r} from the hub ({type(e).__name__}: {e}); "
                             "offline, save it with Dataset.save_to_disk(FOLDER) and pass FOLDER") from e
    if isinstance(ds, datasets.DatasetDict):
        splits = [split] if split else list(ds.keys())
        parts = [(s, ds[s]) for s in splits]
    else:
        parts = [(None, ds)]
    base = os.path.basename(os.path.normpath(name_or_path))
    for s, d in parts:
        cols = resolve_columns(d.column_names, column_map)
        yield from rows_to_captures(iter(d), cols, base if s is None else f"{base}-{s}")
