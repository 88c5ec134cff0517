"""Katib ``kubeflow.org/v1beta1`` Experiment, as typed models.

A Katib Experiment YAML loads as it is (camelCase field names, numbers as strings); the same
models can be built in Python with snake_case names. :func:`~kfp_tune.core.loading.load_experiment` parses, applies
Katib's defaults (its mutating webhook) and validates (its admission webhook plus what it misses),
raising :class:`~kfp_tune.core.errors.SpecError` with every problem at once.
"""

from __future__ import annotations

import builtins
import difflib
import hashlib
import json
import typing
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from kfp_tune.core.errors import FieldError, SpecError, shown
from kfp_tune.core.job_fields import object_meta_problems
from kfp_tune.core.template import is_train_job

API_VERSION: Final = "kubeflow.org/v1beta1"
KIND: Final = "Experiment"

# Katib's defaults (pkg/apis/controller/experiments/v1beta1).
DEFAULT_PARALLEL_TRIAL_COUNT = 3
DEFAULT_RESUME_POLICY = "Never"
# The budgets: the spec fields Katib's webhook lets an existing experiment change.
EDITABLE_FIELDS = ("maxTrialCount", "parallelTrialCount", "maxFailedTrialCount")
JOB_SUCCESS_CONDITION = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
JOB_FAILURE_CONDITION = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
KUBEFLOW_JOB_SUCCESS_CONDITION = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
KUBEFLOW_JOB_FAILURE_CONDITION = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
KUBEFLOW_JOB_KINDS = frozenset(
    {"TFJob", "PyTorchJob", "XGBoostJob", "MXJob", "MPIJob", "PaddleJob", "JAXJob"}
)
KUBEFLOW_JOB_PRIMARY_POD_LABELS = {"training.kubeflow.org/job-role": "master"}
MPI_OPERATOR_V2_PRIMARY_POD_LABELS = {"training.kubeflow.org/job-role": "launcher"}
"""mpi-operator v2 (``kubeflow.org/v2beta1`` MPIJob) labels its launcher ``launcher``, where the
training operator's v1 MPIJob labels it ``master``: Katib's one default would find no pod there."""
TRAINJOB_PRIMARY_POD_LABELS = {
    "jobset.sigs.k8s.io/replicatedjob-name": "node",
    "batch.kubernetes.io/job-completion-index": "0",
}
DEFAULT_METRICS_FILE_PATH = "/var/log/katib/metrics.log"
DEFAULT_TFEVENT_DIR_PATH = "/var/log/katib/tfevent/"


def _to_str(value: Any) -> Any:
    """Katib keeps feasible-space numbers as strings; accept YAML or Python numbers too."""
    if isinstance(value, bool):
        return value  # let the str validator reject it with a clear message
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return value


NumStr = Annotated[str, BeforeValidator(_to_str)]


