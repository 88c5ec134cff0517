"""Build the looping tuning pipeline for an experiment, and compile it to KFP IR YAML.

KFP v2 has no while loop, so checkpoints are unrolled and nested, in a pipeline of their own::

    suggest (claim, prepare) -> checkpoints: launch-trial (slots) -> decide-stop -> If(continue)
                                             -> launch-trial (slots) -> decide-stop -> If(continue) -> ...
                             -> fail-if-experiment-failed (the run fails when its experiment ended Failed)

launch-trial in slots mode keeps parallelTrialCount trials running, starting the next the
moment one ends, each suggested from every result so far (:mod:`kfp_tune.steps.slots`). A
checkpoint hands back after ``checkpoint_trials`` trials or ``checkpoint_seconds`` (run
parameters) so decide-stop refreshes the status and the reports in the KFP UI; the last one has
no limit, so one run finishes any budget and the compiled size does not depend on it.
decide-stop's ``metrics`` output (the best trial so far, a ``system.Metrics`` artifact) is what
the KFP UI's run comparison shows; the exit handler's, written however the run ends (empty with
no best trial), is the run's result, so no best-trial task after the loop is needed.

Only handles travel between steps (store URI, experiment name, run id, round); the history
stays in the store. Caching is off on every step: they are all stateful. Every step gets the
store's credentials from a Kubernetes Secret as env; the Secret's name is a run parameter, its
values never are.
"""

# No `from __future__ import annotations` here: KFP reads the pipeline function's annotations.
import inspect
import json
import math
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kfp import compiler, dsl, kubernetes

from kfp_tune.components.decide_stop import decide_stop, fail_if_experiment_failed
from kfp_tune.components.launch_trial import launch_trial
from kfp_tune.components.suggest import suggest
from kfp_tune.core.errors import FieldError, InputError, masked_url, shown
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import dns_label
from kfp_tune.core.output_file import write_output
from kfp_tune.core.quantities import QUANTITY_SUFFIXES, trial_resource_amounts
from kfp_tune.core.spec import Experiment
from kfp_tune.core.version import COMPILED_BY_VARIABLE, build_stamp, compiled_by_text
from kfp_tune.launchers.kubernetes.manifests import is_accelerator
from kfp_tune.launchers.runtime_image import IMAGE_VARIABLE, checked_runtime_image
from kfp_tune.stores import DEFAULT_CLUSTER_STORE, check_store_uri, uri_like
from kfp_tune.stores.s3 import check_s3_endpoint

DEFAULT_LAUNCHER_CONFIG: dict[str, Any] = {"kind": "kubernetes"}
"""Compiled for a cluster, each trial runs as its own resource (its kind, image, replicas, GPUs)
in the experiment's ``metadata.namespace``, else the run's (``launcher_from_config``);
``kfp-tune run`` and kfp.local pass ``{"kind": "local"}``."""
DEFAULT_CHECKPOINTS = 10
"""Checkpoints compiled into one run: how often, at most, the KFP UI's reports refresh."""
MAX_CHECKPOINTS = 40
"""Checkpoints one run may compile: each adds about 25 KB of nested tasks to the pipeline, which
must stay within :data:`PIPELINE_BUDGET_BYTES`."""
PIPELINE_BUDGET_BYTES = 1024 * 1024
"""The largest compiled pipeline: KFP keeps the pipeline in its run objects, and a Kubernetes
object (an Argo Workflow, a recurring run) must fit etcd's 1.5 MiB with room for its status."""
DEFAULT_CHECKPOINT_SECONDS = 600.0
"""A checkpoint at least every 10 minutes; by default also after 2 x parallelTrialCount trials,
doubling at each checkpoint (6, 12, 24, ... at 3 slots: frequent refreshes early, few in a long
run). Kubernetes trials are handed over to the next checkpoint; local ones finish first."""


STORE_SECRET_KEYS = (("accesskey", "AWS_ACCESS_KEY_ID"), ("secretkey", "AWS_SECRET_ACCESS_KEY"))
"""The store Secret's data keys and the env each becomes: KFP's artifact Secret's, and those the
Kubernetes launcher's ``storeSecret`` reads for the trials."""


@dataclass(frozen=True)
class ObjectStore:
    """Where the pipeline's steps find the store in the cluster, and the Secret with its keys.

    ``secret_keys`` maps the Secret's data keys to the env the S3 store reads; ``secret=""``
    wires no Secret (credentials from the pod's own identity, e.g. IAM roles for service
    accounts)."""

    endpoint: str
    secret: str = "mlpipeline-minio-artifact"
    secret_keys: tuple = STORE_SECRET_KEYS


OBJECT_STORES: dict[str, ObjectStore] = {
    # KFP 2.16 and later ship SeaweedFS; the artifact Secret kept its name and keys.
    "seaweedfs": ObjectStore(endpoint="http://seaweedfs.kubeflow:9000"),
    # KFP before 2.16: MinIO.
    "minio": ObjectStore(endpoint="http://minio-service.kubeflow:9000"),
}
DEFAULT_OBJECT_STORE = "seaweedfs"


