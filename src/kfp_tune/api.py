"""``kfp_tune.tune``: tune a Python function with the same steps and store as a pipeline run."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import dns_label
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import (
    AlgorithmSpec,
    CollectorSpec,
    Experiment,
    ExperimentSpec,
    MetricsCollectorSpec,
    NameValue,
    ObjectiveSpec,
    ObjectMeta,
    TrialParameterSpec,
    TrialTemplate,
)
from kfp_tune.core.state import load_state
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers.function import FunctionLauncher
from kfp_tune.search import to_parameters
from kfp_tune.stores import open_store

FUNCTION_CONTAINER = "objective"


@dataclass(frozen=True)
class Trial:
    name: str
    parameters: dict[str, Any]
    metrics: dict[str, float]
    status: str


@dataclass(frozen=True)
class TuneResult:
    experiment: str
    status: str
    reason: str
    best_trial: Trial | None
    trials: list[Trial] = field(default_factory=list)
    store: str = ""


def function_experiment(
    name: str,
    parameters: Mapping[str, Any],
    objective_metric_name: str,
    objective_type: str,
    algorithm: str,
    algorithm_settings: Mapping[str, Any] | None,
    max_trial_count: int | None,
    parallel_trial_count: int,
    max_failed_trial_count: int | None,
    goal: float | None,
    additional_metric_names: list[str] | None = None,
) -> Experiment:
    """The Katib Experiment a ``tune`` call stands for, with a template that records the call."""
    params = to_parameters(parameters)
    trial_spec = {
        "apiVersion": "kfp-tune.kubeflow.org/v1alpha1",
        "kind": "PythonFunction",
        "spec": {
            "containers": [
                {"name": FUNCTION_CONTAINER, "args": [f"{p.name}=${{trialParameters.{p.name}}}" for p in params]}
            ]
        },
    }
    experiment = Experiment(
        metadata=ObjectMeta(name=name),
        spec=ExperimentSpec(
            parameters=params,
            objective=ObjectiveSpec(
                type=objective_type,
                goal=goal,
                objective_metric_name=objective_metric_name,
                additional_metric_names=list(additional_metric_names or []),
            ),
            algorithm=AlgorithmSpec(
                algorithm_name=algorithm,
                algorithm_settings=[NameValue(name=k, value=str(v)) for k, v in (algorithm_settings or {}).items()],
            ),
            trial_template=TrialTemplate(
                primary_container_name=FUNCTION_CONTAINER,
                trial_parameters=[TrialParameterSpec(name=p.name, reference=p.name) for p in params],
                trial_spec=trial_spec,
                # read by no launcher (the function's return or exception decides), but valid
                success_condition='status.conditions.#(type=="Returned")#|#(status=="True")#',
                failure_condition='status.conditions.#(type=="Raised")#|#(status=="True")#',
            ),
            parallel_trial_count=parallel_trial_count,
            max_trial_count=max_trial_count,
            max_failed_trial_count=max_failed_trial_count,
            metrics_collector_spec=MetricsCollectorSpec(collector=CollectorSpec(kind="Push")),
        ),
    )
    return load_experiment(experiment)


def tune(
    objective: Callable[[dict[str, Any]], Any],
    parameters: Mapping[str, Any],
    objective_metric_name: str = "objective",
    objective_type: str = "minimize",
    algorithm: str = "random",
    algorithm_settings: Mapping[str, Any] | None = None,
    max_trial_count: int = 10,
    parallel_trial_count: int = 1,
    max_failed_trial_count: int | None = None,
    goal: float | None = None,
    store: str | None = None,
    name: str | None = None,
    additional_metric_names: list[str] | None = None,
) -> TuneResult:
    """Tune ``objective(params) -> float | dict[str, float]`` over ``parameters``.

    ``parameters`` maps names to :mod:`kfp_tune.search` helpers. Trials run in this process
    (``parallel_trial_count`` threads) through the same suggest / launch / collect / decide steps
    and store records as a pipeline run. ``store`` defaults to ``./kfp-tune-runs``; ``name``
    defaults to the function's name and a timestamp, so each call is a new experiment."""
    if name is None:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
        name = dns_label(f"{getattr(objective, '__name__', 'objective')}-{stamp}-{os.urandom(2).hex()}", 50)
    experiment = function_experiment(
        name, parameters, objective_metric_name, objective_type, algorithm, algorithm_settings,
        max_trial_count, parallel_trial_count, max_failed_trial_count, goal, additional_metric_names,
    )
    target = open_store(store)
    from kfp_tune.core.space import search_space_of

    space = search_space_of(experiment.spec.parameters)
    launcher = FunctionLauncher(objective, space, objective_metric_name)
    run_inline(target, experiment, launcher)
    return tune_result(target, experiment.name)


def tune_result(store: Any, experiment_name: str) -> TuneResult:
    """A TuneResult read back from the store (typed parameter values)."""
    from kfp_tune.core.decision import best_trial
    from kfp_tune.core.space import search_space_of

    records = ExperimentRecords(store, experiment_name)
    state = load_state(records)
    space = search_space_of(state.experiment.spec.parameters)
    status = records.read(records.status_key(), "ExperimentStatus")
    phase = status["status"]["phase"] if status else "Running"
    reason = status["status"]["reason"] if status else ""
    trials = [Trial(t.name, space.to_python(t.assignment), t.metrics, t.status) for t in state.trials]
    best = best_trial(state)
    best_out = next((t for t in trials if best is not None and t.name == best.name), None)
    return TuneResult(experiment_name, phase, reason, best_out, trials, store.uri)
