"""The PrometheusMetric collector: Katib's endpoint defaults (its checks: tests/core/test_collector_checks.py), the exposition format
read with prometheus_client's parser, what counts as a new report, and a local trial serving
its metrics over HTTP on loopback, scraped while it runs."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import pytest

from conftest import quadratic_experiment
from kfp_tune.collectors.prometheus import DEFAULT_PATH, DEFAULT_PORT, Endpoint, PrometheusSeries, parse_exposition
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher

UNREAD_PARAMETERS = [{"name": "X", "value": "${trialParameters.x}"}, {"name": "Y", "value": "${trialParameters.y}"}]
"""Every parameter reaches the trial, as Katib requires, in variables the trial does not read."""


def test_katibs_defaults_and_overrides():
    assert (DEFAULT_PORT, DEFAULT_PATH) == (8080, "/metrics")  # Katib's common_types.go
    assert Endpoint.from_http_get(None).url() == "http://localhost:8080/metrics"
    assert Endpoint.from_http_get({"port": 0, "path": ""}).url() == "http://localhost:8080/metrics"  # Katib defaults a 0 port too
    assert Endpoint.from_http_get({"port": "9100", "path": "/stats", "scheme": "HTTPS"}).url("127.0.0.1") == "https://127.0.0.1:9100/stats"
    for bad, field in (({"port": "metrics"}, "port"), ({"port": 70000}, "port"), ({"path": "stats"}, "path")):
        with pytest.raises(ValueError, match=f"httpGet.{field}"):
            Endpoint.from_http_get(bad)


EXPOSITION = """# HELP loss training loss
# TYPE loss gauge
loss 0.25
# TYPE accuracy gauge
accuracy{split="train"} 0.75
# TYPE epoch_seconds summary
epoch_seconds_sum 12.5
epoch_seconds_count 3
lr 0.1 1700000000000
bad NaN
"""


def test_the_exposition_format_is_read_for_the_wanted_metrics():
    found = parse_exposition(EXPOSITION, ["loss", "accuracy", "lr", "bad", "absent"])
    assert found == {"loss": (0.25, None), "accuracy": (0.75, None), "lr": (0.1, 1700000000.0)}  # lr's timestamp in seconds


def test_a_series_records_a_value_when_it_changes_or_its_timestamp_does():
    series = PrometheusSeries(["loss", "lr"])
    assert series.add_scrape("loss 0.5\nlr 0.1 1000\n") == [MetricLog("loss", 0.5, 0), MetricLog("lr", 0.1, 0)]
    assert series.add_scrape("loss 0.5\nlr 0.1 1000\n") == []  # nothing new
    assert series.add_scrape("loss 0.4\nlr 0.1 2000\n") == [MetricLog("loss", 0.4, 1), MetricLog("lr", 0.1, 1)]  # same lr, new timestamp
    assert series.add_scrape("not the text format {{{") == []
    assert [m.value for m in series.observations] == [0.5, 0.1, 0.4, 0.1]


# A trial serving Prometheus' text format with the standard library. It keeps each pair of
# values up until a scrape that began after they were set has been answered and read (the
# collector scrapes one request at a time: the next scrape beginning says so), then moves on; if
# no scrape comes within its patience it exits saying so (the test fails then, never hangs).
SERVING_TRIAL = r"""
import http.server, sys, threading

port, path, patience = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
values, scrapes = {}, [0]
changed = threading.Condition()

class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with changed:
            scrapes[0] += 1
            body = "".join(f"# TYPE {k} gauge\n{k} {v}\n" for k, v in values.items()).encode()
            changed.notify_all()
        self.send_response(200 if self.path == path else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body if self.path == path else b"")

    def log_message(self, *args):
        pass

class Server(http.server.ThreadingHTTPServer):
    allow_reuse_port = True  # the test holds the port for it (bound, not listening) until it ends

server = Server(("127.0.0.1", port), Metrics)
threading.Thread(target=server.serve_forever, daemon=True).start()
for loss, accuracy in ((0.9, 0.1), (0.5, 0.6), (0.2, 0.8)):
    with changed:
        values.update(loss=loss, accuracy=accuracy)
        seen = scrapes[0]
        if not changed.wait_for(lambda: scrapes[0] >= seen + 2, timeout=patience):
            sys.exit(f"loss={loss} was not scraped: no scrape of {path} on port {port} came within {patience:g} s")
