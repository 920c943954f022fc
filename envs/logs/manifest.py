"""Evaluation manifests: every log of a run folder with its head, a signed root over them, and the check of a folder against it.

A run folder (see ``airgap.envs.runner.evaluate``) gets, when an evaluation ends (again on resume)::

    manifest.json     {"version": 2, "key_id", "root", "created_at", "phase",
                       "logs": [{"path": "logs/x.jsonl", "head", "status", "n_events"}, ...]}
    manifest.sig      {"root", "signature", "key_id"}: Ed25519 over the root (see ``signing``)
    public_key.pem    the public half of the key that signed it

``root = sha256(UTF-8 of the lines "<path>\\t<head>\\n", sorted)``, ``path`` relative to the folder
with ``/`` separators, ``head`` the log's head hash (``-`` when it has none); with a ``phase`` (the testing phase
the run pins: suite, split, world, shift declaration hash, model identity) one more line ``"phase\\t<sha256 of its
canonical JSON>\\n"`` joins them, so the signature covers the phase too, and :func:`verify_folder` checks that every
log's header names the same split, world, shift hash and model. A log whose row in
``results.jsonl`` carries a head signed by the same key is entered with that head (signed when the
episode ended), so a log changed between its end and the manifest is still caught.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Iterable, Mapping

from . import signing
from .reader import verify

MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
LOGS_DIR = "logs"
MANIFEST_VERSION = 2  # 2: the phase (split, shift hash, model) is in the root


def phase_digest(phase: Mapping) -> str:
    """sha256 hex of a phase's canonical JSON (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(phase, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def manifest_root(entries: Iterable[Mapping], phase: Mapping | None = None) -> str:
    """sha256 hex over the sorted ``"<path>\\t<head>\\n"`` lines of the entries (and the phase's line)."""
    lines = sorted(f"{e['path']}\t{e.get('head') or '-'}\n" for e in entries)
    if phase is not None:
        lines.append(f"phase\t{phase_digest(phase)}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def _log_files(folder: Path) -> list[str]:
    base = folder / LOGS_DIR
    if not base.is_dir():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in base.rglob("*.jsonl") if p.is_file())


def write_manifest(folder: str | os.PathLike, rows: Iterable[Mapping] = (), phase: Mapping | None = None) -> dict:
    """Write ``manifest.json``, ``manifest.sig`` and ``public_key.pem`` for every log under ``folder/logs``.

    ``rows`` are the evaluation's results rows (``log`` relative to ``folder``); a row whose
    ``head``/``signature`` verify with this machine's key gives that log's head, any other log
    (an episode a harness failure cut short, or rows signed elsewhere) is entered as it is now.
    Returns the manifest.
    """
    folder = Path(folder)
    pem = signing.public_key_pem()
    kid = signing.key_id(pem)
    signed: dict[str, Mapping] = {}
    for r in rows:
        log, head, sig = r.get("log"), r.get("head"), r.get("signature")
        if log and isinstance(head, str) and sig and r.get("key_id") == kid and signing.verify_head(head, sig, pem):
            signed[Path(log).as_posix()] = r
    entries = []
    for rel in sorted(set(_log_files(folder)) | set(signed)):
        if rel in signed:
            entries.append({"path": rel, "head": signed[rel]["head"], "status": "ok",
                            "n_events": signed[rel].get("n_events")})
            continue
        v = verify(folder / rel, check_schema=False)
        entries.append({"path": rel, "head": v.head, "status": v.status, "n_events": v.n_events})
    # the number of events of a signed log is read from the file when the row does not have it
    for e in entries:
        if e["n_events"] is None and (folder / e["path"]).is_file():
            v = verify(folder / e["path"], check_schema=False)
            e["n_events"] = v.n_events if v.head == e["head"] else None
    root = manifest_root(entries, phase)
    manifest = {"version": MANIFEST_VERSION, "key_id": kid, "root": root,
                "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
                **({"phase": dict(phase)} if phase is not None else {}), "logs": entries}
    signing._write_json_atomic(folder / MANIFEST, manifest)
    signing._write_json_atomic(folder / MANIFEST_SIG, {"root": root, "signature": signing.sign_root(root), "key_id": kid})
    (folder / PUBLIC_KEY).write_text(pem, encoding="ascii")
    return manifest


@dataclasses.dataclass
class LogCheck:
    """One log's verdict against the manifest: ``ok``, ``edited``, ``truncated``, ``replaced``, ``deleted`` or ``extra``
    (or ``manifest`` for a problem with the manifest itself)."""

    path: str
    status: str
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclasses.dataclass
class FolderCheck:
    """What :func:`verify_folder` found; ``ok`` only when the manifest is authentic and every log matches it."""

    folder: str
    logs: list[LogCheck]
    key_from_folder: bool
    key_id: str | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.logs)

    @property
    def problems(self) -> list[LogCheck]:
        return [c for c in self.logs if not c.ok]


