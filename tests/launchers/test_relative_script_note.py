"""A relative script path (Katib's darts ``python3 run_trial.py``, enas ``python3 -u
RunTrial.py``, fpga ``python3 XGBoost/parameter-tuning.py``) is relative to the image's working
directory; here each trial starts in its ``workingDir`` (mapped by a mount) or the caller's
folder, where the file is not, so every trial failed "can't open file" and nothing said why.
``kfp-tune run`` now names such a word before the first trial, with ``workingDir`` and
``--mount``, as it names an absolute path of the image; a note, not a refusal, and none where the
file is there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import QUADRATIC, quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.local import LocalLauncher

KATIB_COMMANDS = {
    "darts": ["python3", "run_trial.py", '--algorithm-settings="${trialParameters.x}"', '--search-space="${trialParameters.y}"'],
    "enas": ["python3", "-u", "RunTrial.py", "--num_epochs=1", '--architecture="${trialParameters.x}"', '--nn_config="${trialParameters.y}"'],
    "fpga": ["python3", "XGBoost/parameter-tuning.py", "--x=${trialParameters.x}", "--y=${trialParameters.y}"],
}
WORDS = {"darts": "run_trial.py", "enas": "RunTrial.py", "fpga": "XGBoost/parameter-tuning.py"}


def experiment(command: list[str], working_dir: str = "", **overrides: Any) -> dict[str, Any]:
    doc = quadratic_experiment(**overrides)
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    uses = any("${trialParameters." in word for word in command)
    container["command"], container["args"] = command, ([] if uses else ["x=${trialParameters.x}", "y=${trialParameters.y}"])
    if working_dir:
        container["workingDir"] = working_dir
    return doc


@pytest.mark.parametrize("example", list(KATIB_COMMANDS))
def test_katibs_relative_scripts_are_named_where_the_caller_runs(example: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert LocalLauncher().relative_scripts(load_experiment(experiment(KATIB_COMMANDS[example]))) == ([WORDS[example]], str(tmp_path))
    (tmp_path / WORDS[example]).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / WORDS[example]).write_text("")
    assert LocalLauncher().relative_scripts(load_experiment(experiment(KATIB_COMMANDS[example]))) == ([], str(tmp_path)), "the file is here: no note"


def test_the_working_dir_mapped_by_a_mount_is_where_it_is_looked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (tmp_path / "run_trial.py").write_text("")  # in the caller's folder, not in the workingDir
    doc = experiment(KATIB_COMMANDS["darts"], working_dir="/opt/kfp-tune-test-darts")
    launcher = LocalLauncher(mounts={"/opt/kfp-tune-test-darts": str(app)})
    assert launcher.relative_scripts(load_experiment(doc)) == (["run_trial.py"], str(app))
    (app / "run_trial.py").write_text("")
    assert launcher.relative_scripts(load_experiment(doc)) == ([], str(app))


@pytest.mark.parametrize(("command", "words"), [
    (["python3", "-m", "trainer.main"], []),  # a module, not a path
    (["python3", "-c", "print(1)"], []),
    (["python3", "-W", "ignore", "fit.py", "data.csv"], ["fit.py"]),
    (["Rscript", "fit.R"], ["fit.R"]),
    (["bash", "run"], ["run"]),  # an interpreter's first argument, whatever its ending
    (["sh", "-c", "python3 train.py --lr=0.1 && echo done"], ["train.py"]),
    (["sh", "-c", "cd src && python3 train.py"], []),  # relative to a folder the line moves to
    (["python3", "/opt/train.py", "--config=conf.py", "${trialParameters.x}.py", "${trialParameters.y}"], []),
    (["bash", "-o", "pipefail", "-c", "python3 /opt/train.py | tee log"], []),  # -o's value is no script
    (["bash", "-euo", "pipefail", "-c", "python3 /opt/train.py | tee log"], []),  # bash reads a value for each o among -euo
    (["bash", "-eo", "pipefail", "-c", "python3 fit.py | tee log"], ["fit.py"]),
    (["bash", "-oe", "pipefail", "-c", "python3 fit.py"], ["fit.py"]),  # wherever the o stands in the word
    (["bash", "-euxo", "pipefail", "-O", "extglob", "-c", "python3 fit.py"], ["fit.py"]),
    (["bash", "+o", "histexpand", "-ec", "python3 fit.py"], ["fit.py"]),
    (["bash", "-euo", "pipefail", "fit.sh"], ["fit.sh"]),  # no -c: the script after the options' values
    (["bash", "-lc", "cd /app && python x.py"], []),  # -lc is -c: the line's words, after a cd
    (["sh", "-ec", "python train.py --lr 1"], ["train.py"]),  # the line's words, not the line
    (["bash", "-xc", "python3 fit.py"], ["fit.py"]),
    (["julia", "-t", "4", "t.jl"], ["t.jl"]),
    (["julia", "--project", "env", "t.jl"], ["t.jl"]),
    (["python", "--check-hash-based-pycs", "always", "t.py"], ["t.py"]),
    (["python3", "-X", "dev", "t.py"], ["t.py"]),
    (["python3", "my script.py"], []),  # a word holding a space: no path this check can judge
])
def test_what_counts_as_a_script(command: list[str], words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert LocalLauncher().relative_scripts(load_experiment(experiment(command)))[0] == words


def test_run_notes_a_relative_script_before_the_first_trial_and_not_when_it_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    doc = experiment(["python3", "quadratic.py"], **{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "s1")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"note: spec.trialTemplate.trialSpec (container 'main'): quadratic.py is a relative path, no file in {tmp_path}, where each trial "
        "starts here; in the trial's image it is relative to the image's working directory, which is not known here: set the container's "
        "workingDir to the image's folder that holds it and give a local copy of that folder: --mount WORKDIR=LOCAL_FOLDER\n"
    ), err
    (tmp_path / "quadratic.py").write_bytes(QUADRATIC.read_bytes())
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "s2")]) == 0
    assert "note:" not in capsys.readouterr().err


def test_with_a_working_dir_the_note_names_it_and_with_its_own_note_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    limits = {"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}
    app = tmp_path / "app"
    app.mkdir()
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(experiment(["python3", "train.py"], working_dir="/kfp-tune-test-app", **limits)))
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "s1"), "--mount", f"/kfp-tune-test-app={app}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"note: spec.trialTemplate.trialSpec (container 'main'): train.py is a relative path, no file in {app}, where each trial starts "
        "here (workingDir /kfp-tune-test-app); give a local copy of the image's /kfp-tune-test-app: --mount /kfp-tune-test-app=LOCAL_FOLDER "
        "holding train.py\n"
    ), err
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "s2")]) == 1  # no mount: the workingDir's note alone
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "workingDir /kfp-tune-test-app: no such folder" in notes[0], notes


def worker_first(kind: str, working_dir: str = "", trial_dir_word: bool = True) -> dict[str, Any]:
    """A PyTorchJob (TFJob) whose YAML lists the Worker before the Master (Chief): the Master's
    container runs here (``local_primary``), ``python3 master_rel.py`` in ``working_dir``."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})

    def replica(script: str, count: int, **more: str) -> dict[str, Any]:
        container = {"name": "main", "image": "x", "command": ["python3", script, "x=${trialParameters.x}", "y=${trialParameters.y}"], **more}
        return {"replicas": count, "restartPolicy": "Never", "template": {"spec": {"containers": [container]}}}

    primary, key = ("Master", "pytorchReplicaSpecs") if kind == "PyTorchJob" else ("Chief", "tfReplicaSpecs")
    master = replica("master_rel.py", 1, **({"workingDir": working_dir} if working_dir else {}))
    doc["spec"]["trialTemplate"]["trialSpec"] = {
        "apiVersion": "kubeflow.org/v1", "kind": kind, "spec": {key: {"Worker": replica("worker_rel.py", 2), primary: master}},
    }
    return doc


@pytest.mark.parametrize("kind", ["PyTorchJob", "TFJob"])
def test_the_notes_read_the_container_that_runs_here_whatever_the_yaml_order(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert LocalLauncher().relative_scripts(load_experiment(worker_first(kind))) == (["master_rel.py"], str(tmp_path))
    assert LocalLauncher().unmounted_paths(load_experiment(worker_first(kind, "/kfp-tune-test-app"))) == [("/kfp-tune-test-app", "/kfp-tune-test-app")]
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(worker_first(kind, "/kfp-tune-test-app"), sort_keys=False))  # Worker first in the file too
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "s1")]) == 1
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: spec.trialTemplate.trialSpec (container")]
    assert notes == [
        "note: spec.trialTemplate.trialSpec (container 'main'): workingDir /kfp-tune-test-app: no such folder on this machine, where every "
        "trial starts; create it, or map it to a local folder: --mount /kfp-tune-test-app=LOCAL_FOLDER"
    ], notes
