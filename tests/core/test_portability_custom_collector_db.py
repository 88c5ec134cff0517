"""A Custom collector written for Katib reports over gRPC to Katib's DB manager, which kfp-tune
does not serve: its trials would all end MetricsUnavailable. A portability note says so where
the collector's args, command or env name katib-db-manager (its port 6789 alone is no sign; QA report s35
examples, finding 5)."""

from __future__ import annotations

import copy

import pytest

from conftest import load_katib_example
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes

FIELD = "spec.metricsCollectorSpec.collector.customCollector"
EXAMPLE = load_katib_example("metrics-collector_custom-metrics-collector.yaml")


def db_notes(doc: dict) -> dict[str, str]:
    return {n.path: n.message for n in katib_notes(load_experiment(doc)) if n.path.startswith(FIELD)}


def with_collector(**fields: object) -> dict:
    doc = copy.deepcopy(EXAMPLE)
    collector = doc["spec"]["metricsCollectorSpec"]["collector"]["customCollector"]
    collector.pop("args")
    collector.update(fields)
    return doc


def test_katibs_own_custom_collector_example_is_noted() -> None:
    assert db_notes(copy.deepcopy(EXAMPLE)) == {f"{FIELD}.args[3]": (
        "'katib-db-manager.kubeflow:6789' is Katib's DB manager, to which a Custom collector written for Katib reports over gRPC; "
        "kfp-tune does not serve it, so every trial would end MetricsUnavailable (and the experiment fail at maxFailedTrialCount): "
        "have the collector report with kfp_tune.report_metrics (the Custom collector reports to kfp-tune's store as Push does), "
        "or read the trial's metrics with the File or StdOut collector"
    )}


@pytest.mark.parametrize(("fields", "path"), [
    ({"command": ["/bin/collect", "--server=katib-db-manager"]}, f"{FIELD}.command[1]"),
    ({"env": [{"name": "DB", "value": "katib-db-manager.kubeflow.svc:6789"}]}, f"{FIELD}.env[0].value"),
])
def test_command_and_env_are_read_too(fields: dict, path: str) -> None:
    assert list(db_notes(with_collector(**fields))) == [path]


@pytest.mark.parametrize("args", [["-path", "/katib/mnist.log"], ["--port=67890", "--db=my-db-manager"], ["--listen", "0.0.0.0:6789"],
                                  ["--port", "6789"], ["--push", "pushgateway.monitoring:6789"]])
def test_a_collector_naming_no_db_manager_gets_no_note(args: list) -> None:
    assert db_notes(with_collector(args=args)) == {}
