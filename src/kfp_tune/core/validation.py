"""Semantic validation of an experiment: Katib's admission rules plus the ones Katib misses.

Every rule appends a FieldError and carries on, so a user sees every problem at once.
Paths follow Katib's (``spec.parameters[1].feasibleSpace.min``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from kfp_tune.core.catalogue import ALGORITHMS, EARLY_STOPPING, hyperband_s_max, parse_settings
from kfp_tune.core.collector_checks import (
    FROM_THE_TRAINING_RUNTIME,
    KIND_FIELD,
    collector_problems,
    made_at_run_time,
    pod_collector_problem,
    unreachable_push_problem,
)
from kfp_tune.core.conditions import ConditionError
from kfp_tune.core.conditions import parse as parse_condition
from kfp_tune.core.errors import FieldError, shown
from kfp_tune.core.job_fields import placeholder_stays_text, typed_when_filled_in, unknown_job_fields
from kfp_tune.core.naming import label_field_problems, labels_for, namespace_problem
from kfp_tune.core.patterns import PatternError, compile_pattern
from kfp_tune.core.plugin_failures import failed_plugins_note
from kfp_tune.core.space import DISTRIBUTIONS, LOG_DISTRIBUTIONS, PARAMETER_TYPES, parse_number
from kfp_tune.core.spec import KUBEFLOW_JOB_KINDS, Experiment, ExperimentSpec, GraphConfig, NasConfig, ParameterSpec, TrialTemplate
from kfp_tune.core.template import (
    is_meta_reference,
    is_train_job,
    malformed_placeholders,
    missing_metadata_key,
    placeholders_in,
    primary_container,
    unsafe_settings,
)
from kfp_tune.core.vocabulary import CollectorKind

NAME_PATTERN = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
METRIC_STRATEGIES = ("min", "max", "latest")
RESUME_POLICIES = ("Never", "LongRunning", "FromVolume")
COLLECTOR_KINDS = ("StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom", "Push")
"""Katib's collector kinds since v0.18, whose webhook refuses any other (validateMetricsCollector)."""
OLD_PUSH_KIND = "None"
"""Katib's name before v0.18 (kubeflow/katib#2369) for Push: an invalid kind to Katib now."""
KATIB_TWO_GROUPS = re.compile(r".*\(.*\).*\(.*\).*")
"""Katib's webhook refuses a metricsFormat whose text this does not match (validateMetricsCollector):
'(loss=([0-9.]+))' has two groups but one '(' ... ')' after another it has not."""
MAX_NAME_LENGTH = 63
INT32_MAX = 2**31 - 1
"""maxTrialCount, parallelTrialCount and maxFailedTrialCount are int32 in Katib's CRD."""
MAX_EXACT_INT = 2**53
"""The largest int parameter bound: the algorithms hold values as floats (numpy), and every
integer up to 2**53 is a float exactly; past it, sampling overflows numpy's int64 or rounds."""
MAX_GRID_POINTS_PER_PARAMETER = 2**53
"""(max - min) / step, at most: a step finer than that names points no float can tell apart."""
MAX_HYPERBAND_BRACKETS = 20
"""floor(log_eta(r_l)) + 1, at most: the first bracket starts about eta ** (brackets - 1)
trials, so more brackets than this is a schedule no experiment finishes."""
MAX_CANDIDATES = 100_000
"""n_ei_candidates (TPE), at most: candidates are drawn and scored in memory at each suggestion."""

log = logging.getLogger(__name__)


class _Errors(list):
    def add(self, path: str, message: str) -> None:
        self.append(FieldError(path, message))


def validate_experiment(experiment: Experiment) -> list[FieldError]:
    """Every problem in a (defaulted) experiment; an empty list when it is valid."""
    errors = _Errors()
    name = experiment.metadata.name
    if not name:
        errors.add("metadata.name", "required: the experiment's name")
    elif (problem := name_problem(name)) is not None:
        errors.add("metadata.name", problem)
    namespace = experiment.metadata.namespace
    if namespace and (problem := namespace_problem(namespace)) is not None:
        errors.add("metadata.namespace", problem)
    for field, problem in label_field_problems(experiment.metadata.labels or {}, "metadata.labels"):  # they reach every pod
        errors.add(field, problem)
    spec = experiment.spec
    _check_counts(spec, errors)
    _check_objective(spec, errors)
    _check_algorithms(spec, errors)
    if spec.resume_policy not in RESUME_POLICIES:
        errors.add("spec.resumePolicy", f"expected one of {list(RESUME_POLICIES)}, got {shown(spec.resume_policy)}")
    if spec.parameters and spec.nas_config is not None:  # Katib's webhook: exactly one of the two
        errors.add(
            "spec.nasConfig",
            "only one of spec.parameters and spec.nasConfig may be given: parameters are tuned by a hyperparameter algorithm, "
            "nasConfig is searched by an architecture search algorithm",
        )
    if not spec.parameters and spec.nas_config is None:
        errors.add("spec.parameters", "required: at least one parameter to tune (or spec.nasConfig, for neural architecture search)")
    for index, parameter in enumerate(spec.parameters):
        _check_parameter(spec, f"spec.parameters[{index}]", parameter, errors)
    _check_unique([p.name for p in spec.parameters], "spec.parameters", "parameter name", errors)
    if spec.nas_config is not None:
        _check_nas_config(spec, spec.nas_config, errors)
    _check_trial_template(spec, errors)
    _check_metrics_collector(spec, errors)
    document = experiment.to_dict()
    objective = document["spec"].get("objective") or {}
    named = set(spec.objective.metric_names) if spec.objective is not None else set()
    # a strategy's name repeats a metric name (Katib's defaults write one per metric): reported there
    objective["metricStrategies"] = [s if s.get("name") not in named else {**s, "name": ""} for s in objective.get("metricStrategies") or []]
    for path, problem in nul_characters(document):
        errors.add(path, problem)
    return list(errors)


NUL_PROBLEM = "contains a NUL character, which no process argument, environment variable or file name can hold"


