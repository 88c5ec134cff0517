"""How many store requests the run's exit handler (decide-stop, ``final``) makes for a small
experiment: a mutation pass showed that an exit handler reading the experiment once more (its
decision through a view of its own, the metrics through another) passed every test, since
test_decide_stop_s_metrics_cost_no_store_request compares two exit handlers that both pay it."""

from __future__ import annotations

from pathlib import Path

import pytest
from kfp import dsl

from conftest import quadratic_experiment
from kfp_tune.components import decide_stop
from kfp_tune.core import claims
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.stores import LocalStore
from request_counts import count_local_store_requests


@pytest.mark.parametrize(("interrupted", "expected"), [(False, {"get": 36, "list": 4, "put": 1, "create": 1}), (True, {"get": 35, "list": 4})], ids=["ordinary", "interrupted"])
def test_the_exit_handler_reads_a_three_trial_experiment_once(tmp_path, monkeypatch, interrupted: bool, expected: dict[str, int]):
    """Pinned absolute counts, on the run that holds the claim: the ordinary end (a status
    written, the claim given back) and a run its user interrupted (2c6bb9e: the state read for
    the best trial, no status written). One more load of the experiment (the decision's view not
    passed to close_run) makes them 50 gets and 5 lists, and 49 and 5."""
    store = LocalStore(tmp_path / "store")
    run_inline(store, load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 3})), LocalLauncher())
    records = ExperimentRecords(store, "quad")
    claims.claim(records, "run-1")
    if interrupted:
        claims.release(records, "run-1", claims.INTERRUPTED)
    requests = count_local_store_requests(monkeypatch)
    metrics = dsl.Metrics(name="metrics", uri=str(tmp_path / "metrics"))
    decide_stop_final(store, metrics, tmp_path)
    assert metrics.metadata.keys() == {"loss", "accuracy"}
    assert dict(requests) == expected, dict(requests)


def decide_stop_final(store: LocalStore, metrics: dsl.Metrics, folder: Path) -> None:
    table = dsl.Markdown(name="trials_table", uri=str(folder / "table.md"))
    report = dsl.HTML(name="report", uri=str(folder / "report.html"))
    table.path, report.path = str(folder / "table.md"), str(folder / "report.html")
    decide_stop.python_func(
        store_uri=store.uri, experiment_name="quad", run_id="run-1", round_index=1, rounds_total=1, final=True, metrics=metrics, trials_table=table, report=report,
    )
