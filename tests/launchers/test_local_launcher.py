"""The local launcher: exact argv and env (exec form, under a collector Katib does not wrap in
``sh -c``; a quoted shell line under one it does), mounts, deadlines, no store credentials."""

from __future__ import annotations

import ast
import itertools
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import QUADRATIC
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.launchers import LocalLauncher, launcher_from_config, local


def _run(container: dict, manifest_spec: dict | None = None, collector: str = "", **launcher_args) -> tuple:
    """Run one trial; ``collector``: its metrics collector's kind (none: StdOut, run as ``sh -c``)."""
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"},
                "spec": {**(manifest_spec or {}), "template": {"spec": {"containers": [{"name": "main", **container}]}}}}
    spec = {"collector": {"kind": collector}} if collector else {}
    outcome = LocalLauncher(**launcher_args).run(TrialRun("e", "t", manifest, {}, "main", metrics_collector=spec))
    return outcome, outcome.logs.get("main", "")


def _echo_lines(log: str) -> dict:
    out = {}
    for line in log.splitlines():
        if line.startswith("ARGV="):
            out["argv"] = ast.literal_eval(line[5:])
        elif line.startswith("ENV "):
            name, _, value = line[4:].partition("=")
            out[name] = ast.literal_eval(value)
    return out


HOSTILE = ['a"\nserviceAccountName: admin', "x: y", "$(touch substituted)", "no", "1e3", "~", "#c", "héllo ✓", "; echo pwned"]


@pytest.mark.parametrize("collector", ["Push", "None"])
def test_argv_and_env_reach_the_trial_exactly(collector, tmp_path):
    """Exec form (a collector Katib does not wrap in ``sh -c``): every word as it is, no shell."""
    hostile = HOSTILE
    outcome, log = _run(
        {
            "command": ["python3", str(QUADRATIC)],
            "args": ["mode=echo", *hostile],
            "env": [{"name": "ECHO_ENV", "value": "V0,V1"}, {"name": "V0", "value": hostile[0]}, {"name": "V1", "value": hostile[2]}],
            "workingDir": str(tmp_path),
        },
        collector=collector,
    )
    assert outcome.phase == "Succeeded", log
    assert not (tmp_path / "substituted").exists()
    seen = _echo_lines(log)
    assert seen["argv"] == ["mode=echo", *hostile]
    assert seen["V0"] == hostile[0] and seen["V1"] == hostile[2]
    assert "pwned" not in log.replace("; echo pwned", "")


STORE_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY",
                     "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MC_HOST_s3", "MC_HOST_play",
                     "AWS_CONTAINER_AUTHORIZATION_TOKEN")
"""Written out here, not taken from the launcher: the S3 credentials the store reads (and MinIO's
older names, its server's root account, its client's ``MC_HOST_<alias>`` URLs holding key and
secret, the session token's legacy name, the container token that fetches AWS keys) must never reach a trial's environment."""


def test_store_credentials_do_not_reach_the_trial(monkeypatch):
    monkeypatch.setenv("NOT_A_SECRET", "visible")
    for name in STORE_CREDENTIALS:
        monkeypatch.setenv(name, f"secret-{name}")
    outcome, log = _run({"command": ["python3", str(QUADRATIC)], "args": ["mode=echo"],
                         "env": [{"name": "ECHO_ENV", "value": ",".join([*STORE_CREDENTIALS, "NOT_A_SECRET"])}]})
    assert outcome.phase == "Succeeded"
    seen = _echo_lines(log)
    assert seen["NOT_A_SECRET"] == "visible", "other variables do reach the trial (the echo works)"
    assert all(seen[name] is None for name in STORE_CREDENTIALS)
    assert "secret-" not in log