def _whole_number(value: Any) -> Any:
    """Katib's counts are int32 in its CRD: a YAML integer, not ``"3"`` nor ``true`` (which
    kubectl refuses) nor ``2.5``. The range is checked in validation, with the field named."""
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(f"expected an integer, got {shown(value)}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"expected an integer, got {value!r}")
        return int(value)
    return value


Count = Annotated[int, BeforeValidator(_whole_number)]


def _number(value: Any) -> Any:
    """Katib's ``goal`` is a float64 (common_types.go): a JSON number, not ``"0.02"`` nor ``true``,
    which its JSON decoding refuses."""
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(f"expected a number, got {shown(value)}")
    return value


def _boolean(value: Any) -> Any:
    """Katib's ``retain`` is a Go bool (experiment_types.go): true or false (YAML's unquoted
    ``yes`` is true, as kubectl's YAML reader takes it), not ``"yes"`` nor ``1``."""
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {shown(value)}")
    return value


Number = Annotated[float, BeforeValidator(_number)]
Boolean = Annotated[bool, BeforeValidator(_boolean)]


class _Model(BaseModel):
    """Katib field names on the wire (camelCase), snake_case in Python; unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        validate_assignment=False,
    )

    def to_dict(self) -> dict[str, Any]:
        """The Katib (camelCase) form, without the fields that are None. Fields whose default is
        an empty string or list (``resumePolicy: ""``, ``algorithmSettings: []``) are written
        out, and Katib reads them as unset; they stay, because stored specs are compared in this
        form when an experiment resumes, and a form that changed would read as an edit."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class NameValue(_Model):
    name: str
    value: NumStr = ""


class MetricStrategy(_Model):
    name: str
    value: str


class ObjectiveSpec(_Model):
    type: str = ""
    goal: Number | None = None
    objective_metric_name: str = ""
    additional_metric_names: list[str] = Field(default_factory=list)
    metric_strategies: list[MetricStrategy] | None = None

    @property
    def metric_names(self) -> list[str]:
        """The metrics a trial is read for: the objective's, then the additional ones."""
        return [self.objective_metric_name, *self.additional_metric_names]


class AlgorithmSpec(_Model):
    algorithm_name: str = ""
    algorithm_settings: list[NameValue] = Field(default_factory=list)

    def settings(self) -> dict[str, str]:
        return {s.name: s.value for s in self.algorithm_settings}


class EarlyStoppingSpec(AlgorithmSpec):
    pass


class FeasibleSpace(_Model):
    max: NumStr | None = None
    min: NumStr | None = None
    list: builtins.list[NumStr] | None = None  # builtins.list: the field name shadows the builtin here
    step: NumStr | None = None
    distribution: str | None = None


class ParameterSpec(_Model):
    name: str = ""
    parameter_type: str = ""
    feasible_space: FeasibleSpace = Field(default_factory=FeasibleSpace)


class GraphConfig(_Model):
    """``nasConfig.graphConfig``: the network's depth and the shapes at its two ends. Katib's
    fields are int32 lists and counts; left out stays left out, as Katib's ``omitempty``."""

    num_layers: Count | None = None
    input_sizes: list[Count] | None = None
    output_sizes: list[Count] | None = None


class Operation(_Model):
    """One ``nasConfig.operations`` entry: an operation type (``convolution``,
    ``skip_connection``, ...) and the parameters whose every combination is a candidate
    operation. Its parameters are Katib's ParameterSpec, as in ``spec.parameters``."""

    operation_type: str = ""
    parameters: list[ParameterSpec] | None = None


class NasConfig(_Model):
    """``spec.nasConfig``: what a neural architecture search (enas, darts) searches, in place
    of ``spec.parameters``."""

    graph_config: GraphConfig | None = None
    operations: list[Operation] | None = None


class TrialParameterSpec(_Model):
    name: str = ""
    description: str | None = None
    reference: str = ""


class ConfigMapSource(_Model):
    config_map_name: str | None = None
    config_map_namespace: str | None = None
    template_path: str | None = None


class TrialTemplate(_Model):
    retain: Boolean = False
    trial_spec: dict[str, Any] | None = None
    config_map: ConfigMapSource | None = None
    trial_parameters: list[TrialParameterSpec] | None = None
    primary_pod_labels: dict[str, str] | None = None
    primary_container_name: str = ""
    success_condition: str = ""
    failure_condition: str = ""


class FileSystemPath(_Model):
    path: str | None = None
    kind: str | None = None
    format: str | None = None


class FilterSpec(_Model):
    metrics_format: list[str] = Field(default_factory=list)


class SourceSpec(_Model):
    model_config = ConfigDict(extra="allow")  # httpGet and future sources pass through

    filter: FilterSpec | None = None
    file_system_path: FileSystemPath | None = None


class CollectorSpec(_Model):
    """``metricsCollectorSpec.collector``. Katib defaults only a collector left out (StdOut,
    in :func:`apply_katib_defaults`); one given without a kind (``collector: {}``) has Katib's
    empty kind, which validation refuses as Katib's webhook does."""

    model_config = ConfigDict(extra="allow")  # customCollector is a whole container spec

    kind: str = ""


class MetricsCollectorSpec(_Model):
    source: SourceSpec | None = None
    collector: CollectorSpec | None = None


class ExperimentSpec(_Model):
    parameters: list[ParameterSpec] = Field(default_factory=list)
    objective: ObjectiveSpec | None = None
    algorithm: AlgorithmSpec | None = None
    early_stopping: EarlyStoppingSpec | None = None
    trial_template: TrialTemplate | None = None
    parallel_trial_count: Count | None = None
    max_trial_count: Count | None = None
    max_failed_trial_count: Count | None = None
    metrics_collector_spec: MetricsCollectorSpec | None = None
    nas_config: NasConfig | None = None
    resume_policy: str = ""

    @property
    def collector_kind(self) -> str:
        """``metricsCollectorSpec.collector.kind``; StdOut, Katib's default, when not given."""
        mc = self.metrics_collector_spec
        return mc.collector.kind if mc is not None and mc.collector is not None else "StdOut"


class ObjectMeta(_Model):
    model_config = ConfigDict(extra="allow")

    name: str = ""
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    @model_validator(mode="after")
    def _without_server_fields(self) -> ObjectMeta:
        """Drops the other Kubernetes ObjectMeta fields (uid, resourceVersion, ... from ``kubectl
        get``); keeps any other key (``namespacex``, given to the constructor too), which
        ``parse_experiment`` refuses, naming it, as the API server does."""
        extra = self.__pydantic_extra__ or {}
        for key in [key for key in extra if not object_meta_problems({key: None}, "metadata")]:
            del extra[key]
        return self


class Experiment(_Model):
    """A whole Katib Experiment object."""

    api_version: Literal["kubeflow.org/v1beta1"] = API_VERSION
    kind: Literal["Experiment"] = KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ExperimentSpec = Field(default_factory=ExperimentSpec)
    status: dict[str, Any] | None = Field(default=None, exclude=True)

    @property
    def name(self) -> str:
        return self.metadata.name

    def search_space_hash(self) -> str:
        """Hash of what a resumed experiment may not change: parameters (or nasConfig) and the
        objective's metrics, type and strategies (not the goal, budgets, algorithm or trial
        template). nasConfig enters only when given, so other experiments keep their hash."""
        objective = self.spec.objective or ObjectiveSpec()
        frozen: dict[str, Any] = {
            "parameters": [p.to_dict() for p in self.spec.parameters],
            "objective": {
                "type": objective.type,
                "objectiveMetricName": objective.objective_metric_name,
                "additionalMetricNames": objective.additional_metric_names,
                "metricStrategies": [m.to_dict() for m in objective.metric_strategies or []],
            },
        }
        if self.spec.nas_config is not None:
            frozen["nasConfig"] = self.spec.nas_config.to_dict()
        text = json.dumps(frozen, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _format_loc(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(root)"


EXPECTED_TYPE = {
    "string_type": "a string", "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false",
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping", "list_type": "a list",
}
"""pydantic's error types for a value of the wrong type, in the words every other refusal uses
(``expected ..., got ...``), so no library's wording reaches the user."""
_UNQUOTED_BOOLEAN_HINT = " (kubectl reads y, yes, on, n, no and off unquoted as booleans, as kfp-tune does: quote the text)"
"""Said where a boolean stands for a string: ``name: y`` is ``true`` to go-yaml v2 (core.loading)."""


_PLAIN_VALUE_TYPES = (str, int, float, bool, type(None), list, dict)
"""Values whose repr says what they are: YAML's and JSON's own."""


def _shown_with_type(value: Any) -> str:
    """A value of the wrong type as a refusal quotes it: an object of another class (a Katib SDK
    model, whose repr is a dict's) with its class named, so ``expected a mapping, got {...}``
    never reads as its own contradiction."""
    if isinstance(value, _PLAIN_VALUE_TYPES) and type(value) in _PLAIN_VALUE_TYPES:
        return shown(value)
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} object: {shown(value)}"


def _field_names_at(loc: tuple[Any, ...]) -> list[str]:
    """The Katib field names of the object at ``loc`` (a pydantic error's location, list indexes
    included), walked down from :class:`Experiment`; [] where no model of ours is there."""
    model: Any = Experiment
    for part in loc:
        if isinstance(part, int):
            continue  # an item of the list the last field holds: its model is that field's
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[_Model] | None:
    """The model class an annotation holds (``X``, ``X | None``, ``list[X]``), or None."""
    if isinstance(annotation, type) and issubclass(annotation, _Model):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _pydantic_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if p not in ("function-before",))
        if err["type"] == "extra_forbidden":
            message = "unknown field (not part of Katib's v1beta1 Experiment)"
            close = difflib.get_close_matches(str(loc[-1]), _field_names_at(loc[:-1]), n=1, cutoff=0.75) if loc else []
            if close:
                message += f"; did you mean {close[0]}?"
        elif err["type"] == "missing":
            message = "required"
        elif err["type"] == "literal_error":
            message = f"expected {err['ctx']['expected']}, got {shown(err.get('input'))}"
        elif err["type"] == "value_error":
            message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
        elif err["type"] in EXPECTED_TYPE:
            message = f"expected {EXPECTED_TYPE[err['type']]}, got {_shown_with_type(err.get('input'))}"
            if err["type"] == "string_type" and isinstance(err.get("input"), bool):
                message += _UNQUOTED_BOOLEAN_HINT
        else:
            message = f"{err['msg']} (got {shown(err.get('input'))})"
        errors.append(FieldError(_format_loc(loc), message))
    return errors


def apply_katib_defaults(experiment: Experiment) -> Experiment:
    """What Katib's mutating webhook sets when a field is left out. Returns a new object."""
    exp = experiment.model_copy(deep=True)
    spec = exp.spec
    if spec.parallel_trial_count is None:
        spec.parallel_trial_count = DEFAULT_PARALLEL_TRIAL_COUNT
    if not spec.resume_policy:
        spec.resume_policy = DEFAULT_RESUME_POLICY
    objective = spec.objective
    if objective is not None:
        strategies = list(objective.metric_strategies or [])
        named = {s.name for s in strategies}
        by_type = {"minimize": "min", "maximize": "max"}.get(objective.type, "latest")
        # each name defaulted once: a name listed twice is validation's error, reported where the
        # user wrote it, not again at a strategy index they never wrote
        for metric in [objective.objective_metric_name, *objective.additional_metric_names]:
            if metric and metric not in named:
                strategies.append(MetricStrategy(name=metric, value=by_type))
                named.add(metric)
        objective.metric_strategies = strategies
    template = spec.trial_template
    if template is not None and template.trial_spec is not None:
        template.trial_spec = _without_nulls(template.trial_spec)
        kind = template.trial_spec.get("kind")
        kind = kind if isinstance(kind, str) else None  # validation reports any other type
        if kind == "Job":
            template.success_condition = template.success_condition or JOB_SUCCESS_CONDITION
            template.failure_condition = template.failure_condition or JOB_FAILURE_CONDITION
        elif kind in KUBEFLOW_JOB_KINDS:
            template.success_condition = template.success_condition or KUBEFLOW_JOB_SUCCESS_CONDITION
            template.failure_condition = template.failure_condition or KUBEFLOW_JOB_FAILURE_CONDITION
            if not template.primary_pod_labels:
                v2_mpi = kind == "MPIJob" and template.trial_spec.get("apiVersion") == "kubeflow.org/v2beta1"
                template.primary_pod_labels = dict(MPI_OPERATOR_V2_PRIMARY_POD_LABELS if v2_mpi else KUBEFLOW_JOB_PRIMARY_POD_LABELS)
        elif kind == "TrainJob":  # Katib's webhook defaults the conditions of any kind so named (its GetKind has no group)
            template.success_condition = template.success_condition or JOB_SUCCESS_CONDITION
            template.failure_condition = template.failure_condition or JOB_FAILURE_CONDITION
            # but the labels of Trainer's runtime pods only for Trainer's: a user's own kind so named
            # has its pods found as any other kind's (Katib's labels would select none of them)
            if not template.primary_pod_labels and is_train_job(template.trial_spec):
                template.primary_pod_labels = dict(TRAINJOB_PRIMARY_POD_LABELS)
    if spec.metrics_collector_spec is None:
        spec.metrics_collector_spec = MetricsCollectorSpec()
    mc = spec.metrics_collector_spec
    if mc.collector is None:
        mc.collector = CollectorSpec(kind="StdOut")
    if mc.collector.kind in ("File", "TensorFlowEvent"):
        mc.source = mc.source or SourceSpec()
        mc.source.file_system_path = mc.source.file_system_path or FileSystemPath()
        fsp = mc.source.file_system_path
        if mc.collector.kind == "File":
            fsp.kind = fsp.kind or "File"
            fsp.path = fsp.path or DEFAULT_METRICS_FILE_PATH
            fsp.format = fsp.format or "TEXT"
        else:
            fsp.kind = fsp.kind or "Directory"
            fsp.path = fsp.path or DEFAULT_TFEVENT_DIR_PATH
    for param in spec.parameters:
        if not param.feasible_space.distribution:
            param.feasible_space.distribution = "uniform"
    return exp


def _without_nulls(tree: Any) -> Any:
    """A manifest as the API server keeps it: a field set to ``null`` is a field left out
    (built-in kinds decode it so, and CRDs prune it), so ``env: null`` reads as no env."""
    if isinstance(tree, dict):
        return {key: _without_nulls(value) for key, value in tree.items() if value is not None}
    if isinstance(tree, list):
        return [_without_nulls(item) for item in tree]
    return tree


def require_mapping(data: Any) -> dict[str, Any]:
    """``data`` when it is a mapping; else SpecError at ``(root)``: a document whose top level is a
    number, a list or text is a user's file that holds no Experiment, not a caller's wrong type."""
    if not isinstance(data, dict):
        raise SpecError([FieldError("(root)", f"expected a mapping (a Katib Experiment), got {type(data).__name__}")])
    return data


def parse_experiment(data: Any) -> Experiment:
    """Parse a Katib Experiment (dict) into models, with no defaults and no semantic checks.

    A field set to ``null`` (``goal:`` left empty, a template's unset value) is a field left out,
    as Katib reads it: its CRD keeps the object as written (``x-kubernetes-preserve-unknown-fields``
    at the root) and Go's JSON decoding leaves a field given ``null`` unset (the zero value, a nil
    pointer), which its mutating webhook then defaults (``resumePolicy: null`` is Never).

    Raises SpecError listing every structural problem (unknown fields, wrong types)."""
    data = _without_nulls(require_mapping(data))
    metadata = data.get("metadata")
    unknown = object_meta_problems(metadata, "metadata") if isinstance(metadata, dict) else []
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as exc:
        raise SpecError(unknown + _pydantic_errors(exc)) from None
    if unknown:
        raise SpecError(unknown)
    return experiment
