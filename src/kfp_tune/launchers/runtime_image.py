"""The runtime image kfp-tune's own containers run in (the components, and the metrics collector
sidecar a launcher adds beside a trial): one pinned value, overridable with KFP_TUNE_IMAGE.

The project publishes no image, so the default names one nobody can pull: compiling with it warns,
and sending it to a cluster is refused (:func:`unpublished_image_problem`)."""

import os
import warnings
from collections.abc import Iterable
from typing import Any

from kfp_tune.core.errors import InputError, shown
from kfp_tune.core.version import VERSION, build_stamp, image_repository_and_tag, image_tag, image_version_problem

IMAGE_VARIABLE = "KFP_TUNE_IMAGE"
DEFAULT_RUNTIME_IMAGE = f"ghcr.io/kfp-tune/kfp-tune-python:{VERSION}"
"""Tagged with this kfp-tune's version, as Katib tags its images with its release: a tag is never
reused by another version, so a node that pulls only when the image is not present
(``imagePullPolicy: IfNotPresent``) cannot run one version's code under another's name. No image
is published under this name: it is what images/runtime/Dockerfile builds, and a cluster runs the
build only under the name ``KFP_TUNE_IMAGE`` gives it."""
IMAGE_GUIDE = "the kfp-tune user guide, 'Running in Kubeflow Pipelines', paragraph 'The image'"
"""Where building and pushing the runtime image is told: a section name, not a path (the wheel
holds no docs, and the project has no public address)."""
RUNTIME_IMAGE = os.environ.get(IMAGE_VARIABLE) or DEFAULT_RUNTIME_IMAGE
"""The components' image: read once, when this module is first imported (``import kfp_tune``
makes the components, which name it), not when a pipeline is compiled. Empty is unset, as
:func:`default_image` takes it (a pipeline compiled with an empty image has steps KFP cannot run)."""

_VARIABLE_AT_IMPORT = os.environ.get(IMAGE_VARIABLE) or ""
"""``KFP_TUNE_IMAGE`` as :data:`RUNTIME_IMAGE` read it: one set since did not reach the components."""


class RuntimeImageWarning(UserWarning):
    """The runtime image a pipeline is compiled with (or that a compiled package names) is tagged
    with another kfp-tune version than the one that compiled it: its steps would stop at once."""


class UnpublishedImageWarning(RuntimeImageWarning):
    """A pipeline is compiled to a file with ``KFP_TUNE_IMAGE`` unset: its steps name the default
    image, which nobody publishes, so they cannot start on a cluster. A warning, not a refusal:
    the file may be edited or only read; submit and schedule refuse to send it."""


UNPUBLISHED_WHY = {
    "experiment": (f"{IMAGE_VARIABLE} was not set when kfp_tune was imported", "set it, e.g. {}, before kfp_tune is imported"),
    "pipeline": (
        f"the pipeline's kfp-tune steps were made with {IMAGE_VARIABLE} unset",
        "set it, e.g. {}, before kfp_tune is imported (a component.yaml: export it again with it set)",
    ),
    "package": (f"the package was compiled with {IMAGE_VARIABLE} unset", "compile it again with {}"),
}
"""Why a pipeline names the unpublished image, and what mends it, by what is sent: an experiment
compiled here, a pipeline function compiled here, or a package compiled elsewhere."""


UNPUBLISHED_REPOSITORY = image_repository_and_tag(DEFAULT_RUNTIME_IMAGE)[0]
"""Where every kfp-tune version's default image is named, none of them published: a package
another version compiled with ``KFP_TUNE_IMAGE`` unset names its own tag here."""


def suggested_image() -> str:
    """The ``KFP_TUNE_IMAGE`` value a message suggests: the runtime image built from this kfp-tune,
    tagged ``VERSION-BUILD`` as the guide asks (``kfp-tune --version`` prints both), so that no
    other build is ever pulled under its tag."""
    return f"REGISTRY/kfp-tune-python:{image_tag(build_stamp())}"


def unpublished_image_problem(image: str, sent: str = "experiment") -> str | None:
    """Why steps naming ``image`` cannot be sent to a cluster, or None: the default image of this
    or any kfp-tune version (any reference in :data:`UNPUBLISHED_REPOSITORY`), which the project
    does not publish (every pod would fail to pull it, or run whatever someone else pushed under
    that name, with the store's keys). Set to that very reference in ``KFP_TUNE_IMAGE`` (a
    registry mirror that serves it), it is taken. ``sent``: a key of :data:`UNPUBLISHED_WHY`."""
    explicit = image in (os.environ.get(IMAGE_VARIABLE), _VARIABLE_AT_IMPORT)
    if image_repository_and_tag(image)[0] != UNPUBLISHED_REPOSITORY or explicit:
        return None
    why, fix = UNPUBLISHED_WHY[sent]
    return (
        f"{why}, so its steps name {image}, which kfp-tune does not publish (no cluster can pull it): build the runtime image, "
        f"push it to a registry the cluster pulls from and {fix.format(f'{IMAGE_VARIABLE}={suggested_image()}')} ({IMAGE_GUIDE})"
    )


def refuse_unpublished_image(images: Iterable[str], sent: str = "experiment") -> None:
    """InputError naming ``KFP_TUNE_IMAGE`` when a pipeline about to be sent to a cluster runs
    the unpublished default image (:func:`unpublished_image_problem`), before anything is created."""
    for image in dict.fromkeys(images):
        problem = unpublished_image_problem(image, sent)
        if problem is not None:
            raise InputError(problem)


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
    set_since = (now or DEFAULT_RUNTIME_IMAGE) != (_VARIABLE_AT_IMPORT or DEFAULT_RUNTIME_IMAGE)  # unset and the default's name: one image
    if set_since:
        warnings.warn(RuntimeImageWarning(
            f"{IMAGE_VARIABLE} is {shown(now) if now else 'unset'} now, but kfp-tune read it when it was imported and its components run {shown(RUNTIME_IMAGE)}: "
            "set it before kfp_tune is imported (in a notebook, restart the kernel and set it first)"
        ), stacklevel=3)
    if not is_image_reference(RUNTIME_IMAGE):
        raise InputError(
            f"{IMAGE_VARIABLE}: expected the runtime image's reference, e.g. {suggested_image()} (no spaces), "
            f"got {shown(RUNTIME_IMAGE)}"
        )
    problem = image_version_problem(RUNTIME_IMAGE)
    if problem is not None:
        warnings.warn(RuntimeImageWarning(f"{IMAGE_VARIABLE}: {problem}"), stacklevel=3)
    unpublished = None if set_since else unpublished_image_problem(RUNTIME_IMAGE)
    if unpublished is not None:
        warnings.warn(UnpublishedImageWarning(f"{unpublished}; until then no cluster can run this pipeline"), stacklevel=3)
    return RUNTIME_IMAGE


def default_image() -> str:
    """The image of the containers a launcher adds beside a trial (the collector sidecar, the
    checkpoint copier): ``KFP_TUNE_IMAGE`` as it is when the trial is made, else the one the
    components run in."""
    return os.environ.get(IMAGE_VARIABLE) or RUNTIME_IMAGE
