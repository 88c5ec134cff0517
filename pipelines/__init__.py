"""The looping tuning pipeline: build, compile, and run it locally under kfp.local; the tuning
step, the same loop as a sub-pipeline of your own pipeline with the best result as outputs; and
component trials, a pipeline whose every trial is a task of your own KFP component."""

from kfp_tune.pipelines.builder import build_pipeline, compile_pipeline
from kfp_tune.pipelines.component_trials import component_trials
from kfp_tune.pipelines.local_run import step_inputs_kept_whole
from kfp_tune.pipelines.tuning_step import tuning_step

__all__ = ["build_pipeline", "compile_pipeline", "component_trials", "step_inputs_kept_whole", "tuning_step"]
