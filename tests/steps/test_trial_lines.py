"""What a run's log says about each trial (the CLI's -v, a KFP component's Logs tab): its
parameters when it starts, how it ended and why, the best trial when the experiment is decided,
and what the suggest and launch-trial steps did, in the user's terms."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from mode_trials import MODES, modes_experiment

from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.steps.entrypoints import launch_trials_step, suggest_step
from kfp_tune.steps.slots import run_slots


def _messages(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger]


def test_each_trial_s_start_and_end_say_its_parameters_and_why_it_did_not_succeed(local_store, caplog):
    """The slots logged ``trial NAME Failed {}``: no reason, and nowhere the parameters."""
    experiment = load_experiment(modes_experiment())
    with caplog.at_level(logging.INFO, logger="kfp_tune"):
        run_inline(local_store, experiment, LocalLauncher())
    state = ExperimentView(ExperimentRecords(local_store, experiment.name)).state
    assert sorted(t.assignment["mode"] for t in state.trials) == sorted(MODES)
    started, ended = _messages(caplog, "kfp_tune.steps.launch_trial"), _messages(caplog, "kfp_tune.steps.slots")
    for trial in state.trials:
        assert f"trial {trial.name}: mode={trial.assignment['mode']}, x={trial.assignment['x']}" in started, started
        (line,) = [m for m in ended if m.startswith(f"trial {trial.name} ")]
        assert line.startswith(f"trial {trial.name} {trial.status}")
        result = trial.result
        assert result is not None
        if trial.status == TrialStatus.SUCCEEDED:
            assert f"loss={trial.metrics['loss']:.6g}" in line and "(" not in line
        else:  # the stored reason and message, on one line
            assert result.reason and result.message and "\n" not in line
            assert f"({result.reason}: {' '.join(result.message.split())})" in line, line
    failed = {t.assignment["mode"]: t for t in state.trials}
    assert failed["fail"].status == TrialStatus.FAILED and "something went wrong" in failed["fail"].result.message  # type: ignore[union-attr]
    assert failed["silent"].status == TrialStatus.METRICS_UNAVAILABLE


def test_a_trial_s_long_message_is_clipped_on_its_line(local_store, caplog, tmp_path: Path):
    from kfp_tune.progress import OUTCOME_LIMIT

    trial = tmp_path / "long.py"
    trial.write_text("import sys\nprint('why ' * 500, file=sys.stderr)\nsys.exit(2)\n")
    doc = modes_experiment(**{"spec.maxTrialCount": 1, "spec.maxFailedTrialCount": 1, "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.command": ["python3", str(trial)]})
    with caplog.at_level(logging.INFO, logger="kfp_tune"):
        run_inline(local_store, load_experiment(doc), LocalLauncher())
    (line,) = [m for m in _messages(caplog, "kfp_tune.steps.slots") if " Failed " in m]
    assert "why why" in line and line.endswith("...)") and len(line) < OUTCOME_LIMIT + 80, line


def test_decide_stop_names_the_best_trial_and_the_exit_handler_confirms(local_store, caplog):
    """decide-stop logged ``Succeeded: ExperimentMaxTrialsReached (...)`` at the last checkpoint
    and again, word for word, in the run's exit handler. Both decide (the exit handler is the
    one that writes the status when a step failed); the second now says it confirms."""
    experiment = load_experiment(modes_experiment())
    records = ExperimentRecords(local_store, experiment.name)
    steps.suggest(records, "run1-r0", 1, experiment, run_id="run1", n=0)
    run_slots(ExperimentView(records), LocalLauncher(), "run1")
    with caplog.at_level(logging.INFO, logger="kfp_tune.steps.decide_stop"):
        decision = steps.decide_stop(records, "run1-r0", 0, run_id="run1")
        closed = steps.close_run(records, "run1")
    best = decision.best_trial
    assert decision.reason == closed.reason == "ExperimentMaxTrialsReached" and best is not None and best.assignment["mode"] == "ok"
    decided, confirmed = _messages(caplog, "kfp_tune.steps.decide_stop")
    told = f"best trial {best.name}: loss={best.metrics['loss']:.6g} (mode=ok, x={best.assignment['x']})"
    assert decided.startswith(f"experiment Succeeded ({decision.reason}: ") and decided.endswith(told), decided
    assert confirmed.startswith("the run ends; confirms the outcome decided before: experiment Succeeded") and confirmed.endswith(told), confirmed


def test_the_suggest_and_launch_trial_steps_say_what_happened_in_the_user_s_terms(tmp_path, caplog):
    """In slots mode suggest prepares the experiment and makes no trial: it logged
    ``round 1 of 10: 0 trial(s): []``; launch-trial logged ``checkpoint 1 of 10`` on kfp.local,
    where a run has no checkpoint limit."""
    import json

    doc = modes_experiment()
    store = str(tmp_path / "store")
    with caplog.at_level(logging.INFO):
        suggest_step(store, "quad", "run1", 0, 10, experiment_spec=json.dumps(doc), trial_count=0)
        launch_trials_step(store, "quad", json.dumps({"kind": "local"}), "run1", 0, 10)
    (prepared,) = _messages(caplog, "kfp_tune.suggest")
    assert prepared == "experiment quad prepared; its trials are suggested one at a time, as places free up (parallelTrialCount 1)"
    (launched,) = _messages(caplog, "kfp_tune.launch")
    assert re.fullmatch(rf"{len(MODES)} trial\(s\) ended in this step; experiment Succeeded \(ExperimentMaxTrialsReached\)", launched), launched
    assert "checkpoint" not in launched and "round" not in prepared


def test_a_checkpoint_that_is_due_says_its_limit(tmp_path, caplog):
    import json

    doc = modes_experiment()
    store = str(tmp_path / "store")
    suggest_step(store, "quad", "run1", 0, 3, experiment_spec=json.dumps(doc), trial_count=0)
    with caplog.at_level(logging.INFO, logger="kfp_tune.launch"):
        launch_trials_step(store, "quad", json.dumps({"kind": "local"}), "run1", 0, 3, checkpoint_trials=1)
    (launched,) = _messages(caplog, "kfp_tune.launch")
    assert launched == "1 trial(s) ended in this step; checkpoint 1 of 3 reached (after 1 trial(s)); the experiment goes on after decide-stop"
