"""SIGINT and SIGTERM end a run cleanly, whatever runs the trials (``kfp-tune run`` inline or
under kfp.local, ``tune()``): the running trials are stopped and recorded Killed with their budget
given back, the claim is released, the status says so, and the same command resumes at once.
An error that escapes a run also releases its claim and leaves no trial Running.

The runs here are real processes sent real signals. They are synchronised on files the trials
write (a trial writes a marker, then waits for a gate file), never on sleeps; the resumed run
must end within a subprocess timeout far below the claim and trial TTLs (the defaults: the
reliability conftest removes any shorter ones)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.core import claims
from kfp_tune.core.decision import COUNTS_AS_FAILED, RUN_INTERRUPTED, count_trials, decide
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialEnded, TrialResult, TrialStarted
from kfp_tune.core.state import TRIAL_INTERRUPTED, ExperimentView, load_state
from kfp_tune.core.vocabulary import LaunchPhase, RecordKind, TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers.local import LocalLauncher
from kfp_tune.stores import LocalStore

GATED_TRIAL = """\
import os, sys, time
args = dict(a.split("=", 1) for a in sys.argv[1:])
folder, name = args["dir"], args["trial"]
with open(os.path.join(folder, "ledger.txt"), "a") as ledger:
    ledger.write(name + "\\n")
marker = os.path.join(folder, name + ".started")
with open(marker + ".tmp", "w") as out:
    out.write(str(os.getpid()))
os.replace(marker + ".tmp", marker)  # whole, or not there
print("waiting at the gate", flush=True)
while not os.path.exists(os.path.join(folder, "gate")):
    time.sleep(0.05)
