"""Airgap in TRL: a suite as ``GRPOTrainer(environment_factory=..., reward_funcs=..., train_dataset=...)`` (TRL >= 1.x).

:func:`.environment.environment_factory` makes the environment class (one instance per rollout, its public methods
the suite's tools), :func:`.environment.task_dataset` the suite's tasks as the dataset, :func:`.environment.airgap_reward`
the reward: Airgap's graders at submit. Needs the ``trl`` extra (``pip install 'airgap[trl]'``); nothing here is
imported by ``import airgap.envs``, and this module imports nothing.
"""
