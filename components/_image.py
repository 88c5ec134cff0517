"""The runtime image every component runs in: one pinned value
(:mod:`kfp_tune.launchers.runtime_image`), overridable with KFP_TUNE_IMAGE when the pipeline is
compiled."""

from kfp_tune.launchers.runtime_image import DEFAULT_RUNTIME_IMAGE, RUNTIME_IMAGE

__all__ = ["DEFAULT_RUNTIME_IMAGE", "RUNTIME_IMAGE"]
