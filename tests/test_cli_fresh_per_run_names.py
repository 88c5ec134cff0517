"""``status / trials / report NAME`` after a recurring run that tunes a fresh experiment per run
(QA "schedule", session 32, finding 3): the store holds NAME-xxxxxx experiments, never NAME, and
"did you mean" (difflib) missed short names ('quad' against 'quad-88b1vo' scores 0.53). The error
now points to them and to ``kfp-tune list``."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import per_run_experiment_name
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps.prepare import init_experiment
from kfp_tune.stores import LocalStore

RUNS = ("62666738-1b6c-4b43-9d53-3d0f4b6f2a10", "86863550-0d8e-4b1e-9c55-1b7f08f7c4e2")


@pytest.fixture
def fresh_store(tmp_path):
    """A store with the fresh experiments of two runs of a recurring run of 'quad'."""
    store = LocalStore(tmp_path / "store")
    for run in RUNS:
        name = per_run_experiment_name("quad", run)
        doc = quadratic_experiment()
        doc["metadata"]["name"] = name
        init_experiment(ExperimentRecords(store, name), load_experiment(doc))
    return store


@pytest.mark.parametrize("command", ["status", "trials", "report"])
def test_a_name_whose_runs_each_tuned_a_fresh_experiment_points_to_them(fresh_store, capsys, command):
    names = sorted(per_run_experiment_name("quad", run) for run in RUNS)
    assert main([command, "quad", "--store", str(fresh_store.root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no experiment 'quad' in {fresh_store.uri}; "), err
    assert f"2 experiments named quad-<6 characters>: {', '.join(names)}" in err, err
    assert "a fresh experiment per run" in err and "hash of the run's id" in err and "kfp-tune list" in err, err


def test_a_mistyped_name_still_gets_did_you_mean(fresh_store, capsys):
    mistyped = per_run_experiment_name("quad", RUNS[0])[:-1]
    assert main(["status", mistyped, "--store", str(fresh_store.root)]) == 2
    err = capsys.readouterr().err
    assert "did you mean:" in err and "fresh experiment per run" not in err, err
