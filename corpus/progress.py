"""Progress bars for long builds: rich on stderr, shown only when asked for and stderr is a terminal."""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.errors import LiveError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")


def _progress(enabled: bool) -> Progress | None:
    """A started Progress on stderr, or None when disabled, not a terminal, or another live display is on."""
    if not enabled:
        return None
    console = Console(stderr=True)
    if not console.is_terminal:
        return None
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=console)
    try:
        bar.start()
    except LiveError:  # a caller's own display (e.g. an evaluation's) is showing: stay quiet rather than fail
        return None
    return bar


def track(items: Iterable[T], description: str, *, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """Yield `items`, advancing a bar labelled `description` (total from len() when not given)."""
    bar = _progress(enabled)
    if bar is None:
        yield from items
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    try:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
    finally:
        bar.stop()


@contextlib.contextmanager
def step(description: str, *, enabled: bool = True) -> Iterator[None]:
    """A bar with no total (it pulses) while one long call runs, e.g. building an index."""
    bar = _progress(enabled)
    if bar is None:
        yield
        return
    try:
        bar.add_task(description, total=None)
        yield
    finally:
        bar.stop()
