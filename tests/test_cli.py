"""The command line, as a user meets it: exit codes, error lines, JSON output."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from start_order import CLAIM_PLACE

from conftest import config_map_experiment, quadratic_experiment
from kfp_tune.algorithms import registry
from kfp_tune.cli import main


def _write(tmp_path: Path, doc: dict, name: str = "exp.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_validate_ok(tmp_path, capsys):
    assert main(["validate", _write(tmp_path, quadratic_experiment())]) == 0
    assert "valid experiment 'quad'" in capsys.readouterr().out


def test_validate_errors_one_line_each_exit_2(tmp_path, capsys):
    doc = quadratic_experiment(**{"metadata.name": "Bad", "spec.parameters.1.feasibleSpace": {"min": "3", "max": "1"}})
    assert main(["validate", _write(tmp_path, doc)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("metadata.name: ")
    assert err[1].startswith("spec.parameters[1].feasibleSpace.min: expected min < max")
    assert len(err) == 2 and "Traceback" not in "".join(err)


def test_validate_valid_katib_that_cannot_run_here_exits_3_saying_why(tmp_path, capsys, monkeypatch):
    """Exit 3, not 0: a CI gate on validate must not pass what run and compile refuse (every
    Katib algorithm is implemented now: one is taken out of the registry to stand for a build
    that lacks it)."""
    monkeypatch.delitem(registry._FACTORIES, "sobol")
    path = _write(tmp_path, quadratic_experiment(**{"spec.algorithm": {"algorithmName": "sobol"}}))
    assert main(["validate", path]) == 3
    err = capsys.readouterr().err
    assert "valid Katib experiment 'quad', but kfp-tune cannot run it" in err
    assert "spec.algorithm.algorithmName: 'sobol' is a Katib algorithm this version does not implement yet" in err
    assert main(["compile", path, "-o", str(tmp_path / "p.yaml")]) == 2
    assert "spec.algorithm.algorithmName" in capsys.readouterr().err


def test_validate_notes_a_container_without_command_that_kfp_tune_run_refuses(tmp_path, capsys):
    """QA's nocmd.yaml: validate passed it with no word (a cluster runs the image's entrypoint),
    then kfp-tune run refused it (exit 2): validate now notes the field and that a local run needs it."""
    doc = quadratic_experiment()
    del doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"]
    path = _write(tmp_path, doc)
    assert main(["validate", path]) == 0
    told = "spec.trialTemplate.trialSpec: container 'main' has no command: on a cluster it runs its image's entrypoint"
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and notes[0].startswith(f"note: {told}") and "running locally needs command" in notes[0], notes
    assert notes[0].endswith("; kfp-tune run refuses it")
    assert main(["run", path, "--engine", "inline", "--store", str(tmp_path / "store")]) == 2
    assert told in capsys.readouterr().err
    assert main(["validate", _write(tmp_path, quadratic_experiment(), "ok.yaml")]) == 0
    assert "note:" not in capsys.readouterr().err, "a runnable experiment gets no note"


def test_run_names_a_path_of_the_image_that_is_not_here_with_the_mount_that_gives_it(tmp_path, capsys):
    """QA: kfp-tune run images/sklearn-digits/experiment.yaml without --mount failed every trial with
    "can't open file '/opt/digits/train.py'", and nothing pointed to --mount: the run now refuses it
    before the experiment is made (tests/test_cli_missing_script_refused.py), naming the path and the
    flag; mounted (or on this machine), nothing is said."""
    from conftest import QUADRATIC

    app = tmp_path / "app"
    app.mkdir()
    (app / "quadratic.py").write_bytes(QUADRATIC.read_bytes())
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.maxFailedTrialCount": 1})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"] = ["python3", "/opt/kfp-tune-test-app/quadratic.py"]
    path = _write(tmp_path, doc)
    assert main(["run", path, "--engine", "inline", "--store", str(tmp_path / "s1")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error: spec.trialTemplate.trialSpec (container 'main'): /opt/kfp-tune-test-app/quadratic.py, the script python3 runs, is not on this "
        "machine, nor is /opt/kfp-tune-test-app, so every trial would fail to open it; give a local copy of that folder: --mount /opt/kfp-tune-test-app=LOCAL_FOLDER\n"
    ), err
    assert main(["run", path, "--engine", "inline", "--store", str(tmp_path / "s2"), "--mount", f"/opt/kfp-tune-test-app={app}"]) == 0
    assert "note:" not in capsys.readouterr().err
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.launchers.local import LocalLauncher

    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["python3", str(app / "quadratic.py"), str(tmp_path / "out.json"), "/opt/kfp-tune-test-app/${trialParameters.x}", "/opt/kfp-tune-test-app/a/b.py", "y=${trialParameters.y}"]
    container["args"] = ["--data=/opt/kfp-tune-test-data/d.csv", "/opt/kfp-tune-test-mounted/m.py"]
    launcher = LocalLauncher(mounts={"/opt/kfp-tune-test-mounted": str(app)})
    assert launcher.unmounted_paths(load_experiment(doc)) == [("/opt/kfp-tune-test-app/a/b.py", "/opt/kfp-tune-test-app")], (
        "a path here, one in a folder here (a file the trial may write), one with a parameter, a flag's value and a mounted one get no note"
    )


def test_a_part_of_a_gpu_is_refused_by_validate_compile_and_both_engines(tmp_path, capsys):
    """QA's gpu.yaml (nvidia.com/gpu: "0.5"): validate and compile passed it and run --engine
    inline ran it, where the default run refused it, as Kubernetes refuses the trial's pod."""
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "0.5"}}
    path, store = _write(tmp_path, doc), tmp_path / "store"
    told = "spec.trialTemplate.trialSpec (container 'main') resources.limits.nvidia.com/gpu: expected a whole number of nvidia.com/gpu, got '0.5'"
    for argv in (["validate", path], ["compile", path, "-o", str(tmp_path / "p.yaml")], ["run", path, "--engine", "inline", "--store", str(store)]):
        assert main(argv) == 2, argv
        assert told in capsys.readouterr().err.splitlines(), argv
    assert not store.exists() and not (tmp_path / "p.yaml").exists()  # refused before anything ran
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": 1, "cpu": "0.5"}}
    assert main(["validate", _write(tmp_path, doc)]) == 0  # a whole GPU, and a part of a CPU, are taken


