"""The record contract of ``kfp_tune.core.records``: the store keys, the JSON each typed record
writes, what a reader makes of an old or damaged record, and what the user is told about it.

Other runs, older versions and the user's own tools read these files, so their keys, field names
and defaults are a promise; a damaged record must name its key and what is wrong, or the user
cannot find it. Everything goes through a real :class:`LocalStore`."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from kfp_tune.core.errors import StoreError
from kfp_tune.core.records import (
    RECORD_VERSION,
    TRIAL_RECORD_TYPES,
    DamagedRecord,
    ExperimentRecords,
    StopRule,
    TrialEnded,
    TrialResult,
    TrialStarted,
    check_record,
    decode_record,
    encode_record,
    round_entries,
    utc_now,
)
from kfp_tune.core.vocabulary import Comparison, LaunchPhase, RecordKind, TrialStatus

KEY = "experiments/e/trials/t-1/x.json"


def damaged(call: Any, *args: Any) -> DamagedRecord:
    """The DamagedRecord ``call(*args)`` raises; it must carry the key it was given."""
    with pytest.raises(DamagedRecord) as info:
        call(*args)
    assert info.value.key == KEY
    assert isinstance(info.value.problem, str)
    assert str(info.value) == f"record {KEY} is damaged: {info.value.problem}"
    return info.value


# --- keys --------------------------------------------------------------------------------------


def test_keys_follow_the_documented_layout(records: ExperimentRecords) -> None:
    """The layout in the module's docstring: other tools and older runs find records there."""
    root = "experiments/exp"
    assert records.experiment_key() == f"{root}/experiment.json"
    assert records.round_key("r-3") == f"{root}/rounds/r-3.json"
    assert records.decision_key("r-3") == f"{root}/decisions/r-3.json"
    assert records.status_key() == f"{root}/status.json"
    assert records.trials_prefix() == f"{root}/trials/"
    assert records.trial_key("t-1", "result") == f"{root}/trials/t-1/result.json"
    assert records.log_key("t-1", "main") == f"{root}/trials/t-1/logs/main.log"
    assert records.reports_prefix("t-1") == f"{root}/trials/t-1/reports/"
    assert records.report_key("t-1", "0001") == f"{root}/trials/t-1/reports/0001.json"
    assert records.metrics_files_prefix("t-1") == f"{root}/trials/t-1/metrics-files/"
    assert records.metrics_file_key("t-1", "run/epoch-1/metrics.json") == f"{root}/trials/t-1/metrics-files/run/epoch-1/metrics.json"


def test_every_key_of_the_layout_is_built_here_and_read_back_here(records: ExperimentRecords) -> None:
    """The keys other modules used to spell themselves (snapshots, runs, artifacts, a trial's
    heartbeat): built and taken apart by ExperimentRecords only, so the layout is written once."""
    root = "experiments/exp"
    assert records.snapshot_key(7) == f"{root}/snapshots/000007.json"
    assert records.claim_key(12) == f"{root}/runs/000012.json"
    assert records.run_heartbeat_key(12) == f"{root}/runs/000012.beat.json"
    assert records.run_end_key(12) == f"{root}/runs/000012.end.json"
    assert [records.claim_seq_of(k) for k in (records.claim_key(12), records.run_heartbeat_key(12), records.run_end_key(12))] == [12, None, None]
    assert records.heartbeat_key("t-1") == f"{root}/trials/t-1/beat.json"
    assert records.pushed_key("t-1") == f"{root}/trials/t-1/pushed.json"
    assert records.trial_prefix("t-1") == f"{root}/trials/t-1/"
    assert records.input_manifest_key("run-a", "dataset").startswith("artifacts/exp/inputs/")
    assert records.model_manifest_key("t-1") == "artifacts/exp/models/t-1.json"
    assert records.round_of(records.round_key("r-3")) == "r-3"
    assert records.round_of(records.decision_key("r-3")) is None
    assert records.outcome_of(records.outcome_key(5)) == "max-5"
    assert records.outcome_of(records.round_key("r-3")) is None
    assert records.trial_of(records.log_key("t-1", "main")) == "t-1"
    assert records.trial_of(records.status_key()) is None


