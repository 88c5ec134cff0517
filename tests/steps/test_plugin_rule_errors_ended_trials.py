"""A plug-in early-stopping rule that raises while judging a trial that had already ended (its
process exited, all it printed read) stops the run, but that trial keeps its own outcome, as if
no rule had been asked: Succeeded with its metrics here, not given back and trained again (under
grid the same point twice). Only a trial still running when the rule raises is given back
(review E of session 37, finding 2, of 2e8bf88)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.algorithms import early_stopping
from kfp_tune.cli import main
from kfp_tune.collectors.running import EarlyStoppingRuleError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.space import search_space_of
from kfp_tune.core.state import TRIAL_STALE, load_state
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher, local
from kfp_tune.launchers.function import FunctionLauncher
from kfp_tune.stores import LocalStore

SUCCEEDED = TrialStatus.SUCCEEDED

RULE = {"raise_from_call": 0, "raise_when_reported": False, "calls": 0}
"""How the plug-in rule is broken now: it raises from its Nth call on (0: never), or whenever
the trial has reported (the tests set it, then 'fix the plug-in')."""


class CountingRule:
    """A plug-in rule that never stops a trial, broken as RULE says."""

    name = "counting-stop"

    def __init__(self, settings: dict[str, Any]):
        pass

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        RULE["calls"] += 1
        if RULE["raise_from_call"] and RULE["calls"] >= RULE["raise_from_call"]:
            raise RuntimeError(f"my bug at judgement {RULE['calls']}")
        if RULE["raise_when_reported"] and current:
            raise RuntimeError("my bug on a report")
        return False


@pytest.fixture
def counting_rule(clean_plugin_registries: None, monkeypatch: pytest.MonkeyPatch) -> None:
    early_stopping.register("counting-stop", CountingRule, settings=())
    for key, value in {"raise_from_call": 0, "raise_when_reported": False, "calls": 0}.items():
        monkeypatch.setitem(RULE, key, value)


def experiment(trial: str, parallel: int = 1) -> dict[str, Any]:
    return quadratic_experiment(**{
        "metadata.name": "ended",
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.earlyStopping": {"algorithmName": "counting-stop"},
        "spec.parallelTrialCount": parallel,
        "spec.maxTrialCount": 3,
        "spec.maxFailedTrialCount": 1,
        "spec.parameters": [{"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["1", "2", "3"]}}],
        "spec.trialTemplate.trialParameters": [{"name": "x", "reference": "x"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "image": "python:3.11", "command": ["python3", "-c", shlex.quote(trial), "${trialParameters.x}"]}
        ],
    })


QUICK = "import sys\nprint(f'loss={sys.argv[1]}.5')\n"
"""A trial that reports once and ends at once: with POLL_SECONDS at an hour, it is judged only
once it has ended, on all it printed."""


def trials(store: LocalStore) -> list[tuple[str, TrialStatus, str, float | None]]:
    """(x, status, reason, loss) of each trial, by x (grid's order of the points is its own)."""
    out = []
    for t in load_state(ExperimentRecords(store, "ended")).trials:
        loss = t.result.metrics.get("loss") if t.result is not None and t.result.metrics else None
        out.append((t.assignment["x"], t.status, t.result.reason if t.result is not None else "", loss))
    return sorted(out, key=lambda row: (row[0], row[1] != TrialStatus.KILLED))


@pytest.mark.usefixtures("counting_rule")
def test_a_trial_that_had_ended_keeps_succeeded_when_the_rule_raises_judging_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local subprocess launcher: trial 1 is judged (twice: its output, then its end) and
    passes; the rule raises at its 3rd judgement, on trial 2, which had ended: trial 2 is
    Succeeded with its loss, the run stops before trial 3, and a run after the fix runs only
    trial 3 (three trials in all, none trained twice)."""
    monkeypatch.setattr(local, "POLL_SECONDS", 3600.0)
    store = LocalStore(tmp_path / "store")
    RULE["raise_from_call"] = 3
    with pytest.raises(EarlyStoppingRuleError, match="my bug at judgement 3"):
        run_inline(store, load_experiment(experiment(QUICK)), LocalLauncher())
    first = trials(store)
    assert [(status, reason, loss) for x, status, reason, loss in first] == [(SUCCEEDED, "TrialSucceeded", float(x) + 0.5) for x, *_ in first], first
    assert len(first) == 2, first
    records = ExperimentRecords(store, "ended")
    assert all(f"loss={t.assignment['x']}.5" in (records.read_text(records.log_key(t.name, "main")) or "") for t in load_state(records).trials)

    RULE["raise_from_call"] = 0  # the plug-in fixed
    decision = run_inline(store, load_experiment(experiment(QUICK)), LocalLauncher())
    assert decision.finished, decision
    assert trials(store) == [(x, SUCCEEDED, "TrialSucceeded", float(x) + 0.5) for x in "123"], trials(store)


@pytest.mark.usefixtures("counting_rule")
def test_a_failed_trial_that_had_ended_keeps_failed_when_the_rule_raises_judging_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As its end says: a trial that exited 3 is Failed (counted against maxFailedTrialCount, as
    with no rule), not given back."""
    monkeypatch.setattr(local, "POLL_SECONDS", 3600.0)
    store = LocalStore(tmp_path / "store")
    RULE["raise_from_call"] = 1
    failing = "import sys\nprint(f'loss={sys.argv[1]}.5')\nsys.exit(3)\n"
    with pytest.raises(EarlyStoppingRuleError, match="my bug at judgement 1"):
        run_inline(store, load_experiment(experiment(failing)), LocalLauncher())
    [(_, status, reason, _)] = trials(store)
    assert status == TrialStatus.FAILED and reason != TRIAL_STALE, trials(store)
    state = load_state(ExperimentRecords(store, "ended"))
    assert not state.trials[0].given_back


@pytest.mark.usefixtures("counting_rule")
def test_a_trial_still_running_when_the_rule_raises_is_given_back_and_run_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Judged while it runs (it waits for a file the test makes only later): stopped and given
    back (Killed, TrialStale), and its point is run again by the run after the fix."""
    monkeypatch.setattr(local, "POLL_SECONDS", 0.02)
    release = tmp_path / "release"
    waiting = (
        "import os, sys, time\nprint(f'loss={sys.argv[1]}.5', flush=True)\n"
        f"for _ in range(6000):\n    if os.path.exists({str(release)!r}):\n        break\n    time.sleep(0.02)\n"
    )
    store = LocalStore(tmp_path / "store")
    RULE["raise_when_reported"] = True
    with pytest.raises(EarlyStoppingRuleError, match="my bug on a report"):
        run_inline(store, load_experiment(experiment(waiting)), LocalLauncher())
    state = load_state(ExperimentRecords(store, "ended"))
    [killed] = state.trials
    assert (killed.status, killed.given_back, killed.result.reason if killed.result else "") == (TrialStatus.KILLED, True, TRIAL_STALE)

    RULE["raise_when_reported"] = False
    release.write_text("")
    assert run_inline(store, load_experiment(experiment(waiting)), LocalLauncher()).finished
    done = [(x, status) for x, status, _, _ in trials(store)]
    assert done == sorted([(killed.assignment["x"], TrialStatus.KILLED), *((x, SUCCEEDED) for x in "123")], key=lambda row: (row[0], row[1] != TrialStatus.KILLED)), done


@pytest.mark.usefixtures("counting_rule")
def test_function_trials_are_never_judged_so_the_rule_gives_none_back(tmp_path: Path) -> None:
    """The function launcher (tune()'s) asks no early-stopping rule (tune() takes none, as
    Katib's): under an experiment naming the broken rule its trials end Succeeded."""
    store = LocalStore(tmp_path / "store")
    RULE["raise_from_call"] = 1
    exp = load_experiment(experiment(QUICK))
    launcher = FunctionLauncher(lambda params: float(params["x"]) + 0.5, search_space_of(exp.spec.parameters), "loss")
    assert run_inline(store, exp, launcher).finished
    assert [(x, status, loss) for x, status, _, loss in trials(store)] == [(x, SUCCEEDED, float(x) + 0.5) for x in "123"], trials(store)
    assert RULE["calls"] == 0


@pytest.mark.usefixtures("counting_rule")
def test_kfp_tune_run_inline_keeps_the_ended_trials_and_the_rerun_runs_only_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end: kfp-tune run --engine inline of an experiment whose plug-in rule raises on its
    3rd judgement; the rule is named, exit 1; the two trials that had ended are Succeeded; after
    the fix, kfp-tune run runs the one trial left, none again."""
    monkeypatch.setattr(local, "POLL_SECONDS", 3600.0)
    document = tmp_path / "ended.yaml"
    document.write_text(yaml.safe_dump(experiment(QUICK)))
    command = ["run", str(document), "--engine", "inline", "--store", str(tmp_path / "store")]
    RULE["raise_from_call"] = 3
    assert main(command) == 1
    err = capsys.readouterr().err
    assert "early-stopping rule 'counting-stop'" in err and "my bug at judgement 3" in err, err
    store = LocalStore(tmp_path / "store")
    assert [status for _, status, _, _ in trials(store)] == [SUCCEEDED, SUCCEEDED], trials(store)

    RULE["raise_from_call"] = 0
    assert main(command) == 0, capsys.readouterr().err
    assert [(x, status) for x, status, _, _ in trials(store)] == [(x, SUCCEEDED) for x in "123"], trials(store)
