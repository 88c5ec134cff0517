"""kfp-tune edit: Katib's SDK edit_experiment_budget (what a Katib user does with kubectl edit
experiment) from a shell, with the client's rules and errors, its arguments as flags."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.client import Client


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``long`` (LongRunning) and ``never`` (Katib's default resumePolicy), 2 trials each, Succeeded."""
    folder = tmp_path_factory.mktemp("edit")
    store = folder / "store"
    for name, policy in (("long", "LongRunning"), ("never", "Never")):
        path = folder / f"{name}.yaml"
        doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1, "spec.resumePolicy": policy})
        path.write_text(yaml.safe_dump(doc))
        assert main(["run", str(path), "--engine", "inline", "--store", str(store), "--name", name]) == 0
    return store


@pytest.fixture
def store(finished: Path, tmp_path: Path) -> str:
    return str(shutil.copytree(finished, tmp_path / "store"))


def test_edit_changes_the_budget_and_prints_it(store, capsys):
    capsys.readouterr()
    assert main(["edit", "long", "--store", store, "--max-trial-count", "5", "--parallel-trial-count", "2"]) == 0
    out = capsys.readouterr().out
    stored = Client(store).get_experiment("long")
    assert (stored.spec.max_trial_count, stored.spec.parallel_trial_count, stored.spec.max_failed_trial_count) == (5, 2, 1)
    assert out.strip() == "experiment long: maxTrialCount 5, parallelTrialCount 2, maxFailedTrialCount 1; Running (ExperimentRestarting)"


@pytest.mark.parametrize(
    "flags, code, words",
    [
        ([], 2, "error: expected at least one of --max-trial-count, --parallel-trial-count, --max-failed-trial-count"),
        (["--max-trial-count", "1"], 2, "error: --max-trial-count (spec.maxTrialCount): experiment 'long' has 2 trial(s); expected more than 2, got 1"),
        (["--parallel-trial-count", "3"], 2, "error: --parallel-trial-count (spec.parallelTrialCount): expected at most spec.maxTrialCount (2), got 3"),
        (["--max-failed-trial-count", "-1"], 2, "error: --max-failed-trial-count (spec.maxFailedTrialCount)"),
        (["--max-trial-count", "x"], 2, "argument --max-trial-count: invalid int value: 'x'"),
    ],
)
def test_edit_refuses_a_bad_value_naming_the_flag_and_changes_nothing(store, capsys, flags, code, words):
    before = Path(store, "experiments", "long", "experiment.json").read_bytes()
    capsys.readouterr()
    assert main(["edit", "long", "--store", store, *flags]) == code
    assert words in capsys.readouterr().err
    assert Path(store, "experiments", "long", "experiment.json").read_bytes() == before