x, y = float(args["x"]), float(args["y"])
print(f"loss={(x - 0.3) ** 2 + (y - 0.7) ** 2:.6f}")
"""
"""A trial that says it started (its pid in ``<dir>/<trial>.started``), then waits for
``<dir>/gate`` before it reports its loss."""

MAX_TRIALS, PARALLEL = 4, 2


@pytest.fixture(autouse=True)
def _gate_opened_at_the_end(tmp_path: Path) -> Iterator[None]:
    """A test that fails before its run stopped its trials (a hung run, say) leaves none waiting
    for ever: the gate opens at teardown, so every gated trial still alive reports and ends."""
    yield
    (tmp_path / "gate").touch()


def _gated_experiment(folder: Path, name: str) -> dict[str, Any]:
    """maxFailedTrialCount 1: were the interrupted trials counted as failed, the experiment
    would fail; maxTrialCount 4: were they counted against it, only 2 more trials would run."""
    script = folder / "gated_trial.py"
    script.write_text(GATED_TRIAL)
    doc = quadratic_experiment(**{
        "metadata.name": name, "spec.maxTrialCount": MAX_TRIALS, "spec.parallelTrialCount": PARALLEL, "spec.maxFailedTrialCount": 1,
    })
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "trialName", "reference": "${trialSpec.Name}"})
    container = template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["python3", str(script)]
    container["args"] = ["x=${trialParameters.x}", "y=${trialParameters.y}", "trial=${trialParameters.trialName}", f"dir={folder}"]
    return doc


def _wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[str] | None = None, timeout: float = 120.0) -> None:
    """Until ``condition()`` (a file a trial wrote), failing at once if ``process`` ended first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the run ended (exit {process.returncode}) before {what}: {process.communicate()[1][-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout:.0f} s")
        time.sleep(0.05)


def _markers(folder: Path) -> dict[str, int]:
    """Trial name -> pid, for every trial that has started."""
    return {p.name[: -len(".started")]: int(p.read_text()) for p in folder.glob("*.started")}


def _still_running(pid: int, script: str) -> bool:
    """Whether the process ``pid`` is alive and still our trial (not a recycled pid)."""
    try:
        return script in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return False


def _as_from_a_terminal() -> None:
    """In the child, before it runs: SIGINT, SIGTERM and SIGHUP as a terminal's shell leaves
    them. A suite started in the background by a script (``cmd &`` without job control) runs with
    SIGINT ignored, one started under ``nohup`` with SIGHUP ignored; the child would inherit that,
    and kfp-tune rightly keeps a signal it was started to ignore ignored: the signals these tests
    send would then do nothing."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    """``kfp-tune`` in its own session, as a shell starts a command: the test can signal its
    whole process group, as a terminal's Ctrl-C does."""
    return subprocess.Popen(
        [sys.executable, "-m", "kfp_tune.cli", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_as_from_a_terminal,
    )


def _assert_interrupted_cleanly(store_dir: Path, name: str, killed: set[str], signal_name: str) -> None:
    records = ExperimentRecords(LocalStore(store_dir), name)
    state = load_state(records)
    assert not [t.name for t in state.trials if t.status == TrialStatus.RUNNING], "no trial is left Running"
    assert {t.name for t in state.trials if t.status == TrialStatus.KILLED} == killed
    for name_ in killed:
        result = state.trial(name_).result
        assert result is not None and result.reason == TRIAL_INTERRUPTED and signal_name in result.message
    counts = count_trials(state)
    assert counts[COUNTS_AS_FAILED] == 0 and counts["completed"] == 0, "interrupted trials count as neither failed nor completed"
    claim = claims.latest_claim(records)
    assert claim is not None and claim.ended and claim.reason == claims.INTERRUPTED, "the claim is released, saying why"
    claims.refuse_if_busy(records)  # a next run may claim at once
    status = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS)
    assert status is not None
    assert (status["status"]["phase"], status["status"]["reason"]) == ("Running", RUN_INTERRUPTED)
    assert signal_name in status["status"]["message"]


CASES = [
    pytest.param("inline", signal.SIGINT, True, id="inline-ctrl-c-to-the-group"),
    pytest.param("inline", signal.SIGTERM, False, id="inline-sigterm-to-the-process"),
    pytest.param("inline", signal.SIGHUP, True, id="inline-sighup-to-the-group"),  # a closed terminal: it killed the run with no cleanup
    pytest.param("kfp-local", signal.SIGINT, True, id="kfp-local-ctrl-c-to-the-group", marks=pytest.mark.kfp_local),
    pytest.param("kfp-local", signal.SIGTERM, False, id="kfp-local-sigterm-to-the-process", marks=pytest.mark.kfp_local),
]
"""kfp.local's SIGHUP is the kernel's own in test_a_terminal_closed_under_a_run_...[kfp-local] (a
real hangup, which stops the run the same way); its resume is the other two kfp-local cases' (the
same command after any signal), and inline still takes all three signals here."""


@pytest.mark.long
@pytest.mark.parametrize(("engine", "signum", "to_group"), CASES)
def test_a_signal_ends_the_run_cleanly_and_the_same_command_resumes_at_once(tmp_path, engine, signum, to_group):
    """Interrupted once both trials run: they are stopped (their processes gone) and recorded
    Killed, the claim is free and the status says why; the same command then says what it
    resumes and runs the whole budget again, within a timeout far below any TTL."""
    name = "intr"
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(_gated_experiment(tmp_path, name)))
    command = ["run", str(path), "--engine", engine, "--store", str(tmp_path / "store"), "--json"]
    first = _start(command, tmp_path)
    _wait_for(lambda: len(_markers(tmp_path)) == PARALLEL, f"{PARALLEL} trials running", first)
    started = _markers(tmp_path)

    (os.killpg if to_group else os.kill)(first.pid, signum)
    interrupted_out, err = first.communicate(timeout=120)
    signal_name = signal.Signals(signum).name
    assert first.returncode == 128 + signum, err
    assert f"interrupted ({signal_name})" in err and "Traceback" not in err
    # said when the signal came, not only once the trials had stopped (kfp.local's own output goes to its log)
    assert f"{signal_name}: stopping the run's" in err.split(f"interrupted ({signal_name})")[0]
    # --json prints where it stands (it printed nothing)
    standing = json.loads(interrupted_out.strip().splitlines()[-1])
    assert (standing["status"], standing["reason"], standing["given_back"]) == ("Running", "ExperimentRunInterrupted", PARALLEL)
    assert not [pid for pid in started.values() if _still_running(pid, "gated_trial.py")], "every stopped trial's process is gone"
    _assert_interrupted_cleanly(tmp_path / "store", name, set(started), signal_name)
    records = ExperimentRecords(LocalStore(tmp_path / "store"), name)
    for trial_name in started:  # what a stopped trial printed is kept, as a finished trial's log is (it was lost)
        assert records.read_text(records.log_key(trial_name, "main")) == "waiting at the gate\n", trial_name

    (tmp_path / "gate").touch()  # from now on, trials end as soon as they start
    second = _start(command, tmp_path)
    out, err = second.communicate(timeout=240)  # far below the trial TTL (120 s) plus the claim TTL (900 s)
    assert second.returncode == 0, err
    assert re.search(rf"resuming experiment {name}\b.*\b{PARALLEL} interrupted trial\(s\) given back", err), err
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["status"], summary["reason"]) == ("Succeeded", "ExperimentMaxTrialsReached")
    assert (summary["succeeded"], summary["failed"], summary["given_back"]) == (MAX_TRIALS, 0, PARALLEL)
    state = load_state(ExperimentRecords(LocalStore(tmp_path / "store"), name))
    by_status = {s: {t.name for t in state.trials if t.status == s} for s in (TrialStatus.KILLED, TrialStatus.SUCCEEDED)}
    assert by_status[TrialStatus.KILLED] == set(started), "the killed trials stay as they were recorded"
    assert len(by_status[TrialStatus.SUCCEEDED]) == MAX_TRIALS and len(state.trials) == MAX_TRIALS + PARALLEL
    ledger = (tmp_path / "ledger.txt").read_text().split()
    assert sorted(ledger) == sorted({t.name for t in state.trials}), "every trial ran exactly once; none was run again"


