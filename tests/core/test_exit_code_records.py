"""A trial's ``ended.json`` exit code as read back: a JSON boolean is a damaged record.

Python counts ``True`` as the integer 1, so a hand-edited or damaged ``"exitCode": true`` used to
read back as exit code 1 and be reported as the trial's exit status. The reader must refuse it
the way it refuses any other field of the wrong type: name the key and the field."""

from __future__ import annotations

import json

import pytest

from kfp_tune.core.records import RECORD_VERSION, DamagedRecord, ExperimentRecords, TrialEnded
from kfp_tune.core.vocabulary import LaunchPhase, RecordKind


def put_ended(records: ExperimentRecords, exit_code: object) -> str:
    """An ended record as another process (or a person) left it in the store."""
    key = records.trial_key("t-1", "ended")
    body = {"kind": RecordKind.TRIAL_ENDED, "version": RECORD_VERSION, "trial": "t-1", "phase": "Failed", "exitCode": exit_code}
    records.store.put(key, json.dumps(body).encode())
    return key


@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_exit_code_is_a_damaged_record(records: ExperimentRecords, flag: bool) -> None:
    key = put_ended(records, flag)
    with pytest.raises(DamagedRecord) as info:
        records.read_typed(key, TrialEnded)
    assert info.value.key == key
    assert "exitCode" in info.value.problem and json.dumps(flag) in info.value.problem, info.value.problem
    assert key in str(info.value), "the user must be told which file to look at"


@pytest.mark.parametrize("code", [0, 1, 137, -9])
def test_integer_exit_codes_still_read_back_as_written(records: ExperimentRecords, code: int) -> None:
    ended = records.read_typed(put_ended(records, code), TrialEnded)
    assert ended is not None and ended.exit_code == code and type(ended.exit_code) is int


def test_an_ended_record_written_by_kfp_tune_round_trips_its_exit_code(records: ExperimentRecords) -> None:
    """What launch-trial writes (an int, or None when unknown) reads back unchanged."""
    for trial, code in (("t-a", 1), ("t-b", None)):
        stored = records.create_typed(records.trial_key(trial, "ended"), TrialEnded(trial=trial, phase=LaunchPhase.FAILED, exit_code=code))
        assert stored.exit_code == code
        again = records.read_typed(records.trial_key(trial, "ended"), TrialEnded)
        assert again is not None and again.exit_code == code


def test_ended_now_records_time_and_at_from_one_clock_reading() -> None:
    """The sub-second ``at`` is what the report's timeline draws from; ``time`` is the same
    reading to the second, and both are read back as written."""
    import datetime
    import time

    before = time.time()
    ended = TrialEnded.now("t", LaunchPhase.SUCCEEDED)
    assert before <= ended.at <= time.time()
    assert ended.time == datetime.datetime.fromtimestamp(int(ended.at), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert TrialEnded.from_record({"kind": "TrialEnded", "version": 1, **ended.to_payload()}, "k").at == ended.at
