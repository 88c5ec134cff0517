"""Start the experiment's pipeline on a Kubeflow Pipelines host: one run now (``submit``), or
a recurring run on a cron schedule (``schedule``), through ``kfp.Client``.

The pipeline is compiled from the experiment and sent inline (no pipeline upload needed). Run
arguments are checked against the pipeline's parameters before anything is sent; credentials
are never among them (the steps read the store's from the ``store_secret`` Secret).

Instead of an experiment, both take a ready pipeline: a pipeline function (a ``@dsl.pipeline``
of your own around :func:`~kfp_tune.pipelines.tuning_step`, or the pipeline of
:func:`~kfp_tune.pipelines.component_trials`) or a compiled pipeline package (``.yaml``, or ``.json`` as
KFP's compiler also writes it). It is sent as it is, after the same checks (its size, the
arguments' names).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kfp_tune.core.errors import FieldError, InputError, KfpTuneError, SpecError, masked_url, shown, unreachable_reason
from kfp_tune.core.naming import dns_label, is_dns_subdomain, namespace_problem
from kfp_tune.core.spec import Experiment
from kfp_tune.core.template import GO_INT64
from kfp_tune.core.version import (
    BUILD_SEPARATOR,
    COMPILED_BY_VARIABLE,
    VERSION,
    build_stamp,
    compiled_by_this_kfp_tune,
    described,
    image_version_problem,
    same_version,
)
from kfp_tune.launchers import runtime_image
from kfp_tune.launchers.runtime_image import RuntimeImageWarning, UnpublishedImageWarning, refuse_unpublished_image
from kfp_tune.pipelines.builder import (
    DEFAULT_CLUSTER_STORE,
    DEFAULT_LAUNCHER_CONFIG,
    DEFAULT_OBJECT_STORE,
    OBJECT_STORES,
    PIPELINE_BUDGET_BYTES,
    RUN_PARAMETERS,
    as_experiment,
    checked_store_uri,
    checkpoint_limit_problems,
    cluster_store_problem,
    compile_pipeline,
)
from kfp_tune.stores import check_store_uri
from kfp_tune.stores.s3 import check_s3_endpoint

MAX_CONCURRENCY = 10
"""The most runs of one recurring run at a time that the KFP API accepts."""
KFP_BUCKET = urlsplit(DEFAULT_CLUSTER_STORE).netloc
"""KFP's own bucket, where the default store is."""
NAMESPACE_STORE = f"s3://{KFP_BUCKET}/private/{{namespace}}/kfp-tune"
"""The store of a run sent to a namespace with no store given. Multi-user KFP (2.16 and later,
SeaweedFS) gives each profile namespace store credentials that may write only under
``artifacts/``, ``private-artifacts/<namespace>/``, ``private/<namespace>/`` and ``shared/`` of
the mlpipeline bucket (manifests/kustomize/base/installs/multi-user/pipelines-profile-controller/
sync.py, ``iam.put_user_policy``); ``private-artifacts/`` also expires objects after the
artifact retention days, so the records go under ``private/<namespace>/``."""

log = logging.getLogger(__name__)


def cluster_store_default(namespace: str | None) -> str:
    """The store a run on the cluster uses when none is given: with a namespace, the prefix
    multi-user KFP lets that namespace write (:data:`NAMESPACE_STORE`); else
    :data:`DEFAULT_CLUSTER_STORE`."""
    return NAMESPACE_STORE.format(namespace=namespace) if namespace else DEFAULT_CLUSTER_STORE


NAMESPACE_PREFIXES = ("artifacts/", "private-artifacts/{namespace}/", "private/{namespace}/", "shared/")
"""Where in the mlpipeline bucket multi-user KFP's per-namespace credentials may write (sync.py,
``iam.put_user_policy``)."""


class StoreAccessWarning(UserWarning):
    """The run's namespace may not be allowed to write its store (multi-user KFP)."""


def namespace_store_note(store_uri: str, namespace: str | None) -> str:
    """What to say ("" when nothing) when a run in ``namespace`` keeps its records in KFP's own
    bucket outside the prefixes that namespace's credentials may write on multi-user KFP
    (:data:`NAMESPACE_PREFIXES`): its steps would be refused, AccessDenied. Another bucket's
    policy is not known here, and is not judged."""
    parts = urlsplit(store_uri)
    if not namespace or parts.scheme.lower() != "s3" or parts.netloc != KFP_BUCKET:
        return ""
    prefix = parts.path.strip("/") + "/"
    if any(prefix.startswith(allowed.format(namespace=namespace)) for allowed in NAMESPACE_PREFIXES):
        return ""
    return (
        f"the run goes to namespace {namespace!r} and keeps its records in {masked_url(store_uri)}: on multi-user KFP (2.16 and later) that "
        f"namespace's store credentials may write only under {', '.join(p.format(namespace=namespace) for p in NAMESPACE_PREFIXES)} "
        f"of the {KFP_BUCKET} bucket, so its steps would be refused (AccessDenied); use store_uri "
        f"{NAMESPACE_STORE.format(namespace=namespace)} (the default for a namespace), or a store of your own"
    )


def check_cluster_store(store_uri: str) -> None:
    """InputError (a ValueError) with :func:`cluster_store_problem`'s words when a run on the
    cluster cannot use ``store_uri``."""
    problem = cluster_store_problem(store_uri)
    if problem:
        raise InputError(problem)


@dataclass(frozen=True)
class Submitted:
    """What the KFP host said it created, and the store its runs keep their records in (where
    ``kfp-tune trials --store`` and ``Client(store=...)`` read them; None when the pipeline
    declares none)."""

    id: str
    kfp_experiment_id: str
    url: str
    store: str | None = None


def _as_experiment(experiment: Experiment | str | Path | Mapping[str, Any]) -> Experiment:
    """An Experiment, a Katib YAML file's path (a str is a path here), or its dict; checked
    before anything is sent."""
    from kfp_tune.launchers import function_experiment_problems
    from kfp_tune.steps import runnable_problems

    model = as_experiment(Path(experiment) if isinstance(experiment, str) else experiment)
    problems = runnable_problems(model) + function_experiment_problems(model)
    if problems:
        raise SpecError(problems)
    return model


@dataclass(frozen=True)
class _Ready:
    """A pipeline given ready-made: its name (for the run's and the KFP experiment's default
    names), its parameters, and how to write its package."""

    name: str
    parameters: frozenset[str]
    source: Any
    artifacts: frozenset[str] = frozenset()
    """Artifact inputs the pipeline requires: a run is given parameters only."""

    def package(self, folder: str) -> str:
        """The compiled package's path: compiled into ``folder`` from a pipeline function, or the
        file given; InputError when it passes the 1 MiB a KFP run can carry."""
        if isinstance(self.source, Path) and self.source.suffix in KFP_CLIENT_SUFFIXES:
            path = self.source
        elif isinstance(self.source, Path):  # a JSON package: kfp.Client uploads YAML only (_extract_pipeline_yaml)
            import yaml

            path = Path(folder) / f"{self.source.stem}.yaml"
            path.write_text(yaml.safe_dump(package_document(self.source), sort_keys=True), encoding="utf-8")
        else:
            from kfp import compiler

            path = Path(folder) / "pipeline.yaml"
            with warnings.catch_warnings():  # its image is refused, if it must be, once it is compiled
                warnings.simplefilter("ignore", UnpublishedImageWarning)
                compiler.Compiler().compile(self.source, str(path))
        size = path.stat().st_size
        if size > PIPELINE_BUDGET_BYTES:
            raise InputError(f"the compiled pipeline is {size:,} bytes, over the {PIPELINE_BUDGET_BYTES:,} bytes (1 MiB) a KFP run can carry")
        return str(path)


def _ready(source: Any) -> _Ready | None:
    """A ready pipeline (a pipeline function, or the path of a compiled package), or None for an
    experiment, by :func:`read_package`'s rule. A broken package, and a ``.yaml`` file that is
    not YAML, are refused here, naming it and what is wrong (:class:`UnreadableSource`)."""
    spec = getattr(source, "component_spec", None)
    if spec is not None and getattr(source, "pipeline_spec", None) is not None:
        from kfp.dsl.types import type_utils

        inputs = spec.inputs or {}
        required = {name for name, given in inputs.items() if not type_utils.is_parameter_type(given.type) and not given.optional}
        return _Ready(str(spec.name), frozenset(inputs), source, frozenset(required))
    if isinstance(source, (str, Path)):
        read = read_package(source)
        if read.unreadable or read.broken:
            raise UnreadableSource([FieldError(str(source), read.unreadable or read.broken)])
        if read.document is not None:
            first = read.document
            inputs = first["root"].get("inputDefinitions") or {}
            artifacts = inputs.get("artifacts") or {}
            names = {*(inputs.get("parameters") or {}), *artifacts}
            required = {name for name, given in artifacts.items() if not (isinstance(given, dict) and given.get("isOptional"))}
            return _Ready(str(first["pipelineInfo"].get("name") or Path(source).stem), frozenset(names), Path(source), frozenset(required))
    return None


KFP_CLIENT_SUFFIXES = (".yaml", ".yml")
"""The names of a pipeline package ``kfp.Client`` sends as a run's pipeline (besides archives)."""
PACKAGE_SUFFIXES = (*KFP_CLIENT_SUFFIXES, ".json")
"""The names KFP's compiler writes a pipeline package under (``Compiler().compile``: YAML, or
JSON, deprecated there but still written and read by ``kfp.components.load_component_from_file``),
which every command reads as a package when its first document is one (:func:`read_package`);
submit and schedule send a JSON one as YAML."""
PACKAGE_KEYS = ("components", "deploymentSpec", "pipelineInfo", "root", "schemaVersion", "sdkVersion")
"""The top-level keys KFP's compiler writes in a package; a Katib Experiment has none of them
(its are apiVersion, kind, metadata, spec, status)."""


MAX_PACKAGE_BYTES = 32 * 1024 * 1024
"""The largest package-named file read to tell whether it is a compiled pipeline package: KFP's
API server's bound on a pipeline file (``MaxFileLength = 32 << 20`` in
backend/src/apiserver/server/util.go). A package is no experiment, so the experiment file's
bound (:data:`~kfp_tune.core.loading.MAX_DOCUMENT_BYTES`, 3 MiB, Kubernetes' request limit) is
not its own; one told as a package is then held to what a run can carry
(:data:`~kfp_tune.pipelines.builder.PIPELINE_BUDGET_BYTES`), with words about a package."""


@dataclass(frozen=True)
class PackageReading:
    """What a file given where a pipeline package or an experiment is read is, from one read
    (:func:`read_package`): a package (``document``), a broken package (``broken``), a file that
    is no YAML text (``unreadable``), or else an experiment, left to the experiment loader."""

    document: dict[str, Any] | None = None
    """A package's first document, its pipeline spec (a copy of its own); None for any other."""
    broken: str = ""
    """Why a file with KFP's top-level keys is no package KFP's compiler writes, as every
    command says it ("a compiled KFP pipeline package, ..., and a broken one: pipelineInfo:
    missing (compile it again)"); or why a package-named file too large to be a package or an
    experiment was left unread (:func:`too_large_for_a_package`)."""
    unreadable: str = ""
    """Why a package-named file is no YAML text ("not valid YAML: line 4, column 1: ...; expected ...")."""


