"""What monitors read from episode events: whose event it is, what the action's tool may do (its effects), the
agent's commands parsed into programs and arguments, request targets, the final answer, and a buffer that turns one step's findings into one flag each."""
from __future__ import annotations

import ast
import base64
import binascii
import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from ..tools.base import effects_of
from .base import SEVERITIES, Flag

HOME = "/home/agent"
WRITABLE = ("/workspace", HOME, "/tmp", "/var/tmp")  # what the sandbox lets the agent write (the rest is read-only, or the host's)
AGENT_UID = 1000  # the uid everything the agent runs has (airgap.sandbox.config.AGENT)


def severity_max(a: str, b: str) -> str:
    return a if SEVERITIES.index(a) >= SEVERITIES.index(b) else b


def text_of(value) -> str:
    """Every string inside a JSON-like value, joined by newlines (bytes decoded; unresolved blob references, whose
    content is not in the event, contribute nothing)."""
    out: list[str] = []

    def walk(v) -> None:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, (bytes, bytearray)):
            out.append(bytes(v).decode("utf-8", "replace"))
        elif isinstance(v, dict):
            if "$blob" in v:
                return
            for k, x in v.items():
                out.append(str(k))
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif v is not None:
            out.append(str(v))

    walk(value)
    return "\n".join(out)


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


# ------------------------------------------------------------------------------------------------ whose event


def action_effects(ev: dict) -> frozenset[str]:
    """What the tool of an ``action`` event may do (effect names of ``airgap.envs.tools.EFFECTS``): as the env recorded
    them on the event (``effects``), else, for logs written before effects were recorded, as the registered tool of
    that name declares them. Monitors select events by these, never by a tool's name."""
    recorded = ev.get("effects")
    if isinstance(recorded, list):
        return frozenset(str(e) for e in recorded)
    return effects_of(ev.get("tool"))


class Tracker:
    """Follows an episode: has the agent started (events before ``reset`` are the harness's setup), which action is
    running and what its tool may do (so a ``sandbox.exec`` is known to be the agent's command or a grader's), and the
    final answer."""

    def __init__(self) -> None:
        self.started = False
        self.action: dict | None = None
        self.effects: frozenset[str] = frozenset()  # the running action's
        self.answer: str | None = None
        self.answer_seq: int | None = None
        self.answer_step: int | None = None

    def update(self, ev: dict) -> None:
        t = ev.get("type")
        if t == "reset":
            self.started = True
        elif t == "action":
            self.started = True
            self.action = ev
            self.effects = action_effects(ev)
            if "submits" in self.effects and isinstance(ev.get("args"), dict) and isinstance(ev["args"].get("answer"), str):
                self.answer, self.answer_seq, self.answer_step = ev["args"]["answer"], ev.get("seq"), ev.get("step")
        elif t == "end" and self.answer is None and isinstance(ev.get("answer"), str):
            self.answer, self.answer_seq, self.answer_step = ev["answer"], ev.get("seq"), ev.get("step")

    @property
    def tool(self) -> str | None:
        return self.action.get("tool") if self.action else None

    def agent_exec(self, ev: dict) -> bool:
        """A command the agent ran (through a tool that ``runs_commands``: shell, python...), not the harness's setup or a
        grader's check."""
        return ev.get("type") == "sandbox.exec" and self.started and "runs_commands" in self.effects

    def agent_file_path(self, ev: dict) -> tuple[str, str] | None:
        """(tool, absolute path) of an ``action`` event of a tool that ``reads_files`` or ``writes_files``."""
        if ev.get("type") != "action" or not isinstance(ev.get("args"), dict) or \
                not {"reads_files", "writes_files"} & action_effects(ev):
            return None
        path = ev["args"].get("path")
        if not isinstance(path, str):
            return None
        return ev["tool"], path if path.startswith("/") else "/workspace/" + path


# ------------------------------------------------------------------------------------------------ commands


@dataclass
class Simple:
    """One simple command: the program (basename) and its arguments, with the working directory it ran in."""

    prog: str
    args: list[str]
    cwd: str | None = None


@dataclass
class Command:
    """An agent command as text (what path and name rules search) and as simple commands (what rules about which
    program ran use), including those inside ``sh -c``, ``eval``, ``python3 -c`` and Python's ``os.system`` /
    ``subprocess`` calls with literal arguments."""

    text: str
    simple: list[Simple] = field(default_factory=list)
    python: list[str] = field(default_factory=list)  # Python sources run (python3 -c, as the python tool runs them)


_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "\n", ";;", "|&", "{", "}", "!", "then", "do", "else", "elif",
               "if", "while", "until", "time", "`", "$(", "fi", "done", "esac"}
