"""Katib Experiment YAML: loads as is, gets Katib's defaults, and is validated with paths."""

from __future__ import annotations

import pytest
import yaml

from conftest import DELETE, REPO, load_katib_example, quadratic_experiment
from kfp_tune import SpecError, load_experiment, search
from kfp_tune.core.spec import (
    JOB_SUCCESS_CONDITION,
    KUBEFLOW_JOB_SUCCESS_CONDITION,
    AlgorithmSpec,
    CollectorSpec,
    Experiment,
    ExperimentSpec,
    MetricsCollectorSpec,
    ObjectiveSpec,
    ObjectMeta,
    TrialParameterSpec,
    TrialTemplate,
)


def test_katib_defaults_are_applied():
    doc = load_katib_example("hp-tuning_random.yaml")
    del doc["spec"]["parallelTrialCount"]
    experiment = load_experiment(doc)
    spec = experiment.spec
    assert spec.parallel_trial_count == 3
    assert spec.resume_policy == "Never"
    assert [(m.name, m.value) for m in spec.objective.metric_strategies] == [("loss", "min")]
    assert spec.trial_template.success_condition == JOB_SUCCESS_CONDITION
    assert spec.metrics_collector_spec.collector.kind == "StdOut"
    assert all(p.feasible_space.distribution == "uniform" for p in spec.parameters)


def test_defaults_for_kubeflow_kinds_and_file_collector():
    pytorch = load_experiment(load_katib_example("kubeflow-training-operator_pytorchjob-mnist.yaml"))
    assert pytorch.spec.trial_template.success_condition == KUBEFLOW_JOB_SUCCESS_CONDITION
    assert pytorch.spec.trial_template.primary_pod_labels == {"training.kubeflow.org/job-role": "master"}
    file_mc = load_experiment(load_katib_example("metrics-collector_file-metrics-collector.yaml"))
    assert file_mc.spec.metrics_collector_spec.source.file_system_path.format == "TEXT"
    # additional metrics take the objective type's strategy, as in Katib
    assert {(m.name, m.value) for m in file_mc.spec.objective.metric_strategies} == {("accuracy", "max"), ("loss", "max")}


def test_retain_defaults_to_false_and_is_written_out_false():
    """Katib's ``retain`` is a Go bool: left out it is false (the trial's resource is deleted
    when it ends), and the stored form says so."""
    assert TrialTemplate().retain is False
    experiment = load_experiment(quadratic_experiment())
    assert experiment.spec.trial_template.retain is False
    assert experiment.to_dict()["spec"]["trialTemplate"]["retain"] is False


def test_a_metrics_collector_spec_without_a_collector_is_stdout():
    assert ExperimentSpec().collector_kind == "StdOut"
    assert ExperimentSpec(metrics_collector_spec=MetricsCollectorSpec()).collector_kind == "StdOut"
    assert ExperimentSpec(metrics_collector_spec=MetricsCollectorSpec(collector=CollectorSpec(kind="File"))).collector_kind == "File"


def test_a_documents_status_is_kept_but_never_written_out():
    """``kubectl get -o yaml`` gives ``status``: read and kept on the model, never part of the
    spec's Katib form (which is stored and compared when an experiment resumes)."""
    doc = quadratic_experiment()
    doc["status"] = {"conditions": [{"type": "Running", "status": "True"}]}
    experiment = load_experiment(doc)
    assert experiment.status == doc["status"]
    assert "status" not in experiment.to_dict() and "status" not in experiment.model_dump()


def test_an_empty_filter_is_no_filter_and_a_missing_feasible_space_is_named_by_its_fields():
    """``source: {filter: {}}`` is accepted (Katib's metricsFormat is optional: the default
    format); a parameter with no feasibleSpace gets kfp-tune's message per field it lacks, not a
    bare 'required' on feasibleSpace."""
    doc = quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "StdOut"}, "source": {"filter": {}}}})
    assert load_experiment(doc).spec.metrics_collector_spec.source.filter.metrics_format == []
    doc = quadratic_experiment()
    del doc["spec"]["parameters"][0]["feasibleSpace"]
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    assert [str(e) for e in info.value.errors] == [
        "spec.parameters[0].feasibleSpace.min: required for parameterType double",
        "spec.parameters[0].feasibleSpace.max: required for parameterType double",
    ]