def test_quoted_words_of_the_shell_line_reach_the_trial_exactly(tmp_path):
    """StdOut (Katib's ``sh -c`` line): words quoted for the shell arrive as exactly as in exec
    form, and nothing in them runs."""
    outcome, log = _run(
        {"command": ["python3", str(QUADRATIC)], "args": ["mode=echo", *map(shlex.quote, HOSTILE)], "workingDir": str(tmp_path)},
        collector="StdOut",
    )
    assert outcome.phase == "Succeeded", log
    assert _echo_lines(log)["argv"] == ["mode=echo", *HOSTILE]
    assert not (tmp_path / "substituted").exists() and "pwned" not in log.replace("; echo pwned", "")


UTF8_WORDS = "café 中文"
TRIAL_UNDER_LOCALE = """
import ast
import sys
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.launchers import LocalLauncher
container, collector = ast.literal_eval(sys.argv[1])
manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"}, "spec": {"template": {"spec": {"containers": [{"name": "main", **container}]}}}}
outcome = LocalLauncher().run(TrialRun("e", "t", manifest, {}, "main", metrics_collector={"collector": {"kind": collector}} if collector else {}))
print(ascii((outcome.phase.value, outcome.reason, outcome.message)))
"""


@pytest.mark.parametrize("collector", ["", "Push"])
def test_words_reach_the_trial_as_utf8_under_any_locale(collector, tmp_path):
    """QA under ``LC_ALL=C PYTHONUTF8=0``: every trial with ``café`` in its ``sh -c`` line failed
    to start ('ascii' codec can't encode); under Latin-1 the trial got other bytes. A container's
    words are UTF-8 on Kubernetes whatever the host's locale: so are a local trial's, in argv and env."""
    seen = tmp_path / "seen"
    script = f"printf '%s|%s' '{UTF8_WORDS}' \"$WORD\" > {shlex.quote(str(seen))}"
    container = {"command": ["sh", "-c"], "args": [script], "env": [{"name": "WORD", "value": UTF8_WORDS}]}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    done = subprocess.run([sys.executable, "-c", TRIAL_UNDER_LOCALE, ascii((container, collector))], env=env, capture_output=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith(b"('Succeeded'"), (done.stdout, done.stderr)
    assert seen.read_bytes() == f"{UTF8_WORDS}|{UTF8_WORDS}".encode()


def _latin1_locale(folder: Path) -> dict[str, str]:
    """An environment whose locale is Latin-1 (fr_FR.ISO-8859-1, built here with localedef: no
    such locale comes installed), or a skip where glibc's locale sources are missing."""
    if shutil.which("localedef") is None or not Path("/usr/share/i18n/locales/fr_FR").exists():
        pytest.skip("no localedef or glibc locale sources to build a Latin-1 locale")
    folder.mkdir()
    built = subprocess.run(["localedef", "-i", "fr_FR", "-f", "ISO-8859-1", str(folder / "fr_FR.ISO-8859-1")], capture_output=True, check=False)
    if not (folder / "fr_FR.ISO-8859-1").is_dir():
        pytest.skip(f"localedef could not build a Latin-1 locale: {built.stderr.decode(errors='replace')[-200:]}")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LOCPATH=str(folder), LC_ALL="fr_FR.ISO-8859-1", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    return env


LAUNCH_UNDER_LOCALE = """
import ast
import sys
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.launchers import LocalLauncher
container, mounts = ast.literal_eval(sys.argv[1])
mounts = {k: v.encode("latin-1").decode(sys.getfilesystemencoding(), "surrogateescape") for k, v in mounts.items()}
manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"}, "spec": {"template": {"spec": {"containers": [{"name": "main", **container}]}}}}
outcome = LocalLauncher(mounts=mounts).run(TrialRun("e", "t", manifest, {}, "main"))
print(ascii((outcome.phase.value, outcome.reason, outcome.message)))
"""


def test_host_paths_keep_their_bytes_under_a_latin1_locale(tmp_path):
    """Review of the UTF-8 fix: on a Latin-1 host a folder ``café`` (byte 0xE9 on disk) given as
    ``--mount``, on ``PATH`` (changed for every trial: this Python's folder goes first) or as
    ``workingDir`` was re-encoded to UTF-8 and not found ("cannot open", "not found"), where it
    had worked: words from this host keep the host's bytes."""
    env = _latin1_locale(tmp_path / "locales")
    folder = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.mkdir(folder)
    with open(os.path.join(folder, b"x.sh"), "w") as script:
        script.write("echo loss=0.25\n")
    with open(os.path.join(folder, b"mytool"), "w") as tool:
        tool.write("#!/bin/sh\necho loss=0.5\n")
    os.chmod(os.path.join(folder, b"mytool"), 0o755)
    environ = {os.fsencode(k): os.fsencode(v) for k, v in env.items()}
    environ[b"PATH"] = folder + b":" + environ[b"PATH"]  # the host's bytes, as a Latin-1 shell would set it
    mounts = {"/data": folder.decode("latin-1")}  # the child reads it back as its own (Latin-1) text
    for container in ({"command": ["sh", "/data/x.sh"]}, {"command": ["mytool"]}, {"command": ["sh", "-c", "echo loss=0.75"], "workingDir": "/data"}):
        done = subprocess.run([sys.executable, "-c", LAUNCH_UNDER_LOCALE, ascii((container, mounts))], env=environ, capture_output=True, check=False)
        assert done.returncode == 0 and done.stdout.startswith(b"('Succeeded'"), (container, done.stdout, done.stderr)


def test_a_working_dir_with_accents_is_found_under_the_c_locale(tmp_path):
    """Review of the UTF-8 fix: under ``LC_ALL=C PYTHONUTF8=0`` a ``workingDir`` ``café`` that
    exists was reported "no such folder on this machine" (os.path of a str it cannot encode)."""
    (tmp_path / "café").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    container = {"command": ["sh", "-c", "pwd; echo loss=0.5"], "workingDir": str(tmp_path / "café")}
    done = subprocess.run([sys.executable, "-c", TRIAL_UNDER_LOCALE, ascii((container, ""))], env=env, capture_output=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith(b"('Succeeded'"), (done.stdout, done.stderr)


PRINT_EXECUTABLE = "import sys; print('exe=' + sys.executable)"


@pytest.mark.parametrize(("collector", "code"), [("", shlex.quote(PRINT_EXECUTABLE)), ("Push", PRINT_EXECUTABLE)])
def test_python_means_this_python(collector, code):
    """In the ``sh -c`` line (no collector: StdOut) as in exec form (Push)."""
    _, log = _run({"command": ["python", "-c", code]}, collector=collector)
    assert f"exe={sys.executable}" in log


def test_mounts_map_container_paths(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "train.py").write_text("import os; print('cwd=' + os.getcwd()); print('loss=0.5')\n")
    outcome, log = _run({"command": ["python3", "/opt/app/train.py"], "workingDir": "/opt/app"}, mounts={"/opt/app": str(tmp_path / "app")})
    assert outcome.phase == "Succeeded", log
    assert f"cwd={tmp_path / 'app'}" in log


def test_mount_rewrites_flag_values_but_not_lookalikes(tmp_path):
    launcher = LocalLauncher(mounts={"/data": str(tmp_path)})
    assert launcher._map("--data=/data/x.csv") == f"--data={tmp_path}/x.csv"
    assert launcher._map("/data") == str(tmp_path)
    assert launcher._map("/database/x") == "/database/x"
    assert launcher._map("my/data/x") == "my/data/x"


def test_a_mount_maps_every_path_that_starts_a_word_of_a_shell_line_and_no_lookalike(tmp_path):
    folder = tmp_path / "a b"
    launcher = LocalLauncher(mounts={"/opt/pbt": str(folder)})
    line = "cd /opt/pbt && python3 /opt/pbt/t.py --c=/opt/pbt/c -p '/opt/pbt/q' x:/opt/pbt /opt/pbtx my/opt/pbt"
    quoted = shlex.quote(str(folder))
    assert launcher._map(line, line=True) == (
        f"cd {quoted} && python3 {quoted}/t.py --c={quoted}/c -p '{folder}/q' x:{quoted} /opt/pbtx my/opt/pbt"
    )
    argv, _, _ = launcher.command_for(TrialRun("e", "t", {"spec": {"containers": [{"name": "main", "command": ["sh", "-c", line, "/opt/pbt/arg"]}]}}, {}, "main",
                                               metrics_collector={"collector": {"kind": "Push"}}))
    assert argv[2].startswith(f"cd {quoted} && ") and argv[3] == f"{folder}/arg", "a positional argument after the line is a word, unquoted"
    # a colon ends a path, as in a PATH-style list: each of its folders is a path of its own
    assert launcher._map("PYTHONPATH=/opt/pbt:$PYTHONPATH python3 -c x; P=/a:/opt/pbt/lib", line=True) == (
        f"PYTHONPATH={quoted}:$PYTHONPATH python3 -c x; P=/a:{quoted}/lib"
    )


def _past_the_deadline_once_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sleep_seconds: int) -> tuple[str, Path]:
    """A trial script that writes its pid (whole: written aside, then renamed) to the file
    returned, then sleeps ``sleep_seconds``; and the launcher's clock for it, which reads 0.0 as
    the trial's start (the first read, ``_watch``'s ``started``: no other read of the launcher's
    clock comes before it), stands still until the pid is there, then is past any deadline.
    Whichever comes first, that first read or the pid file, the deadline passes at the first
    look after the pid is written, and not before: neither a slow start on a loaded machine nor
    a fast trial (its pid written before ``started`` is read) can move it."""
    pid_file = tmp_path / "pid"
    script = (f"import os, time; open({str(pid_file) + '.tmp'!r}, 'w').write(str(os.getpid())); "
              f"os.replace({str(pid_file) + '.tmp'!r}, {str(pid_file)!r}); time.sleep({sleep_seconds})")
    reads = itertools.count()

    def clock() -> float:
        if next(reads) == 0:
            assert sys._getframe(1).f_code.co_name == "_watch", "the first read of the clock is the trial's start"
            return 0.0
        return time.monotonic() + 1e6 if pid_file.exists() else 0.0  # after the jump, real time: the kill's grace period as it is

    monkeypatch.setattr(local, "time", SimpleNamespace(monotonic=clock, sleep=time.sleep))
    return script, pid_file


def test_deadline_kills_the_trial(tmp_path, monkeypatch):
    """activeDeadlineSeconds ends the trial: the run returns DeadlineExceeded and the trial's
    process is gone (it would otherwise sleep for an hour)."""
    script, pid_file = _past_the_deadline_once_started(tmp_path, monkeypatch, 3600)
    outcome, _ = _run({"command": ["python3", "-c", shlex.quote(script)]}, manifest_spec={"activeDeadlineSeconds": 1})
    assert outcome.phase == "Failed" and outcome.reason == "DeadlineExceeded"
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_exit_code_and_unrunnable_trials():
    outcome, _ = _run({"command": ["python3", "-c", "'raise SystemExit(7)'"]})
    assert (outcome.phase, outcome.exit_code, outcome.message) == ("Failed", 7, "exit code 7")  # nothing printed: the code alone
    outcome, _ = _run({"image": "x"})
    assert outcome.reason == "InvalidTrial" and "no command" in outcome.message
    outcome, _ = _run({"command": ["/no/such/binary"]}, collector="Push")  # exec form: nothing starts
    assert outcome.reason == "StartError"
    outcome, log = _run({"command": ["/no/such/binary"]})  # sh -c: the shell starts and says so, as in Katib's container
    assert (outcome.phase, outcome.exit_code) == ("Failed", 127) and "/no/such/binary" in log
    outcome, _ = _run({"command": ["true"], "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]})
    assert outcome.reason == "InvalidTrial" and "valueFrom" in outcome.message


def test_launcher_config():
    launcher = launcher_from_config('{"kind": "local", "mounts": {"/opt/x": "/tmp"}, "timeoutSeconds": 5}')
    assert isinstance(launcher, LocalLauncher) and launcher.timeout_seconds == 5
    try:
        launcher_from_config({"kind": "ssh"})
    except ValueError as exc:
        assert "expected 'local'" in str(exc)
    else:
        raise AssertionError("unknown launcher kind accepted")


def test_a_trainjob_trial_runs_its_trainer_command_locally(tmp_path):
    """TrainJob has no containers list: spec.trainer is the trial's container (named node)."""
    from conftest import QUADRATIC, quadratic_experiment
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.inline_runner import run_inline
    from kfp_tune.reports import trial_rows
    from kfp_tune.stores import LocalStore

    doc = quadratic_experiment(**{"spec.maxTrialCount": 2})
    doc["spec"]["trialTemplate"]["primaryContainerName"] = "node"
    doc["spec"]["trialTemplate"]["trialSpec"] = {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "TrainJob",
        "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": "trial", "command": ["python3", str(QUADRATIC)], "args": ["x=${trialParameters.x}", "y=${trialParameters.y}"]}},
    }
    store = LocalStore(tmp_path)
    assert run_inline(store, load_experiment(doc), LocalLauncher()).phase == "Succeeded"
    assert [r["status"] for r in trial_rows(store, "quad")] == ["Succeeded", "Succeeded"]


def test_the_metrics_folder_never_swallows_the_training_script(tmp_path):
    """The trial's script and its File collector path share a top folder (``/opt/app/train.py``
    beside ``/opt/logs/m.log``; here both under the test's folder, as a checkout under /tmp sits
    beside pytest's folders): only the collector's own folder is redirected, so the script still
    runs and what it wrote comes back."""
    from kfp_tune.launchers.kubernetes.kinds import primary_pod_container
    from kfp_tune.launchers.metrics_files import metrics_root

    script = tmp_path / "opt" / "app" / "train.py"
    script.parent.mkdir(parents=True)
    script.write_text("import pathlib, sys\npathlib.Path(sys.argv[1].split('=', 1)[1]).write_text('loss=0.5\\n')\n")
    collector_path = str(tmp_path / "opt" / "logs" / "m.log")
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"}, "spec": {"template": {"spec": {"containers": [
        {"name": "main", "command": ["python3", str(script), f"--log={collector_path}"]}]}}}}
    assert metrics_root(primary_pod_container(manifest, "main", None) or {}, collector_path, "File") == (str(tmp_path / "opt" / "logs"), "m.log")
    outcome = LocalLauncher().run(TrialRun("e", "t", manifest, {}, "main", metrics_path=collector_path, metrics_path_kind="File"))
    assert outcome.phase == "Succeeded", outcome.logs
    assert outcome.files == {"m.log": b"loss=0.5\n"}
    assert not (tmp_path / "opt" / "logs").exists(), "the trial wrote to its own folder, not the container path"


