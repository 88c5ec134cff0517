"""Progress while an experiment runs: the store read every so often, for the CLI's progress bar
(or its plain lines, where stderr is no terminal), whichever engine runs the trials (this
process, or a kfp.local subprocess)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from kfp_tune.core.decision import best_trial
from kfp_tune.core.interfaces import Store
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import ExperimentView, TrialState
from kfp_tune.core.vocabulary import TrialStatus


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
        self.update(done, {
            "best": best.metrics if best else {}, "total": state.experiment.spec.max_trial_count,  # an edited budget too
            "ended": [t for t in state.trials if t.is_terminal], "running": sum(1 for t in state.trials if t.status == TrialStatus.RUNNING),
        })


PLAIN_PROGRESS_SECONDS = 5.0
"""At most one progress line this often: trials that end faster are told together."""


class PlainProgress:
    """Progress as plain lines where no bar can show (stderr not a terminal: ``2>file``, nohup,
    CI), where tqdm turns itself off and a run said nothing until it ended: a line per trial
    that ended, or one for the trials that ended within ``every`` seconds of each other, e.g.
    ``trial quad-x1 Succeeded loss=0.12 (5/12 done, 2 running, best loss=0.1)``. Fed by
    :class:`ProgressWatcher`; leaving it says what is left untold."""

    def __init__(self, objective: str, write: Callable[[str], None], every: float = PLAIN_PROGRESS_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.objective, self.write, self.every, self.clock = objective, write, every, clock
        self._told: set[str] = set()
        self._pending: list[TrialState] = []
        self._last = -float("inf")
        self._where = ""

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    def update(self, done: int, info: dict[str, Any]) -> None:
        for trial in info.get("ended", []):
            if trial.name not in self._told:
                self._told.add(trial.name)
                self._pending.append(trial)
        best = info["best"].get(self.objective)
        total = info.get("total")
        self._where = (f"({done}/{total} done" if total else f"({done} done") + f", {info.get('running', 0)} running" + (
            f", best {self.objective}={_shown(best)})" if best is not None else ")")
        if self._pending and self.clock() - self._last >= self.every:
            self.flush()

    def flush(self) -> None:
        """The trials that ended and are not told yet, in one line."""
        if not self._pending:
            return
        ended, self._pending = self._pending, []
        self._last = self.clock()
        if len(ended) == 1:
            trial = ended[0]
            value: float | str | None = trial.metrics.get(self.objective, trial.text_metrics.get(self.objective))
            told = f"trial {trial.name} {trial.status}" + (f" {self.objective}={_shown(value)}" if value is not None else "")
        else:
            counts = Counter(str(trial.status) for trial in ended)
            names = ", ".join(trial.name for trial in ended[:3]) + (f" and {len(ended) - 3} more" if len(ended) > 3 else "")
            told = f"{len(ended)} trials ended ({', '.join(f'{n} {status}' for status, n in counts.items())}): {names}"
        self.write(f"{told} {self._where}")


def _shown(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:.6g}"
