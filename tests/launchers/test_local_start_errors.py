"""A local trial that cannot start says why in its own words (the folder it starts in, the env
name), as a trial that failed, never as a failure of the whole run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import SpecError
from kfp_tune.core.interfaces import LaunchPhase, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers import LocalLauncher


def _trial(container: dict, collector: str = "") -> TrialRun:
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"}, "spec": {"template": {"spec": {"containers": [{"name": "main", **container}]}}}}
    return TrialRun("e", "t", manifest, {}, "main", metrics_collector={"collector": {"kind": collector}} if collector else {})


def _experiment(tmp_path: Path, **container: object) -> str:
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0].update(container)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


@pytest.mark.parametrize("collector", ["", "Push"])  # sh -c said "cannot start 'sh'", exec form named the interpreter
def test_a_working_dir_that_is_not_here_is_named_as_the_reason_no_trial_starts(tmp_path, collector):
    missing = str(tmp_path / "not-made-yet")
    outcome = LocalLauncher().run(_trial({"command": ["python3", "-c", "print(1)"], "workingDir": missing}, collector))
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "StartError")
    assert outcome.message == f"workingDir {missing!r}: no such folder on this machine; create it or map it with --mount"
    mapped = LocalLauncher(mounts={"/opt/app": str(tmp_path)}).run(_trial({"command": ["true"], "workingDir": "/opt/app/work"}, collector))
    assert mapped.message == f"workingDir '/opt/app/work' (here {str(tmp_path / 'work')!r}): no such folder on this machine; create it or map it with --mount"
    (tmp_path / "file").write_text("")
    outcome = LocalLauncher().run(_trial({"command": ["true"], "workingDir": str(tmp_path / "file")}, collector))
    assert (outcome.reason, outcome.message) == ("StartError", f"workingDir {str(tmp_path / 'file')!r}: not a folder; the trial starts in its workingDir")


def test_run_names_a_working_dir_that_is_not_here_before_the_first_trial(tmp_path, capsys):
    missing = tmp_path / "not-made-yet" / "work"
    path = _experiment(tmp_path, workingDir=str(missing))
    assert main(["run", path, "--engine", "inline", "--store", str(tmp_path / "s1")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"note: spec.trialTemplate.trialSpec (container 'main'): workingDir {missing}: no such folder on this machine, where every trial "
        f"starts; create it, or map it to a local folder: --mount {missing}=LOCAL_FOLDER\n"
    ), err
    assert "StartError: Trial has failed. Job message: workingDir '" in err, err  # and the trial's failure says so too
    missing.mkdir(parents=True)
    assert main(["run", path, "--engine", "inline", "--store", str(tmp_path / "s2")]) == 0
    assert "note:" not in capsys.readouterr().err
    launcher = LocalLauncher(mounts={"/opt/kfp-tune-test-app": str(tmp_path)})
    for working_dir in ("/opt/kfp-tune-test-app/work", "/opt/kfp-tune-test-app/${trialParameters.x}", "relative"):
        doc = yaml.safe_load(Path(_experiment(tmp_path, workingDir=working_dir)).read_text())
        assert launcher.unmounted_paths(load_experiment(doc)) == [], f"{working_dir}: mounted, or known only when the trial runs"
    doc = yaml.safe_load(Path(_experiment(tmp_path, workingDir="/opt/kfp-tune-test-nothing/work")).read_text())
    assert launcher.unmounted_paths(load_experiment(doc)) == [("/opt/kfp-tune-test-nothing/work", "/opt/kfp-tune-test-nothing")]


def test_an_env_name_with_an_equals_sign_is_refused_naming_its_field(tmp_path, capsys):
    """QA's envbad.yaml: 'A=B' stopped the whole run with "ValueError: illegal environment
    variable name"; the API server refuses it (printable ASCII other than '='), so does validate."""
    path = _experiment(tmp_path, env=[{"name": "OK.name-1 x", "value": "1"}, {"name": "A=B", "value": "1"}, {"name": "héllo", "value": "1"}])
    field = "spec.trialTemplate.trialSpec.spec.template.spec.containers[0].env"
    expected = "expected printable ASCII characters other than '=' (the Kubernetes API server's rule for an env name)"
    with pytest.raises(SpecError) as refused:
        load_experiment(path)
    problems = [(e.path, e.message) for e in refused.value.errors]
    assert problems == [(f"{field}[1].name", f"{expected}, got 'A=B'"), (f"{field}[2].name", f"{expected}, got 'héllo'")]
    assert main(["run", path, "--engine", "inline", "--store", str(tmp_path / "store")]) == 2
    assert f"{field}[1].name: {expected}, got 'A=B'" in capsys.readouterr().err
    assert not (tmp_path / "store").exists()


def test_a_trial_the_os_cannot_start_fails_alone_and_names_why(tmp_path):
    """A manifest validation never saw: an env name with '=' is the trial's InvalidTrial; what the
    OS refuses only at the start (a NUL) is the trial's StartError, not an error that stops the run."""
    outcome = LocalLauncher().run(_trial({"command": ["true"], "env": [{"name": "A=B", "value": "1"}]}))
    assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "InvalidTrial")
    assert outcome.message.startswith("container 'main' env[0].name: expected printable ASCII characters other than '='"), outcome.message
    for container in ({"command": ["true"], "env": [{"name": "A", "value": "a\0b"}]}, {"command": ["true", "a\0b"]}):
        outcome = LocalLauncher().run(_trial(container, "Push"))
        assert (outcome.phase, outcome.reason) == (LaunchPhase.FAILED, "StartError"), container
        assert outcome.message.startswith("cannot start 'true': its command, args or env cannot be given to a process: "), outcome.message
