"""EventStream: every event an episode produces, numbered and handed to its subscribers (the log writer, the monitors).

The env publishes each event once (``action``, ``validation``, ``sandbox.*`` from the sandbox's sink,
``backend_change``, ``flag``, ``observation``...); the stream numbers it (``seq``) and hands the same dict
(``seq``, ``type`` and the data as given) to every subscriber, whether or not a log is written. When an
:class:`~airgap.envs.logs.EpisodeLog` is attached it writes every event, and its numbering is the stream's: the
seq a monitor cites as evidence is the seq of that event in the log. Events a caller appends to the log directly
(``airgap replay fork`` adds the agent's model calls that way) reach the subscribers too, through the log's
``observer``.

Thread-safe: the sandbox reports from its own threads; one lock keeps numbering and delivery in one order.
"""
from __future__ import annotations

import re
import threading
from typing import Any, Callable, Mapping

#: Members an event must not set (the log sets them); a sandbox event's own are kept as ``sandbox_<name>``.
RESERVED = frozenset({"seq", "type", "t_wall", "t_mono", "prev", "hash"})

Subscriber = Callable[[dict], None]


class EventStream:
    """One episode's events, in order, to every subscriber (see the module docstring)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.RLock()
        self._local = threading.local()
        self._log: Any = None
        self._seq = 1  # seq 0 is the log's header
        self._step: int | None = None
        self.closed = False
        #: Subscriber failures ("Type: message"): a subscriber bug must not take the episode down.
        self.errors: list[str] = []

    def subscribe(self, fn: Subscriber) -> None:
        """Call ``fn(event)`` with every event published from now on (from the publishing thread, in seq order)."""
        with self._lock:
            self._subscribers.append(fn)

    def attach_log(self, log: Any) -> None:
        """Write every event to ``log`` (an EpisodeLog, opened with its header) and number events as it does."""
        with self._lock:
            self._log = log
            self._seq = log.n_events
            log.observer = self._from_log

    @property
    def step(self) -> int | None:
        """The step of the last event that named one (sandbox events without a step are tagged with it)."""
        return self._step

    def publish(self, type: str, **data: Any) -> dict | None:  # noqa: A002 - the event field's name
        """Number the event, write it to the log if one is attached, hand it to the subscribers; returns the event as
        the subscribers got it (None once the stream is closed)."""
        with self._lock:
            if self.closed:
                return None
            step = data.get("step")
            if isinstance(step, int) and not isinstance(step, bool):
                self._step = step
            log = self._log
            if log is not None and not log.closed:
                self._local.publishing = True
                try:
                    seq = log.append(type, **data)["seq"]
                finally:
                    self._local.publishing = False
            else:
                seq = self._seq
            self._seq = seq + 1
            event = {**data, "seq": seq, "type": type}
            self._deliver(event)
            return event

    def sink(self, event: Mapping[str, Any]) -> None:
        """The sandbox's event sink: ``{"type": "exec", ...}`` is published as ``sandbox.exec``, tagged with the current
        step when it has none (as ``EpisodeLog.sink`` does). Never raises: the sandbox must not fail on a report."""
        try:
            kind = re.sub(r"[^a-z0-9_]+", "_", str(event.get("type") or "event").lower()).strip("_") or "event"
            data = {(f"sandbox_{k}" if k in RESERVED else str(k)): v for k, v in event.items() if k != "type"}
            if "step" not in data and self._step is not None:
                data["step"] = self._step
            self.publish("sandbox." + kind, **data)
        except Exception as e:  # noqa: BLE001 - recorded, and written to the log when there is one
            self.errors.append(f"sink: {type(e).__name__}: {e}")
            try:
                self.publish("log_error", error=f"{type(e).__name__}: {e}", source="sink")
            except Exception:  # noqa: BLE001 - the log itself is failing; the error list keeps it
                pass

    def close(self) -> None:
        """Publish nothing more (late sandbox reports after the episode are dropped)."""
        with self._lock:
            self.closed = True
            if self._log is not None and getattr(self._log, "observer", None) == self._from_log:
                self._log.observer = None
            self._log = None

    def _from_log(self, event: dict) -> None:
        """The log's observer: events appended to the log directly, not through :meth:`publish`."""
        if getattr(self._local, "publishing", False):
            return  # published here: delivered by publish itself
        with self._lock:
            if self.closed:
                return
            self._seq = max(self._seq, int(event.get("seq", self._seq - 1)) + 1)
            self._deliver(event)

    def _deliver(self, event: dict) -> None:
        for fn in list(self._subscribers):
            try:
                fn(event)
            except Exception as e:  # noqa: BLE001 - a monitor bug must not lose the episode; it is recorded
                self.errors.append(f"{type(e).__name__}: {e}")
