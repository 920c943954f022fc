"""The tracker's git repositories: real bare repositories made from the world, served by git's own programs.

A world's repositories are built once per content (``build``: one ``git fast-import`` per repository, commit times
and authors from the world, so the same world gives the same commit ids on every machine) into a template folder of
this process. A backend instance gets its own bare repositories (``Store``) that borrow the template's objects
through ``objects/info/alternates``: making them is writing a few small files, whatever the history's size. Objects
are content-addressed and only ever added, so an instance never needs its objects reset; what the backend's state
holds is its refs (the ``branches`` table), and ``sync_refs`` writes them into the repository before git reads it.

Everything runs the real ``git``: ``git http-backend`` (the smart HTTP protocol: clone, fetch, push), ``merge-tree
--write-tree`` and ``commit-tree`` (merging a pull request with no work tree), ``log``, ``ls-tree``, ``cat-file``,
``diff``. Arguments that come from a request are checked (``valid_ref``, ``valid_path``) and placed after
``--end-of-options`` or ``--``, never where git would read them as options.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airgap.envs.common import parse_iso

GIT = shutil.which("git")
ZERO = "0" * 40

#: Refuse what GitHub refuses on push: refs other than branches, and deleting the default branch.
PRE_RECEIVE = """#!/bin/sh
status=0
while read old new ref; do
  case "$ref" in
    refs/heads/*) ;;
    *) echo "airgap: only branches (refs/heads/...) can be pushed here; $ref refused" >&2; status=1 ;;
  esac
  if [ "$ref" = "refs/heads/main" ] && [ "$new" = "0000000000000000000000000000000000000000" ]; then
    echo "airgap: refusing to delete the default branch main" >&2; status=1
  fi
done
exit $status
"""


class GitError(Exception):
    """A git command failed; ``stderr`` says why."""

    def __init__(self, args: list[str], code: int, stderr: str):
        super().__init__(f"git {' '.join(args[:3])} failed ({code}): {stderr.strip()[:500]}")
        self.code, self.stderr = code, stderr


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "HOME": _root(), "GIT_TERMINAL_PROMPT": "0",
           "GIT_LITERAL_PATHSPECS": "1"}  # a path from a request is a path, never pathspec magic
    env.update(extra or {})
    return env


def git(repo: Path | str, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
        ok: tuple[int, ...] = (0,)) -> bytes:
    """Run ``git`` in the bare repository ``repo``; its stdout (GitError on an exit code not in ``ok``)."""
    if GIT is None:
        raise GitError(list(args), 127, "git is not installed on this machine")
    p = subprocess.run([GIT, "--git-dir", str(repo), *args], input=input, capture_output=True, env=_env(env),
                       timeout=120)
    if p.returncode not in ok:
        raise GitError(list(args), p.returncode, p.stderr.decode("utf-8", "replace"))
    return p.stdout


# ------------------------------------------------------------------------------------------------ what a repo holds
@dataclass(frozen=True)
class Commit:
    """One commit to build: who, when (ISO UTC), what, and the files it writes (text) or deletes (None)."""
    message: str
    name: str
    email: str
    when: str
    files: dict[str, str | None]


@dataclass
class RepoSpec:
    """A repository's history: ``main`` (oldest first) and other branches, each forking from a commit of main."""
    owner: str
    name: str
    main: list[Commit]
    branches: dict[str, tuple[int, list[Commit]]] = field(default_factory=dict)  # name -> (index in main, commits)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def _stamp(when: str) -> str:
    return f"{int(parse_iso(when).timestamp())} +0000"


def _fast_import_stream(spec: RepoSpec) -> bytes:
    out: list[bytes] = []
    mark = 0
    marks: list[int] = []

    def data(text: str | bytes) -> None:
        raw = text.encode() if isinstance(text, str) else text
        out.append(f"data {len(raw)}\n".encode() + raw + b"\n")

    def commit(ref: str, c: Commit, parent: int | None) -> int:
        nonlocal mark
        mark += 1
        out.append(f"commit {ref}\nmark :{mark}\n".encode())
        out.append(f"author {c.name} <{c.email}> {_stamp(c.when)}\n".encode())
        out.append(f"committer {c.name} <{c.email}> {_stamp(c.when)}\n".encode())
        data(c.message if c.message.endswith("\n") else c.message + "\n")
        if parent is not None:
            out.append(f"from :{parent}\n".encode())
        for path, text in sorted(c.files.items()):
            if text is None:
                out.append(f"D {path}\n".encode())
            else:
                out.append(f"M 100644 inline {path}\n".encode())
                data(text)
        return mark

    prev = None
    for c in spec.main:
        prev = commit("refs/heads/main", c, prev)
        marks.append(prev)
    for name, (at, commits) in sorted(spec.branches.items()):
        parent = marks[at]
        for c in commits:
            parent = commit(f"refs/heads/{name}", c, parent)
    out.append(b"done\n")
    return b"".join(out)


# ------------------------------------------------------------------------------------------------ templates
_ROOT: str | None = None
_ROOT_LOCK = threading.Lock()
_TEMPLATES: dict[str, Template] = {}


def _root() -> str:
    """This process's folder for repositories (removed when it exits)."""
    global _ROOT
    with _ROOT_LOCK:
        if _ROOT is None:
            _ROOT = tempfile.mkdtemp(prefix="airgap-git-")
            atexit.register(shutil.rmtree, _ROOT, True)
        return _ROOT


@dataclass(frozen=True)
class Template:
    """The built repositories of one content: folder per ``owner/name``, and each repository's branches."""
    key: str
    path: Path
    refs: dict[str, dict[str, str]]          # full name -> {branch: sha}
    build_seconds: float


def content_key(specs: list[RepoSpec]) -> str:
    blob = json.dumps([[s.owner, s.name, [c.__dict__ for c in s.main],
                        {k: [at, [c.__dict__ for c in cs]] for k, (at, cs) in sorted(s.branches.items())}]
                       for s in specs], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def build(specs: list[RepoSpec]) -> Template:
    """The template repositories of ``specs`` (built once per content and process; later calls reuse them)."""
    import time
    key = content_key(specs)
    with _ROOT_LOCK:
        t = _TEMPLATES.get(key)
    if t is not None:
        return t
    t0 = time.perf_counter()
    (Path(_root()) / "templates").mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=Path(_root()) / "templates"))  # never another build's folder
    refs: dict[str, dict[str, str]] = {}
    for s in specs:
        repo = base / s.owner / f"{s.name}.git"
        repo.mkdir(parents=True, exist_ok=True)
        subprocess.run([GIT, "init", "-q", "--bare", "-b", "main", str(repo)], check=True, env=_env(),
                       capture_output=True)
        git(repo, "fast-import", "--quiet", "--done", input=_fast_import_stream(s))
        refs[s.full_name] = _read_refs(repo)
    t = Template(key, base, refs, time.perf_counter() - t0)
    with _ROOT_LOCK:
        _TEMPLATES.setdefault(key, t)
        return _TEMPLATES[key]


def _read_refs(repo: Path) -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads").decode()
    return {ref.removeprefix("refs/heads/"): sha for ref, sha in (line.split() for line in out.splitlines())}


# ------------------------------------------------------------------------------------------------ an instance's repos
class Store:
    """One backend instance's bare repositories, borrowing a template's objects; refs come from the backend's state."""

    def __init__(self, template: Template):
        self.template = template
        self.root = Path(tempfile.mkdtemp(prefix="inst-", dir=_root()))
        self.lock = threading.RLock()
        hooks = self.root / "_hooks"
        hooks.mkdir()
        (hooks / "pre-receive").write_text(PRE_RECEIVE)
        (hooks / "pre-receive").chmod(0o755)
        for full in template.refs:
            owner, name = full.split("/")
            repo = self.root / owner / f"{name}.git"
            for d in ("objects/info", "objects/pack", "refs/heads", "refs/tags"):
                (repo / d).mkdir(parents=True)
            (repo / "HEAD").write_text("ref: refs/heads/main\n")
            (repo / "config").write_text(
                "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n"
                f"\thooksPath = {hooks}\n[http]\n\treceivepack = true\n[gc]\n\tauto = 0\n"
                "[receive]\n\tdenyDeleteCurrent = false\n")
            src = template.path / owner / f"{name}.git" / "objects"
            (repo / "objects" / "info" / "alternates").write_text(f"{src}\n")

    def path(self, full_name: str) -> Path:
        owner, name = full_name.split("/")
        p = self.root / owner / f"{name}.git"
        if not p.is_dir():
            raise KeyError(full_name)
        return p

    def sync_refs(self, full_name: str, branches: dict[str, str]) -> None:
        """Make the repository's branches exactly ``branches`` (the backend's state is the truth)."""
        repo = self.path(full_name)
        heads = repo / "refs" / "heads"
        shutil.rmtree(heads)
        heads.mkdir()
        lines = ["# pack-refs with: peeled fully-peeled sorted\n"]
        lines += [f"{sha} refs/heads/{name}\n" for name, sha in sorted(branches.items())]
        (repo / "packed-refs").write_text("".join(lines))

    def read_refs(self, full_name: str) -> dict[str, str]:
        return _read_refs(self.path(full_name))

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ checks
_REF = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)(?!.*@\{)(?!.*\.lock(/|$))(?!.*/\.)(?!\.)[A-Za-z0-9._/+-]{1,200}(?<![./])$")


