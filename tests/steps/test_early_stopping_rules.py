"""Early stopping's rules end to end on this machine: a trial is judged by the rules fixed as it
started (Katib's Trial spec.earlyStoppingRules), those rules are kept with it and shown, and a
trial that ended before anyone looked is judged on all it reported, as Katib's collector, which
reads each line as it is written, would have judged it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from start_order import CLAIM_PLACE

from conftest import quadratic_experiment
from kfp_tune import Client
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, StopRule, TrialStarted
from kfp_tune.core.state import ExperimentView, load_state
from kfp_tune.core.vocabulary import EARLY_STOP_REASON, Comparison
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher, local
from kfp_tune.steps.early_stopping import early_stopping_monitor, early_stopping_rules, stops_after_end
from kfp_tune.stores import LocalStore

EPOCHS = 5
FAST_TRIAL = CLAIM_PLACE + f"""
import sys
k = claim_place(sys.argv[2])
for epoch in range({EPOCHS}):
    print(f"epoch {{epoch}} loss={{k / (epoch + 1)}}")
"""
"""Reports k / (epoch + 1), k its place in the run (1 for the first to start), and exits at
once: over before any look while it runs."""


def fast_experiment(places: Path, name: str = "fast") -> dict[str, Any]:
    """Grid x = 1, 2, 3, one at a time in the grid's random order; the k-th trial to start reports
    k / (epoch + 1) (its place claimed in ``places``), whichever x it got. medianstop after two
    succeeded, at the second report: the first averages 0.75 and the second 1.5 over two
    reports, so the rule is loss greater than 1.125, and the third's best of its first two
    reports, 1.5, is worse."""
    return quadratic_experiment(**{
        "metadata.name": name,
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": "2"}]},
        "spec.parallelTrialCount": 1,
        "spec.maxTrialCount": 3,
        "spec.parameters": [{"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["1", "2", "3"]}}],
        "spec.trialTemplate.trialParameters": [{"name": "x", "reference": "x"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "image": "python:3.11", "command": ["python3", "-c", shlex.quote(FAST_TRIAL), "${trialParameters.x}", str(places)]}
        ],
    })


@pytest.fixture
def fast_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[LocalStore, dict[str, Any]]:
    """The experiment run to its end, the launcher never looking while a trial runs (its poll
    is an hour): each trial is judged only once it has ended. Returns the store and the trials
    by their place in the run ("1" the first to start)."""
    monkeypatch.setattr(local, "POLL_SECONDS", 3600.0)
    store = LocalStore(tmp_path / "store")
    decision = run_inline(store, load_experiment(fast_experiment(tmp_path / "places")), LocalLauncher())
    assert decision.reason == "ExperimentMaxTrialsReached"
    state = load_state(ExperimentRecords(store, "fast"))
    assert sorted(t.assignment["x"] for t in state.trials) == ["1", "2", "3"]  # every grid point once
    by_place = {str(int(t.result.curve[0])): t for t in state.trials}  # the k-th reported k first
    assert sorted(by_place) == ["1", "2", "3"]
    return store, by_place


def test_a_trial_over_before_any_look_is_stopped_as_katib_would_stop_it(fast_run: tuple[LocalStore, dict[str, Any]]) -> None:
    _, by_place = fast_run
    assert [by_place[x].status for x in ("1", "2", "3")] == ["Succeeded", "Succeeded", "EarlyStopped"]
    stopped = by_place["3"]
    assert stopped.ended is not None and stopped.ended.reason == EARLY_STOP_REASON and stopped.ended.exit_code == 0
    # all it reported: Katib's collector reads the whole file once it has stopped the trial
    assert stopped.result.curve == tuple(3.0 / (epoch + 1) for epoch in range(EPOCHS))
    assert stopped.metrics["loss"] == pytest.approx(3.0 / EPOCHS)


def test_the_rule_fixed_as_a_trial_started_is_kept_and_shown_as_katibs(fast_run: tuple[LocalStore, dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    store, by_place = fast_run
    rule = {"name": "loss", "value": "1.125", "comparison": "greater", "startStep": 2}  # str() of the mean, as Katib's service writes it
    assert by_place["1"].started.early_stopping_rules == () and by_place["2"].started.early_stopping_rules == ()  # fewer than min_trials_required
    assert by_place["3"].started.early_stopping_rules == (StopRule("loss", "1.125", Comparison.GREATER, 2),)

    assert main(["trials", "fast", "--store", str(store.root), "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert [rows[by_place[k].name]["earlyStoppingRules"] for k in ("1", "2", "3")] == [[], [], [rule]]

    client = Client(store)
    assert client.get_trial(by_place["3"].name).to_dict()["spec"]["earlyStoppingRules"] == [rule]
    assert "earlyStoppingRules" not in client.get_trial(by_place["1"].name).to_dict()["spec"]  # Katib leaves an empty list out


def test_a_trial_is_judged_by_its_recorded_rule_not_by_what_completed_since(fast_run: tuple[LocalStore, dict[str, Any]]) -> None:
    """A launch-trial that re-attaches, and record-trial, judge by the rule the trial started
    with: here the second started with none, and three trials have completed since."""
    store, by_place = fast_run
    state = load_state(ExperimentRecords(store, "fast"))
    curve = [3.0, 1.5]
    assert early_stopping_rules(state) == (StopRule("loss", "1.125", Comparison.GREATER, 2),)  # what one starting now gets
    assert stops_after_end(state, by_place["3"].name, curve) and not stops_after_end(state, by_place["2"].name, curve)
    monitor = early_stopping_monitor(state, ExperimentRecords(store, "fast"), by_place["2"].name)
    assert monitor is not None and monitor("loss=3.0\nloss=1.5\n") is False


def test_a_started_record_from_before_the_rules_were_kept_is_judged_by_the_rule_of_now(tmp_path: Path, fast_run: tuple[LocalStore, dict[str, Any]]) -> None:
    """Records written by an older kfp-tune have no earlyStoppingRules: they still load, show
    none, and their trial is judged as it was then (by the completed trials of the moment)."""
    store, by_place = fast_run
    records = ExperimentRecords(store, "fast")
    name = by_place["2"].name
    key = records.trial_key(name, TrialStarted.FILE)
    old = json.loads(store.get(key) or b"")
    del old["earlyStoppingRules"]
    old_store = LocalStore(tmp_path / "old")
    for found in store.list("experiments/fast/"):
        if "/snapshots/" not in found:
            old_store.put(found, json.dumps(old).encode() if found == key else store.get(found) or b"")
    state = ExperimentView(ExperimentRecords(old_store, "fast")).state
    assert state.trial(name).started is not None and state.trial(name).started.early_stopping_rules is None
    assert stops_after_end(state, name, [3.0, 1.5])
    assert "earlyStoppingRules" not in Client(old_store).get_trial(name).to_dict()["spec"]
