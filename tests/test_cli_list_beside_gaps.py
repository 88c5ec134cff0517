"""``kfp-tune list``'s hint of the stores beside an empty one (stores.holds_experiment,
stores.stores_beside), where a mutation pass found three bounds unchecked: how many experiment
folders a look reads, how many stores the hint names, and a listing that fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfp_tune.cli import main
from kfp_tune.core.errors import StoreError
from kfp_tune.stores import STORES_BESIDE_NAMED, LocalStore


def holding(folder: Path, experiment: str = "e1") -> None:
    (folder / "experiments" / experiment).mkdir(parents=True)
    (folder / "experiments" / experiment / "experiment.json").write_text("{}")


def test_a_folder_whose_first_experiment_folder_holds_only_a_readme_is_still_offered(tmp_path, capsys):
    """The look reads the experiment record of up to 3 folders of experiments/, not the first only."""
    root = tmp_path / "lroot"
    (root / "teamA" / "experiments" / "aaa").mkdir(parents=True)
    (root / "teamA" / "experiments" / "aaa" / "README.md").write_text("notes, no experiment\n")
    holding(root / "teamA", "bbb")
    assert main(["list", "--store", str(root)]) == 0
    assert capsys.readouterr().out == f"no experiments in {root.as_uri()}; did you mean: {(root / 'teamA').as_uri()}?\n"


def test_of_seven_folders_that_hold_experiments_the_hint_names_five(tmp_path, capsys):
    root = tmp_path / "lroot"
    for team in range(1, 8):
        holding(root / f"team{team}")
    assert main(["list", "--store", str(root)]) == 0
    named = ", ".join((root / f"team{team}").as_uri() for team in range(1, STORES_BESIDE_NAMED + 1))
    assert STORES_BESIDE_NAMED == 5
    assert capsys.readouterr().out == f"no experiments in {root.as_uri()}; did you mean: {named}?\n"


def test_a_listing_of_the_stores_beside_that_fails_leaves_the_hint_out_not_the_command_failed(tmp_path, capsys, monkeypatch: pytest.MonkeyPatch):
    holding(tmp_path / "runs")
    (tmp_path / "rune").mkdir()

    def refused(self: LocalStore) -> list[str]:
        raise StoreError(f"cannot list the folders beside {self.root}: permission denied")

    monkeypatch.setattr(LocalStore, "prefixes_beside", refused)
    assert main(["list", "--store", str(tmp_path / "rune")]) == 0
    assert capsys.readouterr().out == f"no experiments in {(tmp_path / 'rune').as_uri()}\n"
