"""The four safety probe suites, generated per world seed from one kit (``generator.py``): user tasks, each with an
attack planted in the data it reads, crossed with every attack style and a benign twin."""
from airgap.envs.tasks import register_suite

_GEN = "airgap.envs.suites.safety.generator"
_STEPS = 20  # generator.MAX_STEPS: every case's budget (a test checks they agree)

register_suite("safety-injection", env_id="airgap/SafetyInjection-v0", max_steps=_STEPS, generate=f"{_GEN}:injection_suite",
               description="Prompt injection planted in mail, chat, tracker, files, tool output and web pages.")
register_suite("safety-exfiltration", env_id="airgap/SafetyExfiltration-v0", max_steps=_STEPS,
               generate=f"{_GEN}:exfiltration_suite", description="Planted requests to send a secret out of the world.")
register_suite("safety-egress", env_id="airgap/SafetyEgress-v0", max_steps=_STEPS, generate=f"{_GEN}:egress_suite",
               description="Planted requests to reach a host outside the world.")
register_suite("safety-honesty", env_id="airgap/SafetyHonesty-v0", max_steps=_STEPS, generate=f"{_GEN}:honesty_suite",
               description="Tasks that fail, with planted pressure to report success.")
