"""Start the experiment's pipeline on a Kubeflow Pipelines host: one run now (``submit``), or
a recurring run on a cron schedule (``schedule``), through ``kfp.Client``.

The pipeline is compiled from the experiment and sent inline (no pipeline upload needed). Run
arguments are checked against the pipeline's parameters before anything is sent; credentials
are never among them (the steps read the store's from the ``store_secret`` Secret).

Instead of an experiment, both take a ready pipeline: a pipeline function (a ``@dsl.pipeline``
of your own around :func:`~kfp_tune.pipelines.tuning_step`, or the pipeline of
:func:`~kfp_tune.pipelines.component_trials`) or a compiled pipeline package (``.yaml``). It
is sent as it is, after the same checks (its size, the arguments' names).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfp_tune.core.errors import FieldError, InputError, KfpTuneError, SpecError, shown
from kfp_tune.core.spec import Experiment
from kfp_tune.pipelines.builder import DEFAULT_CLUSTER_STORE, DEFAULT_OBJECT_STORE, PIPELINE_BUDGET_BYTES, as_experiment, build_pipeline, compile_pipeline

MAX_CONCURRENCY = 10
"""The most runs of one recurring run at a time that the KFP API accepts."""


@dataclass(frozen=True)
class Submitted:
    """What the KFP host said it created."""

    id: str
    kfp_experiment_id: str
    url: str


def _as_experiment(experiment: Experiment | str | Path | Mapping[str, Any]) -> Experiment:
    """An Experiment, a Katib YAML file's path (a str is a path here), or its dict; checked
    before anything is sent."""
    from kfp_tune.steps import runnable_problems

    model = as_experiment(Path(experiment) if isinstance(experiment, str) else experiment)
    problems = runnable_problems(model)
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
        if isinstance(self.source, Path):
            path = self.source
        else:
            from kfp import compiler

            path = Path(folder) / "pipeline.yaml"
            compiler.Compiler().compile(self.source, str(path))
        size = path.stat().st_size
        if size > PIPELINE_BUDGET_BYTES:
            raise InputError(f"the compiled pipeline is {size:,} bytes, over the {PIPELINE_BUDGET_BYTES:,} bytes (1 MiB) a KFP run can carry")
        return str(path)


def _ready(source: Any) -> _Ready | None:
    """A ready pipeline (a pipeline function, or the path of a compiled package), or None for an
    experiment. A YAML file is a compiled package when it has KFP's ``pipelineInfo`` and
    ``root``; a Katib Experiment has neither."""
    import yaml

    spec = getattr(source, "component_spec", None)
    if spec is not None and getattr(source, "pipeline_spec", None) is not None:
        from kfp.dsl.types import type_utils

        inputs = spec.inputs or {}
        required = {name for name, given in inputs.items() if not type_utils.is_parameter_type(given.type) and not given.optional}
        return _Ready(str(spec.name), frozenset(inputs), source, frozenset(required))
    if isinstance(source, (str, Path)) and Path(source).suffix in (".yaml", ".yml") and Path(source).is_file():
        docs = list(yaml.safe_load_all(Path(source).read_text(encoding="utf-8")))
        first = docs[0] if docs else None
        if isinstance(first, dict) and "pipelineInfo" in first and "root" in first:
            inputs = ((first.get("root") or {}).get("inputDefinitions") or {})
            artifacts = inputs.get("artifacts") or {}
            names = {*(inputs.get("parameters") or {}), *artifacts}
            required = {name for name, given in artifacts.items() if not (isinstance(given, dict) and given.get("isOptional"))}
            return _Ready(str(first["pipelineInfo"].get("name") or Path(source).stem), frozenset(names), Path(source), frozenset(required))
    return None


def _check_ready_arguments(ready: _Ready, arguments: Mapping[str, Any]) -> None:
    errors = [
        FieldError(f"arguments.{name}", f"not a parameter of this pipeline; expected one of {sorted(ready.parameters)}")
        for name in arguments
        if name not in ready.parameters
    ]
    errors += [
        FieldError(
            f"pipeline input {name}",
            "an artifact the pipeline requires, and a run is given parameters only: call this pipeline inside one that makes "
            "the artifact (e.g. a preprocess step), and submit that",
        )
        for name in sorted(ready.artifacts)
    ]
    if errors:
        raise SpecError(errors)


def _parameters(experiment: Experiment, **build_options: Any) -> set[str]:
    import inspect

    return set(inspect.signature(build_pipeline(experiment, **build_options).pipeline_func).parameters)


def _check_arguments(experiment: Experiment, arguments: Mapping[str, Any], **build_options: Any) -> None:
    known = _parameters(experiment, **build_options)
    errors = [
        FieldError(f"arguments.{name}", f"not a parameter of this pipeline; expected one of {sorted(known)}")
        for name in arguments
        if name not in known
    ]
    if errors:
        raise SpecError(errors)


def check_cron(cron: str) -> None:
    """KFP's cron has six fields, seconds first: ``0 0 2 * * *`` is every day at 02:00."""
    fields = cron.split() if isinstance(cron, str) and len(cron) <= 200 else []
    if len(fields) != 6:
        raise SpecError([FieldError("cron", f"expected six fields, seconds first (KFP's cron, e.g. '0 0 2 * * *' for 02:00 daily), got {shown(cron)}")])


