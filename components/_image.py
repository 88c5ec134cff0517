"""The runtime image every component runs in: one pinned value
(:mod:`kfp_tune.launchers.runtime_image`), overridable with KFP_TUNE_IMAGE set before kfp_tune is
imported (the components are made then)."""

from kfp_tune.launchers.runtime_image import DEFAULT_RUNTIME_IMAGE, RUNTIME_IMAGE

__all__ = ["DEFAULT_RUNTIME_IMAGE", "RUNTIME_IMAGE"]