def _from_a_terminal_of_its_own() -> None:
    """In the child, in its new session: the pty on its stdin becomes its controlling terminal,
    as a login shell's is, so that closing the pty's other end hangs it up (SIGHUP from the kernel)."""
    _as_from_a_terminal()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@pytest.mark.parametrize("engine", ["inline", pytest.param("kfp-local", marks=pytest.mark.kfp_local)])
def test_a_terminal_closed_under_a_run_ends_it_with_exit_129_though_nothing_can_be_written(tmp_path, engine):
    """A real hangup: the run's terminal is gone, so its 'interrupted (SIGHUP)' line and --json's
    summary cannot be written (EIO). The run still stops cleanly and exits 128 + SIGHUP, as the
    README promises; writing to the dead terminal made it exit 1."""
    name = "hup"
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(_gated_experiment(tmp_path, name)))
    terminal, its_end = pty.openpty()
    run = subprocess.Popen(
        [sys.executable, "-m", "kfp_tune.cli", "run", str(path), "--engine", engine, "--store", str(tmp_path / "store"), "--json"],
        cwd=tmp_path, stdin=its_end, stdout=its_end, stderr=its_end, start_new_session=True, preexec_fn=_from_a_terminal_of_its_own,
    )
    os.close(its_end)

    shown_on_the_terminal: list[bytes] = []

    def started() -> bool:  # reading what the run writes, so that it never waits on a full terminal
        while select.select([terminal], [], [], 0)[0]:
            with contextlib.suppress(OSError):
                shown_on_the_terminal.append(os.read(terminal, 65536))
                if shown_on_the_terminal[-1]:
                    continue
            break
        return len(_markers(tmp_path)) == PARALLEL

    try:
        _wait_for(started, f"{PARALLEL} trials running")
        trials = _markers(tmp_path)
    finally:
        os.close(terminal)  # the terminal is closed: the run is hung up
    shown = b"".join(shown_on_the_terminal).decode(errors="replace")[-3000:]
    assert run.wait(timeout=120) == 128 + signal.SIGHUP, shown
    assert not [pid for pid in trials.values() if _still_running(pid, "gated_trial.py")], f"every stopped trial's process is gone: {shown}"
    _assert_interrupted_cleanly(tmp_path / "store", name, set(trials), "SIGHUP")


