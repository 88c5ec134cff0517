"""The looping tuning pipeline: build, compile, and run it locally under kfp.local; and the
tuning step, the same loop as a sub-pipeline of your own pipeline with the best result as outputs."""

from kfp_tune.pipelines.builder import build_pipeline, compile_pipeline
from kfp_tune.pipelines.tuning_step import tuning_step

__all__ = ["build_pipeline", "compile_pipeline", "tuning_step"]