def test_each_typed_trial_record_carries_its_file_name(records: ExperimentRecords) -> None:
    """One map from a trial's file names to its typed records, made from the classes' own names."""
    assert {name: record.FILE for name, record in TRIAL_RECORD_TYPES.items()} == {"started": "started", "ended": "ended", "result": "result"}
    for record in (TrialStarted, TrialEnded, TrialResult):
        assert records.typed_record_of(records.trial_key("t-1", record.FILE)) == ("t-1", record)
    for key in (records.heartbeat_key("t-1"), records.pushed_key("t-1"), records.log_key("t-1", "main"), records.report_key("t-1", "0001")):
        assert records.typed_record_of(key) is None, key


@pytest.mark.parametrize("name", ["..", "a..b", "../x", "a/b", "", ".hidden", "-x", "a b"])
def test_unsafe_names_are_refused_with_the_name(records: ExperimentRecords, name: str) -> None:
    """A name from a spec or a trial must never reach outside the experiment's folder; the
    error shows the name, so the user knows which one."""
    for make in (
        lambda: ExperimentRecords(records.store, name),
        lambda: records.round_key(name),
        lambda: records.decision_key(name),
        lambda: records.trial_key(name, "result"),
        lambda: records.log_key("t-1", name),
        lambda: records.report_key("t-1", name),
        lambda: records.reports_prefix(name),
        lambda: records.metrics_files_prefix(name),
        lambda: records.trial_prefix(name),
        lambda: records.heartbeat_key(name),
    ):
        with pytest.raises(StoreError) as info:
            make()
        assert "unsafe" in str(info.value) and repr(name) in str(info.value)


@pytest.mark.parametrize("relative", ["../escape.json", "run/../../x", "run//m.json", "/abs.json", "a b/m.json"])
def test_metrics_file_key_checks_every_part(records: ExperimentRecords, relative: str) -> None:
    with pytest.raises(StoreError, match="unsafe"):
        records.metrics_file_key("t-1", relative)


# --- writing and reading -----------------------------------------------------------------------


def test_write_adds_kind_and_version_and_read_checks_the_kind(records: ExperimentRecords) -> None:
    key = records.status_key()
    written = records.write(key, RecordKind.EXPERIMENT_STATUS, {"phase": "Running"})
    assert written == {"kind": "ExperimentStatus", "version": RECORD_VERSION, "phase": "Running"}
    assert json.loads(records.store.get(key) or b"") == written
    assert records.read(key, RecordKind.EXPERIMENT_STATUS) == written
    assert records.read(records.experiment_key(), RecordKind.EXPERIMENT) is None
    with pytest.raises(DamagedRecord, match="expected a record of kind Experiment"):
        records.read(key, RecordKind.EXPERIMENT)


def test_write_once_returns_the_record_already_stored(records: ExperimentRecords) -> None:
    """Of two writers racing, the loser gets the winner's record back, not its own."""
    key = records.decision_key("r-1")
    first = records.write_once(key, RecordKind.DECISION, {"stop": False})
    second = records.write_once(key, RecordKind.DECISION, {"stop": True})
    assert first == second == {"kind": "Decision", "version": RECORD_VERSION, "stop": False}
    assert json.loads(records.store.get(key) or b"")["stop"] is False


def test_text_round_trips_and_bad_bytes_are_replaced(records: ExperimentRecords) -> None:
    """Logs are read whatever a container wrote: bytes that are not UTF-8 must not fail a read."""
    key = records.log_key("t-1", "main")
    assert records.read_text(key) is None
    records.write_text(key, "loss=0.5 ✓\n")
    assert records.read_text(key) == "loss=0.5 ✓\n"
    records.store.put(key, b"epoch 1 \xff\xfe loss=0.5\n")
    assert records.read_text(key) == "epoch 1 \ufffd\ufffd loss=0.5\n"


# --- the bytes of a record ---------------------------------------------------------------------


