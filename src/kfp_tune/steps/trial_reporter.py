"""From inside a trial that is a KFP component (:mod:`kfp_tune.pipelines.component_trials`):
report its metrics as it goes, and ask whether the experiment's early stopping rule stops it.

A KFP task cannot be stopped from outside in a static graph, so early stopping of a component
trial is cooperative: a component that declares an input ``kfp_tune_trial: str`` gets the
trial's place (:func:`trial_place`: the store, the experiment, the trial; never credentials,
which its pod gets from the store's Secret as the kfp-tune steps do), reports each step with
:meth:`TrialReporter.report` and ends early when :meth:`TrialReporter.should_stop` says so.
The decision is the continuous pipeline's (:func:`kfp_tune.steps.early_stopping.early_stopping_monitor`),
fed the trial's reports; the stop is recorded as the trial's ``ended`` record, phase
EarlyStopped, so record-trial then records the trial EarlyStopped, as Katib does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from kfp_tune.collectors.push import metric_number, write_report
from kfp_tune.core.errors import InputError, KfpTuneError
from kfp_tune.core.records import ExperimentRecords, TrialEnded
from kfp_tune.core.spec import CollectorSpec, Experiment, MetricsCollectorSpec
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import EARLY_STOP_MESSAGE, EARLY_STOP_REASON, CollectorKind, LaunchPhase

PLACE_INPUT = "kfp_tune_trial"
"""The input a component declares (``kfp_tune_trial: str``) to be told its trial's place."""

@dataclass(frozen=True)
class TrialPlace:
    """Where a component trial's records are: what :class:`TrialReporter` needs, no secret."""

    store: str
    """The store's URI: ``s3://bucket/prefix`` or a folder."""
    s3_endpoint: str
    """The S3 store's endpoint; ``""``: ``$KFP_TUNE_S3_ENDPOINT`` (or the AWS default)."""
    experiment: str
    """The experiment's name in the store (a fresh experiment's per-run name)."""
    trial: str


def trial_place(store_uri: str, s3_endpoint: str, experiment: str, trial: str) -> str:
    """The trial's place as the string claim-trial binds to the component's ``kfp_tune_trial``
    input (JSON; ``""`` for no trial)."""
    if not trial:
        return ""
    return json.dumps({"store": store_uri, "s3_endpoint": s3_endpoint, "experiment": experiment, "trial": trial}, sort_keys=True)


def parse_place(text: str) -> TrialPlace:
    """The place :func:`trial_place` wrote; InputError saying what is wrong otherwise."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{PLACE_INPUT}: expected the JSON kfp-tune binds to this input, got {text[:80]!r} ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("store", "s3_endpoint", "experiment", "trial")):
        raise InputError(f"{PLACE_INPUT}: expected an object with store, s3_endpoint, experiment and trial (strings), got {text[:80]!r}")
    if not data["store"] or not data["experiment"] or not data["trial"]:
        raise InputError(f"{PLACE_INPUT}: store, experiment and trial may not be empty, got {text[:80]!r}")
    return TrialPlace(data["store"], data["s3_endpoint"], data["experiment"], data["trial"])


def _reported(experiment: Experiment) -> Experiment:
    """The experiment as its component trials are collected: a component's metrics are what it
    reports (Katib's Push collector), whatever collector the experiment names."""
    collector = MetricsCollectorSpec(collector=CollectorSpec(kind=CollectorKind.PUSH.value))
    return experiment.model_copy(update={"spec": experiment.spec.model_copy(update={"metrics_collector_spec": collector})})


def _never(_: str) -> bool:
    return False


class TrialReporter:
    """A component trial's link to its experiment, made from its ``kfp_tune_trial`` input::

        reporter = TrialReporter(kfp_tune_trial)
        for epoch in range(epochs):
            ...
            reporter.report({"loss": loss}, step=epoch)
            if reporter.should_stop():
                break

    With ``""`` or None (the component run outside kfp-tune, e.g. with ``kfp_tune_trial: str = ""``
    or ``kfp_tune_trial: Optional[str] = None``) it is inactive: ``report`` records nothing and
    ``should_stop`` is False."""

    def __init__(self, kfp_tune_trial: str | None):
        if kfp_tune_trial is not None and not isinstance(kfp_tune_trial, str):
            raise InputError(
                f'{PLACE_INPUT}: expected the string kfp-tune binds to this input (or "" or None outside kfp-tune), got a {type(kfp_tune_trial).__name__}'
            )
        self.place: TrialPlace | None = parse_place(kfp_tune_trial) if kfp_tune_trial and kfp_tune_trial.strip() else None
        self._records: ExperimentRecords | None = None
        self._view: ExperimentView | None = None
        self._test: Callable[[str], bool] | None = None
        self._stopped = False

    @property
    def active(self) -> bool:
        """Whether this trial reports into an experiment (it was given a place)."""
        return self.place is not None

    @property
    def records(self) -> ExperimentRecords:
        """The experiment's records, the store opened on first use (credentials from the env)."""
        if self.place is None:
            raise KfpTuneError(f"this TrialReporter has no trial: the component got no {PLACE_INPUT} from kfp-tune")
        if self._records is None:
            from kfp_tune.stores import open_store

            self._records = ExperimentRecords(open_store(self.place.store, self.place.s3_endpoint or None), self.place.experiment)
        return self._records

    def report(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record metrics for this trial (one write): the curve in the report, what
        :meth:`should_stop` judges, and with what the component returns, the trial's metrics."""
        if self.place is None:
            for name, value in metrics.items():  # the same check as when it is stored
                metric_number(name, value, "report")
            return
        write_report(self.records, self.place.trial, metrics, step, "report")

    def should_stop(self) -> bool:
        """Whether the experiment's early stopping rule stops this trial now, judged on the
        objective values reported so far; when it does, the stop is recorded (the trial ends
        EarlyStopped) and every later call is True without reading the store.

        The trial is judged by the rules fixed when claim-trial started it (its ``started``
        record: Katib fixes them when it creates the trial), whatever completes meanwhile; a
        component that does not ask is judged when record-trial records what it reported.

        Cost: the first call reads the experiment's state once; each later call lists this
        trial's reports and reads the new ones (usually one). Without early stopping in the
        experiment, later calls read nothing."""
        if self.place is None:
            return False
        if self._stopped:
            return True
        name = self.place.trial
        if self._test is None:
            from kfp_tune.steps.early_stopping import early_stopping_monitor

            view = ExperimentView(self.records)
            state = view.state
            trial = state.trial(name)
            if trial.is_terminal or trial.ended is not None:  # stopped before (a retried task), or closed by the run
                self._stopped = True
                return True
            self._view = view
            self._test = early_stopping_monitor(replace(state, experiment=_reported(state.experiment)), self.records, name) or _never
        if not self._test(""):
            return False
        assert self._view is not None
        self._view.record_trial(name, TrialEnded.now(name, LaunchPhase.EARLY_STOPPED, EARLY_STOP_REASON, EARLY_STOP_MESSAGE, None))
        self._stopped = True
        return True


__all__ = ["PLACE_INPUT", "TrialPlace", "TrialReporter", "parse_place", "trial_place"]
