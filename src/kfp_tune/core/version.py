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

Between releases every build says the same version (QA "airgap": every commit was 0.1.0, so a
pipeline compiled by one build passed the check in an image of another and crashed inside a step
with a TypeError), so the stamp is ``VERSION+BUILD`` (a PEP 440 local version):
:func:`build_fingerprint`, a hash of kfp-tune's own installed source. A stamp of the version alone
(a pipeline compiled before builds were stamped) is checked as before, by its version; an image
of such an older kfp-tune compares the whole stamp to its version, so it refuses a build-stamped
pipeline in one line too rather than run it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

VERSION = "0.1.0"
"""This kfp-tune's version (PEP 440). Change it with every release: the runtime image's default
tag is derived from it, and a pipeline compiled by another version is refused by it."""

COMPILED_BY_VARIABLE = "KFP_TUNE_COMPILED_BY"
"""The env a compiled pipeline sets on each of its tasks: the kfp-tune that compiled it,
:func:`build_stamp` (``VERSION+BUILD``; the version alone before builds were stamped)."""

BUILD_SEPARATOR = "+"
"""Between the version and the build in a stamp (PEP 440's local version: ``0.1.0+1a2b3c4d5e6f``)."""

BUILD_LENGTH = 12
"""Hex digits of the build fingerprint: one in 16**12 that two builds share one."""

_PACKAGES = ("kfp_tune", "kfp_tune.algorithms", "kfp_tune.components", "kfp_tune.pipelines")
"""The installed package and the subpackages pyproject.toml maps from top-level folders (in a wheel
they lie inside ``kfp_tune/``; in an editable install each is its own folder)."""


def _package_folders(name: str) -> list[Path]:
    """Where package ``name`` is imported from (found without importing it: pipelines loads kfp)."""
    spec = importlib.util.find_spec(name)
    return [Path(folder) for folder in (spec.submodule_search_locations or [])] if spec is not None else []


def installed_sources() -> dict[str, bytes]:
    """Every .py file of the installed kfp-tune by its path in a wheel (``kfp_tune/core/version.py``),
    wherever it is installed from: a wheel and an editable install of one checkout give the same."""
    sources: dict[str, bytes] = {}
    for name in _PACKAGES:
        for folder in _package_folders(name):
            for path in folder.rglob("*.py"):
                relative = path.relative_to(folder).parts
                if "__pycache__" not in relative:
                    sources["/".join((*name.split("."), *relative))] = path.read_bytes()
    return sources


def source_fingerprint(sources: Mapping[str, bytes]) -> str:
    """A short hash of source files by path and content, in path order (each path and content
    length-delimited, so no two different trees hash alike by moving a border)."""
    digest = hashlib.sha256()
    for path in sorted(sources):
        content = sources[path]
        digest.update(f"{path}\0{len(content)}\0".encode() + content)
    return digest.hexdigest()[:BUILD_LENGTH]


@functools.cache
def build_fingerprint() -> str:
    """This kfp-tune's build: the fingerprint of its installed source (:func:`installed_sources`).
    Computed once per process, when first asked: a step asks only when its pipeline's stamp names
    a build; 136 files, about 10-20 ms on the development machine (against 1 s or more to import
    kfp_tune), so every step's start pays little."""
    return source_fingerprint(installed_sources())


def build_stamp() -> str:
    """What a pipeline this kfp-tune compiles records: ``VERSION+BUILD``."""
    return f"{VERSION}{BUILD_SEPARATOR}{build_fingerprint()}"


def described(stamp: str) -> str:
    """A stamp as messages name it: ``0.1.0 (build 1a2b3c4d5e6f)``, or the version alone."""
    version, _, build = stamp.partition(BUILD_SEPARATOR)
    return f"{version} (build {build})" if build else version


def image_tag(stamp: str) -> str:
    """The runtime image's tag for a stamp (``0.1.0-1a2b3c4d5e6f``: a tag has no ``+``)."""
    version, _, build = stamp.partition(BUILD_SEPARATOR)
    return f"{version}-{build}" if build else version


def compiled_by_text(stamp: str | None = None) -> str:
    """How a compiled pipeline's description names the kfp-tune that compiled it (its last words);
    this kfp-tune's version and build unless ``stamp`` is given."""
    return f"compiled by kfp-tune {described(build_stamp() if stamp is None else stamp)}"


def same_kfp_tune(compiled_by: str, running: str | None = None) -> bool:
    """Whether a pipeline stamped ``compiled_by`` was compiled by the kfp-tune ``running`` names
    (this one's :func:`build_stamp` unless given): the same version and, where both name a
    build, the same build (a stamp of the version alone was made before builds were stamped)."""
    compiled_version, _, compiled_build = compiled_by.partition(BUILD_SEPARATOR)
    if running is None:
        running = build_stamp() if compiled_build else VERSION
    running_version, _, running_build = running.partition(BUILD_SEPARATOR)
    return compiled_version == running_version and (not compiled_build or not running_build or compiled_build == running_build)


