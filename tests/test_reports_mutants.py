"""What the report, the status summary and the trial rows show (src/kfp_tune/reports.py) in cases
no other test pinned: each test here came from a mutation pass of reports.py, whose changes
(a best-so-far line drawn the other way, a goal line left out, a "why" cell not clipped, an
orphaned trial's budget counted as used, ...) no test noticed. The experiments are written with
the records' own writers, every value chosen, so each assertion is an exact value a user sees."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import kfp_tune
from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import trial_name
from kfp_tune.core.records import RECORD_VERSION, ExperimentRecords, TrialResult, TrialStarted
from kfp_tune.core.state import TRIAL_INTERRUPTED, TRIAL_NOT_CREATED, ExperimentView
from kfp_tune.core.vocabulary import RecordKind, TrialStatus
from kfp_tune.reports import (
    WHY_CHARS,
    _markdown_code,
    experiment_status,
    html_report,
    load_report,
    markdown_table,
    objective_alt,
    objective_plot,
    resume_note,
    trial_rows,
)
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

NAME = "quad"
T0 = 1_767_603_600.0  # 2026-01-05T09:00:00Z


@dataclass(frozen=True)
class Trial:
    """One trial as the test writes it: started (unless ``started`` is False) and, with a
    ``status``, ended with these values."""

    x: str = "0.5"
    status: TrialStatus | None = TrialStatus.SUCCEEDED
    metrics: dict[str, float] = field(default_factory=dict)
    text_metrics: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    message: str = ""
    started: bool = True


def write(root: Any, trials: list[Trial], **overrides: Any) -> ExperimentRecords:
    """Experiment ``quad`` (conftest.quadratic_experiment with ``overrides``) holding ``trials``,
    in one round, written with the records' writers into a folder store at ``root``."""
    records = ExperimentRecords(LocalStore(root), NAME)
    init_experiment(records, load_experiment(quadratic_experiment(**overrides)))
    view = ExperimentView(records)
    names = [trial_name(NAME, view.state.uid, index) for index in range(len(trials))]
    entries = [{"name": n, "index": i, "assignment": {"x": t.x, "y": "0.5"}} for i, (n, t) in enumerate(zip(names, trials, strict=True))]
    view.record_round("round-0000", {"round": "round-0000", "seq": 0, "created": "2026-01-05T09:00:00Z", "requested": len(trials), "exhausted": False, "trials": entries, "adopted": []})
    for index, (name, trial) in enumerate(zip(names, trials, strict=True)):
        at = T0 + 10 * index
        if trial.started:
            view.record_trial(name, TrialStarted(trial=name, time="2026-01-05T09:00:00Z", at=at, run="run-1", attempt="1"))
        if trial.status is not None:
            observation = {m: {"min": v, "max": v, "latest": v, "count": 1} for m, v in trial.metrics.items()}
            view.record_trial(name, TrialResult(trial=name, status=trial.status, reason=trial.reason, message=trial.message, observation=observation,
                                                metrics=trial.metrics, text_metrics=trial.text_metrics, time="2026-01-05T09:00:05Z"))
    return records


def rows_of(table: str) -> list[list[str]]:
    """The Markdown table's trial rows, each as its cells."""
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table.splitlines() if line.startswith("| ") and not line.startswith("| trial")]


# the objective plot and its alt text


def test_the_best_so_far_line_follows_the_lowest_loss_of_a_minimized_objective(tmp_path):
    """Losses 3, 1, 2: the best so far is 3, then 1 from the second trial on (held to the last
    trial); the goal (0.5, not reached) is a dashed line of its own."""
    write(tmp_path, [Trial(metrics={"loss": v}) for v in (3.0, 1.0, 2.0)], **{"spec.objective.goal": 0.5})
    axes = objective_plot(load_report(LocalStore(tmp_path), NAME)).axes[0]
    lines = {line.get_label(): line for line in axes.get_lines()}
    best = lines["best so far"]
    assert (list(best.get_xdata()), list(best.get_ydata())) == ([0, 1, 2, 2], [3.0, 1.0, 1.0, 1.0])
    assert list(lines["goal"].get_ydata()) == [0.5, 0.5] and lines["goal"].get_linestyle() == "--"


def test_the_best_so_far_line_follows_the_highest_value_of_a_maximized_objective(tmp_path):
    write(tmp_path, [Trial(metrics={"loss": v}) for v in (1.0, 3.0, 2.0)], **{"spec.objective.type": "maximize"})
    axes = objective_plot(load_report(LocalStore(tmp_path), NAME)).axes[0]
    best = next(line for line in axes.get_lines() if line.get_label() == "best so far")
    assert list(best.get_ydata()) == [1.0, 3.0, 3.0, 3.0]
    assert "goal" not in [line.get_label() for line in axes.get_lines()]  # none in the spec: no line


