"""``kfp-tune run images/sklearn-digits/experiment.yaml`` without ``--mount`` (QA newcomer,
session 38, finding 6) noted that /opt/digits/train.py is not on this machine, then ran trials
that all failed "can't open file", spent the failure budget and left the experiment Failed, its
name used up. Where it is certain every trial fails so (the local launcher, the command in exec
form, the absolute path the script argument of a known interpreter, not mounted, not here, nor
its folder) the run is refused before the experiment is created: exit 2, naming the path and the
``--mount`` that gives it. Anything less certain (an ``sh -c`` line, another argument, which the
command may create) stays a note and the run goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from conftest import QUADRATIC, quadratic_experiment
from kfp_tune.cli import main

APP = "/opt/kfp-tune-test-app"
PARAMETERS = ["x=${trialParameters.x}", "y=${trialParameters.y}"]


def _write(tmp_path: Path, command: list[str], args: list[str] | None = None) -> str:
    doc: dict[str, Any] = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.maxFailedTrialCount": 1, "spec.parallelTrialCount": 1})
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = command
    if args is not None:
        container["args"] = args
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_an_interpreters_script_that_is_not_here_is_refused_before_the_experiment_is_made(tmp_path, capsys):
    app = tmp_path / "app"
    app.mkdir()
    (app / "quadratic.py").write_bytes(QUADRATIC.read_bytes())
    path, store = _write(tmp_path, ["python3", "-u", f"{APP}/quadratic.py"]), tmp_path / "store"

    assert main(["run", path, "--engine", "inline", "--store", str(store)]) == 2

    err = capsys.readouterr().err
    assert err.startswith(
        f"error: spec.trialTemplate.trialSpec (container 'main'): {APP}/quadratic.py, the script python3 runs, is not on this machine, "
        f"nor is {APP}, so every trial would fail to open it; give a local copy of that folder: --mount {APP}=LOCAL_FOLDER"
    ), err
    assert err.count("\n") == 1 and "note:" not in err, err
    assert not (store / "quad").exists(), "refused before the experiment was created"
    assert main(["run", path, "--engine", "inline", "--store", str(store), "--mount", f"{APP}={app}"]) == 0, "the name is still free"


def test_a_script_of_sh_or_bash_given_as_its_argument_is_refused_too(tmp_path, capsys):
    path = _write(tmp_path, ["/bin/bash", "-x", f"{APP}/train.sh"])

    assert main(["run", path, "--engine", "inline", "--store", str(tmp_path / "store")]) == 2
    assert f"{APP}/train.sh, the script bash runs, is not on this machine" in capsys.readouterr().err


def test_a_path_in_an_sh_c_line_stays_a_note_and_the_run_goes_on(tmp_path, capsys):
    path = _write(tmp_path, ["sh", "-c", f"python3 {APP}/quadratic.py {' '.join(PARAMETERS)}"], [])

    assert main(["run", path, "--engine", "inline", "--store", str(tmp_path / "store")]) == 1  # its trials fail: the line may have made it

    err = capsys.readouterr().err
    assert f"note: spec.trialTemplate.trialSpec (container 'main'): {APP}/quadratic.py is not on this machine" in err, err
    assert not any(line.startswith("error:") for line in err.splitlines()), err


def test_another_argument_that_is_not_here_stays_a_note(tmp_path, capsys):
    """A path that is not the interpreter's script (data, an output the script may create): the
    run goes on, as before."""
    path = _write(tmp_path, ["python3", str(QUADRATIC)], ["mode=echo", "/opt/kfp-tune-test-data/d.csv", *PARAMETERS])

    assert main(["run", path, "--engine", "inline", "--store", str(tmp_path / "store")]) == 0

    err = capsys.readouterr().err
    assert "note: spec.trialTemplate.trialSpec (container 'main'): /opt/kfp-tune-test-data/d.csv is not on this machine" in err, err


def test_a_module_run_with_dash_m_is_not_taken_for_a_script(tmp_path, capsys):
    path = _write(tmp_path, ["python3", "-m", "json.tool", f"{APP}/in.json"])

    assert main(["run", path, "--engine", "inline", "--store", str(tmp_path / "store")]) == 1  # the note, then trials that fail

    assert not any(line.startswith("error:") for line in capsys.readouterr().err.splitlines())