def nul_characters(tree: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, problem) for each string, and each mapping key, holding a NUL (``"\\0"`` in YAML).
    Any string of an experiment may reach a trial's argv, environment or file names (parameter
    values, the template's strings, metric and experiment names), where the OS refuses a NUL and
    the trial could only fail: refused before anything runs."""
    if isinstance(tree, str):
        if "\0" in tree:
            yield path or "(root)", NUL_PROBLEM
    elif isinstance(tree, dict):
        for key, value in tree.items():
            here = f"{path}.{key}" if path else str(key)
            if "\0" in str(key):
                yield (path or "(root)"), f"the key {shown(key)} {NUL_PROBLEM}"
                continue
            yield from nul_characters(value, here)
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            yield from nul_characters(item, f"{path}[{index}]")


def name_problem(name: str) -> str | None:
    """What is wrong with an experiment name (Katib's rule), or None; for a name given on the
    command line as well as for metadata.name."""
    if not NAME_PATTERN.fullmatch(name) or len(name) > MAX_NAME_LENGTH:  # fullmatch: '$' alone lets "name\n" through
        return (
            f"expected lower case letters, digits or '-', starting with a letter, ending with a letter "
            f"or digit, at most {MAX_NAME_LENGTH} characters (regex {NAME_PATTERN.pattern}), got {shown(name)}"
        )
    return None


def _check_counts(spec: ExperimentSpec, errors: _Errors) -> None:
    for key, value in (
        ("maxTrialCount", spec.max_trial_count),
        ("parallelTrialCount", spec.parallel_trial_count),
        ("maxFailedTrialCount", spec.max_failed_trial_count),
    ):
        if value is not None and value > INT32_MAX:
            errors.add(f"spec.{key}", f"expected at most {INT32_MAX} (an int32, as in Katib's CRD), got {value}")
    if spec.max_failed_trial_count is not None and spec.max_failed_trial_count < 0:
        errors.add("spec.maxFailedTrialCount", f"expected 0 or more, got {spec.max_failed_trial_count}")
    if spec.max_trial_count is not None and spec.max_trial_count <= 0:
        errors.add("spec.maxTrialCount", f"expected more than 0, got {spec.max_trial_count}")
    if spec.parallel_trial_count is not None and spec.parallel_trial_count <= 0:
        errors.add("spec.parallelTrialCount", f"expected more than 0, got {spec.parallel_trial_count}")
    if spec.max_trial_count is not None and spec.max_trial_count > 0:
        if spec.max_failed_trial_count is not None and spec.max_failed_trial_count > spec.max_trial_count:
            errors.add(
                "spec.maxFailedTrialCount",
                f"expected at most spec.maxTrialCount ({spec.max_trial_count}), got {spec.max_failed_trial_count}",
            )
        if spec.parallel_trial_count is not None and spec.parallel_trial_count > spec.max_trial_count:
            errors.add(
                "spec.parallelTrialCount",
                f"expected at most spec.maxTrialCount ({spec.max_trial_count}), got {spec.parallel_trial_count}",
            )


def _check_objective(spec: ExperimentSpec, errors: _Errors) -> None:
    objective = spec.objective
    if objective is None:
        errors.add("spec.objective", "required: type and objectiveMetricName")
        return
    if objective.type not in ("minimize", "maximize"):
        errors.add("spec.objective.type", f"expected 'minimize' or 'maximize', got {shown(objective.type)}")
    if not objective.objective_metric_name:
        errors.add("spec.objective.objectiveMetricName", "required: the metric to optimize")
    if objective.objective_metric_name in objective.additional_metric_names:
        errors.add(
            "spec.objective.additionalMetricNames",
            f"must not contain the objective metric {shown(objective.objective_metric_name)}",
        )
    seen_names: set[str] = set()
    for index, name in enumerate(objective.additional_metric_names):
        if name in seen_names:  # Katib's webhook admits it (validateObjective); its controller reads the metric once
            errors.add(
                f"spec.objective.additionalMetricNames[{index}]",
                f"metric name {shown(name)} is given more than once; Katib's webhook admits the repeat and reads the metric once, but "
                "kfp-tune refuses it, as a repeated name is most often another metric's name miswritten: remove it, or write the name meant",
            )
        seen_names.add(name)
    if objective.goal is not None and not math.isfinite(objective.goal):
        errors.add("spec.objective.goal", f"expected a finite number, got {objective.goal}")
    first: dict[str, str] = {}
    for index, strategy in enumerate(objective.metric_strategies or []):
        path = f"spec.objective.metricStrategies[{index}]"
        if strategy.value not in METRIC_STRATEGIES:
            errors.add(f"{path}.value", f"expected one of {list(METRIC_STRATEGIES)}, got {shown(strategy.value)}")
        if strategy.name in first:
            errors.add(f"{path}.name", _repeated_strategy(strategy.name, first[strategy.name], strategy.value, objective.objective_metric_name))
        first.setdefault(strategy.name, strategy.value)


def _repeated_strategy(name: str, first: str, value: str, objective_metric: str) -> str:
    """Why a second strategy for ``name`` is refused, and what Katib, whose webhook admits it,
    does with it: its experiment status judges the objective by the first (status_util.go
    getObjectiveMetricValue) and its suggestion client tells the algorithm each trial's value by
    the last (suggestionclient.go convertTrialObservation), so two values disagree there."""
    said = f"strategy for {shown(name)} is given more than once"
    if value == first:
        return f"{said}; Katib's webhook admits the repeat ({shown(value)} both times, which runs as given once), but kfp-tune takes one strategy per metric: remove it"
    katib = (
        "then judges the best trial and the goal by the first and tells its algorithm each trial's value by the last, so the two disagree"
        if name == objective_metric else "tells its algorithm each trial's value by the last"
    )
    joined = ", " if name == objective_metric else " and "
    return f"{said} ({shown(first)}, then {shown(value)}); Katib's webhook admits it{joined}{katib}; kfp-tune refuses it rather than choose one: keep the one meant"


def metric_strategy_notes(experiment: Experiment) -> list[FieldError]:
    """A metric strategy naming neither the objective metric nor an additional metric: Katib's
    webhook admits it and runs the experiment (the strategy is simply never applied, no trial's
    metric being read by that name), so kfp-tune runs it too and validate tells it as a note."""
    objective = experiment.spec.objective
    if objective is None:
        return []
    metrics = {objective.objective_metric_name, *objective.additional_metric_names}
    return [
        FieldError(
            f"spec.objective.metricStrategies[{index}].name",
            f"{shown(strategy.name)} is neither the objective metric nor an additional metric: the strategy is never applied (Katib runs it so too)",
        )
        for index, strategy in enumerate(objective.metric_strategies or [])
        if strategy.name not in metrics
    ]


CONTROLLER_LABEL_KEYS = frozenset({
    "job-name", "controller-uid", "pod-template-hash", "group-name", "job-role", "replica-type", "replica-index",
    "mpi-job-name", "mpi-job-role", "tf-job-name", "pytorch-job-name", "tf-replica-type", "tf-replica-index",
})
"""Label keys without a domain that a kind's controller sets on the pods it makes (batch/v1 Job's
legacy ones, the operators' before ``training.kubeflow.org/``): a ``primaryPodLabels`` key that no
template sets may be one of these."""


def primary_pod_label_notes(experiment: Experiment) -> list[FieldError]:
    """What finds no primary pod or container on a cluster though the experiment is valid:
    :func:`label_notes` and :func:`trial_kind_notes`."""
    return label_notes(experiment) + trial_kind_notes(experiment)


TRAINJOB_CONTAINER = "node"
"""The container of a TrainJob's pods that runs its ``spec.trainer`` (Trainer's ``constants.Node``),
whatever ``primaryContainerName`` says."""


def trial_log_names(trial_spec: Any, primary_container_name: str) -> tuple[str, ...]:
    """The names a trial's log may be kept under in the store, the one it is kept under now first:
    the container whose log is the trial's, Trainer's ``node`` for a TrainJob (whatever
    ``primaryContainerName`` says), else ``primaryContainerName``; then, for a TrainJob whose
    ``primaryContainerName`` is another, that name, under which kfp-tune kept the log before."""
    if isinstance(trial_spec, Mapping) and is_train_job(trial_spec) and primary_container_name != TRAINJOB_CONTAINER:
        return (TRAINJOB_CONTAINER, primary_container_name) if primary_container_name else (TRAINJOB_CONTAINER,)
    return (primary_container_name,)


def trial_kind_notes(experiment: Experiment) -> list[FieldError]:
    """What the trial's kind does otherwise than its template says, told by ``validate`` where a
    local run would run it: :func:`default_container_notes`; a TrainJob's ``primaryContainerName``
    other than ``node``, the container Trainer runs ``spec.trainer`` in (kfp-tune reads that one; on
    Katib the pod webhook finds no container so named and the experiment does not run)."""
    template = experiment.spec.trial_template
    if template is None or not isinstance(template.trial_spec, Mapping):
        return []
    notes = default_container_notes(template.trial_spec)
    if is_train_job(template.trial_spec) and template.primary_container_name and template.primary_container_name != TRAINJOB_CONTAINER:
        notes.append(FieldError(
            "spec.trialTemplate.primaryContainerName",
            f"a TrainJob's pods run spec.trainer in a container named {TRAINJOB_CONTAINER!r} (Trainer names it so), not "
            f"{shown(template.primary_container_name)}: kfp-tune reads and keeps the log of {TRAINJOB_CONTAINER!r}, "
            f"but Katib's webhook finds no container {shown(template.primary_container_name)} in the pod; write {TRAINJOB_CONTAINER!r}",
        ))
    return notes


def label_notes(experiment: Experiment) -> list[FieldError]:
    """A ``primaryPodLabels`` key that no pod template (nor ``podMetadata``) sets with that value:
    on Katib its webhook tests the pod's labels as they came, before it adds the Trial's
    (inject_webhook.go Mutate: ``isPrimaryPod(pod.Labels, ...)``), and kfp-tune decides by the
    templates' own labels as well, so a key only the Experiment's ``metadata.labels`` (or the trial
    resource's own labels, which reach no pod) set, one a template sets with another value, or one
    with no domain that nothing sets, selects no pod: every trial that ends well ends
    PrimaryPodMissing with no metrics read (not a Push trial's). A note, not a refusal: a key with a
    domain may be a controller's or a webhook's, and Push needs no primary pod."""
    template = experiment.spec.trial_template
    if template is None or not template.primary_pod_labels or not isinstance(template.trial_spec, Mapping):
        return []
    on_pods = _nested_labels(template.trial_spec.get("spec"))
    on_resource = _labels(template.trial_spec.get("metadata"))
    after = {**(experiment.metadata.labels or {}), **labels_for("experiment", "trial", "round")}
    notes = []
    set_by_operator = _operator_label_values(template.trial_spec)
    for key, value in template.primary_pod_labels.items():
        if set_by_operator is not None and key in set_by_operator:
            if str(value) not in set_by_operator[key]:
                notes.append(FieldError(f"spec.trialTemplate.primaryPodLabels.{key}", _operator_label_note(template.trial_spec, key, str(value), set_by_operator[key])))
            continue
        values = on_pods.get(key, set())
        if str(value) in values:
            continue
        if values:
            why = f"the pod templates set it only to {', '.join(repr(v) for v in sorted(values))}, not {str(value)!r}"
        elif key in after:
            why = ("it is set only in the Experiment's metadata.labels (or kfp-tune's), which Katib's webhook adds to each pod "
                   "after it has chosen the primary pod by the labels the pod came with")
        elif key in on_resource:
            why = "it is set only in trialSpec.metadata.labels, the trial resource's own labels, which reach none of its pods"
        elif "/" not in key and key not in CONTROLLER_LABEL_KEYS:
            why = "no pod template sets it, nor does a kind's controller"
        else:
            continue
        notes.append(FieldError(
            f"spec.trialTemplate.primaryPodLabels.{key}",
            f"{shown(key)}: {why}, so no pod is the primary pod (on Katib as here) and each trial ends PrimaryPodMissing "
            "with no metrics read; set it in the pod template's own metadata.labels",
        ))
    return notes


OPERATOR_LABELLED_KINDS = ("TFJob", "PyTorchJob", "XGBoostJob", "PaddleJob", "JAXJob", "MPIJob")
"""The Training Operator v1.9's kinds at kubeflow.org/v1, whose pods' ``training.kubeflow.org/*``
labels it sets (pkg/controller.v1/common/pod.go), over any the template gives."""


def _operator_label_values(trial_spec: Mapping[str, Any]) -> dict[str, frozenset[str]] | None:
    """For a Training Operator kind (or mpi-operator v2's MPIJob): the values the operator gives
    its pods' ``training.kubeflow.org/replica-type``, ``job-role`` and ``replica-index`` labels,
    given the template's replica types (an empty set: a key it never sets; ``replica-index`` left
    out where a count is not a number); None for other kinds."""
    api_version, kind, spec = trial_spec.get("apiVersion"), trial_spec.get("kind"), trial_spec.get("spec")
    mpi_v2 = (api_version, kind) == ("kubeflow.org/v2beta1", "MPIJob")
    if not isinstance(spec, Mapping) or not (mpi_v2 or (api_version == "kubeflow.org/v1" and kind in OPERATOR_LABELLED_KINDS)):
        return None
    replicas = next((value for key, value in spec.items() if str(key).endswith("ReplicaSpecs") and isinstance(value, Mapping)), None)
    if replicas is None:
        return None
    types = [str(t) for t in replicas]
    counts = {t: (r.get("replicas", 1) if isinstance(r, Mapping) else 1) for t, r in zip(types, replicas.values(), strict=True)}
    indexed = [t for t in types if t != "Launcher"]  # neither operator gives the MPI launcher an index
    prefix = "training.kubeflow.org/"
    found: dict[str, frozenset[str]] = {
        f"{prefix}replica-type": frozenset() if mpi_v2 else frozenset(t.lower() for t in types),
        f"{prefix}job-role": frozenset(t.lower() for t in types) & {"launcher", "worker"} if mpi_v2 else frozenset({"master"}),
    }
    if all(_json_integer(counts[t]) for t in indexed):
        found[f"{prefix}replica-index"] = frozenset(str(i) for t in indexed for i in range(min(int(counts[t]), 1000)))
    return found


def _operator_label_note(trial_spec: Mapping[str, Any], key: str, value: str, values: frozenset[str]) -> str:
    """Why a ``training.kubeflow.org/*`` primaryPodLabels value selects no pod of an operator's kind."""
    kind = str(trial_spec.get("kind"))
    operator = "mpi-operator v2" if trial_spec.get("apiVersion") == "kubeflow.org/v2beta1" else "the Training Operator"
    if values:
        said = f"{operator} sets it only to {', '.join(repr(v) for v in sorted(values, key=lambda v: (len(v), v) if v.isdigit() else (0, v)))} on the pods of this {kind}, never {value!r}"
    else:
        said = f"{operator} never sets it on the pods of this {kind}"
    near = [v for v in values if v.lower() == value.lower()]
    hint = f"write {near[0]!r} (labels are matched exactly, case and all)" if near else "select a value it sets, or leave primaryPodLabels out for the kind's default"
    return f"{shown(key)}: {said}, so no pod is the primary pod and each trial that ends well fails PrimaryPodNotFound with no metrics read; {hint}"


def _nested_labels(tree: Any) -> dict[str, set[str]]:
    """The values each label key has in the ``labels`` mappings of the trial resource's spec."""
    found: dict[str, set[str]] = {}
    for labels in _nested_label_maps(tree):
        for key, value in labels.items():
            found.setdefault(str(key), set()).add(str(value))
    return found


def _nested_label_maps(tree: Any) -> Iterator[Mapping[str, Any]]:
    """Every ``labels`` mapping in the trial resource's spec (pod templates, an Argo Workflow's
    ``podMetadata``, ...): the labels its pods may carry."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            if key == "labels" and isinstance(value, Mapping):
                yield value
            yield from _nested_label_maps(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from _nested_label_maps(item)


def _check_algorithms(spec: ExperimentSpec, errors: _Errors) -> None:
    algorithm = spec.algorithm
    if algorithm is None:
        errors.add("spec.algorithm", "required: algorithmName")
    elif not algorithm.algorithm_name:
        errors.add("spec.algorithm.algorithmName", f"required, one of {sorted(ALGORITHMS)}")
    elif algorithm.algorithm_name not in ALGORITHMS:
        errors.add(
            "spec.algorithm.algorithmName",
            f"unknown algorithm {shown(algorithm.algorithm_name)}; expected one of {sorted(ALGORITHMS)}{failed_plugins_note()}",
        )
    else:
        entry = ALGORITHMS[algorithm.algorithm_name]
        pairs = [(s.name, s.value) for s in algorithm.algorithm_settings]
        settings, problems = parse_settings(entry, pairs, "spec.algorithm.algorithmSettings")
        for path, message in problems:
            errors.add(path, message)
        architectures = sorted(name for name, e in ALGORITHMS.items() if e.searches_architectures)
        if entry.searches_architectures:
            if spec.nas_config is None:
                errors.add(
                    "spec.nasConfig",
                    f"required for {entry.name}: it searches neural architectures (nasConfig's graphConfig and operations), not spec.parameters",
                )
            elif entry.check_nas is not None:
                for path, message in entry.check_nas(spec.nas_config, settings):
                    errors.add(path, message)
        elif spec.nas_config is not None and not spec.parameters:
            errors.add(
                "spec.algorithm.algorithmName",
                f"{shown(entry.name)} tunes spec.parameters; spec.nasConfig is searched by an architecture search algorithm, one of {architectures}",
            )
            return
        if entry.check_problem is not None and not problems:
            for path, message in entry.check_problem(spec.parameters, settings):
                errors.add(path, message)
        if not problems:
            _check_algorithm_limits(spec, algorithm.algorithm_name, settings, errors)
    early = spec.early_stopping
    if early is not None:
        if not early.algorithm_name:
            errors.add("spec.earlyStopping.algorithmName", f"required, one of {sorted(EARLY_STOPPING)}")
        elif early.algorithm_name not in EARLY_STOPPING:
            errors.add(
                "spec.earlyStopping.algorithmName",
                f"unknown early stopping algorithm {shown(early.algorithm_name)}; expected one of {sorted(EARLY_STOPPING)}{failed_plugins_note()}",
            )
        else:
            pairs = [(s.name, s.value) for s in early.algorithm_settings]
            _, problems = parse_settings(EARLY_STOPPING[early.algorithm_name], pairs, "spec.earlyStopping.algorithmSettings")
            for path, message in problems:
                errors.add(path, message)


def _check_algorithm_limits(spec: ExperimentSpec, name: str, settings: dict[str, Any], errors: _Errors) -> None:
    """Settings Katib parses but no algorithm can work with in bounded time or memory."""
    path = "spec.algorithm.algorithmSettings"
    given = {s.name: index for index, s in enumerate(spec.algorithm.algorithm_settings)} if spec.algorithm else {}
    for key in ("n_ei_candidates", "n_EI_candidates"):
        value = settings.get(key)
        if value is not None and value > MAX_CANDIDATES:
            errors.add(
                f"{path}[{given.get(key, 0)}].value",
                f"{key}: expected at most {MAX_CANDIDATES} (kfp-tune's own limit, which Katib does not set: candidates scored at every suggestion), got {value}",
            )
    if {"n_ei_candidates", "n_EI_candidates"} <= given.keys() & settings.keys():  # tpe's one setting under two names: neither wins
        errors.add(
            f"{path}[{max(given['n_ei_candidates'], given['n_EI_candidates'])}].name",
            "n_EI_candidates and n_ei_candidates are both given: expected one of them (the same setting, hyperopt's name and Optuna's; "
            "Katib's service for each algorithm takes only one of them and refuses the other)",
        )
    if name != "hyperband":
        return
    eta = float(settings.get("eta") or 3.0)
    r_l = settings.get("r_l")
    where = f"{path}[{given['r_l']}].value" if "r_l" in given else path
    if r_l is None:
        resource = next((p for p in spec.parameters if p.name == settings.get("resource_name")), None)
        try:
            r_l = float(resource.feasible_space.max or 1.0) if resource is not None else 1.0
        except ValueError:
            return  # the parameter's own check reports its max
        if not math.isfinite(r_l):
            return  # a max of inf or 1e400: the parameter's own check reports it
        what = f"r_l (not set, so the max of the resource parameter {shown(settings.get('resource_name'))})"
    else:
        what = "r_l"
    if not r_l >= 1:
        errors.add(where, f"hyperband needs {what} of at least 1 (its largest resource: a smaller one leaves no bracket), got {r_l:g}")
        return
    brackets = hyperband_s_max(r_l, eta) + 1
    if brackets > MAX_HYPERBAND_BRACKETS:
        errors.add(
            where if "r_l" in given else path,
            f"hyperband with eta {eta:g} and {what} {r_l:g} has {brackets} brackets (int(log(r_l) / log(eta)) + 1, as Katib counts them); expected at most "
            f"{MAX_HYPERBAND_BRACKETS}: raise eta or lower r_l",
        )


def _check_nas_config(spec: ExperimentSpec, nas: NasConfig, errors: _Errors) -> None:
    """What every nasConfig must be, whichever algorithm searches it: a depth, positive sizes, at
    least one operation, each with a type of its own and parameters valid as spec.parameters
    are. Katib's NAS services check these (nas/common/validation.py) or fail without them; what
    one algorithm needs besides is its catalogue entry's check_nas."""
    graph = nas.graph_config or GraphConfig()
    path = "spec.nasConfig.graphConfig"
    if graph.num_layers is None:
        errors.add(f"{path}.numLayers", "required: the number of layers to search, at least 1")
    elif not 1 <= graph.num_layers <= INT32_MAX:
        errors.add(f"{path}.numLayers", f"expected from 1 to {INT32_MAX} (an int32), got {graph.num_layers}")
    for key, sizes in (("inputSizes", graph.input_sizes), ("outputSizes", graph.output_sizes)):
        for index, size in enumerate(sizes or []):
            if not 1 <= size <= INT32_MAX:
                errors.add(f"{path}.{key}[{index}]", f"expected a size from 1 to {INT32_MAX} (an int32), got {size}")
    if not nas.operations:
        errors.add("spec.nasConfig.operations", "required: at least one operation to choose from")
        return
    for index, operation in enumerate(nas.operations):
        where = f"spec.nasConfig.operations[{index}]"
        if not operation.operation_type:
            errors.add(f"{where}.operationType", "required: the operation's name, e.g. convolution")
        for number, parameter in enumerate(operation.parameters or []):
            _check_parameter(spec, f"{where}.parameters[{number}]", parameter, errors, operation=True)
        _check_unique([p.name for p in operation.parameters or []], f"{where}.parameters", "parameter name", errors)
    seen: set[str] = set()
    for index, operation in enumerate(nas.operations):  # Katib's API keys the list by operationType (+listMapKey)
        if operation.operation_type and operation.operation_type in seen:
            errors.add(f"spec.nasConfig.operations[{index}].operationType", f"operation type {shown(operation.operation_type)} is given more than once")
        seen.add(operation.operation_type)


def _check_parameter(spec: ExperimentSpec, path: str, parameter: ParameterSpec, errors: _Errors, operation: bool = False) -> None:
    """A parameter of spec.parameters or (``operation``) of a nasConfig operation. An
    operation's are enumerated, not sampled: no distribution is defaulted for them (Katib sets
    it for spec.parameters only), and a double needs a step (Katib's NAS services' rule)."""
    fs = parameter.feasible_space
    fpath = f"{path}.feasibleSpace"
    if not parameter.name:
        errors.add(f"{path}.name", "required")
    elif "{" in parameter.name or "}" in parameter.name:
        errors.add(f"{path}.name", f"must not contain '{{' or '}}', got {shown(parameter.name)}")
    if parameter.parameter_type not in PARAMETER_TYPES:
        errors.add(f"{path}.parameterType", f"expected one of {list(PARAMETER_TYPES)}, got {shown(parameter.parameter_type)}")
        return
    if fs.distribution not in DISTRIBUTIONS and not (operation and fs.distribution is None):
        errors.add(f"{fpath}.distribution", f"expected one of {list(DISTRIBUTIONS)}, got {shown(fs.distribution)}")
    if parameter.parameter_type in ("discrete", "categorical"):
        for key in ("min", "max", "step"):
            if getattr(fs, key) not in (None, ""):
                errors.add(f"{fpath}.{key}", f"not allowed for parameterType {parameter.parameter_type}; use feasibleSpace.list")
        if not fs.list:
            errors.add(f"{fpath}.list", f"required for parameterType {parameter.parameter_type}: a non-empty list of values")
            return
        _check_unique(list(fs.list), f"{fpath}.list", "value", errors, bare=True)
        if parameter.parameter_type == "discrete":
            numbers: dict[float, str] = {}
            for i, item in enumerate(fs.list):
                try:
                    number = parse_number(item)
                except ValueError:
                    errors.add(f"{fpath}.list[{i}]", f"discrete values must be numbers, got {shown(item)}")
                    continue
                if number in numbers and numbers[number] != item:  # the same number written twice ("1" and "1.0")
                    errors.add(f"{fpath}.list[{i}]", f"value {shown(item)} is the number {shown(numbers[number])} again")
                numbers.setdefault(number, item)
        return
    # double and int
    if fs.list:
        errors.add(f"{fpath}.list", f"not allowed for parameterType {parameter.parameter_type}; use min and max")
    bounds: dict[str, float] = {}
    for key in ("min", "max", "step"):
        text = getattr(fs, key)
        if text in (None, ""):
            if key != "step":
                errors.add(f"{fpath}.{key}", f"required for parameterType {parameter.parameter_type}")
            continue
        try:
            value = parse_number(text)
        except ValueError:
            errors.add(f"{fpath}.{key}", f"expected a finite number, got {shown(text)}")
            continue
        if parameter.parameter_type == "int" and value != int(value):
            errors.add(f"{fpath}.{key}", f"expected an integer for parameterType int, got {shown(text)}")
            continue
        if parameter.parameter_type == "int" and abs(value) > MAX_EXACT_INT:
            errors.add(f"{fpath}.{key}", f"expected an integer from -2**53 to 2**53 ({MAX_EXACT_INT}), got {shown(text)}")
            continue
        bounds[key] = value
    low, high, step = bounds.get("min"), bounds.get("max"), bounds.get("step")
    if low is not None and high is not None:
        if low > high or (low == high and (operation or not _is_hyperband_resource(spec, parameter.name))):
            unnamed = None if low > high or operation else _unnamed_hyperband_resource(spec)
            because = f" (hyperband's resource may have min = max, but resource_name {shown(unnamed)} names no parameter)" if unnamed is not None else ""
            if low == high and not operation and unnamed is None:  # Katib runs it; say how kfp-tune pins a value
                because = (
                    f"; Katib admits min = max (its random, tpe and grid give every trial that value), kfp-tune refuses it as a likely slip: to pin {shown(parameter.name)}, "
                    f"write parameterType: discrete with feasibleSpace: {{list: [{shown(str(fs.min))}]}}{_cmaes_pinning_caveat(spec, parameter)}"
                )
            errors.add(f"{fpath}.min", f"expected min < max, got min {low:g} and max {high:g}{because}")
        elif not math.isfinite(high - low):
            errors.add(f"{fpath}.max", f"max - min overflows a float (min {low:g}, max {high:g}); expected a range whose width is a finite number")
        elif step is not None and step > 0 and (high - low) / step > MAX_GRID_POINTS_PER_PARAMETER:
            errors.add(f"{fpath}.step", f"expected a step of at least (max - min) / 2**53 ({(high - low) / MAX_GRID_POINTS_PER_PARAMETER:g}), got {step:g}")
        if step is not None and step > 0 and step > high - low and low < high:
            errors.add(f"{fpath}.step", f"expected a step no larger than max - min ({high - low:g}), got {step:g}")
    if step is not None and step <= 0:
        errors.add(f"{fpath}.step", f"expected a step > 0, got {step:g}")
    if operation and parameter.parameter_type == "double" and fs.step in (None, ""):
        errors.add(f"{fpath}.step", "required for a double parameter of an operation: its values are min, min + step, ... max")
    if fs.distribution in LOG_DISTRIBUTIONS and low is not None and low <= 0:
        errors.add(f"{fpath}.min", f"expected min > 0 for the {fs.distribution} distribution, got {low:g}")


def _unnamed_hyperband_resource(spec: ExperimentSpec) -> str | None:
    """A hyperband experiment's ``resource_name`` when no parameter has that name (mistyped):
    a parameter with min = max may then be the one it meant, and its refusal says so."""
    if spec.algorithm is None or spec.algorithm.algorithm_name != "hyperband":
        return None
    name = spec.algorithm.settings().get("resource_name")
    return str(name) if name is not None and all(p.name != name for p in spec.parameters) else None


def _is_hyperband_resource(spec: ExperimentSpec, name: str) -> bool:
    """Hyperband sets its resource parameter's range itself (r_l), so min == max is allowed there,
    as in Katib's own hyperband example."""
    if spec.algorithm is None or spec.algorithm.algorithm_name != "hyperband":
        return False
    return spec.algorithm.settings().get("resource_name") == name


def _check_trial_template(spec: ExperimentSpec, errors: _Errors) -> None:
    template = spec.trial_template
    path = "spec.trialTemplate"
    if template is None:
        errors.add(path, "required: trialSpec, trialParameters and primaryContainerName")
        return
    if not template.primary_container_name:
        errors.add(f"{path}.primaryContainerName", "required: the name of the container that trains")
    if template.trial_spec is None and template.config_map is None:  # no kind: its conditions cannot be asked for
        errors.add(f"{path}.trialSpec", "required: trialSpec (or configMap)")
        return
    kind = _kind(template.trial_spec)
    written = (template.trial_spec or {}).get("kind")
    kindless = template.trial_spec is not None and not (written and isinstance(written, str))  # the kind is the error (below), not its conditions
    meant = _meant_kind(template.trial_spec or {}) if not kindless else None
    if meant is not None:
        group = str((template.trial_spec or {}).get("apiVersion", "")).rpartition("/")[0]
        errors.add(
            f"{path}.trialSpec.kind",
            f"{shown(kind)} is no kind of {group} that kfp-tune knows (its kinds: {', '.join(sorted(KNOWN_KINDS_BY_GROUP[group]))}): "
            f"did you mean {shown(meant)}? Kinds are matched exactly, case and all",
        )
        kindless = True  # the kind is the error, not the conditions its misspelling has no default for
    # Katib defaults the conditions only for a trialSpec written in the Experiment: one read from
    # a ConfigMap is not known when the defaults are set.
    why = f"for kind {shown(kind)} (no default for it)" if template.trial_spec is not None else "when the trial template comes from a ConfigMap (as in Katib, the defaults are only for a trialSpec written in the Experiment)"
    if not template.success_condition and not kindless:
        errors.add(f"{path}.successCondition", f"required {why}")
    if not template.failure_condition and not kindless:
        errors.add(f"{path}.failureCondition", f"required {why}")
    if template.trial_spec is not None and template.config_map is not None:
        errors.add(path, "only one of trialSpec and configMap may be given")
        return
    if template.config_map is not None:
        cm = template.config_map
        for key, value in (("configMapName", cm.config_map_name), ("configMapNamespace", cm.config_map_namespace), ("templatePath", cm.template_path)):
            if not value:
                errors.add(f"{path}.configMap.{key}", "required")
        return
    trial_spec = template.trial_spec or {}
    if template.trial_parameters is None:
        errors.add(f"{path}.trialParameters", "required: one entry per ${trialParameters.x} in trialSpec")
        declared: set[str] = set()
    else:
        declared = _check_trial_parameters(spec, trial_spec, errors)
    used = placeholders_in(trial_spec)
    for name in sorted(used - declared):
        errors.add(f"{path}.trialSpec", f"${{trialParameters.{name}}} is used but not declared in spec.trialTemplate.trialParameters")
    for text in malformed_placeholders(trial_spec):  # Katib's validateTrialTemplate refuses what its regex still finds
        errors.add(path, f"{shown(text)} is not a whole ${{trialParameters.NAME}} placeholder of a declared trial parameter: it would reach the trial as literal text")
    metadata = trial_spec.get("metadata") or {}
    if not isinstance(metadata, dict):
        errors.add(f"{path}.trialSpec.metadata", "expected a mapping")
        metadata = {}
    for key in ("name", "namespace"):
        if key in metadata:
            errors.add(f"{path}.trialSpec.metadata.{key}", "must be omitted: kfp-tune names each trial and picks the namespace")
    for key in ("apiVersion", "kind"):
        if not trial_spec.get(key):
            errors.add(f"{path}.trialSpec.{key}", "required")
        elif not isinstance(trial_spec[key], str):
            errors.add(f"{path}.trialSpec.{key}", f"expected a string, got {shown(trial_spec[key])}")
    for problem in unsafe_settings(trial_spec, f"{path}.trialSpec"):
        errors.add(problem.path, problem.message)
    for where, container in _containers(trial_spec, f"{path}.trialSpec"):
        _check_container(container, where, errors)
    for problem in operator_webhook_problems(trial_spec, f"{path}.trialSpec"):
        errors.add(problem.path, problem.message)
    reported = {e.path for e in errors}
    for problem in unknown_job_fields(trial_spec, f"{path}.trialSpec"):
        if problem.path not in reported:  # a container's command or env, told by _check_container already
            errors.add(problem.path, problem.message)
    for key, condition in (("successCondition", template.success_condition), ("failureCondition", template.failure_condition)):
        if condition:
            try:
                parse_condition(condition)
            except ConditionError as exc:
                errors.add(f"{path}.{key}", f"not a GJSON path kfp-tune reads as Katib does: {exc}")
    shape_problems: list[FieldError] = []
    run_time_containers(trial_spec, shape_problems)
    errors.extend(shape_problems)
    if template.primary_container_name and not shape_problems:  # its containers are not all known
        _check_primary_container(template, trial_spec, errors)
    _check_collector_of_run_time_kind(spec, trial_spec, errors)


KNOWN_KINDS_BY_GROUP: dict[str, frozenset[str]] = {
    "batch": frozenset({"Job"}),
    "kubeflow.org": KUBEFLOW_JOB_KINDS,
    "trainer.kubeflow.org": frozenset({"TrainJob"}),
    "argoproj.io": frozenset({"Workflow"}),
    "tekton.dev": frozenset({"PipelineRun", "TaskRun"}),
    "jobset.x-k8s.io": frozenset({"JobSet"}),
}
"""The kinds kfp-tune knows, by API group (the launcher's ``KINDS`` and ``WELL_KNOWN``, which the
core may not import; a test keeps the two in step): a kind near one of them is a misspelling."""


OPERATOR_REPLICA_RULES: dict[str, tuple[str, str, tuple[str, ...] | None]] = {
    "TFJob": ("tfReplicaSpecs", "tensorflow", None),
    "PyTorchJob": ("pytorchReplicaSpecs", "pytorch", ("Master", "Worker")),
    "XGBoostJob": ("xgbReplicaSpecs", "xgboost", ("Master", "Worker")),
}
"""The Training Operator v1.9's validating webhooks (pkg/webhooks/<kind>/*_webhook.go), by kind at
kubeflow.org/v1: the replica specs' field, the container every replica must have (the kind's
``DefaultContainerName``) and the replica types it takes (None: any)."""
OPERATOR_WEBHOOK = "the Training Operator's webhook (v1.9) refuses it on every create, so each trial would stop the run at TrialNotCreated"
OPERATOR_INTEGER_FIELDS = (("runPolicy", "backoffLimit"), ("runPolicy", "activeDeadlineSeconds"), ("runPolicy", "ttlSecondsAfterFinished"), ("slotsPerWorker",))
"""The integer fields of the Training Operator's and mpi-operator's specs besides each replica's ``replicas``."""


def operator_webhook_problems(trial_spec: Mapping[str, Any], path: str = "spec.trialTemplate.trialSpec") -> list[FieldError]:
    """What the Training Operator's webhooks (v1.9) or its kinds' CRD schemas refuse in a trial
    template on every create, told before anything runs as a batch/v1 Job's are (Katib checks
    none of them: its validator converts only a Job): a replica type the kind does not have
    (``master``), a PyTorchJob's or XGBoostJob's Master count other than 1, an XGBoostJob with no
    Master, a TFJob with more than one Chief or Master, a PyTorchJob's Worker count below 1, and
    an integer field (``replicas``, ``runPolicy``'s, ``slotsPerWorker``) holding text, as a
    ``${trialParameters.x}`` placeholder written in the trialSpec stays after it is replaced (as in
    Katib); a ConfigMap template's unquoted whole placeholder, whose type is its value's, is left
    as the batch/v1 Job's check leaves it (``job_fields.typed_when_filled_in``)."""
    api_version, kind, spec = trial_spec.get("apiVersion"), trial_spec.get("kind"), trial_spec.get("spec")
    if not isinstance(kind, str) or not isinstance(spec, Mapping):
        return []  # a kind not text is refused at the field
    if not ((api_version == "kubeflow.org/v1" and kind in KUBEFLOW_JOB_KINDS) or (api_version, kind) == ("kubeflow.org/v2beta1", "MPIJob")):
        return []
    problems = []
    where = f"{path}.spec"
    for keys in OPERATOR_INTEGER_FIELDS:
        value: Any = spec
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is not None and not _json_integer(value) and not typed_when_filled_in(value):
            problems.append(FieldError(f"{where}.{'.'.join(keys)}", _integer_problem(value, str(kind))))
    for field_name, replicas in spec.items():
        if not str(field_name).endswith("ReplicaSpecs") or not isinstance(replicas, Mapping):
            continue
        for replica_type, replica in replicas.items():
            written = replica.get("replicas") if isinstance(replica, Mapping) else None
            if written is not None and not _json_integer(written) and not typed_when_filled_in(written):
                problems.append(FieldError(f"{where}.{field_name}.{replica_type}.replicas", _integer_problem(written, str(kind))))
    rules = OPERATOR_REPLICA_RULES.get(str(kind)) if api_version == "kubeflow.org/v1" else None
    replicas = spec.get(rules[0]) if rules is not None else None
    if rules is None or not isinstance(replicas, Mapping):
        return problems
    field_name, _, types = rules
    where = f"{where}.{field_name}"
    for replica_type, replica in replicas.items():
        here = f"{where}.{replica_type}"
        if types is not None and replica_type not in types:
            near = [t for t in types if t.lower() == str(replica_type).lower()]
            hint = f" (did you mean {shown(near[0])}? replica types are matched exactly, case and all)" if near else ""
            problems.append(FieldError(here, f"not a replica type of {kind}: expected one of {list(types)}, got {shown(replica_type)}{hint}; {OPERATOR_WEBHOOK}"))
        if not isinstance(replica, Mapping):
            continue
        given = replica.get("replicas")
        count: float | None = given if _json_integer(given) else None
        if replica_type == "Master" and kind in ("PyTorchJob", "XGBoostJob") and given is None:
            problems.append(FieldError(f"{here}.replicas", f"required: 1 (the operator's webhook reads a Master's count before it is defaulted); {OPERATOR_WEBHOOK} ('must be 1')"))
        elif replica_type == "Master" and kind in ("PyTorchJob", "XGBoostJob") and count is not None and count != 1:
            problems.append(FieldError(f"{here}.replicas", f"expected 1 (one Master per {kind}), got {count}: {OPERATOR_WEBHOOK} ('must be 1')"))
        elif replica_type == "Worker" and kind == "PyTorchJob" and count is not None and count < 1:
            problems.append(FieldError(f"{here}.replicas", f"expected at least 1, got {count}: {OPERATOR_WEBHOOK} ('must be at least 1'); leave the Worker replica out for none"))
    if kind == "XGBoostJob" and "Master" not in replicas:
        problems.append(FieldError(where, f"required: a Master replica (an XGBoostJob's Master runs the tracker that its Workers join); {OPERATOR_WEBHOOK} ('Master must be present')"))
    heads = [str(t) for t in replicas if t in ("Chief", "Master")]
    if kind == "TFJob" and len(heads) > 1:
        problems.append(FieldError(where, f"expected at most one Chief or Master replica, got {heads}: {OPERATOR_WEBHOOK} ('must not have more than 1 Chief or Master role')"))
    return problems


def default_container_notes(trial_spec: Mapping[str, Any], path: str = "spec.trialTemplate.trialSpec") -> list[FieldError]:
    """Each replica of a TFJob, PyTorchJob or XGBoostJob with no container of the kind's default
    name (``tensorflow``, ``pytorch``, ``xgboost``), which the Training Operator's webhook (v1.9)
    refuses on every create. A note, not a refusal: a local run, which no webhook sees, runs it."""
    api_version, kind, spec = trial_spec.get("apiVersion"), trial_spec.get("kind"), trial_spec.get("spec")
    rules = OPERATOR_REPLICA_RULES.get(kind) if api_version == "kubeflow.org/v1" and isinstance(kind, str) else None
    replicas = spec.get(rules[0]) if rules is not None and isinstance(spec, Mapping) else None
    if rules is None or not isinstance(replicas, Mapping):
        return []
    field_name, container_name, _ = rules
    notes = []
    for replica_type, replica in replicas.items():
        pod = replica.get("template") if isinstance(replica, Mapping) else None
        containers = pod["spec"].get("containers") if isinstance(pod, Mapping) and isinstance(pod.get("spec"), Mapping) else None
        if isinstance(containers, list) and containers and not any(isinstance(c, Mapping) and c.get("name") == container_name for c in containers):
            named = [c.get("name") for c in containers if isinstance(c, Mapping)]
            notes.append(FieldError(
                f"{path}.spec.{field_name}.{replica_type}.template.spec.containers",
                f"no container named {shown(container_name)} (got {shown(named)}): {OPERATOR_WEBHOOK} ('must have at least one container with "
                f"name {container_name}'); a local run, which no webhook sees, runs it: name the training container {shown(container_name)}",
            ))
    return notes


def _json_integer(value: Any) -> bool:
    """Whether the API server reads the value as an integer (a whole number; not text, not a boolean)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


def _integer_problem(value: Any, kind: str) -> str:
    """Why an integer field of an operator's kind holding something else is refused, saying why a placeholder stays text."""
    return (f"expected an integer, got {shown(value)}: the {kind} CRD's schema refuses it on every create, so each trial would stop the run "
            f"at TrialNotCreated{placeholder_stays_text(value)}")


def _meant_kind(trial_spec: Mapping[str, Any]) -> str | None:
    """The known kind of the trialSpec's API group that its kind misspells (only its case
    differs, or one letter is added, dropped, changed or swapped with the next), else None: the
    cluster would serve no such kind, and the conditions asked for an unknown kind would send the
    user the wrong way."""
    api_version, kind = trial_spec.get("apiVersion"), trial_spec.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    known = KNOWN_KINDS_BY_GROUP.get(api_version.rpartition("/")[0], frozenset())
    if kind in known:
        return None
    near = sorted(k for k in known if k.lower() == kind.lower() or _one_edit_apart(k.lower(), kind.lower()))
    return near[0] if near else None


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether one letter added, dropped, changed or swapped with the next turns ``a`` into ``b``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    if len(a) == len(b):
        return a[start + 1:] == b[start + 1:] or (a[start + 2:] == b[start + 2:] and a[start:start + 2] == b[start:start + 2][::-1])
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[start + 1:] == shorter[start:]


def _check_collector_of_run_time_kind(spec: ExperimentSpec, trial_spec: dict[str, Any], errors: _Errors) -> None:
    """A trial whose pods another controller makes at run time (Argo, Tekton, a user's kind whose
    template shows no primary container) has no pod template: a collector that runs in the pod
    would never run (Katib adds it with a pod webhook, which kfp-tune has none of), and Push
    reports only where the container its trial runs in is written inline (its env)."""
    name = spec.trial_template.primary_container_name if spec.trial_template is not None else ""
    api_version, kind = trial_spec.get("apiVersion"), trial_spec.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        return  # refused already, at the field
    if is_train_job(trial_spec):  # pods from its runtime: refused when prepared, so here first
        problem = pod_collector_problem(spec.collector_kind, kind, FROM_THE_TRAINING_RUNTIME)
        if problem is not None:
            errors.add(KIND_FIELD, problem)
        return
    built = run_time_containers(trial_spec)
    if built is not None:
        entries, complete = built
        shown_entry = not name or name in {runtime_name for runtime_name, _, _ in entries}
        push_where = (
            f"{shown(name)} is none of those written there ({_referenced(trial_spec)} is referenced, not written, and kfp-tune does not read it)"
            if not complete and not shown_entry else ""
        )
    elif _is_known_kind(trial_spec) or not name or primary_container(trial_spec, name) is not None:
        return  # made from the pod templates it shows: every collector has its place
    else:
        push_where = f"the trialSpec of kind {kind} shows no container named {shown(name)}"
    problem = pod_collector_problem(spec.collector_kind, kind, made_at_run_time(api_version, kind, name or ""))
    if problem is not None:
        errors.add(KIND_FIELD, problem)
    elif spec.collector_kind == CollectorKind.PUSH and push_where:
        errors.add(KIND_FIELD, unreachable_push_problem(push_where))


def _referenced(trial_spec: Mapping[str, Any]) -> str:
    """What an Argo or Tekton trialSpec refers to rather than writes: its workflowTemplateRef,
    pipelineRef or taskRef, or its tasks' taskRef."""
    spec = trial_spec.get("spec") if isinstance(trial_spec.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    for key in ("workflowTemplateRef", "pipelineRef", "taskRef"):
        if spec.get(key):
            return f"its spec.{key}"
    return "a task's taskRef"


def _check_primary_container(template: TrialTemplate, trial_spec: dict[str, Any], errors: _Errors) -> None:
    """The primary container must be one the trial's pods will have. For Argo and Tekton that is
    the name their controller gives it at run time; for a kind kfp-tune does not know, the
    template may not show it (its controller may name containers itself): a warning, and the
    launcher checks the running pod."""
    name = template.primary_container_name
    path = "spec.trialTemplate.primaryContainerName"
    built = run_time_containers(trial_spec)
    if built is not None:
        entries, complete = built
        names = sorted({runtime_name for runtime_name, _, _ in entries})
        if name in names:
            return
        if complete and not names:  # no choice to offer: say what is missing, where
            errors.add(*_no_container_at_all(trial_spec, name))
            return
        if str(trial_spec.get("kind")) == "Workflow":
            rule = "Argo names the container of a container or script template 'main' in its pod (a containerSet's containers keep their names)"
        else:
            rule = "Tekton names a step's container 'step-<step name>' ('step-unnamed-<index>' for a step with no name) and a sidecar's 'sidecar-<name>'"
        if complete:
            errors.add(path, f"{rule}; expected one of {names}, got {shown(name)}")
        else:
            log.warning("%s: %s; %r is not among those written in trialSpec (%s), and some tasks are referenced, not written inline: not checked", path, rule, name, names)
        return
    if primary_container(trial_spec, name) is not None:
        return
    if _is_known_kind(trial_spec):
        errors.add(path, f"no container named {shown(name)} in trialSpec")
    elif any(not isinstance(trial_spec.get(key), str) or not trial_spec.get(key) for key in ("apiVersion", "kind")):
        return  # refused already, at the field it lacks (trialSpec.kind: required): no kind to call unknown
    else:
        log.warning(
            "%s: no container named %r in trialSpec; kind %s (%s) is not one kfp-tune knows, and its controller may name its pods' containers "
            "itself: the launcher looks for %r in the primary pod when the trial runs",
            path, name, _kind(trial_spec), trial_spec.get("apiVersion"), name,
        )


def _no_container_at_all(trial_spec: Mapping[str, Any], name: str) -> tuple[str, str]:
    """(path, message) for an Argo or Tekton trialSpec, written whole, from which no container
    would be made: where one was expected, and what makes one."""
    where = "spec.trialTemplate.trialSpec.spec"
    wanted = f"expected at least one, for spec.trialTemplate.primaryContainerName {shown(name)}"
    if trial_spec.get("kind") == "Workflow":
        return f"{where}.templates", (
            "no template has a container, a script, or a containerSet with a named container, so the Workflow's pods have no container "
            f"at all: {wanted} (Argo names a container or script template's container 'main' in its pod)"
        )
    rule = "Tekton names a step's container 'step-<step name>'"
    spec = trial_spec.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    if trial_spec.get("kind") == "TaskRun":
        if not isinstance(spec.get("taskSpec"), Mapping):
            return f"{where}.taskSpec", (
                f"required: the task written inline (or a taskRef), without which the TaskRun has no step, so the TaskRun's pod has no "
                f"container at all: {wanted} ({rule})"
            )
        return f"{where}.taskSpec.steps", f"the task has no step (nor a named sidecar), so the TaskRun's pod has no container at all: {wanted} ({rule})"
    if not isinstance(spec.get("pipelineSpec"), Mapping):
        return f"{where}.pipelineSpec", (
            f"required: the pipeline written inline (or a pipelineRef), without which the PipelineRun has no task, so the PipelineRun's pods "
            f"have no container at all: {wanted} ({rule})"
        )
    return f"{where}.pipelineSpec.tasks", (
        f"no task written inline has a step (taskSpec.steps) or a named sidecar, so the PipelineRun's pods have no container at all: {wanted} ({rule})"
    )


def _is_known_kind(trial_spec: Mapping[str, Any]) -> bool:
    """Kinds whose pods are made from the pod templates in the manifest, container names and all."""
    group, kind = str(trial_spec.get("apiVersion", "")).rpartition("/")[0], _kind(dict(trial_spec))
    if group == "kubeflow.org":
        return kind in KUBEFLOW_JOB_KINDS
    return is_train_job(trial_spec) or (group, kind) in {("batch", "Job"), ("jobset.x-k8s.io", "JobSet")}


RunTimeContainer = tuple[str, dict[str, Any], dict[str, str]]


def run_time_containers(trial_spec: Mapping[str, Any], problems: list[FieldError] | None = None) -> tuple[list[RunTimeContainer], bool] | None:
    """For the kinds whose pods are made at run time from something other than pod templates
    (Argo Workflow; Tekton PipelineRun and TaskRun): the containers their pods will have, as
    (its name in the pod, the template entry it is made from, labels the template gives its pod),
    and whether that list is complete (not when a task or template is referenced, not written
    inline: a workflowTemplateRef, pipelineRef or taskRef that is there; a run with neither the
    spec nor the reference has no container, and is complete). None for other kinds. A list field
    that is not a list (``templates: 5``), or a pipelineSpec / taskSpec that is not a mapping, is
    read as empty, and told in ``problems`` when given."""
    group = str(trial_spec.get("apiVersion", "")).rpartition("/")[0]
    kind = trial_spec.get("kind")
    spec = trial_spec.get("spec") if isinstance(trial_spec.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    where = "spec.trialTemplate.trialSpec.spec"
    runs_at_run_time = (group, kind) == ("argoproj.io", "Workflow") or (group == "tekton.dev" and kind in ("PipelineRun", "TaskRun"))
    if runs_at_run_time and trial_spec.get("spec") is not None and not isinstance(trial_spec.get("spec"), dict) and problems is not None:
        problems.append(FieldError(where, f"expected a mapping (the {kind}'s spec), got {shown(trial_spec.get('spec'))}"))

    def items(parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = parent.get(key)
        if value is None or isinstance(value, list):
            return value or []
        if problems is not None:
            problems.append(FieldError(f"{path}.{key}", f"expected a list, got {shown(value)}"))
        return []

    out: list[RunTimeContainer] = []
    if (group, kind) == ("argoproj.io", "Workflow"):
        shared = _labels(spec.get("podMetadata"))
        for t_index, item in enumerate(items(spec, "templates", where)):
            if not isinstance(item, dict):
                continue
            labels = {**shared, **_labels(item.get("metadata"))}
            out += [("main", item[key], labels) for key in ("container", "script") if isinstance(item.get(key), dict)]
            container_set = item.get("containerSet")
            if isinstance(container_set, dict):
                containers = items(container_set, "containers", f"{where}.templates[{t_index}].containerSet")
                out += [(c["name"], c, labels) for c in containers if isinstance(c, dict) and isinstance(c.get("name"), str)]
        return out, not spec.get("workflowTemplateRef")
    if group != "tekton.dev" or kind not in ("PipelineRun", "TaskRun"):
        return None

    def mapping(parent: Mapping[str, Any], key: str, path: str, what: str) -> dict[str, Any] | None:
        value = parent.get(key)
        if value is not None and not isinstance(value, dict) and problems is not None:
            problems.append(FieldError(f"{path}.{key}", f"expected a mapping ({what}), got {shown(value)}"))
        return value if isinstance(value, dict) else None

    # referenced only where a reference is written: a run with neither has no step at all
    if kind == "TaskRun":
        tasks: list[tuple[str, Any, str, bool]] = [("", mapping(spec, "taskSpec", where, "the task"), f"{where}.taskSpec", bool(spec.get("taskRef")))]
    else:
        pipeline = mapping(spec, "pipelineSpec", where, "the pipeline")
        if pipeline is None:
            return out, not spec.get("pipelineRef")
        tasks = [
            (str(t.get("name", "")), mapping(t, "taskSpec", f"{where}.pipelineSpec.{key}[{index}]", "the task"),
             f"{where}.pipelineSpec.{key}[{index}].taskSpec", bool(t.get("taskRef")))
            for key in ("tasks", "finally")
            for index, t in enumerate(items(pipeline, key, f"{where}.pipelineSpec"))
            if isinstance(t, dict)
        ]
    complete = True
    for task, task_spec, task_path, referenced in tasks:
        if task_spec is None:
            complete = complete and not referenced
            continue
        labels = _labels(task_spec.get("metadata"))
        if task:
            labels["tekton.dev/pipelineTask"] = task
        for index, step in enumerate(items(task_spec, "steps", task_path)):
            if isinstance(step, dict):
                out.append((f"step-{step['name']}" if step.get("name") else f"step-unnamed-{index}", step, labels))
        for sidecar in items(task_spec, "sidecars", task_path):
            if isinstance(sidecar, dict) and sidecar.get("name"):
                out.append((f"sidecar-{sidecar['name']}", sidecar, labels))
    return out, complete


def _labels(metadata: Any) -> dict[str, str]:
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _check_trial_parameters(spec: ExperimentSpec, trial_spec: dict[str, Any], errors: _Errors) -> set[str]:
    template = spec.trial_template
    assert template is not None and template.trial_parameters is not None
    parameter_names = {p.name for p in spec.parameters}
    nas_values = _nas_trial_values(spec)
    used = placeholders_in(trial_spec)
    algorithm = ALGORITHMS.get(spec.algorithm.algorithm_name) if spec.algorithm is not None else None
    # render_trial puts kfp-tune's labels and the algorithm's on the trial before reading references
    trial_labels = {*labels_for("experiment", "trial", "round"), *(algorithm.trial_labels if algorithm else ())}
    names: set[str] = set()
    references: set[str] = set()
    unknown = False
    for index, tp in enumerate(template.trial_parameters):
        path = f"spec.trialTemplate.trialParameters[{index}]"
        if not tp.name or "{" in tp.name or "}" in tp.name:
            errors.add(f"{path}.name", f"required, without '{{' or '}}', got {shown(tp.name)}")
            continue
        if not tp.reference:
            errors.add(f"{path}.reference", "required: a parameter name or ${trialSpec.Name|Namespace|Kind|APIVersion|Labels[k]|Annotations[k]}")
            continue
        if tp.name in names:
            errors.add(f"{path}.name", f"{shown(tp.name)} is declared more than once")
            continue
        if tp.reference in references:
            errors.add(f"{path}.reference", f"{shown(tp.reference)} is referenced more than once")
            continue
        names.add(tp.name)
        references.add(tp.reference)
        if not is_meta_reference(tp.reference) and tp.reference not in parameter_names and tp.reference not in nas_values:
            errors.add(f"{path}.reference", _reference_problem(spec, tp.reference, parameter_names, nas_values))
            unknown = True
        elif missing := missing_metadata_key(tp.reference, trial_spec, trial_labels):
            errors.add(f"{path}.reference", missing)
        if tp.name not in used:
            errors.add(f"{path}.name", f"${{trialParameters.{tp.name}}} does not appear in spec.trialTemplate.trialSpec")
    if not unknown and spec.nas_config is None:  # a mistyped reference is the error, not the parameter it missed
        _check_every_parameter_referenced(spec, references, errors)
    return names


def _check_every_parameter_referenced(spec: ExperimentSpec, references: set[str], errors: _Errors) -> None:
    """A parameter no trialParameter references never reaches the trial, yet would be tuned and
    reported: Katib's trial controller fails every such trial's creation (applyParameters,
    errParamNotFoundInTrialParameters). Told at trialParameters, where the fix goes; a stored
    spec's parameters are checked again when read, which must not make old records damaged."""
    for index, parameter in enumerate(spec.parameters):
        if parameter.name and parameter.name not in references:
            errors.add(
                "spec.trialTemplate.trialParameters",
                f"spec.parameters[{index}].name {shown(parameter.name)} is tuned, but no trial parameter references it, so no trial "
                f"would get its value: expected an entry {{name: NAME, reference: {parameter.name}}} whose ${{trialParameters.NAME}} is used "
                "in the trial template (or the parameter removed); Katib's trial controller would fail every trial of this experiment "
                "(unable to find parameter from ParameterAssignment in TrialParameters)",
            )


def _cmaes_pinning_caveat(spec: ExperimentSpec, pinned: ParameterSpec) -> str:
    """What the pinning advice leaves out under cmaes, which needs two double or int parameters
    (a one-value discrete list is neither): where fewer than two would be left, the value goes
    into the trial template instead."""
    if spec.algorithm is None or spec.algorithm.algorithm_name != "cmaes":
        return ""
    numeric = sum(1 for p in spec.parameters if p is not pinned and p.parameter_type in ("double", "int"))
    if numeric >= 2:
        return ""
    return (
        f" (under cmaes, which searches at least two double or int parameters, {numeric} would be left: remove {shown(pinned.name)} "
        "from spec.parameters and write its value in the trial template instead)"
    )


def _nas_trial_values(spec: ExperimentSpec) -> tuple[str, ...]:
    """The values an architecture search gives each trial (enas: ``architecture``,
    ``nn_config``; darts: ``algorithm-settings``, ``search-space``, ``num-layers``), which
    trialParameters may reference when the experiment has a nasConfig. Those of its algorithm;
    of every such algorithm when its algorithm is not one (that error is reported already)."""
    if spec.nas_config is None:
        return ()
    entry = ALGORITHMS.get(spec.algorithm.algorithm_name) if spec.algorithm is not None else None
    if entry is not None and entry.searches_architectures:
        return entry.trial_values
    return tuple(dict.fromkeys(value for e in ALGORITHMS.values() for value in e.trial_values))  # enas and regularized-evolution share theirs


def _reference_problem(spec: ExperimentSpec, reference: str, parameter_names: set[str], nas_values: tuple[str, ...]) -> str:
    """Why a trialParameters reference names nothing the trial will get, saying what it may name."""
    givers = [e.name for e in ALGORITHMS.values() if reference in e.trial_values]
    give = "gives its" if len(givers) == 1 else "give their"
    meta = "a ${trialSpec.*} reference"
    if spec.nas_config is None:
        if givers:
            return (
                f"{shown(reference)} is a value {' and '.join(givers)} {give} trials, for an experiment with spec.nasConfig; "
                f"this one has spec.parameters: expected one of them ({shown(sorted(parameter_names))}) or {meta}"
            )
        return f"{shown(reference)} is not in spec.parameters ({shown(sorted(parameter_names))}) nor {meta}"
    algorithm = shown(spec.algorithm.algorithm_name) if spec.algorithm is not None and spec.algorithm.algorithm_name else "no algorithm"
    if givers:
        return f"{shown(reference)} is what {' and '.join(givers)} {give} trials, not {algorithm}: expected one of {list(nas_values)} or {meta}"
    return (
        f"{shown(reference)} is not a value the architecture search gives its trials ({algorithm}: {list(nas_values)}) nor {meta}; "
        "an experiment with spec.nasConfig has no spec.parameters"
    )


def _check_metrics_collector(spec: ExperimentSpec, errors: _Errors) -> None:
    for problem in collector_problems(spec):  # PrometheusMetric and Custom
        errors.add(problem.path, problem.message)
    mc = spec.metrics_collector_spec
    if mc is None or mc.collector is None:
        return
    path = "spec.metricsCollectorSpec"
    kind = mc.collector.kind
    custom = (mc.collector.model_extra or {}).get("customCollector")
    if kind == CollectorKind.CUSTOM and isinstance(custom, dict):  # its container joins the trial's pod: the trialSpec's rule holds for it
        for problem in unsafe_settings(custom, f"{path}.collector.customCollector"):
            errors.add(problem.path, problem.message)
    if kind == OLD_PUSH_KIND:
        errors.add(
            f"{path}.collector.kind",
            f"expected one of {list(COLLECTOR_KINDS)}, got 'None': Katib's name before v0.18 for Push (the trial reports its metrics itself), "
            "which Katib since v0.18 refuses: use kind Push, with the trial calling kfp_tune.report_metrics, or StdOut if it prints them",
        )
        return
    if kind not in COLLECTOR_KINDS:
        errors.add(f"{path}.collector.kind", f"expected one of {list(COLLECTOR_KINDS)}, got {shown(kind)}")
        return
    fsp = mc.source.file_system_path if mc.source else None
    if kind == "File":
        if fsp is None or fsp.kind != "File" or not (fsp.path or "").startswith("/"):
            errors.add(f"{path}.source.fileSystemPath.path", "an absolute path of kind File is required for the File collector")
        if fsp is not None and fsp.format not in ("TEXT", "JSON"):
            errors.add(f"{path}.source.fileSystemPath.format", f"expected TEXT or JSON, got {shown(fsp.format)}")
        if fsp is not None and fsp.format == "JSON" and mc.source and mc.source.filter is not None:
            errors.add(f"{path}.source.filter", "must be omitted when the file format is JSON")
    elif kind == "TensorFlowEvent":
        if fsp is None or fsp.kind != "Directory" or not (fsp.path or "").startswith("/"):
            errors.add(f"{path}.source.fileSystemPath.path", "an absolute path of kind Directory is required for the TensorFlowEvent collector")
        if fsp is not None and fsp.format:
            errors.add(f"{path}.source.fileSystemPath.format", "must be empty for the TensorFlowEvent collector")
    if mc.source and mc.source.filter and kind != CollectorKind.PUSH:  # Push reads no output: its filter is unused, unchecked as in Katib
        for index, pattern in enumerate(mc.source.filter.metrics_format):
            where = f"{path}.source.filter.metricsFormat[{index}]"
            try:
                compiled = compile_pattern(pattern)
            except PatternError as exc:
                errors.add(where, f"not a regular expression Katib can run: {exc}" if exc.katib_refuses else str(exc))
                continue
            if compiled.groups < 2:
                errors.add(where, "needs two groups: the metric name, then its value")
            elif not KATIB_TWO_GROUPS.search(pattern):
                errors.add(where, "needs two groups one after the other, '(name)...(value)', as Katib's webhook reads the text (.*\\(.*\\).*\\(.*\\).*), not one inside the other")


def template_containers(trial_spec: Any, path: str = "spec.trialTemplate.trialSpec") -> Iterator[tuple[str, Any]]:
    """(path, item) for every container of a trial template, as validation walks them
    (:func:`_containers`): every replica's, every initContainer, Trainer's TrainJob's ``spec.trainer``."""
    return _containers(trial_spec, path)


def _containers(tree: Any, path: str, kind: str = "") -> Iterator[tuple[str, Any]]:
    """(path, item) for every item of a ``containers`` or ``initContainers`` list in a
    manifest, Trainer's TrainJob's ``spec.trainer`` (a container in all but name; :func:`is_train_job`), an Argo template's
    ``container`` and ``script`` and a Tekton task's ``steps`` and ``sidecars`` (containers too)."""
    if isinstance(tree, dict):
        if path.endswith(".trialSpec"):
            kind = _kind(tree)
            if is_train_job(tree):
                trainer = (tree.get("spec") or {}).get("trainer") if isinstance(tree.get("spec"), dict) else None
                if trainer is not None:
                    yield f"{path}.spec.trainer", trainer
        for key, value in tree.items():
            here = f"{path}.{key}"
            container_lists = ("containers", "initContainers", "steps", "sidecars") if kind in ("PipelineRun", "TaskRun") else ("containers", "initContainers")
            if kind == "Workflow" and key in ("container", "script") and isinstance(value, dict) and ".templates[" in path:
                yield here, value
            elif key in container_lists and isinstance(value, list):
                for index, item in enumerate(value):
                    yield f"{here}[{index}]", item
            else:
                yield from _containers(value, here, kind)
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            yield from _containers(item, f"{path}[{index}]", kind)


def _check_container(container: Any, path: str, errors: _Errors) -> None:
    """The fields of a Kubernetes container a trial is run from, with the types the API server
    requires: ``command`` and ``args`` are lists of strings (``command: python train.py``, one
    string, is refused by kubectl), ``env`` a list of name/value strings."""
    if not isinstance(container, dict):
        errors.add(path, f"expected a container (a mapping), got {shown(container)}")
        return
    for key in ("name", "image", "workingDir"):
        if key in container and not isinstance(container[key], str):
            errors.add(f"{path}.{key}", f"expected a string, got {shown(container[key])}")
    for key in ("command", "args"):
        value = container.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            example = f" such as {shown(str(value).split())}" if isinstance(value, str) else ""
            errors.add(f"{path}.{key}", f"expected a list of strings{example} (a Kubernetes container's {key} is []string), got {shown(value)}")
            continue
        for index, item in enumerate(value):
            if not isinstance(item, str):
                errors.add(f"{path}.{key}[{index}]", f"expected a string (quote it in YAML), got {shown(item)}")
    env = container.get("env")
    if env is None:
        return
    if not isinstance(env, list):
        names = f" of {shown(sorted(map(str, env)))}" if isinstance(env, dict) else ""  # the names only: a value may be a credential
        errors.add(f"{path}.env", f"expected a list of {{name, value}} entries, got {yaml_type_name(env)}{names}")
        return
    for index, item in enumerate(env):
        where = f"{path}.env[{index}]"
        if not isinstance(item, dict):
            errors.add(where, f"expected a mapping with name and value, got {yaml_type_name(item)}")  # not the item: NAME=secret
            continue
        if not isinstance(item.get("name"), str) or not item.get("name"):
            errors.add(f"{where}.name", f"required: a string, got {shown(item.get('name'))}")
        elif (problem := env_name_problem(item["name"])) is not None:
            errors.add(f"{where}.name", problem)
        if item.get("value") is not None and not isinstance(item["value"], str):
            # its type, never the value: an env value is often a credential (Kubernetes' own error names the type too)
            errors.add(f"{where}.value", f"expected a string (quote it in YAML), got {yaml_type_name(item['value'])}")


def yaml_type_name(value: object) -> str:
    """What a YAML value is, in YAML's words, without the value (``a number``, ``a boolean``)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def env_name_problem(name: str) -> str | None:
    """What is wrong with a container's env name, or None: the Kubernetes API server takes
    printable ASCII other than '=' (validateEnvVarName with RelaxedEnvironmentVariableValidation,
    on by default since 1.32), and no process environment can hold a name with '=' in it. A NUL
    is left to :func:`nul_characters`, which tells it for every string."""
    if "\0" in name or all(" " <= char <= "~" and char != "=" for char in name):
        return None
    return f"expected printable ASCII characters other than '=' (the Kubernetes API server's rule for an env name), got {shown(name)}"


def _check_unique(values: list[str], path: str, what: str, errors: _Errors, bare: bool = False) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            where = f"{path}[{index}]" if bare else f"{path}[{index}].name"
            errors.add(where, f"{what} {shown(value)} is given more than once")
        seen.add(value)


def _kind(trial_spec: dict[str, Any] | None) -> str:
    return str((trial_spec or {}).get("kind", ""))

