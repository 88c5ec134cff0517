"""What a collector's records hold and how they are read back, in the cases no other test
reached (surviving mutants of collectors/observe.py): a restarted PrometheusMetric collector goes
on after its stored observations, a source stored in several records reads back whole, a record
there before the writer (shorter, or empty) and a store failing once on the last write, damaged
records, and DARTS's text genotype through a File collector."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_darts_run import GENOTYPE, GENOTYPE_FORMAT, darts_cpu

from kfp_tune.collectors.formats import text_log
from kfp_tune.collectors.observe import CollectorSource, Follower, ObservationWriter, collector_source, follow, read_collected
from kfp_tune.collectors.prometheus import Endpoint
from kfp_tune.collectors.stdout import DEFAULT_METRICS_FORMAT
from kfp_tune.core.errors import StoreError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import DamagedRecord, ExperimentRecords
from kfp_tune.core.vocabulary import CollectorKind, RecordKind

TRIAL = "quad-t1"


class _Exposition:
    """A trial's endpoint on loopback serving ``text`` as it is at each scrape."""

    def __init__(self) -> None:
        self.text = ""
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = owner.text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.source = CollectorSource(kind=CollectorKind.PROMETHEUS_METRIC, names=("loss",), endpoint=Endpoint.from_http_get({"port": self.server.server_address[1]}))


@pytest.fixture
def endpoint() -> Iterator[_Exposition]:
    served = _Exposition()
    thread = threading.Thread(target=served.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)  # shutdown() waits up to one poll (0.5 s by default)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()
    thread.join()


def _sidecar(endpoint: _Exposition, records: ExperimentRecords) -> tuple[Follower, ObservationWriter]:
    """A new collector container: its follower resumes after what the writer finds stored."""
    follower, writer = Follower(endpoint.source, host="127.0.0.1"), ObservationWriter(records, TRIAL)
    follower.resume(writer.stored())
    return follower, writer


def test_a_restarted_prometheus_collector_stores_every_value_served_after_its_restart(endpoint, local_store):
    records = ExperimentRecords(local_store, "quad")
    follower, writer = _sidecar(endpoint, records)
    for loss in (0.9, 0.8, 0.7):
        endpoint.text = f"loss {loss}\n"
        assert writer.write(follower.poll()) == 1
    follower, writer = _sidecar(endpoint, records)  # the sidecar's container restarts
    assert writer.write(follower.poll()) == 0  # 0.7 is the last value stored, not a new one
    for loss in (0.6, 0.5, 0.4, 0.3):
        endpoint.text = f"loss {loss}\n"
        assert writer.write(follower.poll()) == 1, loss  # the old code stored none until 0.3
    assert [(m.value, m.step) for m in read_collected(records, TRIAL)] == [(0.9, 0), (0.8, 1), (0.7, 2), (0.6, 3), (0.5, 4), (0.4, 5), (0.3, 6)]


def test_a_restarted_prometheus_collector_takes_a_timestamped_sample_it_stored_as_stored(endpoint, local_store):
    """A record keeps no timestamp: the sample still served is the one stored, a new timestamp a
    new observation."""
    records = ExperimentRecords(local_store, "quad")
    follower, writer = _sidecar(endpoint, records)
    endpoint.text = "loss 0.7 1700000000000\n"
    assert writer.write(follower.poll()) == 1
    follower, writer = _sidecar(endpoint, records)
    assert writer.write(follower.poll()) == 0
    endpoint.text = "loss 0.7 1700000001000\n"
    assert writer.write(follower.poll()) == 1
    assert [(m.value, m.step) for m in read_collected(records, TRIAL)] == [(0.7, 0), (0.7, 1)]


