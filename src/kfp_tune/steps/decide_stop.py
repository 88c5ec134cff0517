"""The decide-stop step: apply the stop rules, write the experiment's status, end the run's
claim when the run ends."""

from __future__ import annotations

from kfp_tune.core import claims
from kfp_tune.core.decision import Decision, decide, status_document
from kfp_tune.core.records import ExperimentRecords, utc_now
from kfp_tune.core.state import load_state
from kfp_tune.core.vocabulary import ExperimentPhase


def decide_stop(records: ExperimentRecords, round_id: str, rounds_left: int, run_id: str | None = None) -> Decision:
    """Decide whether the experiment goes on after this round, and write its status.

    ``rounds_left`` counts the rounds after this one in the current run; when the run ends
    here, its claim on the experiment is released."""
    if run_id is not None:
        claims.check(records, run_id)
    state = load_state(records)
    decision = decide(state, rounds_left)
    now = utc_now()
    document = status_document(state, decision, now)
    records.write(records.status_key(), "ExperimentStatus", {"experiment": state.name, "status": document})
    records.write_once(
        records.decision_key(round_id),
        "Decision",
        {"round": round_id, "phase": decision.phase, "reason": decision.reason, "message": decision.message, "time": now},
    )
    if run_id is not None and (decision.phase != ExperimentPhase.RUNNING or rounds_left <= 0):
        claims.release(records, run_id, decision.reason)
    return decision
