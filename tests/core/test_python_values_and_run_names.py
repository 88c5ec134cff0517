"""Two promises the Python API and recurring pipelines lean on: an objective function gets each
parameter as a Python value of its type (a discrete value as the number it is written as), and a
run that starts its own experiment gets a name of its own that a retried step of it shares."""

from __future__ import annotations

import re

import pytest

from kfp_tune.core.naming import per_run_experiment_name
from kfp_tune.core.space import Parameter, SearchSpace

DNS_1123 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize(
    ("text", "value"),
    [("16", 16), ("-3", -3), ("16.0", 16.0), ("0.5", 0.5), ("1e3", 1000.0), ("2E1", 20.0), ("1.5e-2", 0.015)],
)
def test_a_discrete_value_is_the_number_it_is_written_as(text: str, value: float):
    space = SearchSpace((Parameter("batch", "discrete", choices=(text,)),))
    got = space.to_python({"batch": text})["batch"]
    assert got == value and type(got) is type(value)


def test_other_parameters_keep_their_types():
    space = SearchSpace(
        (
            Parameter("lr", "double", low=0.0, high=1.0),
            Parameter("layers", "int", low=1, high=9),
            Parameter("optimizer", "categorical", choices=("adam", "16")),
        )
    )
    assert space.to_python({"lr": "0.25", "layers": "3", "optimizer": "16"}) == {"lr": 0.25, "layers": 3, "optimizer": "16"}
    assert type(space.to_python({"lr": "1", "layers": "3", "optimizer": "adam"})["lr"]) is float


def test_a_per_run_experiment_is_named_for_the_experiment_and_the_run():
    first = per_run_experiment_name("nightly-tune", "run-a")
    assert first.startswith("nightly-tune-") and DNS_1123.match(first)
    assert per_run_experiment_name("nightly-tune", "run-a") == first, "a retried step of the run gets the same experiment"
    assert per_run_experiment_name("nightly-tune", "run-b") != first, "another run gets another"
    assert len(first) == len("nightly-tune-") + 6


@pytest.mark.parametrize("max_length", [63, 40])
def test_a_per_run_experiment_name_fits_its_limit(max_length: int):
    name = per_run_experiment_name("a-very-long-experiment-name-" * 4, "run-" * 30, max_length)
    assert len(name) == max_length and DNS_1123.match(name)
    assert per_run_experiment_name("Short_Name", "r", max_length).startswith("short-name-")
