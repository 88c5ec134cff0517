"""The run-claim records (``kfp_tune.core.claims``) field by field, and their edge cases: what a
claim, heartbeat, hand-over and end record hold in the store (other runs and ``kfp-tune status``
read them), old or damaged claim records, who follows a trial, and the heartbeat's cadence.

The module's clock is replaced (as in test_run_claims), so nothing sleeps; the one test of the
background thread waits on the beat record changing, with a deadline."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time as real_time
from pathlib import Path
from typing import Any

import pytest

from clock import OTHER_OWNER, START, FakeClock
from kfp_tune.core import claims
from kfp_tune.core.claims import (
    DEFAULT_TTL,
    Claim,
    Heartbeat,
    beat,
    beat_trial,
    check,
    claim,
    hand_over_trial,
    latest_claim,
    owner_is_gone,
    release,
    wait_for_attempt,
)
from kfp_tune.core.errors import ExperimentBusy
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, TrialStarted, encode_record
from kfp_tune.stores.local import LocalStore

OWNER = OTHER_OWNER
NO_SUCH_PID = 4_194_305
"""Above the largest pid_max Linux allows (2**22): no process ever has it."""


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def stored(records: ExperimentRecords, key: str) -> dict[str, Any]:
    import json

    data = records.store.get(key)
    assert data is not None, key
    return dict(json.loads(data))


def runs_key(records: ExperimentRecords, name: str) -> str:
    return f"{records.root}/runs/{name}.json"


# --- what each record holds --------------------------------------------------------------------


def test_a_claim_record_and_the_claim_returned(clock: FakeClock, records: ExperimentRecords) -> None:
    got = claim(records, "run-a", ttl=60)
    assert got == Claim(1, "run-a", START, START, False, 60, OWNER)
    assert stored(records, runs_key(records, "000001")) == {
        "kind": "RunClaim", "version": 1, "run": "run-a", "at": START, "time": iso(START), "ttl": 60, "holder": OWNER,
    }
    assert latest_claim(records) == got


def test_beat_and_end_records(clock: FakeClock, records: ExperimentRecords) -> None:
    current = claim(records, "run-a", ttl=60)
    clock.now += 20
    beat(records, current)
    assert stored(records, runs_key(records, "000001.beat")) == {
        "kind": "RunHeartbeat", "version": 1, "run": "run-a", "at": START + 20, "time": iso(START + 20), "by": OTHER_OWNER,
    }
    clock.now += 5
    release(records, "run-a", "Finished")
    assert stored(records, runs_key(records, "000001.end")) == {
        "kind": "RunEnded", "version": 1, "run": "run-a", "at": START + 25, "time": iso(START + 25), "reason": "Finished",
    }
    ended = latest_claim(records)
    assert ended is not None and (ended.ended, ended.reason, ended.last_seen) == (True, "Finished", START + 20)


def test_trial_beat_and_hand_over_records(clock: FakeClock, records: ExperimentRecords) -> None:
    key = records.trial_key("t1", "beat")
    beat_trial(records, "t1", "a1")
    assert stored(records, key) == {
        "kind": "TrialHeartbeat", "version": 1, "trial": "t1", "attempt": "a1", "owner": claims.this_process(), "at": START, "time": iso(START),
    }
    clock.now += 7
    hand_over_trial(records, "t1", "a1")
    assert stored(records, key) == {
        "kind": "TrialHeartbeat", "version": 1, "trial": "t1", "attempt": "a1", "at": START + 7, "time": iso(START + 7), "handedOver": True,
    }


def test_a_released_run_stops_at_its_next_check_at_once(clock: FakeClock, records: ExperimentRecords) -> None:
    """release forgets the run's recent check: a step after the release must not pass on it."""
    claim(records, "run-a", ttl=60)
    check(records, "run-a")
    release(records, "run-a", "Finished")
    with pytest.raises(ExperimentBusy, match="already ended"):
        check(records, "run-a")


def test_of_two_runs_claiming_at_once_the_loser_is_told_who_won(clock: FakeClock, records: ExperimentRecords) -> None:
    class Racing(LocalStore):
        def create(self, key: str, data: bytes) -> bool:
            if key.endswith("/runs/000001.json"):
                super().create(key, encode_record({"kind": "RunClaim", "version": 1, "run": "run-b", "at": START, "ttl": 60, "holder": "b/2"}))
            return super().create(key, data)

    racing = ExperimentRecords(Racing(records.store.uri.removeprefix("file://")), "exp")
    with pytest.raises(ExperimentBusy) as info:
        claim(racing, "run-a", ttl=60)
    assert "'run-b'" in str(info.value) and "same moment" in str(info.value)


# --- old and damaged claim records -------------------------------------------------------------