def as_experiment(experiment: Experiment | str | Path | Mapping[str, Any]) -> Experiment:
    """An experiment given as a model, a YAML file's path, YAML text or a dict, validated
    (SpecError naming every problem). A part of a GPU is refused here too, for any launcher:
    compiled for a cluster, each trial's pod would ask for it and never be created (the check
    ``kfp-tune validate`` makes, :func:`trial_resource_amounts`)."""
    loaded = load_experiment(experiment if isinstance(experiment, (Experiment, Path, str)) else dict(experiment))
    trial_resource_amounts(loaded)
    return loaded


def launcher_config_of(launcher_config: dict[str, Any] | str | None) -> dict[str, Any]:
    """The launcher config as a dict, from a dict or its JSON (the run parameter's form), checked
    as launch-trial will read it, so a wrong one is refused when the pipeline is built (ValueError
    naming launcher_config) rather than in the run. None, "" and an empty config, ``{}`` or its
    JSON ``"{}"`` alike (as ``kfp-tune compile --launcher-config '{}'``): nothing given, so the
    default, :data:`DEFAULT_LAUNCHER_CONFIG`."""
    from kfp_tune.launchers import launcher_from_config

    if launcher_config is None or launcher_config == "":
        return dict(DEFAULT_LAUNCHER_CONFIG)
    if isinstance(launcher_config, str):
        try:
            launcher_config = json.loads(launcher_config)
        except ValueError:
            raise ValueError(f"launcher_config: expected a dict or a JSON object such as {{\"kind\": \"local\"}}, got {launcher_config!r:.80}") from None
    if not isinstance(launcher_config, dict):
        raise ValueError(f"launcher_config: expected a dict or a JSON object such as {{\"kind\": \"local\"}}, got {launcher_config!r:.80}")
    if not launcher_config:  # {} given as its JSON too: compiled as given, launch-trial would read it as local
        return dict(DEFAULT_LAUNCHER_CONFIG)
    launcher_from_config(launcher_config)
    return launcher_config


RUN_PARAMETERS: dict[str, str] = {
    "store_uri": "The store every step and trial shares: s3://bucket/prefix, or a folder (a laptop's, under kfp.local).",
    "experiment_name": "The experiment to create or resume (Katib's metadata.name); a run resumes an experiment of this name from the store.",
    "launcher_config": 'How trials run, as JSON (a dict where the pipeline is built): {"kind": "kubernetes", ...} or {"kind": "local", ...}.',
    "take_over": "Claim the experiment even from a run that looks alive but is gone; False: refuse while another run's claim lasts.",
    "fresh_experiment": "Tune a new experiment, <experiment_name>-<hash of the run>, for each run (each call of a tuning step) instead of resuming experiment_name.",
    "s3_endpoint": "The S3 store's endpoint; empty: $KFP_TUNE_S3_ENDPOINT.",
    "store_secret": "The Kubernetes Secret with the store's keys, given to every step as env; empty: none (the pod's own identity).",
    "checkpoint_trials": "Trials after which the first checkpoint hands back to refresh the status and reports (doubling at each).",
    "checkpoint_seconds": "Seconds after which a checkpoint hands back at the latest.",
}
"""What each run parameter of the tuning pipeline is for: the descriptions KFP shows beside them."""


def pipeline_doc(summary: str, inputs: Mapping[str, str], outputs: Mapping[str, str] | None = None) -> str:
    """A pipeline function's docstring, from which KFP takes each input's and output's
    description (Google style: ``Args:`` and ``Returns:``)."""
    lines = [summary, "", "Args:", *(f"    {name}: {text}" for name, text in inputs.items())]
    if outputs:
        lines += ["", "Returns:", *(f"    {name}: {text}" for name, text in outputs.items())]
    return "\n".join(lines) + "\n"


