"""A rule with ``katib_rules`` (medianstop and its subclasses) is judged by the rules they fix as a
trial starts, never by its ``should_stop``: a subclass that overrides only ``should_stop`` is
judged by it instead, in a run and in ``EarlyStoppingContract`` alike, and the contract fails a
Katib-shaped rule whose ``should_stop`` says something its rules do not."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from start_order import CLAIM_PLACE

from conftest import quadratic_experiment
from kfp_tune.algorithms import early_stopping
from kfp_tune.algorithms.early_stopping import MedianStop
from kfp_tune.algorithms.testing import EarlyStoppingContract
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, StopRule
from kfp_tune.core.state import load_state
from kfp_tune.core.vocabulary import Comparison, ObjectiveType, TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher, local
from kfp_tune.stores import LocalStore


class WorseThanTheMean(MedianStop):
    """medianstop tweaked the way a newcomer tweaks it, ``should_stop`` only (the QA's plug-in):
    stop a trial once its best value so far is worse than the completed trials' mean at the same
    report, from the first completed trial on (medianstop's own rules need three)."""

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        at = [curve[min(len(current), len(curve)) - 1] for curve in completed if curve]
        if not current or not at:
            return False
        mean = sum(at) / len(at)
        return min(current) > mean if objective_type == ObjectiveType.MINIMIZE else max(current) < mean


class NewRules(MedianStop):
    """Overrides ``katib_rules`` only: its inherited ``should_stop`` applies them."""

    def katib_rules(self, metric: str, objective_type: str, completed: Sequence[Sequence[float]]) -> list[StopRule]:
        comparison = Comparison.LESS if objective_type == ObjectiveType.MAXIMIZE else Comparison.GREATER
        return [StopRule(metric, "100.0", comparison, 1)]


class SaysTwoThings(MedianStop):
    """Both in one class, disagreeing: rules that stop every trial at its first report, and a
    ``should_stop`` that never stops one. A run follows the rules."""

    def katib_rules(self, metric: str, objective_type: str, completed: Sequence[Sequence[float]]) -> list[StopRule]:
        maximize = objective_type == ObjectiveType.MAXIMIZE
        return [StopRule(metric, "1e9" if maximize else "-1e9", Comparison.LESS if maximize else Comparison.GREATER, 1)]

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        return False


def test_a_rule_is_asked_by_its_katib_rules_unless_its_class_overrides_only_should_stop() -> None:
    assert early_stopping.katib_shaped(MedianStop({})) is not None
    assert early_stopping.katib_shaped(NewRules({})) is not None
    assert early_stopping.katib_shaped(SaysTwoThings({})) is not None  # the same class: its katib_rules, checked by the contract
    assert early_stopping.katib_shaped(WorseThanTheMean({})) is None
    assert early_stopping.katib_shaped(early_stopping.FixedRules(())) is None

    completed = [[5.0, 3.0]]
    judge, curves = early_stopping.trial_judge(WorseThanTheMean({}), "loss", "minimize", completed)
    assert isinstance(judge, WorseThanTheMean) and curves == completed
    assert [judge.should_stop("minimize", curves, [4.0, 4.0][:count]) for count in (1, 2)] == [False, True]
    judge, curves = early_stopping.trial_judge(NewRules({}), "loss", "minimize", completed)
    assert isinstance(judge, early_stopping.FixedRules) and judge.rules == (StopRule("loss", "100.0", Comparison.GREATER, 1),) and curves == []


def one_at_a_time(places: Path, rule_name: str) -> dict[str, Any]:
    """Three trials one after another; the k-th to start reports loss k three times (its place
    claimed in ``places``) and exits at once."""
    trial = CLAIM_PLACE + "import sys\nk = claim_place(sys.argv[2])\nfor step in range(3):\n    print(f'loss={k}')\n"
    return quadratic_experiment(**{
        "metadata.name": "tweaked",
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.earlyStopping": {"algorithmName": rule_name},
        "spec.parallelTrialCount": 1,
        "spec.maxTrialCount": 3,
        "spec.parameters": [{"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["1", "2", "3"]}}],
        "spec.trialTemplate.trialParameters": [{"name": "x", "reference": "x"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "image": "python:3.11", "command": ["python3", "-c", shlex.quote(trial), "${trialParameters.x}", str(places)]}
        ],
    })


@pytest.mark.usefixtures("clean_plugin_registries")
def test_a_run_asks_a_medianstop_subclass_that_overrides_only_should_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The QA run: medianstop's inherited rules (three completed trials needed) stopped nothing,
    and the subclass's should_stop was never called. Now the first trial succeeds and the two
    after it, worse than it at every report, are stopped by should_stop, judged once they have
    ended (the launcher's poll is an hour); no Katib rules are recorded, as the rule has none."""
    early_stopping.register("worse-than-the-mean", WorseThanTheMean, settings=())
    monkeypatch.setattr(local, "POLL_SECONDS", 3600.0)
    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(one_at_a_time(tmp_path / "places", "worse-than-the-mean")), LocalLauncher())
    trials = sorted(load_state(ExperimentRecords(store, "tweaked")).trials, key=lambda t: t.index)
    assert [t.result.curve if t.result else None for t in trials] == [(1.0,) * 3, (2.0,) * 3, (3.0,) * 3]
    assert [t.status for t in trials] == [TrialStatus.SUCCEEDED, TrialStatus.EARLY_STOPPED, TrialStatus.EARLY_STOPPED]
    assert all(t.started is not None and t.started.early_stopping_rules is None for t in trials)


class TestATweakedMedianStopKeepsTheContract(EarlyStoppingContract):
    """Judged by its should_stop, which the contract asks, in a run as here."""

    rule_name = "worse-than-the-mean"

    @pytest.fixture(autouse=True)
    def registered(self, clean_plugin_registries: None) -> None:
        early_stopping.register("worse-than-the-mean", WorseThanTheMean, settings=())

    def test_its_should_stop_is_what_the_contract_asks(self) -> None:
        assert self.answers("minimize", [[5.0, 3.0]], [4.0, 4.0]) == [False, True]  # no fixed rule answers so


@pytest.mark.usefixtures("clean_plugin_registries")
def test_the_contract_asks_a_katib_shaped_rule_through_its_rules_and_fails_a_should_stop_that_disagrees() -> None:
    """SaysTwoThings passed every check when the contract asked should_stop; a run stops all its
    trials at their first report."""
    early_stopping.register("says-two-things", SaysTwoThings, settings=())

    class Suite(EarlyStoppingContract):
        rule_name = "says-two-things"
        stops_bad_trials = False

    with pytest.raises(AssertionError, match="minimize: a trial better than every completed one was stopped at report 1"):
        Suite().test_a_trial_better_than_every_completed_one_is_never_stopped()
    with pytest.raises(AssertionError, match=r"minimize: after 1 report\(s\) should_stop answered False and the rules katib_rules fixes .* answer True"):
        Suite().test_a_katib_shaped_rule_says_the_same_through_should_stop()


@pytest.mark.usefixtures("clean_plugin_registries")
def test_the_contract_passes_a_rule_that_overrides_only_katib_rules_and_checks_its_answers() -> None:
    early_stopping.register("new-rules", NewRules, settings=())

    class Suite(EarlyStoppingContract):
        rule_name = "new-rules"

    Suite().test_a_katib_shaped_rule_says_the_same_through_should_stop()
    # the losses of curves(shift=100) are above 100 from the first report: stopped there
    assert Suite().answers("minimize", [[1.0]], Suite().curves("minimize", 100.0)[0][:3]) == [True, True, True]
