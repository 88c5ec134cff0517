"""What a notebook ported from Katib's SDK met in QA pass "sdk" of session 38 (findings 1, 2, 6
and 7), each as Katib's SDK and API server do it: the optimal trial is an object before any
trial reports, a tune() experiment copied into create_experiment is named as one, a create whose
namespace does not match the object's is refused, and Katib's own models are taken as the
``experiment=`` of the condition checks."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from katib_models import _Model

from kfp_tune import search
from kfp_tune.core.decision import katib_status
from kfp_tune.core.errors import ExperimentNotFound
from kfp_tune.katib_client import InvalidRequestError


def fails(parameters: dict[str, Any]) -> None:
    raise RuntimeError("boom")


def scores(parameters: dict[str, Any]) -> None:
    print(f"accuracy={1 - abs(float(parameters['lr']) - 0.15)}")


def never_called(parameters: dict[str, Any]) -> None:
    raise AssertionError("no trial runs: the call is refused first")


def job_experiment(name: str, namespace: str | None) -> dict[str, Any]:
    """A Katib Experiment whose Job's command runs here (echo), in ``namespace``."""
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": metadata,
        "spec": {
            "maxTrialCount": 1, "parallelTrialCount": 1, "objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
            "algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "3"}]},
            "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.2"}}],
            "trialTemplate": {
                "primaryContainerName": "c", "trialParameters": [{"name": "lr", "reference": "lr"}],
                "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "python:3.11", "command": ["echo", "accuracy=${trialParameters.lr}"]}]}}}},
            },
        },
    }


# --- 1. current_optimal_trial is an object, as Katib's struct field ---------------------------------


def test_the_optimal_trial_is_an_empty_object_before_any_trial_reports(katib):
    """Katib's ExperimentStatus.CurrentOptimalTrial is a struct (omitempty cannot drop it, the
    CRD defaults it to {}), so ``exp.status.current_optimal_trial.best_trial_name`` reads None on
    Katib while no trial has reported; here it raised AttributeError on None."""
    with pytest.warns(UserWarning, match="none of the 2 trials succeeded"):  # said, as before
        katib.tune(name="all-failed", objective=fails, parameters={"lr": search.double(0.1, 0.2)}, objective_metric_name="accuracy",
                   max_trial_count=2, parallel_trial_count=1, algorithm_settings={"random_state": "3"})
    exp = katib.get_experiment("all-failed")
    assert exp.status.trials_failed == 2
    optimal = exp.status.current_optimal_trial
    assert optimal is not None and optimal.best_trial_name is None and optimal.parameter_assignments is None
    assert optimal.observation is not None and optimal.observation.metrics is None
    assert exp.to_dict()["status"]["currentOptimalTrial"] == {"observation": {}}  # Go's JSON of the empty struct
    assert katib.get_optimal_hyperparameters("all-failed") is None  # Katib's SDK: None while no metrics


def test_katib_status_keeps_the_optimal_trial_as_katibs_json_does():
    """What ``kubectl get experiment -o json`` shows: the empty struct as {"observation": {}},
    and a best trial's fields as before."""
    assert katib_status({"currentOptimalTrial": {}})["currentOptimalTrial"] == {"observation": {}}
    assert katib_status({})["currentOptimalTrial"] == {"observation": {}}
    best = {"bestTrialName": "t", "parameterAssignments": [{"name": "x", "value": "1"}], "observation": {"metrics": [{"name": "a"}]},
            "metrics": {"a": 1.0}}
    assert katib_status({"currentOptimalTrial": best})["currentOptimalTrial"] == {k: best[k] for k in ("bestTrialName", "parameterAssignments", "observation")}


# --- 2. a tune() experiment copied into create_experiment ---------------------------------------------