def test_a_file_that_is_not_valid_yaml_is_named_in_its_error_line(tmp_path, capsys):
    """README: one ``path: message`` line per error; for the file as a whole the path is the
    file's, as the success line names it, and a ConfigMap file given with --trial-templates is
    named the same way."""
    path = tmp_path / "dup.yaml"
    path.write_text("apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nkind: Experiment\n")
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"{path}: not valid YAML: line 3, column 1: key 'kind' is given twice")
    assert main(["run", str(path), "--name", "other", "--store", str(tmp_path / "store")]) == 2
    assert capsys.readouterr().err.startswith(f"{path}: not valid YAML")
    doc = config_map_experiment()
    config_map = tmp_path / "cm.yaml"
    config_map.write_text("kind: ConfigMap\n  bad: indentation\n")
    assert main(["validate", _write(tmp_path, doc), "--trial-templates", str(config_map)]) == 2
    assert capsys.readouterr().err.startswith(f"{config_map}: not valid YAML")


def test_status_and_trials_help_each_say_what_their_json_is(capsys):
    assert main(["status", "--help"]) == 0
    status = capsys.readouterr().out
    assert main(["trials", "--help"]) == 0
    trials = capsys.readouterr().out
    assert "Experiment .status" in status and "per trial" not in status
    assert "per trial" in trials and ".status" not in trials


def test_validate_missing_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "no such experiment file" in capsys.readouterr().err


