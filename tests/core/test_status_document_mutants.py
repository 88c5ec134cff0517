"""What ``status_document`` (``status.json``) and its Katib view (``kfp-tune status --json``)
say beyond the cases ``test_status_document.py`` covers: a text objective's entry in
``currentOptimalTrial`` (darts' genotype), the Running condition of a run that stopped short,
and ``lastReconcileTime``. Field names are Katib's (``experiment_types.go``, ``common_types.go``)."""

from __future__ import annotations

from conftest import load_katib_example, quadratic_experiment
from kfp_tune.core.decision import decide, interrupted, katib_status, status_document
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import TrialResult, TrialStarted
from kfp_tune.core.state import ExperimentState, TrialState
from kfp_tune.core.vocabulary import TrialStatus

CREATED = "2026-11-30T10:00:00Z"
NOW = "2026-11-30T11:00:00Z"
GENOTYPE_METRIC = "Best-Genotype"  # the objective of Katib's darts examples
GENOTYPE = "Genotype(normal=[[('max_pooling_3x3', 0), ('skip_connection', 1)]], normal_concat=range(2, 6))"
KATIB_UNAVAILABLE = "unavailable"  # Katib's consts.UnavailableMetricValue (pkg/controller.v1beta1/consts/const.go)


def _state(experiment_doc: dict, *trials: TrialState) -> ExperimentState:
    return ExperimentState(load_experiment(experiment_doc), "uid-1", CREATED, trials=list(trials), by_name={t.name: t for t in trials})


def _darts_state() -> ExperimentState:
    """A darts experiment whose one trial reported its genotype: text, not a number."""
    result = TrialResult("darts-t1", TrialStatus.SUCCEEDED, text_metrics={GENOTYPE_METRIC: GENOTYPE})
    trial = TrialState(name="darts-t1", index=1, round="r1", assignment={}, created=CREATED, result=result)
    return _state(load_katib_example("nas_darts-cpu.yaml"), trial)


def test_a_text_objective_is_the_optimal_trials_latest_with_no_min_nor_max() -> None:
    """Katib keeps a metric that does not parse as a number with min and max "unavailable"
    and the text as latest; a tool reading the best genotype reads ``latest`` by ``name``."""
    s = _darts_state()
    doc = status_document(s, decide(s, rounds_left=1), NOW)
    expected = [{"name": GENOTYPE_METRIC, "min": KATIB_UNAVAILABLE, "max": KATIB_UNAVAILABLE, "latest": GENOTYPE}]
    assert doc["currentOptimalTrial"]["bestTrialName"] == "darts-t1"
    assert doc["currentOptimalTrial"]["observation"]["metrics"] == expected
    shown = katib_status(doc)
    assert shown["currentOptimalTrial"]["observation"]["metrics"] == expected, "what status --json prints"


def test_an_interrupted_run_says_so_in_the_running_condition() -> None:
    """A Running experiment whose run stopped short (interrupted, or out of rounds) carries
    why in its Running condition, where ``kubectl describe`` and Katib's SDK look."""
    started = TrialStarted(trial="quad-a", time=CREATED, at=0.0, run="r", attempt="a")
    trial = TrialState(name="quad-a", index=1, round="r1", assignment={"x": "0.1", "y": "0.5"}, created=CREATED, started=started)
    s = _state(quadratic_experiment(**{"spec.maxTrialCount": 10}), trial)
    decision = interrupted(s, "SIGTERM", killed=1)
    running = [c for c in status_document(s, decision, NOW)["conditions"] if c["type"] == "Running"]
    assert len(running) == 1 and running[0]["status"] == "True"
    assert "interrupted (SIGTERM)" in running[0]["message"] and "resume" in running[0]["message"]

    out_of_rounds = decide(s, rounds_left=0)
    running = [c for c in status_document(s, out_of_rounds, NOW)["conditions"] if c["type"] == "Running"]
    assert running[0]["message"] == out_of_rounds.message and "again" in running[0]["message"]


def test_the_last_reconcile_time_is_the_time_of_the_status() -> None:
    """Katib's ``lastReconcileTime``: when the status was last written, shown by status --json."""
    s = _darts_state()
    shown = katib_status(status_document(s, decide(s, rounds_left=1), NOW))
    assert shown["lastReconcileTime"] == NOW and shown["startTime"] == CREATED
