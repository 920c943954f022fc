"""`airgap mcp`: one episode's tools served over the Model Context Protocol (stdio, the official ``mcp`` SDK).

Any MCP-speaking agent (a desktop client, an agent framework, the SDK's own client) can then be evaluated
in the offline world: the server resets the env to the task at start-up, lists the task's tools (their
JSON schemas, exactly as ``info["tools"]``), and turns each ``tools/call`` into one ``env.step``, so
every call is validated, budgeted, logged and, at ``submit``, graded exactly as in ``airgap evaluate``.
``reset`` and ``step`` are never tools. The task's instruction is the server's ``instructions``, and
also the ``task`` tool-free prompt (``prompts/get task``). When the client disconnects, the episode is
closed (its log sealed) and one result line (task, seed, reward, steps, log) goes to stderr, or to
``--result FILE``.
"""
from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import typer


class McpEpisode:
    """One env episode behind an MCP server: ``tools()`` and ``call(name, args)`` (one step at a time)."""

    def __init__(self, suite: str, task_id: str, seed: int = 0, log_dir: str | None = None, image: str | None = None,
                 monitors: str | None = "all"):
        import gymnasium as gym

        import airgap.envs  # noqa: F401 - registers the ids
        from airgap.envs.runner.evaluate import env_for_suite

        env_id, kwargs = env_for_suite(suite)
        if image:
            kwargs["image"] = image
        self.env = gym.make(env_id, log_dir=log_dir, monitors=monitors, pool_size=1, **kwargs)
        self.task_id, self.seed = task_id, seed
        self.obs, self.info = self.env.reset(seed=seed, options={"task_id": task_id, "agent": "mcp"})
        self.done = False
        self.steps = 0
        self.reward = 0.0
        self.last_info: dict = {}
        self._lock = threading.Lock()

    def tools(self) -> list[dict]:
        """The task's tools as MCP tool descriptions (name, description, inputSchema)."""
        out = []
        for t in self.info["tools"]:
            fn = t.get("function", t)
            out.append({"name": fn["name"], "description": fn.get("description") or "",
                        "input_schema": fn.get("parameters") or {"type": "object", "properties": {}}})
        return out

    def call(self, name: str, args: dict | None) -> tuple[str, bool, dict]:
        """One tool call as one env step: (observation text, is_error, structured result)."""
        with self._lock:
            if self.done:
                return ("[the episode is over: its answer was submitted or its budget is spent; disconnect to finish]",
                        True, {"done": True, "reward": self.reward, "step": self.steps})
            obs, reward, terminated, truncated, info = self.env.step({"tool": name, "args": args or {}})
            self.steps += 1
            self.reward += float(reward)
            self.last_info = info
            self.done = bool(terminated or truncated)
            result = {"step": info.get("step"), "ok": bool(info.get("ok")), "error": info.get("error"),
                      "done": self.done, "reward": float(reward), "terminated": bool(terminated), "truncated": bool(truncated)}
            return obs, not bool(info.get("ok")), result

    def close(self) -> dict:
        """Close the episode (sealing its log) and return its result row."""
        with self._lock:
            log = str(getattr(self.env.unwrapped, "log_path", "") or "")
            flags = [{"monitor": f.monitor, "severity": f.severity, "step": f.step, "message": f.message}
                     for f in getattr(self.env.unwrapped, "flags", [])]
            self.env.close()
            return {"task_id": self.task_id, "seed": self.seed, "reward": self.reward, "steps": self.steps,
                    "finished": self.done, "answer": self.last_info.get("answer"), "log": log, "flags": flags}


def build_server(episode: McpEpisode):
    """The MCP server (``mcp.server.lowlevel.Server``) of one episode."""
    import anyio
    from mcp import types
    from mcp.server.lowlevel import Server

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(**t) for t in episode.tools()])

    async def call_tool(ctx: Any, params: Any) -> types.CallToolResult:
        obs, is_error, result = await anyio.to_thread.run_sync(episode.call, params.name, params.arguments)
        return types.CallToolResult(content=[types.TextContent(text=obs)], is_error=is_error, structured_content=result)

    async def list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=[types.Prompt(name="task", description="The task of this episode")])

    async def get_prompt(ctx: Any, params: Any) -> types.GetPromptResult:
        return types.GetPromptResult(messages=[types.PromptMessage(role="user", content=types.TextContent(text=episode.obs))])

    return Server("airgap", instructions=episode.obs, on_list_tools=list_tools, on_call_tool=call_tool,
                  on_list_prompts=list_prompts, on_get_prompt=get_prompt)


def mcp(
    suite: str = typer.Option(..., help="Task suite: a bundled name (`airgap tasks list`) or a path to a YAML file."),
    task: str = typer.Option(..., "--task", help="The task id to serve (`airgap tasks list SUITE`)."),
    seed: int = typer.Option(0, help="Seed passed to reset()."),
    log_dir: str = typer.Option("runs/mcp/logs", help="Where the episode log goes."),
    image: str = typer.Option(None, help="Sandbox image, overriding the task's."),
    result: str = typer.Option(None, help="Also write the result line (reward, steps, log) to this JSON file."),
) -> None:
    """Serve one episode's tools over MCP on stdin/stdout; every call is logged and graded as in `airgap evaluate`.

    \b
    Example (a client's server entry):
      {"command": "airgap", "args": ["mcp", "--suite", "webqa", "--task", "webqa-001"]}
    """
    import anyio
    from mcp.server.stdio import stdio_server

    async def serve() -> dict:
        async with stdio_server() as (read, write):  # from here fd 1 is the protocol's; stray prints go to stderr
            try:
                episode = await anyio.to_thread.run_sync(lambda: McpEpisode(suite, task, seed, log_dir, image))
            except Exception as e:  # noqa: BLE001 - a bad task id, a missing image, no Docker: said on stderr, exit 2
                await write.aclose()  # ends the transport's writer task, so the server exits at once
                await read.aclose()
                return {"error": f"{type(e).__name__}: {e}"}
            try:
                server = build_server(episode)
                await server.run(read, write, server.create_initialization_options())
            finally:
                row = await anyio.to_thread.run_sync(episode.close)
            return row

    row = anyio.run(serve)
    line = json.dumps(row, sort_keys=True)
    print(line, file=sys.stderr)
    if result:
        Path(result).write_text(line + "\n", encoding="utf-8")
    if "error" in row:
        raise typer.Exit(2)