def check_host(host: str | None) -> None:
    """Refuse a KFP host URL with credentials in it (``http://user:token@host``): they would
    show in every message about the host. They are never repeated here either."""
    from urllib.parse import urlsplit

    if host is None:
        return
    if not isinstance(host, str) or not host.strip() or host.strip() != host:
        raise SpecError([FieldError("host", f"expected the KFP API's URL, e.g. http://ml-pipeline-ui.kubeflow, got {shown(host)}")])
    if "@" in urlsplit(host if "://" in host else f"http://{host}").netloc:
        raise SpecError([FieldError("host", "credentials do not belong in the host URL (it is repeated in messages); give kfp.Client your token and pass it as client=")])


def _client(host: str | None, namespace: str | None, client: Any) -> Any:
    if client is not None:
        return client
    import kfp

    return kfp.Client(host=host, namespace=namespace or "kubeflow")


def _default_host() -> str:
    """Where kfp.Client goes with no host given, for a message (the variable's value is not
    repeated: it may hold credentials)."""
    if os.environ.get("KF_PIPELINES_ENDPOINT"):
        return "the host in $KF_PIPELINES_ENDPOINT"
    return "kfp's default host (no --host given, and $KF_PIPELINES_ENDPOINT is not set)"


@contextlib.contextmanager
def _kfp_errors(host: str | None) -> Any:
    """The KFP API's refusals and an unreachable host, as one clear error (status and the
    server's message; never the request, which may carry a token)."""
    try:
        yield
    except KfpTuneError:
        raise
    except Exception as exc:
        status = getattr(exc, "status", None)
        reason = getattr(exc, "reason", None) or ""
        where = host or _default_host()
        if status:
            hint = {401: " (not signed in: give kfp.Client your token or cookies)", 403: " (no access to this namespace)"}.get(int(status), "")
            raise KfpTuneError(f"KFP API at {where} answered {status} {reason}{hint}") from None
        raise KfpTuneError(f"KFP API at {where} could not be reached: {type(exc).__name__}: {exc}") from None


def _compiled(experiment: Experiment, folder: str, rounds: int | None, store_uri: str, object_store: str) -> str:
    path = Path(folder) / f"{experiment.name}.yaml"
    compile_pipeline(experiment, path, rounds=rounds, store_uri=store_uri, object_store=object_store)
    return str(path)


def submit(
    experiment: Experiment | str | Path | Mapping[str, Any],
    host: str | None = None,
    namespace: str | None = None,
    kfp_experiment: str | None = None,
    run_name: str | None = None,
    arguments: Mapping[str, Any] | None = None,
    rounds: int | None = None,
    store_uri: str = DEFAULT_CLUSTER_STORE,
    object_store: str = DEFAULT_OBJECT_STORE,
    service_account: str | None = None,
    client: Any = None,
) -> Submitted:
    """Start one run of the experiment's pipeline. ``kfp_experiment`` is the KFP experiment that
    groups the runs (default: the tuning experiment's name); pass ``client`` for a
    ``kfp.Client`` with your own authentication. ``service_account``: the run's pods' (with the
    Kubernetes launcher, one bound to manifests/rbac.yaml's Role)."""
    check_host(host)
    ready = _ready(experiment)
    if ready is not None:
        return _submit_ready(ready, host, namespace, kfp_experiment, run_name, dict(arguments or {}), service_account, client)
    experiment = _as_experiment(experiment)
    arguments = dict(arguments or {})
    _check_arguments(experiment, arguments, rounds=rounds, object_store=object_store)
    with _kfp_errors(host), tempfile.TemporaryDirectory() as folder:
        kfp_client = _client(host, namespace, client)
        result = kfp_client.create_run_from_pipeline_package(
            _compiled(experiment, folder, rounds, store_uri, object_store),
            arguments=arguments,
            run_name=run_name or f"{experiment.name}-tuning",
            experiment_name=kfp_experiment or experiment.name,
            namespace=namespace,
            service_account=service_account,
        )
    return Submitted(result.run_id, result.run_info.experiment_id, f"{_ui(kfp_client)}/#/runs/details/{result.run_id}")


