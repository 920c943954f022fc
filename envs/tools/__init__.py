"""Tools agents call: declared once as typed functions (``base``), parsed from any call shape (``actions``), registered by name.

Built-in tools: ``search``, ``open``, ``find``, ``click``, ``http`` (``web``), ``shell``, ``python``,
``read_file``, ``write_file``, ``submit`` (``sandbox``). A new tool is a function with
``@tool(effects=...)`` and :func:`register_tool`; task files then name it in ``world.tools``. Effects (:data:`EFFECTS`):
search/open/click ``web_read``; find none (it searches the page already shown); http ``network`` and ``backend_write``;
shell and python ``runs_commands``; read_file ``reads_files``; write_file ``writes_files``; submit ``submits``.
"""
from __future__ import annotations

from . import sandbox as _sandbox
from . import web as _web
from .actions import ActionError, parse_action, parse_tool_call_text, tool_call_of
from .base import (
    EFFECTS,
    OUTPUT_DIR,
    TOOLS,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    cap_output,
    cap_text,
    check_effects,
    effects_of,
    jsonable,
    register_tool,
    tool,
    tool_schemas,
    toolset,
)
from .browser import PAGE_LINES, Browser

for _t in (_web.search, _web.open, _web.find, _web.click, _sandbox.shell, _sandbox.python, _sandbox.read_file,
           _sandbox.write_file, _web.http, _sandbox.submit):
    register_tool(_t)

__all__ = [
    "EFFECTS", "OUTPUT_DIR", "TOOLS", "PAGE_LINES", "ActionError", "Browser", "Tool", "ToolContext", "ToolError", "ToolResult",
    "cap_output", "cap_text",
    "check_effects", "effects_of", "jsonable",
    "parse_action", "parse_tool_call_text", "register_tool", "tool", "tool_call_of", "tool_schemas", "toolset",
]
