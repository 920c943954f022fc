"""Graders: a registry of grader types (``base``); built-ins for answers (``answer``), sandbox state (``state``) and backend state (``backend``).

A task's reward is 1.0 iff every grader it lists passes; no grader calls a model. A new type is
a function ``(spec, episode) -> (passed, detail)`` decorated with :func:`register_grader`.
"""
from __future__ import annotations

from . import answer as _answer  # noqa: F401 - registers the answer graders
from . import backend as _backend  # noqa: F401 - registers backend_state
from . import state as _state  # noqa: F401 - registers the state graders
from .answer import normalize, normalize_url, numbers_in, token_f1
from .base import GRADERS, Episode, GradeResult, GraderType, grade, passes_on_empty_answer, register_grader, validate_spec

__all__ = [
    "GRADERS", "Episode", "GradeResult", "GraderType", "grade", "normalize", "normalize_url", "numbers_in",
    "passes_on_empty_answer", "register_grader", "token_f1", "validate_spec",
]
