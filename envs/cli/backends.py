"""`airgap backends`: list the simulated services, serve one on loopback to explore it, print its OpenAPI document.

    airgap backends list                          every backend with its hostnames and endpoint count
    airgap backends serve mail --seed 0           http://127.0.0.1:8090 with a user's token to try
    airgap backends openapi tracker > gh.json     the OpenAPI document of one backend
"""
from __future__ import annotations

import json
import socket

import typer

app = typer.Typer(help="The simulated services of a world (mail, calendar, shop, bank, tracker, chat).",
                  no_args_is_help=True)

SEED = typer.Option(0, "--seed", min=0, help="World seed: which generated organisation the fixture is made from.")


def _backend(name: str, seed: int):
    """The backend ``name`` of world ``seed``; a clear error for an unknown name."""
    from airgap.envs.backends import BACKENDS, make_backends
    from airgap.envs.worldgen import generate

    if name not in BACKENDS:
        raise typer.BadParameter(f"unknown backend {name!r}; choose one of {', '.join(sorted(BACKENDS))}", param_hint="NAME")
    return make_backends([name], generate(seed))[name]


def _endpoints(backend) -> tuple[int, int]:
    """(JSON API operations in the OpenAPI document, HTML pages)."""
    from fastapi.routing import APIRoute

    api = sum(len(ops) for ops in backend.openapi()["paths"].values())
    pages = sum(1 for router in backend.routers() for r in router.routes
                if isinstance(r, APIRoute) and not r.include_in_schema)
    return api, pages


@app.command("list")
def list_(seed: int = SEED, as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Every backend: its hostnames in world SEED, its JSON API operations and HTML pages.

    \b
    Examples:
      airgap backends list
      airgap backends list --seed 3 --json
    """
    from airgap.envs.backends import BACKENDS, make_backends
    from airgap.envs.worldgen import generate

    facts = generate(seed)
    rows = []
    for name, b in make_backends(sorted(BACKENDS), facts).items():
        api, pages = _endpoints(b)
        rows.append({"name": name, "title": b.title, "hosts": b.hosts, "api_operations": api, "html_pages": pages,
                     "fixture_hash": b.fixture_hash()})
    if as_json:
        typer.echo(json.dumps({"seed": seed, "org": facts.org.name, "backends": rows}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"Backends of world {seed} ({facts.org.name})", caption="fixture hashes and more: --json")
    t.add_column("backend")
    t.add_column("service")
    t.add_column("hosts", no_wrap=True)
    t.add_column("API ops", justify="right")
    t.add_column("HTML pages", justify="right")
    for r in rows:
        t.add_row(r["name"], r["title"], "\n".join(r["hosts"]), str(r["api_operations"]), str(r["html_pages"]))
    Console().print(t)


@app.command()
def serve(
    name: str = typer.Argument(..., help="Backend name (see `airgap backends list`)."),
    seed: int = SEED,
    port: int = typer.Option(8090, "--port", min=0, max=65535, help="Loopback port; 0 picks a free one."),
    user: str = typer.Option(None, "--user", help="Whose token to print (a username of the world); default: a typical user."),
    changes: bool = typer.Option(True, "--changes/--no-changes", help="Print every committed state change as JSON."),
) -> None:
    """Serve one backend on 127.0.0.1 (never another interface) to explore it with a browser, curl or a client library.

    The service answers as it would at its real hostnames inside a sandbox: the JSON API (see /openapi.json) with
    `Authorization: Bearer <token>`, and HTML pages with basic auth or `?token=`. State lives in memory and starts
    from the world's seeded fixture; stop with Ctrl-C.

    \b
    Examples:
      airgap backends serve mail
      airgap backends serve tracker --seed 3 --port 8091
      curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8090/api/messages
    """
    import uvicorn

    b = _backend(name, seed)
    facts = b.facts
    who = user or _typical_user(name, facts)
    try:
        cred = facts.credentials_for(who)
        token = cred.tokens[name]
    except KeyError:
        raise typer.BadParameter(f"{who!r} has no {name} account in world {seed}", param_hint="--user") from None
    if changes:
        b.on_change = lambda ev: typer.echo(json.dumps(ev, default=str), err=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as e:
        raise typer.BadParameter(f"cannot listen on 127.0.0.1:{port}: {e.strerror}", param_hint="--port") from None
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    login = facts.person(who).github_login if name == "tracker" and who in {p.username for p in facts.people} else who
    example = {"mail": "/api/messages", "calendar": "/api/events", "shop": "/api/products", "bank": "/api/accounts",
               "tracker": f"/repos/{facts.repos[0].owner}/{facts.repos[0].name}/issues",
               "chat": "/api/conversations.list"}.get(name, "/openapi.json")
    typer.echo(f"{b.title} of world {seed} ({facts.org.name}), as served at {', '.join(b.hosts)}\n"
               f"  {url}/                 HTML (user {login}, password {cred.password}, or ?token=)\n"
               f"  {url}/openapi.json     the API\n"
               f"  token of {who}: {token}\n"
               f"  try: curl -H 'Authorization: Bearer {token}' {url}{example}")
    config = uvicorn.Config(b.app, log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def _typical_user(name: str, facts) -> str:
    if name == "shop":
        return facts.shop.staff[0] if facts.shop.staff else facts.shop.customers[0].username
    if name == "bank":
        return next(a.holders[-1] for a in facts.bank.accounts if a.owner == "org")
    if name == "mail":
        return facts.shop.staff[0] if facts.shop.staff else facts.people[0].username
    return facts.people[2].username


@app.command()
def openapi(
    name: str = typer.Argument(..., help="Backend name (see `airgap backends list`)."),
    seed: int = SEED,
    indent: int = typer.Option(2, "--indent", min=0, help="JSON indentation (0: one line)."),
) -> None:
    """Print the OpenAPI document of one backend (the same one it serves at /openapi.json).

    \b
    Examples:
      airgap backends openapi bank | jq '.paths | keys'
      airgap backends openapi tracker --indent 0 > github-subset.json
    """
    b = _backend(name, seed)
    typer.echo(json.dumps(b.openapi(), indent=indent or None, ensure_ascii=False))


if __name__ == "__main__":
    app()
