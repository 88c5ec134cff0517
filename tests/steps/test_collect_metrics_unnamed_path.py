"""A File collector's path that the trial's command does not name: a local run gives each trial
its own folder only where a word names it, so training code that writes Katib's default
``/var/log/katib/metrics.log`` itself writes this machine's file. The MetricsUnavailable message
then says what happened (no file at the trial's path, and why), never that the file lacks
``loss=`` lines; a trial that writes ``$KFP_TUNE_METRICS_PATH`` is read."""

from __future__ import annotations

from pathlib import Path

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.launchers import LocalLauncher


def _trial_result(store, path: Path, script: str, args: list[str] | None = None, kind: str = "File"):
    """The one trial's result, its container running ``script`` (a file beside ``path``'s
    folder, as a training script in its image) with a File (or TensorFlowEvent) collector at ``path``."""
    program = path.parent.parent / "app" / "train.py"
    program.parent.mkdir(exist_ok=True)
    program.write_text(script + "\n")
    experiment = load_experiment(quadratic_experiment(**{
        "spec.objective.additionalMetricNames": [],
        "spec.metricsCollectorSpec": {"collector": {"kind": kind}, "source": {"fileSystemPath": {"path": str(path), "kind": "Directory" if kind != "File" else "File"}}},
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.command": ["python3", str(program)],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["x=${trialParameters.x}", "y=${trialParameters.y}", *(args or [])],
    }))
    records = ExperimentRecords(store, experiment.name)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    steps.launch_trial(records, LocalLauncher(), name)
    return steps.collect_metrics(records, name)


def test_a_path_the_command_does_not_name_is_said_to_have_no_file_and_why(local_store, tmp_path: Path):
    path = tmp_path / "katib" / "metrics.log"
    script = f"import os; os.makedirs({str(path.parent)!r}, exist_ok=True); open({str(path)!r}, 'a').write('loss=0.31\\n')"
    result = _trial_result(local_store, path, script)
    assert path.read_text() == "loss=0.31\n", "the trial wrote this machine's file, as a local process does"
    assert result.status == TrialStatus.METRICS_UNAVAILABLE
    assert "found none in the file" not in result.message and "it reads lines of the form" not in result.message
    folder = path.parent
    assert result.message == (
        f"the trial did not report the objective metric 'loss': the File collector found no file at {path}, the trial's metrics path: "
        f"a local run gives each trial its own folder at {folder} only where its command, args or env name that folder or a path in it "
        f"(Katib mounts a volume there), and they name none, so a trial that writes {path} itself writes this machine's, "
        f"which is not read (this machine's {path} was written while the trial ran); have the trial write the path "
        f"$KFP_TUNE_METRICS_PATH names, or pass {path} in its command or args"
    )


def test_the_machine_file_is_mentioned_only_when_the_trial_wrote_it(local_store, tmp_path: Path):
    path = tmp_path / "katib" / "metrics.log"
    result = _trial_result(local_store, path, "print('nothing written')")
    assert not path.exists()
    assert result.status == TrialStatus.METRICS_UNAVAILABLE
    assert f"the File collector found no file at {path}, the trial's metrics path: " in result.message
    assert "was written while the trial ran" not in result.message


def test_a_trial_that_writes_the_path_its_env_names_is_read(local_store, tmp_path: Path):
    """What the message advises works: $KFP_TUNE_METRICS_PATH is the trial's own file."""
    path = tmp_path / "katib" / "metrics.log"
    script = "import os; open(os.environ['KFP_TUNE_METRICS_PATH'], 'a').write('loss=0.31\\n')"
    result = _trial_result(local_store, path, script)
    assert (result.status, result.metrics["loss"]) == (TrialStatus.SUCCEEDED, 0.31)
    assert not path.exists(), "nothing was written to this machine's path"


def test_a_named_path_where_the_trial_wrote_nothing_is_said_to_have_no_file(local_store, tmp_path: Path):
    path = tmp_path / "logs" / "metrics.log"
    result = _trial_result(local_store, path, "print('nothing written')", args=[f"--log={path}"])
    assert result.status == TrialStatus.METRICS_UNAVAILABLE
    assert result.message == (
        f"the trial did not report the objective metric 'loss': the File collector found no file at {path}, the trial's metrics path "
        "(a local run gives each trial its own, named by $KFP_TUNE_METRICS_PATH too)"
    )


def test_a_file_without_the_metric_is_still_said_to_lack_its_lines(local_store, tmp_path: Path):
    path = tmp_path / "logs" / "metrics.log"
    script = "import sys; open(sys.argv[-1].split('=', 1)[1], 'w').write('acc=0.5\\n')"
    result = _trial_result(local_store, path, script, args=[f"--log={path}"])
    assert result.status == TrialStatus.METRICS_UNAVAILABLE
    assert result.message == (
        f"the trial did not report the objective metric 'loss': the File collector found none in the file {path}; "
        "it reads lines of the form loss=<number> (Katib's default filter)"
    )


def test_an_event_folder_the_command_does_not_name_is_said_to_have_no_file(local_store, tmp_path: Path):
    path = tmp_path / "logs" / "tb"
    result = _trial_result(local_store, path, "print('nothing written')", kind="TensorFlowEvent")
    assert result.status == TrialStatus.METRICS_UNAVAILABLE
    assert f"the TensorFlowEvent collector found no file under {path}, the trial's metrics path: a local run gives each trial its own folder at {path} only" in result.message
