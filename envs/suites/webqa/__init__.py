"""``webqa``: questions over the bundled offline snapshot (docs.python.org/3.11 and www.sqlite.org); one fixed file.

Every answer in ``tasks.yaml`` was checked by hand against the pages the snapshot is built from (the supporting
sentence is quoted above each task); ``scripts/check_suites.py`` re-derives them from Debian's documentation packages.
"""
from pathlib import Path

from airgap.envs.tasks import register_suite

register_suite("webqa", env_id="airgap/WebQA-v0", max_steps=20, file=Path(__file__).with_name("tasks.yaml"),
               description="Questions over the bundled snapshot of docs.python.org/3.11 and www.sqlite.org.")
