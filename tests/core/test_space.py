"""Search space values: parsing, formatting and exact round trips."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kfp_tune.core.space import Parameter


def test_stepped_double_prints_without_float_noise():
    p = Parameter("m", "double", 0.1, 0.9, step=0.1, decimals=1)
    assert [p.format(v) for v in p.grid()] == ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"]
    assert p.parse("0.3") == 0.3 and p.contains(0.3) and not p.contains(0.35)


def test_int_and_choice_parsing_refuses_what_is_not_theirs():
    k = Parameter("k", "int", 1, 5)
    assert k.parse("3") == 3 and k.format(3) == "3"
    for bad in ("3.5", "x", "nan"):
        try:
            k.parse(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} parsed as an int")
    c = Parameter("c", "categorical", choices=("a", "b"))
    assert c.parse("a") == "a" and not c.contains("z")


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.floats(min_value=1e-3, max_value=1e6))
def test_unstepped_double_round_trips_exactly(low, width):
    p = Parameter("x", "double", low, low + width)
    value = low + width / 3
    assert p.parse(p.format(value)) == value


def test_an_architecture_search_space_holds_the_values_its_algorithm_makes_as_text():
    """enas gives each trial an architecture and an nn_config, made whole by the algorithm: the
    space takes any string for them, keeps it verbatim, and has no grid to enumerate."""
    from kfp_tune.core.catalogue import experiment_space
    from kfp_tune.core.loading import load_experiment

    experiment = load_experiment(Path(__file__).parents[1] / "data" / "katib-examples" / "nas_enas-cpu.yaml")
    space = experiment_space(experiment.spec)
    assert space.names == ["architecture", "nn_config"]
    stored = {"architecture": "[[3], [0, 1]]", "nn_config": '{"num_layers": 2}'}
    assert space.parse(stored) == stored and space.format(stored) == stored
    assert space.contains(stored)
    assert not space.contains({"architecture": 3, "nn_config": "{}"})
    assert space["architecture"].count() is None
    assert space.key(stored) != space.key({**stored, "architecture": "[[4], [0, 1]]"})


def test_an_experiment_with_parameters_has_only_them_in_its_space():
    from kfp_tune.core.catalogue import experiment_space
    from kfp_tune.core.loading import load_experiment

    experiment = load_experiment(Path(__file__).parents[1] / "data" / "katib-examples" / "hp-tuning_random.yaml")
    assert experiment_space(experiment.spec).names == [p.name for p in experiment.spec.parameters]
