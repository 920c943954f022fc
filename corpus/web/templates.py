"""The Jinja environment of the corpus's HTML pages (templates in ``corpus/templates``)."""
from __future__ import annotations

import os

import jinja2

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True)
