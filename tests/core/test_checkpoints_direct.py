"""``checkpoints.trial_dir_of`` and ``trial_checkpoint``: Katib's pbt names, in its
``suggestion_trial_dir`` setting, the folder inside a trial where its checkpoint lives; a trial
labelled with a parent starts from a copy of the parent's folder. An experiment without the
setting keeps no checkpoints, and its trials get none.

The experiments are Katib's simple-pbt example and a random-search one, loaded as a user loads
them; the expected folder is read from the example, the parent label written as Katib's pbt
service writes it (pkg/suggestion/v1beta1/pbt/service.py)."""

from __future__ import annotations

from typing import Any

from conftest import DELETE, load_katib_example, merge, quadratic_experiment
from kfp_tune.core.checkpoints import trial_checkpoint, trial_dir_of
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import parse_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run

GENERATION = "pbt.suggestion.katib.kubeflow.org/generation"
PARENT = "pbt.suggestion.katib.kubeflow.org/parent"


def _pbt() -> tuple[Any, str]:
    """Katib's simple-pbt experiment, and the folder its suggestion_trial_dir names."""
    # the example has maxFailedTrialCount 3 over maxTrialCount 2, which Katib's webhook refuses too
    doc = merge(load_katib_example("hp-tuning_simple-pbt.yaml"), {"spec.maxFailedTrialCount": 1})
    (folder,) = [s["value"] for s in doc["spec"]["algorithm"]["algorithmSettings"] if s["name"] == "suggestion_trial_dir"]
    return load_experiment(doc), folder


def test_a_pbt_experiment_names_its_trials_folder() -> None:
    experiment, folder = _pbt()
    assert folder and trial_dir_of(experiment) == folder


def test_an_experiment_without_the_setting_has_no_folder() -> None:
    assert trial_dir_of(load_experiment(quadratic_experiment())) == ""


def test_an_experiment_not_yet_defaulted_without_an_algorithm_has_no_folder() -> None:
    """``parse_experiment`` leaves a missing ``spec.algorithm`` as None (validation reports it);
    there is then no setting, not an error."""
    experiment = parse_experiment(merge(quadratic_experiment(), {"spec.algorithm": DELETE}))
    assert experiment.spec.algorithm is None
    assert trial_dir_of(experiment) == ""


def test_a_first_generation_trial_gets_an_empty_folder_of_its_own() -> None:
    """A generation-0 trial of pbt has no parent: its folder starts empty."""
    experiment, folder = _pbt()
    checkpoint = trial_checkpoint(experiment, {GENERATION: "0"})
    assert checkpoint is not None
    assert (checkpoint.path, checkpoint.parent) == (folder, "")


def test_a_trial_with_a_parent_starts_from_the_parents_folder() -> None:
    experiment, folder = _pbt()
    checkpoint = trial_checkpoint(experiment, {GENERATION: "2", PARENT: "simple-pbt-abc12"})
    assert checkpoint is not None
    assert (checkpoint.path, checkpoint.parent) == (folder, "simple-pbt-abc12")


def test_a_trial_of_an_experiment_without_checkpoints_gets_none_whatever_its_labels() -> None:
    experiment = load_experiment(quadratic_experiment())
    assert trial_checkpoint(experiment, {}) is None
    assert trial_checkpoint(experiment, {PARENT: "quad-t0000"}) is None


def test_what_the_launcher_is_told_for_a_trial_with_a_parent() -> None:
    """``trial_run`` (what every launcher gets) carries the folder and the parent."""
    experiment, folder = _pbt()
    trial = TrialState(name="simple-pbt-t0003", index=3, round="r1", assignment={"lr": "0.01"}, created="now",
                       labels={GENERATION: "1", PARENT: "simple-pbt-t0001"})
    run = trial_run(experiment, trial)
    assert (run.checkpoint_path, run.checkpoint_parent) == (folder, "simple-pbt-t0001")
    plain = trial_run(load_experiment(quadratic_experiment()), TrialState(name="quad-t0000", index=0, round="r1", assignment={"x": "0.1", "y": "0.2"}, created="now"))
    assert (plain.checkpoint_path, plain.checkpoint_parent) == ("", "")