def test_a_folder_the_command_names_is_the_metrics_root():
    """Katib's TFJob example: ``--log-path=/mnist-with-summaries-logs`` with the collector reading
    ``/mnist-with-summaries-logs/test``: the trial gets the named folder, the collector its subfolder."""
    from kfp_tune.launchers.kubernetes.kinds import primary_pod_container
    from kfp_tune.launchers.metrics_files import metrics_root

    manifest = {"spec": {"template": {"spec": {"containers": [{"name": "main", "command": [
        "python", "/opt/tf-mnist-with-summaries/mnist.py", "--log-path=/mnist-with-summaries-logs/"]}]}}}}
    assert metrics_root(primary_pod_container(manifest, "main", None) or {}, "/mnist-with-summaries-logs/test", "Directory") == ("/mnist-with-summaries-logs", "test")
    assert metrics_root(primary_pod_container(manifest, "main", None) or {}, "/var/log/katib/metrics.log", "File") == ("/var/log/katib", "metrics.log")


def test_a_trial_killed_by_a_signal_says_which_signal():
    """Python gives a process a signal killed a negative return code: the message names the
    signal ("exit code -9" read as an exit status the process never had); a real exit code
    stays one."""
    killer = "import os, signal; print('stopping here', flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    outcome, _ = _run({"command": ["python3", "-c", killer]}, collector="Push")  # exec form: the trial is the process started
    assert (outcome.phase, outcome.reason, outcome.message) == ("Failed", "Error", "killed by signal 9 (SIGKILL): stopping here")
    assert local.process_end(-15) == "killed by signal 15 (SIGTERM)" and local.process_end(137) == "exit code 137"


