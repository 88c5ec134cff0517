"""The random stream of an experiment without ``random_state`` (``designer.experiment_seed``):
its own for each experiment, from the uid its creation drew, and the same whenever that
experiment's algorithm is rebuilt (every suggest call, a resumed run). Katib's hyperopt service
(pkg/suggestion/v1beta1/hyperopt/base_service.py, ``BaseHyperoptService.__init__``) seeds a fresh
stream from the machine's entropy when ``random_state`` is not set, so two experiments of one
YAML try different points; with ``random_state`` they try the same ones. No test told the
experiments apart before: a seed shared by every experiment went unnoticed.

The uids are fixed here (``prepare`` draws them from ``os.urandom``), so every draw is seeded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import short_hash
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import load_state
from kfp_tune.stores import LocalStore

EXPERIMENTS = 8
"""More experiments than a seed of one bit (or none) has streams: a shared seed is certain to show."""
NO_RANDOM_STATE = {"spec.algorithm": {"algorithmName": "random"}}


@pytest.fixture
def fixed_uids(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The uids the next experiments get, in creation order (the test appends to the list)."""
    import importlib

    prepare_module = importlib.import_module("kfp_tune.steps.prepare")
    uids: list[str] = []
    monkeypatch.setattr(prepare_module, "short_hash", lambda text, length: uids.pop(0))
    yield uids
    assert not uids, "every fixed uid was used"


def _first_points(store_folder: Path, experiment: Experiment, uid: str, fixed_uids: list[str]) -> list[dict[str, str]]:
    """A new experiment of uid ``uid`` in its own store; its first round's two points."""
    fixed_uids.append(uid)
    records = ExperimentRecords(LocalStore(store_folder), experiment.name)
    steps.suggest(records, "run-1-r000", 1, experiment, run_id="run-1", n=2)
    state = load_state(records)
    assert state.uid == uid
    return [t.assignment for t in state.trials]


def test_experiments_without_random_state_each_try_their_own_points(tmp_path, fixed_uids):
    """Eight experiments of one YAML, no random_state, eight uids: eight different first
    rounds."""
    experiment = load_experiment(quadratic_experiment(**NO_RANDOM_STATE))
    uids = [short_hash(f"experiment {i}", 12) for i in range(EXPERIMENTS)]
    rounds = [_first_points(tmp_path / f"store-{i}", experiment, uid, fixed_uids) for i, uid in enumerate(uids)]
    firsts = {tuple(sorted(points[0].items())) for points in rounds}
    assert len(firsts) == EXPERIMENTS, rounds


def test_an_experiment_s_uid_gives_the_same_points_whenever_its_algorithm_is_rebuilt(tmp_path, fixed_uids):
    """The seed comes from the uid alone (not the clock, not the store): the same uid gives
    the same first round, and a resumed run keeps the uid, so the experiment keeps its stream."""
    experiment = load_experiment(quadratic_experiment(**NO_RANDOM_STATE))
    uid = short_hash("one experiment", 12)
    first = _first_points(tmp_path / "store-a", experiment, uid, fixed_uids)
    again = _first_points(tmp_path / "store-b", experiment, uid, fixed_uids)
    assert first == again
    records = ExperimentRecords(LocalStore(tmp_path / "store-a"), experiment.name)
    steps.close_run(records, "run-1")
    steps.suggest(records, "run-2-r000", 1, experiment, run_id="run-2", n=0)  # a later run resumes it
    assert load_state(records).uid == uid


def _with_random_state(value: str) -> Experiment:
    return load_experiment(quadratic_experiment(**{"spec.algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": value}]}}))


def test_random_state_gives_every_experiment_the_same_points(tmp_path, fixed_uids):
    """With random_state, as Katib's hyperopt service, the uid no longer matters: two uids,
    one random_state, the same first round; another random_state, another round."""
    uids = [short_hash(f"experiment {i}", 12) for i in range(3)]
    seven = [_first_points(tmp_path / f"store-{i}", _with_random_state("7"), uid, fixed_uids) for i, uid in enumerate(uids[:2])]
    eight = _first_points(tmp_path / "store-8", _with_random_state("8"), uids[2], fixed_uids)
    assert seven[0] == seven[1]
    assert eight != seven[0]