def _check_entry(folder: Path, entry: Mapping, check_schema: bool) -> LogCheck:
    rel = str(entry.get("path"))
    path = folder / rel
    want_head, want_status, want_n = entry.get("head"), entry.get("status", "ok"), entry.get("n_events")
    if not path.is_file():
        return LogCheck(rel, "deleted", "in the manifest, missing from the folder")
    v = verify(path, check_schema=check_schema)
    if v.head == want_head and v.status == want_status:
        note = "" if v.status == "ok" else f" (it was already {v.status} when the manifest was written: {v.message})"
        return LogCheck(rel, "ok", f"head matches the manifest{note}")
    if v.status in ("tampered", "invalid"):
        return LogCheck(rel, "edited", f"{v.status}: {v.message}")
    if v.status == "truncated" or (isinstance(want_n, int) and v.n_events < want_n):
        return LogCheck(rel, "truncated", f"{v.n_events} intact events"
                        + (f" of {want_n}" if isinstance(want_n, int) else "")
                        + f"; head {str(v.head)[:16]}… is not the manifest's {str(want_head)[:16]}… ({v.message})")
    return LogCheck(rel, "replaced", f"a complete log whose head {str(v.head)[:16]}… is not the manifest's "
                    f"{str(want_head)[:16]}…: another run's log, or this one rewritten with every hash recomputed")


#: what a log header must share with its run's phase (the header's name -> the phase's)
PHASE_FIELDS = {"split": "split", "world": "world", "shift_hash": "shift_hash", "model": "model"}


def _check_phase(folder: Path, rel: str, phase: Mapping) -> LogCheck | None:
    """A ``phase`` problem when log ``rel``'s header names another split, world, shift hash or model than the run's
    manifest (None when they agree)."""
    try:
        with (folder / rel).open(encoding="utf-8") as f:
            header = json.loads(f.readline())
    except (OSError, ValueError) as e:
        return LogCheck(rel, "phase", f"its header cannot be read ({e})")
    wrong = [k for k, pk in PHASE_FIELDS.items() if pk in phase and header.get(k) != phase.get(pk)]
    if wrong:
        return LogCheck(rel, "phase", "its header names another " + ", ".join(
            f"{k} ({json.dumps(header.get(k))[:60]}, the run's is {json.dumps(phase.get(PHASE_FIELDS[k]))[:60]})"
            for k in wrong))
    return None


def verify_folder(folder: str | os.PathLike, public_key_pem: str | bytes | None = None, *,
                  check_schema: bool = True) -> FolderCheck:
    """Check a run folder against its manifest: the manifest's signature (with ``public_key_pem``, else the
    folder's ``public_key.pem``), its root, and every log (edited, truncated, replaced, deleted, extra)."""
    folder = Path(folder)
    checks: list[LogCheck] = []
    from_folder = public_key_pem is None
    if from_folder:
        kp = folder / PUBLIC_KEY
        public_key_pem = kp.read_bytes() if kp.is_file() else None
    kid = None
    if public_key_pem is None:
        checks.append(LogCheck(PUBLIC_KEY, "manifest", "no public key: give one with --key, or copy public_key.pem along"))
    else:
        try:
            kid = signing.key_id(public_key_pem)
        except signing.SigningError as e:
            checks.append(LogCheck(PUBLIC_KEY, "manifest", str(e)))
            public_key_pem = None
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        entries = list(manifest["logs"])
        root = manifest["root"]
    except FileNotFoundError:
        return FolderCheck(str(folder), [*checks, LogCheck(MANIFEST, "manifest", f"no {MANIFEST} in {folder}: "
                                                           "not an evaluation folder, or written before manifests")],
                           from_folder, kid)
    except (ValueError, KeyError, TypeError) as e:
        return FolderCheck(str(folder), [*checks, LogCheck(MANIFEST, "manifest", f"unreadable manifest ({e})")], from_folder, kid)
    phase = manifest.get("phase")
    if manifest_root(entries, phase) != root:
        checks.append(LogCheck(MANIFEST, "manifest", "its root does not match its list of logs (the manifest was edited)"))
    try:
        sig = json.loads((folder / MANIFEST_SIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        checks.append(LogCheck(MANIFEST_SIG, "manifest", f"missing or unreadable ({e})"))
    else:
        if public_key_pem is not None:
            if sig.get("key_id") not in (None, kid):
                checks.append(LogCheck(MANIFEST_SIG, "manifest", f"signed by another key (key_id {str(sig.get('key_id'))[:16]}…, "
                                                                 f"the key given is {str(kid)[:16]}…)"))
            elif sig.get("root") != root or not signing.verify_root(root, sig.get("signature", ""), public_key_pem):
                checks.append(LogCheck(MANIFEST_SIG, "manifest", "the signature does not verify for the manifest's root "
                                                                 "(the manifest or its signature was edited)"))
    listed = set()
    for e in entries:
        listed.add(str(e.get("path")))
        check = _check_entry(folder, e, check_schema)
        if check.ok and phase is not None:
            check = _check_phase(folder, str(e.get("path")), phase) or check
        checks.append(check)
    for rel in _log_files(folder):
        if rel not in listed:
            checks.append(LogCheck(rel, "extra", "a log that is not in the manifest (added after the evaluation)"))
    return FolderCheck(str(folder), checks, from_folder, kid)
