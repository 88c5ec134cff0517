"""A resume whose spec differs from the stored one only in ``metadata.namespace`` (QA multiuser
finding 2, QA migrator finding 2). Kubernetes keeps an object's namespace, and Katib's ``quad``
in team-a and ``quad`` in team-b are two experiments with their own trials: a stored record
taken over by another namespace's YAML would count the first one's trials as the second's (and
send the next run after cluster trials in the new namespace, where it does not find them).
Refused, naming the field, once any trial of the stored one has started, on any engine; an
experiment none of whose trials started may move (the 403 advice leads a first run there); a
completed one's refusal names the field, not "its spec changed"."""

from __future__ import annotations

import logging

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import ExperimentConflict
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import read_experiment_record
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.steps import init_experiment, launch_trial, suggest
from kfp_tune.stores import LocalStore


class Placed(Launcher):
    """Each trial succeeds at once, made (as a Kubernetes launcher's) in ``namespace``: its
    started record says so, as a cluster trial's does."""

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    @property
    def namespace(self) -> str:
        return self._namespace

    def run(self, trial: TrialRun) -> LaunchOutcome:
        return LaunchOutcome(LaunchPhase.SUCCEEDED, exit_code=0, logs={"main": "loss=0.5\naccuracy=0.5\n"})


def _quad(namespace: str | None, **overrides):
    doc = quadratic_experiment(**overrides)
    if namespace is None:
        doc["metadata"].pop("namespace", None)
    else:
        doc["metadata"]["namespace"] = namespace
    return load_experiment(doc)


def _started(tmp_path, namespace: str | None, ran_in: str, trials: int = 1, **overrides) -> ExperimentRecords:
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    init_experiment(records, _quad(namespace, **overrides))
    for name in suggest(records, "run-1-r000", 1, n=trials):
        launch_trial(records, Placed(ran_in), name)
    return records


def _stored_namespace(records: ExperimentRecords):
    return read_experiment_record(records)["spec"]["metadata"].get("namespace")


def test_a_resume_in_another_namespace_while_trials_ran_in_the_old_one_is_refused_naming_the_field(tmp_path):
    records = _started(tmp_path, "team-a", ran_in="team-a")
    with pytest.raises(ExperimentConflict) as refused:
        init_experiment(records, _quad("team-b"))
    text = str(refused.value)
    assert text.startswith("metadata.namespace: experiment 'quad' is stored with metadata.namespace 'team-a' and this spec gives 'team-b'")
    assert "1 of its trials has started (1 ran in 'team-a')" in text and "give metadata.namespace 'team-a' as stored" in text
    assert "another metadata.name" in text and "another store" in text and "two experiments" in text
    assert "spec changed" not in text
    assert _stored_namespace(records) == "team-a"


def test_a_spec_without_metadata_namespace_is_refused_too_while_trials_ran_in_the_stored_one(tmp_path):
    records = _started(tmp_path, "team-a", ran_in="team-a")
    with pytest.raises(ExperimentConflict, match=r"this spec gives none \(the run's namespace\)"):
        init_experiment(records, _quad(None))
    assert _stored_namespace(records) == "team-a"


def test_an_experiment_whose_trials_ran_where_its_launcher_config_said_is_refused_that_namespace_too(tmp_path):
    """A Katib example's kubeflow, its trials put in team-a by the launcher config: team-a/quad
    is still another experiment than kubeflow/quad (QA migrator, finding 2)."""
    records = _started(tmp_path, "kubeflow", ran_in="team-a", trials=1, **{"spec.maxTrialCount": 4})
    with pytest.raises(ExperimentConflict, match=r"^metadata.namespace: experiment 'quad' is stored with metadata.namespace 'kubeflow' and this spec gives 'team-a'"):
        init_experiment(records, _quad("team-a", **{"spec.maxTrialCount": 4}))
    assert _stored_namespace(records) == "kubeflow"