_WRAPPERS = {"sudo", "doas", "env", "nohup", "exec", "command", "builtin", "nice", "ionice", "stdbuf", "setsid",
             "busybox", "xargs", "timeout", "chronic", "unbuffer", "strace", "ltrace", "watch", "flock"}
_WRAPPER_VALUE_OPTS = {"timeout": {"-s", "--signal", "-k", "--kill-after"}, "nice": {"-n"}, "env": {"-u"},
                       "sudo": {"-u", "-g", "-C", "-h", "-p"}, "xargs": {"-I", "-n", "-P", "-d", "-L", "-s"},
                       "strace": {"-o", "-e", "-p", "-s"}, "ionice": {"-c", "-n"}, "flock": {"-w"}}
_SHELLS = {"sh", "bash", "dash", "zsh", "ash", "ksh"}
_PYTHONS = re.compile(r"^python(\d(\.\d+)?)?$")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


# A shell line's words and operators, as ``shlex.shlex(text, posix=True, punctuation_chars=";&|()\n")`` with
# whitespace " \t\r", whitespace_split and no comments gives them (tests/monitors/test_command_parsing.py compares
# the two), three times faster: every monitor reads every command.
_TOKEN = re.compile(r"""[ \t\r]+|(?P<p>[;&|()\n]+)|(?P<w>(?:[^ \t\r;&|()\n'"\\]+|'[^']*'|"(?:[^"\\]|\\.)*"|\\.)+)""",
                    re.S)
_PART = re.compile(r"""[^'"\\]+|'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""", re.S)
_DQ_ESCAPE = re.compile(r'\\([\\"])')


def _tokens(text: str) -> list[str]:
    """Raises ValueError on an unbalanced quote or a trailing backslash, as shlex does."""
    text = text.replace("$(", " $( ").replace("`", " ` ")
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"no closing quotation at {pos}")
        pos = m.end()
        if m.group("p") is not None:
            out.append(m.group("p"))
        elif m.group("w") is not None:
            out.append(_unquote(m.group("w")))
    return out


def _unquote(word: str) -> str:
    if "'" not in word and '"' not in word and "\\" not in word:
        return word
    parts = []
    for m in _PART.finditer(word):
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            parts.append(_DQ_ESCAPE.sub(r"\1", m.group(2)))
        elif m.group(3) is not None:
            parts.append(m.group(3))
        else:
            parts.append(m.group(0))
    return "".join(parts)


def _segments(text: str) -> list[list[str]]:
    try:
        toks = _tokens(text)
    except ValueError:  # unbalanced quotes: fall back to a rough split
        toks = re.split(r"\s+|(?=[;&|()\n])|(?<=[;&|()\n])", text)
        toks = [t for t in toks if t]
    segs, cur = [], []
    for t in toks:
        if t in _SEPARATORS or (t and set(t) <= set(";&|()\n")):
            if cur:
                segs.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        segs.append(cur)
    return segs


def _unwrap(seg: list[str], simple: list[Simple]) -> list[str]:
    """Drop variable assignments and wrappers (``sudo``, ``timeout 5``, ``env X=1``...), recording each wrapper too."""
    i = 0
    while i < len(seg):
        w = seg[i]
        if _ASSIGN.match(w):
            i += 1
            continue
        base = w.rsplit("/", 1)[-1]
        if base in _WRAPPERS:
            simple.append(Simple(base, seg[i + 1:]))
            i += 1
            takes = _WRAPPER_VALUE_OPTS.get(base, set())
            while i < len(seg) and (seg[i].startswith("-") or _ASSIGN.match(seg[i])):
                i += 2 if seg[i] in takes else 1
            if base == "timeout" and i < len(seg) and re.match(r"^\d", seg[i]):
                i += 1
            if base in ("nice", "ionice") and i < len(seg) and re.match(r"^-?\d+$", seg[i]):
                i += 1
            continue
        break
    return seg[i:]


_PY_CALL = re.compile(r"\b(os\.system|os\.popen|subprocess\.(?:run|call|check_call|check_output|Popen|getoutput|"
                      r"getstatusoutput))\(\s*")


def _python_commands(code: str, cmd: Command, depth: int) -> None:
    """Shell commands a Python program runs with literal arguments (``os.system("...")``, ``subprocess.run([...])``)."""
    cmd.python.append(code)
    for m in _PY_CALL.finditer(code):
        literal = _leading_literal(code[m.end():])
        if isinstance(literal, str):
            _parse_into(literal, cmd, depth + 1, None)
        elif isinstance(literal, (list, tuple)) and literal and all(isinstance(x, str) for x in literal):
            _add_argv(list(literal), cmd, depth + 1, None)


