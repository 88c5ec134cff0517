"""The runtime image kfp-tune's own containers run in (the components, and the metrics collector
sidecar a launcher adds beside a trial): one pinned value, overridable with KFP_TUNE_IMAGE."""

import os
import warnings
from typing import Any

from kfp_tune.core.errors import InputError, shown
from kfp_tune.core.version import VERSION, image_version_problem

IMAGE_VARIABLE = "KFP_TUNE_IMAGE"
DEFAULT_RUNTIME_IMAGE = f"ghcr.io/kfp-tune/kfp-tune-python:{VERSION}"
"""Tagged with this kfp-tune's version, as Katib tags its images with its release: a tag is never
reused by another version, so a node that pulls only when the image is not present
(``imagePullPolicy: IfNotPresent``) cannot run one version's code under another's name."""
RUNTIME_IMAGE = os.environ.get(IMAGE_VARIABLE) or DEFAULT_RUNTIME_IMAGE
"""The components' image: read once, when this module is first imported (``import kfp_tune``
makes the components, which name it), not when a pipeline is compiled. Empty is unset, as
:func:`default_image` takes it (a pipeline compiled with an empty image has steps KFP cannot run)."""

_VARIABLE_AT_IMPORT = os.environ.get(IMAGE_VARIABLE) or ""
"""``KFP_TUNE_IMAGE`` as :data:`RUNTIME_IMAGE` read it: one set since did not reach the components."""


class RuntimeImageWarning(UserWarning):
    """The runtime image a pipeline is compiled with (or that a compiled package names) is tagged
    with another kfp-tune version than the one that compiled it: its steps would stop at once."""


def is_image_reference(value: Any) -> bool:
    """Whether ``value`` can name a container image (``python:3.11``,
    ``REGISTRY/kfp-tune-python:0.1.0``): a string, not empty, with no whitespace. The registry
    judges the rest; one rule for ``KFP_TUNE_IMAGE`` and a function trial's ``base_image``."""
    return isinstance(value, str) and bool(value) and not any(c.isspace() for c in value)


def checked_runtime_image() -> str:
    """:data:`RUNTIME_IMAGE`, which every step of a pipeline compiled now runs: InputError naming
    ``KFP_TUNE_IMAGE`` when it is no image reference (:func:`is_image_reference`), rather than a
    pipeline whose pods cannot start; a RuntimeImageWarning when its tag names another kfp-tune
    version (:func:`~kfp_tune.core.version.image_version_problem`), or when ``KFP_TUNE_IMAGE``
    was set to another since kfp-tune was imported (a notebook cell after the import cell: the
    components were made with the value before)."""
    now = os.environ.get(IMAGE_VARIABLE) or ""
    if now != _VARIABLE_AT_IMPORT:
        warnings.warn(RuntimeImageWarning(
            f"{IMAGE_VARIABLE} is {shown(now) if now else 'unset'} now, but kfp-tune read it when it was imported and its components run {shown(RUNTIME_IMAGE)}: "
            "set it before kfp_tune is imported (in a notebook, restart the kernel and set it first)"
        ), stacklevel=3)
    if not is_image_reference(RUNTIME_IMAGE):
        raise InputError(
            f"{IMAGE_VARIABLE}: expected the runtime image's reference, e.g. REGISTRY/kfp-tune-python:{VERSION} (no spaces), "
            f"got {shown(RUNTIME_IMAGE)}"
        )
    problem = image_version_problem(RUNTIME_IMAGE)
    if problem is not None:
        warnings.warn(RuntimeImageWarning(f"{IMAGE_VARIABLE}: {problem}"), stacklevel=3)
    return RUNTIME_IMAGE


def default_image() -> str:
    """The image of the containers a launcher adds beside a trial (the collector sidecar, the
    checkpoint copier): ``KFP_TUNE_IMAGE`` as it is when the trial is made, else the one the
    components run in."""
    return os.environ.get(IMAGE_VARIABLE) or RUNTIME_IMAGE
