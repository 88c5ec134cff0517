"""``kfp_tune.KatibClient``: Katib's SDK client's method and argument names over
:class:`kfp_tune.Client`, so a notebook written for ``kubeflow.katib`` changes one import::

    from kfp_tune import KatibClient          # was: from kubeflow.katib import KatibClient
    client = KatibClient(store="s3://mlpipeline/kfp-tune")
    client.wait_for_experiment_condition("my-exp")
    print(client.get_optimal_hyperparameters("my-exp"))

Objects read as Katib's models do (``exp.status.current_optimal_trial.best_trial_name``, times
as ``datetime``, an attribute the model does not have an AttributeError) and are dicts with
Katib's JSON names too (:class:`KatibModel`). ``namespace`` selects as Katib's does: a call
given one (or made on a client given one) acts only on an experiment stored with that
``metadata.namespace``, else fails as Katib's SDK fails ("Failed to delete Katib Experiment:
team-b/random"); one stored without a namespace (sent to a host, or stored by a pipeline's
step: the run's namespace is not written into it) is in a namespace the store does not know,
and any namespace acts on it. A store keeps one experiment per name, whatever its namespace, so a
call with no namespace on a client made without one acts on the experiment of that name: kfp-tune
has no kube context to take Katib's default from, and Katib's examples all name ``kubeflow``. Errors
are Katib's kinds: what Katib's API server would refuse (a name that is not there or not valid,
an edit its webhook refuses, an experiment a run drives) is a RuntimeError, as Katib's SDK
raises, and keeps kfp-tune's own class too. What is not supported raises NotImplementedError
naming what to use instead: ``tune``'s LLM fine-tuning arguments and distributed trials
(``resources_per_trial=TrainerResources(...)``), suggestions (kfp-tune has no
Suggestion objects: the algorithm runs in the pipeline's steps), and following a log
(``follow=True``). ``timeout`` / ``apiserver_timeout`` arguments that bound a single API call
are accepted and unused: the store is read directly.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import math
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from kfp_tune.algorithms.registry import search_end
from kfp_tune.api import TuneArgumentError, is_finite_number  # TuneArgumentError: for TuneRefusedError
from kfp_tune.client import Client, ExperimentFailedError, KatibObject, TrialNotFound, has_condition, json_name, katib_value
from kfp_tune.core.errors import (
    ExperimentBusy,
    ExperimentConflict,
    ExperimentNotFound,
    FieldError,
    InputError,
    KfpTuneError,
    SpecError,
    StoreError,
    StoreInputError,
    masked_url,
    shown,
)
from kfp_tune.core.observation import KATIB_ZERO_TIME_US, metric_text
from kfp_tune.core.vocabulary import ExperimentPhase

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 120
"""Katib's per-call API server timeout (accepted, unused)."""
DEFAULT_PARALLEL_TRIAL_COUNT = 3
"""What Katib's defaulting webhook sets when ``tune()`` leaves ``parallel_trial_count`` out."""
_IGNORED_IN_PROCESS = ("resources_per_trial", "base_image", "retain_trials")
"""KatibClient.tune's cluster options that change nothing a function run in this process does
(its pod's resources and image, keeping its job): ignored with a warning without a host, so
that Katib's getting-started call runs unchanged. The others would change what the function
sees (env_per_trial, packages_to_install, pip_index_urls) or be a limit not kept
(trial_active_deadline_seconds): refused."""

# --- Katib's models ---------------------------------------------------------------------------------

_MODELS = {
    # kubeflow.katib.models (sdk/python/v1beta1/kubeflow/katib/models/*.py, openapi_types): each
    # attribute, and its type where it is a model, a list of models ([Model]) or a datetime
    "V1beta1Experiment": "api_version kind metadata:V1ObjectMeta spec:V1beta1ExperimentSpec status:V1beta1ExperimentStatus",
    "V1beta1ExperimentSpec": "algorithm:V1beta1AlgorithmSpec early_stopping:V1beta1EarlyStoppingSpec max_failed_trial_count max_trial_count "
                             "metrics_collector_spec:V1beta1MetricsCollectorSpec nas_config:V1beta1NasConfig objective:V1beta1ObjectiveSpec "
                             "parallel_trial_count parameters:[V1beta1ParameterSpec] resume_policy trial_template:V1beta1TrialTemplate",
    "V1beta1ExperimentStatus": "completion_time:datetime conditions:[V1beta1ExperimentCondition] current_optimal_trial:V1beta1OptimalTrial "
                               "early_stopped_trial_list failed_trial_list killed_trial_list last_reconcile_time:datetime "
                               "metrics_unavailable_trial_list pending_trial_list running_trial_list start_time:datetime succeeded_trial_list "
                               "trial_metrics_unavailable trials trials_early_stopped trials_failed trials_killed trials_pending trials_running "
                               "trials_succeeded",
    "V1beta1ExperimentCondition": "last_transition_time:datetime last_update_time:datetime message reason status type",
    "V1beta1OptimalTrial": "best_trial_name observation:V1beta1Observation parameter_assignments:[V1beta1ParameterAssignment]",
    "V1beta1Observation": "metrics:[V1beta1Metric]",
    "V1beta1Metric": "latest max min name",
    "V1beta1ParameterAssignment": "name value",
    "V1beta1AlgorithmSpec": "algorithm_name algorithm_settings:[V1beta1AlgorithmSetting]",
    "V1beta1AlgorithmSetting": "name value",
    "V1beta1EarlyStoppingSpec": "algorithm_name algorithm_settings:[V1beta1EarlyStoppingSetting]",
    "V1beta1EarlyStoppingSetting": "name value",
    "V1beta1MetricsCollectorSpec": "collector:V1beta1CollectorSpec source:V1beta1SourceSpec",
    "V1beta1CollectorSpec": "custom_collector kind",
    "V1beta1SourceSpec": "file_system_path:V1beta1FileSystemPath filter:V1beta1FilterSpec http_get",
    "V1beta1FilterSpec": "metrics_format",
    "V1beta1FileSystemPath": "format kind path",
    "V1beta1NasConfig": "graph_config:V1beta1GraphConfig operations:[V1beta1Operation]",
    "V1beta1GraphConfig": "input_sizes num_layers output_sizes",
    "V1beta1Operation": "operation_type parameters:[V1beta1ParameterSpec]",
    "V1beta1ObjectiveSpec": "additional_metric_names goal metric_strategies:[V1beta1MetricStrategy] objective_metric_name type",
    "V1beta1MetricStrategy": "name value",
    "V1beta1ParameterSpec": "feasible_space:V1beta1FeasibleSpace name parameter_type",
    "V1beta1FeasibleSpace": "distribution list max min step",
    "V1beta1TrialTemplate": "config_map:V1beta1ConfigMapSource failure_condition primary_container_name primary_pod_labels retain success_condition "
                            "trial_parameters:[V1beta1TrialParameterSpec] trial_spec",
    "V1beta1TrialParameterSpec": "description name reference",
    "V1beta1ConfigMapSource": "config_map_name config_map_namespace template_path",
    "V1beta1Trial": "api_version kind metadata:V1ObjectMeta spec:V1beta1TrialSpec status:V1beta1TrialStatus",
    "V1beta1TrialSpec": "early_stopping_rules:[V1beta1EarlyStoppingRule] failure_condition labels metrics_collector:V1beta1MetricsCollectorSpec "
                        "objective:V1beta1ObjectiveSpec parameter_assignments:[V1beta1ParameterAssignment] primary_container_name "
                        "primary_pod_labels retain_run run_spec success_condition",
    "V1beta1TrialStatus": "completion_time:datetime conditions:[V1beta1TrialCondition] last_reconcile_time:datetime observation:V1beta1Observation "
                          "start_time:datetime",
    "V1beta1TrialCondition": "last_transition_time:datetime last_update_time:datetime message reason status type",
    "V1beta1EarlyStoppingRule": "comparison name start_step value",
    # the Kubernetes client's V1ObjectMeta
    "V1ObjectMeta": "annotations creation_timestamp:datetime deletion_grace_period_seconds deletion_timestamp:datetime finalizers generate_name "
                    "generation labels managed_fields name namespace owner_references resource_version self_link uid",
    # Katib's DB manager (pkg/apis/manager/v1beta1/api.proto): what get_trial_metrics gives
    "MetricLog": "time_stamp metric:MetricLogMetric",
    "MetricLogMetric": "name value",
}
DATETIME = "datetime"
SCHEMAS: dict[str, dict[str, str]] = {
    model: {field.partition(":")[0]: field.partition(":")[2] for field in fields.split()} for model, fields in _MODELS.items()
}
"""Each model's attributes -> their type (a model's name, ``[Model]`` for a list of them,
:data:`DATETIME`, or "" for a plain value)."""
_BY_JSON_NAME: dict[str, dict[str, str]] = {model: {json_name(a): kind for a, kind in schema.items()} for model, schema in SCHEMAS.items()}
"""The same, by the fields' JSON names (what the stored documents hold)."""