def build_pipeline(
    experiment: Experiment | str | Path | Mapping[str, Any],
    rounds: int | None = None,
    store_uri: str | None = DEFAULT_CLUSTER_STORE,
    launcher_config: dict[str, Any] | str | None = None,
    object_store: str | ObjectStore = DEFAULT_OBJECT_STORE,
    checkpoint_trials: int | None = None,
    checkpoint_seconds: float = DEFAULT_CHECKPOINT_SECONDS,
    *,
    run_id_input: bool = False,
    failed_before_fails: bool = False,
) -> Callable[..., Any]:
    """The KFP pipeline function for an experiment (a model, a YAML path, YAML text or a dict).

    ``rounds``: checkpoints compiled into one run (default 10); checkpoint ``k`` hands back
    after ``checkpoint_trials * 2**k`` trials (default ``checkpoint_trials``: 2 x
    parallelTrialCount) or ``checkpoint_seconds``, whichever comes first. ``store_uri``,
    ``launcher_config``, the checkpoint limits and the object store's endpoint and Secret name
    become the pipeline parameters' defaults (``object_store``: "seaweedfs", "minio" or an
    ObjectStore); the spec is embedded as a constant input of the first step (not a run
    parameter: those are capped at 10,000 characters and public). ``run_id_input``: with an
    input ``run_id`` in place of the pipeline run's id, for one call of a tuning step, whose
    first task names the call (``core.claims.call_run_id``).

    The checkpoints (a pipeline of their own) are followed by fail-if-experiment-failed, which
    fails the run when the experiment ended Failed in it (Katib's Failed condition), once
    decide-stop's outputs are published; ``failed_before_fails``: also when it had already
    ended Failed before the run (a tuning step's loop, whose best trial would flow on)."""
    experiment = as_experiment(experiment)
    checked_runtime_image()
    store_uri = pipeline_store_uri(store_uri)
    cluster_store = resolve_object_store(object_store)
    total = DEFAULT_CHECKPOINTS if rounds is None else rounds
    check_rounds(total)
    if checkpoint_trials is None:
        checkpoint_trials = 2 * (experiment.spec.parallel_trial_count or 1)
    check_checkpoint_limits(checkpoint_trials, checkpoint_seconds)
    spec_json = embedded_spec(experiment)
    launcher = launcher_config_of(launcher_config)
    launcher_json = json.dumps(launcher, sort_keys=True)
    resources = local_trial_resources(experiment) if launcher.get("kind", "local") == "local" else {}

    def stateful(task: Any, display_name: str, params: dict[str, Any]) -> Any:
        return stateful_task(task, display_name, cluster_store, params["store_secret"])

    def add_checkpoint(params: dict[str, Any], index: int, after: Any) -> None:
        store, endpoint, fresh, name = params["store_uri"], params["s3_endpoint"], params["fresh_experiment"], params["experiment_name"]
        trials_task = launch_trial(
            store_uri=store, experiment_name=name, launcher_config=params["launcher_config"], run_id=params["run_id"],
            s3_endpoint=endpoint, fresh_experiment=fresh, checkpoint_index=index, checkpoints_total=total,
            checkpoint_trials=params["checkpoint_trials"], checkpoint_seconds=params["checkpoint_seconds"],
            # the trials' pods use the store too (a collector sidecar, report_metrics, save_model): the steps' Secret, where the
            # launcher config names none and the launcher's keys are the Secret's
            store_secret=params["store_secret"] if cluster_store.secret and cluster_store.secret_keys == STORE_SECRET_KEYS else "",
        )
        if after is not None:
            trials_task.after(after)
        # The collector sidecar and checkpoint copier it adds run the image this task runs in
        # (launchers.runtime_image.default_image reads it in the pod), unless collectorImage says.
        trials_task.set_env_variable(IMAGE_VARIABLE, launch_trial.component_spec.implementation.container.image)
        request_resources(trials_task, resources)
        mount_metrics_volume(trials_task, launcher)
        stateful(trials_task, f"launch-trial (slots, checkpoint {index + 1}/{total})", params)
        decide_task = stateful(
            decide_stop(
                store_uri=store, experiment_name=name, run_id=params["run_id"], round_index=index, rounds_total=total, s3_endpoint=endpoint,
                fresh_experiment=fresh,
            ).after(trials_task),
            f"decide-stop (checkpoint {index + 1}/{total})",
            params,
        )
        if index + 1 < total:
            with dsl.If(decide_task.outputs["Output"] == True, name=f"checkpoint-{index + 2}"):  # noqa: E712 (a KFP condition)
                add_checkpoint(params, index + 1, None)

    def run_experiment(params: dict[str, Any]) -> None:
        store_uri, experiment_name, take_over = params["store_uri"], params["experiment_name"], params["take_over"]
        s3_endpoint, fresh_experiment = params["s3_endpoint"], params["fresh_experiment"]
        prepare_task = stateful(
            suggest(
                store_uri=store_uri, experiment_name=experiment_name, run_id=params["run_id"], round_index=0, rounds_total=total,
                experiment_spec=spec_json, take_over=take_over, s3_endpoint=s3_endpoint, fresh_experiment=fresh_experiment, trial_count=0,
            ),
            "suggest (claim the experiment)",
            params,
        )
        loop_inputs = {name: params[name] for name in inspect.signature(checkpoints_pipeline).parameters}
        loop_task = checkpoints(**loop_inputs).after(prepare_task).set_caching_options(False).set_display_name(f"checkpoints (1 to {total})")
        # after every checkpoint, however many ran: a Failed experiment fails the run in a task of its own, once decide-stop's
        # outputs are published (KFP publishes none of a failed task's); one task, not one a checkpoint (the compiled size)
        stateful(
            fail_if_experiment_failed(
                store_uri=store_uri, experiment_name=experiment_name, run_id=params["run_id"], s3_endpoint=s3_endpoint,
                fresh_experiment=fresh_experiment, failed_before_fails=failed_before_fails,
            ).after(loop_task),
            "fail-if-experiment-failed (the run fails when its experiment ended Failed)",
            params,
        )

    def checkpoints_pipeline(
        store_uri: str, experiment_name: str, launcher_config: str, fresh_experiment: bool, s3_endpoint: str, store_secret: str,
        checkpoint_trials: int, checkpoint_seconds: float, run_id: str,
    ) -> None:
        add_checkpoint(dict(
            store_uri=store_uri, experiment_name=experiment_name, launcher_config=launcher_config, fresh_experiment=fresh_experiment,
            s3_endpoint=s3_endpoint, store_secret=store_secret, checkpoint_trials=checkpoint_trials, checkpoint_seconds=checkpoint_seconds,
            run_id=run_id,
        ), 0, None)

    # the checkpoints as a pipeline of their own: a task after them runs once the last that ran has ended (no task may
    # follow one inside a dsl.If)
    checkpoints = dsl.pipeline(name="checkpoints")(checkpoints_pipeline)

    def tuning_pipeline(
        store_uri: str = store_uri,
        experiment_name: str = experiment.name,
        launcher_config: str = launcher_json,
        take_over: bool = False,
        fresh_experiment: bool = False,
        s3_endpoint: str = cluster_store.endpoint,
        store_secret: str = cluster_store.secret,
        checkpoint_trials: int = checkpoint_trials,
        checkpoint_seconds: float = checkpoint_seconds,
        run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    ) -> None:
        params = dict(
            store_uri=store_uri,
            experiment_name=experiment_name,
            launcher_config=launcher_config,
            take_over=take_over,
            fresh_experiment=fresh_experiment,
            s3_endpoint=s3_endpoint,
            store_secret=store_secret,
            checkpoint_trials=checkpoint_trials,
            checkpoint_seconds=checkpoint_seconds,
            run_id=run_id,
        )
        release_task = stateful(
            decide_stop(
                store_uri=store_uri, experiment_name=experiment_name, run_id=run_id, round_index=total, rounds_total=total,
                s3_endpoint=s3_endpoint, fresh_experiment=fresh_experiment, final=True,
            ),
            "decide-stop (run ended: status, claim released)",
            params,
        )
        with dsl.ExitHandler(release_task, name="run"):
            run_experiment(params)

    signature = inspect.signature(tuning_pipeline)
    if not run_id_input:  # KFP reads the signature: the run's own id, as a constant, is no parameter then
        tuning_pipeline.__signature__ = signature.replace(parameters=[p for p in signature.parameters.values() if p.name != "run_id"])  # type: ignore[attr-defined]
    tuning_pipeline.__doc__ = pipeline_doc(
        f"kfp-tune: Katib experiment {experiment.name!r}.",
        {**RUN_PARAMETERS, **({"run_id": "The run id of this call (stage-inputs' run_id output)."} if run_id_input else {})},
    )
    return dsl.pipeline(
        name=dns_label(f"kfp-tune-{experiment.name}"),
        description=(
            f"kfp-tune: Katib experiment {experiment.name!r}, {experiment.spec.parallel_trial_count or 1} slot(s), up to {total} checkpoint(s) per run; "
            + compiled_by_text()
        ),
    )(tuning_pipeline)