def test_run_json_status_and_trials(tmp_path, capsys):
    store = str(tmp_path / "store")
    assert main(["run", _write(tmp_path, quadratic_experiment()), "--engine", "inline", "--store", store, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"experiment", "status", "reason", "trials", "succeeded", "failed", "best_trial"}
    assert (out["status"], out["reason"], out["trials"], out["succeeded"], out["failed"]) == ("Succeeded", "ExperimentMaxTrialsReached", 6, 6, 0)
    assert set(out["best_trial"]) == {"name", "parameters", "metrics"}
    assert set(out["best_trial"]["metrics"]) == {"loss", "accuracy"}

    assert main(["trials", "quad", "--store", store, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 6 and min(r["metrics"]["loss"] for r in rows) == out["best_trial"]["metrics"]["loss"]
    assert main(["status", "quad", "--store", store, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)  # Katib's Experiment .status
    assert status["currentOptimalTrial"]["bestTrialName"] == out["best_trial"]["name"]
    assert {a["name"]: a["value"] for a in status["currentOptimalTrial"]["parameterAssignments"]} == {
        k: str(v) for k, v in out["best_trial"]["parameters"].items()}
    assert (status["trials"], status["trialsSucceeded"], len(status["succeededTrialList"])) == (6, 6, 6)
    assert status["conditions"][-1]["type"] == "Succeeded" and status["conditions"][-1]["reason"] == "ExperimentMaxTrialsReached"
    assert "completionTime" in status and "best_trial" not in status and "trialsFailed" not in status
    assert main(["trials", "quad", "--store", store]) == 0
    table = capsys.readouterr().out.splitlines()
    # the report's columns: the metrics, the objective first, then the parameters as the spec lists them
    assert table[0].split() == ["name", "status", "loss", "accuracy", "x", "y"] and len(table) == 7
    assert main(["status", "quad", "--store", store]) == 0
    assert "best trial: " + out["best_trial"]["name"] in capsys.readouterr().out


def test_trials_lists_the_parameters_in_the_specs_order(tmp_path, capsys):
    """As the report does: y before x when the spec says so, not the names' order."""
    doc = quadratic_experiment()
    doc["spec"]["parameters"].reverse()
    store = str(tmp_path / "store")
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", store]) == 0
    capsys.readouterr()
    assert main(["trials", "quad", "--store", store]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["name", "status", "loss", "accuracy", "y", "x"]


def test_trials_chosen_by_status_best_first_and_limited(tmp_path, capsys):
    """2,000 trials printed 2,001 lines. --status keeps the trials in those conditions, --sort-by
    objective puts the best first as the objective's type says (a failed trial, without a value,
    last), --limit keeps the first N: in the table and in --json alike; without them, every trial
    in the order created."""
    from kfp_tune import search, tune

    def objective(params: dict[str, float]) -> float:
        if params["x"] == 0.3:
            raise RuntimeError("no value")
        return params["x"]

    store = str(tmp_path / "store")
    xs = [0.2, 0.9, 0.3, 0.5, 0.7]
    tune(objective, {"x": search.discrete(xs)}, objective_metric_name="accuracy", objective_type="maximize", algorithm="grid",
         max_trial_count=len(xs), max_failed_trial_count=2, store=store, name="mixed")

    def rows(*flags: str) -> list[dict]:
        capsys.readouterr()
        assert main(["trials", "mixed", "--store", store, "--json", *flags]) == 0
        return json.loads(capsys.readouterr().out)

    every = rows()
    assert len(every) == len(xs) and [r["index"] for r in every] == sorted(r["index"] for r in every)
    x_of = {r["name"]: float(r["parameters"]["x"]) for r in every}
    (failed,) = [name for name, x in x_of.items() if x == 0.3]
    best_first = [*sorted((name for name in x_of if name != failed), key=lambda name: -x_of[name]), failed]
    assert [r["name"] for r in rows("--sort-by", "objective")] == best_first
    assert [r["name"] for r in rows("--sort-by", "objective", "--status", "Succeeded", "--limit", "2")] == best_first[:2]
    assert [r["name"] for r in rows("--status", "failed,MetricsUnavailable")] == [failed]
    assert rows("--limit", "2") == every[:2] and rows("--sort-by", "created") == every
    assert main(["trials", "mixed", "--store", store, "--sort-by", "objective", "--limit", "3"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["name", "status", "accuracy", "x"] and [line.split()[0] for line in table[1:]] == best_first[:3]

    minimize = str(tmp_path / "minimize")  # quadratic.py's loss, the lowest first
    assert main(["run", _write(tmp_path, quadratic_experiment()), "--engine", "inline", "--store", minimize]) == 0
    capsys.readouterr()
    assert main(["trials", "quad", "--store", minimize, "--json", "--sort-by", "objective"]) == 0
    quad = json.loads(capsys.readouterr().out)
    loss = [(float(r["parameters"]["x"]) - 0.3) ** 2 + (float(r["parameters"]["y"]) - 0.7) ** 2 for r in quad]
    assert len(quad) == 6 and loss == sorted(loss)


def test_a_failed_trials_printed_value_is_no_observation_ranked_nor_best_as_in_katib(tmp_path, capsys):
    """A trial that printed loss=0.2 and exited 1 was ranked first by trials --sort-by objective,
    had status.observation in KatibClient and loss=0.2 on its progress line, beside a best trial
    that succeeded at 0.6. Katib records an observation only for a trial whose job succeeded or
    that was stopped early (trial_controller.go): a Failed trial's value ranks after the others,
    in parentheses, and is in no observation, best trial, algorithm history or progress line."""
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.katib_client import KatibClient
    from kfp_tune.steps.designer import history_of, problem_of
    from kfp_tune.stores.local import LocalStore

    xs = ["0.2", "0.9", "0.3", "0.6"]
    script = tmp_path / "trial.py"
    script.write_text("import sys\nprint('loss=' + sys.argv[1])\nsys.exit(1 if float(sys.argv[1]) < 0.5 else 0)\n")
    doc = quadratic_experiment(**{
        "spec.algorithm": {"algorithmName": "grid"}, "spec.maxTrialCount": len(xs), "spec.parallelTrialCount": 1,
        "spec.parameters": [{"name": "x", "parameterType": "discrete", "feasibleSpace": {"list": xs}}],
        "spec.trialTemplate.trialParameters": [{"name": "x", "reference": "x"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.command": [sys.executable, str(script)],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["${trialParameters.x}"],
    })
    del doc["spec"]["maxFailedTrialCount"], doc["spec"]["objective"]["additionalMetricNames"]
    store = str(tmp_path / "s")
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", store]) == 0
    err = capsys.readouterr().err
    assert re.search(r"trial quad-\w+ Failed \(", err) and not re.search(r"Failed loss=", err), err
    assert main(["trials", "quad", "--store", store, "--json"]) == 0
    x_of = {r["name"]: r["parameters"]["x"] for r in json.loads(capsys.readouterr().out)}  # in the order created
    name_of = {x: name for name, x in x_of.items()}
    assert main(["trials", "quad", "--store", store, "--json", "--sort-by", "objective"]) == 0
    failed_as_created = [x for x in x_of.values() if float(x) < 0.5]
    assert [x_of[r["name"]] for r in json.loads(capsys.readouterr().out)] == ["0.6", "0.9", *failed_as_created]
    assert main(["trials", "quad", "--store", store, "--sort-by", "objective", "--limit", "3"]) == 0
    table = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    first_failed = failed_as_created[0]
    assert table == [[name_of["0.6"], "Succeeded", "0.6", "0.6"], [name_of["0.9"], "Succeeded", "0.9", "0.9"],
                     [name_of[first_failed], "Failed", f"({first_failed})", first_failed]]
    assert main(["status", "quad", "--store", store]) == 0
    assert f"best trial: {name_of['0.6']}  loss=0.6" in capsys.readouterr().out
    observed = {t.metadata.name: t.status.observation for t in KatibClient(store=store).list_trials("quad")}
    assert [observed[name_of[x]] is None for x in xs] == [True, False, True, False]
    assert observed[name_of["0.6"]].metrics[0].latest == "0.6"
    state = ExperimentView(ExperimentRecords(LocalStore(tmp_path / "s"), "quad")).state
    assert {t.name: t.objective for t in history_of(state, problem_of(state.experiment).space)[0]} == {
        name_of["0.2"]: None, name_of["0.9"]: 0.9, name_of["0.3"]: None, name_of["0.6"]: 0.6}


def test_trials_refuses_a_status_or_limit_that_is_not_one_naming_the_flag(tmp_path, capsys):
    for flags, words in (
        (["--status", "Done"], "error: --status: expected a trial status, one of Created, Running, Succeeded, Failed, MetricsUnavailable, EarlyStopped, Killed; got 'Done'"),
        (["--status", "Succeeded,"], "error: --status: expected a trial status"),
        (["--limit", "0"], "error: --limit: expected a whole number of trials, at least 1, got 0"),
        (["--limit", "many"], "usage: kfp-tune trials"),
        (["--sort-by", "loss"], "usage: kfp-tune trials"),
    ):
        assert main(["trials", "quad", "--store", str(tmp_path), *flags]) == 2
        err = capsys.readouterr().err
        assert err.startswith(words) and (flags[0] in err), err
    assert main(["trials", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(flag in out for flag in ("--status STATUS", "--sort-by {created,objective}", "--limit N"))


@pytest.mark.parametrize(("argv", "command"), [
    (["status", "quick", "extra"], "status"),
    (["trials", "quick", "--bogus", "1"], "trials"),
    (["cleanup", "quick", "--namespace", "team-a", "more", "words"], "cleanup"),
    (["logs", "quick", "trial", "third"], "logs"),
])
def test_an_argument_a_command_does_not_take_shows_that_commands_usage(argv, command, capsys):
    """argparse's parse_args reports leftovers from the top parser, with kfp-tune's usage: the
    command's own parser reports them, as it does a bad value of its own flag."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: kfp-tune {command} ") and f"kfp-tune {command}: error: unrecognized arguments: " in err
    assert "{validate," not in err


def test_run_failed_experiment_exits_1(tmp_path, capsys):
    doc = quadratic_experiment(**{"spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["mode=fail"]})
    doc["spec"]["trialTemplate"]["trialParameters"] = []
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]
    doc["spec"]["trialTemplate"]["trialParameters"] = [{"name": "x", "reference": "x"}, {"name": "y", "reference": "y"}]
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", str(tmp_path / "s"), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["status"], out["reason"], out["best_trial"]) == ("Failed", "ExperimentFailed", None)
    # why, without opening the store: the failed trial created last, its message the log's last line
    failed = out["last_failed_trial"]
    assert (failed["reason"], failed["message"]) == ("TrialFailed. Job reason: Error", "Trial has failed. Job message: exit code 3: something went wrong")
    assert failed["name"] == max(json.loads(_trials_json(tmp_path / "s", capsys)), key=lambda row: row["index"])["name"]
    assert main(["status", "quad", "--store", str(tmp_path / "s")]) == 0  # status reports; run is what exits 1
    text = capsys.readouterr().out
    assert f"last failed trial: {failed['name']}  TrialFailed. Job reason: Error: Trial has failed. Job message: exit code 3: something went wrong" in text
    assert f"its log: kfp-tune logs quad {failed['name']} --store file://" in text


def test_a_run_of_a_completed_experiment_says_how_to_run_it_again_and_replays_no_trial(tmp_path, capsys):
    """QA: katib/random.yaml failed (its trials could not find their script); run again, fixed,
    it exited 1 saying only 'nothing to run, reporting it', and printed the old trials' 'trial
    ... Failed (...)' lines as if they had just run. Katib keeps a completed experiment
    completed: the note now says what to do, and the trials that ended before the run are not
    told again."""
    from kfp_tune.core.naming import NEW_EXPERIMENT_NAMING

    doc = quadratic_experiment(**{"spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["mode=fail", "x=${trialParameters.x}", "y=${trialParameters.y}"],
                                  "spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    path, store = _write(tmp_path, doc), str(tmp_path / "s")
    assert main(["run", path, "--engine", "inline", "--store", store]) == 1
    first = capsys.readouterr().err.splitlines()
    assert [line for line in first if line.startswith("trial ") and " Failed " in line], first  # told as it ran
    assert main(["run", path, "--engine", "inline", "--store", store]) == 1
    out, err = capsys.readouterr()
    assert "experiment quad has already completed: Failed (ExperimentFailed)" in err
    assert f"to run it again, start a new experiment ({NEW_EXPERIMENT_NAMING}), or delete this one (kfp-tune delete quad --store file://" in err
    assert not [line for line in err.splitlines() if line.startswith("trial ")], err
    assert "experiment quad: Failed (ExperimentFailed)" in out  # the report itself stays


def test_a_run_whose_trials_all_failed_says_there_is_no_best_trial(tmp_path, capsys):
    """Without maxFailedTrialCount Katib ends the experiment Succeeded at maxTrialCount, failed
    trials or not; the summary says that nothing was found and what makes such a run fail."""
    doc = quadratic_experiment(**{"spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["mode=fail", "x=${trialParameters.x}", "y=${trialParameters.y}"], "spec.maxTrialCount": 2})
    del doc["spec"]["maxFailedTrialCount"]
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", str(tmp_path / "s")]) == 0
    text = capsys.readouterr().out
    assert "Succeeded (ExperimentMaxTrialsReached)" in text and "(0 succeeded, 2 failed" in text
    assert ("best trial: none, no trial that succeeded or stopped early reported the objective (a Failed trial's value is not ranked, as in Katib); "
            "spec.maxFailedTrialCount makes failed trials fail the experiment, as in Katib") in text


def _trials_json(store: Path, capsys) -> str:
    assert main(["trials", "quad", "--store", str(store), "--json"]) == 0
    return capsys.readouterr().out


def test_run_invalid_input_exit_2_before_anything_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.delitem(registry._FACTORIES, "sobol")  # an algorithm this build lacks
    store = tmp_path / "store"
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "sobol"}})
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", str(store)]) == 2
    assert "spec.algorithm.algorithmName: 'sobol' is a Katib algorithm" in capsys.readouterr().err
    assert not store.exists()
    assert main(["run", _write(tmp_path, quadratic_experiment()), "--mount", "relative=x", "--store", str(store)]) == 2
    assert "--mount" in capsys.readouterr().err


def test_run_refuses_a_changed_search_space_on_resume(tmp_path, capsys):
    store = str(tmp_path / "store")
    assert main(["run", _write(tmp_path, quadratic_experiment()), "--engine", "inline", "--store", store, "--rounds", "1"]) == 2
    assert "--rounds: for --engine kfp-local, which compiles the pipeline" in capsys.readouterr().err  # it was accepted, and did nothing
    assert main(["run", _write(tmp_path, quadratic_experiment()), "--engine", "inline", "--store", store]) == 0
    before = sorted(p.name for p in (tmp_path / "store" / "experiments" / "quad" / "rounds").iterdir())
    moved = quadratic_experiment(**{"spec.parameters.0.feasibleSpace": {"min": "0", "max": "9"}})
    assert main(["run", _write(tmp_path, moved, "moved.yaml"), "--engine", "inline", "--store", store]) == 2
    assert "another search space" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "store" / "experiments" / "quad" / "rounds").iterdir()) == before


def test_compile_writes_a_loadable_pipeline(tmp_path, capsys):
    out = tmp_path / "pipeline.yaml"
    assert main(["compile", _write(tmp_path, quadratic_experiment()), "-o", str(out)]) == 0
    ir, platform = yaml.safe_load_all(out.read_text())  # the pipeline, then its Kubernetes settings
    assert ir["pipelineInfo"]["name"] == "kfp-tune-quad"
    assert "store_secret" in ir["root"]["inputDefinitions"]["parameters"] and "kubernetes" in platform["platforms"]
    from kfp import components

    assert components.load_component_from_file(str(out)).name == "kfp-tune-quad"


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "kfp-tune"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "validate" in result.stdout and "compile" in result.stdout


def test_compile_with_the_kubernetes_launcher_as_default(tmp_path, capsys):
    out = tmp_path / "pipeline.yaml"
    config = '{"kind": "kubernetes", "namespace": "team-a", "gpus": 1}'
    assert main(["compile", _write(tmp_path, quadratic_experiment()), "-o", str(out), "--launcher-config", config]) == 0
    ir, _ = yaml.safe_load_all(out.read_text())
    assert json.loads(ir["root"]["inputDefinitions"]["parameters"]["launcher_config"]["defaultValue"]) == json.loads(config)
    assert main(["compile", _write(tmp_path, quadratic_experiment()), "-o", str(out), "--launcher-config", '{"kind": "kubernetes", "gpu": 1}']) == 2
    assert "--launcher-config: launcher_config: unknown key(s) ['gpu']" in capsys.readouterr().err


def test_compile_takes_an_empty_launcher_config_as_none_given(tmp_path, capsys):
    """--launcher-config '{}' compiles the default Kubernetes launcher, as compile_pipeline takes
    {}, and the experiment is checked against that launcher: a trial whose container has no
    command (the image's entrypoint runs it on a cluster) compiles. Checked against the local
    launcher, which {} means at run time, it was refused though the pipeline compiled without it."""
    doc = quadratic_experiment()
    del doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"]
    out, plain = tmp_path / "empty.yaml", tmp_path / "plain.yaml"
    assert main(["compile", _write(tmp_path, doc), "-o", str(out), "--launcher-config", "{}"]) == 0, capsys.readouterr().err
    assert main(["compile", _write(tmp_path, doc), "-o", str(plain)]) == 0
    assert out.read_text() == plain.read_text()


def test_render_prints_the_trial_resource(tmp_path, capsys):
    path = _write(tmp_path, quadratic_experiment())
    assert main(["render", path, "--assign", "x=0.25", "--trial-name", "quad-demo0001", "--namespace", "team-a"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert (manifest["kind"], manifest["metadata"]["name"], manifest["metadata"]["namespace"]) == ("Job", "quad-demo0001", "team-a")
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sh", "-c"]  # StdOut: Katib's sh -c line, command and args joined
    assert shlex.split(container["args"][0])[-2:] == ["x=0.25", "y=0.0"]  # y not assigned: its first value (min)
    assert manifest["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert main(["render", path, "--assign", "x=7"]) == 2
    assert "--assign x=7: outside its feasible space" in capsys.readouterr().err
    assert main(["render", path, "--assign", "z=1"]) == 2
    assert "--assign z: not a parameter of the experiment" in capsys.readouterr().err


def test_render_trial_name_help_says_what_the_default_name_is(tmp_path, capsys):
    """A run's trials are named from the experiment's uid (made when a run creates it), so the
    rendered default is not the first trial's name: the help must not promise that."""
    from kfp_tune.core.naming import trial_name

    assert main(["render", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "first trial would be named" not in help_text and "placeholder uid 'render'" in help_text
    assert main(["render", _write(tmp_path, quadratic_experiment())]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert manifest["metadata"]["name"] == trial_name("quad", "render", 0)



def test_help_says_an_empty_launcher_config_is_the_default_and_names_the_cron_descriptors(capsys):
    """QA: compile --help did not say that --launcher-config '{}' is the default (as leaving it
    out is, since 466b890), and schedule --help named only the six-field cron, though check_cron
    takes KFP's descriptors (@daily, @every 6h)."""
    from kfp_tune.pipelines.submit import check_cron

    assert main(["compile", "--help"]) == 0
    assert """left out or '{}': {"kind": "kubernetes"}, the default""" in " ".join(capsys.readouterr().out.split())
    assert main(["schedule", "--help"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "or a descriptor, as KFP takes it: @daily, @hourly, @weekly, @monthly, @yearly, @every 6h" in said
    for cron in ("@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@every 6h"):
        check_cron(cron)

# Two good curves that end (the first two trials to start, one at a time), then a bad one that
# reports past start_step and then waits for a file that never comes: only medianstop ends it
# (as tests/collectors/test_running.py's writer), so the counts below depend on no timing.
CURVES = CLAIM_PLACE + r"""
import os, sys, time
kind = "bad" if claim_place(sys.argv[2]) == 3 else "good"  # by its place: grid's order is random
for loss in (0.5, 0.4, 0.3) if kind.startswith("good") else (0.9, 0.9, 0.9):
    print(f"loss={loss}", flush=True)
while kind == "bad" and not os.path.exists("/nonexistent/kfp-tune-never"):
    time.sleep(0.05)
"""


def test_run_and_status_count_the_early_stopped_trials(tmp_path, capsys):
    """The summary's counts add up: an early-stopped trial is named as such (before, '3 trials
    (2 succeeded, 0 failed, 0 not finished)' left one out). The third trial to start is the bad
    one, whichever point it got: two good ones have completed by then."""
    doc = quadratic_experiment(**{
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.parallelTrialCount": 1, "spec.maxTrialCount": 3,
        "spec.parameters": [{"name": "kind", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b", "c"]}}],
        "spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": "2"}]},
        "spec.trialTemplate.trialParameters": [{"name": "kind", "reference": "kind"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "image": "python:3.11", "command": ["python3", "-c", shlex.quote(CURVES), "${trialParameters.kind}", str(tmp_path / "places")]}
        ],
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss"},
    })
    store = str(tmp_path / "store")
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", store, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["trials"], out["succeeded"], out["early_stopped"], out["failed"]) == (3, 2, 1, 0)
    assert "killed" not in out  # only what there is
    assert main(["status", "quad", "--store", store]) == 0
    assert "  trials: 3 (2 succeeded, 1 early stopped, 0 failed, 0 not finished)" in capsys.readouterr().out.splitlines()
    # why it ended, said once, as Katib says it (it read "EarlyStopped: stopped early: the early stopping rule ...")
    assert main(["report", "quad", "--store", store, "-o", str(tmp_path / "report")]) == 0
    stopped = [line for line in (tmp_path / "report" / "quad.md").read_text().splitlines() if "| EarlyStopped |" in line]
    assert len(stopped) == 1 and stopped[0].endswith(
        "| TrialEarlyStopped: Trial is early stopped; rule: loss greater than 0.45 from report 2 |")  # Katib's reason and message, and the rule


# a trial per kind: one that reports the objective, one that exits 1, two that report another metric only
ENDINGS = r"""
import sys
kind = sys.argv[1]
if kind == "fail":
    sys.exit(1)
print("loss=0.5" if kind == "good" else "other=1.0", flush=True)
"""


def test_failed_and_metrics_unavailable_trials_are_counted_apart(tmp_path, capsys):
    """The end summary said '4 failed' for 1 Failed and 3 MetricsUnavailable trials, where the
    progress lines and status --json (trialsFailed, trialMetricsUnavailable) kept them apart, as
    Katib's status does (status_util.go updateTrialsSummary)."""
    kinds = ["good", "fail", "quiet", "quiet2", "quiet3"]
    doc = quadratic_experiment(**{
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.parallelTrialCount": 1, "spec.maxTrialCount": len(kinds), "spec.maxFailedTrialCount": len(kinds),
        "spec.parameters": [{"name": "kind", "parameterType": "categorical", "feasibleSpace": {"list": kinds}}],
        "spec.trialTemplate.trialParameters": [{"name": "kind", "reference": "kind"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "image": "python:3.11", "command": ["python3", "-c", shlex.quote(ENDINGS), "${trialParameters.kind}"]}
        ],
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss"},
    })
    store = str(tmp_path / "store")
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", store, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["trials"], out["succeeded"], out["failed"], out["metrics_unavailable"]) == (5, 1, 1, 3)
    assert main(["status", "quad", "--store", store, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["trialsFailed"], status["trialMetricsUnavailable"]) == (out["failed"], out["metrics_unavailable"])
    assert main(["status", "quad", "--store", store]) == 0
    assert "  trials: 5 (1 succeeded, 1 failed, 3 metrics unavailable, 0 not finished)" in capsys.readouterr().out.splitlines()
    assert main(["list", "--store", store, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["failed"], row["metrics_unavailable"]) == (1, 3)


def test_the_trial_breakdown_names_early_stopped_and_killed_only_when_there_are_some():
    from kfp_tune.reports import trial_breakdown

    assert trial_breakdown(4, 0, 1, 0) == "4 succeeded, 1 failed"
    assert trial_breakdown(4, 2, 0, 3) == "4 succeeded, 2 early stopped, 0 failed, 3 killed"
    assert trial_breakdown(0, 0, 1, 2, metrics_unavailable=3) == "0 succeeded, 1 failed, 3 metrics unavailable, 2 killed"


def test_output_cut_short_by_its_reader_ends_quietly(tmp_path):
    """`kfp-tune logs NAME | head -1`: the reader closes the pipe after one line; the command
    stops without an error line (it said "unexpected BrokenPipeError ... a defect")."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    # a trial whose log is 1 MB, far more than a pipe holds: a write after head exits fails
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"] = [
        "python3", "-c", shlex.quote("for step in range(40000): print(f'step {step:05d} loss={1.0 / (step + 1):.6f}')")]
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0].pop("args", None)
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]  # every parameter reaches the trial, as Katib requires; it does not read them
    store = str(tmp_path / "store")
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", store]) == 0
    exe = Path(sys.executable).parent / "kfp-tune"
    command = f"{shlex.quote(str(exe))} logs quad --store {shlex.quote(store)} | head -1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.stdout.startswith("==> quad-") and result.stdout.count("\n") == 1
    assert result.stderr == "", result.stderr
    # 141, as a shell reports a command that SIGPIPE ended; or 0 where the command's writes all
    # went through before head closed the pipe (seen on this machine's kernel in about one run
    # of five at 1 MB, with a plain Python writer too): the next test makes the closed pipe sure
    assert result.returncode in (0, 141), result.returncode


def test_a_closed_output_ends_the_command_with_sigpipes_status_and_no_error(tmp_path, monkeypatch, capsys):
    """The same as the test above, with the pipe's reading end closed before the command writes,
    so every write fails (EPIPE; Python ignores SIGPIPE): exit 141 and nothing on stderr."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    store = str(tmp_path / "store")
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", store]) == 0
    capsys.readouterr()
    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "w") as closed:
        monkeypatch.setattr(sys, "stdout", closed)
        assert main(["logs", "quad", "--store", store]) == 141
        monkeypatch.undo()
    assert capsys.readouterr().err == ""


def test_compile_notes_what_the_default_launcher_will_refuse(tmp_path, capsys):
    """pbt keeps checkpoint folders; compiled without --launcher-config, the pipeline's default
    launcher (Kubernetes, no checkpoint volume) would refuse it in the cluster: the compile still
    succeeds (a run may pass another launcher_config) and says so; the digits example gets no note."""
    repo = Path(__file__).resolve().parent.parent
    assert main(["compile", str(repo / "images" / "pbt-digits" / "experiment.yaml"), "-o", str(tmp_path / "pbt.yaml")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("note: the run's launch step will refuse this experiment with the pipeline's default launcher_config")
    assert "checkpointVolume.claimName" in err and (tmp_path / "pbt.yaml").exists()
    assert main(["compile", str(repo / "images" / "sklearn-digits" / "experiment.yaml"), "-o", str(tmp_path / "digits.yaml")]) == 0
    assert capsys.readouterr().err == ""


def test_a_local_run_of_push_trials_against_an_s3_store_is_refused_before_anything_runs(tmp_path, capsys, monkeypatch):
    """A local trial is never given the S3 store's credentials, so a Push trial could not report:
    every trial failed with an AccessDenied traceback. Refused at once instead (nothing listens
    at the endpoint: no S3 call is made)."""
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-shown")
    doc = quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "Push"}}})
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", "s3://bucket/runs"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: spec.metricsCollectorSpec.collector.kind: a Push trial reports its metrics to the store itself, and a local "
        "trial is never given the S3 store's credentials; run it on a cluster, with a local store folder (--store DIR), or with the "
        "StdOut or File collector")


def test_a_credential_written_out_in_the_template_is_warned_about_without_its_value(tmp_path, capsys):
    """Katib takes it, so kfp-tune runs it; but the value would be kept in the experiment record,
    the compiled pipeline and the KFP UI, so every command that reads the file says so."""
    doc = quadratic_experiment()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [*container.get("env", []), {"name": "AWS_SECRET_ACCESS_KEY", "value": "s3cr3t-value"},
                        {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "tokens", "key": "api"}}}, {"name": "LR", "value": "0.1"}]
    index = len(container["env"]) - 3
    path = _write(tmp_path, doc)
    for command in (["validate", path], ["compile", path, "-o", str(tmp_path / "p.yaml")]):
        assert main(command) == 0
        err = capsys.readouterr().err
        assert [line for line in err.splitlines() if line.startswith("warning:")] == [
            f"warning: spec.trialTemplate.trialSpec: container 'main' env[{index}]: AWS_SECRET_ACCESS_KEY is written out, so the "
            "experiment record, the compiled pipeline and the KFP UI keep its value; give it by reference: valueFrom: "
            "{secretKeyRef: {name: SECRET, key: KEY}}"]
        assert "s3cr3t-value" not in err


def test_a_metric_name_the_default_format_cannot_read_is_warned_about(tmp_path, capsys):
    """Katib's default StdOut format reads names of word characters, '-' and '|': with
    objectiveMetricName val.acc every trial ends MetricsUnavailable, in Katib as here."""
    doc = quadratic_experiment(**{"spec.objective": {"type": "maximize", "objectiveMetricName": "val.acc"}})
    assert main(["validate", _write(tmp_path, doc)]) == 0
    assert ("warning: spec.objective: the metric 'val.acc' cannot be read with the StdOut collector's default metricsFormat, which "
            "takes names of ASCII letters, digits, '_', '-' and '|' (nor can Katib read it)") in capsys.readouterr().err
    doc["spec"]["metricsCollectorSpec"] = {"source": {"filter": {"metricsFormat": [r"([\w.]+)=([0-9.]+)"]}}}
    assert main(["validate", _write(tmp_path, doc)]) == 0
    assert "warning" not in capsys.readouterr().err  # a format of the user's may read it


def test_a_signal_that_comes_as_the_experiment_ends_reports_how_it_ended(tmp_path, capsys, monkeypatch):
    """A Ctrl-C while the last step wrote the end: nothing was left to stop, and the experiment
    is Succeeded in the store. The run said 'interrupted ... Run the same command to resume'
    and exited 130; it reports the end, as an uninterrupted run does."""
    import kfp_tune.inline_runner
    from kfp_tune.core.errors import RunInterrupted

    path = _write(tmp_path, quadratic_experiment())
    store = str(tmp_path / "store")
    finish = kfp_tune.inline_runner.run_inline

    def ends_then_signal(*args, **kwargs):
        finish(*args, **kwargs)
        raise RunInterrupted("SIGINT", 0)

    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", ends_then_signal)
    assert main(["run", path, "--engine", "inline", "--store", store, "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "Succeeded" and "interrupted" not in captured.err


def test_a_container_without_a_command_is_refused_locally_before_any_trial(tmp_path, capsys):
    """The image's entrypoint runs it on a cluster; here every trial failed (args run as the
    command line), and the run exited 0 as Succeeded. The guide said it is refused locally."""
    doc = quadratic_experiment()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["args"] = [*container.pop("command", [])[1:], *container.get("args", [])]
    store = tmp_path / "store"
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", str(store)]) == 2
    assert "spec.trialTemplate.trialSpec: container 'main' has no command: on a cluster it runs its image's entrypoint" in capsys.readouterr().err
    assert not store.exists()
