"""Events and sinks. An event is a flat JSON-able dict with at least ``type``, ``sandbox`` and ``ts``.

A sink is any ``Callable[[dict], None]``. The episode log of ``airgap.envs`` is one; :class:`JsonlSink`
writes one JSON object per line and flushes each, so a killed harness loses at most the event in flight.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

EventSink = Callable[[dict], None]


def make_event(type_: str, sandbox: str, **data: Any) -> dict:
    return {"type": type_, "sandbox": sandbox, "ts": time.time(), **data}


def emit(sink: EventSink | None, event: dict) -> None:
    """Hand ``event`` to ``sink``; a broken sink is reported on stderr and never breaks the sandbox."""
    if sink is None:
        return
    try:
        sink(event)
    except Exception as e:  # the sink is the caller's code; the sandbox must keep working
        print(f"airgap: event sink failed on {event.get('type')}: {e!r}", file=sys.stderr)


class JsonlSink:
    """Append events to a JSONL file, one line each, flushed as written. Thread-safe."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def __call__(self, event: dict) -> None:
        line = json.dumps(event, sort_keys=True, default=str)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()