SPEC_ARGUMENT_BYTES = 96 * 1024
"""The largest experiment a pipeline embeds, measured as it lands in the first step's task spec
(its compact JSON, quoted as a JSON string: :func:`embedded_size`). KFP's driver gets that task
spec as one command-line argument (backend/src/v2/compiler/argocompiler/container.go,
``--task``), and kfp.local its step's inputs as one (``--executor_input``); Linux caps one
argument at 128 KiB (MAX_ARG_STRLEN). The rest leaves room for the step's other inputs."""


def embedded_size(spec_json: str) -> int:
    """Bytes the experiment's JSON takes inside a task spec or executor input: quoted once more."""
    return len(json.dumps(spec_json).encode())


def embedded_spec(experiment: Experiment) -> str:
    """The experiment as the pipeline embeds it (compact JSON, a constant input of suggest);
    InputError with :func:`spec_size_problem`'s words when it is too large."""
    problem = spec_size_problem(experiment)
    if problem is not None:
        raise InputError(problem.message)
    return json.dumps(experiment.to_dict(), sort_keys=True, separators=(",", ":"))


def spec_size_problem(experiment: Experiment) -> FieldError | None:
    """Why no pipeline can embed the experiment (None when one can): its size and
    :data:`SPEC_ARGUMENT_BYTES`, at its largest parameter when one parameter makes most of it,
    and what to do. Katib itself takes such an experiment; ``kfp-tune validate`` notes it."""
    data = experiment.to_dict()
    size = embedded_size(json.dumps(data, sort_keys=True, separators=(",", ":")))
    if size <= SPEC_ARGUMENT_BYTES:
        return None
    parameters = (data.get("spec") or {}).get("parameters") or []
    sizes = [(embedded_size(json.dumps(p, sort_keys=True, separators=(",", ":"))), i) for i, p in enumerate(parameters)]
    largest, index = max(sizes, default=(0, -1))
    path, culprit = "spec", ""
    if largest * 2 > size:
        space = parameters[index].get("feasibleSpace") or {}
        count = f", {len(space['list']):,} values" if isinstance(space.get("list"), list) else ""
        path = f"spec.parameters[{index}]"
        culprit = f" ({path} {parameters[index].get('name')!r} takes {largest:,} bytes of it{count})"
    return FieldError(path, (
        f"the experiment is {size:,} bytes as the pipeline embeds it{culprit}, over the {SPEC_ARGUMENT_BYTES:,} bytes kfp-tune "
        "takes: KFP hands it to the first step inside one command-line argument, which Linux caps at 128 KiB. Make the search "
        "space smaller: fewer categorical values, or a discrete or int range in place of a long list (kfp-tune run --engine inline "
        "runs it without a pipeline)"
    ))


