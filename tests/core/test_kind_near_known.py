"""A trial kind one edit (or only its case) away from a kind kfp-tune knows in the same API group
(``kubeflow.org/v1 PytorchJob``) was told only that its success and failure conditions had no
default; a user who then wrote them got past validate and met the kind's misspelling at the
cluster's discovery. It is refused at the kind now, "did you mean 'PyTorchJob'?", and the
conditions are not asked for (QA operators, session 36, finding 6)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import load_katib_example, merge, validation_errors

KIND = "spec.trialTemplate.trialSpec.kind"


def errors(example: str, **overrides: Any) -> dict[str, str]:
    return {e.path: e.message for e in validation_errors(merge(load_katib_example(example), overrides))}


@pytest.mark.parametrize(("written", "meant"), [("PytorchJob", "PyTorchJob"), ("pytorchjob", "PyTorchJob"), ("PyTorchJb", "PyTorchJob"),
                                                ("TFjob", "TFJob"), ("XGBoostJobs", "XGBoostJob"), ("TFJbo", "TFJob")])
def test_a_kind_near_a_known_kubeflow_kind_is_refused_naming_it(written: str, meant: str) -> None:
    got = errors("kubeflow-training-operator_pytorchjob-mnist.yaml", **{KIND: written})
    assert f"did you mean {meant!r}?" in got[KIND], got
    assert written in got[KIND] and "kubeflow.org" in got[KIND]
    assert "spec.trialTemplate.successCondition" not in got and "spec.trialTemplate.failureCondition" not in got


def test_a_kind_near_a_known_kind_of_another_group_is_refused_there_too() -> None:
    got = errors("kubeflow-trainer_trainjob-pytorch.yaml", **{KIND: "Trainjob"})
    assert "did you mean 'TrainJob'?" in got[KIND], got
    job = errors("kubeflow-training-operator_pytorchjob-mnist.yaml", **{"spec.trialTemplate.trialSpec.apiVersion": "batch/v1", KIND: "job"})
    assert "did you mean 'Job'?" in job[KIND], job


def test_a_kind_far_from_every_known_kind_or_in_another_group_is_not_refused_at_the_kind() -> None:
    far = errors("kubeflow-training-operator_pytorchjob-mnist.yaml", **{KIND: "TorchTrainingRun"})
    assert KIND not in far and "no default for it" in far["spec.trialTemplate.successCondition"]
    other_group = errors("kubeflow-training-operator_pytorchjob-mnist.yaml", **{"spec.trialTemplate.trialSpec.apiVersion": "example.com/v1", KIND: "PytorchJob"})
    assert KIND not in other_group, other_group


def test_the_known_kinds_are_not_refused() -> None:
    for example in ("kubeflow-training-operator_pytorchjob-mnist.yaml", "kubeflow-training-operator_tfjob-mnist-with-summaries.yaml",
                    "kubeflow-training-operator_mpijob-horovod.yaml", "kubeflow-trainer_trainjob-pytorch.yaml"):
        assert KIND not in errors(example), example


def test_the_core_table_holds_every_kind_the_launcher_knows() -> None:
    """The core's list of known kinds by group (the launcher's KINDS and WELL_KNOWN may not be
    imported by the pure core) is kept in step with the launcher's."""
    from kfp_tune.core.validation import KNOWN_KINDS_BY_GROUP
    from kfp_tune.launchers.kubernetes.kinds import KINDS, WELL_KNOWN

    for kind in [*KINDS.values(), *WELL_KNOWN.values()]:
        assert kind.kind in KNOWN_KINDS_BY_GROUP.get(kind.group, ()), kind
