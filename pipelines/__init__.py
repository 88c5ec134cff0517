"""The looping tuning pipeline: build, compile, and run it locally under kfp.local; the tuning
step, the same loop as a sub-pipeline of your own pipeline with the best result as outputs; and
component trials, a pipeline whose every trial is a task of your own KFP component."""

from typing import Any

from kfp_tune.pipelines.builder import build_pipeline, compile_pipeline
from kfp_tune.pipelines.component_trials import component_trials
from kfp_tune.pipelines.tuning_step import tuning_step

__all__ = ["build_pipeline", "compile_pipeline", "component_trials", "step_inputs_kept_whole", "tuning_step"]


def __getattr__(name: str) -> Any:
    """``step_inputs_kept_whole`` from ``local_run``, imported when asked for: ``kfp-tune run``
    runs ``python -m kfp_tune.pipelines.local_run``, and a package that had imported it already
    made Python warn (runpy's RuntimeWarning, the first line of every kfp.local log) and hold
    two copies of the module."""
    if name == "step_inputs_kept_whole":
        from kfp_tune.pipelines.local_run import step_inputs_kept_whole

        return step_inputs_kept_whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
