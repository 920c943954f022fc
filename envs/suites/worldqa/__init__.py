"""``worldqa``: questions whose answers live in one generated world's websites and services, per world seed.

``gym.make("airgap/WorldQA-v0", world_seed=3)``: the world's web is generated, crawled and indexed on first use.
"""
from airgap.envs.tasks import register_suite

register_suite("worldqa", env_id="airgap/WorldQA-v0", max_steps=20, generate="airgap.envs.suites.worldqa.generator:generate",
               description="Questions about a generated organisation's websites, intranet, product docs, shop and news.")
