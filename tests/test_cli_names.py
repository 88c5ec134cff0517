"""A mistyped experiment NAME: every command that takes one says it is not in the store and
suggests the store's closest names, as a mistyped trial lists the experiment's trials."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.client import CLOSE_NAMES
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

NAMES = ("quick", "quick-2", "slow")

COMMANDS = {  # command: what follows NAME
    "status": [], "trials": [], "logs": [], "report": ["-o", "{tmp}/report"], "edit": ["--max-trial-count", "9"],
    "delete": ["--yes"], "cleanup": [],
}


@pytest.fixture
def store(tmp_path):
    for name in NAMES:
        init_experiment(ExperimentRecords(LocalStore(tmp_path / "store"), name), load_experiment(quadratic_experiment(**{"metadata.name": name})))
    return tmp_path / "store"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_mistyped_name_suggests_the_close_names(command, store, tmp_path, capsys):
    extra = [arg.format(tmp=tmp_path) for arg in COMMANDS[command]]
    capsys.readouterr()
    assert main([command, "quikc", "--store", str(store), *extra]) == 2
    err = capsys.readouterr().err
    assert f"no experiment 'quikc' in {LocalStore(store).uri}; did you mean: quick, quick-2?" in err
    assert "slow" not in err
    assert not (tmp_path / "report").exists()  # refused before anything is written


def test_a_name_like_none_in_the_store_suggests_nothing(store, capsys):
    assert main(["status", "zzzzzz", "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert f"error: no experiment 'zzzzzz' in {LocalStore(store).uri}\n" == err


def test_at_most_three_names_are_suggested(tmp_path, capsys):
    names = [f"quick-{i}" for i in range(CLOSE_NAMES + 2)]
    for name in names:
        init_experiment(ExperimentRecords(LocalStore(tmp_path / "store"), name), load_experiment(quadratic_experiment(**{"metadata.name": name})))
    assert main(["trials", "quick-x", "--store", str(tmp_path / "store")]) == 2
    suggested = capsys.readouterr().err.rsplit("did you mean: ", 1)[1].rstrip("?\n").split(", ")
    assert len(suggested) == CLOSE_NAMES and set(suggested) <= set(names)