def valid_ref(name: str) -> bool:
    """A branch name git accepts (a subset of check-ref-format's rules: no '..', '@{', '//', leading '-' or '.')."""
    return bool(_REF.match(name)) and not name.startswith("-")


def valid_path(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and len(path) <= 1000 and all(p not in ("", ".", "..") for p in parts) and "\0" not in path


# ------------------------------------------------------------------------------------------------ reading objects
SEP = "\x1f"
LOG_FORMAT = SEP.join(["%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"]) + "\x1e"


def log(repo: Path, rev: str, path: str | None = None, limit: int = 30, skip: int = 0,
        author: str | None = None, since: str | None = None, until: str | None = None,
        exclude: str | None = None) -> list[dict[str, Any]]:
    """Commits reachable from ``rev`` (newest first), optionally touching ``path``, by ``author`` (name or email)."""
    args = ["log", f"--format={LOG_FORMAT}", f"--max-count={limit}", f"--skip={skip}"]
    if author:
        args.append(f"--author={re.escape(author)}")
    if since:
        args.append(f"--since={since}")
    if until:
        args.append(f"--until={until}")
    args += ["--end-of-options", rev]
    if exclude:
        args.append(f"^{exclude}")
    if path:
        args += ["--", path]
    out = git(repo, *args).decode("utf-8", "replace")
    return [_commit(rec) for rec in out.split("\x1e") if rec.strip()]


def _commit(rec: str) -> dict[str, Any]:
    f = rec.lstrip("\n").split(SEP)
    return {"sha": f[0], "tree": f[1], "parents": f[2].split(), "author_name": f[3], "author_email": f[4],
            "author_date": f[5], "committer_name": f[6], "committer_email": f[7], "committer_date": f[8],
            "message": f[9].rstrip("\n")}


def count(repo: Path, rev: str, exclude: str | None = None) -> int:
    args = ["rev-list", "--count", "--end-of-options", rev] + ([f"^{exclude}"] if exclude else [])
    return int(git(repo, *args).decode().strip() or 0)


def resolve(repo: Path, rev: str) -> str | None:
    """The commit id ``rev`` names, or None."""
    out = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", ok=(0, 1))
    return out.decode().strip() or None


def commit_info(repo: Path, sha: str) -> dict[str, Any]:
    out = git(repo, "show", "-s", f"--format={LOG_FORMAT}", "--end-of-options", sha).decode("utf-8", "replace")
    return _commit(out.split("\x1e")[0])


def tree_entry(repo: Path, commit: str, path: str) -> tuple[str, str, str] | None:
    """(type, sha, mode) of ``path`` in ``commit`` ('' is the root tree), or None."""
    if not path:
        return ("tree", git(repo, "rev-parse", "--end-of-options", f"{commit}^{{tree}}").decode().strip(), "040000")
    out = git(repo, "ls-tree", "--end-of-options", commit, "--", path).decode("utf-8", "replace")
    for line in out.splitlines():
        meta, _, name = line.partition("\t")
        mode, kind, sha = meta.split()
        if name == path:
            return (kind, sha, mode)
    return None


def list_tree(repo: Path, commit: str, path: str) -> list[dict[str, Any]]:
    """The entries of folder ``path`` ('' the root): name, path, type, sha, size."""
    target = f"{commit}:{path}" if path else f"{commit}^{{tree}}"
    out = git(repo, "ls-tree", "-l", "--end-of-options", target).decode("utf-8", "replace")
    items = []
    for line in out.splitlines():
        meta, _, name = line.partition("\t")
        mode, kind, sha, size = meta.split()
        items.append({"name": name, "path": f"{path}/{name}" if path else name, "type": kind, "sha": sha,
                      "size": 0 if size == "-" else int(size), "mode": mode})
    return items


def blob(repo: Path, sha: str) -> bytes:
    return git(repo, "cat-file", "blob", "--end-of-options", sha)


def diff_files(repo: Path, base: str, head: str) -> list[dict[str, Any]]:
    """The files changed from ``base`` to ``head``: filename, status, additions, deletions, patch, blob sha."""
    stats = git(repo, "diff", "--numstat", "-z", "--no-renames", "--end-of-options", base, head).decode("utf-8", "replace")
    status = git(repo, "diff", "--name-status", "-z", "--no-renames", "--end-of-options", base, head).decode(
        "utf-8", "replace").split("\0")
    kinds = {status[i + 1]: status[i] for i in range(0, len(status) - 1, 2)}
    out = []
    for rec in stats.split("\0"):
        if not rec:
            continue
        add, dele, name = rec.split("\t", 2)
        patch = git(repo, "diff", "--no-renames", "--end-of-options", base, head, "--", name).decode("utf-8", "replace")
        hunk = patch.find("\n@@")
        entry = tree_entry(repo, head, name)
        out.append({"filename": name, "status": {"A": "added", "D": "removed"}.get(kinds.get(name, "M"), "modified"),
                    "additions": int(add) if add.isdigit() else 0, "deletions": int(dele) if dele.isdigit() else 0,
                    "patch": patch[hunk + 1:] if hunk >= 0 else "",
                    "sha": entry[1] if entry else (tree_entry(repo, base, name) or ("", ZERO, ""))[1]})
    return out


def numstat(repo: Path, base: str, head: str) -> tuple[int, int, int]:
    """(additions, deletions, files changed) from ``base`` to ``head``."""
    out = git(repo, "diff", "--numstat", "--no-renames", "--end-of-options", base, head).decode("utf-8", "replace")
    adds = dels = files = 0
    for line in out.splitlines():
        a, d, _ = line.split("\t", 2)
        adds += int(a) if a.isdigit() else 0
        dels += int(d) if d.isdigit() else 0
        files += 1
    return adds, dels, files


def merge_base(repo: Path, a: str, b: str) -> str | None:
    out = git(repo, "merge-base", "--end-of-options", a, b, ok=(0, 1)).decode().strip()
    return out or None


def merge_tree(repo: Path, base: str, head: str) -> str | None:
    """The tree of merging ``head`` into ``base`` (no work tree), or None when they conflict."""
    out = git(repo, "merge-tree", "--write-tree", "--no-messages", "--end-of-options", base, head, ok=(0, 1))
    first = out.decode().split("\n", 1)[0].strip()
    return first if re.fullmatch(r"[0-9a-f]{40}", first) and b"\n" not in out.strip() else None


def commit_tree(repo: Path, tree: str, parents: list[str], message: str, name: str, email: str, when: str) -> str:
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": _stamp(when),
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": _stamp(when)}
    args = ["commit-tree"]
    for p in parents:
        args += ["-p", p]
    return git(repo, *args, "--end-of-options", tree, input=message.encode(), env=env).decode().strip()


def write_file(repo: Path, parent: str, path: str, content: bytes | None) -> str:
    """The tree of ``parent`` with ``path`` set to ``content`` (None deletes it), built in a scratch index."""
    with tempfile.TemporaryDirectory(dir=_root()) as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(repo, "read-tree", "--end-of-options", parent, env=env)
        if content is None:
            git(repo, "update-index", "--force-remove", "--", path, env=env)
        else:
            sha = git(repo, "hash-object", "-w", "--stdin", input=content).decode().strip()
            git(repo, "update-index", "--add", "--cacheinfo", f"100644,{sha},{path}", env=env)
        return git(repo, "write-tree", env=env).decode().strip()


# ------------------------------------------------------------------------------------------------ smart HTTP
def http_backend(repo_root: Path, path_info: str, method: str, query: str, content_type: str | None,
                 content_encoding: str | None, body: bytes, remote_user: str | None,
                 protocol: str | None) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run ``git http-backend`` (CGI) once: status, headers, body."""
    env = {"GIT_PROJECT_ROOT": str(repo_root), "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path_info,
           "REQUEST_METHOD": method, "QUERY_STRING": query, "CONTENT_LENGTH": str(len(body)),
           "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"}
    if content_type:
        env["CONTENT_TYPE"] = content_type
    if content_encoding:
        env["HTTP_CONTENT_ENCODING"] = content_encoding
    if remote_user:
        env["REMOTE_USER"] = remote_user
    if protocol:
        env["GIT_PROTOCOL"] = protocol
    if GIT is None:
        return 503, [("content-type", "text/plain")], b"git is not installed on the tracker's host\n"
    p = subprocess.run([GIT, "http-backend"], input=body, capture_output=True, env=_env(env), timeout=300)
    head, sep, payload = p.stdout.partition(b"\r\n\r\n")
    if not sep:
        head, sep, payload = p.stdout.partition(b"\n\n")
    status, headers = 200, []
    for line in head.decode("latin-1").splitlines():
        k, _, v = line.partition(":")
        if k.lower() == "status":
            status = int(v.split()[0])
        elif k:
            headers.append((k.strip().lower(), v.strip()))
    if not sep:
        return 500, [("content-type", "text/plain")], b"git http-backend failed: " + p.stderr[-500:]
    return status, headers, payload
