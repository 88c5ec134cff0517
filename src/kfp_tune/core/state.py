"""The experiment's state: a fold over the records in the store, never stored as the truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kfp_tune.core.errors import StoreError
from kfp_tune.core.observation import Observation
from kfp_tune.core.records import ExperimentRecords, TrialEnded, TrialResult, TrialStarted
from kfp_tune.core.spec import Experiment, parse_experiment
from kfp_tune.core.vocabulary import RecordKind, TrialStatus


@dataclass
class TrialState:
    """One trial, as its records tell it."""

    name: str
    index: int
    round: str
    assignment: dict[str, str]
    created: str
    started: TrialStarted | None = None
    ended: TrialEnded | None = None
    result: TrialResult | None = None

    @property
    def status(self) -> TrialStatus:
        """Katib's trial condition: Created, Running, then a terminal one."""
        if self.result is not None:
            return self.result.status
        if self.started is not None:
            return TrialStatus.RUNNING
        return TrialStatus.CREATED

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def observation(self) -> Observation:
        if self.result is None:
            return Observation()
        return Observation.from_dict(self.result.observation)

    @property
    def metrics(self) -> dict[str, float]:
        """Metric name -> value after its strategy (empty until the trial is collected)."""
        return dict(self.result.metrics) if self.result is not None else {}


@dataclass
class ExperimentState:
    experiment: Experiment
    uid: str
    created: str
    trials: list[TrialState] = field(default_factory=list)
    rounds: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.experiment.name

    def trial(self, name: str) -> TrialState:
        for trial in self.trials:
            if trial.name == name:
                return trial
        raise StoreError(f"experiment {self.name!r} has no trial {name!r}")

    @property
    def exhausted(self) -> bool:
        """Whether the algorithm said, in some round, that the search space has no more points."""
        return any(r.get("exhausted") for r in self.rounds.values())

    def objective_value(self, trial: TrialState) -> float | None:
        objective = self.experiment.spec.objective
        assert objective is not None
        return trial.metrics.get(objective.objective_metric_name)


def read_experiment_record(records: ExperimentRecords) -> dict[str, Any] | None:
    return records.read(records.experiment_key(), RecordKind.EXPERIMENT)


def load_state(records: ExperimentRecords) -> ExperimentState:
    """Fold every record of an experiment into its state. StoreError if it does not exist."""
    head = read_experiment_record(records)
    if head is None:
        raise StoreError(f"no experiment {records.experiment!r} in {records.store.uri}")
    experiment = parse_experiment(head["spec"])
    state = ExperimentState(experiment=experiment, uid=head["uid"], created=head["created"])
    for key in records.store.list(f"{records.root}/rounds/"):
        if key.endswith(".json"):
            round_id = key.rsplit("/", 1)[1][: -len(".json")]
            record = records.read(key, RecordKind.ROUND)
            assert record is not None
            state.rounds[round_id] = record
    # Trials are born in round records; their own records say how far each got.
    trial_keys: dict[str, dict[str, str]] = {}
    for key in records.store.list(records.trials_prefix()):
        parts = key[len(records.trials_prefix()):].split("/")
        if len(parts) == 2 and parts[1].endswith(".json"):
            trial_keys.setdefault(parts[0], {})[parts[1][: -len(".json")]] = key
    for round_id, round_record in state.rounds.items():
        for entry in round_record["trials"]:
            trial = TrialState(
                name=entry["name"],
                index=int(entry["index"]),
                round=round_id,
                assignment=dict(entry["assignment"]),
                created=str(round_record["created"]),
            )
            keys = trial_keys.get(trial.name, {})
            if "started" in keys:
                trial.started = records.read_typed(keys["started"], TrialStarted)
            if "ended" in keys:
                trial.ended = records.read_typed(keys["ended"], TrialEnded)
            if "result" in keys:
                trial.result = records.read_typed(keys["result"], TrialResult)
            state.trials.append(trial)
    state.trials.sort(key=lambda t: t.index)
    return state
