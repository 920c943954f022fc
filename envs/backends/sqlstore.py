"""SqliteBackend: the Backend contract on one in-memory SQLite database per instance, reset from a seeded template.

The seeded database of a (backend class, world) is built once and kept as a serialized image; ``reset()``
deserializes that image into the instance's connection (a memcpy, well under a millisecond for these sizes).
Each HTTP request that writes runs in ONE transaction (``with self.write(request) as db``): any exception rolls it
back, so a request that fails midway changes nothing. Triggers record the primary keys a transaction touches
(and the rows as they were), so the changes of each request are known exactly at commit time without comparing
whole states; they go to ``on_change`` once the response is sent. The connection is guarded by a lock and only
used from FastAPI's threadpool (endpoints are plain ``def``), never on the event loop.
"""
from __future__ import annotations

import base64
import hashlib
import importlib
import json
import sqlite3
import sys
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator

from fastapi import APIRouter, FastAPI, Request

from airgap.envs.backends.base import Backend, DiffRow
from airgap.envs.backends.web import MAX_BODY, REST, Accounts, ApiError, ErrorStyle, error_responses, install
from airgap.envs.common import iso, parse_iso
from airgap.envs.templates import register_templates

if TYPE_CHECKING:
    from airgap.envs.worldgen import WorldFacts

BYTES_KEY = "$bytes"  # how a BLOB value is spelled in JSON state: {"$bytes": "<base64>"}


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    pk: str


@dataclass(frozen=True)
class Template:
    """The seeded database of one (backend class, world): its serialized image, its tables, its state's hash."""
    image: bytes
    tables: dict[str, Table]
    fixture_hash: str
    build_seconds: float


_TEMPLATES: OrderedDict[tuple[type, str], Template] = OrderedDict()
_TEMPLATES_LOCK = threading.Lock()
_TEMPLATE_CACHE_SIZE = 64


def _encode(v: Any) -> Any:
    return {BYTES_KEY: base64.b64encode(v).decode()} if isinstance(v, bytes) else v


def _decode(v: Any) -> Any:
    if isinstance(v, dict):
        if set(v) == {BYTES_KEY}:
            return base64.b64decode(v[BYTES_KEY])
        raise ValueError(f"unexpected object value {v!r}")
    if isinstance(v, (list, bool)):  # bool is an int subclass: keep it as 0/1 like sqlite would
        return int(v) if isinstance(v, bool) else json.dumps(v)
    return v


def canonical(x: Any) -> str:
    return json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _id_key(v: Any) -> tuple:
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


def read_schema(package_file: str) -> str:
    """The ``schema.sql`` beside a backend package's ``__init__.py`` (pass ``__file__``)."""
    return (Path(package_file).resolve().parent / "schema.sql").read_text(encoding="utf-8")