def test_encoding_is_deterministic_readable_and_ends_with_a_newline() -> None:
    """The same record gives the same bytes whatever order its fields were built in (write-once
    records are compared and cached by content), one field per line for a person reading it."""
    a = encode_record({"version": 1, "kind": "Round", "trials": [{"b": 1, "a": 2}]})
    b = encode_record({"kind": "Round", "trials": [{"a": 2, "b": 1}], "version": 1})
    assert a == b
    text = a.decode("utf-8")
    assert text.endswith("}\n")
    lines = text.splitlines()
    assert text.index('"kind"') < text.index('"trials"') < text.index('"version"') and text.index('"a"') < text.index('"b"')
    assert len(lines) > 4, "one field per line"
    assert json.loads(text) == {"kind": "Round", "trials": [{"a": 2, "b": 1}], "version": 1}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_encoding_refuses_numbers_json_has_not(bad: float) -> None:
    """NaN would be written as a bare ``NaN``: not JSON, so other readers would fail on it."""
    with pytest.raises(ValueError):
        encode_record({"kind": "TrialResult", "metrics": {"loss": bad}})


# --- damaged records ---------------------------------------------------------------------------


def test_not_json_is_damaged() -> None:
    problem = damaged(decode_record, b"{not json", KEY, "TrialResult").problem
    assert problem.startswith("not JSON")
    assert "not JSON" in damaged(decode_record, b"\xff\xfe", KEY, "TrialResult").problem


def test_json_nested_too_deeply_is_damaged_not_a_crash() -> None:
    depth = 200_000
    problem = damaged(decode_record, b"[" * depth + b"]" * depth, KEY, "TrialResult").problem
    assert problem.startswith("not JSON") and "nested too deeply" in problem


def test_an_integer_of_5000_digits_is_damage_not_a_crash() -> None:
    """json.loads raises a bare ValueError past Python's 4,300 digits: every command, list of the
    whole store included, ended in 'unexpected ValueError ... (a defect)'."""
    data = b'{"kind": "TrialResult", "version": 1, "metrics": {"loss": ' + b"9" * 5000 + b"}}"
    problem = damaged(decode_record, data, KEY, "TrialResult").problem
    assert problem.startswith("not JSON") and "4,300 digits" in problem


@pytest.mark.parametrize(
    ("document", "shown"),
    [("[]", "array"), ('"x"', "string"), ("true", "boolean"), ("3", "number"), ("2.5", "number"), ("null", "null")],
)
def test_a_record_that_is_not_an_object_names_the_json_type(document: str, shown: str) -> None:
    problem = damaged(decode_record, document.encode(), KEY, "TrialResult").problem
    assert "TrialResult" in problem and "JSON object" in problem
    assert problem.endswith(f"a JSON {shown}")


def test_another_kind_or_version_is_damaged_and_says_which() -> None:
    problem = damaged(check_record, {"kind": "TrialEnded", "version": RECORD_VERSION}, KEY, "TrialResult").problem
    assert "TrialResult" in problem and "'TrialEnded'" in problem
    # a version above RECORD_VERSION is a newer kfp-tune's, not damaged: tests/test_newer_records.py
    problem = damaged(check_record, {"kind": "TrialResult"}, KEY, "TrialResult").problem
    assert "version None" in problem
    record = {"kind": "TrialResult", "version": RECORD_VERSION, "x": 1}
    assert check_record(record, KEY, "TrialResult") is record


def test_long_values_are_cut_short_in_the_message() -> None:
    """A damaged record may hold anything: the message shows the start of it, not all of it."""
    value = "v" * 10_000
    problem = damaged(check_record, {"kind": value, "version": RECORD_VERSION}, KEY, "TrialResult").problem
    assert "'vvvvvvvvvv" in problem and problem.endswith("...")
    assert len(problem) < 200
    short = damaged(check_record, {"kind": "Other", "version": RECORD_VERSION}, KEY, "TrialResult").problem
    assert short.endswith("got kind 'Other'")


# --- round records -----------------------------------------------------------------------------


def round_record(*trials: Any, created: Any = "2026-11-30T12:00:00Z") -> dict[str, Any]:
    return {"kind": "Round", "version": RECORD_VERSION, "created": created, "trials": list(trials)}


def test_round_entries_of_a_good_round() -> None:
    record = round_record({"name": "t-1", "index": 0, "assignment": {"lr": "0.1"}}, {"name": "t-2", "index": 7, "assignment": {}})
    assert round_entries(record, KEY) == [("t-1", 0, {"lr": "0.1"}), ("t-2", 7, {})]


