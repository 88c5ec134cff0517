"""``status / trials / report NAME`` after a recurring run that tunes a fresh experiment per run
(QA "schedule", session 32, finding 3): the store holds NAME-xxxxxx experiments, never NAME, and
"did you mean" (difflib) missed short names ('quad' against 'quad-88b1vo' scores 0.53). The error
now points to them and to ``kfp-tune list``; only to experiments that are such runs' (their runs/
records name the run whose id the suffix hashes), never to a hand-named NAME-xxxxxx such as
digits-random (review C, finding 1), which keeps its "did you mean"."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.claims import call_run_id, claim, release
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import per_run_experiment_name
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps.prepare import init_experiment
from kfp_tune.stores import LocalStore

RUNS = ("62666738-1b6c-4b43-9d53-3d0f4b6f2a10", "86863550-0d8e-4b1e-9c55-1b7f08f7c4e2")


def _tuned(store: LocalStore, name: str, run: str | None = None) -> None:
    """Experiment ``name`` in the store, as a run ``run`` leaves it (its claim, then its end), or
    as init_experiment alone leaves it (no run yet) when ``run`` is None."""
    doc = quadratic_experiment()
    doc["metadata"]["name"] = name
    records = ExperimentRecords(store, name)
    init_experiment(records, load_experiment(doc))
    if run is not None:
        claim(records, run)
        release(records, run, "ended")


@pytest.fixture
def fresh_store(tmp_path):
    """A store with the fresh experiments of two runs of a recurring run of 'quad', each claimed
    by its run as the suggest step claims it (the run id its name hashes)."""
    store = LocalStore(tmp_path / "store")
    for run in RUNS:
        _tuned(store, per_run_experiment_name("quad", run), run)
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


@pytest.mark.parametrize("command", ["status", "delete"])
def test_hand_named_experiments_of_that_shape_keep_did_you_mean(tmp_path, capsys, command):
    """digits-random, digits-optuna, mnist-resnet: NAME plus six characters, named by hand (one of
    them run by kfp-tune run, its claim another run's id): no recurring run made them."""
    store = LocalStore(tmp_path / "store")
    _tuned(store, "digits-random")
    _tuned(store, "digits-optuna", "kfp-tune-run-20261123")
    _tuned(store, "mnist-resnet")
    assert main([command, "digits", "--store", str(store.root), *(["--yes"] if command == "delete" else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no experiment 'digits' in {store.uri}; did you mean: "), err
    assert "digits-random" in err and "digits-optuna" in err, err
    assert "fresh experiment per run" not in err and "<6 characters>" not in err, err


def test_only_the_runs_own_experiments_are_named_beside_a_hand_named_one(fresh_store, capsys):
    """quad-random (by hand, run by a run whose id is not the one its suffix would hash) beside
    the two runs' experiments: the hint names the two only."""
    _tuned(fresh_store, "quad-random", "62666738-1b6c-4b43-9d53-3d0f4b6f2a10")  # a run's id, not the one its name hashes
    names = sorted(per_run_experiment_name("quad", run) for run in RUNS)
    assert main(["status", "quad", "--store", str(fresh_store.root)]) == 2
    err = capsys.readouterr().err
    assert f"2 experiments named quad-<6 characters>: {', '.join(names)}" in err, err
    assert "quad-random" not in err, err  # nor is it close to 'quad' for difflib (0.53)


def test_a_call_of_a_pipeline_run_is_recognised_by_its_call_run_id(tmp_path, capsys):
    """A tuning step called inside a user's pipeline hashes the call's run id (job.call-ID)."""
    store = LocalStore(tmp_path / "store")
    run = call_run_id(RUNS[0], "task-1")
    _tuned(store, per_run_experiment_name("quad", run), run)
    assert main(["trials", "quad", "--store", str(store.root)]) == 2
    err = capsys.readouterr().err
    assert "1 experiment named quad-<6 characters>" in err, err


def test_the_python_client_says_the_same(tmp_path, fresh_store):
    from kfp_tune.client import Client
    from kfp_tune.core.errors import ExperimentNotFound

    _tuned(fresh_store, "quad-runner")
    _tuned(fresh_store, "quad-random")
    _tuned(fresh_store, "quads")
    with pytest.raises(ExperimentNotFound) as raised:
        Client(store=str(fresh_store.root)).get_experiment("quad-run")
    assert "did you mean: quad-runner" in str(raised.value) and "<6 characters>" not in str(raised.value)
    with pytest.raises(ExperimentNotFound) as raised:
        Client(store=str(fresh_store.root)).get_experiment("quad")
    assert "2 experiments named quad-<6 characters>" in str(raised.value) and "quad-random" not in str(raised.value)
    assert str(raised.value).endswith("kfp-tune list shows them all; did you mean: quads?"), raised.value  # a mistyped name too