def _timestamp(value: Any) -> Any:
    """An RFC 3339 time as a timezone-aware datetime, as Katib's ApiClient deserialises one;
    text that is not a time stays as it is."""
    if not isinstance(value, str):
        return value
    if not value:
        return None
    try:
        return _dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return value


class KatibModel(KatibObject):
    """A Katib SDK model (``V1beta1Experiment``, ``V1beta1Trial``, ...): a dict with Katib's
    JSON names (what ``to_dict()`` gives, timestamps as their RFC 3339 text: JSON and YAML
    write it as it is) that reads with the model's attribute names as Katib's models do: a
    time as a ``datetime``, a field that is not set as None, and an attribute the model does
    not have as an AttributeError. (Katib's own ``to_dict()`` uses the attribute names and
    keeps the datetimes.)"""

    def __init__(self, data: Mapping[str, Any] | None = None, model: str = ""):
        super().__init__()
        self._model = model
        by_json = _BY_JSON_NAME.get(model, {})
        for key, value in (data or {}).items():
            self[key] = _typed(value, by_json.get(key, ""))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        kind = SCHEMAS.get(self._model, {}).get(name)
        if kind is None:
            raise AttributeError(f"{self._model or type(self).__name__!r} object has no attribute {name!r}")
        value = self.get(json_name(name))
        return _timestamp(value) if kind == DATETIME else value

    def __setattr__(self, name: str, value: Any) -> None:
        """Katib's models' setters (``exp.spec.max_trial_count = 2``): the field is written
        under its JSON name, so ``to_dict()`` and ``create_experiment`` take it (a model as its
        dict, a ``datetime`` as RFC 3339 text, as they are read); None clears it. An attribute
        the model does not have is an AttributeError: it would be in no document sent."""
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        kind = SCHEMAS.get(self._model, {}).get(name)
        if kind is None:
            raise AttributeError(f"{self._model or type(self).__name__!r} object has no attribute {name!r} to set")
        if value is None:
            self.pop(json_name(name), None)
        elif isinstance(value, KatibModel) and value._model == kind:
            self[json_name(name)] = value  # the same object, as Katib's setter keeps it: later changes to it show here
        else:
            self[json_name(name)] = _typed(_document(value), kind)

    def to_str(self) -> str:
        """The model as ``pprint`` writes its ``to_dict()``, as Katib's models' ``to_str()``."""
        import pprint

        return pprint.pformat(self.to_dict())

    def __repr__(self) -> str:
        return f"{self._model}({dict.__repr__(self)})"


