"""``run_in_child``'s own paths, with a stand-in for its kfp.local child (a shell script run as
``sys.executable``), where no test noticed a change (found by altering each line in a scratch
copy): the note of an earlier run's scratch folder, the child's command line and environment,
the scratch folder removed or cut to its log, a child killed outright, and a signal passed on
with the store down (what the step left unrecorded, else the store's error). Each runs in a
second, without kfp.local."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import KfpTuneError, RunInterrupted, StoreError
from kfp_tune.core.loading import load_experiment
from kfp_tune.pipelines import local_run
from kfp_tune.stores.local import LocalStore


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder the run's scratch folder is made in, this test's own."""
    import tempfile

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def sigterm_answered() -> Iterator[None]:
    """A SIGTERM that comes before run_in_child takes it over does not end the test's process."""
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """The child run_in_child starts is ``script`` (sh), run with the child's arguments."""
    path = tmp_path / "child.sh"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    monkeypatch.setattr(local_run.sys, "executable", str(path))


def _run(tmp_path: Path, store: Any = None, **kwargs: Any) -> None:
    experiment = load_experiment(quadratic_experiment())
    local_run.run_in_child(experiment, str(tmp_path / "store"), {"kind": "local"}, kwargs.pop("rounds", None), kwargs.pop("take_over", False),
                           store=store if store is not None else LocalStore(tmp_path / "store"), **kwargs)


def _scratch_folders(scratch: Path) -> list[Path]:
    return sorted(scratch.glob(f"{local_run.SCRATCH_PREFIX}*"))


def test_an_earlier_runs_scratch_folder_is_named_and_this_runs_is_removed(tmp_path, scratch, monkeypatch, capsys):
    monkeypatch.setattr(local_run, "sweep_scratch_folders", lambda: [Path("/tmp/kfp-tune-local-old")])
    _child(tmp_path, monkeypatch, f'printf "%s\\n" "$@" > {tmp_path}/args; printf "%s %s %s" "$TMPDIR" "${{KFP_TUNE_DEBUG-}}" '
                                  f'"$KFP_TUNE_UNRECORDED_NOTE" > {tmp_path}/env; cat "$3" > {tmp_path}/spec')
    _run(tmp_path, rounds=3, take_over=True)
    assert ("note: an earlier kfp-local run here ended without removing its scratch folder (its kfp-tune was killed: SIGKILL, or SIGHUP where "
            f"it could not be answered); kfp.local's log of it is kept {local_run.LEFTOVER_LOG_DAYS:g} days: /tmp/kfp-tune-local-old\n") in capsys.readouterr().err
    assert _scratch_folders(scratch) == [], "the records are in the store: the scratch folder goes"
    args = (tmp_path / "args").read_text().splitlines()
    assert args[:2] == ["-m", "kfp_tune.pipelines.local_run"] and args[3:] == [str(tmp_path / "store"), '{"kind": "local"}', "3", args[2].replace("experiment.json", "pipeline-root"), "take-over"], args
    work = Path(args[2]).parent
    assert work.parent == scratch and work.name.startswith(local_run.SCRATCH_PREFIX) and Path(args[2]).name == "experiment.json"
    assert '"name": "quad"' in (tmp_path / "spec").read_text()
    assert (tmp_path / "env").read_text() == f"{work}  {work}/unrecorded.txt"


def test_with_vv_the_child_logs_its_debug_lines_and_the_log_alone_is_kept(tmp_path, scratch, monkeypatch):
    _child(tmp_path, monkeypatch, f'printf "%s" "${{KFP_TUNE_DEBUG-}}" > {tmp_path}/debug; echo a line of the log')
    _run(tmp_path, verbose=2)
    assert (tmp_path / "debug").read_text() == "1"
    (work,) = _scratch_folders(scratch)
    assert list(work.iterdir()) == [work / local_run.KFP_LOCAL_LOG] and "a line of the log" in (work / local_run.KFP_LOCAL_LOG).read_text()
    _run(tmp_path, verbose=1)
    assert (tmp_path / "debug").read_text() == "", "-v alone: no debug lines"


def test_a_child_killed_outright_is_said_its_steps_waited_for_and_its_log_kept(tmp_path, scratch, monkeypatch, capsys):
    _child(tmp_path, monkeypatch, "echo started; kill -KILL $$")
    with pytest.raises(KfpTuneError) as raised:
        _run(tmp_path)
    (work,) = _scratch_folders(scratch)
    log = work / local_run.KFP_LOCAL_LOG
    assert list(work.iterdir()) == [log]
    pid = str(raised.value).split("(pid ", 1)[1].split(")", 1)[0]
    assert str(raised.value) == (
        f"the kfp.local run (pid {pid}) was killed by SIGKILL: no trial was running, so none was stopped or recorded Killed; "
        f"the experiment is free for another run. Run the same command to resume (kfp.local's log: {log})"
    )
    assert f"the kfp.local run (pid {pid}) was killed by SIGKILL; waiting for its steps to stop their trials\n" in capsys.readouterr().err


def test_a_child_that_failed_keeps_its_log_which_its_error_names(tmp_path, scratch, monkeypatch):
    _child(tmp_path, monkeypatch, "echo the last words; exit 3")
    with pytest.raises(KfpTuneError, match=r"the kfp\.local pipeline run failed; last lines of its log") as raised:
        _run(tmp_path)
    (work,) = _scratch_folders(scratch)
    assert list(work.iterdir()) == [work / local_run.KFP_LOCAL_LOG] and str(raised.value).endswith("\nthe last words")


class DownStore(LocalStore):
    def get(self, key: str) -> bytes | None:
        raise StoreError("S3 read failed: connection refused")

    def list(self, prefix: str) -> list[str]:
        raise StoreError("S3 list failed: connection refused")


@pytest.mark.parametrize("note", ["", "the store could not record trial quad-1 Killed (down)"], ids=["no-note", "step-note"])
def test_a_signal_passed_on_with_the_store_down_says_what_could_not_be_recorded(tmp_path, scratch, monkeypatch, capsys, sigterm_answered, note):
    write_note = f'printf "%s" "{note}" > "$KFP_TUNE_UNRECORDED_NOTE"; ' if note else ""
    _child(tmp_path, monkeypatch, write_note + "sleep 0.5; kill -TERM $PPID; sleep 10")
    with pytest.raises(RunInterrupted) as raised:
        _run(tmp_path, store=DownStore(tmp_path / "store"))
    assert (raised.value.signal_name, raised.value.killed) == ("SIGTERM", 0)
    assert raised.value.unrecorded == (note or "the store could not record the interrupt (S3 list failed: connection refused)")
    assert "SIGTERM: stopping the run's running trials" in capsys.readouterr().err
    assert _scratch_folders(scratch) == []


def test_a_signal_passed_on_ends_the_run_as_interrupted(tmp_path, scratch, monkeypatch, sigterm_answered):
    _child(tmp_path, monkeypatch, "sleep 0.5; kill -TERM $PPID; sleep 10")
    with pytest.raises(RunInterrupted) as raised:
        _run(tmp_path)
    assert (raised.value.signal_name, raised.value.killed, raised.value.unrecorded) == ("SIGTERM", 0, "")