def resolve_object_store(object_store: str | ObjectStore) -> ObjectStore:
    """KFP's object store by name ("seaweedfs", "minio"), or the one given, whose endpoint
    becomes the public ``s3_endpoint`` default: InputError naming ``object_store.endpoint`` when
    the steps could not use it or it holds credentials (:func:`check_s3_endpoint`, never repeated)."""
    if isinstance(object_store, str):
        if object_store not in OBJECT_STORES:
            raise ValueError(f"object_store {object_store!r}: expected one of {sorted(OBJECT_STORES)} or an ObjectStore")
        return OBJECT_STORES[object_store]
    try:
        check_s3_endpoint(object_store.endpoint)
    except InputError as exc:
        raise InputError(f"object_store.endpoint: {exc}") from None
    return object_store


STEP_CPU_REQUEST = "250m"
STEP_MEMORY_REQUEST = "256Mi"
"""What each step's pod requests, so that a namespace whose ResourceQuota counts requests.cpu and
requests.memory, with no LimitRange to fill them in, admits it. Above the largest peak measured: a
50-trial bayesianoptimization experiment (3 slots) under kfp.local peaked at 184 MiB in decide-stop
(its reports), 105 MiB in launch-trial, 53 MiB in suggest. No limit: a step that needs more (the
reports of a long experiment) gets it where the node has it, rather than being killed."""


STEP_OWN_AMOUNTS = {"cpu": Fraction(1, 4), "memory": Fraction(256 * 2**20)}
""":data:`STEP_CPU_REQUEST` and :data:`STEP_MEMORY_REQUEST` as amounts: what the local launcher's
launch-trial adds to its trials' limits for its own process (only to an amount the trials name)."""


def request_step_resources(task: Any) -> None:
    """The step's :data:`STEP_CPU_REQUEST` and :data:`STEP_MEMORY_REQUEST`, where it has no limit
    of its own: the local launcher's launch-trial asks for its trials' amounts as limits
    (:func:`request_resources`), which Kubernetes takes as its requests too."""
    resources = task.container_spec.resources
    if resources is None or resources.cpu_limit is None:
        task.set_cpu_request(STEP_CPU_REQUEST)
    if resources is None or resources.memory_limit is None:
        task.set_memory_request(STEP_MEMORY_REQUEST)


def stateful_task(task: Any, display_name: str, cluster_store: ObjectStore, store_secret: Any) -> Any:
    """A step that reads and writes the store: caching off, modest CPU and memory requests
    (:func:`request_step_resources`), the store's Secret as env, and the kfp-tune that compiled it (``KFP_TUNE_COMPILED_BY``: its version and
    build, ``0.1.0+1a2b3c4d5e6f``), which the component checks first against the kfp-tune its image holds (``kfp_tune.check_compiled_version``)."""
    task.set_caching_options(False).set_display_name(display_name)
    task.set_env_variable(COMPILED_BY_VARIABLE, build_stamp())
    request_step_resources(task)
    if cluster_store.secret:
        kubernetes.use_secret_as_env(task, secret_name=store_secret, secret_key_to_env=dict(cluster_store.secret_keys))
    return task


def checked_store_uri(store_uri: Any, field: str = "store_uri") -> str:
    """``store_uri`` as a pipeline may carry it, a run parameter's default or a run argument,
    both public (the KFP UI shows them, the compiled YAML holds them): the form ``kfp-tune
    compile --store`` and ``tune()`` accept (:func:`kfp_tune.stores.check_store_uri`: a
    supported scheme, no credentials in it). InputError naming ``field`` otherwise, the URI
    masked. Katib too keeps its store's password out of every spec: its DB manager reads it from
    env set from a Secret (pkg/db/v1beta1/mysql/mysql.go, ``getDbName``)."""
    if not isinstance(store_uri, str):
        raise InputError(f"{field}: expected a store URI such as {DEFAULT_CLUSTER_STORE}, got {type(store_uri).__name__}")
    try:
        return check_store_uri(store_uri)
    except InputError as exc:
        raise InputError(f"{field}: {exc}") from None


