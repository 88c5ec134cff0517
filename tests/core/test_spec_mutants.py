"""Katib's Experiment model at its edges (``kfp_tune.core.spec``): the defaults Katib's mutating
webhook applies, the numbers YAML gives, what a structural error names, and the Katib form
:meth:`to_dict` writes.

Expected defaults are Katib's own, as its v1beta1 sources state them
(``experiment_defaults.go``, ``constants.go``, ``common_types.go``), written out here rather
than read from kfp-tune's constants."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import SpecError, load_experiment
from kfp_tune.core.spec import Experiment, ExperimentSpec, TrialTemplate, apply_katib_defaults, parse_experiment

# Katib v1beta1 (pkg/apis/controller/experiments/v1beta1/constants.go, common/v1beta1/common_types.go)
KATIB_TRAINJOB_SUCCESS = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
KATIB_TRAINJOB_FAILURE = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
KATIB_TRAINJOB_PRIMARY_POD_LABELS = {"jobset.sigs.k8s.io/replicatedjob-name": "node", "batch.kubernetes.io/job-completion-index": "0"}
KATIB_METRICS_FILE = "/var/log/katib/metrics.log"
KATIB_TFEVENT_DIR = "/var/log/katib/tfevent/"


def _defaulted(spec: dict[str, Any]) -> Experiment:
    return apply_katib_defaults(parse_experiment({"metadata": {"name": "e"}, "spec": spec}))


def _errors(doc: Any) -> dict[str, str]:
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    return {e.path: e.message for e in info.value.errors}


# --- apply_katib_defaults ------------------------------------------------------------------------


def test_defaulting_returns_a_new_experiment_and_leaves_the_given_one_as_it_was() -> None:
    given = parse_experiment({"metadata": {"name": "e"}, "spec": {
        "objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
        "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}}],
    }})
    before = given.model_dump()
    defaulted = apply_katib_defaults(given)
    assert given.model_dump() == before
    assert given.spec.resume_policy == "" and given.spec.parallel_trial_count is None
    assert defaulted.spec.resume_policy == "Never" and defaulted.spec.parallel_trial_count == 3


def test_metrics_of_an_objective_without_a_type_are_read_as_their_latest_value() -> None:
    """experiment_defaults.go: a type other than minimize/maximize gets ExtractByLatest."""
    objective = _defaulted({"objective": {"objectiveMetricName": "loss", "additionalMetricNames": ["accuracy"]}}).spec.objective
    assert objective is not None and objective.metric_strategies is not None
    assert {(s.name, s.value) for s in objective.metric_strategies} == {("loss", "latest"), ("accuracy", "latest")}


def test_a_tensorflow_event_collector_reads_katibs_event_directory_by_default() -> None:
    mc = _defaulted({"metricsCollectorSpec": {"collector": {"kind": "TensorFlowEvent"}}}).spec.metrics_collector_spec
    assert mc is not None and mc.source is not None and mc.source.file_system_path is not None
    fsp = mc.source.file_system_path
    assert (fsp.kind, fsp.path, fsp.format) == ("Directory", KATIB_TFEVENT_DIR, None)


def test_a_tensorflow_event_collectors_given_directory_is_kept() -> None:
    given = {"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"kind": "Directory", "path": "/train/events"}}}
    mc = _defaulted({"metricsCollectorSpec": given}).spec.metrics_collector_spec
    assert mc is not None and mc.source is not None and mc.source.file_system_path is not None
    assert (mc.source.file_system_path.kind, mc.source.file_system_path.path) == ("Directory", "/train/events")


def test_a_file_collector_reads_katibs_metrics_file_as_text_by_default_and_keeps_what_is_given() -> None:
    mc = _defaulted({"metricsCollectorSpec": {"collector": {"kind": "File"}}}).spec.metrics_collector_spec
    assert mc is not None and mc.source is not None and mc.source.file_system_path is not None
    fsp = mc.source.file_system_path
    assert (fsp.kind, fsp.path, fsp.format) == ("File", KATIB_METRICS_FILE, "TEXT")
    given = {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"kind": "File", "path": "/out/m.json", "format": "JSON"}}}
    mc = _defaulted({"metricsCollectorSpec": given}).spec.metrics_collector_spec
    assert mc is not None and mc.source is not None and mc.source.file_system_path is not None
    fsp = mc.source.file_system_path
    assert (fsp.kind, fsp.path, fsp.format) == ("File", "/out/m.json", "JSON")


def _trainjob(**template: Any) -> dict[str, Any]:
    trial_spec = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob",
                  "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "trainer:2"}}}
    return {"trialTemplate": {"trialSpec": trial_spec, **template}}


def test_a_trainjob_gets_katibs_trainjob_conditions_and_primary_pod_labels() -> None:
    template = _defaulted(_trainjob()).spec.trial_template
    assert template is not None
    assert template.success_condition == KATIB_TRAINJOB_SUCCESS
    assert template.failure_condition == KATIB_TRAINJOB_FAILURE
    assert template.primary_pod_labels == KATIB_TRAINJOB_PRIMARY_POD_LABELS


def test_a_trainjobs_given_conditions_and_labels_are_kept() -> None:
    given = {"successCondition": "status.done", "failureCondition": "status.broken", "primaryPodLabels": {"role": "trainer"}}
    template = _defaulted(_trainjob(**given)).spec.trial_template
    assert template is not None
    assert (template.success_condition, template.failure_condition) == ("status.done", "status.broken")
    assert template.primary_pod_labels == {"role": "trainer"}


@pytest.mark.parametrize("kind", [{"name": "Job"}, ["Job"]])
def test_a_trial_spec_kind_that_is_not_a_string_is_reported_not_a_crash(kind: Any) -> None:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"]["kind"] = kind
    errors = _errors(doc)
    assert "string" in errors["spec.trialTemplate.trialSpec.kind"]


# --- numbers as YAML gives them ------------------------------------------------------------------


def test_feasible_space_floats_keep_their_digits_as_katibs_strings() -> None:
    spec = parse_experiment({"spec": {"parameters": [
        {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": 0.001, "max": 0.5, "step": 0.001}},
        {"name": "m", "parameterType": "discrete", "feasibleSpace": {"list": [0.9, 0.99, 1]}},
    ]}}).spec
    lr, m = spec.parameters
    assert (lr.feasible_space.min, lr.feasible_space.max, lr.feasible_space.step) == ("0.001", "0.5", "0.001")
    assert m.feasible_space.list == ["0.9", "0.99", "1"]


def test_a_count_written_as_a_whole_float_is_that_integer_and_a_fraction_is_refused() -> None:
    """YAML ``maxTrialCount: 6.0`` is the number 6 to Kubernetes (JSON has one number type)."""
    spec = parse_experiment({"spec": {"maxTrialCount": 6.0, "parallelTrialCount": 2.0}}).spec
    assert spec.max_trial_count == 6 and isinstance(spec.max_trial_count, int)
    assert spec.parallel_trial_count == 2 and isinstance(spec.parallel_trial_count, int)
    errors = _errors(quadratic_experiment(**{"spec.maxTrialCount": 2.5}))
    assert "integer" in errors["spec.maxTrialCount"] and "2.5" in errors["spec.maxTrialCount"]


# --- what a structural error names ---------------------------------------------------------------


@pytest.mark.parametrize(("data", "type_name"), [([{"kind": "Experiment"}], "list"), ("kind: Experiment", "str"), (7, "int")])
def test_a_document_that_is_not_a_mapping_is_refused_naming_what_it_is(data: Any, type_name: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_experiment(data)
    [error] = info.value.errors
    assert error.path == "(root)"
    assert "mapping" in error.message and type_name in error.message


def test_a_required_field_left_out_is_named_as_required() -> None:
    doc = quadratic_experiment(**{"spec.algorithm.algorithmSettings": [{"value": "3"}]})
    errors = _errors(doc)
    assert errors["spec.algorithm.algorithmSettings[0].name"] == "required"


# --- to_dict: the Katib form ---------------------------------------------------------------------


def test_to_dict_writes_katibs_camel_case_without_unset_fields() -> None:
    katib = load_experiment(quadratic_experiment()).to_dict()
    assert katib["apiVersion"] == "kubeflow.org/v1beta1"
    assert {"parallelTrialCount", "maxTrialCount", "trialTemplate", "metricsCollectorSpec"} <= set(katib["spec"])
    assert "primaryContainerName" in katib["spec"]["trialTemplate"]
    assert "goal" not in katib["spec"]["objective"]  # not given, so not written as null

    def nulls(tree: Any, path: str = "") -> list[str]:
        if isinstance(tree, dict):
            return [p for k, v in tree.items() for p in nulls(v, f"{path}.{k}")]
        if isinstance(tree, list):
            return [p for i, v in enumerate(tree) for p in nulls(v, f"{path}[{i}]")]
        return [path] if tree is None else []

    assert nulls(katib) == []


def test_to_dict_of_an_experiment_built_in_python_is_plain_json_data() -> None:
    """A Python user may give a trial spec's lists as tuples; the Katib form (what is stored and
    sent to the API server) holds JSON lists, equal to the same experiment read from YAML."""
    doc = quadratic_experiment()
    trial_spec = doc["spec"]["trialTemplate"]["trialSpec"]
    container = trial_spec["spec"]["template"]["spec"]["containers"][0]
    python_spec = {**trial_spec, "spec": {"template": {"spec": {**trial_spec["spec"]["template"]["spec"], "containers": (
        {**container, "command": tuple(container["command"]), "args": tuple(container["args"])},
    )}}}}
    built = Experiment(spec=ExperimentSpec(trial_template=TrialTemplate(primary_container_name="main", trial_spec=python_spec)))
    katib = built.to_dict()
    assert json.loads(json.dumps(katib)) == katib
    assert katib["spec"]["trialTemplate"]["trialSpec"] == trial_spec