def _pod(container: dict, **pod_spec) -> dict:
    return {"template": {"spec": {**pod_spec, "containers": [{"name": "main", **container}]}}}


# (the trial's manifest less its container, the reason its deadline gives): each kind's deadlines
# as its controller fails the trial at them (the training-operator's NewReason(kind, "Failed"))
KIND_DEADLINES = {
    "job-pod": (lambda c: {"apiVersion": "batch/v1", "kind": "Job", "spec": _pod(c, activeDeadlineSeconds=2, restartPolicy="Never")}, "BackoffLimitExceeded"),
    "pytorchjob-run-policy": (lambda c: {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {
        "runPolicy": {"activeDeadlineSeconds": 3}, "pytorchReplicaSpecs": {"Master": {"replicas": 1, **_pod(c)}}}}, "PyTorchJobFailed"),
    "pytorchjob-pod": (lambda c: {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {
        "pytorchReplicaSpecs": {"Master": {"replicas": 1, **_pod(c, activeDeadlineSeconds=3)}}}}, "PyTorchJobFailed"),
    "tfjob-run-policy": (lambda c: {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "spec": {
        "runPolicy": {"activeDeadlineSeconds": 3}, "tfReplicaSpecs": {"Worker": {"replicas": 1, **_pod(c)}}}}, "TFJobFailed"),
    "xgboostjob-run-policy": (lambda c: {"apiVersion": "kubeflow.org/v1", "kind": "XGBoostJob", "spec": {
        "runPolicy": {"activeDeadlineSeconds": 3}, "xgbReplicaSpecs": {"Master": {"replicas": 1, **_pod(c)}}}}, "XGBoostJobFailed"),
    "mpijob-v1-run-policy": (lambda c: {"apiVersion": "kubeflow.org/v1", "kind": "MPIJob", "spec": {
        "runPolicy": {"activeDeadlineSeconds": 3}, "mpiReplicaSpecs": {"Launcher": {"replicas": 1, **_pod(c)}}}}, "MPIJobFailed"),
    "mpijob-v2beta1-run-policy": (lambda c: {"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob", "spec": {
        "runPolicy": {"activeDeadlineSeconds": 3}, "mpiReplicaSpecs": {"Launcher": {"replicas": 1, **_pod(c)}}}}, "DeadlineExceeded"),
    "trainjob": (lambda c: {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "spec": {
        "activeDeadlineSeconds": 3, "runtimeRef": {"name": "torch-distributed"}, "trainer": c}}, "DeadlineExceeded"),
}