def pipeline_store_uri(store_uri: str | None) -> str:
    """The ``store_uri`` parameter's default a pipeline is compiled with (build_pipeline's,
    tuning_step's, component_trials'): None is the cluster's default store, :data:`DEFAULT_CLUSTER_STORE`, as
    ``kfp-tune compile`` without ``--store``; anything else as :func:`checked_store_uri` takes it."""
    return checked_store_uri(DEFAULT_CLUSTER_STORE if store_uri is None else store_uri)


CHECKPOINT_LIMITS = {
    "checkpoint_trials": "a whole number of trials, 0 (no limit) or more",
    "checkpoint_seconds": "a number of seconds, 0 (no limit) or more",
}
"""What each checkpoint limit takes, as a refusal says it (RUN_PARAMETERS says what they do)."""


def checkpoint_limit_problems(limits: Mapping[str, Any]) -> list[FieldError]:
    """What is wrong with the checkpoint limits given (keys of :data:`CHECKPOINT_LIMITS`), each
    at its name. A negative limit would hand back at once, checkpoint after checkpoint (launch-trial
    reads 0 as no limit); a value of another type fails only in the run, or as a bare TypeError."""
    errors = []
    for name, value in limits.items():
        whole = name == "checkpoint_trials"
        number = isinstance(value, int) if whole else isinstance(value, (int, float))
        if isinstance(value, bool) or not number or not math.isfinite(value) or value < 0:
            errors.append(FieldError(name, f"expected {CHECKPOINT_LIMITS[name]}, got {shown(value)}"))
    return errors


def check_checkpoint_limits(checkpoint_trials: Any, checkpoint_seconds: Any) -> None:
    """InputError naming each checkpoint limit that no run can use (:func:`checkpoint_limit_problems`)."""
    errors = checkpoint_limit_problems({"checkpoint_trials": checkpoint_trials, "checkpoint_seconds": checkpoint_seconds})
    if errors:
        raise InputError("; ".join(f"{e.path}: {e.message}" for e in errors))


def check_rounds(rounds: int) -> None:
    """InputError unless ``rounds`` is a checkpoint count a pipeline can compile."""
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= MAX_CHECKPOINTS:
        raise InputError(
            f"rounds: expected 1 to {MAX_CHECKPOINTS} checkpoints (each adds about 25 KB to the compiled pipeline, "
            f"which must stay under 1 MiB), got {rounds!r}"
        )


def local_trial_resources(experiment: Experiment) -> dict[str, str]:
    """What the slots' pod must ask for when the local launcher runs the trials inside it:
    the primary container's limits (else requests) of CPU, memory and its accelerator
    (:func:`trial_accelerators`: the first, named as the trial names it), times
    parallelTrialCount, plus the step's own CPU and memory (:data:`STEP_OWN_AMOUNTS`: the pod's
    limit holds kfp-tune's process too, where under Katib a trial's limit is its own), as
    quantities both KFP's SDK and Kubernetes take (:func:`pod_quantity`).
    What the trial's pod could not ask for is refused by :func:`trial_resource_amounts`, the
    check validate makes too."""
    slots = experiment.spec.parallel_trial_count or 1
    amounts = trial_resource_amounts(experiment)
    names = [name for name in RESOURCE_UNITS if name in amounts] + trial_accelerators(experiment)[:1]
    return {name: pod_quantity(name, amounts[name] * slots + STEP_OWN_AMOUNTS.get(name, 0)) for name in names}


def trial_accelerators(experiment: Experiment) -> list[str]:
    """The accelerators the trial's primary container asks for some of (``is_accelerator``:
    ``nvidia.com/gpu``, a MIG slice, ``amd.com/gpu``, an FPGA...), in the order it names them;
    one of none (``nvidia.com/gpu: 0``) is left out."""
    return [name for name, amount in trial_resource_amounts(experiment).items() if is_accelerator(name) and amount > 0]


def unasked_trial_resources(experiment: Experiment) -> list[str]:
    """The extended resources (``domain/name``) the trial asks for that the slots' pod does not
    ask for on its behalf (:func:`local_trial_resources`): a second accelerator (KFP gives a task
    one), and any other (RDMA, SR-IOV), which KFP's task settings cannot name."""
    asked = local_trial_resources(experiment)
    return [name for name, amount in trial_resource_amounts(experiment).items()
            if "/" in name and "kubernetes.io/" not in name and amount > 0 and name not in asked]


