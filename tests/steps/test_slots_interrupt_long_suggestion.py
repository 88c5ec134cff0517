"""A stop signal while the algorithm computes a suggestion (enas with a large
``controller_train_steps``: minutes per suggestion) ends the run as the notice says, without
waiting for the algorithm to return; the suggestion is abandoned, nothing of it recorded.

The algorithm here blocks until the test lets it go (bounded only so that a regression fails
instead of hanging); the signal is raised from inside it, as a Ctrl-C lands while it computes."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.algorithms import registry
from kfp_tune.core import claims
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.steps import designer
from kfp_tune.steps.slots import LOOK_AGAIN_SECONDS, run_slots
from kfp_tune.stores import LocalStore
from slot_launchers import HANG_BOUND_SECONDS, Instant


class InterruptibleInstant(Instant):
    """Each trial succeeds at once; the run may be interrupted (as the local launcher's)."""

    can_interrupt = True

    def interrupt(self, force: bool = False) -> None:
        pass

    def run(self, trial: TrialRun) -> LaunchOutcome:
        return super().run(trial)


class SlowSecondSuggestion:
    """The experiment's own algorithm, except that its second suggestion raises ``signum`` in
    this process and then computes until let go (``release``). The signal comes after the run's
    main thread has looked at its slots again (it then waits for the lock the computing slot
    holds, as it does for most of a suggestion that takes minutes)."""

    def __init__(self, signum: signal.Signals) -> None:
        self.signum = signum
        self.calls = 0
        self.release = threading.Event()
        self.returned = threading.Event()
        self.computing: list[threading.Thread] = []
        self.real_create = registry.create

    def create(self, name: str, settings: dict[str, Any]) -> Any:
        real = self.real_create(name, settings)
        slow = self

        class Slow:
            def suggest(self, *args: Any) -> Any:
                slow.calls += 1
                if slow.calls == 2:
                    slow.computing.append(threading.current_thread())
                    time.sleep(2 * LOOK_AGAIN_SECONDS)  # the run's main thread has looked again since: it waits for the slot's lock
                    signal.raise_signal(slow.signum)  # Python runs the run's handler in the main thread
                    slow.release.wait(HANG_BOUND_SECONDS)
                    slow.returned.set()
                return real.suggest(*args)

        return Slow()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_long_suggestion_ends_the_run_without_waiting_for_it(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, signum: signal.Signals
) -> None:
    # A process started with the signal ignored keeps it ignored (slots.takes_over): an earlier
    # test of this worker may have left it so (a fresh clone's CI saw SIGINT ignored here once).
    # The case is a process that answers it, as a terminal's python does.
    previous = signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 1}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    steps.prepare(records, experiment, "run-1")
    algorithm = SlowSecondSuggestion(signum)
    monkeypatch.setattr(designer.registry, "create", algorithm.create)
    launcher = InterruptibleInstant()
    try:
        with pytest.raises(RunInterrupted) as raised:
            run_slots(ExperimentView(records), launcher, "run-1", adopt=True)
        still_computing = not algorithm.returned.is_set()
    finally:
        algorithm.release.set()
        for thread in algorithm.computing:
            thread.join(HANG_BOUND_SECONDS)
        signal.signal(signum, previous)
    assert raised.value.signal_name == signum.name
    assert still_computing, "the run waited for the algorithm to return before it ended"
    assert algorithm.calls == 2 and len(launcher.runs) == 1
    latest = claims.latest_claim(records)
    assert latest is not None and latest.ended  # the run is over, its claim released
    # the abandoned suggestion, finished since, recorded nothing: one trial, one round
    state = ExperimentView(records).state
    assert [t.status for t in state.trials] == [TrialStatus.SUCCEEDED]
    assert len(state.rounds) == 1
    assert algorithm.computing and not algorithm.computing[0].is_alive()
