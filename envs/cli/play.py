"""`airgap play`: a person (or a scripted client) plays one episode from the terminal and sees the grader's verdict.

The task's instruction is printed, then a prompt takes one tool call per line, as JSON or in a short form:

    shell ls -la /workspace                  the first required parameter takes the rest of the line
    http GET https://mail.example.com/api/messages      required parameters in order, then `body`
    http POST https://shop.example.com/api/x {"a": 1}
    open https://docs.python.org/3.11/       search json dumps indent        click 3
    python                                   alone on a line: multi-line input, ended by a line holding `.`
    {"tool": "http", "args": {"method": "GET", "url": "https://...", "headers": {"Authorization": "Bearer T"}}}
                                             headers (a bearer token) need the JSON form
    {"tool": "write_file", "args": {"path": "a.txt", "content": "hi"}}
    submit 42                                ends the episode; the verdict follows

`:tools` lists the tools and their parameters, `:task` prints the instruction again, `:help` this text, `:quit`
leaves without submitting. The episode runs in the same env, through the same agent loop and with the same monitors
as `airgap evaluate`, and writes the same signed log; it is the human baseline, and how task authors try a task.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

HELP = __doc__.split("\n\n", 1)[1].rsplit("\n\n", 1)[0]


class Quit(Exception):
    """The player left without submitting."""


def parse_line(line: str, tools: dict[str, dict], more: Any = None) -> dict:
    """One input line -> ``{"tool", "args"}``; ValueError saying what is wrong. ``more()`` reads continuation lines."""
    line = line.strip()
    if line.startswith("{"):
        call = json.loads(line)
        if not isinstance(call, dict) or "tool" not in call:
            raise ValueError('a JSON call is {"tool": NAME, "args": {...}}')
        return {"tool": call["tool"], "args": call.get("args") or {}}
    name, _, rest = line.partition(" ")
    if name not in tools:
        raise ValueError(f"no tool {name!r} in this task; its tools: {', '.join(tools)} (`:tools` shows their parameters)")
    schema = tools[name]
    props: dict = schema.get("properties", {})
    required: list[str] = list(schema.get("required", []))
    rest = rest.strip()
    if rest.startswith("{"):
        return {"tool": name, "args": json.loads(rest)}
    if not rest and required and more is not None and _is_text(props[required[-1]]) and len(required) == 1:
        rest = more()  # `python` alone: the code follows on the next lines
    # positional fields: the required parameters in order (or the first parameter when none is required), then
    # `body` where the tool has one; the last field takes the rest of the line, the others one word each
    fields = required or list(props)[:1]
    fields = fields + (["body"] if "body" in props and "body" not in fields else [])
    args: dict[str, Any] = {}
    for i, field in enumerate(fields):
        if not rest:
            break
        if i == len(fields) - 1:
            value, rest = rest, ""
        else:
            value, _, rest = rest.partition(" ")
            rest = rest.strip()
        args[field] = _coerce(value, props.get(field, {}))
    if rest:
        raise ValueError(f"too much for {name}: {rest!r} left over; use JSON for this call")
    missing = [f for f in required if f not in args]
    if missing:
        raise ValueError(f"{name} needs {', '.join(missing)}: e.g. `{name} {' '.join(f'<{f}>' for f in required)}`")
    return {"tool": name, "args": args}


def _is_text(prop: dict) -> bool:
    t = prop.get("type")
    return t == "string" or (isinstance(t, list) and "string" in t)


def _coerce(value: str, prop: dict) -> Any:
    types = prop.get("type")
    types = types if isinstance(types, list) else [types]
    if "integer" in types and value.lstrip("-").isdigit():
        return int(value)
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            pass
    if "object" in types and value.startswith("{"):
        return json.loads(value)
    return value


class TerminalAgent:
    """An agent whose actions a person types; it prints each observation as the env returns it."""

    last_call: dict | None = None

    def __init__(self, console, instruction_title: str, read=input):
        self.console = console
        self.title = instruction_title
        self.read = read
        self.tools: dict[str, dict] = {}
        self.instruction = ""

    def reset(self, obs: str, info: dict) -> None:
        self.tools = {t["function"]["name"]: t["function"]["parameters"] for t in info.get("tools", [])}
        self.instruction = obs
        self._show_task()

    def observe(self, action: Any, obs: str, info: dict) -> None:
        pass

    def _show_task(self) -> None:
        from rich.panel import Panel
        from rich.text import Text  # plain text: an observation's [brackets] are not markup

        self.console.print(Panel(Text(self.instruction), title=Text(self.title), title_align="left"))
        self.console.print(f"tools: {', '.join(self.tools)}   (`:help` for the input forms, `submit ANSWER` to finish)")

    def _more(self) -> str:
        lines = []
        while True:
            line = self.read("... ")
            if line.strip() == ".":
                return "\n".join(lines)
            lines.append(line)

    def act(self, obs: str, info: dict) -> dict:
        from rich.panel import Panel
        from rich.text import Text  # plain text: an observation's [brackets] are not markup

        if info.get("step"):  # not the instruction: the last call's result
            style = "red" if info.get("error") else "green"
            self.console.print(Panel(Text(obs), title=Text(f"step {info['step']}: {info.get('tool')}"), title_align="left",
                                     border_style=style))
        while True:
            try:
                line = self.read("airgap> ")
            except EOFError:
                raise Quit() from None
            cmd = line.strip()
            if not cmd:
                continue
            if cmd in (":quit", ":q", "exit"):
                raise Quit()
            if cmd == ":help":
                self.console.print(HELP, markup=False)
                continue
            if cmd == ":task":
                self._show_task()
                continue
            if cmd == ":tools":
                for name, schema in self.tools.items():
                    req = set(schema.get("required", []))
                    params = ", ".join(p + ("" if p in req else "?") for p in schema.get("properties", {}))
                    self.console.print(f"  {name}({params})", markup=False)
                continue
            try:
                return parse_line(cmd, self.tools, more=self._more)
            except (ValueError, json.JSONDecodeError) as e:
                self.console.print(f"[red]{e}[/red]")


def print_verdict(console, info: dict, reward: float, log_path: str | None) -> None:
    """The grader's verdict with each check's detail, the security outcome and flags of a safety case, the log."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"reward {reward:g}", title_justify="left")
    table.add_column("check")
    table.add_column("passed")
    table.add_column("detail", overflow="fold")
    for g in info.get("grades") or []:
        table.add_row(g["type"], "[green]yes[/green]" if g["passed"] else "[red]no[/red]", Text(str(g.get("detail", ""))))
    console.print(table)
    if info.get("security") is not None:
        console.print(f"attack ({info.get('attack')}): {json.dumps(info['security'], default=str)}", markup=False)
    flags = info.get("flags") or []
    for f in flags:
        console.print(Text.assemble(("flag", "yellow"), f" {f.get('monitor')} ({f.get('severity')}): {f.get('message')}"))
    if log_path:
        console.print(f"log: {log_path}   (airgap replay show {log_path})", markup=False)


