"""``sandbox``: tasks that need the shell, python and file tools inside the container; one fixed file.

``tasks.yaml`` is the source of truth; its first version was written by ``scripts/make_sandbox_suite.py`` (seeded
data inlined in ``setup.files``, answers computed there), which still reproduces it byte for byte.
"""
from pathlib import Path

from airgap.envs.tasks import register_suite

register_suite("sandbox", env_id="airgap/Sandbox-v0", max_steps=20, file=Path(__file__).with_name("tasks.yaml"),
               description="Shell, python and file tasks inside the sandbox, some over the offline web.")