@pytest.mark.parametrize("case", sorted(KIND_DEADLINES))
def test_every_kinds_deadline_kills_the_trial_with_its_controllers_reason(case, tmp_path, monkeypatch):
    """A PyTorchJob with ``runPolicy.activeDeadlineSeconds: 3`` ran its 25 s command to the end
    and Succeeded, where the training-operator fails it at its deadline (and Katib the trial):
    the pod's deadline, the training-operator's and the MPI operator's run policy are deadlines
    too, each failing the trial with the reason its controller gives. The clock jumps past the
    deadline once the trial has written its pid; a trial not held to it ends by itself (10 s)
    and Succeeds."""
    script, _ = _past_the_deadline_once_started(tmp_path, monkeypatch, 10)
    make, reason = KIND_DEADLINES[case]
    manifest = {**make({"name": "main", "command": ["python3", "-c", shlex.quote(script)]}), "metadata": {"name": "t"}}
    if case == "trainjob":
        manifest["spec"]["trainer"].pop("name")
    outcome = LocalLauncher().run(TrialRun("e", "t", manifest, {}, "main", metrics_collector={}))
    assert (outcome.phase, outcome.reason) == ("Failed", reason), outcome.message
    assert "activeDeadlineSeconds" in outcome.message and "killed" in outcome.message


