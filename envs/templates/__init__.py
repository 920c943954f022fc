"""The one Jinja environment of airgap.envs: every HTML template of the package is loaded from it.

The templates beside this module (the episode page, the evaluation report) are named plainly (``report.html.j2``);
every other folder of templates is registered under a prefix with :func:`register_templates` and its templates are
named ``<prefix>/<file>``: the backends' shared layout (``backends/layout.html.j2``), each backend's pages
(``mail/inbox.html.j2``), the world's generated sites (``site/page.html.j2``). One set of settings holds for all of
them: autoescaping for ``.html``/``.j2`` files, ``trim_blocks``/``lstrip_blocks`` (a block tag alone on its line
leaves no blank line), and a template's final newline is kept. The ``json`` and ``nlines`` filters are available
everywhere.
"""
from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

_PREFIXES: dict[str, Any] = {}   # prefix -> jinja2.FileSystemLoader, shared with the environment's PrefixLoader
_LOCK = threading.Lock()


def _fmt_json(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return json.dumps(v, ensure_ascii=False, indent=2,
                      default=lambda o: o.decode("utf-8", "replace") if isinstance(o, bytes) else str(o))


def register_templates(prefix: str, folder: str | Path) -> None:
    """Make the templates in ``folder`` available as ``<prefix>/<name>``.

    Registering the same folder again is a no-op; another folder under a taken prefix is a ValueError.
    """
    import jinja2

    if not prefix or "/" in prefix:
        raise ValueError(f"a template prefix is one non-empty path segment, got {prefix!r}")
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise ValueError(f"no template folder {folder}")
    with _LOCK:
        known = _PREFIXES.get(prefix)
        if known is not None:
            if Path(known.searchpath[0]) != folder:
                raise ValueError(f"template prefix {prefix!r} is already {known.searchpath[0]}, not {folder}")
            return
        _PREFIXES[prefix] = jinja2.FileSystemLoader(str(folder))


@functools.lru_cache(maxsize=1)
def environment():
    """The environment (built once): this folder's templates by name, registered folders by ``prefix/name``."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(HERE)), jinja2.PrefixLoader(_PREFIXES)]),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["json"] = _fmt_json
    env.filters["nlines"] = lambda s: (s or "").count("\n") + 1
    return env


def render(template: str, **context: Any) -> str:
    """Render one template (``report.html.j2``, ``mail/inbox.html.j2``, ...) with ``context``."""
    return environment().get_template(template).render(**context)
