"""File (TEXT, JSON) and TensorFlowEvent collectors end to end with the local launcher: the
collector path gets a folder per trial, what the trial wrote is kept in the store, and the
metrics are read back from there (event files with the tensorboard package, no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.reports import trial_rows
from kfp_tune.stores import LocalStore


def _experiment(mode: str, collector: dict, log_arg: str, **extra):
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.metricsCollectorSpec": collector, **extra})
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["args"] += [f"mode={mode}", f"log_path={log_arg}"]
    return load_experiment(doc)


def _case(mode: str, root: Path) -> tuple[dict, str]:
    """(metricsCollectorSpec, the path the trial is told to write to) for ``mode``. The paths
    keep Katib's shapes but sit under the test's own folder, so that "nothing was written
    there" is about this run alone, never about what the machine happens to hold."""
    if mode == "text":
        path = str(root / "var" / "log" / "katib" / "metrics.log")
        return {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": path, "kind": "File"}}}, path
    if mode == "json":
        path = str(root / "katib" / "metrics.json")
        return {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": path, "kind": "File", "format": "JSON"}}}, path
    # Katib's TFJob example shape: the trial gets the parent folder, the collector reads a subfolder
    path = str(root / "logs" / "test")
    return {"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": path, "kind": "Directory"}}}, path


@pytest.mark.parametrize("mode", ["json", "text", "tfevent"])
def test_metrics_written_to_files_are_collected(tmp_path, mode):
    collector, log_arg = _case(mode, tmp_path / "container")
    experiment = _experiment(mode, collector, log_arg)
    store = LocalStore(tmp_path / "store")
    decision = run_inline(store, experiment, LocalLauncher())
    assert decision.phase == "Succeeded", decision.message
    rows = trial_rows(store, "quad")
    assert len(rows) == 2
    for row in rows:
        x, y = float(row["parameters"]["x"]), float(row["parameters"]["y"])
        loss = (x - 0.3) ** 2 + (y - 0.7) ** 2
        # min over the three written values; accuracy (additional, also min for minimize) read too
        assert row["metrics"]["loss"] == pytest.approx(loss, abs=2e-6)
        assert row["metrics"]["accuracy"] == pytest.approx(1 - loss, abs=2e-6)
        kept = store.list(ExperimentRecords(store, "quad").metrics_files_prefix(row["name"]))
        assert kept, "the trial's metrics files are kept in the store"
    # nothing was written at the container path itself: each trial wrote to its own folder
    assert not (tmp_path / "container").exists()


def test_a_trial_that_writes_no_metrics_file_is_metrics_unavailable(tmp_path):
    collector, log_arg = _case("text", tmp_path / "container")
    experiment = _experiment("silent", collector, log_arg)
    store = LocalStore(tmp_path / "store")
    run_inline(store, experiment, LocalLauncher())
    assert {r["status"] for r in trial_rows(store, "quad")} == {"MetricsUnavailable"}


def test_push_collector_with_report_metrics_from_a_trial_process(tmp_path):
    """A trial process calls kfp_tune.report_metrics; the launcher told it where (env)."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.metricsCollectorSpec": {"collector": {"kind": "Push"}}})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("mode=push")
    store = LocalStore(tmp_path)
    decision = run_inline(store, load_experiment(doc), LocalLauncher(env={"KFP_TUNE_STORE": store.uri}))
    assert decision.phase == "Succeeded", decision.message
    for row in trial_rows(store, "quad"):
        x, y = float(row["parameters"]["x"]), float(row["parameters"]["y"])
        assert row["metrics"]["loss"] == pytest.approx((x - 0.3) ** 2 + (y - 0.7) ** 2)


def test_report_metrics_outside_a_trial_says_what_is_missing(monkeypatch):
    from kfp_tune import report_metrics
    from kfp_tune.core.errors import KfpTuneError

    for name in ("KFP_TUNE_STORE", "KFP_TUNE_EXPERIMENT", "KFP_TUNE_TRIAL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(KfpTuneError, match="KFP_TUNE_STORE, KFP_TUNE_EXPERIMENT, KFP_TUNE_TRIAL not set"):
        report_metrics({"loss": 1.0})


def test_tfevent_example_trial_end_to_end(tmp_path):
    """images/tfevent-writer: the example's own script and experiment, two trials."""
    from conftest import REPO

    pytest.importorskip("sklearn")
    data = __import__("yaml").safe_load((REPO / "images" / "tfevent-writer" / "experiment.yaml").read_text())
    data["spec"]["maxTrialCount"] = 2
    store = LocalStore(tmp_path)
    decision = run_inline(store, load_experiment(data), LocalLauncher(mounts={"/opt/tfevent": str(REPO / "images" / "tfevent-writer")}))
    assert decision.phase == "Succeeded", decision.message
    rows = trial_rows(store, "tfevent-softmax")
    assert all(0.5 < r["metrics"]["accuracy"] <= 1.0 and r["metrics"]["loss"] > 0 for r in rows)


def test_mpi_example_script_runs_as_a_world_of_one():
    import subprocess
    import sys

    from conftest import REPO

    pytest.importorskip("sklearn")
    out = subprocess.run([sys.executable, str(REPO / "images" / "mpi-allreduce" / "train.py"), "--lr=0.5", "--epochs=2"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1].startswith("epoch=2 accuracy=") and "ranks=1" in out