def test_the_earliest_deadline_is_the_trials():
    """The pod's, the resource's and the launcher's ``timeoutSeconds``: the earliest holds, as on
    a cluster (a trial's own deadline no longer puts the launcher's later one aside, nor an
    earlier one); the message names the field."""
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"activeDeadlineSeconds": 60, **_pod({"command": ["true"]}, activeDeadlineSeconds=30)}}
    chosen = local.trial_deadline(job, "main", 100)
    assert chosen is not None and (chosen.seconds, chosen.reason) == (30, "BackoffLimitExceeded")
    assert "spec.template.spec.activeDeadlineSeconds" in chosen.message
    chosen = local.trial_deadline(job, "main", 5)
    assert chosen is not None and (chosen.seconds, chosen.reason) == (5, "DeadlineExceeded") and "launcher's timeout" in chosen.message
    job["spec"]["activeDeadlineSeconds"] = 30  # a tie: the Job's own
    chosen = local.trial_deadline(job, "main")
    assert chosen is not None and (chosen.reason, chosen.message) == ("DeadlineExceeded", "the trial ran past its deadline of 30 s (spec.activeDeadlineSeconds) and was killed")
    other_pod = {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {
        "Master": _pod({"command": ["true"]}), "Worker": {"template": {"spec": {"activeDeadlineSeconds": 1, "containers": [{"name": "other"}]}}}}}}
    assert local.trial_deadline(other_pod, "main") is None  # only the primary container's pod holds it
    assert local.trial_deadline({"kind": "Job", "spec": {"activeDeadlineSeconds": True}}, "main") is None


