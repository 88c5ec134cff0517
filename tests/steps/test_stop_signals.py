"""handling_stop_signals: the one place that turns SIGINT / SIGTERM / SIGHUP into a run's interrupt (the
slots stop their trials; the inline runner raises). It must hand over the signal's name, put back
what was there before, leave an ignored signal ignored, and do nothing off the main thread.

Each test starts from the handlers a Python process normally has (SIGINT: default_int_handler,
SIGTERM: SIG_DFL), set by the fixture: pytest started from a non-interactive shell's background
job (``cmd &``) inherits SIGINT ignored, and the code under test rightly leaves an ignored signal
ignored, so the test failed there, or passed when an earlier test in the same xdist worker had
installed a SIGINT handler (CI failures with ``--randomly-seed=2471940607`` and ``2680441620``).
The signals are raised with ``signal.raise_signal``, which delivers to this thread, so the Python
handler has run before the next line."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from types import FrameType

import pytest

from kfp_tune.steps.slots import handling_stop_signals


@pytest.fixture
def restore_handlers() -> Iterator[None]:
    """The usual handlers for the test, the ones found put back after it."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    yield
    for s, handler in saved.items():
        signal.signal(s, handler if handler is not None else signal.SIG_DFL)  # None: set outside Python


def test_a_signal_inside_reaches_the_handler_by_name_and_the_old_handler_is_back_after(restore_handlers: None) -> None:
    seen_before: list[int] = []

    def before(signum: int, frame: FrameType | None) -> None:
        seen_before.append(signum)

    signal.signal(signal.SIGTERM, before)
    names: list[str] = []
    with handling_stop_signals(names.append):
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGINT)
    assert names == ["SIGTERM", "SIGINT"] and seen_before == []
    assert signal.getsignal(signal.SIGTERM) is before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    signal.raise_signal(signal.SIGTERM)
    assert seen_before == [signal.SIGTERM]


def test_a_closed_terminal_s_sighup_reaches_the_handler_too(restore_handlers: None) -> None:
    """SIGHUP (the terminal closed, an ssh dropped) killed an inline run with no cleanup: its
    trials, each in its own session, ran on recorded Running and the claim was never ended. Where
    its handler is the default, it is a stop signal as SIGTERM is (the command then exits 129)."""
    names: list[str] = []
    with handling_stop_signals(names.append):
        signal.raise_signal(signal.SIGHUP)  # the default would end pytest: the run's handler has it
    assert names == ["SIGHUP"]
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL


def test_a_run_s_own_sighup_handler_is_replaced_inside_it(restore_handlers: None) -> None:
    """The inline runner's handler stands around the slots': SIGHUP must reach the slots' one
    (which stops the trials) there too, as SIGINT and SIGTERM do; once kept as a program's own,
    the runner's raised at once and the run exited 129 with its trials still running."""
    names: list[str] = []
    with handling_stop_signals(lambda name: names.append(f"runner {name}")):
        with handling_stop_signals(lambda name: names.append(f"slots {name}")):
            signal.raise_signal(signal.SIGHUP)
            signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGHUP)
    assert names == ["slots SIGHUP", "slots SIGTERM", "runner SIGHUP"]
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL


def test_a_program_s_own_sighup_handler_is_left_alone(restore_handlers: None) -> None:
    """A service that reloads its config on SIGHUP and calls tune(): its handler was replaced
    for the run, so a SIGHUP stopped the run and the reload never happened. SIGHUP is taken over
    only in place of its default (it would kill the run with no cleanup); SIGTERM as before."""
    reloads: list[int] = []

    def reload_config(signum: int, frame: FrameType | None) -> None:
        reloads.append(signum)

    signal.signal(signal.SIGHUP, reload_config)
    names: list[str] = []
    with handling_stop_signals(names.append):
        assert signal.getsignal(signal.SIGHUP) is reload_config
        signal.raise_signal(signal.SIGHUP)
        signal.raise_signal(signal.SIGTERM)
    assert reloads == [signal.SIGHUP] and names == ["SIGTERM"]
    assert signal.getsignal(signal.SIGHUP) is reload_config


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
def test_a_signal_the_process_ignores_stays_ignored(restore_handlers: None, signum: int) -> None:
    signal.signal(signum, signal.SIG_IGN)
    names: list[str] = []
    with handling_stop_signals(names.append):
        assert signal.getsignal(signum) == signal.SIG_IGN
        signal.raise_signal(signum)
    assert names == []
    assert signal.getsignal(signum) == signal.SIG_IGN


