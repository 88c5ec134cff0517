"""The runtime image every component runs in: one pinned value, overridable with KFP_TUNE_IMAGE
when the pipeline is compiled."""

import os

DEFAULT_RUNTIME_IMAGE = "ghcr.io/kfp-tune/kfp-tune-python:0.1.0"
RUNTIME_IMAGE = os.environ.get("KFP_TUNE_IMAGE", DEFAULT_RUNTIME_IMAGE)
