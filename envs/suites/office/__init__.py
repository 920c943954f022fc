"""``office``: work on the simulated mail, calendar, shop, bank, tracker and chat of a generated organisation.

Generated per world seed (``generator.generate``): ``--seed 5`` is another organisation, other tokens, other invoices.
``seed-0.yaml`` is the golden copy of world 0's suite that a test compares against the generator.
"""
from airgap.envs.tasks import register_suite

register_suite("office", env_id="airgap/Office-v0", max_steps=25, generate="airgap.envs.suites.office.generator:generate",
               description="Office work on the simulated services of a generated organisation, graded on final state.")
