"""How a metrics file's lines and times are read, as Katib's File collector reads them: the file
is split at ``\\n`` only (``strings.Split(logs, "\\n")``), so a ``\\r`` or a form feed stays in its
line, and a time that starts a line may give its fraction after a comma (Go's ``time.Parse``
takes ``05,5`` as ``05.5``). kfp-tune split at every line end Python knows and took only
``.``, so ``latest`` and an anchored ``metricsFormat`` could read other values than Katib's."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.files import collect_file
from kfp_tune.collectors.formats import parse_json_lines, rfc3339_microseconds
from kfp_tune.collectors.observe import Follower, collector_source
from kfp_tune.collectors.stdout import parse_metric_lines
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import Observation, latest_log
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState

SECOND_5 = 1_704_067_205_000_000
"""2024-01-01T00:00:05Z in microseconds since 1970."""


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-01-01T00:00:05,5Z", SECOND_5 + 500_000),
    ("2024-01-01T00:00:05,25+00:00", SECOND_5 + 250_000),
    ("2024-01-01T00:00:05.5Z", SECOND_5 + 500_000),
    ("2024-01-01T00:00:05,Z", None),  # a separator with no digit after it: no time in Go either
    ("2024-01-01T00:00:05;5Z", None),
])
def test_a_times_fraction_may_follow_a_comma_as_go_parses_it(text, expected):
    assert rfc3339_microseconds(text) == expected


def test_a_line_timed_with_a_comma_fraction_is_later_than_an_untimed_one():
    """The QA reproduction: Katib times the first line, so the untimed ``loss=0.9`` (at the zero time) is not ``latest``."""
    logs = parse_metric_lines(["2024-01-01T00:00:05,5Z loss=0.2", "loss=0.9"], ["loss"])
    assert logs[0].time_us == SECOND_5 + 500_000
    assert latest_log(logs).value == 0.2


def test_a_json_timestamp_string_with_a_comma_fraction_is_a_time():
    (log,) = parse_json_lines(['{"loss": "0.5", "timestamp": "2024-01-01T00:00:05,5Z"}'], ["loss"])
    assert log.time_us == SECOND_5 + 500_000


def test_a_file_is_split_at_newlines_only():
    from kfp_tune.collectors.formats import file_lines

    assert file_lines("a\r\nb\rc\x0cd\u2028e\n") == ["a\r", "b\rc\x0cd\u2028e", ""]


def _experiment(file_format: str = "TEXT", formats: list[str] | None = None) -> Experiment:
    source: dict = {"fileSystemPath": {"path": "/katib/metrics.log", "kind": "File", "format": file_format}}
    if formats:
        source["filter"] = {"metricsFormat": formats}
    return load_experiment(quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": source}}))


def _collect(local_store, experiment: Experiment, content: str) -> list[tuple[str, float]]:
    records = ExperimentRecords(local_store, "quad")
    trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
    local_store.put(records.metrics_file_key(trial.name, "metrics.log"), content.encode())
    return [(m.name, m.value) for m in collect_file(records, experiment, trial)]


def _follow(tmp_path, experiment: Experiment, content: str) -> list[tuple[str, float]]:
    (tmp_path / "metrics.log").write_bytes(content.encode())
    observed = Follower(collector_source(experiment), local=tmp_path / "metrics.log").poll(final=True)
    return [(m.name, m.value) for logs in observed.values() for m in logs]


CRLF = "loss=0.5\r\naccuracy=0.25\r\n"
"""A file written with Windows line ends."""


@pytest.mark.parametrize("read", ["end-of-trial", "follower"])
def test_an_anchored_filter_does_not_match_before_a_carriage_return_as_in_katib(local_store, tmp_path, read):
    experiment = _experiment(formats=[r"^(\w+)=([\d.]+)$"])
    found = _collect(local_store, experiment, CRLF) if read == "end-of-trial" else _follow(tmp_path, experiment, CRLF)
    assert found == []


@pytest.mark.parametrize("read", ["end-of-trial", "follower"])
def test_the_default_filter_still_reads_a_windows_file(local_store, tmp_path, read):
    experiment = _experiment()
    found = _collect(local_store, experiment, CRLF) if read == "end-of-trial" else _follow(tmp_path, experiment, CRLF)
    assert found == [("loss", 0.5), ("accuracy", 0.25)]


PROGRESS = "epoch 1 50%\r2024-01-01T00:00:09Z loss=0.9\n2024-01-01T00:00:05Z loss=0.2\n"
"""A progress line redrawn with ``\\r``, its last segment timed: Katib's line starts with
``epoch``, so its value is untimed (the zero time) and ``latest`` is the timed 0.2."""


@pytest.mark.parametrize("read", ["end-of-trial", "follower"])
def test_only_the_time_that_starts_the_whole_line_counts(local_store, tmp_path, read):
    experiment = _experiment()
    if read == "end-of-trial":
        records = ExperimentRecords(local_store, "quad")
        trial = TrialState(name="quad-t1", index=0, round="", assignment={}, created="")
        local_store.put(records.metrics_file_key(trial.name, "metrics.log"), PROGRESS.encode())
        logs = collect_file(records, experiment, trial)
    else:
        (tmp_path / "metrics.log").write_text(PROGRESS)
        logs = [m for found in Follower(collector_source(experiment), local=tmp_path / "metrics.log").poll(final=True).values() for m in found]
    assert Observation.from_logs(logs, ["loss"]).values({"loss": "latest"}) == {"loss": 0.2}
