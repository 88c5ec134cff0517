"""Which process's sign of life keeps a run's claim once the process holding it is gone: one
written by another process of the run (a later step of a user's kfp.local pipeline) keeps it for
its TTL; the holder's own (a ``kfp-tune run`` whose children beat under its name, then killed)
does not, so the next run claims at once (QA pipeline, session 36, finding 1)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kfp_tune.core import claims
from kfp_tune.core.claims import claim, latest_claim
from kfp_tune.core.errors import ExperimentBusy


def _gone_process() -> str:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return claims.process_identity(int(done.stdout))


def test_a_beat_of_another_process_keeps_the_claim_of_a_gone_holder_for_its_ttl(clock, records, monkeypatch):
    monkeypatch.setenv(claims.OWNER_VARIABLE, _gone_process())  # the suggest step that claimed, ended
    current = claim(records, "run-a", ttl=600)
    clock.advance(10)
    monkeypatch.setenv(claims.OWNER_VARIABLE, claims.this_process())  # a later step of run-a
    claims.beat(records, current)
    assert latest_claim(records).beaten_by == claims.this_process()  # type: ignore[union-attr]
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")
    clock.advance(599)
    with pytest.raises(ExperimentBusy, match=r"is being run by run 'run-a' \(claimed 2027-01-15T08:00:00Z, last seen 599 s ago\)"):
        claim(records, "run-b", ttl=600)
    clock.advance(1)  # the TTL since that beat: lapsed
    assert claim(records, "run-b", ttl=600).seq == 2


def test_a_gone_holders_own_beats_do_not_keep_its_claim(clock, records, monkeypatch):
    gone = _gone_process()
    monkeypatch.setenv(claims.OWNER_VARIABLE, gone)  # kfp-tune run's children beat under its name
    claims.beat(records, claim(records, "run-a", ttl=600))
    assert latest_claim(records).beaten_by == gone  # type: ignore[union-attr]
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")
    assert claim(records, "run-b", ttl=600).seq == 2, "its owner was killed and nothing else of it was heard from"


def test_a_beat_written_without_its_writer_leaves_the_gone_holder_gone(clock, records, monkeypatch):
    """An older kfp-tune's heartbeat names no writer: as before, the holder's end frees the claim."""
    monkeypatch.setenv(claims.OWNER_VARIABLE, _gone_process())
    current = claim(records, "run-a", ttl=600)
    records.write(records.run_heartbeat_key(current.seq), "RunHeartbeat", {"run": "run-a", "at": clock.now, "time": "2027-01-15T08:00:00Z"})
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/7")
    assert claim(records, "run-b", ttl=600).seq == 2
