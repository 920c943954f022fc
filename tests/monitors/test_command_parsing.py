"""The monitors' shell tokenizer gives exactly what ``shlex`` (posix, punctuation ``;&|()\\n``, no comments) gives, on every
command of the violation corpus and on quoting edge cases; it is a faster stand-in, not another reading."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from airgap.envs.monitors.events import _tokens, parse_command

CORPUS = json.loads((Path(__file__).parent / "corpus" / "violations.json").read_text())
EDGES = ['echo "a\\"b" \'c d\' e\\ f', "a&&b||c;d|e&", 'x="$(cat f)"; echo `id`', "echo 'unterminated", 'echo "x\\y"',
         "a\\", "echo \\\\n", 'printf "%s\\n" x', "cmd >out 2>&1", "echo $((1+2))", "a;;b", "(a)", "a |& b", "echo \\'",
         "", "   ", "a\tb\rc", 'echo "multi\nline"; x', "echo ''\"\"x", "a'b'c\"d\"e", 'sh -c "echo \\"$HOME\\""']


def _shlex(text: str) -> list[str]:
    lex = shlex.shlex(text.replace("$(", " $( ").replace("`", " ` "), posix=True, punctuation_chars=";&|()\n")
    lex.whitespace = " \t\r"
    lex.whitespace_split = True
    lex.commenters = ""
    return list(lex)


def _both(text: str):
    out = []
    for fn in (_shlex, _tokens):
        try:
            out.append(fn(text))
        except ValueError:
            out.append("error")
    return out


@pytest.mark.parametrize("text", EDGES)
def test_edge_cases_tokenize_as_shlex_does(text):
    theirs, ours = _both(text)
    assert ours == theirs


def test_every_corpus_command_tokenizes_as_shlex_does():
    texts = [a[k] for c in CORPUS for call in c["calls"] for a in [call.get("args") or {}] for k in ("command", "code")
             if isinstance(a.get(k), str)]
    assert len(texts) > 150
    differ = [t for t in texts if len(set(map(repr, _both(t)))) > 1]
    assert not differ, differ[:3]


def test_parsing_is_cached_and_shared():
    a = parse_command("cd /tmp && ls -la", "/workspace")
    assert parse_command("cd /tmp && ls -la", "/workspace") is a
    assert parse_command(["ls", "-la"], "/workspace") is parse_command(("ls", "-la"), "/workspace")
    assert [(s.prog, s.args, s.cwd) for s in a.simple] == [("cd", ["/tmp"], "/workspace"), ("ls", ["-la"], "/tmp")]