def test_mpijob_primary_pod_defaults_follow_the_operator_that_serves_it():
    """The training operator's v1 MPIJob labels its launcher ``job-role: master`` (Katib's
    default); mpi-operator v2 (``kubeflow.org/v2beta1``) labels it ``launcher``. A label the
    template gives is kept either way."""
    def mpijob(api_version: str, labels: dict | None = None) -> dict:
        doc = quadratic_experiment()
        template = doc["spec"]["trialTemplate"]
        container = template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
        replica = {"replicas": 1, "template": {"spec": {"containers": [container]}}}
        template["trialSpec"] = {"apiVersion": api_version, "kind": "MPIJob",
                                 "spec": {"mpiReplicaSpecs": {"Launcher": replica, "Worker": replica}}}
        if labels is not None:
            template["primaryPodLabels"] = labels
        return doc

    def labels_of(doc: dict) -> dict | None:
        return load_experiment(doc).spec.trial_template.primary_pod_labels

    assert labels_of(mpijob("kubeflow.org/v1")) == {"training.kubeflow.org/job-role": "master"}
    assert labels_of(mpijob("kubeflow.org/v2beta1")) == {"training.kubeflow.org/job-role": "launcher"}
    assert labels_of(mpijob("kubeflow.org/v2beta1", {"role": "mine"})) == {"role": "mine"}


def test_given_strategies_are_kept():
    doc = quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": "accuracy", "value": "latest"}]})
    strategies = {m.name: m.value for m in load_experiment(doc).spec.objective.metric_strategies}
    assert strategies == {"accuracy": "latest", "loss": "min"}