def read_package(path: str | Path) -> PackageReading:
    """The one rule for "is this file a compiled KFP pipeline package?", which validate, run,
    compile, submit and schedule share so that each says the same of the same file: a file named
    as KFP's compiler names one (:data:`PACKAGE_SUFFIXES`) whose first document has no
    apiVersion or kind and has ``pipelineInfo`` and ``root``, both mappings, is a package; with
    two or more of KFP's top-level keys (:data:`PACKAGE_KEYS`) but not those two mappings (a
    package edited or cut by hand), a broken one, with why. The file is read and parsed once
    (:func:`_parsed_package` keeps the parse for the checks that read it later), by the
    package's bound (:data:`MAX_PACKAGE_BYTES`), not the experiment's: one larger than an
    experiment may be that is no package is left to the experiment loader, which refuses it by
    its size; one past the package's bound is refused unread. A file that cannot be read
    (missing, a folder, no permission) is left to the experiment loader, which says so."""
    import yaml

    file = Path(path)
    try:
        if file.suffix not in PACKAGE_SUFFIXES or not file.is_file():
            return PackageReading()
        text = _package_text(file)
    except UnicodeDecodeError as exc:
        return PackageReading(unreadable=f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); {UNREADABLE_SOURCE_EXPECTED}")
    except (OSError, ValueError):  # unreadable, or a name the system refuses: the loader says
        return PackageReading()
    if text is None:  # larger than a package may be, and so than an experiment: refused unread
        return PackageReading(broken=too_large_for_a_package())
    try:
        first = _parsed_package(text)
    except yaml.YAMLError as exc:
        return PackageReading(unreadable=f"{_yaml_refusal_in_full(text, exc)}; {UNREADABLE_SOURCE_EXPECTED}")
    except (ValueError, KeyError, TypeError):  # a tag PyYAML cannot build (!!int 4e0): no package; the loader names the line
        return PackageReading()
    if "apiVersion" in first or "kind" in first:
        return PackageReading()
    if isinstance(first.get("pipelineInfo"), dict) and isinstance(first.get("root"), dict):
        return PackageReading(document=copy.deepcopy(first))
    if len(first.keys() & set(PACKAGE_KEYS)) < 2:  # one of KFP's words alone is no package: the loader says
        return PackageReading()
    problems = "; ".join(
        f"{key}: missing" if key not in first
        else f"{key}: expected a mapping, as KFP's compiler writes it, got {'null' if first[key] is None else type(first[key]).__name__}"
        for key in ("pipelineInfo", "root") if not isinstance(first.get(key), dict)
    )
    return PackageReading(broken=f"a compiled KFP pipeline package, not a Katib Experiment, and a broken one: {problems} (compile it again)")