def _document(value: Any) -> Any:
    """A value given to a model's setter as the stored documents hold it: Katib's SDK models
    (and the Kubernetes client's) as their JSON (unset fields left out, as Katib's client
    sends them), datetimes as RFC 3339 text in UTC (a naive one taken as UTC)."""
    if isinstance(value, _dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)
        return aware.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(getattr(value, "openapi_types", None), dict) and isinstance(getattr(value, "attribute_map", None), dict):
        return {value.attribute_map[a]: _document(getattr(value, a)) for a in value.openapi_types if getattr(value, a, None) is not None}
    if isinstance(value, Mapping) and not isinstance(value, KatibObject):
        return {key: _document(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_document(item) for item in value]
    return value


def _typed(value: Any, kind: str) -> Any:
    """A field's value as its model says: a nested model, a list of them, or plain."""
    if kind.startswith("[") and isinstance(value, list):
        return [_typed(item, kind[1:-1]) for item in value]
    if kind in SCHEMAS and isinstance(value, Mapping):
        return KatibModel(value, kind)
    return katib_value(value)  # a plain value as the client gives it (a dict as a KatibObject)


# --- Katib's error kinds ------------------------------------------------------------------------------


class ExperimentConflictError(ExperimentConflict, RuntimeError):
    """A change Katib's webhook would refuse (an edit, a second experiment of the same name)."""


class ExperimentBusyError(ExperimentBusy, RuntimeError):
    """A run drives the experiment, and the call would change it under that run."""


class StoreFailedError(StoreError, RuntimeError):
    """The store refused or failed the request, or holds a record that cannot be read."""


class InvalidRequestError(InputError, RuntimeError):
    """A value Katib's API server would refuse (a name that is not valid, a budget its webhook refuses)."""


class SpecRefusedError(SpecError, RuntimeError):
    """An experiment Katib's webhook would refuse, with every problem and its field path."""


class TuneRefusedError(SpecRefusedError, TuneArgumentError):
    """``tune()`` arguments whose experiment Katib's webhook would refuse (min > max, an objective
    type or algorithm it does not know, parallel_trial_count above max_trial_count): the
    RuntimeError Katib's ``tune()`` raises when the Experiment's create fails, and the
    ValueError (TuneArgumentError) ``kfp_tune.tune`` raises, naming the argument as Katib's
    ``tune()`` names it."""

    argument_names: ClassVar[Mapping[str, str]] = {"goal": "objective_goal", "algorithm": "algorithm_name"}


class KatibClientError(KfpTuneError, RuntimeError):
    """Any other refusal of a request."""


_RUNTIME_KINDS: tuple[tuple[type[KfpTuneError], type[KfpTuneError]], ...] = (
    (ExperimentConflict, ExperimentConflictError),
    (ExperimentBusy, ExperimentBusyError),
    (StoreError, StoreFailedError),
    (InputError, InvalidRequestError),
    (KfpTuneError, KatibClientError),
)
"""kfp-tune's errors, most specific first, and the RuntimeError each is raised as here."""


@contextlib.contextmanager
def katib_errors(passing: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """kfp-tune's refusals as Katib's SDK raises API refusals: a RuntimeError (Katib wraps every
    API error in one), of a class that is also the original's, with its message, raised from
    it. ``passing``: kinds left as they are (``tune()``'s argument errors, ValueError and
    TypeError as in Katib)."""
    try:
        yield
    except RuntimeError:
        raise
    except passing:
        raise
    except SpecError as exc:
        raise SpecRefusedError(exc.errors) from exc
    except KfpTuneError as exc:
        runtime = next(kind for original, kind in _RUNTIME_KINDS if isinstance(exc, original))
        raise runtime(str(exc)) from exc


@contextlib.contextmanager
def _tune_refused(parameters: Any, defaulted: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None) -> Iterator[None]:
    """``tune()``'s refusal of the experiment its arguments make (TuneArgumentError) as Katib's
    ``tune()`` raises it, when its create fails on the webhook: TuneRefusedError, a RuntimeError
    (Katib's own checks before the create, a missing name or objective, are ValueErrors there and
    here). ``defaulted``: the field paths of values the caller left out, and the default each
    took, so that a refusal of one says "(the default)" rather than quote a value never passed.
    ``settings``: the algorithm settings as a dict, so a refused one is named by its name
    (``algorithm_settings['random_state']``), as ``kfp_tune.tune`` names it."""
    try:
        yield
    except (TuneRefusedError, TypeError):  # an argument of the wrong type (TuneArgumentTypeError) stays the TypeError it was
        raise
    except TuneArgumentError as exc:
        left_out = defaulted or {}
        errors = [FieldError(e.path, f"{e.message} (the default)") if e.path in left_out and e.message.endswith(f"got {left_out[e.path]}") else e
                  for e in exc.errors]
        raise TuneRefusedError(errors, parameters if isinstance(parameters, Mapping) else None, settings) from None


def _refuse_as_katibs_webhook(parameters: Any, algorithm_name: Any, objective_goal: Any) -> None:
    """TuneRefusedError for what Katib's webhook refuses and ``tune()`` refuses with a plain
    ValueError before building the experiment: no parameter to search (an empty spec.parameters)
    and an algorithm Katib has no Suggestion for; and a goal that is no finite number (``nan``,
    ``10**400``, ``"0.1"``), which Katib's API server cannot decode into its ``Goal *float64``."""
    from kfp_tune.core.catalogue import ALGORITHMS
    from kfp_tune.core.plugin_failures import failed_plugins_note
    from kfp_tune.search import is_searched

    errors = []
    if objective_goal is not None and not is_finite_number(objective_goal):
        errors.append(FieldError("spec.objective.goal", f"expected a finite number or None, got {shown(objective_goal)}"))
    if isinstance(parameters, Mapping) and parameters and not any(is_searched(value) for value in parameters.values()):
        errors.append(FieldError("spec.parameters", "required: at least one parameter to search (kfp_tune.search.double/int/categorical/"
                                 f"discrete(...)); every value is fixed: {sorted(map(str, parameters))}"))
    if isinstance(algorithm_name, str) and algorithm_name and algorithm_name not in ALGORITHMS:
        errors.append(FieldError("spec.algorithm.algorithmName", f"unknown algorithm {algorithm_name!r}: Katib has no Suggestion for it; "
                                 f"expected one of {sorted(ALGORITHMS)}{failed_plugins_note()}"))
    if errors:
        raise TuneRefusedError(errors, parameters)


def refuse_endless_tune(experiment: Any, space: Any) -> None:
    """``KatibClient.tune`` without a host and without ``max_trial_count`` runs its trials in
    this process until the experiment ends, where Katib's returns once the Experiment exists: a
    ValueError naming ``max_trial_count`` unless the algorithm ends the search on its own, as it
    declared where it was registered (:func:`kfp_tune.algorithms.registry.search_end`:
    ``after-its-schedule``, or ``on-a-finite-space`` on a finite space). A goal does not count:
    it may never be reached."""
    from kfp_tune.algorithms.space_tools import ENUMERATION_LIMIT, finite_size

    algorithm = experiment.spec.algorithm.algorithm_name if experiment.spec.algorithm is not None else "random"
    ends = search_end(algorithm)
    if ends == "after-its-schedule" or (ends == "on-a-finite-space" and finite_size(space) is not None):
        return
    counts = [parameter.count() for parameter in space]
    if ends is None:
        why = ("does not declare whether it ends on its own (its register(..., ends=...)), so kfp-tune cannot tell whether it would end "
               "with no budget")
    elif ends == "on-a-finite-space" and None not in counts:  # finite, but more points than it hands over whole
        why = (f"hands over a finite search space whole only up to {ENUMERATION_LIMIT} points: this one is too large "
               f"({math.prod(count for count in counts if count is not None)} points) and is never reported as used up, so with no budget "
               "it would not end")
    else:
        why = "on this search space never runs out of points, so with no budget it would not end"
    raise ValueError(
        f"KatibClient.tune: max_trial_count is required without a host: the trials run in this process until the experiment ends, "
        f"and algorithm {algorithm!r} {why} (Katib's "
        "tune() returns once the Experiment exists, and its controller runs the trials). Give max_trial_count=N, or make the client "
        "with KatibClient(host=KFP_API_URL) (or set KF_PIPELINES_ENDPOINT) to run the trials on Kubeflow"
    )


def _settings(algorithm_settings: Any) -> dict[str, Any] | None:
    """Katib's algorithm_settings, a dict or a list of V1beta1AlgorithmSetting (name, value), as
    a dict."""
    if algorithm_settings is None or isinstance(algorithm_settings, dict):
        return algorithm_settings
    if isinstance(algorithm_settings, (list, tuple)):
        out = {}
        for item in algorithm_settings:
            name, value = (item.get("name"), item.get("value")) if isinstance(item, dict) else (getattr(item, "name", None), getattr(item, "value", None))
            if not isinstance(name, str):
                raise TypeError(f"KatibClient.tune: algorithm_settings: expected items with a name and a value, got {item!r:.60}")
            out[name] = value
        return out
    raise TypeError(f"KatibClient.tune: algorithm_settings: expected a dict or a list of V1beta1AlgorithmSetting, got {type(algorithm_settings).__name__}")


def go_rfc3339(time_us: int | None) -> str:
    """A report's time as Katib's DB manager writes it (Go's RFC3339Nano in UTC: the fraction's
    trailing zeros dropped, none when whole); Go's zero time, ``0001-01-01T00:00:00Z``, for none
    (:data:`~kfp_tune.core.observation.KATIB_ZERO_TIME_US`), as Katib files a value without one."""
    epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    try:
        moment = epoch + _dt.timedelta(microseconds=KATIB_ZERO_TIME_US if time_us is None else time_us)
    except OverflowError:  # beyond Python's years 1-9999: no time the trial could mean
        moment = epoch + _dt.timedelta(microseconds=KATIB_ZERO_TIME_US)
    stamp = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"  # strftime's %Y does not pad years below 1000
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


def print_experiment_status(experiment: KatibModel) -> None:
    """What Katib's SDK prints of an experiment at each poll of ``wait_for_experiment_condition``
    (``utils.print_experiment_status``): nothing without a status."""
    status = experiment.status
    if not status:
        return
    print(
        f"Experiment Trials status: {status.trials or 0} Trials, {status.trials_pending or 0} Pending Trials, "
        f"{status.trials_running or 0} Running Trials, {status.trials_succeeded or 0} Succeeded Trials, {status.trials_failed or 0} Failed Trials, "
        f"{status.trials_early_stopped or 0} EarlyStopped Trials, {status.trial_metrics_unavailable or 0} MetricsUnavailable Trials"
    )
    print(f"Current Optimal Trial:\n {status.current_optimal_trial}")
    print(f"Experiment conditions:\n {status.conditions}")


def _given_experiment(experiment: Any) -> KatibModel:
    """An ``experiment=`` argument as a :class:`KatibModel`: one read here as it is, a dict, or
    Katib's own ``V1beta1Experiment`` (the type Katib's SDK gives the argument) through its
    ``openapi_types`` / ``attribute_map``, as :meth:`KatibClient.create_experiment` reads it."""
    if isinstance(experiment, KatibModel):
        return experiment
    document = _document(experiment)
    if not isinstance(document, Mapping):
        raise TypeError(f"KatibClient: experiment: expected a V1beta1Experiment (Katib's model, or one this client read) or its dict, "
                        f"got {shown(experiment)}")
    return KatibModel(document, "V1beta1Experiment")


KATIB_TOKEN_HINT = (
    "make the client with KatibClient(kfp_client=kfp.Client(host=URL, existing_token=TOKEN), store=...), the token read from a file "
    "rather than written in the notebook"
)
"""Where a token for the KFP API goes for a :class:`KatibClient` (in place of ``TOKEN_HINT``'s
``client=``, which kfp_tune.tune takes and KatibClient's methods do not)."""


def as_katib_clients(refusal: Exception, method: str) -> str:
    """A ``tune(host=)`` refusal (:class:`kfp_tune.remote.RemoteArgumentError`) worded for
    ``KatibClient.<method>``: the caller named as the user called it, and a token's place as a
    KatibClient takes it (``kfp_client=``)."""
    from kfp_tune.pipelines.submit import TOKEN_HINT

    text = str(refusal).removeprefix("tune(): ")
    text = text.replace(TOKEN_HINT, KATIB_TOKEN_HINT).replace("pass host= instead, or client=kfp.Client(", "pass host= instead, or kfp_client=kfp.Client(")
    return f"KatibClient.{method}: {text}"


def refuse_trainer_resources(resources_per_trial: Any) -> None:
    """Katib's distributed ``tune()`` (``resources_per_trial=TrainerResources(num_workers, ...)``)
    makes each trial a PyTorchJob of ``num_workers`` x ``num_procs_per_worker`` processes run
    by ``torchrun``: it changes what the function runs as, not only its resources. kfp-tune's
    function trials are one process (a Job's pod, or this process): NotImplementedError up front,
    with or without a host, naming what to use instead."""
    if resources_per_trial is None or isinstance(resources_per_trial, Mapping):
        return
    if type(resources_per_trial).__name__ == "TrainerResources" or all(
            hasattr(resources_per_trial, a) for a in ("num_workers", "num_procs_per_worker", "resources_per_worker")):
        raise NotImplementedError(
            "KatibClient.tune: resources_per_trial: a TrainerResources (Katib's distributed tune(), each trial a PyTorchJob of "
            "num_workers x num_procs_per_worker processes) is not supported: kfp-tune runs a function's trial as one process. For "
            "distributed trials give create_experiment an experiment whose trialTemplate is a PyTorchJob (kubeflow.org/v1) running "
            "your training script, sent to Kubeflow (KatibClient(host=...)); for one process per trial pass resources_per_trial as a "
            "dict such as {'cpu': '2', 'memory': '4Gi', 'gpu': 1}"
        )


def _refuse_function_experiment(document: Any) -> None:
    """An experiment ``tune()`` made (its template kfp-tune's record of the call, kind
    ``PythonFunction``: a copy of :meth:`KatibClient.get_experiment`'s, or its YAML) holds no
    function, so it cannot be created from its spec: refused naming it as one, and the call that
    runs it, before the local runner's words about an image's entrypoint."""
    from kfp_tune.core.vocabulary import FUNCTION_TRIAL_KIND
    from kfp_tune.launchers.local import missing_command

    spec = document.get("spec") if isinstance(document, Mapping) else None
    template = spec.get("trialTemplate") if isinstance(spec, Mapping) else None
    trial_spec = template.get("trialSpec") if isinstance(template, Mapping) else None
    if isinstance(trial_spec, Mapping) and trial_spec.get("kind") == FUNCTION_TRIAL_KIND:
        container = template.get("primaryContainerName") if isinstance(template, Mapping) else None
        raise InputError(f"create_experiment: spec.trialTemplate.trialSpec: {missing_command(str(container), FUNCTION_TRIAL_KIND)}")


def _katib_name(name: Any, method: str, argument: str = "name") -> str:
    """A name a method sends to Katib's API server: one that is not a str (``None``) is
    refused there, and Katib's SDK raises that refusal as a RuntimeError (``Failed to get
    Katib Experiment: ns/None``); :class:`InvalidRequestError` here, naming the ``argument``,
    where kfp-tune's Client raises TypeError."""
    if not isinstance(name, str):
        raise InvalidRequestError(f"KatibClient.{method}: {argument}: expected a name (str), got {shown(name)}")
    return name


def _sent_store_uri(store: Any) -> str | None:
    """An ``s3://`` store's URI, its form checked and nothing opened, for a client with a host
    (the run's pods read that store, not this machine); None for any other store, opened at
    once as without a host."""
    from urllib.parse import urlsplit

    from kfp_tune.stores import DEFAULT_LOCAL_STORE, check_store_uri, store_variable

    if store is not None and not isinstance(store, (str, os.PathLike)):
        return None
    uri = os.fspath(store) if store is not None else store_variable(os.environ) or DEFAULT_LOCAL_STORE  # "": Client refuses it
    if not isinstance(uri, str) or not uri.lower().startswith("s3://"):
        return None
    parts = urlsplit(check_store_uri(uri))  # a bucket, no credentials, a safe prefix: StoreInputError otherwise
    return f"s3://{parts.netloc}/{parts.path.strip('/')}".rstrip("/")


SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
"""The namespace of the pod's service account, where Kubernetes mounts it."""


def katib_default_namespace() -> str:
    """The namespace Katib's client takes when given none (utils.py, ``get_default_target_namespace``):
    in a pod, its service account's (:data:`SERVICE_ACCOUNT_NAMESPACE`), else ``default``."""
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text(encoding="utf-8").strip() or "default"
    except (OSError, UnicodeDecodeError):
        return "default"


def _namespace_held(found: Mapping[str, Any]) -> str | None:
    """The namespace an experiment (or trial) read from the store is in: its
    ``metadata.namespace``; None where it has none, since such a record's namespace is unknown
    to the store (a run sent to a host or stored by a pipeline's step runs in the run's
    namespace, which is not written into it), not the reading machine's default."""
    metadata = found.get("metadata") or {}
    return str(metadata["namespace"]) if metadata.get("namespace") else None


def _in_namespace(found: Mapping[str, Any], asked: str | None) -> bool:
    """Whether a stored object is selected by ``asked``: no selection, the same namespace, or
    a record whose namespace is unknown (:func:`_namespace_held`)."""
    held = _namespace_held(found)
    return asked is None or held is None or held == asked


class KatibClient:
    """Katib's ``KatibClient`` over a kfp-tune store.

    Args:
        config_file, context, client_configuration: the Kubernetes client's configuration, as
            in Katib; used only to read the log of a trial still running on a cluster, and only
            loaded then.
        namespace: the namespace every call selects by when given none, as Katib's client's
            (an experiment stored with another ``metadata.namespace`` is not found: a
            RuntimeError, as from Katib's API server), and where trials run on Kubeflow. Left
            out, calls without a namespace act on the store's experiment of the name, whatever
            its namespace (a store keeps one per name); :attr:`namespace` and the
            ``metadata.namespace`` an experiment run here records are Katib's default
            (:func:`katib_default_namespace`), while a run sent to a host and a pod looked up
            go to the run's own namespace, as before: a namespace named for them only.
        store: a folder or ``s3://bucket/prefix``; default ``$KFP_TUNE_STORE``, else
            ``./kfp-tune-runs``. Katib has none: its API server keeps the objects. With a host
            it must be an ``s3://`` one for :meth:`tune` and :meth:`create_experiment`, which
            only name it to the run: it is opened (and its endpoint, ``KFP_TUNE_S3_ENDPOINT``,
            needed) when a method reads it here (get_experiment, list, wait, ...).
        host: the KFP API's URL (default ``$KF_PIPELINES_ENDPOINT``): where :meth:`tune` and
            :meth:`create_experiment` send an experiment; without one (and without
            ``kfp_client``) it runs in this process.
        kfp_client: a ``kfp.Client`` of your own, for a KFP API that needs authentication
            (Katib's client has none: its calls go to the Kubernetes API):
            ``KatibClient(kfp_client=kfp.Client(host=URL, existing_token=TOKEN), store=...)``, as
            ``kfp_tune.tune(client=...)``. :meth:`tune` and :meth:`create_experiment` send through
            it, as with a host; ``host`` is then needed only for the links in messages. A token
            does not belong in ``host`` (refused: it is repeated in messages).
    """

    def __init__(
        self,
        config_file: str | None = None,
        context: str | None = None,
        client_configuration: Any = None,
        namespace: str | None = None,
        store: str | os.PathLike[str] | Any = None,
        host: str | None = None,
        kfp_client: Any = None,
    ):
        self.namespace = namespace or katib_default_namespace()
        """Katib's client's attribute: the namespace given, else Katib's default."""
        self._given_namespace = namespace  # where a host's run and a pod lookup go: the run's own namespace when None
        self.host = host
        """The KFP API's URL: where :meth:`tune` sends a function's trials (else they run here)."""
        if kfp_client is not None:
            from kfp_tune.remote import is_kfp_client

            if not is_kfp_client(kfp_client):
                raise TypeError(f"KatibClient(): kfp_client: expected a kfp.Client, such as kfp.Client(host=URL, existing_token=TOKEN), "
                                f"got {type(kfp_client).__name__}{' (for the URL pass host=)' if isinstance(kfp_client, str) else ''}")
        self._kfp_client = kfp_client
        self._kubernetes_factory: Callable[[], Any] | None = None
        if config_file or context or client_configuration is not None:

            def kubernetes_client() -> Any:
                """The Kubernetes client Katib's constructor builds, made on first use."""
                from kubernetes import client, config

                if client_configuration is None:
                    config.load_kube_config(config_file=config_file, context=context)
                return client.ApiClient(client_configuration)

            self._kubernetes_factory = kubernetes_client
        self._store = store
        self._client: Client | None = None
        self._unopened_store = _sent_store_uri(store) if self._on_kubeflow() else None
        if self._unopened_store is None:
            self._open()

    def _open(self) -> Client:
        client = Client(self._store if self._unopened_store is None else self._unopened_store)
        if self._kubernetes_factory is not None:
            client.kubernetes_factory = self._kubernetes_factory
        self._client = client
        return client

    @property
    def client(self) -> Client:
        """The :class:`kfp_tune.Client` over the store. With a host an ``s3://`` store is opened
        only here, when a method reads it on this machine: sending an experiment only names it
        (the run's pods read it), so its endpoint (``KFP_TUNE_S3_ENDPOINT``) is needed here
        only then."""
        if self._client is not None:
            return self._client
        try:
            return self._open()
        except StoreInputError as exc:
            raise StoreInputError(f"KatibClient: this reads the store {self._unopened_store} on this machine (tune and create_experiment "
                                  f"with a host only name it to the run): {exc}") from None

    def _store_uri(self) -> str:
        """The store's URI, without opening a store a host's run reads."""
        return self._unopened_store if self._unopened_store is not None else self.client.store.uri

    def __repr__(self) -> str:
        host = None if self.host is None else masked_url(self.host)  # a notebook shows it: no user:pass@ or token
        extra = "".join(f", {key}={value!r}" for key, value in (("namespace", self._given_namespace), ("host", host)) if value is not None)
        return f"kfp_tune.KatibClient(store={masked_url(self._store_uri())!r}{extra})"

    def _host(self) -> str | None:
        return self.host or os.environ.get("KF_PIPELINES_ENDPOINT") or None

    def _on_kubeflow(self) -> bool:
        """Whether :meth:`tune` and :meth:`create_experiment` send the experiment to Kubeflow (a
        host, or a ``kfp_client``), rather than run it in this process."""
        return self._host() is not None or self._kfp_client is not None

    def _selected_namespace(self, namespace: str | None) -> str | None:
        """The namespace a call selects by, as Katib's ``namespace or self.namespace``: the
        call's, else the client's when it was given one; None (no selection) for neither, where
        Katib would take the kube context's, which kfp-tune does not have."""
        return namespace or self._given_namespace

    def _refuse_other_namespace(self, found: Mapping[str, Any], namespace: str | None, failed: str, name: str) -> None:
        """Katib's API server finds only the object of that name in the namespace asked: one the
        store holds in another is refused as Katib's SDK raises it (``Failed to {failed}:
        ns/name``, a RuntimeError), naming where it is, before anything is changed."""
        asked = self._selected_namespace(namespace)
        if asked is None:
            return
        held = _namespace_held(found)
        if held is None or held == asked:
            return
        metadata = found.get("metadata") or {}
        experiment = (metadata.get("labels") or {}).get("katib.kubeflow.org/experiment")
        trial = failed.endswith("Trial")
        what = f"trial {name!r} of experiment {experiment!r}, which has" if trial else f"experiment {name!r} with"
        error = TrialNotFound if trial else ExperimentNotFound
        raise error(f"Failed to {failed}: {asked}/{name}: the store holds {what} metadata.namespace {held!r}, not {asked!r} (a store keeps one "
                    f"experiment per name, whatever its namespace): give namespace={held!r} to act on it")

    def _checked_experiment(self, name: str, namespace: str | None, method: str, failed: str) -> KatibObject:
        """The stored experiment ``name``, refused (before anything is changed) where the call
        selects another namespace; read only then."""
        found = self.client.get_experiment(_katib_name(name, method))
        self._refuse_other_namespace(found, namespace, failed, name)
        return found

    def _check_cluster_store(self, method: str) -> None:
        """A run sent to the KFP host keeps its records in the client's store, which must then be
        one the cluster's pods reach: InvalidRequestError naming ``KatibClient(store=...)``,
        where it is set, when it is not an ``s3://`` one (the default is a folder here)."""
        from kfp_tune.core.errors import masked_url, shown
        from kfp_tune.pipelines.builder import DEFAULT_CLUSTER_STORE, cluster_store_problem

        uri = self._store_uri()
        if cluster_store_problem(uri):
            raise InvalidRequestError(
                f"KatibClient.{method}: the client's store {shown(masked_url(uri))} is not an s3:// URI, and with a KFP host the experiment "
                "runs in pods on the cluster, which cannot write to a folder on this machine: make the client with "
                f"KatibClient(store={DEFAULT_CLUSTER_STORE!r}, host=...) (a bucket in the cluster's object store), or without a host "
                "to run it in this process"
            )

    # --- experiments --------------------------------------------------------------------------

    def create_experiment(self, experiment: Any, namespace: str | None = None) -> None:
        """Start the experiment, as Katib's creates its custom resource.

        Args:
            experiment: a ``V1beta1Experiment`` model (Katib's SDK), a dict, Katib YAML (text
                or a file's path) or a :class:`kfp_tune.Experiment`. ``metadata.generateName``
                without a name gets a random suffix, as from Katib's API server.
            namespace: where its trials run on Kubeflow (else the client's, else the run's
                own). One that is not the experiment's ``metadata.namespace`` is refused, as
                Kubernetes refuses such a create ("Failed to create Katib Experiment:
                team-b/NAME", a RuntimeError), before anything is made; without a namespace
                the experiment takes the call's, or the client's.

        An experiment :meth:`tune` made (its template kfp-tune's record of the call, kind
        ``PythonFunction``) holds no function, so a copy of it is refused naming it as such and
        the ``tune(name=..., objective=...)`` call that runs or extends it.

        With a KFP host (``KatibClient(host=...)``, ``$KF_PIPELINES_ENDPOINT`` or a ``kfp_client``) it is sent as a
        Kubeflow Pipelines run (``kfp-tune submit``) and this returns once sent, as Katib's
        returns once the resource exists; the store must then be an ``s3://`` one the cluster
        reaches, and is not read here: a name it already holds is resumed by the run, where
        Katib refuses a second create. Without one it runs in this process to the end
        (``kfp-tune run --engine inline``: each trial's command runs on this machine), where
        Katib's controller runs it in the background.

        Raises:
            ValueError: it has neither a name nor a generateName (as Katib's SDK).
            RuntimeError: what Katib's API server would refuse: an invalid experiment
                (:class:`SpecRefusedError`, every problem with its path), a name the store
                already holds (:class:`ExperimentConflictError`, without a host), one
                kfp-tune cannot run here, with a host a store that is not ``s3://`` or another
                argument the submission refuses (:class:`InvalidRequestError`).
        """
        from kfp_tune.core.loading import load_experiment, read_experiment_source
        from kfp_tune.core.records import ExperimentRecords
        from kfp_tune.core.spec import Experiment

        with katib_errors():
            if isinstance(experiment, Experiment):
                document = experiment.to_dict()
            else:
                document = read_experiment_source(experiment)
            metadata = document.get("metadata") if isinstance(document, dict) else None
            metadata = metadata if isinstance(metadata, dict) else {}
            if not metadata.get("name"):
                if not metadata.get("generateName"):
                    raise ValueError("Experiment must have a name or generateName")
                document = {**document, "metadata": {**metadata, "name": f"{metadata['generateName']}{os.urandom(4).hex()[:5]}"}}
            asked = self._selected_namespace(namespace)
            held = metadata.get("namespace")
            if asked is not None and held and held != asked:  # Kubernetes refuses it (400), before anything is made
                raise InvalidRequestError(
                    f"Failed to create Katib Experiment: {asked}/{document['metadata']['name']}: the namespace of the provided object "
                    f"(metadata.namespace {held!r}) does not match the namespace sent on the request ({asked!r}), and Kubernetes refuses "
                    f"such a create: give namespace={held!r}, or set metadata.namespace to {asked!r} (or leave it out)"
                )
            _refuse_function_experiment(document)
            host = self._host()
            here = not self._on_kubeflow()
            if here and not metadata.get("namespace"):  # Katib's API server gives it the request's namespace
                document = {**document, "metadata": {**document["metadata"], "namespace": namespace or self.namespace}}
            loaded = load_experiment(document)
            if here and self.client.store.get(ExperimentRecords(self.client.store, loaded.name).experiment_key()) is not None:
                held = _namespace_held(self.client.get_experiment(loaded.name))
                given = loaded.metadata.namespace or katib_default_namespace()
                if held is not None and held != given:
                    raise ExperimentConflict(
                        f"an experiment named {loaded.name!r} already exists in {self.client.store.uri}, in namespace {held!r}, and this "
                        f"one is in {given!r}: Katib keeps names per namespace, but a store keeps one experiment per name, whatever its "
                        "namespace: give this one another metadata.name, or make the client with another store"
                    )
                raise ExperimentConflict(
                    f"an experiment named {loaded.name!r} already exists in {self.client.store.uri}, and Katib's API server refuses a "
                    "second one of the same name: delete_experiment it first, or give another metadata.name (kfp-tune run of the same "
                    "name resumes it instead)"
                )
            if not here:
                from kfp_tune.api import read_result
                from kfp_tune.remote import RemoteArgumentError, submit_experiment

                self._check_cluster_store("create_experiment")
                try:
                    submit_experiment(loaded, host=host, namespace=namespace or self._given_namespace or loaded.metadata.namespace, store=self._store_uri(),
                                      client=self._kfp_client, reader=read_result)
                except RemoteArgumentError as exc:  # worded for tune(host=), whose arguments these are not
                    raise InvalidRequestError(as_katib_clients(exc, "create_experiment")) from None
                return
            from kfp_tune.inline_runner import run_inline
            from kfp_tune.launchers import check_experiment, launcher_from_config

            launcher = launcher_from_config({"kind": "local"}, self.client.store.uri)
            try:
                check_experiment(launcher, loaded)
            except ValueError as exc:
                raise InputError(f"create_experiment: {exc}") from None
            run_inline(self.client.store, loaded, launcher)

    def tune(
        self,
        name: str,
        objective: Any = None,
        parameters: dict[str, Any] | None = None,
        base_image: str | None = None,
        namespace: str | None = None,
        env_per_trial: Any = None,
        algorithm_name: str = "random",
        algorithm_settings: Any = None,
        objective_metric_name: str | None = None,
        additional_metric_names: list[str] | None = None,
        objective_type: str = "maximize",
        objective_goal: float | None = None,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
        max_failed_trial_count: int | None = None,
        resources_per_trial: Any = None,
        retain_trials: bool = False,
        packages_to_install: list[str] | None = None,
        pip_index_urls: list[str] | None = None,
        metrics_collector_config: dict[str, Any] | None = None,
        trial_active_deadline_seconds: int | None = None,
        storage_config: Any = None,
        model_provider_parameters: Any = None,
        dataset_provider_parameters: Any = None,
        trainer_parameters: Any = None,
    ) -> None:
        """Katib's ``tune()`` for a function (its "custom objective function" path), with its
        argument names and defaults: ``algorithm_name`` random, ``objective_type`` maximize,
        ``parallel_trial_count`` 3 when left out (Katib's webhook default; 0 is refused, as
        there). ``parameters`` holds ``kfp_tune.search`` (or ``kubeflow.katib.search``) spaces
        and fixed values. The function gets what Katib's gives it (searched_as_text): each
        searched value as the trial's string ('0.155', '3', 'adam'), as Katib's SDK substitutes
        ``'${trialParameters.lr}'`` into its call, and each fixed value as given (an int stays an
        int); ``kfp_tune.tune`` gives the searched values typed.

        With a KFP host (``KatibClient(host=...)``, ``$KF_PIPELINES_ENDPOINT`` or a ``kfp_client``) the trials run
        on Kubeflow as :func:`kfp_tune.tune` with ``host`` runs them, and it returns once the
        run is sent, as Katib's returns once the Experiment is created; ``base_image``,
        ``resources_per_trial``, ``env_per_trial``, ``packages_to_install``, ``pip_index_urls``,
        ``retain_trials`` and ``trial_active_deadline_seconds`` are for that case: without a host
        ``base_image``, ``resources_per_trial`` and ``retain_trials`` are ignored with a
        UserWarning, the others refused. Otherwise the trials run in this process, to the end. Then
        ``wait_for_experiment_condition(name)`` and ``get_optimal_hyperparameters(name)`` work
        as in Katib. ``metrics_collector_config`` kind StdOut (printed ``name=value`` lines, or
        the returned metrics) or Push (:func:`kfp_tune.report_metrics`; the returned metrics
        are reported too), sent as that collector with a host, as Katib's SDK sends it: a Push
        trial then needs kfp-tune in its image, which is not on PyPI (a ``base_image`` built
        FROM kfp-tune's runtime image, or a kfp-tune wheel's URL in ``packages_to_install``) and
        gets the object store's Secret to report with. With a host the client's store must be
        an ``s3://`` one (InvalidRequestError otherwise), only named to the run. ``storage_config`` is
        ignored, as Katib ignores it on this path (it sizes the LLM path's volume).

        Raises:
            NotImplementedError: Katib's LLM fine-tuning arguments (model, dataset and trainer
                providers), a collector other than StdOut and Push, or ``resources_per_trial``
                a ``TrainerResources`` (Katib's distributed trials, each a PyTorchJob: give
                :meth:`create_experiment` a PyTorchJob trial template instead), with or without
                a host.
            ValueError, TypeError: an argument that cannot be used, naming it (before anything
                runs); no ``name`` (None or "": TuneRefusedError, as Katib's "Please specify name
                for the Experiment.").
            RuntimeError: an experiment Katib's webhook would refuse (:class:`TuneRefusedError`,
                a ValueError too: min > max, an unknown objective type or algorithm, no parameter
                to search, parallel_trial_count above max_trial_count, ...), the store holds an
                experiment of that name that these arguments cannot resume
                (:class:`ExperimentConflictError`), a run drives it, or a ``name`` that is not a
                str (:class:`InvalidRequestError`).
        """
        from kfp_tune.api import KATIB_CLIENT_TUNE, submit_tuning, tune_here

        llm = {"model_provider_parameters": model_provider_parameters, "dataset_provider_parameters": dataset_provider_parameters,
               "trainer_parameters": trainer_parameters}
        given = [key for key, value in llm.items() if value is not None]
        if given:
            raise NotImplementedError(f"KatibClient.tune: {', '.join(given)}: Katib's LLM fine-tuning path of tune() is not supported; "
                                      "tune a function with objective= and parameters=")
        if not objective or not parameters or objective_metric_name is None:  # Katib's tune: `if not objective or not parameters`, so {} too
            raise ValueError("KatibClient.tune: objective, parameters and objective_metric_name are required (Katib's SDK requires them too)")
        if not name:  # Katib's tune: `if not name: raise ValueError("Please specify name for the Experiment.")`; as tune(name="") is refused here
            raise TuneRefusedError([FieldError("metadata.name", "required: the experiment's name (Katib's tune() requires it too)")],
                                   parameters if isinstance(parameters, Mapping) else None)
        name = _katib_name(name, "tune")
        from kfp_tune.remote import FUNCTION_COLLECTORS

        collector = (metrics_collector_config or {}).get("kind", "StdOut")
        if collector not in FUNCTION_COLLECTORS:
            raise NotImplementedError(f"KatibClient.tune: metrics_collector_config kind {collector!r}: a function's trials report through "
                                      "stdout or by returning their metrics (StdOut), or with kfp_tune.report_metrics (Push)")
        refuse_trainer_resources(resources_per_trial)
        settings = _settings(algorithm_settings)
        host = self._host()
        here = not self._on_kubeflow()
        cluster = {
            "base_image": base_image, "env_per_trial": env_per_trial, "resources_per_trial": resources_per_trial,
            "packages_to_install": packages_to_install, "pip_index_urls": pip_index_urls, "retain_trials": retain_trials or None,
            "trial_active_deadline_seconds": trial_active_deadline_seconds,
        }
        if here:
            given = [key for key, value in cluster.items() if value is not None]
            ignored = [key for key in given if key in _IGNORED_IN_PROCESS]
            if ignored:  # Katib's getting-started call passes resources_per_trial: it runs here, without them
                warnings.warn(
                    f"KatibClient.tune: {', '.join(ignored)} ignored: without a host the trials run in this process, in its "
                    "resources; make the client with KatibClient(host=KFP_API_URL) (or set KF_PIPELINES_ENDPOINT) for trials on Kubeflow",
                    UserWarning, stacklevel=2)
            refused = [key for key in given if key not in _IGNORED_IN_PROCESS]
            if refused:
                raise TypeError(f"KatibClient.tune: {refused[0]} is for trials on Kubeflow: make the client with KatibClient(host=KFP_API_URL) "
                                "(or set KF_PIPELINES_ENDPOINT); without a host the trials run in this process")
            cluster = {}
        arguments = {
            "objective": objective, "parameters": parameters, "objective_metric_name": objective_metric_name, "objective_type": objective_type,
            "algorithm": algorithm_name, "algorithm_settings": settings, "max_trial_count": max_trial_count,
            "parallel_trial_count": DEFAULT_PARALLEL_TRIAL_COUNT if parallel_trial_count is None else parallel_trial_count,
            "max_failed_trial_count": max_failed_trial_count, "goal": objective_goal, "store": self._store_uri(), "name": name,
            "additional_metric_names": additional_metric_names,
        }
        _refuse_as_katibs_webhook(parameters, algorithm_name, objective_goal)
        defaulted = {"spec.parallelTrialCount": DEFAULT_PARALLEL_TRIAL_COUNT} if parallel_trial_count is None else {}
        with katib_errors(passing=(ValueError, TypeError)), _tune_refused(parameters, defaulted, settings):
            if here:
                tune_here({**arguments, "namespace": namespace or self.namespace}, searched_as_text=True,  # the namespace recorded as Katib's would be; here a trial's report_metrics calls and its prints are both read
                          check_experiment=refuse_endless_tune if max_trial_count is None else None, caller=KATIB_CLIENT_TUNE)
                return
            # sent as tune(host=) sends it, with the collector asked for: Katib's SDK puts the kind in
            # metricsCollectorSpec, and a Push trial's reports are read, not its output
            self._check_cluster_store("tune")
            from kfp_tune.remote import RemoteArgumentError

            try:
                submit_tuning({**arguments, **cluster, "host": host, "client": self._kfp_client, "namespace": namespace or self._given_namespace,
                               "metrics_collector": collector, "searched_as_text": True})
            except RemoteArgumentError as exc:  # worded for kfp_tune.tune, whose client= this method does not take
                raise RemoteArgumentError(as_katib_clients(exc, "tune")) from None

    def get_experiment(self, name: str, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> KatibModel:
        """The experiment as Katib's ``V1beta1Experiment``: metadata (``uid``,
        ``creation_timestamp``), the stored spec with its defaults, and the status.

        Raises:
            RuntimeError: no experiment of that name in the store (ExperimentNotFound), or only
                one in another namespace than the call selects ("Failed to get Katib
                Experiment: ns/name", as Katib's SDK), a name that is not valid, or a record
                that cannot be read.
        """
        return self._experiment(name, "get_experiment", namespace)

    def _experiment(self, name: str, method: str, namespace: str | None = None) -> KatibModel:
        """The experiment :meth:`get_experiment` returns, a bad name refused naming ``method``:
        the one the user called (is_experiment_created, get_experiment_conditions, ...), and
        one in another namespace than the call selects as Katib's get fails."""
        with katib_errors():
            return KatibModel(self._checked_experiment(name, namespace, method, "get Katib Experiment"), "V1beta1Experiment")

    def list_experiments(self, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> list[KatibModel]:
        """Every experiment in the store, by name (one whose record is damaged is left out, with
        a warning in the log); with a namespace (the call's, else the client's), only those stored
        with that ``metadata.namespace``, as Katib lists one namespace."""
        asked = self._selected_namespace(namespace)
        with katib_errors():
            return [KatibModel(e, "V1beta1Experiment") for e in self.client.list_experiments() if _in_namespace(e, asked)]

    def get_experiment_conditions(
        self, name: str, namespace: str | None = None, experiment: Any = None, timeout: int = DEFAULT_TIMEOUT
    ) -> list[KatibModel]:
        """The experiment's ``status.conditions`` (``V1beta1ExperimentCondition``: type, status,
        reason, message, times), of ``experiment`` when given, else read."""
        experiment = _given_experiment(experiment) if experiment is not None else self._experiment(name, "get_experiment_conditions", namespace)
        status = experiment.get("status") or {}
        return [c if isinstance(c, KatibModel) else KatibModel(c, "V1beta1ExperimentCondition") for c in status.get("conditions") or []]

    def _is(self, condition: str, name: str, experiment: Any, namespace: str | None) -> bool:
        given = _given_experiment(experiment) if experiment is not None else None
        return has_condition(given if given is not None else self._experiment(name, f"is_experiment_{condition.lower()}", namespace), condition)

    def is_experiment_created(self, name: str, namespace: str | None = None, experiment: Any = None, timeout: int = DEFAULT_TIMEOUT) -> bool:
        """Whether the experiment holds the Created condition (RuntimeError if it is not there)."""
        return self._is(ExperimentPhase.CREATED.value, name, experiment, namespace)

    def is_experiment_running(self, name: str, namespace: str | None = None, experiment: Any = None, timeout: int = DEFAULT_TIMEOUT) -> bool:
        """Whether the experiment holds the Running condition: a run drives it, or it waits for
        the next one (a run out of rounds, interrupted, or a budget raised)."""
        return self._is(ExperimentPhase.RUNNING.value, name, experiment, namespace)

    def is_experiment_restarting(self, name: str, namespace: str | None = None, experiment: Any = None, timeout: int = DEFAULT_TIMEOUT) -> bool:
        """Whether the experiment holds the Restarting condition (a completed one whose budget
        was raised; kept once set, as Katib keeps it)."""
        return self._is(ExperimentPhase.RESTARTING.value, name, experiment, namespace)

    def is_experiment_succeeded(self, name: str, namespace: str | None = None, experiment: Any = None, timeout: int = DEFAULT_TIMEOUT) -> bool:
        """Whether the experiment holds the Succeeded condition."""
        return self._is(ExperimentPhase.SUCCEEDED.value, name, experiment, namespace)

    def is_experiment_failed(self, name: str, namespace: str | None = None, experiment: Any = None, timeout: int = DEFAULT_TIMEOUT) -> bool:
        """Whether the experiment holds the Failed condition."""
        return self._is(ExperimentPhase.FAILED.value, name, experiment, namespace)

    def wait_for_experiment_condition(
        self,
        name: str,
        namespace: str | None = None,
        expected_condition: str = ExperimentPhase.SUCCEEDED.value,
        timeout: int = 600,
        polling_interval: int = 15,
        apiserver_timeout: int = DEFAULT_TIMEOUT,
    ) -> KatibModel:
        """The experiment once it holds ``expected_condition`` (Created, Running, Restarting,
        Succeeded, Failed), polling the store as Katib's loop does: ``round(timeout /
        polling_interval)`` polls (none for ``timeout=0``: TimeoutError at once), printing the
        experiment's status at each (Katib's ``utils.print_experiment_status``: the trial counts,
        the current optimal trial, the conditions). Without a host an experiment that is not there
        is a RuntimeError at once, as Katib's ``get_experiment`` raises: ``tune`` and
        ``create_experiment`` here return only once it is written. With one it is waited for:
        they return once the run is sent, before its first step writes it.

        Raises:
            RuntimeError: it Failed while another condition was expected (ExperimentFailedError),
                checked first at each poll as Katib's loop does: a Failed experiment also holds
                Created (and may hold Running), and waiting for those raises too; without a
                host, no experiment of that name (ExperimentNotFound).
            TimeoutError: after the polls, saying where it stands and whether a run drives it.
        """
        from kfp_tune.client import CONDITIONS, checked_seconds

        where = "wait_for_experiment_condition"
        with katib_errors():
            name = _katib_name(name, where)
            if expected_condition not in CONDITIONS:
                raise ValueError(f"{where}: expected_condition must be one of {', '.join(CONDITIONS)}, got {shown(expected_condition)}")
            limit = checked_seconds(where, "timeout", timeout, positive=False)
            interval = checked_seconds(where, "polling_interval", polling_interval, positive=True)
            if not self._on_kubeflow():
                self._experiment(name, where, namespace)  # not there: nothing in this process writes it while this waits
            polls = round(limit / interval)  # Katib: for _ in range(round(timeout / polling_interval))
            if polls == 0:
                raise TimeoutError(f"Timeout waiting for Experiment: {namespace or self.namespace}/{name} to reach {expected_condition} condition")

            def print_status(experiment: KatibObject | None) -> None:
                """Katib's print at each poll; not before its RuntimeError for a Failed experiment. One
                a host's run wrote in another namespace than the call selects is not waited for."""
                if experiment is not None:
                    self._refuse_other_namespace(experiment, namespace, "get Katib Experiment", name)
                if experiment is not None and (expected_condition == ExperimentPhase.FAILED or not has_condition(experiment, ExperimentPhase.FAILED.value)):
                    print_experiment_status(KatibModel(experiment, "V1beta1Experiment"))

            experiment = self.client.wait_for_experiment_condition(
                name, expected_condition, (polls - 1) * interval, interval, each_poll=print_status, told_timeout=limit)
            self._refuse_other_namespace(experiment, namespace, "get Katib Experiment", name)
        return KatibModel(experiment, "V1beta1Experiment")

    def edit_experiment_budget(
        self,
        name: str,
        namespace: str | None = None,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
        max_failed_trial_count: int | None = None,
        timeout: int = DEFAULT_TIMEOUT,
    ) -> None:
        """Change the experiment's budget, as Katib's webhook allows it (see
        :meth:`kfp_tune.Client.edit_experiment_budget`): a run that drives the experiment
        follows it; a completed experiment takes it only when it may restart (it succeeded by
        reaching maxTrialCount under resumePolicy LongRunning or FromVolume). It is then
        Restarting, and without a host nothing drives it in the background as Katib's
        controller does: it waits (``wait_for_experiment_condition`` times out) until a run
        resumes it: ``kfp-tune run`` of its stored spec, written by
        :func:`kfp_tune.core.template.kubernetes_yaml` (``yaml.safe_dump`` leaves a text such as
        ``y``, ``n`` or ``1e-3`` unquoted, which kubectl and kfp-tune read as a boolean or a
        number)::

            from kfp_tune.core.template import kubernetes_yaml
            spec = {k: v for k, v in client.get_experiment(name).to_dict().items() if k != "status"}
            Path("exp.yaml").write_text(kubernetes_yaml(spec))   # then: kfp-tune run exp.yaml

        One :meth:`tune` made is resumed by the same ``tune(name=..., objective=...)`` call instead.

        Raises:
            ValueError: no budget given (as Katib's SDK).
            RuntimeError: what Katib's webhook refuses (:class:`ExperimentConflictError`: a
                completed experiment that may not restart; :class:`InvalidRequestError`: a count
                it refuses), or no experiment of that name.
        """
        with katib_errors():
            if self._selected_namespace(namespace) is not None:
                self._checked_experiment(name, namespace, "edit_experiment_budget", "edit Katib Experiment")
            self.client.edit_experiment_budget(_katib_name(name, "edit_experiment_budget"), max_trial_count, parallel_trial_count, max_failed_trial_count)

    def delete_experiment(self, name: str, namespace: str | None = None, delete_options: Any = None) -> None:
        """Delete the experiment's records at once, as Katib deletes the custom resource (no
        confirmation: the call is the confirmation). Unlike Katib, which deletes a running
        experiment and its trials, an experiment a run drives is refused: stop that run first
        (Ctrl-C where it runs, or terminate its KFP run). Trial resources a killed run left on
        a cluster are not touched (``kfp-tune cleanup``).

        Raises:
            RuntimeError: a run drives it (:class:`ExperimentBusyError`), or no experiment of
                that name in the namespace the call selects ("Failed to delete Katib
                Experiment: ns/name", as Katib's SDK), nothing deleted.
        """
        with katib_errors():
            if self._selected_namespace(namespace) is not None:
                self._checked_experiment(name, namespace, "delete_experiment", "delete Katib Experiment")
            self.client.delete_experiment(_katib_name(name, "delete_experiment"), confirm=True)

    def get_suggestion(self, *args: Any, **kwargs: Any) -> None:
        """Not supported: kfp-tune has no Suggestion objects (NotImplementedError)."""
        raise NotImplementedError("KatibClient.get_suggestion: kfp-tune has no Suggestion objects; the algorithm runs in the pipeline's suggest step")

    def list_suggestions(self, *args: Any, **kwargs: Any) -> None:
        """Not supported: kfp-tune has no Suggestion objects (NotImplementedError)."""
        raise NotImplementedError("KatibClient.list_suggestions: kfp-tune has no Suggestion objects; the algorithm runs in the pipeline's suggest step")

    # --- trials --------------------------------------------------------------------------------

    def get_trial(self, name: str, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> KatibModel:
        """The trial as Katib's ``V1beta1Trial`` (labelled with its experiment, its parameter
        assignments, conditions and observation), looked for in every experiment of the store.

        Raises:
            RuntimeError: no trial of that name (TrialNotFound), or a name that is not valid.
        """
        with katib_errors():
            found = self.client.get_trial(_katib_name(name, "get_trial"))
            self._refuse_other_namespace(found, namespace, "get Katib Trial", name)
            return KatibModel(found, "V1beta1Trial")

    def list_trials(self, experiment_name: str | None = None, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> list[KatibModel]:
        """The trials of the experiment (``V1beta1Trial``), in the order created, or of every
        experiment (one whose records cannot be read is left out, with a warning in the log, as
        :meth:`list_experiments` leaves it out); ``[]`` for an experiment that is not there, as
        Katib's label selector finds no trials; with a namespace (the call's, else the client's)
        only the trials of experiments stored with that ``metadata.namespace``."""
        asked = self._selected_namespace(namespace)

        def selected(trials: list[KatibObject]) -> list[KatibModel]:
            return [KatibModel(t, "V1beta1Trial") for t in trials if _in_namespace(t, asked)]

        with katib_errors():
            if experiment_name is not None:
                with contextlib.suppress(ExperimentNotFound):
                    return selected(self.client.list_trials(_katib_name(experiment_name, "list_trials", "experiment_name")))
                return []
            found: list[KatibModel] = []
            for name in self.client.experiment_names():
                try:
                    found.extend(selected(self.client.list_trials(name)))
                except ExperimentNotFound:
                    continue
                except (StoreError, InputError) as exc:  # a damaged record, a folder no experiment is named as
                    log.warning("experiment %s left out: %s", name, exc)
            return found

    def get_success_trial_details(self, experiment_name: str | None = None, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> list[KatibObject]:
        """Each Succeeded trial's ``name``, ``parameter_assignments`` and ``metrics`` (Katib's
        keys and models), of the experiment or of every one (as :meth:`list_trials`)."""
        if experiment_name is not None:
            with katib_errors():
                _katib_name(experiment_name, "get_success_trial_details", "experiment_name")
        return [
            KatibObject({"name": t.metadata.name, "parameter_assignments": t.spec.parameter_assignments,
                         "metrics": t.status.observation.metrics if t.status.observation else []})
            for t in self.list_trials(experiment_name, namespace)
            if has_condition(t, "Succeeded")
        ]

    def get_optimal_hyperparameters(self, name: str, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> KatibModel | None:
        """The best trial so far as Katib's ``V1beta1OptimalTrial`` (``best_trial_name``,
        ``parameter_assignments``, ``observation.metrics``); None while no trial has reported
        the objective. RuntimeError when there is no such experiment."""
        with katib_errors():
            if self._selected_namespace(namespace) is not None:
                self._checked_experiment(name, namespace, "get_optimal_hyperparameters", "get Katib Experiment")
            optimal = self.client.get_optimal_hyperparameters(_katib_name(name, "get_optimal_hyperparameters"))
        return None if optimal is None else KatibModel(optimal, "V1beta1OptimalTrial")

    def get_trial_metrics(self, name: str, namespace: str | None = None, db_manager_address: str = "", timeout: int = DEFAULT_TIMEOUT) -> list[KatibModel]:
        """Every report of the trial, in order, as Katib's DB manager returns them (``MetricLog``:
        ``get_trial_metrics(name)[0].metric.value``, the value a string as Katib keeps it).
        ``time_stamp`` is RFC 3339 text as Katib's: the time the trial gave the value (a TEXT
        line's leading time, a JSON line's ``timestamp``, an event's), else Go's zero time
        ``0001-01-01T00:00:00Z``, which Katib's collectors file a value without one under (and
        its ``unavailable``); a Push report has it too, where Katib's SDK stamps the report's time.

        Raises:
            RuntimeError: no trial of that name.
        """
        with katib_errors():
            if self._selected_namespace(namespace) is not None:
                self._refuse_other_namespace(self.client.get_trial(_katib_name(name, "get_trial_metrics")), namespace, "get Katib Trial", name)
            reports = self.client.get_trial_metrics(_katib_name(name, "get_trial_metrics"), with_time=True)
        return [
            KatibModel({"timeStamp": go_rfc3339(m["time_us"]), "metric": {"name": m["name"], "value": m["value"] if isinstance(m["value"], str) else metric_text(m["value"])}},
                       "MetricLog")
            for m in reports
        ]

    def get_job_logs(self, name: str, trial_name: str, follow: bool = False, namespace: str | None = None) -> Iterator[str]:
        """The trial's log, line by line (``name`` is the experiment's): stored when it ended,
        or read from its primary pod while it runs on a cluster: in ``namespace`` (the call's,
        else the client's), as Katib reads the pod, else where the trial recorded it ran. Here
        it does not select the experiment: a kfp-tune trial may run in a namespace other than
        its experiment's ``metadata.namespace`` (a Katib example's ``kubeflow``, its trials in
        team-a), and a trial recorded by an older build names none.

        Raises:
            ValueError: no experiment or trial name (as Katib's SDK).
            NotImplementedError: ``follow=True``.
            RuntimeError: no such trial, no log to read yet, or none was kept (a trial that
                ended before it printed anything: killed, or its run interrupted).
        """
        if not name:
            raise ValueError("Experiment name is required")
        if not trial_name:
            raise ValueError("Trial name is required")
        if follow:
            raise NotImplementedError("KatibClient.get_job_logs: follow=True is not supported; call it again for what was logged since")
        with katib_errors():
            trial = (_katib_name(name, "get_job_logs"), _katib_name(trial_name, "get_job_logs", "trial_name"))
            text = self.client.get_trial_logs(trial, namespace=self._selected_namespace(namespace))
        yield from text.splitlines()


__all__ = [
    "ExperimentBusyError", "ExperimentConflictError", "ExperimentFailedError", "InvalidRequestError", "KatibClient", "KatibClientError",
    "KatibModel", "SpecRefusedError", "StoreFailedError", "TuneRefusedError",
]