def test_yaml_text_and_dict_and_python_build_the_same_experiment():
    doc = quadratic_experiment()
    from_dict = load_experiment(doc)
    from_text = load_experiment(yaml.safe_dump(doc))
    built = Experiment(
        metadata=ObjectMeta(name="quad"),
        spec=ExperimentSpec(
            objective=ObjectiveSpec(type="minimize", objective_metric_name="loss", additional_metric_names=["accuracy"]),
            algorithm=AlgorithmSpec.model_validate({"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "3"}]}),
            parallel_trial_count=2,
            max_trial_count=6,
            max_failed_trial_count=2,
            parameters=search.to_parameters({"x": search.double(0, 1), "y": search.double(0, 1)}),
            trial_template=TrialTemplate(
                primary_container_name="main",
                trial_parameters=[TrialParameterSpec(name="x", reference="x"), TrialParameterSpec(name="y", reference="y")],
                trial_spec=doc["spec"]["trialTemplate"]["trialSpec"],
            ),
        ),
    )
    assert from_dict.to_dict() == from_text.to_dict() == load_experiment(built).to_dict()


def test_numbers_may_be_yaml_numbers():
    doc = quadratic_experiment(**{"spec.parameters": [{"name": "x", "parameterType": "int", "feasibleSpace": {"min": 1, "max": 5}}]})
    doc["spec"]["trialTemplate"]["trialParameters"] = [{"name": "x", "reference": "x"}]
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"] = ["x=${trialParameters.x}"]
    assert load_experiment(doc).spec.parameters[0].feasible_space.min == "1"


def _errors(doc) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    return [f"{e.path}: {e.message}" for e in info.value.errors]


# (overrides, the path that must be named, a phrase the message must contain)
INVALID = [
    ({"metadata.name": "Bad_Name"}, "metadata.name", "lower case"),
    ({"metadata.name": ""}, "metadata.name", "required"),
    ({"spec.objective.type": "maximise"}, "spec.objective.type", "'minimize' or 'maximize'"),
    ({"spec.objective.objectiveMetricName": ""}, "spec.objective.objectiveMetricName", "required"),
    ({"spec.objective.additionalMetricNames": ["loss"]}, "spec.objective.additionalMetricNames", "must not contain"),
    ({"spec.objective.metricStrategies": [{"name": "loss", "value": "avg"}]}, "spec.objective.metricStrategies[0].value", "min"),
    ({"spec.objective": DELETE}, "spec.objective", "required"),
    ({"spec.algorithm.algorithmName": "annealing"}, "spec.algorithm.algorithmName", "unknown algorithm"),
    ({"spec.algorithm.algorithmSettings": [{"name": "random_state", "value": "-1"}]}, "spec.algorithm.algorithmSettings[0].value", ">= 0"),
    ({"spec.algorithm.algorithmSettings": [{"name": "seed", "value": "1"}]}, "spec.algorithm.algorithmSettings[0].name", "unknown setting"),
    ({"spec.algorithm": {"algorithmName": "bayesianoptimization", "algorithmSettings": [{"name": "acq_func", "value": "UCB1"}]}}, "spec.algorithm.algorithmSettings[0].value", "gp_hedge"),
    ({"spec.algorithm": {"algorithmName": "grid"}}, "spec.parameters[0].feasibleSpace.step", "grid needs a step"),
    ({"spec.algorithm": {"algorithmName": "cmaes"}, "spec.parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}]}, "spec.parameters", "at least two"),
    ({"spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [{"name": "resource_name", "value": "epochs"}]}}, "spec.algorithm.algorithmSettings", "not a parameter"),
    ({"spec.earlyStopping": {"algorithmName": "meanstop"}}, "spec.earlyStopping.algorithmName", "unknown early stopping"),
    ({"spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "start_step", "value": "0"}]}}, "spec.earlyStopping.algorithmSettings[0].value", ">= 1"),
    ({"spec.maxTrialCount": 0}, "spec.maxTrialCount", "more than 0"),
    ({"spec.parallelTrialCount": 0}, "spec.parallelTrialCount", "more than 0"),
    ({"spec.maxFailedTrialCount": -1}, "spec.maxFailedTrialCount", "0 or more"),
    ({"spec.maxFailedTrialCount": 9}, "spec.maxFailedTrialCount", "at most spec.maxTrialCount"),
    ({"spec.parallelTrialCount": 9}, "spec.parallelTrialCount", "at most spec.maxTrialCount"),
    ({"spec.resumePolicy": "Sometimes"}, "spec.resumePolicy", "Never"),
    ({"spec.parameters.0.feasibleSpace": {"min": "1", "max": "0"}}, "spec.parameters[0].feasibleSpace.min", "min < max"),
    ({"spec.parameters.0.feasibleSpace": {"min": "0.5", "max": "0.5"}}, "spec.parameters[0].feasibleSpace.min", "min < max"),
    ({"spec.parameters.0.feasibleSpace": {"min": "abc", "max": "1"}}, "spec.parameters[0].feasibleSpace.min", "finite number"),
    ({"spec.parameters.0.feasibleSpace": {"min": "0", "max": "inf"}}, "spec.parameters[0].feasibleSpace.max", "finite number"),
    ({"spec.parameters.0.feasibleSpace": {"max": "1"}}, "spec.parameters[0].feasibleSpace.min", "required"),
    ({"spec.parameters.0.feasibleSpace": {"min": "0", "max": "1", "distribution": "logUniform"}}, "spec.parameters[0].feasibleSpace.min", "min > 0"),
    ({"spec.parameters.0.feasibleSpace": {"min": "0", "max": "1", "distribution": "gaussian"}}, "spec.parameters[0].feasibleSpace.distribution", "logUniform"),
    ({"spec.parameters.0.feasibleSpace": {"min": "0", "max": "1", "step": "0"}}, "spec.parameters[0].feasibleSpace.step", "> 0"),
    ({"spec.parameters.0.feasibleSpace": {"min": "0", "max": "1", "step": "2"}}, "spec.parameters[0].feasibleSpace.step", "no larger"),
    ({"spec.parameters.0.feasibleSpace": {"min": "0", "max": "1", "list": ["1"]}}, "spec.parameters[0].feasibleSpace.list", "not allowed"),
    ({"spec.parameters.0.parameterType": "float"}, "spec.parameters[0].parameterType", "double"),
    ({"spec.parameters.0": {"name": "x", "parameterType": "int", "feasibleSpace": {"min": "0.5", "max": "3"}}}, "spec.parameters[0].feasibleSpace.min", "integer"),
    ({"spec.parameters.0": {"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": []}}}, "spec.parameters[0].feasibleSpace.list", "non-empty"),
    ({"spec.parameters.0": {"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "a"]}}}, "spec.parameters[0].feasibleSpace.list[1]", "more than once"),
    ({"spec.parameters.0": {"name": "x", "parameterType": "discrete", "feasibleSpace": {"list": ["1", "two"]}}}, "spec.parameters[0].feasibleSpace.list[1]", "numbers"),
    ({"spec.parameters.0": {"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["a"], "min": "1"}}}, "spec.parameters[0].feasibleSpace.min", "not allowed"),
    ({"spec.parameters.1.name": "x"}, "spec.parameters[1].name", "more than once"),
    ({"spec.parameters": []}, "spec.parameters", "at least one"),
    ({"spec.trialTemplate.primaryContainerName": "trainer"}, "spec.trialTemplate.primaryContainerName", "no container named"),
    ({"spec.trialTemplate.trialParameters": [{"name": "x", "reference": "x"}]}, "spec.trialTemplate.trialSpec", "${trialParameters.y} is used but not declared"),
    ({"spec.trialTemplate.trialParameters.1": {"name": "y", "reference": "z"}}, "spec.trialTemplate.trialParameters[1].reference", "not in spec.parameters"),
    ({"spec.trialTemplate.trialParameters.1": {"name": "x", "reference": "y"}}, "spec.trialTemplate.trialParameters[1].name", "more than once"),
    ({"spec.trialTemplate.trialParameters.1": {"name": "y", "reference": ""}}, "spec.trialTemplate.trialParameters[1].reference", "required"),
    ({"spec.trialTemplate.trialSpec.metadata": {"name": "fixed"}}, "spec.trialTemplate.trialSpec.metadata.name", "must be omitted"),
    ({"spec.trialTemplate.trialSpec.kind": ""}, "spec.trialTemplate.trialSpec.kind", "required"),
    ({"spec.trialTemplate.trialSpec.apiVersion": "example.com/v1", "spec.trialTemplate.trialSpec.kind": "Custom"}, "spec.trialTemplate.successCondition", "no default"),
    ({"spec.trialTemplate": DELETE}, "spec.trialTemplate", "required"),
    ({"spec.metricsCollectorSpec": {"collector": {"kind": "Carrier"}}}, "spec.metricsCollectorSpec.collector.kind", "StdOut"),
    ({"spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "relative.log", "kind": "File"}}}}, "spec.metricsCollectorSpec.source.fileSystemPath.path", "absolute"),
    ({"spec.metricsCollectorSpec": {"collector": {"kind": "StdOut"}, "source": {"filter": {"metricsFormat": ["(unclosed"]}}}}, "spec.metricsCollectorSpec.source.filter.metricsFormat[0]", "regular expression"),
    ({"spec.metricsCollectorSpec": {"collector": {"kind": "StdOut"}, "source": {"filter": {"metricsFormat": ["(\\w+)=\\d+"]}}}}, "spec.metricsCollectorSpec.source.filter.metricsFormat[0]", "two groups"),
    ({"spec.nasConfig": {"graphConfig": {}}}, "spec.nasConfig", "only one of"),
    ({"spec.objective.typo": 1}, "spec.objective.typo", "unknown field"),
    ({"spec.maxTrialCount": "many"}, "spec.maxTrialCount", "integer"),
    ({"apiVersion": "kubeflow.org/v1"}, "apiVersion", "kubeflow.org/v1beta1"),
]


@pytest.mark.parametrize("overrides,path,phrase", INVALID, ids=[f"{i}-{c[1]}" for i, c in enumerate(INVALID)])
def test_invalid_experiment_names_the_field(overrides, path, phrase):
    errors = _errors(quadratic_experiment(**overrides))
    matching = [e for e in errors if e.startswith(path + ":")]
    assert matching, f"no error at {path}; got {errors}"
    assert any(phrase in e for e in matching), f"{phrase!r} not in {matching}"


def test_every_error_is_reported_at_once():
    doc = quadratic_experiment(
        **{
            "metadata.name": "Bad",
            "spec.maxTrialCount": 1,
            "spec.parameters.0.feasibleSpace": {"min": "2", "max": "1"},
            "spec.algorithm.algorithmSettings": [{"name": "random_state", "value": "x"}],
            "spec.trialTemplate.primaryContainerName": "nope",
        }
    )
    paths = {e.split(":")[0] for e in _errors(doc)}
    assert {
        "metadata.name",
        "spec.parallelTrialCount",
        "spec.maxFailedTrialCount",
        "spec.parameters[0].feasibleSpace.min",
        "spec.algorithm.algorithmSettings[0].value",
        "spec.trialTemplate.primaryContainerName",
    } <= paths


def test_hyperband_resource_parameter_may_have_min_equal_max():
    """Katib's own hyperband example sets num-epochs to min = max = 1 (hyperband sets it)."""
    doc = load_katib_example("hp-tuning_hyperband.yaml")
    load_experiment(doc)
    doc["spec"]["algorithm"] = {"algorithmName": "random"}
    assert any("num-epochs" in e or "parameters[2]" in e for e in _errors(doc))


def test_a_mistyped_hyperband_resource_name_is_named_in_the_refusal_of_min_equal_max():
    """QA's hbedge-bad-resource.yaml: resource_name 'epochs' for Katib's example's num-epochs (1..1)
    was followed by a bare 'expected min < max', valid only for hyperband's resource."""
    doc = load_katib_example("hp-tuning_hyperband.yaml")
    for setting in doc["spec"]["algorithm"]["algorithmSettings"]:
        if setting["name"] == "resource_name":
            setting["value"] = "epochs"
    assert (
        "spec.parameters[2].feasibleSpace.min: expected min < max, got min 1 and max 1 (hyperband's resource may have min = max, but "
        "resource_name 'epochs' names no parameter)"
    ) in _errors(doc)


def test_unreadable_inputs_are_spec_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [unclosed\n")
    assert _errors(bad)[0].startswith("(file): not valid YAML")
    two = tmp_path / "two.yaml"
    two.write_text("a: 1\n---\nb: 2\n")
    assert "exactly one" in _errors(two)[0]
    assert "cannot read" in _errors(tmp_path / "missing.yaml")[0]
    assert "expected a mapping" in _errors("- not\n- a mapping\n")[0]
    for value, kind in ((["not", "a", "mapping"], "list"), (b"metadata: {}", "bytes"), (42, "int")):
        with pytest.raises(TypeError, match=rf"expected an experiment as a YAML file path, YAML text, a dict or a model with to_dict\(\).*got {kind}$"):
            load_experiment(value)  # it was read as the YAML of its str(): a list's text was "not a mapping", an int's a SpecError


def test_a_katib_sdk_model_loads_as_the_document_its_client_sends():
    """kubeflow.katib's V1beta1Experiment (OpenAPI models): unset fields left out, attribute
    names as JSON names, a date as text, as Katib's ApiClient sends it. It was parsed as the YAML
    of its str(), 15 errors."""
    import datetime

    import katib_models

    model = katib_models.experiment("from-model", created=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
    loaded = load_experiment(model)
    assert loaded == load_experiment(quadratic_experiment(**{"metadata.name": "from-model", "metadata.namespace": "kubeflow-user",
                                                              "metadata.creationTimestamp": "2026-01-02T03:04:05+00:00",
                                                              "spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": DELETE}))
    assert loaded.spec.max_failed_trial_count is None and loaded.spec.parameters[0].feasible_space.min == "0"

    class Document:
        def to_dict(self):
            return quadratic_experiment()

    assert load_experiment(Document()).name == "quad"  # another model's to_dict() is the document
    Document.to_dict = lambda self: ["not", "a", "dict"]  # type: ignore[method-assign]
    with pytest.raises(TypeError, match=r"Document\.to_dict\(\) gave list; expected the experiment as a dict"):
        load_experiment(Document())


def test_search_space_hash_ignores_budget_but_not_space():
    base = load_experiment(quadratic_experiment())
    bigger = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 60, "spec.objective.goal": 0.01}))
    moved = load_experiment(quadratic_experiment(**{"spec.parameters.0.feasibleSpace": {"min": "0", "max": "2"}}))
    flipped = load_experiment(quadratic_experiment(**{"spec.objective.type": "maximize"}))
    assert base.search_space_hash() == bigger.search_space_hash()
    assert base.search_space_hash() != moved.search_space_hash()
    assert base.search_space_hash() != flipped.search_space_hash()


EXAMPLES = sorted(REPO.glob("images/*/experiment.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_our_examples_are_valid_and_runnable(path):
    from kfp_tune.steps import runnable_problems

    experiment = load_experiment(path)
    assert runnable_problems(experiment) == []
    assert (path.parent / "Dockerfile").is_file() and (path.parent / "train.py").is_file()


def test_examples_exist():
    assert {p.parent.name for p in EXAMPLES} >= {"sklearn-digits", "pytorch-cnn"}
