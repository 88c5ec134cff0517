"""What a collector's records hold and how they are read back, in the cases no other test
reached: a restarted PrometheusMetric collector goes on after its stored observations."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kfp_tune.collectors.observe import CollectorSource, Follower, ObservationWriter, follow, read_collected
from kfp_tune.collectors.prometheus import Endpoint
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.vocabulary import CollectorKind

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
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
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

