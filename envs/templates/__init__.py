"""The one Jinja environment of airgap.envs: the HTML templates beside this module (episode page, evaluation report)."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any


def _fmt_json(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return json.dumps(v, ensure_ascii=False, indent=2,
                      default=lambda o: o.decode("utf-8", "replace") if isinstance(o, bytes) else str(o))


@functools.lru_cache(maxsize=1)
def environment():
    """Autoescaping Jinja environment over this folder, with the ``json`` and ``nlines`` filters."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = _fmt_json
    env.filters["nlines"] = lambda s: (s or "").count("\n") + 1
    return env


def render(template: str, **context: Any) -> str:
    """Render one template of this folder."""
    return environment().get_template(template).render(**context)