def warn_unasked_trial_resources(experiment: Experiment, launcher: Mapping[str, Any]) -> None:
    """A LocalTrialResourcesWarning naming what the trials ask for that the launch-trial pod they
    run in (the local launcher) does not ask for (:func:`unasked_trial_resources`), at the line
    that called its caller: the one check of every pipeline compiled for a cluster
    (:func:`compile_pipeline`, ``tuning_step``), not of :func:`build_pipeline`, which
    ``kfp-tune run``'s kfp.local pipeline builds too (its trials run on this machine)."""
    left_out = unasked_trial_resources(experiment) if launcher.get("kind", "local") == "local" else []
    if not left_out:
        return
    asked = [name for name in local_trial_resources(experiment) if name not in RESOURCE_UNITS]
    warnings.warn(LocalTrialResourcesWarning(
        f"the trials ask for {', '.join(left_out)}, which the launch-trial pod they run in (the local launcher) cannot ask for on their "
        f"behalf: KFP gives a task one accelerator{f', here {asked[0]}' if asked else ''}, and no other extended resource; "
        "compile with the Kubernetes launcher to give each trial a pod of its own"
    ), stacklevel=3)


MEMORY_UNITS = ("Ei", "E", "Pi", "P", "Ti", "T", "Gi", "G", "Mi", "M", "Ki")
"""The suffixes a memory amount is written in, largest first: each one both KFP's SDK (a whole
number and a suffix, ``set_memory_limit``) and Kubernetes (``resource.ParseQuantity``, which
KFP's driver calls) accept; KFP's ``K`` is left out, as Kubernetes' kilo is ``k``."""
RESOURCE_UNITS = ("cpu", "memory")
"""The resources the slots' pod asks for on the trials' behalf, beside their accelerator
(:func:`trial_accelerators`)."""


def pod_quantity(resource: str, value: Fraction) -> str:
    """``value`` of ``resource`` as a whole number in the largest unit that holds it exactly,
    as KFP's SDK takes it: CPU in cores, else millicores (a part of a millicore rounds up, as
    Kubernetes rounds CPU); memory in bytes rounded up, then in the largest of
    :data:`MEMORY_UNITS` that divides it (4.5Gi is 4608Mi); any other resource (GPUs) as a
    whole count, rounded up."""
    if resource == "cpu":
        millicores = math.ceil(value * 1000)
        return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"
    if resource == "memory":
        size = math.ceil(value)
        unit = next((u for u in MEMORY_UNITS if size and size % QUANTITY_SUFFIXES[u] == 0), "")
        return f"{size // int(QUANTITY_SUFFIXES[unit])}{unit}"
    return str(math.ceil(value))


def request_resources(task: Any, resources: dict[str, str]) -> None:
    """The local launcher's trials run in this task's pod: it asks for what they need, their
    accelerator included (:func:`local_trial_resources`), by its resource name, which KFP's
    driver sets as the pod's limit as it is, so it lands on a node that has one."""
    if "cpu" in resources:
        task.set_cpu_limit(resources["cpu"])
    if "memory" in resources:
        task.set_memory_limit(resources["memory"])
    for name, amount in resources.items():
        if name not in RESOURCE_UNITS:
            task.set_accelerator_type(name).set_accelerator_limit(amount)


def mount_metrics_volume(task: Any, launcher: Mapping[str, Any]) -> None:
    """A Kubernetes launcher config's ``metricsVolume``, mounted on launch-trial at its
    ``mountPath``: launch-trial reads the trials' metrics files through its own mount of the claim
    the trials write them to. Only a config compiled in can be mounted: a run's
    ``launcher_config`` argument reaches launch-trial as text, after KFP has made its pod."""
    volume = launcher.get("metricsVolume") if launcher.get("kind") == "kubernetes" else None
    if isinstance(volume, Mapping) and volume.get("claimName") and volume.get("mountPath"):
        kubernetes.mount_pvc(task, pvc_name=volume["claimName"], mount_path=volume["mountPath"])


class ClusterStoreWarning(UserWarning):
    """A pipeline compiled with a folder for its store: only a run on this machine (kfp.local) can use it."""


class LocalTrialResourcesWarning(UserWarning):
    """A pipeline compiled for the local launcher whose trials ask for an extended resource the
    launch-trial pod cannot ask for on their behalf (:func:`unasked_trial_resources`)."""


def is_same_file(first: Path, second: Path) -> bool:
    """Whether two paths name one file, however spelled (relative or absolute, through a
    symlink, another case on a case-insensitive disk): the file itself when both exist, else
    the resolved paths."""
    try:
        if first.exists() and second.exists():
            return os.path.samefile(first, second)
        return first.resolve() == second.resolve()
    except (OSError, ValueError):  # a name too long, a NUL byte: no file, so not the same one
        return False