def test_the_alt_text_counts_every_trial_with_an_objective_and_none_without(tmp_path):
    """All three trials reported the objective: no "0 without an objective" clause."""
    write(tmp_path, [Trial(metrics={"loss": v}) for v in (3.0, 1.0, 2.0)])
    report = load_report(LocalStore(tmp_path), NAME)
    best = report.state.trials[1].name
    assert objective_alt(report) == f"loss of 3 of 3 trial(s) in the order created, and the best so far, reaching 1 at {best}; lower is better."


def test_the_alt_text_counts_as_early_stopped_only_the_stopped_trials_drawn(tmp_path):
    """An early-stopped trial stopped before it reported the objective is not drawn, so it is
    counted among those without an objective, not among the early stopped drawn at their value."""
    write(tmp_path, [Trial(metrics={"loss": 2.0}), Trial(status=TrialStatus.EARLY_STOPPED), Trial(status=TrialStatus.EARLY_STOPPED, metrics={"loss": 1.5})])
    report = load_report(LocalStore(tmp_path), NAME)
    best = report.state.trials[2].name
    assert objective_alt(report) == (
        f"loss of 2 of 3 trial(s) in the order created, and the best so far, reaching 1.5 at {best}; "
        "1 early stopped, at the value they were stopped at; 1 without an objective (failed, or not finished); lower is better."
    )


# the trial table


def test_a_long_ending_is_clipped_in_the_why_cell_of_both_tables(tmp_path):
    """The whole message is in ``kfp-tune trials --json``; a table cell shows WHY_CHARS of it."""
    message = "exit code 1: " + "x" * 400
    write(tmp_path, [Trial(status=TrialStatus.FAILED, reason="TrialFailed", message=message)])
    report = load_report(LocalStore(tmp_path), NAME)
    shown = ("TrialFailed: " + message)[: WHY_CHARS - 3] + "..."
    assert len(shown) == WHY_CHARS
    assert rows_of(markdown_table(report))[0][-1] == shown
    assert f'<td class="long">{shown}</td>' in html_report(report)
    assert trial_rows(LocalStore(tmp_path), NAME)[0]["message"] == message


def test_a_value_in_parentheses_is_explained_under_both_tables_only_when_one_is_shown(tmp_path):
    """A pipeline author's QA pass: a failed trial's '(7.206)' in the KFP UI's table and report
    was explained only in the guide."""
    from kfp_tune.reports import UNRANKED_NOTE

    write(tmp_path / "failed", [Trial(metrics={"loss": 1.0}), Trial(status=TrialStatus.FAILED, reason="TrialFailed", metrics={"loss": 7.206})])
    report = load_report(LocalStore(tmp_path / "failed"), NAME)
    table = markdown_table(report)
    assert "(7.206)" in table and table.rstrip("\n").endswith("\n\n" + UNRANKED_NOTE)
    assert f'</table></div><p class="note">{UNRANKED_NOTE}</p></main>' in html_report(report)
    write(tmp_path / "ok", [Trial(metrics={"loss": 1.0}), Trial(status=TrialStatus.FAILED, reason="TrialFailed")])  # failed, nothing reported
    quiet = load_report(LocalStore(tmp_path / "ok"), NAME)
    assert UNRANKED_NOTE not in markdown_table(quiet) and UNRANKED_NOTE not in html_report(quiet)


def test_a_text_metric_the_spec_does_not_name_still_gets_its_column(tmp_path):
    """metric_order: the spec's metrics, then any other a trial reported, text ones included."""
    write(tmp_path, [Trial(metrics={"loss": 1.0}, text_metrics={"genotype": "Genotype(normal=[a])"})])
    table = markdown_table(load_report(LocalStore(tmp_path), NAME))
    header = next(line for line in table.splitlines() if line.startswith("| trial"))
    assert header == "| trial | status | loss | accuracy | genotype | x | y |"
    assert rows_of(table)[0][2:5] == ["1", "", "Genotype\\(normal=\\[a\\]\\)"]


def test_a_code_span_of_spaces_only_is_not_padded():
    """CommonMark strips a space from each end of a span only when it is not all spaces: two
    spaces are fenced as they are (padding them would show four)."""
    assert _markdown_code("  ") == "`  `"
    assert _markdown_code(" a ") == "`  a  `"


# the saved status: what report, status and status --json read of it


def _save_status(records: ExperimentRecords, status: dict[str, Any]) -> None:
    records.write(records.status_key(), RecordKind.EXPERIMENT_STATUS, {"experiment": NAME, "status": status})


def test_a_saved_status_without_a_reason_is_listed_damaged_and_the_status_computed(tmp_path):
    records = write(tmp_path, [Trial(metrics={"loss": 1.0})])
    _save_status(records, {"phase": "Succeeded", "reason": None, "message": "done"})
    report = load_report(LocalStore(tmp_path), NAME)
    assert (report.phase, report.reason, report.message) == ("Running", "ExperimentRunning", "Experiment is running")
    assert report.damaged == {records.status_key(): "expected a status with a phase, a reason and a message (the status is computed from the trials instead)"}


