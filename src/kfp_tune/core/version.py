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
:func:`build_fingerprint`, a hash of what a wheel of kfp-tune ships (its modules and package data),
read from wherever it is installed. A stamp of the version alone (a pipeline compiled before builds
were stamped, or by a kfp-tune installed without its ``.py`` files) is checked as before, by its
version; an image of such an older kfp-tune compares the whole stamp to its version, so it refuses
a build-stamped pipeline in one line too rather than run it. Only tasks the compiler made carry the
stamp: kfp-tune's components used in a pipeline of one's own are not checked (the guide says to pin
their image by its build tag).
"""

from __future__ import annotations

import functools
import glob
import hashlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Mapping
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

PACKAGE_ROOTS = ("kfp_tune", "kfp_tune.algorithms", "kfp_tune.components", "kfp_tune.pipelines")
"""The installed package and the subpackages pyproject.toml maps from top-level folders (in a wheel
they lie inside ``kfp_tune/``; in an editable install each is its own folder)."""

PACKAGE_DATA: Mapping[str, tuple[str, ...]] = {
    "kfp_tune": ("py.typed",),
    "kfp_tune.core": ("job_fields.json",),
    "kfp_tune.components": ("*/component.yaml", "*/README.md"),
}
"""pyproject.toml's ``[tool.setuptools.package-data]``, spelled again here because the build must be
computed where no pyproject.toml is (an image): the files besides modules a wheel ships, which
change what kfp-tune does (the Job-field rules, the components' specs). A test holds the two equal."""

DOCUMENTATION_DATA = ("*/README.md",)
"""The patterns of :data:`PACKAGE_DATA` that are documentation (the components' READMEs): shipped,
but left out of the build, since they change nothing a step does; a docs-only edit must not make
every image need rebuilding and retagging (review B)."""


def _package_folders(name: str) -> list[Path]:
    """Where package ``name`` is imported from (found without importing it: pipelines loads kfp)."""
    spec = importlib.util.find_spec(name)
    return [Path(folder) for folder in (spec.submodule_search_locations or [])] if spec is not None else []


def _readable(path: Path) -> bytes | None:
    """A file's bytes, or None when it cannot be read (a dangling link such as Emacs's ``.#name``
    lock, a file removed while it was listed, no permission, a folder named ``*.py``)."""
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _package_files(package: str, folder: Path, sources: dict[str, bytes]) -> None:
    """Adds what a wheel ships of ``package`` (at ``folder``) and of its subpackages to ``sources``:
    setuptools' rules, so that a checkout and the wheel built from it give the same build."""
    prefix = package.replace(".", "/")
    try:
        entries = sorted(folder.iterdir())
    except OSError:  # removed or unreadable: no code Python could import from it either
        return
    for entry in entries:
        if entry.suffix == ".py" and entry.stem.isidentifier():  # a module (no dotfile, no lock file)
            content = _readable(entry)
            if content is not None:
                sources[f"{prefix}/{entry.name}"] = content
        elif entry.name.isidentifier() and (entry / "__init__.py").is_file():  # a package: no __pycache__ or stray folder
            _package_files(f"{package}.{entry.name}", entry, sources)
    for pattern in (p for p in PACKAGE_DATA.get(package, ()) if p not in DOCUMENTATION_DATA):
        # setuptools expands package-data with glob.glob, which leaves out names starting with "."
        for relative in sorted(glob.glob(pattern, root_dir=folder)):
            content = _readable(folder / relative)
            if content is not None:
                sources[f"{prefix}/{Path(relative).as_posix()}"] = content


def installed_sources(roots: Mapping[str, Iterable[Path]] | None = None) -> dict[str, bytes]:
    """What a wheel of kfp-tune ships, by its path there (``kfp_tune/core/version.py``), read from
    wherever kfp-tune is installed (``roots``: each of :data:`PACKAGE_ROOTS` by its folders; where
    it is imported from unless given): the modules with identifier names of every package (a folder
    with ``__init__.py`` and an identifier name, from the roots down) and :data:`PACKAGE_DATA` but
    its documentation (:data:`DOCUMENTATION_DATA`). No
    dotfile, no folder that is no package, as setuptools builds the wheel, so an editable install or
    a source checkout and the wheel or image built from it give the same build. A file that cannot
    be read is left out, not counted by its name: Python cannot import it either, so the build
    stays that of the code this process can run, and ``compile`` or ``--version`` never fail on it."""
    if roots is None:
        roots = {name: _package_folders(name) for name in PACKAGE_ROOTS}
    sources: dict[str, bytes] = {}
    for package, folders in roots.items():
        for folder in folders:
            _package_files(package, folder, sources)
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
def build_fingerprint() -> str | None:
    """This kfp-tune's build: the fingerprint of what it ships (:func:`installed_sources`), or None
    where it is installed without its ``.py`` files (bytecode only: a slim image, a zipapp). There
    the hash would be of nothing, one constant build for every such install, refused by each
    source install's pipeline and passing each other's; with None the stamp is the version alone
    (:func:`build_stamp`), so such a kfp-tune neither stamps nor checks a build, only the version
    (as before builds were stamped). Computed once per process, when first asked: a step asks only
    when its pipeline's stamp names a build; about 10-20 ms for the 140 files on the development
    machine (against 1 s or more to import kfp_tune), so every step's start pays little."""
    sources = installed_sources()
    if not any(path.endswith(".py") for path in sources):
        return None
    return source_fingerprint(sources)


def build_stamp() -> str:
    """What a pipeline this kfp-tune compiles records: ``VERSION+BUILD``, or the version alone where
    the build is unknown (:func:`build_fingerprint`)."""
    build = build_fingerprint()
    return f"{VERSION}{BUILD_SEPARATOR}{build}" if build else VERSION


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
    return compiled_version == running_version and _builds_agree(compiled_build, running_build)


def compiled_by_this_kfp_tune(compiled_by: str) -> bool:
    """Whether a package stamped ``compiled_by`` is this kfp-tune's own, as ``submit`` and
    ``schedule`` ask before sending it: its stamp is this one's :func:`build_stamp`. Where this
    kfp-tune has a build, a stamp of the version alone is another's (this one would have stamped
    its build: it was compiled before builds were stamped, or by a kfp-tune installed without its
    ``.py`` files); where it has none, only the version can be compared. The step's own check
    (:func:`version_mismatch`) stays lenient: there a bytecode-only image is what has no build."""
    running = build_stamp()
    return same_kfp_tune(compiled_by, running) and (BUILD_SEPARATOR in compiled_by or BUILD_SEPARATOR not in running)


def _builds_agree(one: str, other: str) -> bool:
    """Whether two builds ("" where a stamp or a tag names none) can be the same: equal, or one
    unknown (a stamp of the version alone, a tag naming no build)."""
    return not one or not other or one == other


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
    # the same words on a cluster and on kfp.local, where no image or recurring run exists and the
    # kfp-tune that runs it is this machine's, its source changed since the run compiled it
    return (
        f"this pipeline was compiled by kfp-tune {compiled} and is run by kfp-tune {holds}: recompile it with the "
        f"kfp-tune that runs it (kfp.local: run it again; a cluster: and recreate its recurring run, if any), or run it "
        f"in an image built from the kfp-tune that compiled it (tagged {image_tag(compiled_by)})"
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


def image_repository_and_tag(image: str) -> tuple[str, str | None]:
    """An image reference's repository and tag (``REGISTRY:5000/kfp-tune-python:0.1.0@sha256:...``
    -> ``REGISTRY:5000/kfp-tune-python``, ``0.1.0``); None for the tag where it has none (only a
    digest, or a colon that is a registry's port)."""
    reference = image.split("@", 1)[0]
    repository, _, tag = reference.rpartition(":")
    if not repository or "/" in tag:  # no tag: the colon was a registry's port
        return reference, None
    return repository, tag


def _tag_match(image: str) -> re.Match[str] | None:
    """An image's tag read as :data:`_VERSION_TAG`, or None (no tag, only a digest, no version)."""
    tag = image_repository_and_tag(image)[1]
    return _VERSION_TAG.fullmatch(tag) if tag is not None else None


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
    if same_version(tagged_version, compiled_version) and _builds_agree(tagged_build or "", compiled_build):
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