def test_two_namespaces_experiments_of_one_name_run_locally_are_not_merged(tmp_path, caplog):
    """QA migrator, finding 2: kubeflow's quad run on this machine (its trials record no cluster
    namespace), then team-b's quad on the same store: refused, not resumed with a warning, its
    trials not counted as team-b's and the record's namespace not rewritten."""
    records = _started(tmp_path, "kubeflow", ran_in="", trials=2)
    keys_before = records.store.list(records.root)
    with caplog.at_level(logging.WARNING, logger="kfp_tune"), pytest.raises(ExperimentConflict) as refused:
        init_experiment(records, _quad("team-b"))
    text = str(refused.value)
    assert text.startswith("metadata.namespace: experiment 'quad' is stored with metadata.namespace 'kubeflow' and this spec gives 'team-b'")
    assert "2 of its trials have started (2 ran on no cluster)" in text and "give metadata.namespace 'kubeflow' as stored" in text
    assert "moves" not in caplog.text
    assert _stored_namespace(records) == "kubeflow"
    assert records.store.list(records.root) == keys_before  # nothing written: no revision, no trial


def test_an_experiment_no_trial_of_which_started_may_move_with_a_warning(tmp_path, caplog):
    """A first run got 403 in kubeflow and created nothing: the tool's own advice is to run it
    in the user's namespace, and that must not be refused."""
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    init_experiment(records, _quad("kubeflow"))
    with caplog.at_level(logging.WARNING, logger="kfp_tune"):
        init_experiment(records, _quad("team-a"))
    assert _stored_namespace(records) == "team-a"
    assert "experiment 'quad': metadata.namespace changes from 'kubeflow' (stored) to 'team-a' (this spec): none of its trials has started" in caplog.text


def test_a_completed_experiment_given_another_namespace_is_refused_naming_the_field_not_a_spec_change(tmp_path, capsys):
    """QA (a): run to its end locally (its trials recorded ""), then run from a YAML that
    differs only in metadata.namespace, on the same store."""
    import yaml

    from kfp_tune.cli import main

    for namespace in ("team-a", "team-b"):
        doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2, "metadata.namespace": namespace})
        (tmp_path / f"quad-{namespace}.yaml").write_text(yaml.safe_dump(doc))
    store = str(tmp_path / "store")
    assert main(["run", str(tmp_path / "quad-team-a.yaml"), "--engine", "inline", "--store", store]) == 0
    capsys.readouterr()
    assert main(["run", str(tmp_path / "quad-team-b.yaml"), "--engine", "inline", "--store", store]) == 2
    text = capsys.readouterr().err
    assert "error: metadata.namespace: experiment 'quad' is stored with metadata.namespace 'team-a' and this spec gives 'team-b'" in text
    assert "It is completed and its spec is unchanged: a run of it as stored only reports it" in text and "give metadata.namespace 'team-a' as stored" in text
    assert "spec changed" not in text and "resumePolicy" not in text
    assert _stored_namespace(ExperimentRecords(LocalStore(tmp_path / "store"), "quad")) == "team-a"


def test_a_first_run_refused_403_in_kubeflow_may_move_to_the_runs_namespace(tmp_path, monkeypatch, caplog):
    """Review B of session 37, finding 1: the case above, as it happens. launch-trial writes the
    started record (naming kubeflow) before the create, which is refused 403: the trial ends
    Killed, TrialNotCreated, and nothing of it exists anywhere. Following the refusal's advice
    (metadata.namespace set to the run's, or left out) must not be refused as a move of trials
    that started."""
    from fake_kube import Fault, reached_through_kubeconfig
    from kfp_tune.core.state import TRIAL_NOT_CREATED, load_state
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    init_experiment(records, _quad("kubeflow"))
    (refused,) = suggest(records, "run-1-r000", 1, n=1)
    with reached_through_kubeconfig(tmp_path, monkeypatch) as cluster:
        cluster.faults = [Fault("POST", "/jobs$", 403, times=100, message="jobs.batch is forbidden", reason="Forbidden")]
        with pytest.raises(Exception, match="403"):
            launch_trial(records, KubernetesLauncher(KubernetesConfig(namespace="kubeflow", poll_seconds=0.05, api_retry_seconds=0.0),
                                                     api_client=cluster.api_client(), env={}), refused)
    (trial,) = load_state(records).trials
    assert trial.started is not None and trial.started.cluster_namespace == "kubeflow" and trial.ended.reason == TRIAL_NOT_CREATED
    for namespace in ("team-a", None):
        with caplog.at_level(logging.WARNING, logger="kfp_tune"):
            init_experiment(records, _quad(namespace))
        assert _stored_namespace(records) == namespace
    assert "none of its trials has started" not in caplog.text  # one did start: its create was refused
    assert "its trials created nothing" in caplog.text, caplog.text
