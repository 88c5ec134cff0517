"""``tune()`` called again on an experiment that has completed, with a store whose key may only
read (an analyst's Read, List key, QA S3 session 3, finding 6; ``kfp-tune run`` was fixed in
43e5497): it warned "has already completed" and then failed writing its run's claim. With
nothing to run it returns the result read back, as ``kfp-tune status`` reads it, and writes
nothing, whatever the key may do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kfp_tune import search, tune
from kfp_tune.stores.local import LocalStore
from read_only_store import ReadOnlyStore, stored_files

TRIALS = 2


def _tune(store: Any) -> Any:
    return tune(lambda p: p["x"] ** 2, parameters={"x": search.double(-1, 1)}, objective_metric_name="loss", objective_type="minimize",
                algorithm="random", algorithm_settings={"random_state": "7"}, max_trial_count=TRIALS, parallel_trial_count=1,
                store=store, name="done")


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only key", "key that may write"])
def test_a_completed_experiment_is_returned_and_nothing_written(tmp_path: Path, read_only: bool) -> None:
    first = _tune(LocalStore(tmp_path / "store"))
    before = stored_files(tmp_path / "store")
    store = ReadOnlyStore(tmp_path / "store") if read_only else LocalStore(tmp_path / "store")
    with pytest.warns(UserWarning, match="has already completed"):
        again = _tune(store)
    assert (again.status, len(again.trials), again.best_trial.name) == ("Succeeded", TRIALS, first.best_trial.name)
    assert stored_files(tmp_path / "store") == before