@pytest.mark.parametrize(
    ("record", "words"),
    [
        (round_record(), None),
        ({"kind": "Round", "version": 1, "created": "x", "trials": {"t": 1}}, ["'trials' must be a list", "{'t': 1}"]),
        (round_record(created=5), ["'created' is 5", "a string"]),
        (round_record("t-1"), ["trials[0] must be an object", "'t-1'"]),
        (round_record({"name": "t..1", "index": 0, "assignment": {}}), ["trials[0].name is 't..1'", "trial name"]),
        (round_record({"name": "t/1", "index": 0, "assignment": {}}), ["trials[0].name is 't/1'"]),
        (round_record({"name": 5, "index": 0, "assignment": {}}), ["trials[0].name is 5"]),
        (round_record({"name": "t", "index": -1, "assignment": {}}), ["trials[0].index is -1", "whole number"]),
        (round_record({"name": "t", "index": True, "assignment": {}}), ["trials[0].index is True"]),
        (round_record({"name": "t", "index": "1", "assignment": {}}), ["trials[0].index is '1'"]),
        (round_record({"name": "t", "index": 0, "assignment": {"lr": 0.1}}), ["trials[0].assignment", "strings", "{'lr': 0.1}"]),
        (round_record({"name": "t", "index": 0, "assignment": {"lr": "1"}}, {"name": "u", "index": 1, "assignment": None}), ["trials[1].assignment", "None"]),
    ],
)
def test_a_damaged_round_says_where(record: dict[str, Any], words: list[str] | None) -> None:
    if words is None:
        assert round_entries(record, KEY) == []
        return
    problem = damaged(round_entries, record, KEY).problem
    for word in words:
        assert word in problem


def test_utc_now_is_utc_to_the_second_with_a_z() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", utc_now())


# --- typed trial records -----------------------------------------------------------------------

STARTED = TrialStarted(trial="t-1", time="2026-11-30T12:00:00Z", at=1764504000.5, run="run-7", attempt="2", owner="host-a/4242")
ENDED = TrialEnded(trial="t-1", phase=LaunchPhase.FAILED, reason="Error", message="exit 3", exit_code=3, time="2026-11-30T12:01:00Z", at=1764504060.25)
RESULT = TrialResult(
    trial="t-1",
    status=TrialStatus.SUCCEEDED,
    reason="Done",
    message="all good",
    observation={"loss": {"min": 0.25, "max": 0.5, "latest": 0.25, "count": 2}},
    metrics={"loss": 0.25},
    curve=(0.5, 0.25),
    time="2026-11-30T12:02:00Z",
)
WIRE: dict[str, dict[str, Any]] = {
    "TrialStarted": {"trial": "t-1", "time": "2026-11-30T12:00:00Z", "at": 1764504000.5, "run": "run-7", "attempt": "2", "owner": "host-a/4242"},
    "TrialEnded": {"trial": "t-1", "phase": "Failed", "reason": "Error", "message": "exit 3", "exitCode": 3, "time": "2026-11-30T12:01:00Z", "at": 1764504060.25},
    "TrialResult": {
        "trial": "t-1",
        "status": "Succeeded",
        "reason": "Done",
        "message": "all good",
        "observation": {"loss": {"min": 0.25, "max": 0.5, "latest": 0.25, "count": 2}},
        "metrics": {"loss": 0.25},
        "curve": [0.5, 0.25],
        "time": "2026-11-30T12:02:00Z",
    },
}


@pytest.mark.parametrize("typed", [STARTED, ENDED, RESULT], ids=lambda r: r.KIND.value)
def test_typed_records_are_written_with_katibs_field_names_and_read_back(records: ExperimentRecords, typed: Any) -> None:
    """The JSON is what older runs and the user's tools read: exactly these fields, these
    spellings (``exitCode`` as Katib writes it), and every value comes back as written."""
    key = records.trial_key("t-1", typed.KIND.value.lower())
    assert records.create_typed(key, typed) == typed
    stored = json.loads(records.store.get(key) or b"")
    assert stored == {"kind": typed.KIND.value, "version": RECORD_VERSION, **WIRE[typed.KIND.value]}
    assert records.read_typed(key, type(typed)) == typed
    assert records.read_typed(records.trial_key("t-2", "result"), type(typed)) is None