TUNE_SCRIPT = """\
import itertools, json, sys, time
from pathlib import Path
import kfp_tune
from kfp_tune.steps import slots

folder, store = Path(sys.argv[1]), sys.argv[2]
# a Python call cannot be stopped from outside: the run waits this long for it, then records
# it Killed anyway (here the calls wait for the gate, so they end Killed however long it is)
slots.INTERRUPT_WAIT_SECONDS = 0.5
calls = itertools.count()

def objective(params):
    (folder / f"call-{next(calls)}.started").write_text("")
    while not (folder / "gate").exists():
        time.sleep(0.05)
    return (params["x"] - 0.3) ** 2

try:
    result = kfp_tune.tune(
        objective, {"x": kfp_tune.search.double(0, 1)}, algorithm_settings={"random_state": 3},
        max_trial_count=4, parallel_trial_count=2, max_failed_trial_count=1, store=store, name="fn",
    )
except KeyboardInterrupt as exc:
    print(json.dumps({"interrupted": str(exc), "killed": getattr(exc, "killed", None)}))
    sys.exit(3)
print(json.dumps({"status": result.status, "reason": result.reason, "statuses": sorted(t.status for t in result.trials)}))
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_tune_is_interrupted_cleanly_and_resumes(tmp_path, signum):
    """``tune()``: the signal reaches the caller as a KeyboardInterrupt once both calls are
    recorded Killed and the claim is released; a second call with the same name resumes and
    gives the interrupted trials' budget back."""
    script = tmp_path / "tune_script.py"
    script.write_text(TUNE_SCRIPT)
    store = tmp_path / "store"
    argv = [sys.executable, str(script), str(tmp_path), str(store)]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_as_from_a_terminal)
    _wait_for(lambda: len(list(tmp_path.glob("call-*.started"))) == PARALLEL, f"{PARALLEL} calls running", first)
    os.kill(first.pid, signum)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 3, err
    signal_name = signal.Signals(signum).name
    assert json.loads(out) == {"interrupted": signal_name, "killed": PARALLEL}
    state = load_state(ExperimentRecords(LocalStore(store), "fn"))
    _assert_interrupted_cleanly(store, "fn", {t.name for t in state.trials if t.started is not None}, signal_name)

    (tmp_path / "gate").touch()
    second = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    assert second.returncode == 0, second.stderr
    result = json.loads(second.stdout)
    assert (result["status"], result["reason"]) == ("Succeeded", "ExperimentMaxTrialsReached")
    assert result["statuses"] == sorted([TrialStatus.KILLED.value] * PARALLEL + [TrialStatus.SUCCEEDED.value] * MAX_TRIALS)


class _RaisingLauncher(Launcher):
    """Runs trials with a LocalLauncher, but its ``run`` of the first trial raises TypeError,
    as a launcher with a defect (or given input no check caught) would, after the trial was
    recorded as started."""

    def __init__(self, folder: Path):
        self.inner, self.folder, self.calls = LocalLauncher(), folder, 0

    def run(self, trial: TrialRun) -> LaunchOutcome:
        self.calls += 1
        if self.calls == 1:
            raise TypeError("can only concatenate list (not 'str') to list")
        return self.inner.run(trial)


def test_an_error_in_a_run_releases_its_claim_and_leaves_no_trial_running(tmp_path):
    """The run re-raises the error once its other trial has ended; the trial whose launch
    raised is closed Failed with the error as its message, and the claim is free."""
    (tmp_path / "gate").touch()
    experiment = load_experiment(_gated_experiment(tmp_path, "broken"))
    store = LocalStore(tmp_path / "store")
    with pytest.raises(TypeError, match="can only concatenate"):
        run_inline(store, experiment, _RaisingLauncher(tmp_path))
    records = ExperimentRecords(store, "broken")
    state = load_state(records)
    assert state.trials and all(t.is_terminal for t in state.trials), [(t.name, t.status) for t in state.trials]
    failed = [t for t in state.trials if t.status == TrialStatus.FAILED]
    assert len(failed) == 1 and "TypeError" in failed[0].result.message and failed[0].name not in _markers(tmp_path)
    claim = claims.latest_claim(records)
    assert claim is not None and claim.ended
    claims.refuse_if_busy(records)


