"""``kfp-tune list`` of a store whose only experiment is being deleted (Review B, finding 9): the
warning told the user to "look again with kfp-tune list" from inside list, and the line after
it said "no experiments in STORE" while one was still there."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import quad_run_to_its_end
from deleting_store import DeletingStore
from kfp_tune.cli import main
from kfp_tune.stores import LocalStore


def test_list_of_a_store_whose_experiment_is_being_deleted_says_it_in_lists_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = quad_run_to_its_end(tmp_path, 2)
    capsys.readouterr()
    store = LocalStore(str(folder / "store"))
    DeletingStore(store, "list", [])._delete_part()  # the mark, as a delete on another machine (or an older kfp-tune) writes it
    assert main(["list", "--store", str(folder / "store")]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("warning: experiment quad cannot be read: experiment 'quad' in ") and err.endswith("; left out\n"), err
    assert "it may still be under way (wait for it to end: then kfp-tune list no longer shows it)" in err, err
    assert "look again with kfp-tune list" not in err
    assert out == f"no experiments to show in {store.uri}: 1 left out (above)\n"
