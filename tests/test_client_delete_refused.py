"""A delete the store refuses half-way (Review B, finding 7): the mark was written, so every
reader then refused the experiment as partly deleted, while the delete's own error said only
"cannot delete experiments/dr/outcomes/max-12.json from file:///...: Permission denied". It now
names the folder that refused (its owner and mode, the fix), and says that the experiment is left
marked partly deleted and how to finish."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from conftest import quad_run_to_its_end
from kfp_tune.client import Client
from kfp_tune.core.errors import ExperimentPartlyDeleted, StoreError
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import read_experiment_record
from kfp_tune.stores import LocalStore


def test_a_delete_refused_for_permission_says_the_folder_and_that_the_experiment_is_left_marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = quad_run_to_its_end(tmp_path, 2)
    store = LocalStore(str(folder / "store"))
    unlink = Path.unlink

    def refused_in_outcomes(path: Path, missing_ok: bool = False) -> None:
        if path.parent.name == "outcomes":
            raise PermissionError(errno.EACCES, "Permission denied")
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refused_in_outcomes)
    with pytest.raises(StoreError) as caught:
        Client(store).delete_experiment("quad", confirm=True)
    message = str(caught.value)
    outcomes = folder / "store" / "experiments" / "quad" / "outcomes"
    assert message.startswith(f"cannot delete experiments/quad/outcomes/max-2.json from {store.uri}: Permission denied: folder {outcomes} (owner "), message
    assert message.endswith(
        "; experiment 'quad' is left marked partly deleted (every command and run refuses it): once this is fixed, run kfp-tune delete quad "
        "--yes (Client.delete_experiment(name, confirm=True)) again to finish it"
    ), message
    with pytest.raises(ExperimentPartlyDeleted):
        read_experiment_record(ExperimentRecords(store, "quad"))
    monkeypatch.setattr(Path, "unlink", unlink)
    Client(store).delete_experiment("quad", confirm=True)  # once fixed, deleting again finishes it
    assert store.list("experiments/") == []