def test_a_copy_of_a_tune_experiment_is_refused_as_one_saying_how_to_run_it(katib):
    """The cmaes notebook's copy pattern (get_experiment, deepcopy, a new name, create_experiment)
    on an experiment tune() made: its template is kfp-tune's record of the call (kind
    PythonFunction), which holds no function; refused naming it as a tune() function experiment
    and the call that runs it, not an image's entrypoint the user never wrote."""
    katib.tune(name="base", objective=scores, parameters={"lr": search.double(0.1, 0.2)}, objective_metric_name="accuracy",
               max_trial_count=1, parallel_trial_count=1, algorithm_settings={"random_state": "3"})
    exp = copy.deepcopy(katib.get_experiment("base"))
    exp.metadata.name = "base-more"
    exp.spec.max_trial_count = 4
    with pytest.raises(InvalidRequestError) as caught:
        katib.create_experiment(exp)
    message = str(caught.value)
    assert "entrypoint" not in message, message
    assert "tune() function experiment" in message and "PythonFunction" in message, message
    assert "tune(name=..., objective=...)" in message and "the function is not stored" in message, message
    assert [e.metadata.name for e in katib.list_experiments()] == ["base"]  # nothing written


def test_the_no_command_message_names_a_tune_function_template():
    """The local launcher's no-command refusal, given the template's kind, names a tune()
    function experiment rather than an image's entrypoint; other kinds keep the entrypoint text."""
    from kfp_tune.core.vocabulary import FUNCTION_TRIAL_KIND
    from kfp_tune.launchers.local import missing_command

    told = missing_command("objective", FUNCTION_TRIAL_KIND)
    assert "entrypoint" not in told and "tune() function experiment" in told and "tune(name=..., objective=...)" in told
    assert "entrypoint" in missing_command("objective") and "entrypoint" in missing_command("c", "Job")


# --- 6. create_experiment's namespace against the object's ----------------------------------------------


def test_a_create_whose_namespace_is_not_the_objects_is_refused_as_kubernetes_does(katib):
    """Kubernetes refuses a create whose body's namespace differs from the request's (400), and
    Katib's SDK raises it as RuntimeError "Failed to create Katib Experiment: team-b/NAME"; here it
    was created in the object's namespace, and the next call with namespace="team-b" failed."""
    with pytest.raises(RuntimeError, match=r"^Failed to create Katib Experiment: team-b/ns-mis: ") as caught:
        katib.create_experiment(job_experiment("ns-mis", "kubeflow"), namespace="team-b")
    message = str(caught.value)
    assert "'kubeflow'" in message and "does not match" in message, message
    assert katib.list_experiments() == []  # nothing created
    with pytest.raises(ExperimentNotFound):
        katib.get_experiment("ns-mis")


def test_a_create_whose_namespace_is_the_objects_or_given_once_runs(katib):
    """The same namespace on both, or on one only, is not refused."""
    katib.create_experiment(job_experiment("same", "team-b"), namespace="team-b")
    katib.create_experiment(job_experiment("given", None), namespace="team-b")
    katib.create_experiment(job_experiment("held", "team-b"))
    assert {e.metadata.name: e.metadata.namespace for e in katib.list_experiments()} == {"same": "team-b", "given": "team-b", "held": "team-b"}


# --- 7. Katib's own models as experiment= -----------------------------------------------------------------


class V1beta1ExperimentCondition(_Model, fields="last_transition_time last_update_time message reason status type"):
    pass


class V1beta1ExperimentStatus(_Model, fields="completion_time conditions current_optimal_trial start_time trials"):
    pass


class V1beta1Experiment(_Model, fields="api_version kind metadata spec status"):
    pass


def katibs_model(*conditions: tuple[str, str]) -> V1beta1Experiment:
    return V1beta1Experiment(status=V1beta1ExperimentStatus(conditions=[V1beta1ExperimentCondition(type=t, status=s) for t, s in conditions]))


def test_katibs_experiment_model_is_taken_by_the_condition_checks(katib):
    """Katib types ``experiment`` as its V1beta1Experiment: these raised AttributeError ('no
    attribute get') on one; now they read it as create_experiment reads Katib's models."""
    exp = katibs_model(("Created", "True"), ("Running", "False"), ("Succeeded", "True"))
    assert katib.is_experiment_succeeded("any", experiment=exp) is True
    assert katib.is_experiment_created("any", experiment=exp) is True
    assert katib.is_experiment_running("any", experiment=exp) is False
    assert katib.is_experiment_failed("any", experiment=exp) is False
    assert katib.is_experiment_restarting("any", experiment=exp) is False
    conditions = katib.get_experiment_conditions("any", experiment=exp)
    assert [(c.type, c.status) for c in conditions] == [("Created", "True"), ("Running", "False"), ("Succeeded", "True")]
    assert katib.get_experiment_conditions("any", experiment=V1beta1Experiment()) == []