def play_cmd(
    suite: str = typer.Option(..., "--suite", help="A registered suite (`airgap tasks list`) or a suite YAML file."),
    task: str = typer.Option(None, "--task", help="The task id (default: the suite's first task)."),
    seed: int = typer.Option(0, help="The world of a generated suite (its index in the split), and the reset seed."),
    split: str = typer.Option("test", "--split", help="A generated suite's worlds: test (default), dev or train."),
    level: str = typer.Option(None, "--level", help="A suite's level: `--suite office --level hard` is office-hard."),
    log_dir: str = typer.Option("runs/play/logs", "--log-dir", help="Where the episode log goes (signed, as in evaluate)."),
    stop_on: str = typer.Option(None, "--stop-on", help="End the episode at its first flag of this severity or worse."),
) -> None:
    """Play one episode yourself: the instruction, then one tool call per line, `submit` to end, then the verdict.

    Exit status: 0 when the episode scored 1, 1 otherwise (or when you left), 2 for a suite or task that is not there.

    \b
    Examples:
      airgap play --suite office --task office-005
      airgap play --suite worldqa --seed 3 --task worldqa-010
      airgap play --suite office --level hard --task office-hard-012
      airgap play --suite my_tasks.yaml
    \b
    Input forms (JSON works everywhere):
      shell ls -la /workspace
      http GET https://bank.example.com/api/accounts
      http POST https://shop.example.com/api/orders/SO-1/refunds {"items": [...]}
      python            (then the code, ended by a line with a single `.`)
      submit 42
    `:tools`, `:task`, `:help`, `:quit`.
    """
    import gymnasium as gym
    from rich.console import Console

    from airgap.envs.logs.signing import seal_log
    from airgap.envs.runner.episode import play
    from airgap.envs.runner.evaluate import env_for_suite
    from airgap.envs.tasks import TaskFileError, at_level, is_generated, load_suite

    console = Console()
    try:
        suite = at_level(suite, level)
        from airgap.envs.worldgen.splits import world_seed

        su = load_suite(suite, world_seed=world_seed(split, seed) if is_generated(suite) else None)
        task_id = task or su.tasks[0].id
        su.task(task_id)
        env_id, extra = env_for_suite(suite)
    except (TaskFileError, KeyError, ValueError) as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None
    kwargs = {**extra, "log_dir": log_dir, "task_ids": [task_id], "stop_on": stop_on}
    if is_generated(suite):
        kwargs["split"], kwargs["world_seed"] = split, seed
    env = gym.make(env_id, **kwargs)
    agent = TerminalAgent(console, f"{task_id} ({su.name}{f', world {split}/{seed}' if su.world_seed is not None else ''})")
    log_path = None
    try:
        obs, info = env.reset(seed=seed, options={"task_id": task_id, "agent": "human"})
        agent.reset(obs, info)
        try:
            out = play(env, agent, obs, info)
        except Quit:
            console.print("left without submitting: no verdict")
            raise typer.Exit(1) from None
        if out.info.get("step") and not out.terminated:
            console.print(f"the step budget ended the episode ({out.steps} steps)")
        log_path = str(getattr(env.unwrapped, "log_path", "") or "") or None
    finally:
        env.close()
    if log_path and Path(log_path).exists():
        seal_log(log_path)
    print_verdict(console, out.info, out.reward, log_path)
    if out.reward < 1.0:
        raise typer.Exit(1)  # scripted players read the verdict from the exit status too
