"""An EarlyStopped trial says which rule stopped it wherever its row or line is shown (QA
earlystop, finding 4): the trials table, the report's why column and the run's progress lines
gave only Katib's 'TrialEarlyStopped: Trial is early stopped', and the rule (the metric, the
value it was compared with, from which report) was in ``trials --json`` alone. The records keep
Katib's reason and message as they are."""

from __future__ import annotations

from typing import Any

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import trial_name
from kfp_tune.core.records import ExperimentRecords, StopRule, TrialResult, TrialStarted
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import EARLY_STOP_MESSAGE, EARLY_STOP_REASON, Comparison, TrialStatus
from kfp_tune.progress import trial_outcome
from kfp_tune.reports import html_report, load_report, markdown_table, trial_rows
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

NAME = "quad"
RULE = StopRule("loss", "1.3986779999999999", Comparison.GREATER, 2)
SAID = "rule: loss greater than 1.39868 from report 2"
"""The rule's value as the tables write a metric, 6 significant digits (review C of session 37,
finding 5): Katib's str(float) text, 1.3986779999999999 or 0.8500000000000001, was shown raw."""


def _write(root: Any) -> list[str]:
    """quad with three trials: one succeeded before the rule (no rule), one stopped by RULE, one
    succeeded under it."""
    records = ExperimentRecords(LocalStore(root), NAME)
    init_experiment(records, load_experiment(quadratic_experiment(**{"spec.earlyStopping": {
        "algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "1"}, {"name": "start_step", "value": "2"}]}})))
    view = ExperimentView(records)
    names = [trial_name(NAME, view.state.uid, index) for index in range(3)]
    entries = [{"name": n, "index": i, "assignment": {"x": f"0.{i + 1}", "y": "0.5"}} for i, n in enumerate(names)]
    view.record_round("round-0000", {"round": "round-0000", "seq": 0, "created": "2026-01-05T09:00:00Z", "requested": 3, "exhausted": False, "trials": entries, "adopted": []})
    ends = [(None, TrialStatus.SUCCEEDED, 1.2), ((RULE,), TrialStatus.EARLY_STOPPED, 1.5), ((RULE,), TrialStatus.SUCCEEDED, 1.1)]
    for index, (name, (rules, status, loss)) in enumerate(zip(names, ends, strict=True)):
        view.record_trial(name, TrialStarted(trial=name, time="2026-01-05T09:00:00Z", at=1_767_603_600.0 + index, run="run-1", attempt="1",
                                             early_stopping_rules=rules if rules is not None else ()))
        stopped = status == TrialStatus.EARLY_STOPPED
        view.record_trial(name, TrialResult(trial=name, status=status, reason=EARLY_STOP_REASON if stopped else "", message=EARLY_STOP_MESSAGE if stopped else "",
                                            observation={"loss": {"min": loss, "max": loss, "latest": loss, "count": 2}}, metrics={"loss": loss},
                                            time="2026-01-05T09:00:05Z"))
    return names


def test_the_reports_why_column_names_the_rule(tmp_path) -> None:
    names = _write(tmp_path)
    report = load_report(LocalStore(tmp_path), NAME)
    rows = [line for line in markdown_table(report).splitlines() if line.startswith("| ")]
    [stopped] = [line for line in rows if names[1] in line]
    [kept] = [line for line in rows if names[2] in line]  # the best: its name in bold
    assert stopped.endswith(f"| TrialEarlyStopped: Trial is early stopped; {SAID} |")
    assert SAID not in kept  # a trial its rule did not stop says nothing of it
    assert f"TrialEarlyStopped: Trial is early stopped; {SAID}" in html_report(report)


def test_the_records_keep_katibs_reason_and_message(tmp_path) -> None:
    _write(tmp_path)
    stopped = trial_rows(LocalStore(tmp_path), NAME)[1]
    assert (stopped["reason"], stopped["message"]) == ("TrialEarlyStopped", "Trial is early stopped")
    assert stopped["earlyStoppingRules"] == [{"name": "loss", "value": "1.3986779999999999", "comparison": "greater", "startStep": 2}]


def test_the_progress_line_names_the_rule(tmp_path) -> None:
    _write(tmp_path)
    state = ExperimentView(ExperimentRecords(LocalStore(tmp_path), NAME)).state
    assert trial_outcome(state.trials[1], "loss") == f"EarlyStopped loss=1.5 (TrialEarlyStopped: Trial is early stopped; {SAID})"
    assert trial_outcome(state.trials[2], "loss") == "Succeeded loss=1.1"


def test_the_trials_table_names_the_rule_under_the_table(tmp_path, capsys) -> None:
    """The status cell stays short (EarlyStopped*): the rule in it widened the status column of
    every row, at 5,000 trials too (review C of session 37, finding 5); it is said once under
    the table."""
    names = _write(tmp_path)
    assert main(["trials", NAME, "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    lines = {line.split()[0]: line for line in out if line.strip()}
    assert lines[names[1]].split()[1] == "EarlyStopped*"
    assert "rule:" not in lines[names[1]] and "rule:" not in lines[names[2]] and "rule:" not in lines[names[0]]
    header = out[0]
    assert header.index("loss") - header.index("status") <= len("EarlyStopped*") + 2  # the status column as wide as its cells
    assert out[-1] == f"* {names[1]}: {SAID}"


def test_a_value_that_is_no_number_is_shown_as_recorded(tmp_path) -> None:
    from dataclasses import replace

    from kfp_tune.progress import stop_rule_said

    _write(tmp_path)
    trial = ExperimentView(ExperimentRecords(LocalStore(tmp_path), NAME)).state.trials[1]
    assert trial.started is not None
    odd = replace(trial, started=replace(trial.started, early_stopping_rules=(StopRule("loss", "0.8500000000000001", Comparison.GREATER, 2),
                                                                               StopRule("loss", "high", Comparison.LESS, 3))))
    assert stop_rule_said(odd) == "rule: loss greater than 0.85 from report 2; rule: loss less than high from report 3"
