"""One Inspect sample's Airgap record: its event stream, the signed episode log beside the Inspect log, the monitors.

Everything the sandbox reports (commands, files, gateway requests, DNS look-ups, egress attempts) goes through an
:class:`~airgap.envs.stream.EventStream`, as in :class:`~airgap.envs.env.AirgapEnv`: the episode log writes it and the
monitors read it. Each call Inspect makes (``exec``, ``read_file``, ``write_file``) is one step: an ``action`` event
with the effects of what it does (``runs_commands``, ``reads_files``, ``writes_files``; monitors select events by
them), the sandbox's events, then an ``observation`` event. What an Inspect user must see (egress attempts, gateway
requests, DNS look-ups of unknown names, flags) is queued for the sample's transcript; :meth:`SampleRecord.drain`
hands it over.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

#: Sandbox event types shown in the Inspect transcript (every event is in the episode log).
SHOWN = ("sandbox.egress_attempt", "sandbox.http", "sandbox.dns", "flag")


def brief(event: dict) -> dict:
    """The members of an event worth showing in a transcript (no hashes, no bulky bodies)."""
    drop = {"prev", "hash", "t_mono", "request_body", "response_body", "headers", "response_headers"}
    return {k: v for k, v in event.items() if k not in drop and not (isinstance(v, str) and len(v) > 2000)}


class SampleRecord:
    """The record of one sample (see the module docstring). Thread-safe: the sandbox reports from its own threads."""

    def __init__(self, world: Any, header: dict, log_path: Path | None, monitors: str | list[str] | None = "all"):
        from airgap.envs.stream import EventStream

        self.world = world
        self.header = dict(header)
        self.log_path = log_path
        self.stream = EventStream()
        self.step = 0
        self.flags: list[dict] = []
        self.counts: dict[str, int] = {}
        self._shown: list[dict] = []
        self._flag_queue: list = []  # flags raised, published once the lock is released (publishing re-enters)
        self._lock = threading.Lock()
        self._log: Any = None
        self._monitors: Any = None
        self.closed = False
        self.signature: dict | None = None
        if log_path is not None:
            from airgap.envs.logs import EpisodeLog

            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = EpisodeLog(log_path, header)
            self.stream.attach_log(self._log)
        if monitors not in (None, "none"):
            from airgap.envs.monitors import MonitorSet, make_monitors
            from airgap.envs.monitors.context import live_context

            names = None if monitors == "all" else list(monitors)
            self._monitors = MonitorSet(make_monitors(names), live_context(header, {}, world))
        self.stream.subscribe(self._on_event)
        self.stream.publish("reset", step=0, observation="", info={"source": "inspect"}, seed=header.get("seed"),
                            options={}, tools=[])

    # -- events in -------------------------------------------------------------------------------------

    def sink(self, event: dict) -> None:
        """The sandbox's event sink."""
        self.stream.sink(event)

    def _on_event(self, event: dict) -> None:
        with self._lock:
            t = event.get("type", "")
            self.counts[t] = self.counts.get(t, 0) + 1
            if t in SHOWN:
                self._shown.append(brief(event))
            if self._monitors is not None and t != "flag":
                self._flag_queue.extend(self._monitors.observe(event))

    def _publish_flags(self, finish: bool = False) -> None:
        with self._lock:
            if self._monitors is not None:
                self._flag_queue.extend(self._monitors.finish() if finish else self._monitors.end_step())
            flags, self._flag_queue = self._flag_queue, []
        for f in flags:
            data = {**f.to_event(), "step": f.step if f.step is not None else self.step}
            self.flags.append(data)
            self.stream.publish("flag", **data)

    def begin(self, tool: str, args: dict, effects: list[str]) -> int:
        """An Inspect call starts: one step, with what it may do."""
        with self._lock:
            self.step += 1
            step = self.step
        self.stream.publish("action", step=step, action={"tool": tool, "args": args}, tool=tool, args=args,
                            effects=sorted(effects))
        return step

    def end(self, step: int, ok: bool, summary: str, duration_s: float) -> None:
        """The call returned (its sandbox events are in): the step's flags, then its observation."""
        self._publish_flags()
        self.stream.publish("observation", step=step, observation=summary, reward=0.0, terminated=False,
                            truncated=False, info={"ok": ok}, duration_s=round(duration_s, 6))

    # -- events out ------------------------------------------------------------------------------------

    def drain(self) -> list[dict]:
        """The transcript-worthy events since the last call (egress attempts, gateway requests, DNS, flags)."""
        with self._lock:
            out, self._shown = self._shown, []
        return out

    def summary(self) -> dict:
        """What the Inspect store keeps for this sample: the log, its signature, counts, flags."""
        return {"log": str(self.log_path) if self.log_path else None,
                "signature": self.signature, "steps": self.step,
                "egress_attempts": self.counts.get("sandbox.egress_attempt", 0),
                "gateway_requests": self.counts.get("sandbox.http", 0), "dns_lookups": self.counts.get("sandbox.dns", 0),
                "flags": list(self.flags)}

    def close(self, status: str = "done") -> dict:
        """Finish the monitors, seal the log (end event, chain verified, head signed: ``<log>.sig``), stop the stream."""
        if self.closed:
            return self.summary()
        self.closed = True
        try:
            self._publish_flags(finish=True)
        except Exception as e:  # noqa: BLE001 - a monitor bug must not lose the record; the log says so
            self.stream.publish("log_error", error=f"monitors at the end: {type(e).__name__}: {e}", source="monitors")
        self.stream.close()
        if self._log is not None and not self._log.closed:
            from airgap.envs.logs.signing import seal_log

            self._log.close(status=status, steps=self.step, answer=None)
            self.signature = seal_log(self.log_path)
        return self.summary()


def log_name(task: str, sample_id: Any, epoch: Any) -> str:
    """A file name for one sample's episode log (unique per attempt)."""
    import re

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{task}.{sample_id}.epoch{epoch}")[:150]
    return f"{safe}.{time.strftime('%Y%m%dT%H%M%S')}.{time.monotonic_ns() % 10**9}.jsonl"