def test_create_typed_returns_the_first_writers_record(records: ExperimentRecords) -> None:
    key = records.trial_key("t-1", "ended")
    records.create_typed(key, ENDED)
    late = TrialEnded(trial="t-1", phase=LaunchPhase.SUCCEEDED, exit_code=0)
    assert records.create_typed(key, late) == ENDED


def test_a_damaged_typed_record_names_its_key_on_read_and_create(records: ExperimentRecords) -> None:
    key = records.trial_key("t-1", "ended")
    records.store.put(key, encode_record({"kind": "TrialEnded", "version": RECORD_VERSION, "phase": "Succeeded"}))
    for call in (lambda: records.read_typed(key, TrialEnded), lambda: records.create_typed(key, ENDED)):
        with pytest.raises(DamagedRecord) as info:
            call()
        assert info.value.key == key and "'trial'" in info.value.problem


def record_of(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "version": RECORD_VERSION, **fields}


def test_old_records_without_optional_fields_read_with_defaults() -> None:
    """Records written before a field existed (or by a minimal writer) still read."""
    assert TrialStarted.from_record(record_of("TrialStarted", trial="t-1"), KEY) == TrialStarted(trial="t-1", time="", at=0.0, run="", attempt="", owner="")
    assert TrialEnded.from_record(record_of("TrialEnded", trial="t-1", phase="Succeeded"), KEY) == TrialEnded(
        trial="t-1", phase=LaunchPhase.SUCCEEDED, reason="", message="", exit_code=None, time="", at=0.0
    )
    assert TrialResult.from_record(record_of("TrialResult", trial="t-1", status="Failed"), KEY) == TrialResult(
        trial="t-1", status=TrialStatus.FAILED, reason="", message="", observation={}, metrics={}, curve=(), time=""
    )


@pytest.mark.parametrize("field_name", ["reason", "message", "owner"])
def test_null_optional_text_reads_as_empty(field_name: str) -> None:
    """A writer that put ``null`` for "no reason" must not make the record unreadable."""
    if field_name == "owner":
        assert TrialStarted.from_record(record_of("TrialStarted", trial="t", owner=None), KEY).owner == ""
        return
    ended = TrialEnded.from_record(record_of("TrialEnded", trial="t", phase="Failed", **{field_name: None}), KEY)
    result = TrialResult.from_record(record_of("TrialResult", trial="t", status="Failed", **{field_name: None}), KEY)
    assert getattr(ended, field_name) == "" and getattr(result, field_name) == ""


def test_empty_reason_and_message_stay_empty() -> None:
    ended = TrialEnded.from_record(record_of("TrialEnded", trial="t", phase="Failed", reason="", message=""), KEY)
    assert (ended.reason, ended.message) == ("", "")
    result = TrialResult.from_record(record_of("TrialResult", trial="t", status="Failed", reason="", message=""), KEY)
    assert (result.reason, result.message) == ("", "")
    started = TrialStarted.from_record(record_of("TrialStarted", trial="t", at=0, owner=""), KEY)
    assert (started.at, started.owner) == (0.0, "")


def test_an_exit_code_that_is_not_a_number_reads_as_unknown() -> None:
    """A launcher that could not learn the exit code writes null; anything else non-integer is
    read the same way rather than passed on as a code."""
    for code in (None, "3", 2.5):
        ended = TrialEnded.from_record(record_of("TrialEnded", trial="t", phase="Failed", exitCode=code), KEY)
        assert ended.exit_code is None
    assert TrialEnded.from_record(record_of("TrialEnded", trial="t", phase="Failed", exitCode=0), KEY).exit_code == 0


REQUIRED = [
    (TrialStarted, record_of("TrialStarted")),
    (TrialEnded, record_of("TrialEnded", phase="Succeeded")),
    (TrialResult, record_of("TrialResult", status="Succeeded")),
]


@pytest.mark.parametrize(("record_type", "record"), REQUIRED, ids=lambda v: getattr(v, "__name__", ""))
def test_a_missing_or_null_trial_name_is_damaged(record_type: Any, record: dict[str, Any]) -> None:
    assert "no 'trial'" in damaged(record_type.from_record, record, KEY).problem
    assert "'trial' is null" in damaged(record_type.from_record, {**record, "trial": None}, KEY).problem
    problem = damaged(record_type.from_record, {**record, "trial": 5}, KEY).problem
    assert "'trial' is 5" in problem and problem.endswith("expected a string")