def test_the_sidecars_follow_resumes_a_prometheus_collector(endpoint, local_store):
    """As the sidecar runs it (Follower and ObservationWriter made afresh, then follow)."""
    records = ExperimentRecords(local_store, "quad")
    before = ObservationWriter(records, TRIAL)
    endpoint.text = "loss 0.9\n"
    assert before.write(Follower(endpoint.source, host="127.0.0.1").poll()) == 1
    endpoint.text = "loss 0.6\n"
    stop = threading.Event()
    stop.set()  # the trial has ended: one last scrape
    assert follow(Follower(endpoint.source, host="127.0.0.1"), ObservationWriter(records, TRIAL), stop, 0.0) == 1
    assert [(m.value, m.step) for m in read_collected(records, TRIAL)] == [(0.9, 0), (0.6, 1)]


def test_a_source_stored_in_several_records_reads_back_whole(local_store):
    records = ExperimentRecords(local_store, "quad")
    numbers = [MetricLog("loss", 0.5, 0), MetricLog("loss", 0.4, 1), MetricLog("loss", 0.3, 2)]
    texts = [text_log("Best-Genotype", f"genotype {i}", i) for i in range(3)]
    writer = ObservationWriter(records, TRIAL)
    assert writer.write({"a.log": numbers[:2], "b.log": texts[:2]}) == 4
    assert writer.write({"a.log": numbers, "b.log": texts}) == 2  # records from index 2 on
    assert read_collected(records, TRIAL) == numbers + texts


def test_a_shorter_record_stored_by_another_collector_is_followed_by_the_rest(local_store):
    """Two containers racing: the other stored the first observation at the same key."""
    records = ExperimentRecords(local_store, "quad")
    logs = [MetricLog("loss", 0.5, 0), MetricLog("loss", 0.4, 1), MetricLog("loss", 0.3, 2)]
    writer = ObservationWriter(records, TRIAL)
    assert ObservationWriter(records, TRIAL).write({"m.log": logs[:1]}) == 1
    assert writer.write({"m.log": logs}) == 3
    assert read_collected(records, TRIAL) == logs


@pytest.mark.timeout(30)  # the old check looped for ever on it
def test_an_empty_record_where_a_collector_stores_is_a_store_error(local_store):
    records = ExperimentRecords(local_store, "quad")
    writer = ObservationWriter(records, TRIAL)
    ObservationWriter(records, TRIAL).write({"m.log": []})  # nothing new: nothing stored
    from kfp_tune.collectors.observe import _stamp

    records.write_once(records.report_key(TRIAL, _stamp("m.log", 0)), RecordKind.REPORTED_METRICS, {"metrics": [], "collector": {"source": "m.log", "start": 0}})
    with pytest.raises(StoreError, match="holds no observations"):
        writer.write({"m.log": [MetricLog("loss", 0.5, 0)]})


