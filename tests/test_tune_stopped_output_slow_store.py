"""The stop button's log keeper (5f991a8) stores each running call's output so far without
holding up the calls: a call that returns in the run's grace period while the keeper's store
write is slow (a store in an outage, retrying) ends at once and is recorded with its own outcome
and whole log, and the keeper's late snapshot does not replace that log (review B of the QA
notebook fixes, finding 8: the keeper held the launcher's lock across its write, and every call's
end waited on it; past the grace the call was recorded Killed and its output lost). No timing
decides the order: the keeper's write waits on an event the call's whole log sets."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from kfp_tune import Client, search, tune
from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.records import ExperimentRecords

BOUND_SECONDS = 20.0
"""Only turns a regression's hang into a failure (below the run's 30 s grace)."""

pytestmark = pytest.mark.usefixtures("usual_sigint")  # tests/conftest.py


def test_a_call_that_ends_while_the_keeper_writes_is_recorded_with_its_whole_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keeper_writing, whole_log_written = threading.Event(), threading.Event()
    keeper_waited: list[bool] = []
    real_write = ExperimentRecords.write_text

    def slow_for_the_keeper(records: ExperimentRecords, key: str, text: str, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "function-trial-output" and not keeper_writing.is_set():
            keeper_writing.set()
            keeper_waited.append(whole_log_written.wait(BOUND_SECONDS))  # the store is slow: the call ends meanwhile
        written = real_write(records, key, text, *args, **kwargs)
        if "step 1: done" in text:
            whole_log_written.set()
        return written

    monkeypatch.setattr(ExperimentRecords, "write_text", slow_for_the_keeper)

    def training(params: dict[str, Any]) -> float:
        print("step 0", flush=True)
        os.kill(os.getpid(), signal.SIGINT)  # the stop button, while the call runs
        assert keeper_writing.wait(BOUND_SECONDS), "the keeper never wrote"
        print("step 1: done")
        return float(params["x"])

    with pytest.raises(RunInterrupted):
        tune(training, {"x": search.double(0, 1)}, max_trial_count=2, name="slow", algorithm="random",
             algorithm_settings={"random_state": 4}, store=str(tmp_path))
    for thread in threading.enumerate():
        if thread.name == "function-trial-output":
            thread.join(BOUND_SECONDS)
    assert keeper_waited == [True]  # the call's end did not wait for the keeper's write
    client = Client(str(tmp_path))
    (trial,) = client.list_trials("slow")
    assert trial.status.conditions[-1]["type"] == "Succeeded"
    assert client.get_trial_logs(("slow", trial.metadata.name)).startswith("step 0\nstep 1: done\nobjective=")  # not the snapshot