@pytest.mark.parametrize(
    ("record_type", "base", "field_name", "value", "expected"),
    [
        (TrialStarted, record_of("TrialStarted", trial="t"), "time", 5, "a string"),
        (TrialStarted, record_of("TrialStarted", trial="t"), "at", "soon", "a number"),
        (TrialStarted, record_of("TrialStarted", trial="t"), "at", True, "a number"),
        (TrialStarted, record_of("TrialStarted", trial="t"), "run", 7, "a string"),
        (TrialStarted, record_of("TrialStarted", trial="t"), "attempt", 2, "a string"),
        (TrialStarted, record_of("TrialStarted", trial="t"), "owner", ["h"], "a string"),
        (TrialEnded, record_of("TrialEnded", trial="t", phase="Failed"), "reason", 1, "a string"),
        (TrialEnded, record_of("TrialEnded", trial="t", phase="Failed"), "message", False, "a string"),
        (TrialEnded, record_of("TrialEnded", trial="t", phase="Failed"), "time", 12.5, "a string"),
        (TrialResult, record_of("TrialResult", trial="t", status="Failed"), "reason", 1, "a string"),
        (TrialResult, record_of("TrialResult", trial="t", status="Failed"), "message", {"m": 1}, "a string"),
        (TrialResult, record_of("TrialResult", trial="t", status="Failed"), "time", 3, "a string"),
    ],
)
def test_a_field_of_the_wrong_type_is_damaged_and_named(record_type: Any, base: dict[str, Any], field_name: str, value: Any, expected: str) -> None:
    problem = damaged(record_type.from_record, {**base, field_name: value}, KEY).problem
    assert f"{field_name!r} is {value!r}" in problem and problem.endswith(f"expected {expected}")


def test_an_unknown_phase_or_a_missing_one_is_damaged() -> None:
    problem = damaged(TrialEnded.from_record, record_of("TrialEnded", trial="t", phase="Exploded"), KEY).problem
    assert "'Exploded'" in problem
    assert all(p.value in problem for p in LaunchPhase)
    assert "no 'phase'" in damaged(TrialEnded.from_record, record_of("TrialEnded", trial="t"), KEY).problem


@pytest.mark.parametrize("status", ["Running", "Created", "Exploded"])
def test_a_result_needs_a_final_status(status: str) -> None:
    problem = damaged(TrialResult.from_record, record_of("TrialResult", trial="t", status=status), KEY).problem
    assert repr(status) in problem and "final" in problem


def test_a_result_without_status_is_damaged() -> None:
    assert "no 'status'" in damaged(TrialResult.from_record, record_of("TrialResult", trial="t"), KEY).problem


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"curve": [1.0, "x"]}, ["curve", "list of numbers", "[1.0, 'x']"]),
        ({"curve": {"a": 1}}, ["curve", "{'a': 1}"]),
        ({"curve": [True]}, ["curve", "[True]"]),
        ({"metrics": [1.0]}, ["metrics must map names to numbers", "[1.0]"]),
        ({"metrics": {"loss": "low"}}, ["metrics must map names to numbers", "'loss'", "'low'"]),
        ({"metrics": {"loss": True}}, ["'loss'", "True"]),
        ({"observation": [1]}, ["observation must map metric names", "[1]"]),
        ({"observation": {"loss": {"min": 1, "max": 2}}}, ["observation of 'loss'", "min, max and latest", "{'min': 1, 'max': 2}"]),
        ({"observation": {"loss": 3}}, ["observation of 'loss'", "3"]),
        ({"observation": {"loss": {"min": 1, "max": 2, "latest": 1, "count": -1}}}, ["observation of 'loss' has count -1", "whole number"]),
        ({"observation": {"loss": {"min": 1, "max": 2, "latest": 1, "count": True}}}, ["count True"]),
        ({"observation": {"loss": {"min": 1, "max": 2, "latest": 1, "count": "2"}}}, ["count '2'"]),
        ({"observation": {"loss": {"min": 1, "max": 2, "latest": 1, "count": 1.5}}}, ["count 1.5"]),
    ],
)
def test_damaged_metrics_say_what_is_wrong(fields: dict[str, Any], words: list[str]) -> None:
    problem = damaged(TrialResult.from_record, record_of("TrialResult", trial="t", status="Succeeded", **fields), KEY).problem
    for word in words:
        assert word in problem


