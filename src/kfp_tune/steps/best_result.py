"""The tuning step's result: the best trial as the store tells it, in the shape a downstream
task takes (the best-trial component, :mod:`kfp_tune.components.best_trial`).

The best trial is Katib's ``currentOptimalTrial``: among Succeeded and EarlyStopped trials with
an objective value (after its metric strategy), the highest for ``maximize``, the lowest for
``minimize``, the first of equals. Its parameters come back typed (int, float, or the string of
a categorical), not as Katib's strings, so a downstream ``train(lr: float, ...)`` takes them as
they are. An experiment with no such trial has no result: :class:`NoBestTrial` says so, naming
the experiment and what its trials ended as.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kfp_tune.core.catalogue import experiment_space
from kfp_tune.core.decision import best_trial, count_trials, observation_metrics
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentState, TrialState, load_state
from kfp_tune.core.vocabulary import RecordKind, TrialStatus
from kfp_tune.steps.trial_artifacts import tuned_inputs


class NoBestTrial(KfpTuneError):
    """The experiment has no trial with an objective value to hand downstream."""


@dataclass(frozen=True)
class BestResult:
    """The best trial of an experiment, and where the experiment stands."""

    experiment: str
    trial: str
    parameters: dict[str, Any]
    """Typed values by parameter name (see :meth:`kfp_tune.core.space.Parameter.to_python`)."""
    objective_metric: str
    objective: float
    objective_type: str
    metrics: dict[str, float] = field(default_factory=dict)
    """Every metric of the best trial, after its strategy."""
    observation: list[dict[str, str]] = field(default_factory=list)
    """Every metric of the best trial in Katib's shape (``currentOptimalTrial.observation.metrics``:
    name, min, max, latest, as strings), the objective's and the additionalMetricNames'."""
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    """The staged inputs the experiment's trials read: name -> digest, URI."""
    goal: float | None = None
    goal_reached: bool = False
    phase: str = ""
    """The experiment's phase as its last status said (Succeeded, Running: budget left for a
    next run, Failed)."""
    reason: str = ""
    trials: int = 0

    def metadata(self) -> dict[str, Any]:
        """What the best model artifact carries as metadata (what the KFP UI shows beside it)."""
        return {
            "experiment": self.experiment,
            "trial": self.trial,
            "parameters": self.parameters,
            "objective_metric": self.objective_metric,
            "objective": self.objective,
            "objective_type": self.objective_type,
            "metrics": self.metrics,
            "observation": {"metrics": self.observation},
            "inputs": self.inputs,
            "goal_reached": self.goal_reached,
            "experiment_phase": self.phase,
            "experiment_reason": self.reason,
            "trials": self.trials,
        }


def best_result(records: ExperimentRecords) -> BestResult:
    """The experiment's best trial. ExperimentNotFound when the store has no such experiment;
    :class:`NoBestTrial` when no trial has an objective value."""
    state = load_state(records)
    spec = state.experiment.spec
    objective = spec.objective
    assert objective is not None  # a stored experiment was validated, with Katib's defaults applied
    status = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS) or {}
    phase = str((status.get("status") or {}).get("phase", ""))
    reason = str((status.get("status") or {}).get("reason", ""))
    best = best_trial(state)
    value = None if best is None else state.objective_value(best)
    if best is not None and value is None and objective.objective_metric_name in best.text_metrics:
        raise NoBestTrial(
            f"experiment {state.name!r}'s objective {objective.objective_metric_name!r} is text (darts's genotype), not a number: "
            f"trial {best.name!r} found {best.text_metrics[objective.objective_metric_name]!r}. The tuning step hands a number "
            "downstream; read the genotype with `kfp-tune status` or kfp_tune.Client().get_optimal_hyperparameters()."
        )
    if best is None or value is None:
        counts = count_trials(state)
        ended = ", ".join(f"{counts[str(s)]} {s}" for s in TrialStatus if counts[str(s)])
        raise NoBestTrial(
            f"experiment {state.name!r} has no trial with a value of its objective metric {objective.objective_metric_name!r} "
            f"({counts['total']} trial(s){': ' + ended if ended else ''}; experiment {phase or 'status unknown'}"
            f"{', ' + reason if reason else ''}): there is no best result to hand downstream. "
            "See each trial's logs in the store (kfp-tune trials) for why."
        )
    goal = objective.goal
    maximize = objective.type == "maximize"
    reached = goal is not None and (value >= goal if maximize else value <= goal)
    return BestResult(
        experiment=state.name,
        trial=best.name,
        parameters=experiment_space(spec).to_python(best.assignment),
        objective_metric=objective.objective_metric_name,
        objective=float(value),
        objective_type=str(objective.type),
        metrics=best_trial_metrics(state, best),
        observation=observation_metrics(best, objective.metric_names),
        inputs=tuned_inputs(records),
        goal=goal,
        goal_reached=reached,
        phase=phase,
        reason=reason,
        trials=len(state.trials),
    )


def best_trial_metrics(state: ExperimentState, best: TrialState | None) -> dict[str, float]:
    """The best trial's metrics as best-trial's ``metrics`` output holds them
    (:attr:`BestResult.metrics`: every metric it reported, after its strategy), from a state
    already read, so decide-stop's ``metrics`` (the decision's best trial) and best-trial's cannot
    disagree. Empty when there is no best result: no best trial, or its objective is no number
    (text: darts's genotype). In name order, as documented: a trial's metrics are in the order its
    record holds them, which only a record written with sorted keys gives."""
    if best is None or state.objective_value(best) is None:
        return {}
    return dict(sorted(best.metrics.items()))
