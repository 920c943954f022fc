"""A seventh backend added by its own folder only: a tiny notes service written to a temporary folder, imported
from there, and then served, diffed and graded like the built-in six (no edit anywhere else)."""
from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest
from backend_support import Api

from airgap.envs.backends import BACKENDS, account_services, make_backends, service_names, service_notes
from airgap.envs.graders import Episode, grade
from airgap.envs.worldgen import generate

PACKAGE = "airgap_toy_notes"
FILES = {
    "__init__.py": '''
        """Notes: one list of short notes per person of the organisation."""
        from pathlib import Path
        from typing import Any

        from fastapi import APIRouter

        from airgap.envs.backends import SqliteBackend, register_backend
        from airgap.envs.backends.sqlstore import read_schema
        from airgap.envs.templates import register_templates

        from airgap_toy_notes.seed import seed as seed_notes

        register_templates("toy", Path(__file__).resolve().parent / "pages")


        @register_backend
        class NotesBackend(SqliteBackend):
            name = "toy"
            title = "Notes"
            note = "personal notes, JSON API under /api"
            schema = read_schema(__file__)

            @classmethod
            def hosts_for(cls, facts: Any) -> list[str]:
                return [f"notes.{facts.org.domain}"]

            def seed(self, db) -> None:
                seed_notes(self.facts, db)

            def routers(self) -> list[APIRouter]:
                from airgap_toy_notes import api

                return api.routers

            def notes_of(self, db, user: str) -> list[dict]:
                return [dict(r) for r in db.execute("SELECT id, text FROM notes WHERE owner = ? ORDER BY id", (user,))]
    ''',
    "schema.sql": '''
        CREATE TABLE notes (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, text TEXT NOT NULL);
    ''',
    "seed.py": '''
        """A welcome note for every person."""


        def seed(facts, db) -> None:
            db.executemany("INSERT INTO notes (owner, text) VALUES (?, ?)",
                           [(p.username, f"Welcome, {p.first_name}") for p in facts.people])
    ''',
    "api.py": '''
        """GET/POST /api/notes, and the page at /."""
        from typing import Annotated

        from fastapi import APIRouter, Depends, Request
        from fastapi.responses import HTMLResponse
        from pydantic import BaseModel, ConfigDict, Field

        from airgap.envs.backends.web import BearerAuth, current_backend, html_page, page_user

        from airgap_toy_notes import NotesBackend

        Notes = Annotated[NotesBackend, Depends(current_backend)]
        User = Annotated[str, Depends(BearerAuth())]
        PageUser = Annotated[str, Depends(page_user)]


        class NoteIn(BaseModel):
            model_config = ConfigDict(extra="forbid")
            text: str = Field(min_length=1, max_length=500)


        notes_api = APIRouter(prefix="/api", tags=["notes"])
        pages = APIRouter(include_in_schema=False)


        @notes_api.get("/notes")
        def list_notes(b: Notes, user: User) -> list[dict]:
            with b.read() as db:
                return b.notes_of(db, user)


        @notes_api.post("/notes", status_code=201)
        def add_note(b: Notes, body: NoteIn, user: User, request: Request) -> dict:
            with b.write(request) as db:
                cur = db.execute("INSERT INTO notes (owner, text) VALUES (?, ?)", (user, body.text))
                return {"id": cur.lastrowid, "text": body.text}


        @pages.get("/", response_class=HTMLResponse)
        def home(b: Notes, request: Request, user: PageUser) -> HTMLResponse:
            with b.read() as db:
                notes = b.notes_of(db, user)
            return html_page(request, "toy/notes.html.j2", "Your notes", [("/", "Notes")], user, notes=notes)


        routers = [notes_api, pages]
    ''',
    "pages/notes.html.j2": '''
        {% extends "backends/layout.html.j2" %}
        {% block content %}
        <ul>
        {% for n in notes %}
        <li>{{ n.text }}</li>
        {% endfor %}
        </ul>
        {% endblock %}
    ''',
}


@pytest.fixture
def toy(tmp_path: Path):
    """The notes backend's package, written under tmp_path and imported from there; unregistered afterwards."""
    root = tmp_path / PACKAGE
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE).NotesBackend
    finally:
        sys.path.remove(str(tmp_path))
        BACKENDS.pop("toy", None)
        for mod in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[mod]


def test_a_backend_in_its_own_folder_is_served_diffed_and_graded(toy):
    assert service_names()[-1] == "toy" and service_names()[:6] == ["mail", "calendar", "shop", "bank", "tracker",
                                                                     "chat"]
    assert service_notes()["toy"] == "personal notes, JSON API under /api"
    assert "toy" in account_services() and "toy" not in account_services(customer=True)

    facts = generate(4)  # generated after the registration: the world's credentials include the new service
    alice = facts.people[1]
    assert facts.token("toy", alice.username)
    backends = make_backends(["mail", "toy"], facts)
    notes = backends["toy"]
    assert isinstance(notes, toy) and notes.hosts == [f"notes.{facts.org.domain}"]
    assert "/api/notes" in notes.openapi()["paths"]

    events = []
    notes.on_change = events.append
    ep = Episode(answer=None, backends=backends)
    spec = [{"type": "backend_state", "expect": [{"backend": "toy", "table": "notes", "op": "insert",
                                                  "where": {"owner": alice.username, "text": "buy milk"}}]}]
    assert grade(spec, ep).reward == 0.0  # nothing done yet

    api = Api(notes, alice.username)  # its ASGI app over real HTTP semantics, with her bearer token
    try:
        assert api.get("/api/notes").json() == [{"id": 2, "text": f"Welcome, {alice.first_name}"}]
        r = api.post("/api/notes", json={"text": "buy milk"})
        assert r.status_code == 201, r.text
        assert api.post("/api/notes", json={"text": ""}).status_code == 422
        page = api.get("/")
        assert page.status_code == 200 and "<li>buy milk</li>" in page.text and alice.username in page.text
        assert Api(notes).get("/api/notes").status_code == 401
    finally:
        api.close()

    [change] = notes.diff(notes.fixture_state(), notes.state())
    assert change["op"] == "insert" and change["table"] == "notes" and change["after"]["text"] == "buy milk"
    assert [e["changes"] for e in events] == [[change]] and events[0]["path"] == "/api/notes"
    result = grade(spec, ep)
    assert result.reward == 1.0, result.results

    notes.reset()
    assert notes.diff(notes.fixture_state(), notes.state()) == []