def test_edit_of_a_completed_never_experiment_is_refused_with_exit_1(store, capsys):
    capsys.readouterr()
    assert main(["edit", "never", "--store", store, "--max-trial-count", "4"]) == 1
    err = capsys.readouterr().err
    # an edit is told its budget cannot change, not that "its spec changed" nor to run the spec it completed with
    assert err.startswith("error: experiment 'never' is completed, and its budget cannot change: its spec.resumePolicy is Never") and "only reports" not in err
    assert Client(store).get_experiment("never").spec.max_trial_count == 2
    assert main(["edit", "nosuch", "--store", store, "--max-trial-count", "4"]) == 2
    assert "no experiment 'nosuch'" in capsys.readouterr().err
    assert main(["status", "long", "--store", store, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trials"] == 2


def test_a_lower_max_trial_count_that_undercuts_stored_counts_names_the_flag_given(store, capsys):
    """The user lowered --max-trial-count only; the refusal named --max-failed-trial-count, a flag
    they never gave. It names theirs, and the flags that must come down with it."""
    assert main(["edit", "long", "--store", store, "--max-trial-count", "6", "--parallel-trial-count", "5", "--max-failed-trial-count", "4"]) == 0
    capsys.readouterr()
    assert main(["edit", "long", "--store", store, "--max-trial-count", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --max-trial-count (spec.maxTrialCount) 3: the experiment's "), err
    assert ("--max-trial-count (spec.maxTrialCount) 3: the experiment's spec.parallelTrialCount is then too high "
            "(expected at most spec.maxTrialCount (3), got 5); lower it too with --parallel-trial-count") in err
    assert ("--max-trial-count (spec.maxTrialCount) 3: the experiment's spec.maxFailedTrialCount is then too high "
            "(expected at most spec.maxTrialCount (3), got 4); lower it too with --max-failed-trial-count") in err
    stored = Client(store).get_experiment("long").spec
    assert (stored.max_trial_count, stored.parallel_trial_count, stored.max_failed_trial_count) == (6, 5, 4)
    assert main(["edit", "long", "--store", store, "--max-trial-count", "3", "--parallel-trial-count", "3", "--max-failed-trial-count", "3"]) == 0


def test_the_same_yaml_keeps_an_edit_and_a_lowered_budget_is_one_warning_line(store, tmp_path):
    """From a shell, as a daily-use QA pass did it: edit 'long' (2 trials, LongRunning) to 6, run
    its YAML again: 6 trials (the edit kept, where it was refused); edit to 9, run a YAML saying 7:
    7, told on one 'warning:' line, not a raw 'WARNING kfp_tune.steps.prepare:' log line."""
    import subprocess
    import sys

    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1, "spec.resumePolicy": "LongRunning"})
    doc["metadata"]["name"] = "long"

    def run(max_trials: int) -> subprocess.CompletedProcess[str]:
        path = tmp_path / f"long-{max_trials}.yaml"
        path.write_text(yaml.safe_dump({**doc, "spec": {**doc["spec"], "maxTrialCount": max_trials}}))
        return subprocess.run([sys.executable, "-m", "kfp_tune.cli", "run", str(path), "--engine", "inline", "--store", store],
                              capture_output=True, text=True, timeout=300)

    assert main(["edit", "long", "--store", store, "--max-trial-count", "6"]) == 0
    done = run(2)
    assert done.returncode == 0, done.stderr
    assert Client(store).get_experiment("long").status.trials == 6
    assert main(["edit", "long", "--store", store, "--max-trial-count", "9"]) == 0
    done = run(7)
    assert done.returncode == 0, done.stderr
    assert "warning: experiment 'long': spec.maxTrialCount changes from 9 (stored) to 7 (this spec)" in done.stderr.splitlines()
    assert "WARNING" not in done.stderr and Client(store).get_experiment("long").status.trials == 7


def _grid_run_out_of_points_then_edited(tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str) -> tuple[str, str]:
    """A grid of 3 points under ``policy`` run to its end (ExperimentSuggestionEndReached, its
    maxTrialCount 5 never reached), then ``kfp-tune edit --max-trial-count 6``, refused: (the
    store, what the refusal said)."""
    doc = quadratic_experiment(**{
        "spec.maxTrialCount": 5, "spec.parallelTrialCount": 1, "spec.resumePolicy": policy,
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.parameters": [{"name": "x", "parameterType": "discrete", "feasibleSpace": {"list": ["0.1", "0.5", "0.9"]}}, {"name": "y", "parameterType": "categorical", "feasibleSpace": {"list": ["0.5"]}}],
    })
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(doc))
    store = str(tmp_path / "store")
    assert main(["run", str(path), "--engine", "inline", "--store", store, "--name", "grid"]) == 0
    capsys.readouterr()
    assert main(["edit", "grid", "--store", store, "--max-trial-count", "6"]) == 1
    return store, capsys.readouterr().err


def test_a_completed_long_running_grid_is_not_told_to_add_the_policy_it_has(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """QA "katib" (session 31): a LongRunning grid that ended with every point tried
    (ExperimentSuggestionEndReached) is rightly not restartable, as in Katib, but the refusal said
    to start a new experiment "with spec.resumePolicy: LongRunning in its YAML", the policy it
    had, and not that a new one of the same grid tries the same points."""
    store, err = _grid_run_out_of_points_then_edited(tmp_path, capsys, "LongRunning")
    assert "(ExperimentSuggestionEndReached)" in err and "Katib restarts only an experiment that succeeded by reaching maxTrialCount" in err
    assert "in its YAML" not in err
    assert "every point of its search space was tried: to try others, widen the search space or make it finer" in err
    assert Client(store).get_experiment("grid").spec.max_trial_count == 5


def test_a_completed_never_experiment_is_told_how_to_be_extendable_later(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["edit", "never", "--store", store, "--max-trial-count", "4"]) == 1
    err = capsys.readouterr().err
    assert "with spec.resumePolicy: LongRunning in its YAML if it should be extendable later" in err
    assert "no trial left to suggest" not in err


def test_the_end_of_suggestions_is_said_as_the_algorithm_reached_it() -> None:
    """Review A (session 31): the clause said "a grid: every point tried" and "one with the same
    search space and algorithm suggests the same trials" of hyperband too, whose new experiment
    draws new configurations."""
    from kfp_tune.steps.prepare import _nothing_left_to_suggest

    assert _nothing_left_to_suggest("hyperband").startswith("hyperband's brackets were all run: a new experiment runs its schedule again with new draws")
    assert "search space" not in _nothing_left_to_suggest("hyperband")
    assert _nothing_left_to_suggest("grid").startswith("every point of its search space was tried")
    assert _nothing_left_to_suggest("darts").startswith("darts runs one trial")


def test_a_never_grid_that_ran_out_of_points_is_not_told_that_long_running_would_help(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review B (session 31): under Never, the LongRunning hint came after the end of
    suggestions too, where LongRunning would not have made the experiment extendable."""
    _, err = _grid_run_out_of_points_then_edited(tmp_path, capsys, "Never")
    assert "(ExperimentSuggestionEndReached)" in err and "LongRunning" not in err and "every point of its search space was tried" in err