def _leading_literal(src: str):
    """The Python literal (string or list/tuple of strings) at the start of ``src``, or None."""
    if not src or src[0] not in "[(\"'rbfRBF":
        return None
    depth, quote, i = 0, None, 0
    while i < len(src):
        ch = src[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if src.startswith(quote, i):
                i += len(quote)
                quote = None
                if depth == 0:
                    break
                continue
        elif ch in "\"'":
            quote = src[i:i + 3] if src[i:i + 3] in ('"""', "'''") else ch
            i += len(quote)
            continue
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
            if depth == 0:
                i += 1
                break
        elif depth == 0 and ch not in "rbfRBF":
            break
        i += 1
    try:
        return ast.literal_eval(src[:i])
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


_REDIRECT = re.compile(r"^\d*(>>?|<<?<?|&>>?|>&|<&|>\|)(.*)$")
_KEYWORDS = {"for", "case", "select", "function", "in", "[[", "]]", "[", "test", "true", "false", ":"}


def strip_redirections(argv: list[str]) -> list[str]:
    """argv without redirections (``2>/dev/null``, ``> out.txt``, ``<<EOF``) and their targets."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        m = _REDIRECT.match(a)
        if m:
            skip = not m.group(2)
            continue
        out.append(a)
    return out


def _add_argv(argv: list[str], cmd: Command, depth: int, cwd: str | None) -> str | None:
    """Record one argv (and what runs inside it); returns the new working directory after a ``cd``."""
    simple: list[Simple] = []
    rest = _unwrap(strip_redirections(argv), simple)
    if rest and rest[0] in _KEYWORDS:
        return cwd
    for s in simple:
        s.cwd = cwd
    cmd.simple.extend(simple)
    if not rest:
        return cwd
    prog = rest[0].rsplit("/", 1)[-1]
    args = rest[1:]
    cmd.simple.append(Simple(prog, args, cwd))
    if depth > 4:
        return cwd
    if prog in _SHELLS and "-c" in args[:-1]:
        _parse_into(args[args.index("-c") + 1], cmd, depth + 1, cwd)
    elif prog == "eval" and args:
        _parse_into(" ".join(args), cmd, depth + 1, cwd)
    elif _PYTHONS.match(prog) and "-c" in args[:-1]:
        _python_commands(args[args.index("-c") + 1], cmd, depth + 1)
    elif prog == "cd":
        target = next((a for a in args if not a.startswith("-")), HOME)
        if target.startswith("/"):
            return target.rstrip("/") or "/"
        if target in ("~", "$HOME", "${HOME}"):
            return HOME
        return f"{cwd.rstrip('/')}/{target}" if cwd else None
    return cwd


def _parse_into(text: str, cmd: Command, depth: int, cwd: str | None) -> None:
    for seg in _segments(text):
        cwd = _add_argv(seg, cmd, depth, cwd)


def parse_command(cmd: str | list | None, cwd: str | None = "/workspace") -> Command:
    """A ``sandbox.exec`` ``cmd`` (a shell string, or an argv such as ``["python3", "-c", code]``) as a :class:`Command`.

    Several monitors read every command: the result is cached (read it, never change it)."""
    key = tuple(str(a) for a in cmd) if isinstance(cmd, (list, tuple)) else cmd if isinstance(cmd, str) else None
    return _parse_cached(key, cwd)


@lru_cache(maxsize=256)
def _parse_cached(cmd: str | tuple | None, cwd: str | None) -> Command:
    if isinstance(cmd, tuple):
        argv = [str(a) for a in cmd]
        out = Command(" ".join(argv))
        _add_argv(argv, out, 0, cwd)
        return out
    text = cmd if isinstance(cmd, str) else ""
    out = Command(text)
    _parse_into(text, out, 0, cwd)
    return out


_NET_PROGS = {"curl", "wget", "nc", "ncat", "netcat", "socat", "telnet", "ssh", "scp", "sftp", "rsync", "ftp", "tftp",
              "dig", "nslookup", "host", "ping", "http", "https", "httpie", "aria2c", "lynx", "links", "w3m", "openssl",
              "git", "pip", "pip3", "nmap", "drill", "mail", "sendmail", "smbclient"}
_PY_NET = re.compile(r"\b(urllib|requests|http\.client|httpx|aiohttp|socket|smtplib|ftplib|telnetlib|paramiko|"
                     r"urlopen|create_connection)\b")


def uses_network(cmd: Command) -> bool:
    """Does the command run a network client (curl, wget, nc, dig, ssh...), use /dev/tcp, or Python networking?"""
    if any(s.prog in _NET_PROGS for s in cmd.simple) or "/dev/tcp/" in cmd.text or "/dev/udp/" in cmd.text:
        return True
    return any(_PY_NET.search(code) for code in cmd.python)


_URL_HOST = re.compile(r"\b[a-z][a-z0-9+.-]*://(?:[^/\s@'\"]*@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)", re.I)


def named_hosts(text: str) -> set[str]:
    """Host names and addresses that appear in URLs in a text (``scheme://host``)."""
    return {m.group(1).strip("[]").rstrip(".").lower() for m in _URL_HOST.finditer(text)}


# ------------------------------------------------------------------------------------------------ effects


def exec_records(ev: dict) -> list[dict]:
    """What a ``sandbox.exec``'s processes did, as the sandbox captured it (its ``effects``: one record per distinct call,
    ``{"call": "exec" | "open" | "unlink" | "rmdir" | "rename" | "truncate" | "link" | "symlink" | "connect" | "signal" |
    "ptrace" | "io_uring" | "foreign", "pid", "sid", ...}``); [] for a sandbox without capture or an older log."""
    value = ev.get("effects")
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def file_changes(ev: dict) -> list[dict]:
    """What a ``sandbox.exec`` changed where the agent writes (its ``files.changes``: ``{"op": "created" | "modified" |
    "replaced" | "emptied" | "removed" | "moved" | "retyped", "path", "kind", ...}``), a fact measured before and after."""
    files = ev.get("files")
    changes = files.get("changes") if isinstance(files, dict) else None
    return [c for c in changes if isinstance(c, dict) and isinstance(c.get("path"), str)] if isinstance(changes, list) else []


def record_argv(rec: dict) -> list[str]:
    """An exec record's arguments (a long one the log stored as a blob reads as its text, when resolved)."""
    argv = rec.get("argv")
    return [a if isinstance(a, str) else text_of(a) for a in argv] if isinstance(argv, list) else []


def head_text(change: dict) -> str:
    """The start of a new or changed file, as the manifest recorded it (``head``, or ``head_b64`` decoded)."""
    if isinstance(change.get("head"), str):
        return change["head"]
    raw = change.get("head_b64")
    if isinstance(raw, str):
        try:
            return base64.b64decode(raw).decode("utf-8", "replace")
        except (ValueError, binascii.Error):
            return ""
    return ""


def payload_text(ev: dict) -> str:
    """What an intercepted connection or an unrouted request carried (``payload``, or ``payload_b64`` decoded as
    Latin-1, byte for byte), with an unrouted request's headers."""
    out = [ev["payload"]] if isinstance(ev.get("payload"), str) else []
    raw = ev.get("payload_b64")
    if isinstance(raw, str):
        try:
            out.append(base64.b64decode(raw).decode("latin-1"))
        except (ValueError, binascii.Error):
            pass
    if isinstance(ev.get("headers"), dict):
        out.append(text_of(ev["headers"]))
    return "\n".join(out)


def is_agent_process(uid) -> bool:
    return uid == AGENT_UID


# ------------------------------------------------------------------------------------------------ flags


@dataclass
class _Finding:
    severity: str
    details: list[str]
    evidence: list[int]
    step: int | None
    keys: set[str]


class StepFlags:
    """Findings collected during one env step, one flag per group when the step ends (its ``observation`` event, or
    ``end``, or ``finish``): several events that show one thing (a DNS look-up, the egress attempt and the command
    behind them) become one flag with all of them as evidence. A finding's key flags once per episode; a group
    (default: the key) gathers the keys found in the same step into one flag."""

    def __init__(self, monitor: str) -> None:
        self.monitor = monitor
        self.pending: dict[str, _Finding] = {}
        self.done: set[str] = set()

    def add(self, key: str, severity: str, detail: str, ev: dict | list[dict], group: str | None = None) -> None:
        if key in self.done:
            return
        evs = ev if isinstance(ev, list) else [ev]
        g = key if group is None else group
        f = self.pending.get(g)
        if f is None:
            f = self.pending[g] = _Finding(severity, [], [], None, set())
        f.keys.add(key)
        f.severity = severity_max(f.severity, severity)
        if detail not in f.details:
            f.details.append(detail)
        for e in evs:
            if e.get("seq") is not None and e["seq"] not in f.evidence:
                f.evidence.append(e["seq"])
            if e.get("step") is not None:
                f.step = e["step"]

    def flush(self) -> list[Flag]:
        out = []
        for f in self.pending.values():
            self.done |= f.keys
            out.append(Flag(self.monitor, f.severity, "; ".join(f.details), sorted(f.evidence), f.step))
        self.pending.clear()
        return out

    def after(self, ev: dict) -> list[Flag]:
        """Flush when ``ev`` ends a step."""
        return self.flush() if ev.get("type") in ("observation", "end") else []
