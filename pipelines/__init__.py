"""The looping tuning pipeline: build, compile, and run it locally under kfp.local."""

from kfp_tune.pipelines.builder import build_pipeline, compile_pipeline

__all__ = ["build_pipeline", "compile_pipeline"]