def put(records: ExperimentRecords, name: str, payload: dict[str, Any]) -> None:
    kind = {"": "RunClaim", ".beat": "RunHeartbeat", ".end": "RunEnded"}[name[6:]]
    records.store.put(runs_key(records, name), encode_record({"kind": kind, "version": 1, **payload}))


def test_an_old_claim_without_ttl_holder_or_reason_reads_with_defaults(clock: FakeClock, records: ExperimentRecords) -> None:
    put(records, "000003", {"run": "run-old", "at": START})
    current = latest_claim(records)
    assert current == Claim(3, "run-old", START, START, False, DEFAULT_TTL, "", "")
    put(records, "000003.end", {"run": "run-old", "at": START + 1})
    ended = latest_claim(records)
    assert ended is not None and ended.ended and ended.reason == ""


def test_a_damaged_end_record_still_says_the_run_ended(clock: FakeClock, records: ExperimentRecords) -> None:
    put(records, "000001", {"run": "run-a", "at": START, "ttl": 60})
    records.store.put(runs_key(records, "000001.end"), b"{ not json")
    ended = latest_claim(records)
    assert ended is not None and ended.ended and ended.reason == ""


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"at": START, "ttl": 60}, ["run None"]),
        ({"run": "run-a", "ttl": 60}, ["at None"]),
        ({"run": "run-a", "at": START, "ttl": "long"}, ["ttl 'long'"]),
        ({"run": 5, "at": "noon", "ttl": "long"}, ["run 5", "at 'noon'", "ttl 'long'"]),
    ],
)
def test_a_damaged_claim_names_its_key_and_every_bad_field(clock: FakeClock, records: ExperimentRecords, payload: dict[str, Any], words: list[str]) -> None:
    put(records, "000002", payload)
    with pytest.raises(DamagedRecord) as info:
        latest_claim(records)
    assert info.value.key == runs_key(records, "000002")
    assert "expected a run name, a time and a TTL" in info.value.problem
    for word in words:
        assert word in info.value.problem


def test_a_listed_claim_that_cannot_be_read_back_is_damaged(clock: FakeClock, records: ExperimentRecords) -> None:
    class Vanishing(LocalStore):
        def get(self, key: str) -> bytes | None:
            return None if key.endswith("/runs/000001.json") else super().get(key)

    claim(records, "run-a", ttl=60)
    vanishing = ExperimentRecords(Vanishing(records.store.uri.removeprefix("file://")), "exp")
    with pytest.raises(DamagedRecord) as info:
        latest_claim(vanishing)
    assert info.value.key == runs_key(records, "000001")
    assert info.value.problem.startswith("listed") and "cannot be read back" in info.value.problem


# --- who follows a trial -----------------------------------------------------------------------


def test_only_a_process_of_this_machine_can_be_seen_gone() -> None:
    """Another machine's pid means nothing here: only its silence for the TTL says it is gone."""
    gone = claims.process_identity(NO_SUCH_PID)
    assert owner_is_gone(gone)
    assert not owner_is_gone(f"not-{gone}")
    assert not owner_is_gone(gone.replace(f"/{NO_SUCH_PID}", "/not-a-pid"))


def _with(identity: str, **fields: str) -> str:
    """``identity`` with some of its ``key=value`` fields replaced."""
    head, *extra = identity.split(" ")
    kept = dict(field.split("=", 1) for field in extra)
    return " ".join([head, *(f"{key}={value}" for key, value in {**kept, **fields}.items())])


def test_a_pid_of_another_pid_namespace_or_boot_is_not_read_here() -> None:
    """Same hostname is not the same pid space (a container on the host's network, a cloned VM):
    an owner recorded in another PID namespace or boot waits out its TTL, whatever our pid says."""
    gone = claims.process_identity(NO_SUCH_PID)
    assert "boot=" in gone and "pidns=" in gone, gone
    assert owner_is_gone(gone), "same host, boot and namespace, and no such pid: gone"
    assert not owner_is_gone(_with(gone, pidns="4026599999"))
    assert not owner_is_gone(_with(gone, boot="00000000-0000-0000-0000-000000000000"))
    assert not owner_is_gone(gone.split(" ")[0]), "an older kfp-tune's host/pid: its pid space is unknown, the TTL decides"


def test_a_live_pid_that_started_at_another_time_is_another_process() -> None:
    """The owner's pid reused by a later process (after a reboot it is another boot; before, the
    start time tells them apart)."""
    mine = claims.this_process()
    assert "start=" in mine and not owner_is_gone(mine)
    assert owner_is_gone(_with(mine, start="1"))


