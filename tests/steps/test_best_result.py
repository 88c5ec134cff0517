"""The best-trial component (the tuning step's result), called as KFP calls it
(``best_trial.python_func``) after real experiments run by the inline engine with real trial
processes. Every expected value comes from what the trials themselves printed (a ledger file per
trial), never from the store the component reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import merge, quadratic_experiment
from kfp_tune.components.best_trial import best_trial
from kfp_tune.core.loading import load_experiment
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.stores import LocalStore

TRIAL = r'''
"""A trial for these tests: a loss of its parameters, printed Katib-style, what it printed kept
in a ledger file of its own; with save=yes it saves a model naming itself."""
import json, os, sys, tempfile
from pathlib import Path

args = dict(a.split("=", 1) for a in sys.argv[1:])
if args.get("mode") == "fail":
    print("failed on purpose", file=sys.stderr)
    sys.exit(3)
loss = (float(args["x"]) - 0.3) ** 2 + 0.01 * int(args["n"]) + (0.0 if args["opt"] == "b" else 0.02)
# mode=curve: each metric reported twice, its first value 0.5 worse than its last for the loss and
# 0.5 better for the accuracy, so the metric strategy decides which value counts
steps = [0.5, 0.0] if args.get("mode") == "curve" else [0.0]
printed = []
for extra in steps:
    line = f"loss={loss + extra:.6f} accuracy={1 - loss + extra:.6f}"
    print(line, flush=True)
    printed.append(dict(pair.split("=") for pair in line.split()))
trial = os.environ["KFP_TUNE_TRIAL"]
Path(args["ledger"], trial + ".json").write_text(json.dumps({"args": args, "printed": printed}))
if args.get("save") == "yes":
    from kfp_tune.steps.trial_artifacts import save_model

    folder = Path(tempfile.mkdtemp())
    (folder / "weights").mkdir()
    (folder / "weights" / "model.json").write_text(json.dumps({"trial": trial, "x": args["x"]}))
    (folder / "config.txt").write_text("n=" + args["n"])
    save_model(folder)
'''


def experiment_doc(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """A small experiment whose trial is TRIAL: x (double), n (int), opt (categorical)."""
    script = tmp_path / "trial.py"
    script.write_text(TRIAL)
    ledger = tmp_path / "ledger"
    ledger.mkdir(exist_ok=True)
    doc = quadratic_experiment(**{
        "metadata.name": "best-of",
        "spec.maxTrialCount": 4,
        "spec.parallelTrialCount": 2,
        "spec.parameters": [
            {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
            {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}},
            {"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}},
        ],
        "spec.trialTemplate.trialParameters": [{"name": p, "reference": p} for p in ("x", "n", "opt")],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [{
            "name": "main",
            "image": "python:3.11-slim",
            "command": ["python3", str(script)],
            "args": ["x=${trialParameters.x}", "n=${trialParameters.n}", "opt=${trialParameters.opt}", f"ledger={ledger}", "save=yes"],
        }],
    })
    return merge(doc, overrides)


def run_experiment(tmp_path: Path, doc: dict[str, Any]) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(doc), LocalLauncher(env={"KFP_TUNE_STORE": str(store.root)}))
    return store


def ledger(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """What each trial printed, by trial name, as the trials wrote it."""
    return {p.stem: json.loads(p.read_text()) for p in (tmp_path / "ledger").glob("*.json")}


def call_component(store: LocalStore, tmp_path: Path, experiment: str = "best-of") -> tuple[Any, Any]:
    from kfp.dsl import Model

    model = Model(name="best_model", uri=str(tmp_path / "outputs" / "best_model"))
    outputs = best_trial.python_func(store_uri=str(store.root), experiment_name=experiment, run_id="run-1", best_model=model)
    return outputs, model


def test_minimize_hands_on_the_lowest_loss_with_typed_parameters_and_its_model(tmp_path):
    store = run_experiment(tmp_path, experiment_doc(tmp_path))
    printed = ledger(tmp_path)
    assert len(printed) == 4
    expected = min(printed, key=lambda trial: float(printed[trial]["printed"][-1]["loss"]))
    outputs, model = call_component(store, tmp_path)

    assert outputs.best_trial == expected
    assert outputs.best_objective == float(printed[expected]["printed"][-1]["loss"])
    args = printed[expected]["args"]
    assert outputs.best_parameters == {"x": float(args["x"]), "n": int(args["n"]), "opt": args["opt"]}
    assert type(outputs.best_parameters["n"]) is int and type(outputs.best_parameters["x"]) is float
    # the model folder holds what that trial saved, by the same paths
    folder = Path(model.path)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == ["config.txt", "weights/model.json"]
    assert json.loads((folder / "weights" / "model.json").read_text()) == {"trial": expected, "x": args["x"]}
    assert (folder / "config.txt").read_text() == f"n={args['n']}"
    assert model.metadata["trial"] == expected and model.metadata["model_files"] == ["config.txt", "weights/model.json"]
    assert model.metadata["experiment_phase"] == "Succeeded"


def test_maximize_hands_on_the_highest_value(tmp_path):
    doc = experiment_doc(tmp_path, **{"spec.objective": {"type": "maximize", "objectiveMetricName": "accuracy", "additionalMetricNames": ["loss"]}})
    store = run_experiment(tmp_path, doc)
    printed = ledger(tmp_path)
    expected = max(printed, key=lambda trial: float(printed[trial]["printed"][-1]["accuracy"]))
    outputs, model = call_component(store, tmp_path)
    assert (outputs.best_trial, outputs.best_objective) == (expected, float(printed[expected]["printed"][-1]["accuracy"]))
    assert model.metadata["objective_type"] == "maximize"
    # every metric flows on, additionalMetricNames' too, in Katib's currentOptimalTrial.observation.metrics shape
    values = {name: float(printed[expected]["printed"][-1][name]) for name in ("accuracy", "loss")}
    assert sorted(m["name"] for m in outputs.best_metrics) == ["accuracy", "loss"]
    for metric in outputs.best_metrics:
        assert {key: float(metric[key]) for key in ("min", "max", "latest")} == dict.fromkeys(("min", "max", "latest"), values[metric["name"]])
    assert model.metadata["metrics"] == values and model.metadata["observation"] == {"metrics": outputs.best_metrics}


def test_the_objective_metric_strategy_decides_the_value_handed_on(tmp_path):
    """Every trial reports its accuracy twice, the first value higher. Katib's default strategy
    for a maximized objective is the max; with ``latest`` the last value counts instead, for
    picking the best trial and as the objective handed on."""
    doc = experiment_doc(tmp_path, **{"spec.objective": {
        "type": "maximize", "objectiveMetricName": "accuracy", "metricStrategies": [{"name": "accuracy", "value": "latest"}],
    }})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("mode=curve")
    store = run_experiment(tmp_path, doc)
    printed = ledger(tmp_path)
    expected = max(printed, key=lambda trial: float(printed[trial]["printed"][-1]["accuracy"]))
    outputs, _ = call_component(store, tmp_path)
    assert outputs.best_trial == expected
    assert outputs.best_objective == float(printed[expected]["printed"][-1]["accuracy"])
    assert outputs.best_objective < max(float(p["accuracy"]) for p in printed[expected]["printed"])


def test_a_goal_reached_is_said_with_the_best_trial(tmp_path):
    """A grid over x in {0.1, 0.3, 0.5}: only x=0.3 reaches the goal (its loss is 0.01), and the
    experiment ends there."""
    doc = experiment_doc(tmp_path, **{
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.parallelTrialCount": 1,
        "spec.maxTrialCount": 3,
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss", "goal": 0.01},
        "spec.parameters": [
            {"name": "x", "parameterType": "discrete", "feasibleSpace": {"list": ["0.1", "0.3", "0.5"]}},
            {"name": "n", "parameterType": "discrete", "feasibleSpace": {"list": ["1"]}},
            {"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["b"]}},
        ],
    })
    store = run_experiment(tmp_path, doc)
    outputs, model = call_component(store, tmp_path)
    assert outputs.best_parameters == {"x": 0.3, "n": 1, "opt": "b"}
    assert outputs.best_objective <= 0.01
    assert model.metadata["goal_reached"] is True
    # Katib's phase and reason for an experiment that met its goal
    assert (model.metadata["experiment_phase"], model.metadata["experiment_reason"]) == ("Succeeded", "ExperimentGoalReached")


def test_a_trial_that_saved_no_model_leaves_a_note_in_the_artifact(tmp_path):
    doc = experiment_doc(tmp_path, **{"spec.maxTrialCount": 2})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].remove("save=yes")
    store = run_experiment(tmp_path, doc)
    outputs, model = call_component(store, tmp_path)
    assert outputs.best_trial in ledger(tmp_path)
    files = list(Path(model.path).iterdir())
    assert len(files) == 1 and outputs.best_trial in files[0].read_text() and "save_model" in files[0].read_text()
    assert model.metadata["model_files"] == []


def test_no_trial_with_an_objective_fails_with_a_message_naming_the_experiment(tmp_path):
    """Every trial fails: the component's process ends with one message that names the
    experiment and how its trials ended, and no traceback."""
    doc = experiment_doc(tmp_path, **{"spec.maxTrialCount": 2, "spec.maxFailedTrialCount": 2})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("mode=fail")
    store = run_experiment(tmp_path, doc)
    code = (
        "from kfp.dsl import Model\n"
        "from kfp_tune.components.best_trial import best_trial\n"
        f"best_trial.python_func(store_uri={str(store.root)!r}, experiment_name='best-of', run_id='run-1', "
        f"best_model=Model(name='best_model', uri={str(tmp_path / 'best_model')!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "'best-of'" in last and "2 Failed" in last and "'loss'" in last
    with pytest.raises(SystemExit) as raised:
        call_component(store, tmp_path)
    assert str(raised.value) == last


def test_the_best_trial_s_metrics_are_a_kfp_metrics_artifact_the_ui_compares(tmp_path):
    """QA: a tuning run showed nothing in the KFP UI's run comparison: no output of best-trial
    was a system.Metrics artifact. Its ``metrics`` output now holds every metric of the best
    trial by the experiment's metric names, each after its strategy (the curve's last value,
    the strategy's default), as the trial printed it."""
    from kfp.dsl import Metrics, Model

    doc = experiment_doc(tmp_path, **{"spec.objective": {"type": "maximize", "objectiveMetricName": "accuracy", "additionalMetricNames": ["loss"]}})
    store = run_experiment(tmp_path, doc)
    printed = ledger(tmp_path)
    metrics = Metrics(name="metrics", uri=str(tmp_path / "outputs" / "metrics"))
    model = Model(name="best_model", uri=str(tmp_path / "outputs" / "best_model"))
    outputs = best_trial.python_func(store_uri=str(store.root), experiment_name="best-of", run_id="run-1", best_model=model, metrics=metrics)

    last = printed[outputs.best_trial]["printed"][-1]
    assert metrics.metadata == {"accuracy": float(last["accuracy"]), "loss": float(last["loss"])}
    assert metrics.metadata["accuracy"] == outputs.best_objective
    # called as before, without it: the same outputs
    assert best_trial.python_func(store_uri=str(store.root), experiment_name="best-of", run_id="run-1", best_model=model) == outputs


def test_the_best_trial_s_metrics_are_in_name_order_whatever_order_its_record_holds(tmp_path):
    """best-trial's and decide-stop's ``metrics`` are documented in name order, which only held
    because kfp-tune writes records with sorted keys: a result record written otherwise
    (another writer, a plug-in store) gave its own order."""
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import load_state
    from kfp_tune.steps.best_result import best_trial_metrics

    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2})), LocalLauncher())
    for record in (tmp_path / "store").rglob("result.json"):
        result = json.loads(record.read_text())
        result["metrics"] = dict(sorted(result["metrics"].items(), reverse=True))
        record.write_text(json.dumps(result))
    state = load_state(ExperimentRecords(store, "quad"))
    assert [list(trial.metrics) for trial in state.trials] == [["loss", "accuracy"]] * 2
    assert [list(best_trial_metrics(state, trial)) for trial in state.trials] == [["accuracy", "loss"]] * 2