def _experiment_with(tmp_path: Path, results: list[tuple[TrialStatus, str]]) -> ExperimentView:
    """An experiment whose trials ended as ``results`` (status, reason), written as a run
    writes them; maxTrialCount 3, maxFailedTrialCount 1."""
    from kfp_tune.steps.prepare import init_experiment

    doc = quadratic_experiment(**{"metadata.name": "budget", "spec.maxTrialCount": 3, "spec.maxFailedTrialCount": 1})
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "budget")
    init_experiment(records, load_experiment(doc))
    view = ExperimentView(records)
    for index, (status, reason) in enumerate(results):
        name = f"budget-t{index}"
        view.record_round(f"r{index}", {"round": f"r{index}", "seq": index, "created": "now", "requested": 1, "exhausted": False, "adopted": [],
                                        "trials": [{"name": name, "index": index, "assignment": {"x": f"0.{index}", "y": "0.5"}}]})
        view.record_trial(name, TrialStarted(trial=name, time="now", at=0.0, run="r", attempt="a"))
        view.record_trial(name, TrialEnded(name, LaunchPhase.FAILED, reason))
        view.record_trial(name, TrialResult(trial=name, status=status, reason=reason, metrics={"loss": 0.5} if status == TrialStatus.SUCCEEDED else {}))
    return view


def test_trials_killed_by_an_interrupt_use_no_budget_but_other_killed_trials_do(tmp_path):
    """Katib counts every Killed trial as completed; one killed because its user interrupted the
    run is given back instead: it counts against neither maxTrialCount nor maxFailedTrialCount,
    in the tally a run keeps as much as in a fresh fold of the records."""
    given_back = [(TrialStatus.KILLED, TRIAL_INTERRUPTED)] * 3 + [(TrialStatus.SUCCEEDED, "TrialSucceeded")] * 2
    view = _experiment_with(tmp_path, given_back)
    for state in (view.state, load_state(view.records)):
        assert (state.budget_used, state.given_back) == (2, 3)
        counts = count_trials(state)
        assert (counts["completed"], counts[COUNTS_AS_FAILED], counts["givenBack"], counts["Killed"]) == (2, 0, 3, 3)
        assert decide(state, rounds_left=1).phase == "Running", "5 trials, 2 of them count: maxTrialCount 3 is not reached"

    other = _experiment_with(tmp_path / "other", [(TrialStatus.KILLED, "TrialKilled")] * 1 + [(TrialStatus.SUCCEEDED, "TrialSucceeded")] * 2)
    state = other.state
    assert (state.budget_used, count_trials(state)["completed"]) == (3, 3)
    assert decide(state, rounds_left=1).reason == "ExperimentMaxTrialsReached", "a Killed trial of another reason counts, as in Katib"


def _processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line holds ``text``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:  # gone meanwhile
                continue
    return pids


def _kfp_local_with_trials_running(tmp_path: Path, name: str) -> tuple[subprocess.Popen[str], dict[str, int], Path]:
    """``kfp-tune run --engine kfp-local`` of the gated experiment, once both its slots run a
    trial: (the CLI's process, trial name -> pid, the store)."""
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(_gated_experiment(tmp_path, name)))
    store = tmp_path / "store"
    first = _start(["run", str(path), "--engine", "kfp-local", "--store", str(store)], tmp_path)
    _wait_for(lambda: len(_markers(tmp_path)) == PARALLEL, f"{PARALLEL} trials running", first)
    return first, _markers(tmp_path), store


@pytest.mark.kfp_local
def test_kfp_local_stops_cleanly_when_the_cli_is_killed_outright(tmp_path):
    """The CLI starts kfp.local in a session of its own (so a Ctrl-C reaches the CLI only). Killed
    with SIGKILL, it can pass nothing on: kfp.local sees its parent gone and stops the run as if
    interrupted, instead of running on unseen."""
    name = "orphan"
    first, started, store = _kfp_local_with_trials_running(tmp_path, name)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=60)
    _wait_for(lambda: not _processes_mentioning(str(store)), "kfp.local and its steps to end")
    assert not [pid for pid in started.values() if _still_running(pid, "gated_trial.py")], "every trial's process is gone"
    from kfp_tune.steps.slots import RUN_OWNER_GONE

    _assert_interrupted_cleanly(store, name, set(started), RUN_OWNER_GONE)  # no signal of the user's: kfp.local's SIGTERM to its orphans


def _command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:  # gone meanwhile
        return []


