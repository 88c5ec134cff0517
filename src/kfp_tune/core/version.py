"""kfp-tune's version, spelled once: ``kfp_tune.__version__``, the package's (pyproject reads this
literal), the runtime image's default tag, and the stamp a compiled pipeline carries.

A compiled pipeline embeds each component's wrapper code, which imports from whatever kfp-tune its
image holds, so a pipeline compiled by one version and run in another version's image can fail
anywhere (a module gone, an argument renamed). The compiler stamps every task's env with
:data:`COMPILED_BY_VARIABLE`, and each component's body calls :func:`check_compiled_version`
first, through the top-level package (``kfp_tune.check_compiled_version``, a name kept at that
place across versions), so such a run stops at its first step with one line saying what to do.
Katib tags every image of a release with the release's version and its manifests name those tags
(docs/release/README.md, "Versions for Katib Components"), and its controller and services are
upgraded together, so nothing it runs was built for another version; a compiled pipeline outlives
the kfp-tune that compiled it, hence the stamp.
"""

from __future__ import annotations

import os
import re
import sys

VERSION = "0.1.0"
"""This kfp-tune's version (PEP 440). Change it with every release: the runtime image's default
tag is derived from it, and a pipeline compiled by another version is refused by it."""

COMPILED_BY_VARIABLE = "KFP_TUNE_COMPILED_BY"
"""The env a compiled pipeline sets on each of its tasks: the version that compiled it."""


def compiled_by_text(version: str = VERSION) -> str:
    """How a compiled pipeline's description names the kfp-tune that compiled it (its last words)."""
    return f"compiled by kfp-tune {version}"


def version_mismatch(compiled_by: str | None, running: str = VERSION) -> str | None:
    """What to do when a pipeline compiled by ``compiled_by`` runs in an image holding ``running``;
    None when they are the same version, or when the pipeline carries no stamp (compiled before
    kfp-tune stamped its pipelines: it runs as it always did)."""
    if not compiled_by or compiled_by == running:
        return None
    return (
        f"this pipeline was compiled by kfp-tune {compiled_by} and this image holds kfp-tune {running}: recompile it "
        f"(and recreate its recurring run) with kfp-tune {running}, or run it with the image for {compiled_by}"
    )


_VERSION_TAG = re.compile(r"v?((?!\d{4}\.)\d+\.\d+(?:\.\d+)*(?:(?:a|b|rc|\.dev|\.post)\d+)*)")
"""A tag that reads as a release's version (``0.1.0``, ``v0.2``, ``1.0.0rc1``); other tags
(``latest``, ``main``, a date, ``2024.06.01`` too, a commit) say nothing about the kfp-tune an
image holds."""
_RELEASE = re.compile(r"(\d+(?:\.\d+)*)(.*)")


def same_version(one: str, other: str) -> bool:
    """Whether two versions are one release, as PEP 440 compares them: trailing ``.0`` parts
    left out (``0.1`` is ``0.1.0``), leading zeros too (``0.01`` is ``0.1``)."""
    def key(version: str) -> tuple[tuple[int, ...], str]:
        matched = _RELEASE.fullmatch(version)
        if matched is None:
            return (), version
        release = [int(part) for part in matched.group(1).split(".")]
        while len(release) > 1 and release[-1] == 0:
            release.pop()
        return tuple(release), matched.group(2)
    return key(one) == key(other)


def image_version(image: str) -> str | None:
    """The kfp-tune version an image's tag names (``REGISTRY/kfp-tune-python:0.1.0`` -> ``0.1.0``),
    or None when its tag is no version (or it has none, or only a digest)."""
    reference = image.split("@", 1)[0]
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:  # no tag: the colon was a registry's port
        return None
    matched = _VERSION_TAG.fullmatch(tag)
    return matched.group(1) if matched else None


def image_version_problem(image: str, compiled_by: str = VERSION) -> str | None:
    """Why the steps of a pipeline compiled by ``compiled_by`` would stop at once in ``image``
    (:func:`check_compiled_version`): its tag names another version (the guide asks for images
    tagged with their kfp-tune's version). None when the tag names the same one, or no version."""
    tagged = image_version(image)
    if tagged is None or same_version(tagged, compiled_by):
        return None
    return (
        f"the steps' image {image} is tagged {tagged}, and they are compiled by kfp-tune {compiled_by}: "
        f"if that image holds kfp-tune {tagged}, every step stops at once; use the runtime image built for "
        f"kfp-tune {compiled_by} (KFP_TUNE_IMAGE=REGISTRY/kfp-tune-python:{compiled_by})"
    )


def check_compiled_version() -> None:
    """The first call of every component's body: ends the step with one line on stderr (exit 1,
    no traceback) when the pipeline was compiled by another kfp-tune than this image holds
    (:func:`version_mismatch`), before anything that might not exist in this version is imported
    or any record is written."""
    problem = version_mismatch(os.environ.get(COMPILED_BY_VARIABLE))
    if problem is not None:
        sys.exit(f"error: {problem}")
