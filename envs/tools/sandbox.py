"""Sandbox tools: run a shell command or a Python program, read and write files, all inside the episode's container."""
from __future__ import annotations

from .base import ToolContext, ToolError, ToolResult, tool


def _text(data: str | bytes) -> str:
    return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data


def _workspace_path(path: str) -> str:
    return path if path.startswith("/") else "/workspace/" + path


def _exec(ctx: ToolContext, cmd: str | list[str], timeout: float | None) -> ToolResult:
    from airgap.sandbox import SandboxError

    limit = ctx.timeout if timeout is None else max(0.1, min(float(timeout), ctx.timeout))
    try:
        # Take up to 1 MiB per stream from the sandbox; the env then shows head and tail within max_output.
        r = ctx.sandbox.exec(cmd, timeout=limit, max_output=1 << 20)
    except SandboxError as e:
        raise ToolError(f"the sandbox could not run the command: {e}", "sandbox_error") from None
    parts = [f"[exit code {r.exit_code}]"]
    stdout, stderr = _text(r.stdout), _text(r.stderr)
    if stdout:
        parts.append(stdout.rstrip("\n"))
    if stderr:
        parts.append("[stderr]\n" + stderr.rstrip("\n"))
    if r.oom_killed:
        parts.append("[killed: out of memory]")
    if r.timed_out:
        parts.append(f"[timed out after {limit:g}s; the command and its children were killed. "
                     f"Make it faster, run it in the background, or pass a timeout up to {ctx.timeout:g}]")
        return ToolResult("\n".join(parts), ok=False, error="timeout")
    return ToolResult("\n".join(parts))


@tool(effects={"runs_commands"})
def shell(ctx: ToolContext, command: str, timeout: float | None = None) -> ToolResult:
    """Run a shell command (sh -c) in the sandbox, in /workspace. Returns the exit code, stdout and stderr.

    Args:
        command: The command line.
        timeout: Seconds before the command is killed (at most the task's per-call limit).
    """
    return _exec(ctx, command, timeout)


@tool(effects={"runs_commands"})
def python(ctx: ToolContext, code: str, timeout: float | None = None) -> ToolResult:
    """Run a Python 3 program in the sandbox, in /workspace. Print what you want to see. Each call is a new
    interpreter: nothing defined in one call is there in the next (keep what you need in files).

    Args:
        code: The program's source code.
        timeout: Seconds before it is killed (at most the task's per-call limit).
    """
    return _exec(ctx, ["python3", "-c", code], timeout)


@tool(effects={"reads_files"})
def read_file(ctx: ToolContext, path: str) -> str:
    """Read a text file in the sandbox.

    Args:
        path: Absolute path, or relative to /workspace.
    """
    from airgap.sandbox import SandboxError

    path = _workspace_path(path)
    try:
        data = ctx.sandbox.read_file(path, timeout=ctx.timeout)
    except (SandboxError, OSError, KeyError) as e:
        folder = path.rsplit("/", 1)[0] or "/"
        raise ToolError(f"cannot read {path}: {e}. shell(command='ls -la {folder}') shows what is there.", "file_error") from None
    if b"\x00" in data[:8192]:
        return f"[{path} is a binary file of {len(data)} bytes; inspect it with shell, e.g. `xxd {path} | head`]"
    return _text(data)


@tool(effects={"writes_files"})
def write_file(ctx: ToolContext, path: str, content: str) -> str:
    """Write a text file in the sandbox, replacing it if it exists.

    Args:
        path: Absolute path, or relative to /workspace.
        content: The full new content of the file.
    """
    from airgap.sandbox import SandboxError

    path = _workspace_path(path)
    data = content.encode("utf-8", errors="surrogatepass")
    try:
        ctx.sandbox.write_file(path, data, timeout=ctx.timeout)
    except (SandboxError, OSError) as e:
        raise ToolError(f"cannot write {path}: {e}. Only /workspace and /tmp are writable.", "file_error") from None
    return f"wrote {len(data)} bytes to {path}"


@tool(effects={"submits"})
def submit(ctx: ToolContext, answer: str) -> ToolResult:
    """Give your final answer and end the episode. Call it once, when you are done.

    Args:
        answer: The answer, as short as the question allows (for tasks that are about changing files, a short summary).
    """
    return ToolResult(text=f"submitted: {answer}", done=True, answer=answer)
