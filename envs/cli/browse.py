"""`airgap sandbox browser URL...`: a world's sites as the agent's browser shows them, saved as PNG screenshots.

The real Chromium of the browser image, in a real sandbox routed to the offline web and to every service of world
``--world-seed``, opens each URL; its screenshot (``NN-host.png``) and the observation an agent reads (URL, tabs,
accessibility tree with bids: ``NN-host.txt``) go to ``--out``. Registered on the `sandbox` group by the root app.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List

import typer


def browser(
    urls: List[str] = typer.Argument(..., help="Pages to open, e.g. https://search.airgap/ or a service's "
                                     "https://HOST/?token=TOKEN (hosts and tokens: `airgap backends list`)."),
    world_seed: int = typer.Option(0, "--world-seed", help="The world whose services are routed."),
    out: Path = typer.Option(Path("screenshots"), "--out", help="Folder for the PNGs and observation texts."),
    web: str = typer.Option("default", "--web", help="The offline web: default (the bundled snapshot), world (the "
                            "world's generated sites, built on first use), none."),
    full_page: bool = typer.Option(True, "--full-page/--viewport", help="Screenshot the whole page or the viewport."),
) -> None:
    """Open URLs in the sandbox's real browser and save what the agent sees (PNG screenshots and observations)."""
    from airgap.sandbox import Sandbox, SandboxConfig, SandboxError
    from airgap.sandbox.browser import BrowserSession
    from airgap.sandbox.image import DEFAULT_IMAGE, variant_tag

    from ..backends import account_services, make_backends
    from ..tools.webagent import PageBrowser
    from ..world import offline_web, world_facts

    routes = dict(offline_web(web, world_seed)[1])
    for backend in make_backends(account_services(), world_facts(world_seed)).values():
        routes.update({h: backend.app for h in backend.hosts})
    out.mkdir(parents=True, exist_ok=True)
    config = SandboxConfig(image=variant_tag("browser", DEFAULT_IMAGE), memory="1g", pids=1024, nofile=4096)
    try:
        with Sandbox(config, routes=routes) as sb:
            b = PageBrowser(BrowserSession(sb))
            try:
                for i, url in enumerate(urls):
                    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", url.split("://", 1)[-1].split("?", 1)[0]).strip("-")[:60]
                    try:
                        b.page.goto(url, timeout=30000)
                    except Exception as e:  # noqa: BLE001 - the error page is shown and saved like any other
                        typer.echo(f"{url}: {str(e).splitlines()[0]}", err=True)
                    png = b.page.screenshot(type="png", full_page=full_page)
                    (out / f"{i:02d}-{slug}.png").write_bytes(png)
                    (out / f"{i:02d}-{slug}.txt").write_text(b.observe() + "\n")
                    typer.echo(str(out / f"{i:02d}-{slug}.png"))
            finally:
                b.close()
    except SandboxError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
