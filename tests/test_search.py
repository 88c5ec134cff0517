"""kfp_tune.search: the helpers that write Katib's feasibleSpace, as a notebook calls them
(numpy numbers, Katib's SDK keywords), and their refusals naming the helper."""

from __future__ import annotations

import numpy as np
import pytest

from kfp_tune import search, tune
from kfp_tune.api import TuneArgumentError


def test_numpy_numbers_are_written_as_the_numbers_they_are():
    """numpy 2's repr of a float is np.float64(0.1): it was written into the space and refused
    as 'expected a finite number'."""
    assert (search.double(np.float64(0.0), np.float32(0.5)).feasible_space.min, search.double(np.float64(0.0), np.float32(0.5)).feasible_space.max) == ("0.0", "0.5")
    assert search.discrete(np.linspace(0, 1, 3)).feasible_space.list == ["0.0", "0.5", "1.0"]
    assert search.int(np.int64(1), np.int32(5), step=np.int64(2)).feasible_space.model_dump(include={"min", "max", "step"}) == {"min": "1", "max": "5", "step": "2"}


def test_numpy_float32_values_are_written_as_katibs_sdk_writes_them():
    """Katib's SDK writes str(value): '0.1' for np.float32(0.1), whose float64 widening
    ('0.10000000149011612') was written before."""
    space = search.double(np.float32(0.1), np.float32(0.7), step=np.float32(0.2)).feasible_space
    assert (space.min, space.max, space.step) == ("0.1", "0.7", "0.2")
    assert search.discrete(np.array([0.1, 0.3], dtype=np.float32)).feasible_space.list == ["0.1", "0.3"]
    assert search.discrete([np.float16(0.1), 0.1, 1e16]).feasible_space.list == ["0.1", "0.1", "1e+16"]


def test_a_tune_over_numpy_bounds_runs(tmp_path):
    result = tune(lambda p: p["x"], {"x": search.double(np.float64(0.25), np.float64(0.75))}, algorithm="random",
                  algorithm_settings={"random_state": 1}, max_trial_count=2, store=str(tmp_path))
    assert result.status == "Succeeded" and all(0.25 <= t.parameters["x"] <= 0.75 for t in result.trials)


def test_categorical_takes_katibs_list_keyword_and_refuses_a_single_value():
    assert search.categorical(list=["sgd", "adam"]) == search.categorical(["sgd", "adam"])
    with pytest.raises(TypeError, match=r"search\.categorical: expected a list of values, got str 'abc'"):
        search.categorical("abc")  # its letters became the values
    with pytest.raises(TypeError, match=r"search\.discrete: expected a list of values, got int 5"):
        search.discrete(5)
    with pytest.raises(TypeError, match=r"search\.categorical: give the values once"):
        search.categorical(["a"], list=["b"])


def test_the_same_number_twice_in_a_discrete_space_is_refused(tmp_path):
    with pytest.raises(TuneArgumentError, match=r"parameters\['x'\]\.list\[1\] .*: value '1\.0' is the number '1' again"):
        tune(lambda p: 1.0, {"x": search.discrete([1, 1.0])}, max_trial_count=1, store=str(tmp_path))
    assert not (tmp_path / "experiments").exists()


def test_star_import_gives_the_katib_sdk_names_int_included():
    """Katib's SDK is used as ``from kubeflow.katib import search``; a notebook's ``import *``
    gets these and no helper or typing name."""
    assert set(search.__all__) == {"categorical", "discrete", "double", "fixed_values", "int", "is_searched", "to_parameters"}
    names = {name: getattr(search, name) for name in search.__all__}  # what `import *` binds, __all__ being defined
    assert names["int"] is search.int and names["int"] is not int