class SqliteBackend(Backend):
    """A backend whose whole state is one SQLite database (see module docstring). Subclasses provide:

    ``schema`` (DDL, by default the package's ``schema.sql``; every table has exactly one primary-key column; tables
    starting with ``_`` are internal), ``seed(db)`` (fill the fixture from ``self.facts``; by default the package's
    ``seed.py``), ``hosts_for(facts)`` and ``routers()`` (by default the package's ``api.routers``, included in this
    order); a ``pages/`` folder beside the package's ``__init__.py`` is registered as its templates. ``login_aliases(facts)``
    names the other logins (e-mail addresses by default) that HTTP basic auth accepts for a username.
    """

    schema: ClassVar[str]
    style: ClassVar[ErrorStyle] = REST
    max_body: ClassVar[int] = MAX_BODY
    api_description: ClassVar[str] = ""

    def __init__(self, facts: WorldFacts):
        super().__init__(facts)
        self._lock = threading.RLock()
        self.hosts = self.hosts_for(facts)
        self.accounts = Accounts.for_service(facts, self.name, self.login_aliases(facts))
        self.template = self._template()
        self.tables = self.template.tables
        self._conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA recursive_triggers = ON")  # REPLACE deletes fire triggers too
        self._conn.row_factory = sqlite3.Row
        self.reset()
        self.app = self._make_app()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A backend that is a package (``backends/<name>/__init__.py``) gets its folder's parts by convention: the
        ``schema.sql`` beside it as ``schema`` and its ``pages/`` templates under the prefix ``<name>/``."""
        super().__init_subclass__(**kwargs)
        module = sys.modules.get(cls.__module__)
        path = Path(getattr(module, "__file__", "") or ".")
        if path.name != "__init__.py" or "name" not in cls.__dict__:
            return
        if "schema" not in cls.__dict__ and (path.parent / "schema.sql").is_file():
            cls.schema = read_schema(str(path))
        if (path.parent / "pages").is_dir():
            register_templates(cls.name, path.parent / "pages")

    # ------------------------------------------------------------------ what subclasses provide
    def seed(self, db: sqlite3.Connection) -> None:
        """Fill the fixture's tables from ``self.facts`` (inside one transaction): by default the package's
        ``seed.seed(facts, db)``."""
        importlib.import_module(f"{type(self).__module__}.seed").seed(self.facts, db)

    def routers(self) -> list[APIRouter]:
        """The backend's ``APIRouter``s, in the order the app includes them: by default the package's ``api.routers``
        (imported here, not at the top of the package: its handlers name the backend class), then its web app's
        (``webapp.routers``, when the package has a ``webapp.py``)."""
        package = type(self).__module__
        routers = list(importlib.import_module(f"{package}.api").routers)
        if (Path(sys.modules[package].__file__ or ".").parent / "webapp.py").is_file():
            routers += importlib.import_module(f"{package}.webapp").routers
        return routers

    @classmethod
    def login_aliases(cls, facts: WorldFacts) -> dict[str, str]:
        """Other names a user may log in with (HTTP basic auth) -> username: the people's e-mail addresses."""
        return {p.email: p.username for p in facts.people}

    # ------------------------------------------------------------------ template
    def _template(self) -> Template:
        key = (type(self), self.facts.fixture_hash())
        with _TEMPLATES_LOCK:
            t = _TEMPLATES.get(key)
            if t is not None:
                _TEMPLATES.move_to_end(key)
                return t
        t = self.build_template()
        with _TEMPLATES_LOCK:
            _TEMPLATES[key] = t
            while len(_TEMPLATES) > _TEMPLATE_CACHE_SIZE:
                _TEMPLATES.popitem(last=False)
        return t

    def build_template(self) -> Template:
        """Build the seeded database from scratch (what ``reset()`` avoids): schema, fixture, change capture."""
        import time
        t0 = time.perf_counter()
        db = sqlite3.connect(":memory:", isolation_level=None)
        db.executescript(self.schema)
        db.execute("CREATE TABLE _meta (key TEXT PRIMARY KEY, value)")
        db.execute("INSERT INTO _meta VALUES ('ticks', 0)")
        tables = _introspect(db)
        db.execute("BEGIN")
        self.seed(db)
        db.execute("COMMIT")
        _install_capture(db, tables)
        db.execute("VACUUM")
        image = db.serialize()
        state = _dump(db, self.name, tables)
        db.close()
        return Template(image, tables, hashlib.sha256(canonical(state).encode()).hexdigest(),
                        time.perf_counter() - t0)

    # ------------------------------------------------------------------ the contract
    def reset(self) -> None:
        with self._lock:
            self._conn.deserialize(self.template.image)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return _dump(self._conn, self.name, self.tables)

    def restore(self, state: dict[str, Any]) -> None:
        tables = _check_state(state, self.name, self.tables)
        with self._lock:
            db = self._conn
            db.execute("BEGIN IMMEDIATE")
            try:
                for name, rows in tables.items():
                    cols = self.tables[name].columns if name in self.tables else ("key", "value")
                    db.execute(f'DELETE FROM "{name}"')
                    db.executemany(f'INSERT INTO "{name}" ({", ".join(map(_q, cols))}) VALUES ({", ".join("?" * len(cols))})',
                                   [tuple(_decode(r.get(c)) for c in cols) for r in rows])
                _clear_capture(db, self.tables)
                db.execute("COMMIT")
            except (sqlite3.Error, ValueError, TypeError) as e:
                db.execute("ROLLBACK")
                raise ValueError(f"state does not fit the {self.name} backend: {e}") from e
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def diff(self, before: dict[str, Any], after: dict[str, Any]) -> list[DiffRow]:
        b_tables = _check_state(before, self.name, self.tables)
        a_tables = _check_state(after, self.name, self.tables)
        out: list[DiffRow] = []
        for name, t in self.tables.items():
            b = {r[t.pk]: r for r in b_tables[name]}
            a = {r[t.pk]: r for r in a_tables[name]}
            for k in sorted(set(b) | set(a), key=_id_key):
                rb, ra = b.get(k), a.get(k)
                if rb == ra:
                    continue
                op = "insert" if rb is None else "delete" if ra is None else "update"
                out.append({"backend": self.name, "table": name, "id": k, "op": op, "before": rb, "after": ra})
        return out

    def fixture_hash(self) -> str:
        return self.template.fixture_hash

    def image(self) -> bytes:
        """The live database as bytes (SQLite's serialized form): a fast, exact snapshot to fork or benchmark from."""
        with self._lock:
            return self._conn.serialize()

    def load_image(self, image: bytes) -> None:
        """Replace the live state with an ``image()`` of this backend (no validation: use ``restore`` for JSON)."""
        with self._lock:
            self._conn.deserialize(image)

    def fixture_state(self) -> dict[str, Any]:
        """The state ``reset()`` returns to, without touching the live one (read from the template image)."""
        db = sqlite3.connect(":memory:")
        try:
            db.deserialize(self.template.image)
            return _dump(db, self.name, self.tables)
        finally:
            db.close()

    @staticmethod
    def visible_row(db: sqlite3.Connection, table: str, key: Any, column: str, allowed: list, what: str) -> sqlite3.Row:
        """The row of ``table`` with id ``key`` whose ``column`` is one of ``allowed`` (what the caller may see);
        a 404 naming ``what`` otherwise, so another user's object and a missing one look the same."""
        marks = ",".join("?" * len(allowed))
        row = db.execute(f"SELECT * FROM {table} WHERE id = ? AND {column} IN ({marks})", (key, *allowed)).fetchone()
        if row is None:
            raise ApiError(404, f"{what} {key} not found")
        return row

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read; anything written inside is rolled back."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                with _client_errors():
                    yield self._conn
            finally:
                self._conn.execute("ROLLBACK")

    @contextmanager
    def write(self, request: Request | None = None, origin: dict[str, Any] | None = None) -> Iterator[sqlite3.Connection]:
        """One transaction: committed if the block finishes, rolled back on any exception (never a partial write).

        The changed rows are attached to ``request`` and reported to ``on_change`` after the response is sent
        (or at once when there is no request, e.g. a direct Python call or a mail protocol's command, whose
        ``origin`` names what did it: the JSON API's equivalent ``method``, ``path`` and ``status``, ``via``...).
        """
        with self._lock:
            db = self._conn
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("UPDATE _meta SET value = value + 1 WHERE key = 'ticks'")
                with _client_errors():
                    yield db
                changes = self._collect(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        if changes:
            if request is not None and "airgap.changes" in request.scope:
                request.scope["airgap.changes"].extend(changes)
            else:
                self.emit({"backend": self.name, "method": None, "path": None, "status": None, **(origin or {}),
                           "changes": changes})

    def set_clock(self, before_now_s: int | None) -> None:
        """Run the clock ``before_now_s`` seconds before the world's "now" (a task's setup: what colleagues did before
        the episode is stamped before it), still a second per write; None brings it back to "now" (no earlier than
        where it is), where the episode's own writes start."""
        with self._lock:
            if before_now_s is None:
                self._conn.execute("UPDATE _meta SET value = MAX(value, 0) WHERE key = 'ticks'")
            else:
                self._conn.execute("UPDATE _meta SET value = ? WHERE key = 'ticks'", (-int(before_now_s),))
            self._conn.commit()

    def now(self, db: sqlite3.Connection) -> datetime:
        """The world's clock: the facts' ``now`` plus one second per committed write request."""
        ticks = db.execute("SELECT value FROM _meta WHERE key = 'ticks'").fetchone()[0]
        return parse_iso(self.facts.now) + timedelta(seconds=int(ticks))

    def now_iso(self, db: sqlite3.Connection) -> str:
        return iso(self.now(db))

    def _collect(self, db: sqlite3.Connection) -> list[DiffRow]:
        touched = db.execute("SELECT tbl, pk, existed FROM _touched ORDER BY rowid").fetchall()
        out: list[DiffRow] = []
        for tbl, pk, existed in touched:
            t = self.tables[tbl]
            before = _row(db, f"_old_{tbl}", t, pk) if existed else None
            after = _row(db, tbl, t, pk)
            if before == after:
                continue
            op = "insert" if before is None else "delete" if after is None else "update"
            out.append({"backend": self.name, "table": tbl, "id": pk, "op": op, "before": before, "after": after})
        if touched:
            _clear_capture(db, {t for t, _, _ in touched})
        return out

    # ------------------------------------------------------------------ the ASGI app
    def _make_app(self) -> FastAPI:
        app = FastAPI(title=self.title or self.name, version="1.0", description=self.api_description,
                      responses=error_responses(self.style), docs_url=None, redoc_url=None,
                      servers=[{"url": f"https://{self.hosts[0]}", "description": "inside an Airgap world"}])
        app.state.backend = self  # what the handlers' Depends(current_backend) returns
        install(app, self.style, self.max_body)
        app.add_middleware(ChangeRecorder, backend=self)
        for router in self.routers():
            app.include_router(router)
        return app


class ChangeRecorder:
    """ASGI middleware: report the rows a request's transaction committed to ``on_change`` with the response status.

    The event is emitted just before the response starts, so whoever reads the response (an episode's ``step``) can
    rely on the change having been recorded already. A web app's form handler names the JSON API call with the same
    effect in ``scope["airgap.origin"]`` (``method``, ``path``, ``status``, ``via``, ``command``), which the event takes.
    """

    def __init__(self, app: Callable, backend: Backend):
        self.app, self.backend = app, backend

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        changes: list[DiffRow] = []
        scope["airgap.changes"] = changes
        emitted = False

        def emit(status: int | None) -> None:
            nonlocal emitted
            if changes and not emitted:
                emitted = True
                qs = scope.get("query_string", b"").decode("latin-1")
                self.backend.emit({"backend": self.backend.name, "method": scope["method"],
                                   "path": scope["path"] + (f"?{qs}" if qs else ""), "status": status,
                                   **scope.get("airgap.origin", {}), "changes": list(changes)})

        async def send_after_emit(message: dict) -> None:
            if message["type"] == "http.response.start":
                emit(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_after_emit)
        finally:
            emit(None)  # committed, but no response went out (the client left): still recorded


# ---------------------------------------------------------------------------------------------------- helpers
@contextmanager
def _client_errors() -> Iterator[None]:
    """Errors that input alone can cause become 4xx with a message (the transaction is rolled back by the caller)."""
    try:
        yield
    except UnicodeEncodeError:
        raise ApiError(422, "text contains characters that are not valid Unicode (lone surrogates)") from None
    except OverflowError:
        raise ApiError(422, "a number is out of range (at most 2**63 - 1)") from None
    except sqlite3.IntegrityError as e:
        raise ApiError(409, f"conflicts with an existing object ({e})", "conflict") from None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _introspect(db: sqlite3.Connection) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                              "AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY rowid"):
        info = db.execute(f"PRAGMA table_info({_q(name)})").fetchall()
        pks = [r[1] for r in info if r[5]]
        if len(pks) != 1:
            raise TypeError(f"table {name} must have exactly one primary-key column, has {pks}")
        tables[name] = Table(name, tuple(r[1] for r in info), pks[0])
    return tables