def _submit_ready(
    ready: _Ready, host: str | None, namespace: str | None, kfp_experiment: str | None, run_name: str | None,
    arguments: dict[str, Any], service_account: str | None, client: Any,
) -> Submitted:
    _check_ready_arguments(ready, arguments)
    with _kfp_errors(host), tempfile.TemporaryDirectory() as folder:
        package = ready.package(folder)
        kfp_client = _client(host, namespace, client)
        result = kfp_client.create_run_from_pipeline_package(
            package, arguments=arguments, run_name=run_name or f"{ready.name}-run", experiment_name=kfp_experiment or ready.name,
            namespace=namespace, service_account=service_account,
        )
    return Submitted(result.run_id, result.run_info.experiment_id, f"{_ui(kfp_client)}/#/runs/details/{result.run_id}")


def _ui(kfp_client: Any) -> str:
    """Where the KFP UI is (kfp.Client keeps it, privately, as the host unless told otherwise)."""
    return str(getattr(kfp_client, "_uihost", "") or "").rstrip("/")


def schedule(
    experiment: Experiment | str | Path | Mapping[str, Any],
    cron: str,
    host: str | None = None,
    namespace: str | None = None,
    kfp_experiment: str | None = None,
    name: str | None = None,
    max_concurrency: int = 1,
    fresh_experiment: bool = False,
    arguments: Mapping[str, Any] | None = None,
    rounds: int | None = None,
    store_uri: str = DEFAULT_CLUSTER_STORE,
    object_store: str = DEFAULT_OBJECT_STORE,
    service_account: str | None = None,
    client: Any = None,
) -> Submitted:
    """Create a recurring run of the experiment's pipeline on KFP's six-field cron.

    By default every run continues the same experiment from the store, warm-started from the
    trials already there, until its budget is spent (later runs then end at once, Succeeded);
    ``fresh_experiment=True`` makes each run tune a new experiment named after the run.
    ``max_concurrency`` above 1 only makes sense with ``fresh_experiment``: two runs of one
    experiment at a time are refused by the experiment's run claim."""
    check_host(host)
    ready = _ready(experiment)
    if ready is None:
        experiment = _as_experiment(experiment)
    check_cron(cron)
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or not 1 <= max_concurrency <= MAX_CONCURRENCY:
        raise SpecError([FieldError("max_concurrency", f"expected 1 to {MAX_CONCURRENCY} (the KFP API's range), got {max_concurrency!r}")])
    arguments = dict(arguments or {})
    if ready is not None:
        if fresh_experiment or "fresh_experiment" in ready.parameters:  # a pipeline without it can only continue
            arguments["fresh_experiment"] = fresh_experiment
        _check_ready_arguments(ready, arguments)
        with _kfp_errors(host), tempfile.TemporaryDirectory() as folder:
            package = ready.package(folder)
            kfp_client = _client(host, namespace, client)
            group = kfp_client.create_experiment(kfp_experiment or ready.name, namespace=namespace)
            recurring = kfp_client.create_recurring_run(
                experiment_id=group.experiment_id, job_name=name or f"{ready.name}-scheduled",
                description=f"kfp-tune: pipeline {ready.name!r}" + (", a fresh experiment per run" if fresh_experiment else ", continued by every run"),
                cron_expression=cron, max_concurrency=max_concurrency, no_catchup=True, params=arguments, pipeline_package_path=package,
                service_account=service_account,
            )
        return Submitted(recurring.recurring_run_id, group.experiment_id, f"{_ui(kfp_client)}/#/recurringrun/details/{recurring.recurring_run_id}")
    assert isinstance(experiment, Experiment)
    arguments["fresh_experiment"] = fresh_experiment
    _check_arguments(experiment, arguments, rounds=rounds, object_store=object_store)
    with _kfp_errors(host), tempfile.TemporaryDirectory() as folder:
        kfp_client = _client(host, namespace, client)
        group = kfp_client.create_experiment(kfp_experiment or experiment.name, namespace=namespace)
        recurring = kfp_client.create_recurring_run(
            experiment_id=group.experiment_id,
            job_name=name or f"{experiment.name}-scheduled",
            description=f"kfp-tune: Katib experiment {experiment.name!r}" + (", a fresh experiment per run" if fresh_experiment else ", continued by every run"),
            cron_expression=cron,
            max_concurrency=max_concurrency,
            no_catchup=True,
            params=arguments,
            pipeline_package_path=_compiled(experiment, folder, rounds, store_uri, object_store),
            service_account=service_account,
        )
    return Submitted(recurring.recurring_run_id, group.experiment_id, f"{_ui(kfp_client)}/#/recurringrun/details/{recurring.recurring_run_id}")
