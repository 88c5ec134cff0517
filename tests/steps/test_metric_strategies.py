"""metricStrategies end to end: what a trial reports as a series becomes one value per metric
(min, max or latest), and that value is the one the best trial, the goal and the algorithm see.

Katib's defaults (``experiment_defaults.go``, ``setDefaultObjective``): a metric without a
strategy gets ``min`` when the objective is minimized and ``max`` when it is maximized; the
additional metrics too, not only the objective. Every series here is non-monotone, so min, max
and latest are three different numbers and a wrong strategy cannot pass by coincidence.
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.reports import trial_rows

# What each trial reports, step by step. For "a": loss min 0.1, max 0.9, latest 0.6; accuracy
# min 0.7, max 0.95, latest 0.8. For "b": loss min 0.3, max 0.4, latest 0.35.
SERIES: dict[str, dict[str, list[float]]] = {
    "a": {"loss": [0.9, 0.1, 0.6], "accuracy": [0.7, 0.95, 0.8]},
    "b": {"loss": [0.3, 0.4, 0.35], "accuracy": [0.6, 0.5, 0.55]},
}

# The trial: reports its case's series through the collector named in argv[2].
SCRIPT = """
import os, sys
series = SERIES[sys.argv[1]]
how = sys.argv[2]
names = list(series)
lines = [" ".join(f"{n}={v}" for n, v in zip(names, values)) for values in zip(*series.values())]
if how == "StdOut":
    print("\\n".join(lines))
elif how == "File":
    with open(os.environ["KFP_TUNE_METRICS_PATH"], "w") as out:
        out.write("\\n".join(lines) + "\\n")
else:
    from kfp_tune import report_metrics
    for step, values in enumerate(zip(*series.values())):
        report_metrics(dict(zip(names, values)), step=step)