def cluster_store_problem(store_uri: str) -> str:
    """Why a run on the cluster cannot keep its records at ``store_uri`` ("" when it can): its
    steps and trials are pods, which share no folder with this machine nor with each other."""
    if urlsplit(store_uri).scheme.lower() == "s3":
        return ""
    return (
        f"{shown(masked_url(store_uri))} is not an s3:// URI: the run's steps and trials run in pods on the cluster, which cannot write to a "
        f"folder on this machine nor share one of their own; expected a bucket in the cluster's object store, e.g. "
        f"{DEFAULT_CLUSTER_STORE} (the default)"
    )


def compiled_store_problem(store_uri: str, launcher_config: dict[str, Any] | str | None) -> str:
    """Why only kfp.local on this machine can run a pipeline compiled with ``store_uri`` ("" when
    a cluster can, or it is meant for kfp.local): a folder store with a launcher whose trials run
    on the cluster (:func:`cluster_store_problem`). A launcher config of kind local runs its trials
    on the machine that runs the pipeline, so it is a kfp.local pipeline by its own choice."""
    if launcher_config_of(launcher_config).get("kind", "local") == "local":  # launch-trial reads no kind as local
        return ""
    problem = cluster_store_problem(store_uri)
    return f"{problem}; only a run on this machine (kfp.local) can use this pipeline as compiled" if problem else ""


def output_file_problem(output: str | Path, source: Path | None = None) -> str:
    """What keeps a pipeline from being written at ``output`` ("" when nothing): a URI (as given:
    ``Path("s3://bkt/p.yaml")`` is ``s3:/bkt/p.yaml``, a local folder ``s3:``, the bucket never
    written), not a ``.yaml`` name, a folder, in a folder that does not exist, ``source`` (the
    experiment's own file: the compiled YAML would replace it), not writable. One rule for
    ``kfp-tune compile -o`` and :func:`compile_pipeline`, each naming the path its own way."""
    if uri_like(str(output)):  # a Path is "s3:/bkt/p.yaml" by then, which reads as a mistyped s3:// too
        return "expected a file on this machine, got a URI; compile to a file, then upload it"
    path = Path(output)
    if path.suffix not in (".yaml", ".yml"):
        return "expected a file name ending in .yaml (KFP's pipeline format)"
    if path.is_dir():
        return "is a folder; expected a file name ending in .yaml"
    if not path.parent.is_dir():
        return f"the folder {str(path.parent)!r} does not exist"
    if source is not None and is_same_file(path, source):
        return "is the experiment file itself; expected another file for the pipeline"
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "not writable"
    return ""


def check_output(experiment: Any, output: str | Path) -> None:
    """InputError naming ``output`` when the pipeline could not be written there, before anything
    is built (:func:`output_file_problem`)."""
    # an experiment given as a path (a str with no line break is one: YAML text has several)
    source = experiment if isinstance(experiment, Path) else Path(experiment) if isinstance(experiment, str) and "\n" not in experiment else None
    problem = output_file_problem(output, source)
    if problem:
        raise InputError(f"output {str(output)!r}: {problem}")


def compile_pipeline(experiment: Experiment | str | Path | Mapping[str, Any], output: str | Path, **options: Any) -> Path:
    """Compile the experiment's pipeline to KFP IR YAML at ``output`` (a ``.yaml`` or ``.yml``
    file, never the experiment's own: :func:`check_output`). It is compiled aside first:
    InputError, and ``output`` left as it was, when it would pass :data:`PIPELINE_BUDGET_BYTES`.
    A ``store_uri`` that is no ``s3://`` URI gives a ClusterStoreWarning, as ``kfp-tune compile
    --store`` warns: only kfp.local on this machine can run the pipeline so compiled (none for a
    launcher config of kind local: :func:`compiled_store_problem`). Compiled
    for the local launcher, trials asking for an extended resource its pod cannot ask for on
    their behalf give a LocalTrialResourcesWarning."""
    check_output(experiment, output)
    path = Path(output)
    model = as_experiment(experiment)
    pipeline = build_pipeline(model, **options)
    warn_unasked_trial_resources(model, launcher_config_of(options.get("launcher_config")))
    problem = compiled_store_problem(options.get("store_uri") or DEFAULT_CLUSTER_STORE, options.get("launcher_config"))
    if problem:
        warnings.warn(ClusterStoreWarning(f"store_uri {problem}"), stacklevel=2)
    with tempfile.TemporaryDirectory(prefix="kfp-tune-compile-") as folder:
        draft = Path(folder) / f"pipeline{path.suffix}"
        compiler.Compiler().compile(pipeline, str(draft))
        size = draft.stat().st_size
        if size > PIPELINE_BUDGET_BYTES:
            raise InputError(
                f"the compiled pipeline would be {size:,} bytes, over the budget of {PIPELINE_BUDGET_BYTES:,} bytes (1 MiB) "
                "a KFP run can carry; compile fewer rounds or make the experiment smaller"
            )
        write_output(path, draft.read_bytes())  # a link at the name is replaced, not written through
    return path