def test_observation_counts_are_optional_and_may_be_zero() -> None:
    """``count`` came later than min / max / latest; a metric never reported has a count of 0."""
    observation = {"loss": {"min": 1, "max": 2, "latest": 1}, "acc": {"min": 0.5, "max": 0.5, "latest": 0.5, "count": 0}}
    result = TrialResult.from_record(record_of("TrialResult", trial="t", status="Succeeded", observation=observation, metrics={"loss": 1}), KEY)
    assert result.observation == observation
    assert result.metrics == {"loss": 1.0} and isinstance(result.metrics["loss"], float)


# --- the stop rules a trial started with ------------------------------------------------------

RULE_WIRE = {"name": "loss", "value": "1.125", "comparison": "greater", "startStep": 2}


def test_the_stop_rules_a_trial_started_with_are_kept_in_katibs_shape(records: ExperimentRecords) -> None:
    """Katib's Trial spec.earlyStoppingRules, field for field; () (none applied yet) is kept as
    [], apart from an absent field (a record from before they were kept, read as None)."""
    key = records.trial_key("t-1", TrialStarted.FILE)
    started = dataclasses.replace(STARTED, early_stopping_rules=(StopRule("loss", "1.125", Comparison.GREATER, 2),))
    records.create_typed(key, started)
    assert json.loads(records.store.get(key) or b"")["earlyStoppingRules"] == [RULE_WIRE]
    assert records.read_typed(key, TrialStarted) == started
    none_yet = TrialStarted.from_record(record_of("TrialStarted", trial="t", earlyStoppingRules=[]), KEY)
    assert none_yet.early_stopping_rules == () and none_yet.to_payload()["earlyStoppingRules"] == []
    assert "earlyStoppingRules" not in STARTED.to_payload()
    assert TrialStarted.from_record(record_of("TrialStarted", trial="t", earlyStoppingRules=[{**RULE_WIRE, "startStep": 0}]), KEY).early_stopping_rules == (
        StopRule("loss", "1.125", Comparison.GREATER, 0),
    )


@pytest.mark.parametrize(
    "rules, words",
    [
        ({"name": "loss"}, ["'earlyStoppingRules'", "expected an array"]),
        (["loss"], ["earlyStoppingRules[0] must be an object"]),
        ([{**RULE_WIRE, "name": ""}], ["earlyStoppingRules[0].name", "expected a metric name"]),
        ([RULE_WIRE, {**RULE_WIRE, "value": 1.125}], ["earlyStoppingRules[1].value", "expected a number as text"]),
        ([{**RULE_WIRE, "value": "nan"}], ["earlyStoppingRules[0].value"]),
        ([{**RULE_WIRE, "comparison": "GREATER"}], ["earlyStoppingRules[0].comparison", "'equal', 'less', 'greater'"]),
        ([{**RULE_WIRE, "startStep": -1}], ["earlyStoppingRules[0].startStep", "expected a whole number"]),
        ([{**RULE_WIRE, "startStep": True}], ["earlyStoppingRules[0].startStep"]),
    ],
)
def test_damaged_stop_rules_say_which_and_what_is_expected(rules: Any, words: list[str]) -> None:
    problem = damaged(TrialStarted.from_record, record_of("TrialStarted", trial="t", earlyStoppingRules=rules), KEY).problem
    for word in words:
        assert word in problem


def test_an_experiment_record_with_deleting_set_reads_as_partly_deleted(records: ExperimentRecords) -> None:
    """The field a delete sets first is a promise of the stored bytes: an older or newer kfp-tune
    (or the user's tools) reads the half-deleted experiment by it."""
    from kfp_tune.core.errors import ExperimentPartlyDeleted
    from kfp_tune.core.state import read_experiment_record

    records.store.put(records.experiment_key(), b'{"kind": "Experiment", "version": 1, "uid": "u", "created": "c", "spec": {}, "deleting": "2027-01-15T08:00:00Z"}')
    with pytest.raises(ExperimentPartlyDeleted, match=re.escape("a delete of it began at 2027-01-15T08:00:00Z")):
        read_experiment_record(records)
