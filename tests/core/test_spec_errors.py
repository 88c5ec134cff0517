"""An experiment that does not fit Katib's v1beta1 schema is refused with one line per problem,
each at its Katib-style field path and saying what was expected and what was given, and a
value quoted in a message never grows with the input."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import SHOWN_LIMIT, FieldError, SpecError, shown
from kfp_tune.core.loading import load_experiment


def problems(doc: dict) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    return [str(e) for e in info.value.errors]


def test_every_problem_is_listed_under_one_heading():
    doc = quadratic_experiment(**{"spec.maxTrialCount": "many"})
    doc["spec"]["bogus"] = 1
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    assert str(info.value) == (
        "invalid experiment (2 error(s)):\n"
        "  spec.maxTrialCount: expected an integer, got 'many'\n"
        "  spec.bogus: unknown field (not part of Katib's v1beta1 Experiment)"
    )
    assert info.value.errors[1] == FieldError("spec.bogus", "unknown field (not part of Katib's v1beta1 Experiment)")


def test_a_misspelt_field_is_told_the_name_it_is_close_to_among_its_neighbours():
    """A daily-use QA pass: `spec.paralelTrialCount: unknown field` named no field, where a
    mistyped experiment or trial name is told the closest. The names offered are the fields of
    the object the typo is in (a parameter's feasibleSpace, not the spec's), none when nothing is close."""
    doc = quadratic_experiment()
    doc["spec"]["paralelTrialCount"] = doc["spec"].pop("parallelTrialCount", 1)
    doc["spec"]["objective"]["aditionalMetricNames"] = ["acc"]
    doc["spec"]["parameters"][0]["feasibleSpce"] = doc["spec"]["parameters"][0].pop("feasibleSpace")
    doc["spec"]["parameters"][1]["feasibleSpace"]["stepp"] = "0.1"
    doc["spec"]["bogus"] = 1
    unknown = "unknown field (not part of Katib's v1beta1 Experiment)"
    assert sorted(problems(doc)) == sorted([
        f"spec.paralelTrialCount: {unknown}; did you mean parallelTrialCount?",
        f"spec.objective.aditionalMetricNames: {unknown}; did you mean additionalMetricNames?",
        f"spec.parameters[0].feasibleSpce: {unknown}; did you mean feasibleSpace?",
        f"spec.parameters[1].feasibleSpace.stepp: {unknown}; did you mean step?",
        f"spec.bogus: {unknown}",
    ])


def test_a_missing_field_is_required_at_its_path_in_a_list():
    doc = quadratic_experiment()
    del doc["spec"]["parameters"][1]["name"]
    assert "spec.parameters[1].name: required" in problems(doc)


def test_a_fixed_value_says_which_it_expected():
    assert problems(quadratic_experiment(**{"apiVersion": "kubeflow.org/v2"})) == ["apiVersion: expected 'kubeflow.org/v1beta1', got 'kubeflow.org/v2'"]


def test_a_value_of_the_wrong_type_says_what_it_got():
    doc = quadratic_experiment()
    doc["spec"]["parameters"][0]["feasibleSpace"]["min"] = [1]
    [problem] = problems(doc)
    assert problem == "spec.parameters[0].feasibleSpace.min: expected a string, got [1]"


def test_a_problem_at_the_top_is_at_the_root():
    with pytest.raises(SpecError) as info:
        load_experiment("- just\n- a list\n")
    assert [e.path for e in info.value.errors] == ["(root)"]


def test_a_quoted_value_is_cut_to_a_bounded_length():
    assert shown("short") == "'short'"
    assert len(shown("y" * 10_000)) <= SHOWN_LIMIT and len(shown(list(range(100_000)))) <= SHOWN_LIMIT
    at_the_limit = ["a" * 36] * 4  # its repr is exactly SHOWN_LIMIT characters
    assert len(repr(at_the_limit)) == SHOWN_LIMIT and shown(at_the_limit) == repr(at_the_limit)
    over = ["a" * 37] + ["a" * 36] * 3
    cut = shown(over)
    assert len(cut) == SHOWN_LIMIT and cut == repr(over)[: SHOWN_LIMIT - 3] + "..."


def test_an_unquoted_yes_for_a_number_keeps_the_hint_to_quote_it():
    """``min: yes`` is the boolean true to kubectl's YAML reader: refused as no string, with the
    hint that says why (not 'got None', as if the field were left out)."""
    doc = quadratic_experiment()
    doc["spec"]["parameters"][0]["feasibleSpace"]["min"] = True
    [problem] = problems(doc)
    assert problem == (
        "spec.parameters[0].feasibleSpace.min: expected a string, got True "
        "(kubectl reads y, yes, on, n, no and off unquoted as booleans, as kfp-tune does: quote the text)"
    )