def _install_capture(db: sqlite3.Connection, tables: dict[str, Table]) -> None:
    """Triggers that record, per transaction, each touched primary key and the row as it was before."""
    db.execute("CREATE TABLE _touched (tbl TEXT NOT NULL, pk NOT NULL, existed INTEGER NOT NULL, PRIMARY KEY (tbl, pk))")
    for t in tables.values():
        name, pk = t.name, _q(t.pk)
        lit = "'" + name.replace("'", "''") + "'"
        old = f"_old_{name}"
        db.execute(f"CREATE TABLE {_q(old)} ({', '.join(map(_q, t.columns))}, PRIMARY KEY ({pk}))")
        absent_old = f"WHERE NOT EXISTS (SELECT 1 FROM _touched WHERE tbl = {lit} AND pk = OLD.{pk})"
        absent_new = f"WHERE NOT EXISTS (SELECT 1 FROM _touched WHERE tbl = {lit} AND pk = NEW.{pk})"
        keep_old = (f"INSERT INTO {_q(old)} SELECT {', '.join('OLD.' + _q(c) for c in t.columns)} {absent_old};\n"
                    f"INSERT INTO _touched (tbl, pk, existed) SELECT {lit}, OLD.{pk}, 1 {absent_old};\n")
        new = f"INSERT INTO _touched (tbl, pk, existed) SELECT {lit}, NEW.{pk}, 0 {absent_new};\n"
        db.execute(f"CREATE TRIGGER {_q('_ins_' + name)} AFTER INSERT ON {_q(name)} BEGIN\n{new}END")
        db.execute(f"CREATE TRIGGER {_q('_upd_' + name)} AFTER UPDATE ON {_q(name)} BEGIN\n{keep_old}{new}END")
        db.execute(f"CREATE TRIGGER {_q('_del_' + name)} AFTER DELETE ON {_q(name)} BEGIN\n{keep_old}END")


