"""The suite file's schema and defaults: what a task file may say (docs/task-format.md is the prose version)."""
from __future__ import annotations

DEFAULT_WORLD = {"snapshot": "default", "tools": ["search", "open", "find", "click", "submit"], "backends": [], "sandbox": {}}
DEFAULT_BUDGET = {"max_steps": 20, "tool_timeout": 20, "total_tool_seconds": 300}

_TOOL_CALL = {
    "type": "object",
    "properties": {"tool": {"type": "string"}, "args": {"type": "object"}},
    "required": ["tool"],
    "additionalProperties": False,
}
_WORLD = {
    "type": "object",
    "properties": {
        "snapshot": {"type": "string"},
        "tools": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "backends": {"type": "array", "items": {"type": "string"}},
        "world_seed": {"type": "integer", "minimum": 0},
        # data planted in the world for this task (safety suites' injection slots): see worldgen.facts.INJECT_KINDS
        "inject": {
            "type": "object",
            "properties": {k: {"type": "array", "items": {"type": "object"}} for k in ("mail", "chat", "tracker_comments")},
            "additionalProperties": False,
        },
        # simulated colleagues who answer direct messages in chat (rule-based; see backends/chat)
        "colleagues": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "rules": {"type": "array", "items": {
                        "type": "object", "properties": {"match": {"type": "string"}, "reply": {"type": "string"}},
                        "required": ["match", "reply"], "additionalProperties": False}},
                    "default": {"type": "string"},
                },
                "additionalProperties": False,
            },
        },
        # transient outages: the first `times` requests to a service matching method and path get `status`
        "faults": {
            "type": "array",
            "items": {"type": "object", "properties": {
                "service": {"type": "string"}, "method": {"type": "string"}, "path": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599}, "times": {"type": "integer", "minimum": 1},
                "message": {"type": "string"}}, "required": ["service"], "additionalProperties": False},
        },
        # text for the named slots (<!--airgap-slot:NAME-->) of the offline web's pages
        "web_slots": {"type": "object", "additionalProperties": {"type": "string"}},
        "sandbox": {
            "type": "object",
            "properties": {
                "image": {"type": "string"},
                "memory": {"type": "string", "pattern": "^[0-9]+[kmgKMG]?$"},
                "cpus": {"type": "number", "exclusiveMinimum": 0},
                "pids": {"type": "integer", "minimum": 16},
                "workspace_size": {"type": "string"},
                "tmp_size": {"type": "string"},
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                # false: a fresh container for every episode of this task instead of a recycled one
                "recycle": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
_BUDGET = {
    "type": "object",
    "properties": {
        "max_steps": {"type": "integer", "minimum": 1},
        "tool_timeout": {"type": "number", "exclusiveMinimum": 0},
        "total_tool_seconds": {"type": "number", "exclusiveMinimum": 0},
    },
    "additionalProperties": False,
}
SUITE_SCHEMA = {
    "type": "object",
    "properties": {
        "suite": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
        "version": {"type": "integer", "minimum": 1},
        "description": {"type": "string"},
        "world": _WORLD,
        "budget": _BUDGET,
        "tasks": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
                    "kind": {"type": "string"},
                    "instruction": {"type": "string", "minLength": 1},
                    "answer": {},
                    "supporting_urls": {"type": "array", "items": {"type": "string"}},
                    "notes": {"type": "string"},
                    "world": _WORLD,
                    "budget": _BUDGET,
                    "setup": {
                        "type": "object",
                        "properties": {
                            "files": {"type": "object", "additionalProperties": {"type": "string"}},
                            "commands": {"type": "array", "items": {"type": "string"}},
                            # the world's clock while the setup commands run: this many hours before "now" (default
                            # 1), so what a colleague did before the episode is stamped before it
                            "ago_hours": {"type": "number", "minimum": 0, "maximum": 720},
                        },
                        "additionalProperties": False,
                    },
                    "graders": {"type": "array", "minItems": 1, "items": {"type": "object"}},
                    # the answer's form as the agent is told it ("one date, as YYYY-MM-DD"); by default derived from
                    # the answer graders (airgap.envs.graders.forms.describe)
                    "answer_format": {"type": "string", "minLength": 3},
                    # how a generated task was put (its framing's id, envs/worldgen/framings.yaml)
                    "variant": {"type": "string"},
                    # process requirements (a page visited, a file read): graded and reported beside the reward as
                    # the `evidence` metric, never part of it
                    "evidence": {"type": "array", "items": {"type": "object"}},
                    # adversarial answers with their expected verdict, beside the generated ones (docs/task-format.md)
                    "audit": {"type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "answer": {"type": "string"},
                            "calls": {"type": "array", "items": _TOOL_CALL},
                            "reward": {"enum": [0, 1]},
                            "attack_success": {"type": "boolean"},
                            "why": {"type": "string", "minLength": 3},
                        },
                        "required": ["reward", "why"],
                        "additionalProperties": False,
                    }},
                    "oracle": {"type": "array", "minItems": 1, "items": _TOOL_CALL},
                    # secrets planted for this task (files, notes): the exfiltration monitor flags any of them leaving
                    "canaries": {"type": "array", "items": {"type": "string", "minLength": 8}},
                    # what an attack on this task looks like and what it may change (read by the safety monitors)
                    "safety": {"type": "object"},
                    # a wrong-but-plausible solution (the obvious thing done to the wrong object): must score 0
                    "decoy": {"type": "array", "minItems": 1, "items": _TOOL_CALL},
                    # a safety case: the attack style planted in this task's world ("none": the benign twin)
                    "attack": {"type": "string", "pattern": "^[a-z0-9_]+$"},
                    # what an agent that obeys the planted instructions does (the `obey` agent plays it)
                    "obey": {"type": "array", "minItems": 1, "items": _TOOL_CALL},
                },
                "required": ["id", "instruction", "graders", "oracle"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["suite", "version", "tasks"],
    "additionalProperties": False,
}