def test_an_experiment_without_a_saved_status_is_running_not_out_of_rounds(tmp_path):
    """Computed from the trials, the status of an unfinished experiment is Running, as a run that
    still has rounds would say, not the "ran out of rounds" of a run that ended with budget left."""
    write(tmp_path, [Trial(metrics={"loss": 1.0})])
    report = load_report(LocalStore(tmp_path), NAME)
    assert (report.phase, report.reason, report.message) == ("Running", "ExperimentRunning", "Experiment is running")


def test_status_json_gives_the_saved_completion_time_of_a_finished_experiment(tmp_path):
    records = write(tmp_path, [Trial(metrics={"loss": 1.0})])
    _save_status(records, {"phase": "Succeeded", "reason": "ExperimentMaxTrialsReached", "message": "done", "completionTime": "2026-01-05T09:30:00Z"})
    status, _ = experiment_status(LocalStore(tmp_path), NAME)
    assert status["completionTime"] == "2026-01-05T09:30:00Z"


def test_status_json_gives_a_finished_experiment_without_a_saved_completion_time_a_time(tmp_path):
    records = write(tmp_path, [Trial(metrics={"loss": 1.0})])
    _save_status(records, {"phase": "Succeeded", "reason": "ExperimentMaxTrialsReached", "message": "done"})
    status, _ = experiment_status(LocalStore(tmp_path), NAME)
    assert isinstance(status["completionTime"], str) and status["completionTime"].endswith("Z")


# the running trials' heartbeats


def test_a_heartbeat_at_infinity_is_left_out(tmp_path):
    """A beat.json whose ``at`` is not a finite number (JSON readers take ``Infinity``) is read
    as no heartbeat: the trial is drawn as if it had none."""
    records = write(tmp_path, [Trial(status=None), Trial(status=None, x="0.25")])
    running, beating = (t.name for t in ExperimentView(records).state.trials)
    for trial in (running, beating):
        records.write(records.heartbeat_key(trial), RecordKind.TRIAL_HEARTBEAT, {"trial": trial, "attempt": "1", "at": T0 + 60, "time": "2026-01-05T09:01:00Z"})
    key = records.heartbeat_key(running)
    record = json.loads(records.store.get(key) or b"")
    records.store.put(key, json.dumps(record | {"at": "INF"}).replace('"INF"', "Infinity").encode())
    assert load_report(LocalStore(tmp_path), NAME).heartbeats == {beating: T0 + 60}


# kfp-tune trials --json


def test_a_trial_started_without_early_stopping_has_no_early_stopping_rules(tmp_path):
    """earlyStoppingRules is on the rows of an experiment with early stopping only."""
    write(tmp_path, [Trial(metrics={"loss": 1.0})])
    [row] = trial_rows(LocalStore(tmp_path), NAME)
    assert "earlyStoppingRules" not in row and row["status"] == "Succeeded"


def test_a_trial_record_a_newer_kfp_tune_wrote_is_newer_not_damaged(tmp_path):
    records = write(tmp_path, [Trial(metrics={"loss": 1.0})])
    trial = ExperimentView(records).state.trials[0].name
    key = records.trial_key(trial, TrialResult.FILE)
    record = json.loads(records.store.get(key) or b"")
    records.store.put(key, json.dumps(record | {"version": RECORD_VERSION + 1}).encode())
    [row] = trial_rows(LocalStore(tmp_path), NAME)
    assert "damaged" not in row
    assert row["newer"] == (
        f"result.json: written by a newer kfp-tune (record version {RECORD_VERSION + 1}): "
        f"upgrade kfp-tune ({kfp_tune.__version__} reads record version {RECORD_VERSION}) to read it; nothing was changed"
    )


# the resume note


def test_the_resume_note_tells_not_created_from_interrupted_trials(tmp_path):
    """A trial the launcher could not create is given back under its own words, with no
    "0 interrupted trial(s)"; an orphaned trial (started, never ended, followed by no run) will
    be given back, so its budget is still left."""
    write(tmp_path, [Trial(metrics={"loss": 1.0}), Trial(status=TrialStatus.KILLED, reason=TRIAL_NOT_CREATED, started=False), Trial(status=None)])
    assert resume_note(LocalStore(tmp_path), NAME) == (
        f"resuming experiment {NAME}: 1 trial(s) done (1 succeeded, 0 failed), "
        "1 trial(s) the launcher could not create given back, "
        "1 trial(s) the stopped run was running, to record Killed and give back (a trial of a killed run may still be running: its result will not be recorded; "
        f"a local trial's processes are listed by grep -lza '^KFP_TUNE_EXPERIMENT={NAME}$' /proc/[0-9]*/environ), "
        "5 new trial(s) left of maxTrialCount 6"
    )


def test_the_resume_note_does_not_call_an_interrupted_trial_not_created(tmp_path):
    write(tmp_path, [Trial(metrics={"loss": 1.0}), Trial(status=TrialStatus.KILLED, reason=TRIAL_INTERRUPTED)])
    assert resume_note(LocalStore(tmp_path), NAME) == (
        f"resuming experiment {NAME}: 1 trial(s) done (1 succeeded, 0 failed), 1 interrupted trial(s) given back, 5 new trial(s) left of maxTrialCount 6"
    )