def _executor_containers(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The containers a pipeline's steps run (``deploymentSpec.executors``) in a package's
    document or a listed recurring run's pipeline spec, for the checks of their images
    (:func:`_check_package_image`) and of the kfp-tune that compiled them (:func:`_other_kfp_tunes`)."""
    deployment = document.get("deploymentSpec")
    executors = deployment.get("executors") if isinstance(deployment, dict) else None
    if not isinstance(executors, dict):
        return []
    containers = [e.get("container") if isinstance(e, dict) else None for e in executors.values()]
    return [container if isinstance(container, dict) else {} for container in containers]


def _check_package_image(ready: _Ready, package: str) -> None:
    """A package about to be sent: refused when its steps run the unpublished default image
    (:func:`_refuse_package_image`), else warned of where they would stop at once or run
    another kfp-tune (:func:`_warn_package_image`); the package read once for both."""
    document = package_document(package)
    containers = _executor_containers(document)
    _refuse_package_image(ready, containers)
    _warn_package_image(ready, package, document, containers)


def _refuse_package_image(ready: _Ready, containers: list[dict[str, Any]]) -> None:
    """A package whose steps run the unpublished default image is refused before it is sent
    (:func:`~kfp_tune.launchers.runtime_image.unpublished_image_problem`): compiled here from a
    pipeline function, or compiled elsewhere with ``KFP_TUNE_IMAGE`` unset."""
    images = [container.get("image") for container in containers]
    refuse_unpublished_image([i for i in images if isinstance(i, str)], "package" if isinstance(ready.source, Path) else "pipeline")


STAMPED_SINCE = "2026-12-05 03:46 UTC"
"""When kfp-tune compile began to stamp each step with :data:`COMPILED_BY_VARIABLE` (the version)."""
BUILD_STAMPED_SINCE = "2026-12-06 23:42 UTC"
"""When it began to stamp the build too (``0.1.0+1a2b3c4d5e6f``)."""
COMPILED_PIPELINE_DESCRIPTION = "kfp-tune: Katib experiment "
"""How the description of a pipeline kfp-tune compile makes begins, in every version."""
COMPILED_PIPELINE_NAME = "kfp-tune-"
"""How the name of a pipeline kfp-tune compile makes begins, in every version (``kfp-tune-`` and
the experiment's name; ``kfp-tune-component-`` for component trials)."""
KFP_TUNE_STEP = re.compile(r"\b(?:from|import)\s+kfp_tune\b|-m\s+kfp_tune\b")
"""What a step's command or arguments hold where the step runs kfp-tune: its code imports it (a
kfp-tune step, or one of kfp-tune's component.yaml files), or runs it as a module."""


def _compiled_by(container: Mapping[str, Any]) -> str | None:
    """A step's :data:`COMPILED_BY_VARIABLE` stamp (None where it has none)."""
    env = {e.get("name"): e.get("value") for e in container.get("env") or [] if isinstance(e, dict)}
    stamp = env.get(COMPILED_BY_VARIABLE)
    return stamp if isinstance(stamp, str) else None


def _runs_kfp_tune(container: Mapping[str, Any]) -> bool:
    """Whether a step runs kfp-tune (:data:`KFP_TUNE_STEP`): a pipeline of one's own with a
    description like kfp-tune compile's, or a user's component beside kfp-tune's steps, does not."""
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    return any(isinstance(word, str) and KFP_TUNE_STEP.search(word) for word in words)


def _other_kfp_tunes(document: Mapping[str, Any]) -> dict[str, str]:
    """Which other kfp-tunes than this one compiled a pipeline (a package's document, or a listed
    recurring run's pipeline spec): each stamp of its steps that is not this kfp-tune's
    (:func:`~kfp_tune.core.version.compiled_by_this_kfp_tune`), with the image of its first step
    so stamped; for a package with no stamp, "" (a kfp-tune before :data:`STAMPED_SINCE`) where it
    is kfp-tune compile's: named and described as kfp-tune compile names and describes its
    pipelines, with a step that runs kfp-tune, whose image is given. A pipeline of one's own
    around kfp-tune's components (they carry no stamp) is not taken for one. submit's warning and
    schedule's refusal both ask this, so that they agree."""
    containers = _executor_containers(document)
    stamps: dict[str, str] = {}
    for container in containers:
        stamp, image = _compiled_by(container), container.get("image")
        if stamp is not None and (stamp not in stamps or stamps[stamp] == "(none)"):
            stamps[stamp] = image if isinstance(image, str) else "(none)"
    if stamps:
        return {stamp: image for stamp, image in stamps.items() if not compiled_by_this_kfp_tune(stamp)}
    info = document.get("pipelineInfo")
    name, description = (info.get("name"), info.get("description")) if isinstance(info, dict) else (None, None)
    if not (isinstance(name, str) and name.startswith(COMPILED_PIPELINE_NAME)):
        return {}
    if not (isinstance(description, str) and description.startswith(COMPILED_PIPELINE_DESCRIPTION)):
        return {}
    images = [c.get("image") for c in containers if _runs_kfp_tune(c)]
    return {"": next((i for i in images if isinstance(i, str)), "(none)")} if images else {}


def _warn_package_image(ready: _Ready, package: str, document: Mapping[str, Any], containers: list[dict[str, Any]]) -> None:
    """A compiled package (a file; a pipeline function is compiled here, its image checked then)
    is sent as it is: a RuntimeImageWarning when its kfp-tune steps would stop at once, their
    image tagged with another version than the kfp-tune that compiled them (compiled with such a
    ``KFP_TUNE_IMAGE`` elsewhere, or the image edited since), once per image; else one when
    another kfp-tune compiled it (:func:`_other_kfp_tunes`: another version, another build of
    this one, the version alone where this one has a build, or no stamp on a package of kfp-tune
    compile's), whose steps then run that kfp-tune, not this one (a recurring run of it too,
    every night), whatever the image's tag (``latest`` names no version)."""
    if not isinstance(ready.source, Path):
        return
    told: set[tuple[str, str]] = set()
    warned = False
    for container in containers:
        compiled_by, image = _compiled_by(container), container.get("image")
        if compiled_by is None or not isinstance(image, str) or (compiled_by, image) in told:
            continue
        told.add((compiled_by, image))
        problem = image_version_problem(image, compiled_by)
        if problem is not None:
            warned = True
            warnings.warn(RuntimeImageWarning(f"the package {Path(package).name}: {problem}"), stacklevel=5)  # past _check_package_image
    others = _other_kfp_tunes(document)
    if others and not warned:
        this = described(build_stamp())
        images = ", ".join(dict.fromkeys(others.values()))
        warnings.warn(RuntimeImageWarning(
            f"the package {Path(package).name} was compiled by {_compilers(sorted(others))}, not by this kfp-tune {this}: it is sent as "
            f"it is, and its steps run the kfp-tune of their image {images} ({_unchecked(sorted(others))}); to run kfp-tune {this}, "
            "compile it again with this kfp-tune (kfp-tune compile), or submit the experiment's YAML"
        ), stacklevel=5)


def _compilers(stamps: list[str]) -> str:
    """The kfp-tunes that compiled a package, as known from their stamps ("": none)."""
    def compiler(stamp: str) -> str:
        if not stamp:
            return f"a kfp-tune from before {STAMPED_SINCE}, which stamped no package with its version"
        if BUILD_SEPARATOR not in stamp and same_version(stamp, VERSION):  # another version says enough
            return (f"kfp-tune {stamp} with no build (before kfp-tune stamped its build, {BUILD_STAMPED_SINCE}, or by one installed "
                    "without its .py files)")
        return f"kfp-tune {described(stamp)}"
    return ", ".join(compiler(stamp) for stamp in stamps)


def _unchecked(stamps: list[str]) -> str:
    """What happens to a package's steps in an image of another kfp-tune, by the weakest stamp."""
    if "" in stamps:
        return "nothing checks which kfp-tune that image holds, and a step of another kfp-tune may fail inside it"
    for stamp in stamps:
        if BUILD_SEPARATOR not in stamp and same_version(stamp, VERSION):
            return f"an image of another build of {stamp} runs its steps unchecked, and a step may fail inside it with a TypeError"
    return "if that image holds another version or build, every step stops at once"


def _check_ready_artifacts(ready: _Ready) -> None:
    """A ready pipeline that needs an artifact cannot be run with parameters alone."""
    errors = [
        FieldError(
            f"pipeline input {name}",
            "an artifact the pipeline requires, and a run is given parameters only: call this pipeline inside one that makes "
            "the artifact (e.g. a preprocess step), and submit that",
        )
        for name in sorted(ready.artifacts)
    ]
    if errors:
        raise SubmitArgumentError(errors)


def _check_ready_options(ready: _Ready, rounds: int | None, store_uri: str | None, object_store: Any) -> None:
    """What only compiling an experiment uses (``rounds``, ``store_uri``, ``object_store``)
    has no place with a ready pipeline, which is sent as it is: refused, saying how that
    pipeline takes it, as ``kfp-tune submit`` refuses ``--rounds``, ``--store`` and
    ``--object-store`` for a compiled pipeline (before, they were dropped without a word and
    the runs kept their records in the pipeline's default store). ``object_store`` is refused
    when it is not the default, which a call that leaves it out cannot be told from."""
    sent = f"pipeline {ready.name!r} is ready-made and sent as it is"
    errors = []
    if store_uri is not None:
        how = (
            "pass it as the run argument: arguments={'store_uri': ...}" if "store_uri" in ready.parameters
            else "it has no store_uri parameter, so its store cannot be chosen for a run"
        )
        errors.append(FieldError("store_uri", f"for an experiment, which is compiled with it; {sent}: {how}"))
    if rounds is not None:
        from kfp_tune.pipelines.component_trials import PIPELINE_NAME_PREFIX

        built_with = "compile_pipeline(experiment, path, rounds=N), kfp-tune compile --rounds N or tuning_step(experiment, rounds=N)"
        how = (
            "it is a component_trials pipeline, which has no rounds (one loop iteration per trial, up to maxTrialCount): leave rounds out"
            if ready.name.startswith(PIPELINE_NAME_PREFIX)
            else f"its checkpoints are fixed when it is built: rounds are given to {built_with} (component_trials takes none)"
        )
        errors.append(FieldError("rounds", f"for an experiment, which is compiled with it; {sent}: {how}"))
    if object_store != DEFAULT_OBJECT_STORE:
        known = OBJECT_STORES.get(object_store) if isinstance(object_store, str) else None
        endpoint = repr(known.endpoint) if known is not None else "..."
        how = (
            f"pass its endpoint as the run argument: arguments={{'s3_endpoint': {endpoint}}}" if "s3_endpoint" in ready.parameters
            else "it has no s3_endpoint parameter: build it with that object_store"
        )
        errors.append(FieldError("object_store", f"for an experiment, which is compiled with it; {sent}: {how}"))
    if errors:
        raise SubmitArgumentError(errors)


def _checked_arguments(package: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments typed as the package declares its parameters (ArgumentsRefused otherwise;
    an artifact input is no parameter), the checkpoint limits among them within their range
    (a negative one would hand back at once, checkpoint after checkpoint), and those the steps
    read as they are checked as ``kfp-tune submit --param`` checks them (:func:`step_argument_problems`)."""
    typed = typed_arguments(declared_parameters(package), arguments)
    macros = kfp_macro_problems(typed)
    if macros:  # before the checks of what the text says: a name or store with a macro is none yet
        raise ArgumentsRefused(macros)
    limits = checkpoint_limit_problems({name: typed[name] for name in ("checkpoint_trials", "checkpoint_seconds") if name in typed})
    problems = [FieldError(f"arguments.{e.path}", e.message) for e in limits] + step_argument_problems(typed)
    if problems:
        raise ArgumentsRefused(problems)
    _check_endpoint_default(package)
    _check_task_constants(package)
    _warn_endpoint_without_scheme(typed)
    return typed


KFP_MACRO = re.compile(
    r"\[\[(?:RunUUID|ScheduledTime|CurrentTime|Index)[^\]]*?\]\]|\{\{\$\.(?:scheduledTime|currentTime)\.strftime\('.*?\}\}"
)
"""What KFP's ParameterFormatter fills into a run's string parameters (backend/src/common/util/
parameter_formatter.go): at each firing of a recurring run, and [[RunUUID]] and [[CurrentTime]]
when a run is created. Other text in [[ ]] it leaves as it is."""


MACRO_FREE_LITERALS = {
    "s3_endpoint": "the S3 endpoint must be literal, the one every step and trial reaches the store at (http://host:port or https://host)",
    "store_secret": "the store's Secret must be named literally, the Secret of the run's namespace every step reads the store's credentials from",
    "launcher_config": "the launcher config must be literal, the JSON every step builds the trials' launcher from, as checked here",
}
"""What a KFP macro in each run parameter that is no name of an experiment is told: a fresh
experiment per run gives no new endpoint, Secret or launcher config."""


def kfp_macro_problems(typed: Mapping[str, Any]) -> list[FieldError]:
    """kfp-tune's run parameters holding a KFP macro, each at ``arguments.NAME`` (the CLI says
    them at ``--param NAME``): KFP would send the steps another text than kfp-tune checked and
    reports. For ``experiment_name`` and ``store_uri`` (the experiment named after the date, a
    store new each night, while schedule says every run continues one experiment) the way to a
    new experiment per run is fresh_experiment; any other must be literal (:data:`MACRO_FREE_LITERALS`)."""
    problems = []
    for name, value in typed.items():
        found = KFP_MACRO.search(value) if name in RUN_PARAMETERS and isinstance(value, str) else None
        if not found:
            continue
        if name in ("experiment_name", "store_uri"):
            said = (
                f"holds {found.group()!r}, KFP's run macro: KFP fills it in at each firing of a recurring run (and [[RunUUID]], "
                f"[[CurrentTime]] when a run is created), so the steps would get another {name} than the one checked here, and a "
                f"recurring run that continues one experiment would tune another one each night; kfp-tune takes no KFP macros in its "
                f"parameters: for a new experiment per run, schedule it with a fresh experiment per run (--fresh-experiment, "
                f"fresh_experiment=True), each named <experiment_name>-<6 characters> and listed by kfp-tune list"
            )
        else:
            literal = MACRO_FREE_LITERALS.get(name, f"{name} must be literal")
            said = (
                f"holds {found.group()!r}, KFP's run macro, which KFP fills in when a run is created or a recurring run fires, "
                f"after kfp-tune has checked it: {literal}"
            )
        problems.append(FieldError(f"arguments.{name}", said))
    return problems


def _warn_endpoint_without_scheme(typed: Mapping[str, Any]) -> None:
    """An ``s3_endpoint`` argument written without a scheme is https (as minio and boto take
    it), where KFP's own MinIO and SeaweedFS speak plain HTTP: every step would fail TLS, found
    only in the first pod's log. Sent all the same (an endpoint on https is one), with a warning."""
    endpoint = typed.get("s3_endpoint")
    if isinstance(endpoint, str) and endpoint and "://" not in endpoint:
        warnings.warn(StoreAccessWarning(
            f"s3_endpoint {endpoint!r} has no scheme, so the steps use https: KFP's MinIO and SeaweedFS speak plain HTTP "
            f"(http://{endpoint}); write https://{endpoint} if it speaks TLS"
        ), stacklevel=4)


def step_argument_problems(typed: Mapping[str, Any]) -> list[FieldError]:
    """What the run's steps would refuse among the arguments, each at ``arguments.NAME``, found
    before anything is sent rather than in the run: an ``s3_endpoint`` that is no endpoint, or
    holds credentials (a run argument is public: the KFP UI shows it; the message never repeats
    it, :func:`~kfp_tune.stores.s3.check_s3_endpoint`), and a ``launcher_config`` that is no
    launcher's JSON config (not JSON, an unknown kind), as launch-trial reads it, and an
    ``experiment_name`` that is no experiment's name (``Bad_Name``), as the first step refuses
    it (a fresh experiment per run makes a name of it, whatever it is), and a ``store_secret``
    that is no Kubernetes Secret name, with which no step's pod could be created."""
    from kfp_tune.core.validation import name_problem
    from kfp_tune.launchers import launcher_from_config

    problems = []
    secret = typed.get("store_secret")
    if isinstance(secret, str) and secret and not is_dns_subdomain(secret):  # empty: the pod's own identity
        problems.append(FieldError("arguments.store_secret", (
            f"{secret!r} is not a Kubernetes Secret name (lower case letters, digits, '-' or '.', at most 253, starting and ending "
            "with a letter or digit): no step's pod could be created with it; give the Secret that holds the store's keys, or "
            "store_secret= (empty) for the pods' own identity")))
    name = typed.get("experiment_name")
    if isinstance(name, str) and not typed.get("fresh_experiment") and (problem := name_problem(name)) is not None:
        problems.append(FieldError("arguments.experiment_name", problem))
    if isinstance(typed.get("s3_endpoint"), str):
        try:
            check_s3_endpoint(typed["s3_endpoint"])
        except InputError as exc:
            problems.append(FieldError("arguments.s3_endpoint", str(exc)))
    if isinstance(typed.get("launcher_config"), str):
        try:
            launcher_from_config(typed["launcher_config"])
        except RecursionError:
            problems.append(FieldError("arguments.launcher_config", "a JSON object nested too deeply"))
        except ValueError as exc:
            problems.append(FieldError("arguments.launcher_config", str(exc).removeprefix("launcher_config: ")))
    return problems


def _check_endpoint_default(package: str) -> None:
    """A package compiled elsewhere with credentials in its ``s3_endpoint`` default is refused
    (InputError, the secret never repeated), whatever the argument: the package is sent with its
    defaults, which the KFP UI shows."""
    default = declared_default(package, "s3_endpoint")
    if isinstance(default, str):
        try:
            check_s3_endpoint(default)
        except InputError as exc:
            raise InputError(f"the pipeline's s3_endpoint default: {exc}; compile it again with an endpoint the steps can use (http://host:port)") from None


def _check_task_constants(package: str) -> None:
    """A package whose tasks are given a ``store_uri`` or ``s3_endpoint`` constant with
    credentials in it (a tuning step called with one inside a pipeline compiled elsewhere, at
    any depth of nested pipelines) is refused, naming the task (InputError, the secret never
    repeated): the package is sent as it is, and the KFP UI shows its constants. So is a
    ``store_uri`` constant, or a nested pipeline's ``store_uri`` default, that the cluster cannot
    use (a folder for kfp.local: each pod would write a folder of its own), as the run's own
    store is (:func:`_check_run_store`)."""
    first = package_document(package)
    for component_name, component in (first.get("components") or {}).items():
        default = (_input_parameters(component or {}).get("store_uri") or {}).get("defaultValue")
        if isinstance(default, str) and (problem := cluster_store_problem(default)):
            raise InputError(f"the pipeline's {component_name.removeprefix('comp-')!r}, its store_uri default: {problem}; build it with "
                             "store_uri=s3://... (tuning_step or component_trials), or give the task one")
    for body in [first.get("root") or {}, *((body or {}) for body in (first.get("components") or {}).values())]:
        for task_name, task in ((body.get("dag") or {}).get("tasks") or {}).items():
            given = ((task or {}).get("inputs") or {}).get("parameters") or {}
            for name in ("store_uri", "s3_endpoint"):
                constant = ((given.get(name) or {}).get("runtimeValue") or {}).get("constant")
                if not isinstance(constant, str):
                    continue
                try:
                    if name == "s3_endpoint":
                        check_s3_endpoint(constant)
                    elif masked_url(constant) != constant:  # a folder for kfp.local is no secret; the run's store is checked apart
                        check_store_uri(constant)
                except InputError as exc:
                    raise InputError(
                        f"the pipeline's task {task_name!r}, input {name}: {exc}; call it with one that holds no credentials "
                        "(its steps read them from the store_secret Secret) and compile the pipeline again"
                    ) from None
                if name == "store_uri" and (problem := cluster_store_problem(constant)):
                    raise InputError(f"the pipeline's task {task_name!r}, input store_uri: {problem}; call it with such a store and compile the pipeline again")


PARAMETER_TYPE_TEXT = {
    "NUMBER_INTEGER": "an integer",
    "NUMBER_DOUBLE": "a number",
    "BOOLEAN": "true or false",
    "STRING": "a string",
    "STRUCT": "a JSON object",
    "LIST": "a JSON list",
}
"""What each KFP IR parameter type accepts, as a refusal names it."""


class SubmitArgumentError(SpecError, ValueError):
    """An argument of ``submit()`` or ``schedule()`` that cannot be used (the host, the cron,
    ``max_concurrency``, an option a ready pipeline was not compiled with), each at its name:
    refused before anything is sent."""

    subject = "arguments"


class ArgumentsRefused(SpecError):
    """Run arguments the pipeline does not declare, or of another type than it declares: refused
    before anything is sent, each at ``arguments.NAME``."""

    subject = "run arguments"


class UnreadableSource(SpecError):
    """A file of a package's name (:data:`PACKAGE_SUFFIXES`) given to submit or schedule that is
    not valid YAML, or not UTF-8 text, or is a broken package (:func:`read_package`): refused
    naming the file, and where or why."""

    subject = "pipeline package or experiment"


UNREADABLE_SOURCE_EXPECTED = "expected a compiled pipeline package (kfp-tune compile's output) or a Katib Experiment"
"""What a ``.yaml`` file given to submit or schedule should have been, as its refusal says."""


def refuse_unreadable_source(source: str | Path) -> None:
    """:class:`UnreadableSource` when ``source``, a ``.yaml`` file given to submit or schedule,
    is not YAML (or not UTF-8 text) at all, saying what it should have been; nothing when it
    reads. The CLI asks it after the experiment loader refused a file: a broken file that looks
    like an experiment is then told the same expectation as one that looks like a package."""
    unreadable = read_package(source).unreadable
    if unreadable:
        raise UnreadableSource([FieldError(str(source), unreadable)])


def _yaml_refusal_in_full(text: str, exc: Any) -> str:
    """Where and why ``text`` is not YAML (the file, the line and column), never PyYAML's own
    exception, with the character libyaml's message leaves out, or that it is nested too deep
    (:func:`~kfp_tune.core.yaml_bounds.yaml_refusal` given the text)."""
    from kfp_tune.core.yaml_bounds import yaml_refusal

    return yaml_refusal(exc, text)


def _package_text(file: Path) -> str | None:
    """A package-named file's text, None when it is larger than a package may be
    (:data:`MAX_PACKAGE_BYTES`), its size looked at before any of it is read
    (:func:`~kfp_tune.core.yaml_bounds.bounded_file_bytes`), so a multi-GB file given by
    mistake is refused at once, not read and parsed whole first. UnicodeDecodeError when it is
    not UTF-8 text."""
    from kfp_tune.core.yaml_bounds import bounded_file_bytes

    data = bounded_file_bytes(file, MAX_PACKAGE_BYTES)
    return None if data is None else data.decode("utf-8")


def too_large_for_a_package() -> str:
    """Why a package-named file past :data:`MAX_PACKAGE_BYTES` is refused unread: in words about
    a package and an experiment both, since it cannot be told which it was meant to be."""
    from kfp_tune.core.loading import MAX_DOCUMENT_BYTES

    return (f"larger than {MAX_PACKAGE_BYTES:,} bytes, the most KFP's API server takes in a compiled pipeline package "
            f"(an experiment file may have {MAX_DOCUMENT_BYTES:,}, Kubernetes' request limit), so it was left unread")


def package_document(package: str | Path) -> dict[str, Any]:
    """The pipeline package's first YAML document, its pipeline spec ({} when it has none), as a
    copy of its own. submit and schedule read a package for several checks (its parameters,
    defaults, constants, images): a text is parsed once (:func:`_parsed_package`), and read
    by :func:`read_package`'s rule (InputError when it has grown past the limit since)."""
    text = _package_text(Path(package))
    if text is None:
        raise InputError(f"{package}: {too_large_for_a_package()}")
    return copy.deepcopy(_parsed_package(text))


@functools.lru_cache(maxsize=4)
def _parsed_package(text: str) -> dict[str, Any]:
    """The first YAML document of a package's ``text``, read with libyaml where PyYAML has it
    (a compiled tuning pipeline, some 230 KB, takes 0.02 s there against 0.24 s in pure Python)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = next(iter(yaml.load_all(text, Loader=loader)), None)
    return document if isinstance(document, dict) else {}


def _input_parameters(body: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a pipeline's root or a component declares (``inputDefinitions``): name ->
    what is declared of it (``parameterType``, ``defaultValue``, ...)."""
    return dict((body.get("inputDefinitions") or {}).get("parameters") or {})


def _default_in(document: Mapping[str, Any], name: str) -> Any:
    """The default a pipeline document (a package's first document, or a recurring run's
    pipeline spec) declares for run parameter ``name`` (None if none)."""
    return (_input_parameters(document.get("root") or {}).get(name) or {}).get("defaultValue")


def declared_parameters(package: str | Path) -> dict[str, str]:
    """The pipeline package's run parameters and their KFP IR types (``NUMBER_INTEGER``, ...)."""
    parameters = _input_parameters(package_document(package).get("root") or {})
    return {str(name): str((given or {}).get("parameterType") or "STRING") for name, given in parameters.items()}


def declared_default(package: str | Path, name: str) -> Any:
    """The default the pipeline package declares for run parameter ``name`` (None if none)."""
    return _default_in(package_document(package), name)


def _check_run_store(package: str, typed: Mapping[str, Any], namespace: str | None) -> str | None:
    """The store the run will use (None when the pipeline declares none), refused before
    anything is sent when it is no store URI kfp-tune takes (credentials in it: the secret is
    never repeated) or the cluster cannot use it: the ``store_uri`` argument, else the
    package's default (a package compiled with a folder for ``kfp.local``). A
    StoreAccessWarning when the namespace may not write it. A default that could hold a
    credential (what :func:`masked_url` hides) is refused whatever the argument: the package
    is sent with its defaults."""
    default = declared_default(package, "store_uri")
    if isinstance(default, str) and masked_url(default) != default:
        try:
            check_store_uri(default)
        except InputError as exc:
            raise InputError(
                f"the pipeline's store_uri default: {exc}; compile it again with a store_uri that holds no "
                "credentials (its steps read them from the store_secret Secret)"
            ) from None
    if "store_uri" in typed:
        store = typed["store_uri"]
        try:  # the form first (a scheme kfp-tune knows, no credentials in it), as kfp-tune submit --param store_uri checks it
            check_store_uri(store)
        except InputError as exc:
            raise ArgumentsRefused([FieldError("arguments.store_uri", str(exc))]) from None
        problem = cluster_store_problem(str(store))
        if problem:
            raise ArgumentsRefused([FieldError("arguments.store_uri", problem)])
    else:
        store = default
        try:
            problem = cluster_store_problem(check_store_uri(store)) if isinstance(store, str) else ""
        except InputError as exc:
            problem = str(exc)
        if problem:
            raise InputError(f"the pipeline's store_uri default: {problem}; pass a store_uri run argument, or compile it with one")
    note = namespace_store_note(store, namespace) if isinstance(store, str) else ""
    if note:
        warnings.warn(StoreAccessWarning(note), stacklevel=3)
    return str(store) if isinstance(store, str) else None


def _cluster_store(store_uri: str | None, namespace: str | None) -> str:
    """``store_uri``, or the default for ``namespace``; InputError naming store_uri when it is
    no store URI kfp-tune takes (:func:`~kfp_tune.pipelines.builder.checked_store_uri`:
    credentials in it are refused, masked, before it is compiled in) or the cluster cannot use it."""
    store = checked_store_uri(cluster_store_default(namespace) if store_uri is None else store_uri)
    problem = cluster_store_problem(store)
    if problem:
        raise InputError(f"store_uri: {problem}")
    return store


def typed_arguments(declared: Mapping[str, str], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The run arguments as the types the pipeline declares: kfp's executor converts nothing, so
    ``"4"`` sent for an integer reaches the step as a string. A string (the CLI's ``--param``)
    is converted; any other value must already be of the type. ArgumentsRefused names every
    argument that is not a parameter or cannot be its type."""
    typed: dict[str, Any] = {}
    errors = []
    for name, value in arguments.items():
        kind = declared.get(name)
        if kind is None:
            errors.append(FieldError(f"arguments.{name}", f"not a parameter of this pipeline; expected one of {sorted(declared)}"))
            continue
        try:
            typed[name] = _as_parameter_type(kind, value)
        except ValueError:
            expected = PARAMETER_TYPE_TEXT.get(kind, kind)
            errors.append(FieldError(f"arguments.{name}", f"expected {expected} ({kind}), got {shown(value)}"))
    if errors:
        raise ArgumentsRefused(errors)
    return typed


def _as_parameter_type(kind: str, value: Any) -> Any:
    """``value`` as a KFP parameter of type ``kind``; ValueError when it is not one."""
    import json
    import math

    if kind == "STRING":
        if not isinstance(value, str):
            raise ValueError(kind)
        return value
    if isinstance(value, str):
        text = value.strip()
        if kind == "BOOLEAN":
            flags = {"true": True, "false": False}
            if text.lower() not in flags:
                raise ValueError(kind)
            return flags[text.lower()]
        if kind == "NUMBER_INTEGER":
            if not re.fullmatch(r"[+-]?\d{1,18}", text):
                raise ValueError(kind)
            return int(text)
        if kind == "NUMBER_DOUBLE":
            number = float(text)  # ValueError for text that is no number
            if not math.isfinite(number):
                raise ValueError(kind)
            return number
        if kind in ("STRUCT", "LIST"):
            if len(text) > MAX_JSON_ARGUMENT:
                raise ValueError(kind)
            try:
                value = json.loads(text)
            except RecursionError:
                raise ValueError(kind) from None
    if kind == "BOOLEAN" and isinstance(value, bool):
        return value
    if kind == "NUMBER_INTEGER" and not isinstance(value, bool):
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    if kind == "NUMBER_DOUBLE" and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return value
    if (kind == "STRUCT" and isinstance(value, dict)) or (kind == "LIST" and isinstance(value, list)):
        return value
    raise ValueError(kind)


MAX_JSON_ARGUMENT = 64 * 1024
"""The longest STRUCT or LIST argument given as JSON text (KFP caps parameters anyway)."""


@dataclass(frozen=True)
class CronField:
    """One field of KFP's cron (robfig/cron v1, which KFP's ScheduledWorkflow controller parses
    with): its name, its range, and the names it takes for numbers."""

    name: str
    low: int
    high: int
    names: Mapping[str, int]


_MONTHS = {name: number for number, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_WEEKDAYS = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
CRON_FIELDS = (
    CronField("seconds", 0, 59, {}),
    CronField("minutes", 0, 59, {}),
    CronField("hours", 0, 23, {}),
    CronField("day of month", 1, 31, {}),
    CronField("month", 1, 12, _MONTHS),
    CronField("day of week", 0, 6, _WEEKDAYS),
)
CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
"""robfig/cron's predefined schedules, matched as they are written (v1.2.0's parseDescriptor is
a case-sensitive switch); ``@every DURATION`` too, one space after ``@every``."""
CRON_EVERY = "@every "
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
_GO_FIELD = re.compile(f"[^{_GO_SPACE}]+")
"""A cron field as robfig/cron splits them (Go's strings.Fields: unicode.IsSpace, which is not
quite Python's whitespace)."""
_GO_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)")
_GO_DURATION_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_CRON_EXAMPLE = "e.g. '0 0 2 * * *' for 02:00 daily, or @daily, @every 6h"
_CRON_TIME_ZONE = re.compile(r"(CRON_)?TZ=")
"""How a cron that names its time zone starts (robfig/cron v3, cron(8)'s CRON_TZ): not KFP's."""


def check_cron(cron: str) -> None:
    """KFP's cron: six fields, seconds first (``0 0 2 * * *`` is every day at 02:00, in the
    controller's time zone), each a
    list of ``*``, ``?``, ``N`` or ``A-B``, any of them with a step ``/N`` (months and weekdays
    also by name: jan, mon); or a descriptor, ``@daily`` or ``@every 1h30m``, written exactly
    so. What KFP cannot parse is refused naming the field and its range: KFP parses the text
    as it is sent with robfig/cron v1.2.0's ``cron.Parse`` (its API server refuses what that
    does not parse, with Go's error; its ScheduledWorkflow controller schedules with it).
    Stricter than that parser, so that a schedule runs as it reads: five fields are refused
    (robfig/cron would read them as seconds to month, not as the usual minute-first cron), an
    empty entry in a list, ``@every`` a duration that is not positive (every second), and a
    day of month that no month of the cron holds (``0 0 0 30 2 *``), which never fires
    (:func:`_never_fires_problem`). KFP reads it in its ScheduledWorkflow controller's time zone:
    UTC unless the cluster sets the controller's ``CRON_SCHEDULE_TIMEZONE``; a zone in the cron
    (``TZ=`` or ``CRON_TZ=`` before it) is refused saying so."""
    if not isinstance(cron, str) or len(cron) > 200:
        raise SubmitArgumentError([FieldError("cron", f"expected KFP's cron, six fields, seconds first ({_CRON_EXAMPLE}), got {shown(cron)}")])
    if cron.startswith("@"):  # robfig/cron reads a descriptor only where the text starts with @
        _check_cron_descriptor(cron)
        return
    fields = _GO_FIELD.findall(cron)
    if fields and _CRON_TIME_ZONE.match(fields[0]):  # robfig/cron v3's prefix; v1.2.0 reads it as a field
        raise SubmitArgumentError([FieldError("cron", (
            f"KFP takes no time zone in the cron (TZ=, CRON_TZ=: robfig/cron v1.2.0, which it parses with, has none): it reads the "
            f"cron in its ScheduledWorkflow controller's zone, UTC unless the cluster sets CRON_SCHEDULE_TIMEZONE; write the time "
            f"in that zone, without the prefix ({_CRON_EXAMPLE}), got {shown(cron)}"
        ))])
    if len(fields) == 1 and fields[0].startswith("@"):
        raise SubmitArgumentError([FieldError("cron", f"{shown(cron)}: expected the descriptor with nothing before it, e.g. {fields[0]!r} ({_CRON_EXAMPLE})")])
    if len(fields) == 5:
        raise SubmitArgumentError([FieldError("cron", _five_fields_problem(cron, fields))])
    if len(fields) != 6:
        raise SubmitArgumentError([FieldError("cron", f"expected six fields, seconds first (KFP's cron, {_CRON_EXAMPLE}), got {shown(cron)}")])
    errors = []
    for position, (field, spec) in enumerate(zip(fields, CRON_FIELDS, strict=True), start=1):
        problem = _cron_field_problem(field, spec)
        if problem:
            allowed = f"{spec.low}-{spec.high}" + (f" or {next(iter(spec.names))}-{list(spec.names)[-1]}" if spec.names else "")
            errors.append(FieldError(
                f"cron field {position} ({spec.name})",
                f"{problem}; expected {allowed}, *, ?, a range A-B, a step /N or a list of them",
            ))
    if errors:
        raise SubmitArgumentError(errors)
    never = _never_fires_problem(fields)
    if never:
        raise SubmitArgumentError([FieldError(f"cron field 4 ({CRON_FIELDS[3].name})", never)])


def _five_fields_problem(cron: str, fields: list[str]) -> str:
    """Why a crontab-style five-field cron is refused, with its six-field form where that one is
    accepted: the form most operators type (crontab, a Kubernetes CronJob), which KFP's parser
    would take seconds first, firing at other times than it reads."""
    six = " ".join(["0", *fields])
    try:
        check_cron(six)
    except SubmitArgumentError:
        offer = "write it with a seconds field in front ('0 ' before it)"
    else:
        offer = f"write it with a seconds field in front: {six!r}"
    return (
        f"expected six fields, seconds first (KFP's cron, {_CRON_EXAMPLE}), got {shown(cron)}: five fields, as crontab and a "
        f"Kubernetes CronJob write them, minute first; robfig/cron v1.2.0, which KFP parses with, reads five fields as seconds, "
        f"minutes, hours, day of month and month, so it would fire at other times; {offer}"
    )


MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
"""The most days each month has (February's 29th in leap years, which robfig/cron finds within
the five years it looks ahead)."""


def _cron_field_values(field: str, spec: CronField) -> tuple[set[int], bool]:
    """The values a cron field (already checked) matches, and whether robfig/cron v1.2.0 marks
    it starred: an entry that starts with ``*`` or ``?``, a step or not (its getRange keeps the
    star bit of ``*/2``, which v3 drops)."""
    values: set[int] = set()
    starred = False
    for part in field.split(","):
        span, slash, step = part.partition("/")
        if span in ("*", "?"):
            low, high, starred = spec.low, spec.high, True
        else:
            low_text, dash, high_text = span.partition("-")
            low = _cron_value(low_text, spec) or 0
            high = (_cron_value(high_text, spec) or 0) if dash else (spec.high if slash else low)
        values.update(range(low, high + 1, int(step) if slash else 1))
    return values, starred


def _never_fires_problem(fields: list[str]) -> str:
    """Why a six-field cron never fires ("" when it does): robfig/cron ANDs day of month and
    day of week when either is starred (``*`` or ``?``), so with day of week starred a day of
    month that no month of the cron holds (February 30, April 31) is never met. Its Next then
    returns the zero time (spec.go: "If no time is found within five years, return zero"),
    which KFP's ScheduledWorkflow controller does not check: with ``no_catchup`` its loop for
    the latest missed time never ends, with catch-up it starts a run at once. With day of week
    not starred the two are ORed and the weekday fires it (``0 0 0 30 2 mon``)."""
    days, days_starred = _cron_field_values(fields[3], CRON_FIELDS[3])
    months, _ = _cron_field_values(fields[4], CRON_FIELDS[4])
    _, weekdays_starred = _cron_field_values(fields[5], CRON_FIELDS[5])
    if days_starred or not weekdays_starred or any(day <= MONTH_DAYS[month - 1] for day in days for month in months):
        return ""
    return (
        f"day {fields[3]} never falls in month {fields[4]} (February has at most 29 days; April, June, September and November 30), "
        f"and day of week {fields[5]!r} adds no other day, so this schedule never fires (KFP's controller would spin on it); "
        "expected a day that one of the months holds, or a day of week (robfig/cron then fires on either)"
    )


def _check_cron_descriptor(text: str) -> None:
    """A descriptor as robfig/cron v1.2.0's parseDescriptor takes it: one of
    :data:`CRON_DESCRIPTORS` as written, or ``@every `` and a positive Go duration."""
    if text in CRON_DESCRIPTORS:
        return
    if not text.startswith(CRON_EVERY):
        written = text.strip(_GO_SPACE).lower()
        every = re.fullmatch(f"@every[{_GO_SPACE}]+([^{_GO_SPACE}]+)[{_GO_SPACE}]*", text, re.IGNORECASE)
        hint = (
            f" (write {written!r}: the descriptors are lower case, with nothing around them)" if written in CRON_DESCRIPTORS
            else f" (write '@every {every.group(1)}': lower case, one space, then the duration)" if every
            else ""
        )
        raise SubmitArgumentError([FieldError(
            "cron", f"{shown(text)}: not one of robfig/cron's descriptors{hint}; expected one of {', '.join(CRON_DESCRIPTORS)} or @every DURATION",
        )])
    duration = text.removeprefix(CRON_EVERY)
    nanoseconds = go_duration_nanoseconds(duration)
    if nanoseconds is None or nanoseconds <= 0:
        spaced = " (one space after @every, none after the duration)" if duration != duration.strip(_GO_SPACE) else ""
        raise SubmitArgumentError([FieldError(
            "cron", f"@every {shown(duration)}: expected a positive duration as Go writes it, e.g. 30m, 6h or 1h30m{spaced}",
        )])


def go_duration_nanoseconds(text: str) -> int | None:
    """The nanoseconds Go's ``time.ParseDuration`` reads in ``text`` (``1h30m``, ``1.5s``,
    ``-2m``, ``0``), or None where it refuses it: a number without a unit, an unknown unit,
    any space, or an int64 of nanoseconds or more (about 292 years)."""
    sign, body = (-1, text[1:]) if text[:1] == "-" else (1, text[1:] if text[:1] == "+" else text)
    if body == "0":
        return 0
    total, position = 0, 0
    while position < len(body):
        part = _GO_DURATION_PART.match(body, position)
        if part is None or not (part.group(1) or part.group(2)):
            return None
        whole, fraction, unit = part.group(1), part.group(2) or "", _GO_DURATION_UNITS[part.group(3)]
        total += int(whole or "0") * unit + int(fraction or "0") * unit // 10 ** len(fraction)
        position = part.end()
    if not body or total not in GO_INT64:
        return None
    return sign * total


def _cron_field_problem(field: str, spec: CronField) -> str:
    """What is wrong with one cron field ("" when nothing), as robfig/cron v1 parses it."""
    for part in field.split(","):
        if not part:
            return f"an empty entry in the list {shown(field)}"
        span, slash, step = part.partition("/")
        if slash and not (step.isascii() and step.isdigit() and int(step) > 0 and int(step) in GO_INT64):  # Go's strconv.Atoi: an int64
            return f"the step {shown(step)} is not a positive number"
        if span in ("*", "?"):
            continue
        low_text, dash, high_text = span.partition("-")
        low = _cron_value(low_text, spec)
        high = _cron_value(high_text, spec) if dash else low
        if low is None or high is None:
            bad = low_text if low is None else high_text
            return f"{shown(bad)} is not a number" + (" or a name" if spec.names else "")
        if not spec.low <= low <= spec.high or not spec.low <= high <= spec.high:
            return f"{low if not spec.low <= low <= spec.high else high} is out of range"
        if low > high:
            return f"the range starts after it ends ({low} > {high})"
    return ""


def _cron_value(text: str, spec: CronField) -> int | None:
    if text.isascii() and text.isdigit():
        return int(text)
    return spec.names.get(text.lower())


def _scrubbed(text: str, url: str | None) -> str:
    """``text`` (an error about ``url``) without the parts of the URL :func:`masked_url` hides."""
    from urllib.parse import urlsplit

    if not url:
        return text
    try:
        parts = urlsplit(url if "://" in url else f"//{url}")
    except ValueError:
        return text
    secrets = [parts.query, parts.fragment, parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def check_namespace(namespace: str | None) -> None:
    """The namespace a run is sent to (a Kubernetes namespace, which its default store path
    becomes): SubmitArgumentError naming ``namespace`` before anything is sent, where KFP would
    refuse it only once the run is made, or a bad store path would be written."""
    if namespace not in (None, "") and (problem := namespace_problem(namespace)) is not None:  # "": none, as kfp.Client reads it
        raise SubmitArgumentError([FieldError("namespace", problem)])


def check_host(host: str | None) -> None:
    """Refuse a KFP host URL with credentials in it (``http://user:token@host``, a token in a
    query string): they would show in every message about the host, and kfp.Client appends
    the API's paths to the host, so a query or fragment would not reach the API anyway. None
    of it is repeated here. A host without http:// or https:// too (:func:`host_scheme_problem`),
    at ``host HOST``, the host masked: one check for the CLI's ``--host``, ``submit``,
    ``schedule`` and ``tune(host=)``."""
    from urllib.parse import urlsplit

    if host is None:  # $KF_PIPELINES_ENDPOINT's CA variable: checked as kfp.Client is made (kfp_ca_cert), unless a client is given
        return
    if not isinstance(host, str) or not host.strip() or host.strip() != host:
        raise SubmitArgumentError([FieldError("host", f"expected the KFP API's URL, e.g. http://ml-pipeline-ui.kubeflow, got {shown(masked_url(host) if isinstance(host, str) else host)}")])
    try:
        parts = urlsplit(host if "://" in host else f"http://{host}")
    except ValueError:
        raise SubmitArgumentError([FieldError("host", "expected the KFP API's URL, e.g. http://ml-pipeline-ui.kubeflow; this one cannot be parsed")]) from None
    if "@" in parts.netloc:
        raise SubmitArgumentError([FieldError("host", f"credentials do not belong in the host URL (it is repeated in messages); {TOKEN_HINT}")])
    if parts.query or parts.fragment or "?" in host or "#" in host:
        raise SubmitArgumentError([FieldError(
            "host",
            f"{masked_url(host)}: a query string or fragment does not belong in the host URL (kfp.Client appends the API's paths "
            f"to it, and it is repeated in messages); give the API's base URL, e.g. http://ml-pipeline-ui.kubeflow; for a token, {TOKEN_HINT}",
        )])
    problem = host_scheme_problem(host)
    if problem:
        raise SubmitArgumentError([FieldError(f"host {masked_url(host)}", problem)])
    if uses_tls(host):
        kfp_ca_file()  # a CA variable naming no file: refused here, before anything is compiled or sent


CA_FILE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
"""Where the certificates of the CA that signed an ``https://`` KFP API's certificate come from,
first set first: the variables OpenSSL and requests read (the S3 store reads SSL_CERT_FILE too).
kfp.Client trusts certifi's bundle and nothing else unless given ``ssl_ca_cert``
(kfp_server_api's rest.py), so adding a private CA to this machine's trust store does not help."""


def kfp_ca_file() -> tuple[str, str] | None:
    """The first of :data:`CA_FILE_VARIABLES` that is set, and the file it names, or None (kfp's
    default: certifi's bundle). InputError naming the variable when it names no file, rather
    than a TLS failure that seems to be the server's."""
    for variable in CA_FILE_VARIABLES:
        value = os.environ.get(variable)
        if value:
            problem = _ca_file_problem(Path(value))
            if problem:
                raise InputError(f"{variable}: expected a file of CA certificates (PEM) for the KFP API's https://, got {shown(value)}, {problem}")
            return variable, value
    return None


def _ca_file_problem(path: Path) -> str:
    """Why kfp.Client cannot trust a server by ``path`` ("" when it can): read as OpenSSL reads
    ``ssl_ca_cert``, so that an unreadable file is named, not the server (its content is not
    repeated). A folder, which requests takes (c_rehash), kfp does not."""
    import ssl

    if path.is_dir():
        return "which is a folder: kfp takes one file, so put its certificates in one (cat FOLDER/*.pem > FILE) and name that"
    if not path.is_file():
        return "which is no file"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=str(path))
    except ssl.SSLError:
        return "which holds no PEM certificate"
    except (OSError, ValueError) as exc:
        return f"which cannot be read ({getattr(exc, 'strerror', None) or type(exc).__name__})"
    return ""


def kfp_host(host: str | None) -> str | None:
    """The host kfp.Client goes to for ``host``: itself, else ``$KF_PIPELINES_ENDPOINT`` (which
    kfp.Client reads first, kfp/client/client.py), else None (the kubeconfig's or the pod's)."""
    return host or os.environ.get("KF_PIPELINES_ENDPOINT") or None


def uses_tls(host: str | None) -> bool:
    """Whether kfp.Client speaks https to ``host`` (:func:`kfp_host`): the CA variables matter
    only then, so a leftover one does not block a plain ``http://`` host (kfp takes a host
    without a scheme as https)."""
    effective = kfp_host(host)
    return effective is not None and not effective.lower().startswith("http://")


def kfp_ca_cert(host: str | None) -> str | None:
    """What ``kfp.Client(ssl_ca_cert=)`` gets for ``host``: the file :func:`kfp_ca_file` names
    when the host, given or from ``$KF_PIPELINES_ENDPOINT``, is https; else None (for no host
    at all, kfp takes the kubeconfig's or the pod's own certificates)."""
    found = kfp_ca_file() if uses_tls(host) else None
    return found[1] if found else None


def host_scheme_problem(host: str, example: str | None = None) -> str:
    """What is wrong with a KFP host given without http:// or https:// ("" when it has one):
    kfp.Client warns and takes it as https:// (kfp/client/client.py ``Client._load_config``),
    which a KFP API behind ``kubectl port-forward`` (plain http) then fails far from its cause.
    The example is the host with its scheme, masked (:func:`masked_url`), unless one is given."""
    if host.lower().startswith(("http://", "https://")):
        return ""
    if example is None:
        mistyped = re.match(r"(?i)(https?):?/+", host)  # http//host, https:/host: the scheme is there, its '://' is not
        other = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", host)  # ftp://host: another scheme, in place of http's
        if mistyped:
            example = f"{mistyped[1].lower()}://{masked_url(host[mistyped.end():])}"
        else:
            example = f"http://{masked_url(host[other.end():] if other else host)}"
    return f"expected http:// or https:// before the host, e.g. {example} (kfp.Client would take https:// and warn)"


TOKEN_HINT = (
    "put the token in a file and pass --token-file FILE (kfp-tune submit and schedule), or in Python "
    "client=kfp.Client(host=URL, existing_token=TOKEN); inside the cluster, with no host, kfp.Client reads the pod's "
    "token ($KF_PIPELINES_SA_TOKEN_PATH)"
)
"""Where a token for the KFP API goes, for the CLI and for Python."""


class TrialsNamespaceWarning(UserWarning):
    """The run's namespace and the namespace its trials will be created in differ."""


def trials_namespace_note(experiment: Experiment, namespace: str | None, arguments: Mapping[str, Any]) -> str:
    """Where a run in ``namespace`` creates its Kubernetes trials, when that is another namespace
    ("" otherwise): the launcher config's ``namespace`` (a team's run sending its trials to
    another team's namespace), else the experiment's ``metadata.namespace``, else the run's. Katib's examples all say ``kubeflow``, so a run in
    a profile namespace would create its trials in ``kubeflow``, which on multi-user KFP its
    service account may not (403)."""
    import json

    if not namespace:
        return ""
    config = arguments.get("launcher_config")
    try:
        launcher = json.loads(config) if isinstance(config, str) and config else dict(DEFAULT_LAUNCHER_CONFIG)
    except ValueError:
        return ""
    if not isinstance(launcher, dict) or launcher.get("kind", "local") != "kubernetes":
        return ""
    if launcher.get("namespace"):
        chosen = str(launcher["namespace"])
        return "" if chosen == namespace else (
            f"the run goes to namespace {namespace!r}, but launcher_config creates its trials in namespace {chosen!r}; on multi-user "
            f"KFP the run's service account usually may not create them there (403 Forbidden), and each trial reads the store Secret "
            f"in {chosen!r}, whose keys may not write the run's records (a profile's own prefix): give launcher_config the namespace "
            f"{namespace!r}, or run in {chosen!r} (--namespace)"
        )
    target = experiment.metadata.namespace
    if not target or target == namespace:
        return ""
    return (
        f"the run goes to namespace {namespace!r}, but its trials will be created in namespace {target!r}, the experiment's "
        f"metadata.namespace (trials go to the launcher config's namespace, else metadata.namespace, else the run's); on multi-user "
        f"KFP the run's service account usually may not create them there (403 Forbidden). To create them in {namespace!r}, pass "
        f"--param launcher_config='{{\"kind\": \"kubernetes\", \"namespace\": \"{namespace}\"}}' (Python: "
        f"arguments={{\"launcher_config\": ...}}), or set metadata.namespace to {namespace!r}"
    )


def compiled_trials_namespace_note(experiment: Experiment, launcher_config: Mapping[str, Any] | None = None) -> str:
    """Where a compiled pipeline's runs create their Kubernetes trials when that is fixed at
    compile time, whichever namespace a run goes to ("" otherwise): the experiment's
    ``metadata.namespace`` under a Kubernetes launcher config that names none (the default).
    The pipeline may be uploaded in the KFP UI and run from a profile namespace, where
    :func:`trials_namespace_note` never speaks: said once when it is compiled."""
    launcher = dict(launcher_config) if launcher_config else dict(DEFAULT_LAUNCHER_CONFIG)
    target = experiment.metadata.namespace
    if launcher.get("kind", "local") != "kubernetes" or launcher.get("namespace") or not target:
        return ""
    return (
        f"its trials will be created in namespace {target!r}, the experiment's metadata.namespace, whatever namespace a run goes to "
        f"(trials go to the launcher config's namespace, else metadata.namespace, else the run's); on multi-user KFP a run in a "
        f"profile namespace usually may not create them there (403 Forbidden). To create them beside the run, remove "
        f"metadata.namespace, or compile with --launcher-config '{{\"kind\": \"kubernetes\", \"namespace\": \"PROFILE\"}}' "
        f"(or pass launcher_config when the run starts)"
    )


def kfp_api_client(host: str | None, namespace: str | None, client: Any) -> Any:
    """The KFP API client a call uses: ``client`` when given, else one for ``host``
    (:func:`new_kfp_client`, imported then, so that building a pipeline or an experiment needs
    no connection)."""
    if client is not None:
        return client
    return new_kfp_client(host, namespace, ssl_ca_cert=kfp_ca_cert(host))


def new_kfp_client(host: str | None, namespace: str | None, *, existing_token: str | None = None, ssl_ca_cert: str | None) -> Any:
    """A ``kfp.Client`` for ``host`` whose health check, its first request, is asked once
    (:func:`_one_health_check_client`): a refusal of the token is then said at once, as what
    it is, by :func:`kfp_api_errors`."""
    printed = io.StringIO()
    try:
        # kfp prints, where a library would log; and warns on every construction that it needs
        # KFP 2.x, which is what kfp-tune compiles for (a notebook showed it at each submit)
        with contextlib.redirect_stdout(printed), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=KFP_VERSION_WARNING, category=FutureWarning)
            return _one_health_check_client()(host=host, namespace=namespace or "kubeflow", existing_token=existing_token, ssl_ca_cert=ssl_ca_cert)
    finally:
        for line in printed.getvalue().splitlines():
            if line.strip() == KFP_NO_KUBE_CONFIG:  # the error that follows says what could not be reached
                log.debug("kfp: %s", line)
            else:
                print(line)


class HealthCheckAnswer(Exception):
    """The KFP API answered kfp.Client's health check with an HTTP error: its status, reason and
    body, how many times it was asked (``tries``), and the client's token (``secrets``), which
    no message repeats. Not the library's exception, whose text holds the answer's headers (a
    proxy's session cookie)."""

    def __init__(self, status: int, reason: str, body: Any, secrets: tuple[str, ...], tries: int = 1) -> None:
        super().__init__(f"{status} {reason}")
        self.status, self.reason, self.body, self.secrets, self.tries = status, reason, body, secrets, tries


HEALTH_CHECK_TRIES = 5
"""How many times the health check is asked while the answer may pass (kfp's own budget)."""
HEALTH_CHECK_WAIT_SECONDS = 5.0
"""The wait between two of those tries (kfp's own)."""
PASSING_ANSWERS = frozenset({502, 503, 504})
"""What a gateway in front of KFP answers while the KFP API server starts or restarts: asked
again, as kfp's own check did; any other HTTP answer (401, 403, 500) is said at once."""


@functools.cache
def _one_health_check_client() -> Any:
    """``kfp.Client`` with a health check that says a refusal at once. kfp's own asks five
    times, 5 s apart, on any HTTP answer, logging each with the answer's headers and body on the
    root logger (an auth proxy's session cookie, an error page repeating the token), then raises
    TimeoutError, which reads as a host that timed out. Here a 401, 403 or server error is no
    passing fault and is raised at once as a :class:`HealthCheckAnswer`; a gateway's 502 / 503 /
    504 (:data:`PASSING_ANSWERS`) and no HTTP answer at all (status 0: the connection failed)
    are asked again with kfp's budget (:data:`HEALTH_CHECK_TRIES`, :data:`HEALTH_CHECK_WAIT_SECONDS`
    apart), logging nothing, then said as they were."""
    import kfp
    import kfp_server_api

    class OneHealthCheckClient(kfp.Client):
        def get_kfp_healthz(self, sleep_duration: int = 5) -> Any:
            tries = 1
            while True:
                try:
                    return self._healthz_api.healthz_service_get_healthz()
                except kfp_server_api.ApiException as exc:
                    passing = not exc.status or int(exc.status) in PASSING_ANSWERS
                    if not passing or tries >= HEALTH_CHECK_TRIES:
                        if not exc.status:  # no HTTP answer (a TLS failure, a refused connection): said as before
                            raise
                        api_key = getattr(self._existing_config, "api_key", None) or {}
                        secrets = tuple(str(v).removeprefix("Bearer ") for v in api_key.values() if v)
                        raise HealthCheckAnswer(int(exc.status), str(exc.reason or ""), exc.body, secrets, tries) from None
                    log.warning("the KFP API answered %s %s (passing while KFP restarts?); asking again in %g s (%d of %d)",
                                exc.status, exc.reason or "", HEALTH_CHECK_WAIT_SECONDS, tries + 1, HEALTH_CHECK_TRIES)
                tries += 1
                time.sleep(HEALTH_CHECK_WAIT_SECONDS)

    return OneHealthCheckClient


KFP_VERSION_WARNING = "This client only works with Kubeflow Pipeline"
"""The start of the FutureWarning ``kfp.Client`` gives on every construction (kfp/client/client.py)."""

KFP_NO_KUBE_CONFIG = "Failed to load kube config."
"""What ``kfp.Client`` prints to stdout when no host is given and there is no kube config: a
stray line before kfp-tune's own error, which names the host it could not reach."""


def _default_host() -> str:
    """Where kfp.Client goes with no host given, for a message (the variable's value is not
    repeated: it may hold credentials)."""
    if os.environ.get("KF_PIPELINES_ENDPOINT"):
        return "the host in $KF_PIPELINES_ENDPOINT"
    return "kfp's default host (no --host given, and $KF_PIPELINES_ENDPOINT is not set)"


@contextlib.contextmanager
def kfp_api_errors(host: str | None) -> Any:
    """The KFP API's refusals and an unreachable host, as one clear error (status and the
    server's message; never the request, which may carry a token, nor a credential-looking
    part of the host). The root logger is left as it was: kfp's client logs on the root logger
    (``logging.info('Creating experiment ...')``, kfp/client/client.py), which configures it
    when nothing had, and every library's warnings then print as ``WARNING:name:...`` in the
    user's notebook or script (QA "notebook", session 31)."""
    root = logging.getLogger()
    unconfigured = not root.handlers
    try:
        with _api_errors(host):
            yield
    finally:
        if unconfigured:  # what logging.basicConfig added, as the call found it: none
            for handler in list(root.handlers):
                root.removeHandler(handler)


@contextlib.contextmanager
def _api_errors(host: str | None) -> Iterator[None]:
    try:
        yield
    except KfpTuneError:
        raise
    except Exception as exc:
        status = getattr(exc, "status", None)
        reason = getattr(exc, "reason", None) or ""
        where = masked_url(host) if host else _default_host()
        if status:
            hint = {401: f" (not signed in: {TOKEN_HINT})", 403: " (no access to this namespace)"}.get(int(status), "")
            said = _server_message(getattr(exc, "body", None))
            if int(status) == 400 and "empty namespace" in said and "in multi-user mode" in said:  # KFP's words, kfp-tune's flag
                hint = f"; {NAMESPACE_HINT}"
            if isinstance(exc, HealthCheckAnswer) and int(status) in (401, 403):  # kfp.Client's first request, on no namespace
                hint = (
                    f" ({'not signed in' if int(status) == 401 else 'the token or identity was refused'}: no token was sent, or it is wrong, "
                    f"expired, or not one the gateway in front of KFP accepts; {TOKEN_HINT})"
                )
            if isinstance(exc, HealthCheckAnswer) and int(status) in PASSING_ANSWERS:  # asked again till the budget ended
                hint = (
                    f" (asked {exc.tries} times, {HEALTH_CHECK_WAIT_SECONDS:g} s apart: a gateway in front of KFP answers so while the "
                    f"KFP API server starts, restarts or is down; try again in a minute, or look at the ml-pipeline deployment)"
                )
            said = f": {_without_tokens(_scrubbed(said, host), getattr(exc, 'secrets', ()))}" if said else ""
            raise KfpTuneError(f"KFP API at {where} answered {status} {_scrubbed(str(reason), host)}{said}{hint}") from None
        found = kfp_ca_file() if uses_tls(host) else None
        trusted_by = f"the CA file in {found[0]}" if found else "certifi's CA bundle, which kfp trusts by default,"
        why = unreachable_reason(exc, trusted_by=trusted_by)  # as cleanup words a Kubernetes API server it cannot reach
        if why is not None:
            hint = ""
            if not found and uses_tls(host) and why.startswith("the TLS handshake failed"):  # kfp ignores this machine's trust store
                hint = f"; for a private CA, set {' or '.join(CA_FILE_VARIABLES)} to a file holding its certificate"
            raise KfpTuneError(f"KFP API at {where} could not be reached ({why}{hint})") from None
        raise KfpTuneError(f"KFP API at {where} could not be reached: {type(exc).__name__}: {_scrubbed(str(exc), host)}") from None


NAMESPACE_HINT = "give --namespace PROFILE (namespace= in Python): the Kubeflow profile namespace to run in"
"""What a multi-user KFP's refusal of a call without a namespace is followed by."""

SERVER_MESSAGE_CHARS = 300
"""The most of the KFP API's own message an error repeats."""


TOKEN_VALUE = r"(?:(?=[A-Za-z0-9._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{20,}|[A-Za-z0-9+/]{6,}={1,2})(?![A-Za-z0-9._~+/=-])"
"""A value that looks like a token, not a word: 20 or more token characters holding a digit, or
base64 with its padding (``Basic dXNlcjpwYXNzd29yZA==``)."""
BEARER_LIKE = re.compile(rf"(?i)\b(bearer\s+|basic\s+|token=|token:\s*){TOKEN_VALUE}|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
"""What reads as a credential in a server's words: a token-looking value (:data:`TOKEN_VALUE`)
after ``Bearer``, ``Basic``, ``token=`` or ``token:`` (an Authorization value an error page
repeats), or a JWT anywhere; never the word after them ("Failed basic validation of ...")."""
KFP_PLACEHOLDER_KEY = "placeholder"
"""The api_key kfp.Client holds for ``credentials=`` until its first request: no secret."""


def _without_tokens(text: str, secrets: tuple[str, ...] = ()) -> str:
    """A server's words without the client's own token (``secrets``, kfp's placeholder aside)
    or what looks like one (:data:`BEARER_LIKE`): an auth proxy's error page may repeat the
    request's Authorization, and the rest of its words may say why it refused."""
    for secret in sorted({s for s in secrets if s and s != KFP_PLACEHOLDER_KEY}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return BEARER_LIKE.sub(lambda m: f"{m.group(1)}***" if m.group(1) else "***", text)


def _server_message(body: Any) -> str:
    """The KFP API's words in an error answer (its JSON ``error`` or ``message``; "" when none):
    "400 Bad Request" alone does not say that multi-user KFP wants a namespace."""
    import json

    try:
        data = json.loads(body) if isinstance(body, (str, bytes)) else None
    except ValueError:
        return ""
    said = (data.get("error") or data.get("message")) if isinstance(data, dict) else None
    if not isinstance(said, str):
        return ""
    said = " ".join(said.split())
    return said if len(said) <= SERVER_MESSAGE_CHARS else said[:SERVER_MESSAGE_CHARS] + "..."


def _compiled(experiment: Experiment, folder: str, rounds: int | None, store_uri: str, object_store: str) -> str:
    path = Path(folder) / f"{experiment.name}.yaml"
    compile_pipeline(experiment, path, rounds=rounds, store_uri=store_uri, object_store=object_store)
    return str(path)


def _warn_trials_namespace(experiment: Experiment, namespace: str | None, arguments: Mapping[str, Any]) -> None:
    note = trials_namespace_note(experiment, namespace, arguments)
    if note:
        warnings.warn(TrialsNamespaceWarning(note), stacklevel=3)


def submit(
    experiment: Experiment | str | Path | Mapping[str, Any],
    host: str | None = None,
    namespace: str | None = None,
    kfp_experiment: str | None = None,
    run_name: str | None = None,
    arguments: Mapping[str, Any] | None = None,
    rounds: int | None = None,
    store_uri: str | None = None,
    object_store: str = DEFAULT_OBJECT_STORE,
    service_account: str | None = None,
    client: Any = None,
) -> Submitted:
    """Start one run of the experiment's pipeline. ``kfp_experiment`` is the KFP experiment that
    groups the runs (default: the tuning experiment's name); pass ``client`` for a
    ``kfp.Client`` with your own authentication. ``service_account``: the run's pods' (with the
    Kubernetes launcher, one bound to manifests/rbac.yaml's Role). ``arguments`` are converted
    to the types the pipeline declares (``"4"`` for an integer parameter becomes 4), or refused
    (:class:`ArgumentsRefused`) before anything is sent. ``store_uri`` (an ``s3://`` URI: the
    steps run in pods) defaults to :func:`cluster_store_default`: with a ``namespace``, the
    prefix multi-user KFP lets it write. A TrialsNamespaceWarning says when the trials would be
    created in another namespace than the run's, a StoreAccessWarning when the namespace may
    not write the store. A ready pipeline (a pipeline function or a compiled package) is sent as
    it is: ``rounds``, ``store_uri`` and ``object_store`` are refused for it (SpecError); its
    run parameters go in ``arguments``, e.g. ``arguments={"store_uri": ...}``."""
    check_host(host)
    check_namespace(namespace)
    ready = _ready(experiment)
    if ready is not None:
        _check_ready_options(ready, rounds, store_uri, object_store)
        return _submit_ready(ready, host, namespace, kfp_experiment, run_name, dict(arguments or {}), service_account, client)
    experiment = _as_experiment(experiment)
    refuse_unpublished_image([runtime_image.RUNTIME_IMAGE])
    store = _cluster_store(store_uri, namespace)
    with tempfile.TemporaryDirectory() as folder:
        package = _compiled(experiment, folder, rounds, store, object_store)
        typed = _checked_arguments(package, arguments or {})
        run_store = _check_run_store(package, typed, namespace)
        _warn_trials_namespace(experiment, namespace, typed)
        with kfp_api_errors(host):
            kfp_client = kfp_api_client(host, namespace, client)
            result = kfp_client.create_run_from_pipeline_package(
                package,
                arguments=typed,
                run_name=run_name or f"{experiment.name}-tuning",
                experiment_name=kfp_experiment or experiment.name,
                namespace=namespace,
                service_account=service_account,
            )
    return Submitted(result.run_id, result.run_info.experiment_id, f"{_ui(kfp_client)}/#/runs/details/{result.run_id}", run_store)


def _default_names(ready: _Ready, package: str) -> tuple[str, str]:
    """(the KFP experiment, the run's name) a ready pipeline gets by default: for the tuning
    pipeline of an experiment (kfp-tune compile's package, build_pipeline's function: named
    kfp-tune-<its experiment_name default>) those its YAML would get, the tuning experiment's name
    and NAME-tuning, so that moving from the YAML to its package keeps the runs in one KFP
    experiment; for another pipeline its own name and NAME-run."""
    tuned = declared_default(package, "experiment_name") if "experiment_name" in ready.parameters else None
    if isinstance(tuned, str) and tuned and ready.name == dns_label(f"kfp-tune-{tuned}"):
        return tuned, f"{tuned}-tuning"
    return ready.name, f"{ready.name}-run"


def _submit_ready(
    ready: _Ready, host: str | None, namespace: str | None, kfp_experiment: str | None, run_name: str | None,
    arguments: dict[str, Any], service_account: str | None, client: Any,
) -> Submitted:
    _check_ready_artifacts(ready)
    with tempfile.TemporaryDirectory() as folder:
        package = ready.package(folder)
        _check_package_image(ready, package)
        typed = _checked_arguments(package, arguments)
        run_store = _check_run_store(package, typed, namespace)
        title, default_run_name = _default_names(ready, package)
        with kfp_api_errors(host):
            kfp_client = kfp_api_client(host, namespace, client)
            result = kfp_client.create_run_from_pipeline_package(
                package, arguments=typed, run_name=run_name or default_run_name, experiment_name=kfp_experiment or title,
                namespace=namespace, service_account=service_account,
            )
    return Submitted(result.run_id, result.run_info.experiment_id, f"{_ui(kfp_client)}/#/runs/details/{result.run_id}", run_store)


def _check_bool_keywords(**keywords: Any) -> None:
    """SubmitArgumentError naming each keyword that is no bool (None passes: not given). Truth
    taken with bool() would read "false" or "0" from a config file as True, where the run
    argument of the same name reads that text as false."""
    errors = [
        FieldError(name, f"expected True or False (a Python bool; None leaves it unset), got {value!r}")
        for name, value in keywords.items()
        if value is not None and not isinstance(value, bool)
    ]
    if errors:
        raise SubmitArgumentError(errors)


def fresh_experiment_of(fresh_experiment: bool | None, arguments: Mapping[str, Any]) -> bool:
    """Whether each run of a recurring run tunes a fresh experiment: ``fresh_experiment``, or
    the run argument of that name (true/false, or its text), whichever is given (False when
    neither); ArgumentsRefused at ``arguments.fresh_experiment`` when it is no boolean, or when
    both are given and disagree."""
    if "fresh_experiment" not in arguments:
        return bool(fresh_experiment)
    given = bool(typed_arguments({"fresh_experiment": "BOOLEAN"}, {"fresh_experiment": arguments["fresh_experiment"]})["fresh_experiment"])
    if fresh_experiment is not None and bool(fresh_experiment) != given:
        raise ArgumentsRefused([FieldError(
            "arguments.fresh_experiment",
            f"{str(given).lower()} here, but fresh_experiment (--fresh-experiment) says {str(bool(fresh_experiment)).lower()}: give one of them",
        )])
    return given


def _ui(kfp_client: Any) -> str:
    """Where the KFP UI is (kfp.Client keeps it, privately, as the host unless told otherwise)."""
    return str(getattr(kfp_client, "_uihost", "") or "").rstrip("/")


CONTINUED_CONCURRENCY = (
    "{}: every run continues the same experiment, and a second run at a time is refused on the experiment's claim (it fails); "
    "expected 1, or a fresh experiment per run (fresh_experiment=True, --fresh-experiment)"
)
"""Why ``max_concurrency`` above 1 is refused for a recurring run that continues its experiment."""

CONTINUED_TAKE_OVER = (
    "true: every run continues the same experiment, and take_over makes each run take the experiment's claim from whichever run "
    "holds it (a run submitted by hand, a firing still running, a duplicate firing), so two runs would drive it at once; take_over "
    "is for one run, after one known to be gone (kfp-tune submit --param take_over=true); expected false, or a fresh experiment "
    "per run (fresh_experiment=True, --fresh-experiment)"
)
"""Why ``take_over`` is refused for a recurring run that continues its experiment."""


class RecurringRunExists(InputError):
    """An enabled recurring run that a ``schedule``'s would run beside is already there: one of
    the same name in its KFP experiment, or one in its namespace that continues the same tuning
    experiment (its experiment_name and store), under any name. Refused before anything is
    created (KFP allows both); ``allow_duplicate`` lets it through."""


def delete_hint(host: str | None, namespace: str | None, recurring_run_id: str, call: str = "delete_recurring_run") -> str:
    """The Python call that deletes a recurring run (``call``: or another of kfp.Client's calls
    on it, ``disable_recurring_run``), on the host and namespace it was made on (the host masked:
    :func:`masked_url`), with the CA file kfp.Client was given (a path, no credential);
    ``kfp.Client()`` alone goes to kfp's default host."""
    given = [f"host={masked_url(host)!r}"] if host else []
    given += [f"namespace={namespace!r}"] if namespace else []
    try:
        ca_cert = kfp_ca_cert(host)  # the CA file that reached the host: without it the call fails its TLS handshake
    except InputError:
        ca_cert = None
    given += [f"ssl_ca_cert={ca_cert!r}"] if ca_cert else []
    return f"kfp.Client({', '.join(given)}).{call}({recurring_run_id!r})"


LISTED_PAGES = 20
"""The most pages of 100 recurring runs :func:`_refuse_same_experiment` reads in a namespace."""


def _tuned_experiment(recurring: Any) -> tuple[str, str, bool] | None:
    """(experiment_name, store_uri, fresh_experiment) of a kfp-tune recurring run, from its run
    parameters, else its pipeline's defaults; None for a pipeline that names no experiment."""
    spec = getattr(recurring, "pipeline_spec", None) or {}
    spec = spec.get("pipeline_spec", spec) if isinstance(spec, dict) else {}
    given = getattr(getattr(recurring, "runtime_config", None), "parameters", None) or {}

    def value(name: str) -> Any:
        return given[name] if name in given else _default_in(spec, name)

    name, store, fresh = value("experiment_name"), value("store_uri"), value("fresh_experiment")
    if not isinstance(name, str) or not isinstance(store, str):
        return None
    return name, store.rstrip("/"), fresh is True or str(fresh).lower() == "true"


REPLACE_RECURRING_RUN = (
    "disable it first (the KFP UI's Disable, or {disable}) and, once its active run has ended (deleting a recurring run deletes the "
    "Workflow of a run still running, its pods killed before its exit handler), delete it in the KFP UI (or {delete}) and schedule again"
)
"""How to replace a recurring run. KFP deletes its ScheduledWorkflow with no propagation policy
(kfp.Client.delete_recurring_run sends none), and the garbage collector then deletes the
Workflows it owns: read from KFP's source (resource_manager.go DeleteJob,
scheduled_workflow.go's owner reference), not run on a cluster."""


def _how_to_replace(recurring: Any, host: str | None, namespace: str | None) -> str:
    """How a refusal beside a listed recurring run says to replace it (disable, let its active
    run end, delete: :data:`REPLACE_RECURRING_RUN`), once: where its pipeline was compiled by
    another kfp-tune than this one (:func:`_other_kfp_tunes`, as submit's warning asks it) it
    says so first, as the upgrade case where replacing it is the fix."""
    spec = getattr(recurring, "pipeline_spec", None) or {}
    spec = spec.get("pipeline_spec", spec) if isinstance(spec, dict) else {}
    others = sorted(_other_kfp_tunes(spec)) if isinstance(spec, dict) else []
    recurring_run_id = str(recurring.recurring_run_id)
    how = REPLACE_RECURRING_RUN.format(
        disable=delete_hint(host, namespace, recurring_run_id, "disable_recurring_run"), delete=delete_hint(host, namespace, recurring_run_id),
    )
    if not others:
        return f" To replace it, {how}"
    return f" It runs a pipeline compiled by {_compilers(others)}, not by this kfp-tune {described(build_stamp())}: after an upgrade, replace it: {how}"


def _refuse_same_experiment(kfp_client: Any, namespace: str | None, tuned: tuple[str, str, bool], host: str | None) -> None:
    """RecurringRunExists when another enabled recurring run of the namespace (under any name,
    in any KFP experiment) continues the same tuning experiment (its experiment_name and store):
    the two would drive it side by side, one of each pair failing on its claim. One listing of
    the namespace's recurring runs (pages of 100, at most :data:`LISTED_PAGES`): ``namespace``,
    else the client's own (its context, or its pod's), as the KFP experiment would be made in."""
    name, store, fresh = tuned
    if fresh:
        return
    where = namespace or kfp_client.get_user_namespace()
    token = ""
    for _ in range(LISTED_PAGES):
        listed = kfp_client.list_recurring_runs(page_token=token, page_size=100, namespace=where)
        for other in listed.recurring_runs or []:
            if str(other.status or "").upper() == "DISABLED" or _tuned_experiment(other) != (name, store, False):
                continue
            raise RecurringRunExists(
                f"recurring run {other.display_name!r} ({other.recurring_run_id}) already continues experiment {name!r} in "
                f"{masked_url(store)}: a second one would run beside it, and whichever run starts second fails on the experiment's "
                f"claim.{_how_to_replace(other, host, namespace)}; to keep both, give this one another experiment_name (--param experiment_name=...) or a fresh "
                f"experiment per run (--fresh-experiment), or pass --allow-duplicate (allow_duplicate=True) where their crons never overlap"
            )
        token = getattr(listed, "next_page_token", None) or ""
        if not token:
            return


def _existing_group(kfp_client: Any, title: str, namespace: str | None) -> Any:
    """The KFP experiment ``title`` of the namespace, or None when there is none yet (looked up
    as ``kfp.Client.create_experiment`` looks it up before it creates one)."""
    try:
        return kfp_client.get_experiment(experiment_name=title, namespace=namespace)
    except ValueError as exc:
        if str(exc).startswith("No experiment is found with name"):
            return None
        raise


def _refuse_same_name(kfp_client: Any, group: Any, job_name: str, host: str | None = None, namespace: str | None = None) -> None:
    """RecurringRunExists when the KFP experiment ``group`` holds an enabled recurring run named
    ``job_name``: ``schedule`` run twice, or again after an upgrade without deleting the old one.
    KFP allows it, but the two then run side by side; with a continuing experiment one of each
    pair fails on the experiment's claim, and an old one runs the kfp-tune it was compiled by.
    Another name alone keeps them apart only with an experiment of its own: two continuing one
    experiment are refused by :func:`_refuse_same_experiment` whatever their names."""
    import json

    by_name = json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": job_name}]})
    listed = kfp_client.list_recurring_runs(experiment_id=group.experiment_id, page_size=100, filter=by_name)
    same = [r for r in listed.recurring_runs or [] if r.display_name == job_name and str(r.status or "").upper() != "DISABLED"]
    if not same:
        return
    ids = ", ".join(str(r.recurring_run_id) for r in same)
    raise RecurringRunExists(
        f"recurring run {job_name!r} is already in KFP experiment {group.display_name!r} ({ids}): a second one would run beside it, "
        f"and where both continue one experiment, whichever run starts second fails on the experiment's claim."
        f"{_how_to_replace(same[0], host, namespace)}; to keep both, "
        f"give this one another name (--name, name=), and only where the two never drive one experiment at once: a fresh experiment "
        f"per run (--fresh-experiment) or another experiment_name (--param experiment_name=...); two that continue one experiment on "
        f"crons that never overlap need --allow-duplicate (allow_duplicate=True)"
    )


def schedule(
    experiment: Experiment | str | Path | Mapping[str, Any],
    cron: str,
    host: str | None = None,
    namespace: str | None = None,
    kfp_experiment: str | None = None,
    name: str | None = None,
    max_concurrency: int = 1,
    fresh_experiment: bool | None = None,
    arguments: Mapping[str, Any] | None = None,
    rounds: int | None = None,
    store_uri: str | None = None,
    object_store: str = DEFAULT_OBJECT_STORE,
    service_account: str | None = None,
    client: Any = None,
    allow_duplicate: bool = False,
) -> Submitted:
    """Create a recurring run of the experiment's pipeline on KFP's six-field cron.

    By default every run continues the same experiment from the store, warm-started from the
    trials already there, until its budget is spent (later runs then end at once, Succeeded);
    ``fresh_experiment=True`` (or the run argument ``fresh_experiment``: either, and refused
    when the two disagree) makes each run tune a new experiment named after the run.
    ``max_concurrency`` above 1 only makes sense with ``fresh_experiment``: two runs of one
    experiment at a time are refused by the experiment's run claim, so it is refused otherwise
    (SubmitArgumentError), for an experiment or a pipeline that has the ``fresh_experiment``
    parameter; so is the run argument ``take_over`` true (ArgumentsRefused), which would make
    every run take the experiment from whichever run holds it. An enabled recurring run of the
    same name in the KFP experiment (``schedule`` called twice, or again after an upgrade), and
    one of the namespace that continues the same experiment (its experiment_name and store)
    under any name, are refused (:class:`RecurringRunExists`), saying how to delete it, before
    anything is created; ``allow_duplicate=True`` creates a second one anyway, as KFP allows.
    The cron takes no time zone (``TZ=``, ``CRON_TZ=``): KFP reads it in its controller's zone,
    UTC unless the cluster sets ``CRON_SCHEDULE_TIMEZONE`` (:func:`check_cron`).
    ``arguments`` and ``store_uri`` are typed and checked as :func:`submit` does; ``rounds``,
    ``store_uri`` and ``object_store`` are refused for a ready pipeline, as there."""
    check_host(host)
    check_namespace(namespace)
    _check_bool_keywords(fresh_experiment=fresh_experiment, allow_duplicate=allow_duplicate)
    ready = _ready(experiment)
    if ready is None:
        experiment = _as_experiment(experiment)
        refuse_unpublished_image([runtime_image.RUNTIME_IMAGE])
    else:
        _check_ready_options(ready, rounds, store_uri, object_store)
    check_cron(cron)
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or not 1 <= max_concurrency <= MAX_CONCURRENCY:
        raise SubmitArgumentError([FieldError("max_concurrency", f"expected 1 to {MAX_CONCURRENCY} (the KFP API's range), got {max_concurrency!r}")])
    arguments = dict(arguments or {})
    fresh = fresh_experiment_of(fresh_experiment, arguments)
    if max_concurrency > 1 and not fresh and (ready is None or "fresh_experiment" in ready.parameters):
        raise SubmitArgumentError([FieldError("max_concurrency", CONTINUED_CONCURRENCY.format(max_concurrency))])
    with tempfile.TemporaryDirectory() as folder:
        if ready is not None:
            if fresh or "fresh_experiment" in ready.parameters:  # a pipeline without it can only continue
                arguments["fresh_experiment"] = fresh
            _check_ready_artifacts(ready)
            package, what = ready.package(folder), f"pipeline {ready.name!r}"
            title = _default_names(ready, package)[0]
            _check_package_image(ready, package)
        else:
            assert isinstance(experiment, Experiment)
            arguments["fresh_experiment"] = fresh
            store = _cluster_store(store_uri, namespace)
            package, title, what = _compiled(experiment, folder, rounds, store, object_store), experiment.name, f"Katib experiment {experiment.name!r}"
        typed = _checked_arguments(package, arguments)
        if typed.get("take_over") is True and not fresh:
            raise ArgumentsRefused([FieldError("arguments.take_over", CONTINUED_TAKE_OVER)])
        run_store = _check_run_store(package, typed, namespace)
        if isinstance(experiment, Experiment):
            _warn_trials_namespace(experiment, namespace, typed)
        with kfp_api_errors(host):
            kfp_client = kfp_api_client(host, namespace, client)
            job_name = name or f"{title}-scheduled"
            if not allow_duplicate:  # before anything is created: a refused schedule leaves no KFP experiment behind
                existing = _existing_group(kfp_client, kfp_experiment or title, namespace)
                if existing is not None:  # a new KFP experiment holds no recurring run of the name
                    _refuse_same_name(kfp_client, existing, job_name, host, namespace)
                tuned = typed.get("experiment_name", declared_default(package, "experiment_name"))
                if isinstance(tuned, str) and run_store is not None:
                    _refuse_same_experiment(kfp_client, namespace, (tuned, run_store.rstrip("/"), fresh), host)
            group = kfp_client.create_experiment(kfp_experiment or title, namespace=namespace)
            recurring = kfp_client.create_recurring_run(
                experiment_id=group.experiment_id,
                job_name=job_name,
                description=f"kfp-tune: {what}" + (", a fresh experiment per run" if fresh else ", continued by every run"),
                cron_expression=cron,
                max_concurrency=max_concurrency,
                no_catchup=True,
                params=typed,
                pipeline_package_path=package,
                service_account=service_account,
            )
    return Submitted(
        recurring.recurring_run_id, group.experiment_id, f"{_ui(kfp_client)}/#/recurringrun/details/{recurring.recurring_run_id}", run_store,
    )
