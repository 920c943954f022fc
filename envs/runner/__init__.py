"""Running episodes: the one agent loop (``episode``), where episodes run (``executors``), evaluations (``evaluate``), statistics and the report."""
from __future__ import annotations

from .episode import Outcome, play, run_episode
from .evaluate import EvalConfig, EvaluationError, env_for_suite, read_results, run_evaluation
from .executors import EXECUTORS, EnvSpec, Job, make_executor, register_executor
from .stats import summarize, wilson

__all__ = ["EXECUTORS", "EnvSpec", "EvalConfig", "EvaluationError", "Job", "Outcome", "env_for_suite", "make_executor", "play",
           "read_results", "register_executor", "run_episode", "run_evaluation", "summarize", "wilson"]