def test_a_pods_deadline_gives_the_reason_of_the_controller_that_made_the_pod():
    """The launcher pod of a v2beta1 MPIJob is its launcher Job's: past the pod's deadline the Job
    fails BackoffLimitExceeded and the MPI operator reports the launcher's reason under its own
    (BackoffLimitExceeded/DeadlineExceeded); a v1 MPIJob's is the training-operator's MPIJobFailed;
    the pod of a kind without such a controller fails DeadlineExceeded, as the kubelet says."""
    launcher = {"mpiReplicaSpecs": {"Launcher": {"replicas": 1, **_pod({"command": ["true"]}, activeDeadlineSeconds=7)}}}
    for api_version, kind, reason in (("kubeflow.org/v2beta1", "MPIJob", "BackoffLimitExceeded/DeadlineExceeded"), ("kubeflow.org/v1", "MPIJob", "MPIJobFailed"),
                                      ("example.com/v1", "MPIJob", "DeadlineExceeded")):
        chosen = local.trial_deadline({"apiVersion": api_version, "kind": kind, "spec": launcher}, "main")
        assert chosen is not None and (chosen.seconds, chosen.reason) == (7, reason), (api_version, chosen)
        assert chosen.message == "the trial ran past its deadline of 7 s (spec.mpiReplicaSpecs.Launcher.template.spec.activeDeadlineSeconds) and was killed"
