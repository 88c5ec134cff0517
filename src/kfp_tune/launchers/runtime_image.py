"""The runtime image kfp-tune's own containers run in (the components, and the metrics collector
sidecar a launcher adds beside a trial): one pinned value, overridable with KFP_TUNE_IMAGE."""

import os

DEFAULT_RUNTIME_IMAGE = "ghcr.io/kfp-tune/kfp-tune-python:0.1.0"
RUNTIME_IMAGE = os.environ.get("KFP_TUNE_IMAGE", DEFAULT_RUNTIME_IMAGE)