""".replace("SERIES", repr(SERIES))

COLLECTORS: dict[str, dict[str, Any]] = {
    "StdOut": {"collector": {"kind": "StdOut"}},
    "File": {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File"}}},
    "Push": {"collector": {"kind": "Push"}},
}


def _experiment(name: str, objective_type: str, strategies: dict[str, str], collector: str = "StdOut",
                cases: tuple[str, ...] = tuple(SERIES), **overrides: Any):
    """A grid trial for each of ``cases`` (in the grid's random order), one at a time, reporting SERIES."""
    doc = quadratic_experiment(**{
        "metadata.name": name,
        "spec.objective": {
            "type": objective_type, "objectiveMetricName": "loss", "additionalMetricNames": ["accuracy"],
            **({"metricStrategies": [{"name": k, "value": v} for k, v in strategies.items()]} if strategies else {}),
        },
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.maxTrialCount": 2,
        "spec.parallelTrialCount": 1,
        "spec.metricsCollectorSpec": COLLECTORS[collector],
        "spec.parameters": [{"name": "case", "parameterType": "categorical", "feasibleSpace": {"list": list(cases)}}],
        "spec.trialTemplate.trialParameters": [{"name": "case", "reference": "case"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            # StdOut and File run Katib's sh -c line, where the code is one quoted word; Push runs exec form
            {"name": "main", "image": "python:3.11", "command": ["python3", "-c", SCRIPT if collector == "Push" else shlex.quote(SCRIPT), "${trialParameters.case}", collector]}
        ],
        **overrides,
    })
    return load_experiment(doc)


def _launcher(store) -> LocalLauncher:
    return LocalLauncher(env={"KFP_TUNE_STORE": store.uri})  # where report_metrics writes (Push)


@pytest.mark.parametrize("objective_type,default", [("minimize", "min"), ("maximize", "max")])
def test_katibs_defaults_follow_the_objective_type_for_every_metric(objective_type, default):
    defaulted = _experiment("defaults", objective_type, {}).spec.objective
    assert {s.name: s.value for s in defaulted.metric_strategies} == {"loss": default, "accuracy": default}
    given = _experiment("defaults", objective_type, {"accuracy": "latest"}).spec.objective
    assert {s.name: s.value for s in given.metric_strategies} == {"loss": default, "accuracy": "latest"}


# (objective type, metricStrategies given, expected metrics of trial "a"): the numbers written out
STRATEGY_CASES = [
    ("minimize", {}, {"loss": 0.1, "accuracy": 0.7}),  # Katib's defaults: min for both
    ("maximize", {}, {"loss": 0.9, "accuracy": 0.95}),  # max for both
    ("minimize", {"loss": "latest", "accuracy": "max"}, {"loss": 0.6, "accuracy": 0.95}),
    ("maximize", {"loss": "min", "accuracy": "latest"}, {"loss": 0.1, "accuracy": 0.8}),
    ("minimize", {"accuracy": "latest"}, {"loss": 0.1, "accuracy": 0.8}),  # the one not given is defaulted
]


@pytest.mark.parametrize("collector", sorted(COLLECTORS))
@pytest.mark.parametrize("objective_type,strategies,expected", STRATEGY_CASES)
def test_collect_metrics_applies_each_metrics_strategy(local_store, collector, objective_type, strategies, expected):
    """Through the steps: suggest, launch-trial, collect-metrics, for every collector (one case,
    "a", so the one trial suggested is it)."""
    experiment = _experiment("strategy", objective_type, strategies, collector, cases=("a",))
    records = ExperimentRecords(local_store, experiment.name)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    assert load_state(records).trial(name).assignment == {"case": "a"}
    assert steps.launch_trial(records, _launcher(local_store), name) == "Succeeded"
    result = steps.collect_metrics(records, name)
    assert result.status == "Succeeded", result.message
    assert result.metrics == expected
    # every summary is kept, whatever the strategy picked
    assert result.observation["loss"] == {"min": 0.1, "max": 0.9, "latest": 0.6, "count": 3}
    assert result.curve == (0.9, 0.1, 0.6)


# Which trial is best: "a" by min (0.1 < 0.3) or max (0.9 > 0.4), "b" by latest when
# minimizing (0.35 < 0.6) and by min when maximizing (0.3 > 0.1).
BEST_CASES = [
    ("minimize", {}, "a", 0.1),
    ("minimize", {"loss": "latest"}, "b", 0.35),
    ("maximize", {}, "a", 0.9),
    ("maximize", {"loss": "min"}, "b", 0.3),
]


@pytest.mark.parametrize("objective_type,strategies,best_case,best_value", BEST_CASES)
def test_best_trial_and_the_algorithms_history_use_the_strategy(local_store, objective_type, strategies, best_case, best_value):
    experiment = _experiment("best", objective_type, strategies)
    decision = run_inline(local_store, experiment, LocalLauncher())
    assert (decision.phase, decision.reason) == ("Succeeded", "ExperimentMaxTrialsReached")
    records = ExperimentRecords(local_store, "best")
    state = load_state(records)
    by_case = {t.assignment["case"]: t for t in state.trials}
    assert decision.best_trial is not None and decision.best_trial.name == by_case[best_case].name
    status = records.read(records.status_key(), "ExperimentStatus")["status"]
    assert status["currentOptimalTrial"]["bestTrialName"] == by_case[best_case].name
    assert status["currentOptimalTrial"]["metrics"]["loss"] == best_value
    rows = {r["parameters"]["case"]: r for r in trial_rows(local_store, "best")}
    assert rows[best_case]["metrics"]["loss"] == best_value
    # what the next suggestion would be built from: the value after the strategy
    problem = steps.problem_of(experiment, state.uid)
    history, _ = steps.history_of(state, problem.space)
    objectives = {t.assignment["case"]: t.objective for t in history}
    assert objectives[best_case] == best_value
    assert problem.loss(next(t for t in history if t.assignment["case"] == best_case)) == (best_value if objective_type == "minimize" else -best_value)


@pytest.mark.parametrize("strategies,reached", [({}, True), ({"loss": "latest"}, False)])
def test_the_goal_is_checked_against_the_strategys_value(local_store, strategies, reached):
    """Goal 0.1: trial "a"'s min is exactly 0.1 (reached, so the run ends with "a": "b" runs only
    if the grid drew it first); its latest, 0.6, and "b"'s, 0.35, are not (both run)."""
    experiment = _experiment("goal", "minimize", strategies, **{"spec.objective.goal": 0.1})
    decision = run_inline(local_store, experiment, LocalLauncher())
    cases = [t.assignment["case"] for t in load_state(ExperimentRecords(local_store, "goal")).trials]
    if reached:
        assert (decision.reason, cases[-1]) == ("ExperimentGoalReached", "a") and cases in (["a"], ["b", "a"])
    else:
        assert (decision.reason, sorted(cases)) == ("ExperimentMaxTrialsReached", ["a", "b"])