def test_off_the_main_thread_nothing_is_installed(restore_handlers: None) -> None:
    before = signal.getsignal(signal.SIGTERM)
    inside: list[object] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            with handling_stop_signals(lambda name: None):
                inside.append(signal.getsignal(signal.SIGTERM))
        except BaseException as exc:  # a ValueError here is the failure the guard prevents
            failures.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert failures == [] and inside == [before]


def test_a_signal_after_the_runs_owner_died_names_the_owner_not_the_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    """After `kfp-tune run --engine kfp-local` was killed outright (SIGKILL), kfp.local's orphaned
    runner sends its steps SIGTERM, and the status said "interrupted (SIGTERM)", a signal the user
    never sent: with the run's owner gone the cause is that, with it alive the signal."""
    import subprocess
    import sys

    from kfp_tune.core import claims
    from kfp_tune.steps.slots import RUN_OWNER_GONE, _cause

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    monkeypatch.setenv(claims.OWNER_VARIABLE, claims.process_identity(int(ended.stdout)))  # a process that has ended
    assert _cause("SIGTERM") == RUN_OWNER_GONE
    monkeypatch.setenv(claims.OWNER_VARIABLE, claims.this_process())
    assert _cause("SIGTERM") == "SIGTERM"
    monkeypatch.delenv(claims.OWNER_VARIABLE)
    assert _cause("SIGINT") == "SIGINT"


def test_a_pipeline_process_gone_after_an_interrupt_does_not_interrupt_again(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Ctrl-C first, then the kfp.local process that ran the pipeline is gone: the run stays in
    its first interrupt, waiting for its trials. A second interrupt would stop waiting at once
    (the launcher told ``force=True``), as a second Ctrl-C does."""
    import os
    from typing import Any

    from conftest import quadratic_experiment
    from kfp_tune import steps
    from kfp_tune.core import claims
    from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.steps import slots
    from kfp_tune.stores import LocalStore

    class Stops(Launcher):
        can_interrupt = True

        def __init__(self) -> None:
            self.interrupts: list[bool] = []

        def run(self, trial: TrialRun) -> LaunchOutcome:
            raise AssertionError("no trial runs here")

        def interrupt(self, force: bool = False) -> None:
            self.interrupts.append(force)

    class OutputKept:
        """slots' ``os`` with the gone pipeline's redirect of stdout and stderr left out (this is pytest's process)."""

        def dup2(self, fd: int, fd2: int) -> None:
            pass

        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    steps.prepare(records, experiment, "run-1")
    launcher = Stops()
    schedule = slots._Schedule(ExperimentView(records), "run-1", slots.Checkpoint(), adopt=False, hands_over=False)
    monkeypatch.setenv(slots.PIPELINE_PROCESS_VARIABLE, "4242")
    monkeypatch.setattr(claims, "process_alive", lambda pid: False)
    monkeypatch.setattr(slots, "PIPELINE_POLL_SECONDS", 0.01)
    monkeypatch.setattr(slots, "os", OutputKept())
    schedule.interrupt("SIGINT", launcher)
    with slots._stopping_when_pipeline_gone(schedule, launcher):
        (watcher,) = (t for t in threading.enumerate() if t.name == "pipeline-watch")
        watcher.join(30.0)  # it returns once it has seen the process gone
        assert not watcher.is_alive()
    assert launcher.interrupts == [False] and schedule.interrupted == "SIGINT"
