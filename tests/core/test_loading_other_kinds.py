"""What ``kubectl get ... -o yaml`` prints, given where one Experiment is expected (QA migrator,
finding 4): a ``kind: List`` (``kubectl get experiments -A``, or ``-n NS`` even with one item)
gets one answer naming each item, as a multi-document file does, and how to run them; a Trial,
a Suggestion, a ConfigMap or another kind is told what it is and what is expected, with no
field-by-field errors ("did you mean metricsCollectorSpec?" pointed the wrong way)."""

from __future__ import annotations

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment


def _experiment(name: str, namespace: str) -> dict:
    return quadratic_experiment(**{"metadata.name": name, "metadata.namespace": namespace})


def _validate(tmp_path, capsys, document) -> tuple[int, str]:
    path = tmp_path / "given.yaml"
    path.write_text(yaml.safe_dump(document))
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


TRIAL = {
    "apiVersion": "kubeflow.org/v1beta1", "kind": "Trial",
    "metadata": {"name": "random-d4825eb4", "namespace": "kubeflow", "labels": {"katib.kubeflow.org/experiment": "random"}},
    "spec": {"metricsCollector": {"collector": {"kind": "StdOut"}}, "objective": {"type": "minimize", "objectiveMetricName": "loss"},
             "parameterAssignments": [{"name": "lr", "value": "0.01"}], "primaryContainerName": "training-container",
             "runSpec": {"apiVersion": "batch/v1", "kind": "Job"}},
}
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "trial-templates", "namespace": "kubeflow"},
              "data": {"defaultTrialTemplate.yaml": "apiVersion: batch/v1\nkind: Job\n"}}


def test_a_kubectl_list_of_experiments_is_refused_naming_each_item_and_how_to_run_them(tmp_path, capsys):
    items = [_experiment("random", "kubeflow"), _experiment("random", "team-b"), _experiment("grid", "kubeflow")]
    code, err = _validate(tmp_path, capsys, {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}})
    assert code == 2
    [line] = err.splitlines()
    assert "given.yaml: a kind: List of 3 items" in line
    assert "Experiment 'random' in 'kubeflow', Experiment 'random' in 'team-b', Experiment 'grid' in 'kubeflow'" in line
    assert "one Experiment per file" in line and "kubectl get experiment NAME -n NAMESPACE -o yaml > NAME.yaml" in line
    assert "--name" in line and "unknown field" not in err and "expected 'Experiment'" not in err


def test_a_list_of_one_or_none_and_a_list_passed_from_python_get_the_same_answer(tmp_path, capsys):
    code, err = _validate(tmp_path, capsys, {"apiVersion": "v1", "kind": "List", "items": [_experiment("quad", "team-a")]})
    assert code == 2 and "a kind: List of 1 item (" in err and "Experiment 'quad' in 'team-a'" in err
    code, err = _validate(tmp_path, capsys, {"apiVersion": "v1", "kind": "List", "items": []})
    assert code == 2 and "an empty kind: List" in err and "unknown field" not in err
    with pytest.raises(SpecError) as refused:
        load_experiment({"apiVersion": "kubeflow.org/v1beta1", "kind": "ExperimentList", "items": [_experiment("quad", "team-a")]})
    assert "a kind: ExperimentList of 1 item" in str(refused.value) and "pass one Experiment, an item of the list" in str(refused.value)


def test_a_trial_given_as_the_experiment_is_named_as_a_trial_with_its_experiment(tmp_path, capsys):
    code, err = _validate(tmp_path, capsys, TRIAL)
    assert code == 2
    [line] = err.splitlines()
    assert "a Katib Trial ('random-d4825eb4'), not an Experiment" in line
    assert "kubectl get experiment random -n kubeflow -o yaml" in line
    assert "metricsCollectorSpec" not in err and "unknown field" not in err


def test_a_configmap_given_as_the_experiment_points_to_trial_templates(tmp_path, capsys):
    code, err = _validate(tmp_path, capsys, CONFIG_MAP)
    assert code == 2
    [line] = err.splitlines()
    assert "a ConfigMap ('trial-templates'), not an Experiment" in line and "--trial-templates" in line
    assert "unknown field" not in err


@pytest.mark.parametrize(("document", "said"), [
    ({"apiVersion": "kubeflow.org/v1beta1", "kind": "Suggestion", "metadata": {"name": "random"}, "spec": {"requests": 3}},
     "a Katib Suggestion ('random'), not an Experiment: kfp-tune has no Suggestion objects"),
    ({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "train"}, "spec": {"template": {}}},
     "a Job (batch/v1) ('train'), not a Katib Experiment: expected apiVersion kubeflow.org/v1beta1 and kind Experiment"),
])
def test_another_kind_is_told_what_it_is_and_what_is_expected(document, said):
    with pytest.raises(SpecError) as refused:
        load_experiment(document)
    [error] = refused.value.errors
    assert said in error.message


def test_an_experiment_with_a_mistyped_kind_keeps_its_field_errors():
    """A document shaped as an Experiment, its kind mistyped: the kind's own error, as before."""
    document = quadratic_experiment()
    document["kind"] = "Experment"
    with pytest.raises(SpecError) as refused:
        load_experiment(document)
    assert [e.path for e in refused.value.errors] == ["kind"]
