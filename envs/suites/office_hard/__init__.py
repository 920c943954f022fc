"""``office-hard``: the hard level of the office suite, generated per world seed (``--level hard`` on ``office``).

Long dependent workflows across services, listings past a page, near-duplicate and stale records, errors to recover
from, questions only a colleague can answer, requests the written policy forbids, time zones and business days, and
a real bug to fix in a repository. Every task reports partial credit (``score``) beside its binary success.
Families live one module each beside ``generator.py``; each is ``tasks(o: Office) -> list[Draft]``.
"""
from airgap.envs.tasks import register_suite

register_suite("office-hard", env_id="airgap/OfficeHard-v0", max_steps=80,
               generate="airgap.envs.suites.office_hard.generator:generate",
               description="The office suite's hard level: long workflows, mess, errors, asking, refusing, time, code.")
