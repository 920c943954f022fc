"""An Inspect task for the Airgap sandbox: Inspect's stock `react` agent with its `bash()` and `python()` tools, driven by
Inspect's `mockllm` model with a scripted run (read the offline web, try to reach outside, run Python, submit).

    inspect eval tests/bridges/react_task.py --sandbox airgap

Used by tests/bridges/test_inspect_agent.py; the sandbox is given on the command line, so the task names none.
"""
from inspect_ai import Task, task
from inspect_ai.agent import react
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, get_model
from inspect_ai.scorer import includes
from inspect_ai.tool import bash, python

M = "mockllm/model"
SCRIPT = [
    ModelOutput.for_tool_call(M, "bash", {"command": "curl -s http://docs.python.org/3.11/ | grep -o '<title>[^<]*' | head -1"}),
    ModelOutput.for_tool_call(M, "bash", {"command": "curl -sS -m 5 http://outside.example/ ; echo exit=$?"}),
    ModelOutput.for_tool_call(M, "python", {"code": "import os; print(os.getcwd(), 6 * 7)"}),
    ModelOutput.for_tool_call(M, "submit", {"answer": "42"}),
]


@task
def airgap_react_smoke() -> Task:
    return Task(dataset=[Sample(input="What is six times seven? Look around first.", target="42", id="six-seven")],
                solver=react(tools=[bash(timeout=60), python(timeout=60)]), scorer=includes(),
                model=get_model(M, custom_outputs=SCRIPT))
