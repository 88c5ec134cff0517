"""Progress while an experiment runs: the store read every so often, for the CLI's progress bar,
whichever engine runs the trials (this process, or a kfp.local subprocess)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from kfp_tune.core.decision import best_trial
from kfp_tune.core.interfaces import Store
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentView


class ProgressWatcher:
    """Reads the store every so often and reports finished trials, the best trial's metrics and
    the budget as stored (``total``: a budget edited while the run goes is followed by the run,
    and by the bar); drives a progress bar while an engine runs (in this process, or in a
    kfp.local subprocess)."""

    def __init__(self, store: Store, experiment: Experiment, update: Callable[[int, dict[str, Any]], None], interval: float = 0.5):
        self.store, self.experiment, self.update, self.interval = store, experiment, update, interval
        self._view: ExperimentView | None = None
        self._wait = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)

    def __enter__(self) -> ProgressWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.poll()

    def _loop(self) -> None:
        while not self._stop.wait(self._wait):
            self.poll()

    def poll(self) -> None:
        started = time.monotonic()
        try:
            if self._view is None:
                self._view = ExperimentView(ExperimentRecords(self.store, self.experiment.name), lenient=True)
            state = self._view.refresh()
        except Exception:  # not created yet, or mid-write on a slow store: try again next tick
            return
        finally:
            # a large experiment on a slow store: poll less often rather than compete with the run
            self._wait = max(self.interval, 10 * (time.monotonic() - started))
        done = sum(1 for t in state.trials if t.is_terminal and not t.given_back)  # what counts towards maxTrialCount
        best = best_trial(state)
        self.update(done, {"best": best.metrics if best else {}, "total": state.experiment.spec.max_trial_count})  # an edited budget too
