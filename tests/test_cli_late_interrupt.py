"""A Ctrl-C that lands after the run has ended (every trial finished, the experiment recorded
Succeeded; the progress output still catching up, as in a run of 1,100 trials): the run no
longer answers signals itself, so it was Python's KeyboardInterrupt, "interrupted" and exit
130, as if the run had been stopped. A user of ``kfp-tune run`` expects the exit status of how
the experiment ended, since it did: the run says the signal came after the end, and exits so."""

from __future__ import annotations

import json
import signal

import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from late_signal import run_with_a_ctrl_c_after_its_end


def write(tmp_path) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 1})))
    return str(path)


def test_a_ctrl_c_after_the_experiment_ended_exits_as_the_finished_run(tmp_path, capsys, monkeypatch):
    code = run_with_a_ctrl_c_after_its_end(write(tmp_path), tmp_path / "store", monkeypatch)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["status"] == "Succeeded"
    assert "the signal came after the run had ended: experiment quad Succeeded (ExperimentMaxTrialsReached); nothing was stopped" in captured.err
    assert "interrupted" not in captured.err


def test_a_ctrl_c_python_raised_before_the_experiment_ended_is_still_interrupted(tmp_path, capsys, monkeypatch):
    import kfp_tune.inline_runner

    def stopped_before_its_signals_were_answered(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", stopped_before_its_signals_were_answered)
    assert main(["run", write(tmp_path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "interrupted"


def test_a_late_ctrl_c_with_the_store_down_is_interrupted_without_waiting_out_the_retry_window(tmp_path, capsys, monkeypatch):
    """The look at whether the experiment had ended waited the store's whole retry window (300 s
    by default) while the terminal was held: it now gets none (a second at most), and the
    run is "interrupted", 130, at once."""
    import kfp_tune.cli
    import kfp_tune.progress
    import kfp_tune.stores.retry
    from kfp_tune.core.errors import StoreError
    from kfp_tune.stores.local import LocalStore
    from kfp_tune.stores.retry import RetryingStore

    class GoesDown(LocalStore):
        down = False

        def get(self, key: str) -> bytes | None:
            if self.down:
                raise StoreError(f"S3 read of {key} failed: connection refused", transient=True)
            return super().get(key)

        def list(self, prefix: str) -> list[str]:
            if self.down:
                raise StoreError(f"S3 listing of {prefix} failed: connection refused", transient=True)
            return super().list(prefix)

    class Clock:
        """The store's clock, moved on by its waits: the window is spent in no time."""

        now = 1000.0

        @classmethod
        def monotonic(cls) -> float:
            return cls.now

        @classmethod
        def sleep(cls, seconds: float) -> None:
            cls.now += seconds

    monkeypatch.setattr(kfp_tune.stores.retry, "time", Clock)
    inner = GoesDown(tmp_path / "store")
    store = RetryingStore(inner, deadline=300, sleep=Clock.sleep)
    monkeypatch.setattr(kfp_tune.cli, "_open_store", lambda uri, look=False: store)
    last_look = kfp_tune.progress.ProgressWatcher.__exit__

    def last_look_then_down_then_ctrl_c(self, *exc_info):
        last_look(self, *exc_info)
        inner.down = True
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(kfp_tune.progress.ProgressWatcher, "__exit__", last_look_then_down_then_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = main(["run", write(tmp_path), "--engine", "inline", "--store", "s3://b/p"])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert code == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "interrupted"
    assert Clock.now - 1000.0 <= 2.0, Clock.now  # the store's waits, in its clock: a second or two, not its window


def test_the_late_look_reads_the_status_record_only_not_the_whole_experiment(tmp_path):
    """The look was a full summary (310 GETs and a listing for 1,100 trials: at 5 ms a request
    past its 1 s bound, so an ended run said "interrupted", 130): it now reads what says the
    experiment ended, its status record, whatever the number of trials."""
    import kfp_tune.cli
    from kfp_tune.stores.local import LocalStore
    from kfp_tune.stores.retry import RetryingStore

    assert main(["run", write(tmp_path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0
    requests: list[str] = []

    class Counting(LocalStore):
        def get(self, key: str) -> bytes | None:
            requests.append(key)
            return super().get(key)

        def list(self, prefix: str) -> list[str]:
            requests.append(prefix)
            return super().list(prefix)

    ended = kfp_tune.cli._ended_before_the_signal(RetryingStore(Counting(tmp_path / "store")), "quad")
    assert ended is not None and (ended["status"], ended["reason"]) == ("Succeeded", "ExperimentMaxTrialsReached")
    assert len(requests) <= 3, requests