@pytest.mark.kfp_local
def test_kfp_local_steps_stop_when_kfp_local_itself_is_killed_outright(tmp_path):
    """kfp.local (the CLI's child) killed with SIGKILL leaves its launch-trial step orphaned
    (kfp.local starts it through ``sh``): the step sees the pipeline's process gone and stops as
    on SIGTERM, starting no more trials; the CLI waits for it, says how its child ended (not
    kfp.local's output) and leaves the claim free and the trials recorded Killed."""
    name = "gone"
    first, started, store = _kfp_local_with_trials_running(tmp_path, name)
    (child,) = [pid for pid in _processes_mentioning("kfp_tune.pipelines.local_run") if str(store) in " ".join(_command_line(pid))]
    os.kill(child, signal.SIGKILL)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 1, err
    assert f"the kfp.local run (pid {child}) was killed by SIGKILL: {PARALLEL} running trial(s) stopped and recorded Killed" in err, err
    assert "executor" not in err and "Traceback" not in err
    assert not _processes_mentioning(str(store)), "no step of the run is left running"
    assert not [pid for pid in started.values() if _still_running(pid, "gated_trial.py")], "every trial's process is gone"
    _assert_interrupted_cleanly(store, name, set(started), "its kfp.local process")
    assert sorted((tmp_path / "ledger.txt").read_text().split()) == sorted(started), "no trial started once kfp.local was gone"


@pytest.mark.kfp_local
def test_a_killed_kfp_local_step_is_named_and_the_status_says_a_step_ended_early(tmp_path):
    """The launch-trial step killed with SIGKILL under kfp.local: the CLI's error names the step
    and the signal (a killed step leaves no error of its own), and the exit handler's status says
    a step ended before the run finished, not that the run's rounds were used up."""
    from kfp_tune.core.decision import RUN_STEP_FAILED

    name = "stepkill"
    first, _, store = _kfp_local_with_trials_running(tmp_path, name)

    def is_a_step_of_this_run(pid: int) -> bool:  # the step's Python, not the sh that kfp.local runs it with
        argv = _command_line(pid)
        return bool(argv) and "python" in Path(argv[0]).name and str(store) in " ".join(argv)

    steps = [pid for pid in _processes_mentioning("executor_main") if is_a_step_of_this_run(pid)]
    assert len(steps) == 1, steps
    os.kill(steps[0], signal.SIGKILL)
    (tmp_path / "gate").touch()  # the trials the killed step leaves behind end on their own
    _, err = first.communicate(timeout=120)
    assert first.returncode == 1, err
    assert re.search(r"failed in step launch-trial: its process was killed by signal 9 \(SIGKILL\) \(its log: \S+\)$", err.strip()), err
    records = ExperimentRecords(LocalStore(store), name)
    status = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS)
    assert status is not None and (status["status"]["phase"], status["status"]["reason"]) == ("Running", RUN_STEP_FAILED)
    current = claims.latest_claim(records)
    assert current is not None and current.ended, "the exit handler gave the claim back"
    _wait_for(lambda: not [pid for pid in _markers(tmp_path).values() if _still_running(pid, "gated_trial.py")], "the trials left to end")


def test_a_step_s_exit_status_is_told_as_sh_reports_it() -> None:
    """kfp.local runs a step through ``sh``, which ends with 128 + N when the step's Python was
    killed by signal N (-N: ``sh`` itself was): 129 is SIGHUP, 128 itself an exit code."""
    from kfp_tune.pipelines.local_run import step_end

    assert step_end(129) == "was killed by signal 1 (SIGHUP)"
    assert step_end(137) == step_end(-9) == "was killed by signal 9 (SIGKILL)"
    assert step_end(128) == "ended with exit code 128"
    assert step_end(1) == "ended with exit code 1"


