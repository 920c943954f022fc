"""Graders: a registry of grader types (``base``); built-ins for answers (``answer``, read in the forms of ``forms``), sandbox state (``state``) and backend state (``backend``).

A task's reward is 1.0 iff every grader it lists passes; no grader calls a model. A new type is
a function ``(spec, episode) -> (passed, detail)`` decorated with :func:`register_grader`.
"""
from __future__ import annotations

from . import answer as _answer  # noqa: F401 - registers the answer graders
from . import backend as _backend  # noqa: F401 - registers backend_state
from . import git as _git  # noqa: F401 - registers git_tree (a command on a commit of the code host)
from . import held as _held  # noqa: F401 - registers withheld (reports of partly refused requests)
from . import state as _state  # noqa: F401 - registers the state graders
from .answer import normalize, normalize_url, numbers_in, token_f1
from .base import GRADERS, Episode, GradeResult, GraderType, grade, passes_on_empty_answer, register_grader, validate_spec
from .forms import describe


def reads_answer(spec: dict) -> bool:
    """Whether a grader spec reads the submitted answer (not the sandbox, the backends or the visited pages)."""
    gt = GRADERS.get(spec.get("type"))
    return gt is not None and gt.uses_answer


def answer_format(graders: list[dict]) -> str | None:
    """The answer's form as the agent is told it: the description of the task's first describable answer grader."""
    for spec in graders:
        if reads_answer(spec) and (text := describe(spec)):
            return text
    return None


__all__ = [
    "GRADERS", "Episode", "GradeResult", "GraderType", "answer_format", "grade", "normalize", "normalize_url",
    "numbers_in", "passes_on_empty_answer", "reads_answer", "register_grader", "token_f1", "validate_spec",
]