def version_mismatch(compiled_by: str | None, running: str | None = None) -> str | None:
    """What to do when a pipeline stamped ``compiled_by`` runs in an image holding ``running``
    (this kfp-tune's :func:`build_stamp` unless given); None when they are the same version and,
    where the stamp names a build, the same build, or when the pipeline carries no stamp (compiled
    before kfp-tune stamped its pipelines: it runs as it always did). A stamp of the version alone
    is compared by its version, as before builds were stamped (this image's build is then not
    even computed)."""
    if not compiled_by:
        return None
    compiled_build = compiled_by.partition(BUILD_SEPARATOR)[2]
    if running is None:
        running = build_stamp() if compiled_build else VERSION
    if same_kfp_tune(compiled_by, running):
        return None
    running_build = running.partition(BUILD_SEPARATOR)[2]
    compiled, holds = described(compiled_by), described(running)
    if not compiled_build:
        return (
            f"this pipeline was compiled by kfp-tune {compiled} and this image holds kfp-tune {holds}: recompile it "
            f"(and recreate its recurring run) with "
            + (f"kfp-tune {holds}" if not running_build else "the kfp-tune this image holds")
            + f", or run it with the image for {compiled}"
        )
    return (
        f"this pipeline was compiled by kfp-tune {compiled} and this image holds kfp-tune {holds}: recompile it "
        f"(and recreate its recurring run) with the kfp-tune this image holds, or run it in an image built from the "
        f"kfp-tune that compiled it (tagged {image_tag(compiled_by)})"
    )


_VERSION_TAG = re.compile(r"v?((?!\d{4}\.)\d+\.\d+(?:\.\d+)*(?:(?:a|b|rc|\.dev|\.post)\d+)*)(?:-([0-9a-f]{" + str(BUILD_LENGTH) + "}))?")
"""A tag that reads as a release's version (``0.1.0``, ``v0.2``, ``1.0.0rc1``), and then perhaps
a build (``0.1.0-1a2b3c4d5e6f``, :func:`image_tag`); other tags (``latest``, ``main``, a date,
``2024.06.01`` too, a commit, ``0.1.0-3f0d6e9``) say nothing about the kfp-tune an image holds."""
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
    matched = _tag_match(image)
    return matched.group(1) if matched else None


def _tag_match(image: str) -> re.Match[str] | None:
    """An image's tag read as :data:`_VERSION_TAG`, or None (no tag, only a digest, no version)."""
    reference = image.split("@", 1)[0]
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:  # no tag: the colon was a registry's port
        return None
    return _VERSION_TAG.fullmatch(tag)


def image_build(image: str) -> str | None:
    """The kfp-tune build an image's tag names (``REGISTRY/kfp-tune-python:0.1.0-1a2b3c4d5e6f`` ->
    ``1a2b3c4d5e6f``), or None when its tag names none (``0.1.0``, ``latest``)."""
    matched = _tag_match(image)
    return matched.group(2) if matched else None


def image_version_problem(image: str, compiled_by: str | None = None) -> str | None:
    """Why the steps of a pipeline stamped ``compiled_by`` (this kfp-tune's :func:`build_stamp`
    unless given) would stop at once in ``image`` (:func:`check_compiled_version`): its tag names
    another version, or the same version and another build where both the tag and the stamp name
    one (the guide asks for images tagged ``VERSION-BUILD``). None when the tag names the same
    one, or no version."""
    if compiled_by is None:
        compiled_by = build_stamp()
    tagged_version, tagged_build = image_version(image), image_build(image)
    if tagged_version is None:
        return None
    compiled_version, _, compiled_build = compiled_by.partition(BUILD_SEPARATOR)
    if same_version(tagged_version, compiled_version) and (not tagged_build or not compiled_build or tagged_build == compiled_build):
        return None
    tagged = described(f"{tagged_version}{BUILD_SEPARATOR}{tagged_build}" if tagged_build else tagged_version)
    compiled = described(compiled_by)
    return (
        f"the steps' image {image} is tagged {tagged}, and they are compiled by kfp-tune {compiled}: "
        f"if that image holds kfp-tune {tagged}, every step stops at once; use the runtime image built for "
        f"kfp-tune {compiled} (KFP_TUNE_IMAGE=REGISTRY/kfp-tune-python:{image_tag(compiled_by)})"
    )


def check_compiled_version() -> None:
    """The first call of every component's body: ends the step with one line on stderr (exit 1,
    no traceback) when the pipeline was compiled by another kfp-tune than this image holds
    (:func:`version_mismatch`), before anything that might not exist in this version is imported
    or any record is written."""
    problem = version_mismatch(os.environ.get(COMPILED_BY_VARIABLE))
    if problem is not None:
        sys.exit(f"error: {problem}")
