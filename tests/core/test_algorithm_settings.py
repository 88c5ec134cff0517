"""``algorithmSettings`` are parsed as Katib parses them: each kind of setting accepts what it
should, refuses the rest saying what it expected, and bounds are exclusive or inclusive as
declared. The setting builders are tested directly (the catalogue calls them once, at import)
and through ``parse_settings``, which every experiment's validation goes through."""

from __future__ import annotations

import pytest

from kfp_tune.core.catalogue import CatalogueEntry, choice_setting, float_setting, int_setting, parse_settings, str_setting


def refusal(setting, text: str) -> str:
    with pytest.raises(ValueError) as info:
        setting.parse(text)
    return str(info.value)


def test_an_int_setting():
    n = int_setting("n", 10, minimum=1, help="how many")
    assert (n.name, n.default, n.help) == ("n", 10, "how many")
    assert n.parse("1") == 1 and n.parse("42") == 42, "the minimum itself is allowed"
    assert refusal(n, "0") == "expected an integer >= 1, got 0"
    assert refusal(n, "2.5") == "expected an integer, got '2.5'"
    assert int_setting("seed").parse("-3") == -3, "no minimum, no bound"


def test_a_float_setting_with_exclusive_bounds():
    gamma = float_setting("gamma", 0.25, greater_than=0.0, less_than=1.0)
    assert (gamma.name, gamma.default) == ("gamma", 0.25)
    assert gamma.parse("0.5") == 0.5 and gamma.parse("1e-9") == 1e-9
    assert refusal(gamma, "0") == "expected a number > 0.0, got 0.0"
    assert refusal(gamma, "1") == "expected a number < 1.0, got 1.0"
    assert refusal(gamma, "-0.5") == "expected a number > 0.0, got -0.5"
    assert refusal(gamma, "fast") == "expected a number, got 'fast'"
    unbounded = float_setting("xi", help="exploration")
    assert unbounded.parse("-1e300") == -1e300 and unbounded.help == "exploration"


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "Infinity"])
def test_a_float_setting_refuses_what_is_not_finite(text: str):
    assert refusal(float_setting("kappa"), text) == f"expected a finite number, got {text!r}"


def test_a_choice_setting():
    estimator = choice_setting("base_estimator", ("GP", "RF"), "GP", help="the surrogate")
    assert (estimator.name, estimator.default, estimator.help) == ("base_estimator", "GP", "the surrogate")
    assert estimator.parse("RF") == "RF"
    assert refusal(estimator, "gp") == "expected one of ['GP', 'RF'], got 'gp'; values are case-sensitive: 'GP'"


def test_a_string_setting():
    resource = str_setting("resource_name", "epochs", help="the budget parameter")
    assert (resource.name, resource.default, resource.help) == ("resource_name", "epochs", "the budget parameter")
    assert resource.parse("epochs") == "epochs"
    assert refusal(resource, "") == "expected a non-empty string"


ENTRY = CatalogueEntry("tpe-like", (float_setting("gamma", 0.25, greater_than=0.0, less_than=1.0), int_setting("n_startup_trials", 10, minimum=0)))


def test_parse_settings_fills_in_defaults_and_parses_what_is_given():
    values, errors = parse_settings(ENTRY, [("n_startup_trials", "3")], "spec.algorithm.algorithmSettings")
    assert values == {"gamma": 0.25, "n_startup_trials": 3} and errors == []
    assert ENTRY.settings_by_name["gamma"].default == 0.25


def test_parse_settings_reports_every_problem_with_its_path():
    given = [("gamma", "2"), ("gama", "0.5"), ("n_startup_trials", "3"), ("n_startup_trials", "4")]
    values, errors = parse_settings(ENTRY, given, "spec.algorithm.algorithmSettings")
    assert errors == [
        ("spec.algorithm.algorithmSettings[0].value", "gamma: expected a number < 1.0, got 2.0"),
        ("spec.algorithm.algorithmSettings[1].name", "unknown setting 'gama' for tpe-like; did you mean 'gamma'? (known: gamma, n_startup_trials)"),
    ]
    assert values["n_startup_trials"] == 4, "the last of a repeated setting is the one kept, as each of Katib's services reads them"
    _, none_known = parse_settings(CatalogueEntry("grid-like"), [("x", "1")], "p")
    assert none_known == [("p[0].name", "unknown setting 'x' for grid-like (known: none)")]


def test_katib_s_inclusive_bounds_are_said_as_they_are():
    """pbt's resample_probability is checked as Katib's service does, 0 <= p <= 1, and
    bayesianoptimization's xi is at least 0: the messages give those bounds, not a tolerance."""
    from kfp_tune.core.catalogue import ALGORITHMS

    def setting(algorithm: str, name: str):
        return next(s for s in ALGORITHMS[algorithm].settings if s.name == name)

    resample, xi = setting("pbt", "resample_probability"), setting("bayesianoptimization", "xi")
    assert resample.parse("0") == 0.0 and resample.parse("1") == 1.0
    assert refusal(resample, "1.5") == "expected a number <= 1.0, got 1.5"
    assert refusal(resample, "-0.5") == "expected a number >= 0.0, got -0.5"
    assert xi.parse("0") == 0.0
    assert refusal(xi, "-1") == "expected a number >= 0.0, got -1.0"