print("done")
"""


SCRAPE_PATIENCE_SECONDS = 60
"""How long the serving trial waits for the collector's next scrape (it scrapes every few
seconds; a loaded test machine may be slow) before it gives up and fails."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port no other process can take while the test runs (other workers start servers on
    ports of their own): bound with SO_REUSEPORT, never listening, so only the trial's server,
    which sets the same option, binds it beside, and every connection reaches that server."""
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


def test_a_local_trial_is_scraped_while_it_runs(local_store, held_port):
    port = held_port
    doc = quadratic_experiment(**{
        "spec.maxTrialCount": 1,
        "spec.parallelTrialCount": 1,
        "spec.maxFailedTrialCount": 1,
        "spec.metricsCollectorSpec": {"collector": {"kind": "PrometheusMetric"}, "source": {"httpGet": {"port": port, "path": "/stats"}}},
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "env": UNREAD_PARAMETERS, "image": "python:3.11", "command": ["python3", "-c", SERVING_TRIAL, str(port), "/stats", str(SCRAPE_PATIENCE_SECONDS)]}
        ],
    })
    decision = run_inline(local_store, load_experiment(doc), LocalLauncher(env={"KFP_TUNE_STORE": local_store.uri}))
    records = ExperimentRecords(local_store, "quad")
    (trial,) = load_state(records).trials
    output = records.read_text(records.log_key(trial.name, "main"))
    assert decision.phase == "Succeeded" and trial.status == "Succeeded", f"{decision.message}; the trial's output: {output!r}"
    assert tuple(trial.result.curve) == (0.9, 0.5, 0.2)  # every value, in order: none printed, all scraped
    assert trial.metrics["loss"] == 0.2 and trial.metrics["accuracy"] == 0.1  # Katib's default strategy: min, the objective's type


def test_without_the_store_a_local_launcher_cannot_scrape(tmp_path):
    """Without KFP_TUNE_STORE the launcher does not know the experiment: nothing is scraped and
    the trial has no metrics (a run always gives the launcher the store)."""
    from kfp_tune.stores import LocalStore

    store = LocalStore(tmp_path / "store")
    port = _free_port()
    doc = quadratic_experiment(**{
        "spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1,
        "spec.metricsCollectorSpec": {"collector": {"kind": "PrometheusMetric"}, "source": {"httpGet": {"port": port}}},
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [{"name": "main", "env": UNREAD_PARAMETERS, "image": "python:3.11", "command": [sys.executable, "-c", "print('loss=0.5')"]}],
    })
    run_inline(store, load_experiment(doc), LocalLauncher())
    (trial,) = load_state(ExperimentRecords(store, "quad")).trials
    assert trial.status == "MetricsUnavailable"  # loss=0.5 on stdout is not what this collector reads


def test_a_resumed_series_whose_stored_step_is_none_goes_on_at_step_one():
    """The stored value was the metric's first (no step kept): the next is its second."""
    series = PrometheusSeries.resumed(["loss"], [MetricLog("loss", 0.5, None)])
    assert series.add_scrape("loss 0.4\n") == [MetricLog("loss", 0.4, 1)]


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nloss 0.5\n",  # the trial exits halfway through its answer
        b"SSH-2.0-OpenSSH_9.6\r\n",  # the port serves something that is not HTTP
    ],
    ids=["incomplete-read", "not-http"],
)
def test_an_answer_that_is_not_whole_http_is_no_scrape_not_an_error(answer: bytes) -> None:
    """scrape() gives None for any answer it cannot read, so the poll is simply tried again;
    http.client's IncompleteRead and BadStatusLine escaped it and were logged as a failure to
    store the observations."""
    import threading

    from kfp_tune.collectors.prometheus import scrape

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def answer_once() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        assert scrape(f"http://127.0.0.1:{server.getsockname()[1]}/metrics", timeout=5) is None
        thread.join(5)
