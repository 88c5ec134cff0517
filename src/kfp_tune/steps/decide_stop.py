"""The decide-stop step: apply the stop rules, write the experiment's status, end the run's
claim when the run ends."""

from __future__ import annotations

from kfp_tune.core import claims
from kfp_tune.core.decision import Decision, decide, status_document
from kfp_tune.core.errors import StoreError
from kfp_tune.core.records import ExperimentRecords, utc_now
from kfp_tune.core.state import ExperimentState, ExperimentView
from kfp_tune.core.vocabulary import ExperimentPhase, RecordKind


def decide_stop(records: ExperimentRecords, round_id: str, rounds_left: int, run_id: str | None = None, view: ExperimentView | None = None) -> Decision:
    """Decide whether the experiment goes on after this round (a checkpoint), and write its status.

    ``rounds_left`` counts the rounds after this one in the current run; when the run ends
    here, its claim on the experiment is released."""
    if run_id is not None:
        claims.check(records, run_id)
    state = (view or ExperimentView(records)).state
    decision = decide(state, rounds_left)
    now = utc_now()
    write_status(records, state, decision, now)
    records.write_once(
        records.decision_key(round_id),
        RecordKind.DECISION,
        {"round": round_id, "phase": decision.phase, "reason": decision.reason, "message": decision.message, "time": now},
    )
    if run_id is not None and (decision.phase != ExperimentPhase.RUNNING or rounds_left <= 0):
        claims.release(records, run_id, decision.reason)
    return decision


def write_status(records: ExperimentRecords, state: ExperimentState, decision: Decision, now: str) -> None:
    """``status.json``: the experiment's status in Katib's shape (rewritten; derived)."""
    records.write(records.status_key(), RecordKind.EXPERIMENT_STATUS, {"experiment": state.name, "status": status_document(state, decision, now)})


def close_run(records: ExperimentRecords, run_id: str) -> Decision:
    """The run's exit handler: it runs however the run ended. Writes the status and, if the
    run still holds its claim (a step failed, or the run was stopped), gives it back with
    reason ``RunEnded``, so the next run starts at once instead of after the claim's TTL."""
    view = ExperimentView(records)
    try:
        state = view.state
    except StoreError:
        return Decision(ExperimentPhase.CREATED, "ExperimentNotCreated", "the run ended before the experiment was created")
    decision = decide(state, rounds_left=0)
    write_status(records, state, decision, utc_now())
    claims.release(records, run_id, "RunEnded")
    return decision