def test_after_an_inline_run_killed_outright_the_resume_note_counts_its_trials_as_given_back(tmp_path):
    """An inline run killed with SIGKILL leaves its started trials Running in the store; the next
    run records them Killed (TrialStale) and gives their budget back. Its note said "2 unfinished
    trial(s) to finish, 2 new trial(s) left": it says they will be given back, and 4 new left."""
    from kfp_tune.reports import resume_note
    from kfp_tune.stores import open_store

    name = "killed-inline"
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(_gated_experiment(tmp_path, name)))
    store = tmp_path / "store"
    first = _start(["run", str(path), "--engine", "inline", "--store", str(store)], tmp_path)
    _wait_for(lambda: len(_markers(tmp_path)) == PARALLEL, f"{PARALLEL} trials running", first)
    started = _markers(tmp_path)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=60)
    for pid in started.values():  # whatever outlived the run (only our trial, not a recycled pid)
        if _still_running(pid, "gated_trial.py"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert resume_note(open_store(str(store)), name) == (
        f"resuming experiment {name}: 0 trial(s) done (0 succeeded, 0 failed), {PARALLEL} trial(s) the stopped run was running, "
        f"to record Killed and give back (a trial of a killed run may still be running: its result will not be recorded; a local trial's processes "
        f"are listed by grep -lza '^KFP_TUNE_EXPERIMENT={name}$' /proc/[0-9]*/environ), {MAX_TRIALS} new trial(s) left of maxTrialCount {MAX_TRIALS}"
    )


@pytest.mark.s3
@pytest.mark.long
@pytest.mark.parametrize("engine", ["inline", pytest.param("kfp-local", marks=pytest.mark.kfp_local)])
def test_a_second_ctrl_c_during_a_store_outage_stops_the_run_at_once_and_the_next_run_gives_the_trials_back(tmp_path, s3_env, s3_bucket, monkeypatch, engine):
    """SeaweedFS out of reach while two trials run: Ctrl-C stops them, but the store cannot
    record it. A second Ctrl-C ("stopping at once") waited out the rest of the store's 300-s
    retry window and then exited 1 with the store's error; now the window is cut to a few
    seconds and the run exits 130 saying what it could not record. With the store back, the
    same command gives the two trials back (Killed, TrialStale) and runs the whole budget.
    Under kfp.local the CLI's own clean-up once its child ended (and the child's release of
    the claim) waited out the window too."""
    from seaweed import Forwarder

    front = Forwarder(s3_env["KFP_TUNE_S3_ENDPOINT"])  # the run's endpoint; unreachable once pointed nowhere
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", front.endpoint)
    monkeypatch.setenv("KFP_TUNE_STORE_RETRY_SECONDS", "300")
    name = f"outage-intr-{engine}"
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(_gated_experiment(tmp_path, name)))
    store_uri = f"s3://{s3_bucket}/runs"
    command = ["run", str(path), "--engine", engine, "--store", store_uri, "--json"]
    first = _start(command, tmp_path)
    try:
        _wait_for(lambda: len(_markers(tmp_path)) == PARALLEL, f"{PARALLEL} trials running", first)
        started = _markers(tmp_path)
        front.point_to(None)  # the store is down from here on
        os.killpg(first.pid, signal.SIGINT)
        # the first signal was handled (its trials got SIGTERM), so the second is one of its own
        _wait_for(lambda: not [pid for pid in started.values() if _still_running(pid, "gated_trial.py")], "the trials stopped", first)
        os.killpg(first.pid, signal.SIGINT)
        out, err = first.communicate(timeout=120)  # 300 s of retries before
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.communicate()
        front.point_to(s3_env["KFP_TUNE_S3_ENDPOINT"])
    try:
        assert first.returncode == 130, err
        assert "SIGINT: stopping at once" in err and "Traceback" not in err
        said = err[err.index("interrupted (SIGINT)"):]
        assert f"{PARALLEL} stopped trial(s) still show Running there" in said and all(trial in said for trial in started), said
        assert "The next run gives the trials left Running back" in said and "AWS_SECRET_ACCESS_KEY" not in said
        assert out == "", "no summary: the store could not be read"

        (tmp_path / "gate").touch()  # from now on, trials end as soon as they start
        second = _start(command, tmp_path)
        out, err = second.communicate(timeout=240)  # far below the trial TTL (120 s) plus the claim TTL (900 s)
    finally:
        front.close()
    assert second.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["status"], summary["succeeded"], summary["failed"], summary["given_back"]) == ("Succeeded", MAX_TRIALS, 0, PARALLEL)
    from kfp_tune.stores import open_store

    state = load_state(ExperimentRecords(open_store(store_uri, s3_env["KFP_TUNE_S3_ENDPOINT"]), name))
    for trial in started:
        assert (state.trial(trial).status, state.trial(trial).result.reason) == (TrialStatus.KILLED, "TrialStale")
    ledger = (tmp_path / "ledger.txt").read_text().split()
    assert sorted(ledger) == sorted({t.name for t in state.trials}), "every trial ran exactly once"
