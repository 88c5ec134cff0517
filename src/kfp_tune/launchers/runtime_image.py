"""The runtime image kfp-tune's own containers run in (the components, and the metrics collector
sidecar a launcher adds beside a trial): one pinned value, overridable with KFP_TUNE_IMAGE."""

import os

from kfp_tune.core.version import VERSION

IMAGE_VARIABLE = "KFP_TUNE_IMAGE"
DEFAULT_RUNTIME_IMAGE = f"ghcr.io/kfp-tune/kfp-tune-python:{VERSION}"
"""Tagged with this kfp-tune's version, as Katib tags its images with its release: a tag is never
reused by another version, so a node that pulls only when the image is not present
(``imagePullPolicy: IfNotPresent``) cannot run one version's code under another's name."""
RUNTIME_IMAGE = os.environ.get(IMAGE_VARIABLE, DEFAULT_RUNTIME_IMAGE)
"""The components' image: read once, when the pipeline is compiled."""


def default_image() -> str:
    """The image of the containers a launcher adds beside a trial (the collector sidecar, the
    checkpoint copier): ``KFP_TUNE_IMAGE`` as it is when the trial is made, else the one the
    components run in."""
    return os.environ.get(IMAGE_VARIABLE) or RUNTIME_IMAGE