@pytest.mark.parametrize("written_by", ["another pid namespace", "an older kfp-tune"])
def test_a_same_named_host_in_another_pid_namespace_keeps_its_claim(tmp_path: Path, written_by: str) -> None:
    """The QA's case: run A in its own PID namespace (unshare), same hostname, whose pid is no
    process here; run B outside must not take A's claim over before the TTL. The claim record
    names A's owner as A wrote it (an older kfp-tune wrote only ``host/pid``)."""
    records = ExperimentRecords(LocalStore(str(tmp_path)), "exp")
    gone_here = f"{socket.gethostname()}/{NO_SUCH_PID}"
    elsewhere = f"{gone_here} boot=0-0 pidns=4026599999 start=5" if written_by == "another pid namespace" else gone_here
    records.write_once(records.claim_key(1), "RunClaim", {"run": "run-a", "at": real_time.time(), "time": "", "ttl": 600.0, "holder": elsewhere})
    current = latest_claim(records)
    assert current is not None and current.live(real_time.time())
    with pytest.raises(ExperimentBusy):
        claim(records, "run-b")


def test_a_process_that_ended_and_was_not_reaped_yet_is_gone() -> None:
    """A zombie (its parent has not waited for it yet, as a dead CLI's child may be) has ended:
    its pid still answers signal 0, which read it as alive."""
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while (Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[:1] != ["Z"]) and time.monotonic() < deadline:
            time.sleep(0.02)  # until it has exited; not waited for, so a zombie
        assert owner_is_gone(claims.process_identity(child.pid))
    finally:
        child.wait()


def test_a_process_of_another_user_is_not_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signalling another user's process is refused (EPERM), which means it exists. Injected:
    these tests may run as root, for whom the kernel never refuses."""

    def refuse(pid: int, signal: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(claims.os, "kill", refuse)
    assert not owner_is_gone(claims.process_identity(1))


def started(records: ExperimentRecords, owner: str) -> TrialStarted:
    return records.create_typed(records.trial_key("t1", "started"), TrialStarted(trial="t1", time="", at=START, run="run-a", attempt="a1", owner=owner))


def test_the_latest_beat_says_who_follows_the_trial(clock: FakeClock, records: ExperimentRecords) -> None:
    """A retry that took the trial over beats with its own owner; when that process is gone
    from this machine, the next retry stops waiting at once."""
    first = started(records, "another-host/7")
    records.write(records.trial_key("t1", "beat"), "TrialHeartbeat", {"trial": "t1", "attempt": "a2", "owner": claims.process_identity(NO_SUCH_PID), "at": START})
    assert wait_for_attempt(records, "t1", first) is None
    assert clock.now == START, "no waiting for a process that is gone"


def test_a_silent_attempt_is_polled_four_times_a_ttl_and_given_up_at_it(clock: FakeClock, records: ExperimentRecords, monkeypatch: pytest.MonkeyPatch) -> None:
    """Silent for exactly the TTL is dead, as a run's claim that old has lapsed (one boundary
    for both): polled every quarter TTL, the fourth poll gives up."""
    monkeypatch.setenv("KFP_TUNE_TRIAL_TTL_SECONDS", "40")
    first = started(records, "another-host/7")
    assert wait_for_attempt(records, "t1", first, poll=1000.0) is None
    assert clock.now == START + 40


# --- the heartbeat -----------------------------------------------------------------------------


def test_a_run_heartbeat_beats_a_quarter_ttl_and_for_no_trial(clock: FakeClock, records: ExperimentRecords) -> None:
    current = claim(records, "run-a", ttl=600)
    with Heartbeat(records, current) as heartbeat:
        assert heartbeat.interval == 600 / 4
    assert records.store.list(records.trials_prefix()) == []


def test_a_trial_heartbeat_beats_a_quarter_of_a_short_trial_ttl(clock: FakeClock, records: ExperimentRecords, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFP_TUNE_TRIAL_TTL_SECONDS", "2")
    heartbeat = Heartbeat(records, None, trial="t1")
    assert heartbeat.interval == 2 / 4
    heartbeat._beat()
    assert stored(records, records.trial_key("t1", "beat"))["attempt"] == ""


def test_nothing_to_beat_means_no_heartbeat(clock: FakeClock, records: ExperimentRecords) -> None:
    with Heartbeat(records, None) as heartbeat:
        assert not heartbeat.interval
    assert records.store.list("") == []


def test_the_heartbeat_keeps_beating_while_entered(records: ExperimentRecords, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real time here: the beat record must be rewritten by the background thread."""
    monkeypatch.setenv("KFP_TUNE_TRIAL_TTL_SECONDS", "1")
    key = records.trial_key("t1", "beat")
    with Heartbeat(records, None, trial="t1", attempt="a1"):
        first = stored(records, key)["at"]
        rewritten = threading.Event()
        deadline = real_time.monotonic() + 30
        while real_time.monotonic() < deadline and not rewritten.is_set():
            if stored(records, key)["at"] != first:
                rewritten.set()
            else:
                rewritten.wait(0.05)
    assert rewritten.is_set(), "the beat was never rewritten"
