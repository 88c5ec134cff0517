"""tune() of a name whose experiment another process deletes as tune() reads it: the warning
says the run starts a new experiment, without the resume's advice to pass another name= (the
two read as a contradiction: Review B, finding 5)."""

from __future__ import annotations

import warnings
from pathlib import Path

from deleting_store import DeletingStore
from kfp_tune import search, tune
from kfp_tune.stores import LocalStore


def _quad(params: dict[str, float]) -> float:
    return (float(params["x"]) - 0.3) ** 2


def test_tune_of_an_experiment_deleted_while_read_says_it_starts_anew_in_one_consistent_warning(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path))
    space = {"x": search.double(0.0, 1.0)}
    tune(_quad, space, max_trial_count=2, store=store, name="quad", algorithm="random", algorithm_settings={"random_state": 1})
    deleting = DeletingStore(store, "list", store.list("experiments/quad/"), mark=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tune(_quad, space, max_trial_count=2, store=deleting, name="quad", algorithm="random", algorithm_settings={"random_state": 1})
    said = [str(w.message) for w in caught if "quad" in str(w.message)]
    assert len(said) == 1, said
    assert said[0] == (
        f"tune(): experiment quad in {store.uri} was deleted while this run read it (another process deleted it): "
        "this run starts it as a new experiment, from its first trial"
    )