def _clear_capture(db: sqlite3.Connection, names: Any) -> None:
    db.execute("DELETE FROM _touched")
    for name in names:
        db.execute(f"DELETE FROM {_q('_old_' + name)}")


def _row(db: sqlite3.Connection, table: str, t: Table, pk: Any) -> dict[str, Any] | None:
    r = db.execute(f"SELECT {', '.join(map(_q, t.columns))} FROM {_q(table)} WHERE {_q(t.pk)} = ?", (pk,)).fetchone()
    return None if r is None else {c: _encode(v) for c, v in zip(t.columns, r, strict=True)}


def _dump(db: sqlite3.Connection, backend: str, tables: dict[str, Table]) -> dict[str, Any]:
    out: dict[str, list[dict[str, Any]]] = {}
    for t in tables.values():
        cur = db.execute(f"SELECT {', '.join(map(_q, t.columns))} FROM {_q(t.name)} ORDER BY {_q(t.pk)}")
        out[t.name] = [{c: _encode(v) for c, v in zip(t.columns, r, strict=True)} for r in cur]
    out["_meta"] = [{"key": k, "value": v} for k, v in db.execute("SELECT key, value FROM _meta ORDER BY key")]
    return {"backend": backend, "tables": out}


def _check_state(state: Any, backend: str, tables: dict[str, Table]) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(state, dict) or not isinstance(state.get("tables"), dict):
        raise ValueError("a backend state is {'backend': name, 'tables': {table: [rows]}}")
    if state.get("backend") != backend:
        raise ValueError(f"this state belongs to backend {state.get('backend')!r}, not {backend!r}")
    got = state["tables"]
    want = set(tables) | {"_meta"}
    if set(got) != want:
        raise ValueError(f"state tables differ: missing {sorted(want - set(got))}, unknown {sorted(set(got) - want)}")
    for name, rows in got.items():
        cols = set(tables[name].columns) if name in tables else {"key", "value"}
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError(f"table {name}: rows must be a list of objects")
        for r in rows:
            extra = set(r) - cols
            if extra:
                raise ValueError(f"table {name}: unknown columns {sorted(extra)}")
    return got
