"""A trial that had ended when a plug-in early-stopping rule raised judging it keeps its own end
(aebf5c9), but not over an interrupt that got there first: once the interrupted run has
recorded the trial Killed (it let it go), the ended trial's outcome is discarded as every other
outcome is after that (``_record_unless_let_go``), nothing more written, the Killed kept (review A
of session 38, finding 6)."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune import Client, steps
from kfp_tune.collectors.running import EarlyStoppingRuleError
from kfp_tune.core.interfaces import Launcher, LaunchOutcome
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentView, load_state
from kfp_tune.core.trials import TrialRun
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.steps.decide_stop import kill_trial
from kfp_tune.stores import LocalStore


class _EndsThenRuleRaises(Launcher):
    """A trial that ended Succeeded (loss 0.5) and whose rule then raised; ``interrupt_first``:
    the run's interrupt came, and recorded the trial Killed, before the rule's error went up."""

    def __init__(self, view: ExperimentView, name: str, interrupt_first: bool) -> None:
        self.view, self.name, self.interrupt_first = view, name, interrupt_first
        self.cause = ""

    def run(self, trial: TrialRun) -> LaunchOutcome:
        if self.interrupt_first:
            self.cause = "SIGINT"
            assert kill_trial(self.view, self.name, "SIGINT")
        error = EarlyStoppingRuleError("rule 'counting-stop' raised: my bug")
        error.outcome = LaunchOutcome("Succeeded", logs={"main": "loss=0.5\n"})
        raise error


@pytest.mark.parametrize("interrupt_first", [False, True])
def test_an_ended_trial_keeps_its_end_unless_the_interrupt_recorded_it_killed_first(tmp_path, interrupt_first: bool) -> None:
    experiment = load_experiment(quadratic_experiment(**{"metadata.name": "ended", "spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}))
    records = ExperimentRecords(LocalStore(tmp_path / "store"), experiment.name)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    view = ExperimentView(records)
    launcher = _EndsThenRuleRaises(view, name, interrupt_first)
    with pytest.raises(EarlyStoppingRuleError):
        steps.launch_trial(records, launcher, name, view=view, interrupted=lambda: launcher.cause)
    trial = load_state(records).trial(name)
    if interrupt_first:
        assert trial.status == TrialStatus.KILLED and trial.given_back, trial
        assert records.store.get(records.log_key(name, "main")) is None, "the let-go trial's log was written after the interrupt's Killed"
    else:
        assert trial.status == TrialStatus.SUCCEEDED and load_state(records).objective_value(trial) == 0.5, trial


class _RuleRaisesAfterTheExperimentWasMadeAgain(Launcher):
    """A trial the rule was judging while it ran, whose experiment was deleted and made again
    under its name (another uid) before the rule's error went up with what it had printed."""

    def __init__(self, records: ExperimentRecords, experiment: Experiment) -> None:
        self.records, self.experiment = records, experiment

    def run(self, trial: TrialRun) -> LaunchOutcome:
        Client(self.records.store).delete_experiment(self.experiment.name, confirm=True)
        steps.suggest(self.records, "r0", 1, self.experiment)  # another experiment of the name
        error = EarlyStoppingRuleError("rule 'counting-stop' raised: my bug")
        error.logs = {"main": "still running output\n"}
        raise error


def test_a_running_trials_output_is_not_kept_in_an_experiment_made_again_under_its_name(tmp_path) -> None:
    experiment = load_experiment(quadratic_experiment(**{"metadata.name": "ended", "spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}))
    records = ExperimentRecords(LocalStore(tmp_path / "store"), experiment.name)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    with pytest.raises(EarlyStoppingRuleError):
        steps.launch_trial(records, _RuleRaisesAfterTheExperimentWasMadeAgain(records, experiment), name)
    assert records.store.get(records.log_key(name, "main")) is None, "the old trial's log landed in the experiment made again"