class _FailingOnce:
    """A store whose first create of a collector record fails (before it reaches the store)."""

    def __init__(self, inner: Any):
        self.inner, self.uri, self.failed = inner, inner.uri, False

    def create(self, key: str, data: bytes) -> bool:
        if not self.failed and "/reports/collector-" in key:
            self.failed = True
            raise StoreError("injected fault: create (transient)", transient=True)
        return bool(self.inner.create(key, data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_the_last_write_is_tried_again_when_the_store_fails_once(tmp_path, local_store):
    metrics = tmp_path / "m.log"
    metrics.write_text("loss=0.5\nloss=0.4")  # the last line complete only once the trial has ended
    records = ExperimentRecords(_FailingOnce(local_store), "quad")  # type: ignore[arg-type]
    source = CollectorSource(kind=CollectorKind.FILE, names=("loss",), path="/var/log/m.log", path_kind="File")
    stop = threading.Event()
    stop.set()
    assert follow(Follower(source, local=metrics), ObservationWriter(records, TRIAL), stop, 0.0) == 2
    assert [m.value for m in read_collected(records, TRIAL)] == [0.5, 0.4]


def _damaged(local_store: Any, collector: dict[str, Any], metric: dict[str, Any]) -> ExperimentRecords:
    records = ExperimentRecords(local_store, "quad")
    records.write_once(records.report_key(TRIAL, f"collector-{str(collector.get('source', 'm'))[0]}-000000000"), RecordKind.REPORTED_METRICS, {"metrics": [metric], "collector": collector})
    return records


@pytest.mark.parametrize("collector", [{"source": "m.log"}, {"source": "m.log", "start": "0"}, {"start": 0}, {"source": 3, "start": 0}])
def test_a_collector_record_without_a_whole_start_is_damaged(local_store, collector):
    records = _damaged(local_store, collector, {"name": "loss", "value": 0.5, "step": 0})
    with pytest.raises(StoreError, match=r"collector\.start"):
        read_collected(records, TRIAL)
    with pytest.raises(StoreError, match=r"collector\.start"):
        ObservationWriter(records, TRIAL)


@pytest.mark.parametrize(
    ("metric", "problem"),
    [
        ({"name": "loss", "step": 0}, r"metrics\[0\]: loss=None is not a number"),
        ({"name": "loss", "value": None}, r"metrics\[0\]: loss=None is not a number"),
        ({"name": "loss", "value": "abc"}, r"metrics\[0\]: loss='abc' is not a number"),
        ({"name": "loss", "value": True}, r"metrics\[0\]: loss=True is a boolean"),
        ("loss=0.5", r"metrics\[0\] must be .*got str"),
        ({"value": 0.5}, r"metrics\[0\] has no name"),
        ({"name": "loss", "value": 0.5, "step": "3"}, r"metrics\[0\] \(loss\) has the step '3'"),
    ],
)
def test_a_damaged_collector_entry_is_reported_with_its_key_and_what_is_wrong(local_store, metric, problem):
    """Not a raw KeyError or ValueError ('a defect in kfp-tune'): the record's key and the entry."""
    records = _damaged(local_store, {"source": "m.log", "start": 0}, metric)
    with pytest.raises(DamagedRecord, match=rf"record .*/reports/collector-m-000000000\.json is damaged: {problem}"):
        read_collected(records, TRIAL)
    with pytest.raises(DamagedRecord, match=problem):
        ObservationWriter(records, TRIAL)


def test_a_collector_record_whose_metrics_are_not_a_list_is_damaged(local_store):
    records = ExperimentRecords(local_store, "quad")
    records.write_once(records.report_key(TRIAL, "collector-m-000000000"), RecordKind.REPORTED_METRICS, {"metrics": "loss=0.5", "collector": {"source": "m.log", "start": 0}})
    with pytest.raises(DamagedRecord, match="metrics must be a list, got str"):
        ObservationWriter(records, TRIAL)


def test_a_boolean_time_is_read_as_none(local_store):
    records = _damaged(local_store, {"source": "m.log", "start": 0}, {"name": "loss", "value": 0.5, "step": 3, "time_us": True})
    assert read_collected(records, TRIAL) == [MetricLog("loss", 0.5, 3, time_us=None)]
    kept = _damaged(local_store, {"source": "n.log", "start": 0}, {"name": "loss", "value": 0.5, "step": 3, "time_us": 1_700_000_000_000_000})
    assert read_collected(kept, TRIAL)[1] == MetricLog("loss", 0.5, 3, time_us=1_700_000_000_000_000)  # n.log's, after m.log's


def test_dartss_genotype_is_read_as_text_through_a_file_collector(tmp_path: Path):
    """DARTS's metricsFormat takes the genotype, a text value; the collector source says so."""
    path = {"path": "/var/log/darts/metrics.log", "kind": "File", "format": "TEXT"}
    doc = darts_cpu(**{"spec.metricsCollectorSpec": {"collector": {"kind": "File"}, "source": {"fileSystemPath": path, "filter": {"metricsFormat": [GENOTYPE_FORMAT, DEFAULT_METRICS_FORMAT]}}}})
    metrics = tmp_path / "metrics.log"
    metrics.write_text(f"Best-Genotype={GENOTYPE}\nBest-Accuracy=0.5\n")
    observed = Follower(collector_source(load_experiment(doc)), local=metrics).poll(final=True)
    assert [(m.name, m.text) for m in observed["metrics.log"]] == [("Best-Genotype", GENOTYPE)]
