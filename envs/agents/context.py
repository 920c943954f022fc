"""Context management for local models: fit a chat into the model's context by shortening the oldest observations first.

What is never cut: the system prompt, the tool schemas (rendered by the caller's prompt
function from the agent's tool list, not from the messages) and the task (the first user
message). What is cut, oldest first: observations (tool results and later user messages), each
to the longest head that still lets the whole prompt fit, ending in a marker the model sees;
then, if that is not enough, the text of old assistant turns (their tool calls stay). The
newest observation is cut last. Pure Python: ``fits`` is the caller's ``messages -> bool``
(render with the chat template, count tokens, compare with the model's context length).
"""
from __future__ import annotations

import copy
from collections.abc import Callable

MARKER = "[... {cut} of {total} characters of this {what} were cut to fit the model's context ...]"


class ContextError(ValueError):
    """Even with every observation cut, the system prompt, tools and task do not fit the model's context."""


def cut_text(text: str, keep: int, what: str = "observation") -> str:
    """``text`` shortened to its first ``keep`` characters plus the marker (unchanged when nothing is cut)."""
    if keep >= len(text):
        return text
    marker = MARKER.format(cut=len(text) - keep, total=len(text), what=what)
    return (text[:keep].rstrip() + "\n" + marker) if keep > 0 else marker


def _shorten(msgs: list[dict], i: int, fits: Callable[[list[dict]], bool], what: str) -> bool:
    """Cut message ``i`` just enough for ``msgs`` to fit (True), or to the bare marker when that is not enough (False)."""
    text = msgs[i].get("content") or ""
    if not text:
        return False

    def trial(keep: int) -> list[dict]:
        out = list(msgs)
        out[i] = {**msgs[i], "content": cut_text(text, keep, what)}
        return out

    if not fits(trial(0)):
        msgs[i] = trial(0)[i]
        return False
    lo, hi = 0, len(text) - 1  # the longest head that fits: lo always fits, and the full text did not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(trial(mid)):
            lo = mid
        else:
            hi = mid - 1
    msgs[i] = trial(lo)[i]
    return True


def fit_messages(messages: list[dict], fits: Callable[[list[dict]], bool], *, keep_first: int = 2) -> list[dict]:
    """A copy of ``messages`` that ``fits``: observations after the first ``keep_first`` messages cut oldest first.

    Raises :class:`ContextError` when nothing left to cut makes it fit.
    """
    msgs = copy.deepcopy(messages)
    if fits(msgs):
        return msgs
    later = range(keep_first, len(msgs))
    for roles, what in ((("tool", "user"), "observation"), (("assistant",), "reply")):
        for i in [i for i in later if msgs[i].get("role") in roles]:
            if _shorten(msgs, i, fits, what):
                return msgs
    if fits(msgs):
        return msgs
    raise ContextError("the system prompt, the tool schemas and the task alone do not fit the model's context; "
                       "use a model with a longer context, or fewer tools / a shorter task")
