"""Boundaries of validation that a user meets when sizing an experiment: the trial counts,
the name's length, TPE's candidate count and hyperband's brackets. Each limit itself is
accepted and one past it refused, at the field that holds it. The numbers are the ones Katib
or docs/guide.md states (Kubernetes names of at most 63 characters, Katib's hyperband
default eta 3 and brackets floor(log_eta(r_l)) + 1, "hyperband at most 20 brackets with
r_l >= 1; TPE at most 100,000 candidates")."""

from __future__ import annotations

import re
from typing import Any

from conftest import quadratic_experiment, validation_errors
from kfp_tune.core.errors import FieldError

SETTINGS = "spec.algorithm.algorithmSettings"


def messages_at(errors: list[FieldError], path: str) -> list[str]:
    return [e.message for e in errors if e.path == path]


# --- trial counts (Katib's validator.go: maxTrialCount "must be greater than 0") ------------


def test_a_single_trial_is_a_valid_budget() -> None:
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    assert validation_errors(doc) == []


def test_no_max_trial_count_is_valid_and_bounds_nothing() -> None:
    """Katib's maxTrialCount is optional: without it the other counts have nothing to exceed."""
    doc = quadratic_experiment()
    del doc["spec"]["maxTrialCount"]
    doc["spec"]["parallelTrialCount"] = 50
    assert validation_errors(doc) == []


def test_a_zero_max_trial_count_is_one_error_not_three() -> None:
    """0 is refused at maxTrialCount itself; the other counts are not also said to exceed it."""
    errors = validation_errors(quadratic_experiment(**{"spec.maxTrialCount": 0}))
    assert [e.path for e in errors] == ["spec.maxTrialCount"]
    assert "more than 0" in errors[0].message


def test_a_parallel_count_left_to_katibs_default_says_so_when_it_exceeds_the_budget() -> None:
    """``maxTrialCount: 2`` alone: Katib's default parallelTrialCount 3 is more, refused (Katib's
    mutating webhook defaults it before its validator refuses it too). The message said "got 3"
    of a field the user never wrote; one they wrote is refused as before."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2})
    doc["spec"].pop("parallelTrialCount", None)
    assert [str(e) for e in validation_errors(doc)] == [
        "spec.parallelTrialCount: expected at most spec.maxTrialCount (2), got 3, Katib's default when it is not given: set it"
    ]
    doc["spec"]["parallelTrialCount"] = 3
    assert [str(e) for e in validation_errors(doc)] == ["spec.parallelTrialCount: expected at most spec.maxTrialCount (2), got 3"]


# --- experiment name (a Kubernetes DNS-1123 label: at most 63 characters) -----------------


def test_a_name_of_63_characters_is_accepted_and_64_refused() -> None:
    assert validation_errors(quadratic_experiment(**{"metadata.name": "a" * 63})) == []
    [message] = messages_at(validation_errors(quadratic_experiment(**{"metadata.name": "a" * 64})), "metadata.name")
    assert "63 characters" in message


def test_a_refused_name_is_quoted_back() -> None:
    [message] = messages_at(validation_errors(quadratic_experiment(**{"metadata.name": "Quad_Run"})), "metadata.name")
    assert "got 'Quad_Run'" in message


# --- TPE's candidates ----------------------------------------------------------------------


def tpe(setting: str, value: int) -> dict[str, Any]:
    """A tpe experiment with the setting second in the list, so its path index is 1."""
    return quadratic_experiment(
        **{"spec.algorithm": {"algorithmName": "tpe", "algorithmSettings": [{"name": "random_state", "value": "7"}, {"name": setting, "value": str(value)}]}}
    )


def test_both_spellings_of_the_candidate_count_are_limited_at_100000() -> None:
    for setting in ("n_ei_candidates", "n_EI_candidates"):
        assert validation_errors(tpe(setting, 100_000)) == [], setting
        errors = validation_errors(tpe(setting, 100_001))
        [message] = messages_at(errors, f"{SETTINGS}[1].value")
        assert setting in message and "100000" in message and "100001" in message
        assert len(errors) == 1, errors


# --- hyperband's brackets --------------------------------------------------------------------


def hyperband(settings: dict[str, str], epochs: dict[str, str] | None = None) -> dict[str, Any]:
    """A hyperband experiment whose resource parameter is ``epochs`` (after ``x``)."""
    space = epochs if epochs is not None else {"min": "1", "max": "9"}
    doc = quadratic_experiment(
        **{"spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [{"name": k, "value": v} for k, v in settings.items()]}}
    )
    doc["spec"]["parameters"] = [
        {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
        {"name": "epochs", "parameterType": "int", "feasibleSpace": space},
    ]
    doc["spec"]["trialTemplate"]["trialParameters"] = [{"name": "x", "reference": "x"}, {"name": "y", "reference": "epochs"}]
    return doc


def test_hyperband_brackets_are_limited_at_20_where_r_l_is_given() -> None:
    """eta 2: r_l 2**19 makes 20 brackets, 2**20 makes 21 (exact powers, no rounding)."""
    assert validation_errors(hyperband({"resource_name": "epochs", "eta": "2", "r_l": str(2**19)})) == []
    errors = validation_errors(hyperband({"resource_name": "epochs", "eta": "2", "r_l": str(2**20)}))
    [message] = messages_at(errors, f"{SETTINGS}[2].value")
    assert "21 brackets" in message and "at most 20" in message
    assert len(errors) == 1, errors


def test_hyperband_counts_brackets_as_katib_and_the_schedule_do_with_the_default_eta_of_3() -> None:
    """The limit counts the brackets the schedule has, which are Katib's (int(log(r_l) /
    log(eta)) + 1, float rounding included): log(3**20) / log(3) falls a hair below 20, so r_l
    3**20 has 20 brackets, as in Katib, and 3**21 has 22, over the limit."""
    from kfp_tune.algorithms.hyperband import schedule

    assert validation_errors(hyperband({"resource_name": "epochs", "r_l": str(3**20)})) == []
    assert len(schedule(3**12, 3)) == 13 and len(schedule(1000, 10)) == 3  # the schedule's own count (Katib: 1000, 10 gives 3)
    [message] = messages_at(validation_errors(hyperband({"resource_name": "epochs", "r_l": str(3**21)})), f"{SETTINGS}[1].value")
    assert "22 brackets" in message


def test_the_bracket_limit_at_eta_10() -> None:
    """r_l 10**20, eta 10: log(10**20) / log(10) is exactly 20 in floating point, 21 brackets, refused."""
    [message] = messages_at(validation_errors(hyperband({"resource_name": "epochs", "eta": "10", "r_l": str(10**20)})), f"{SETTINGS}[2].value")
    assert "21 brackets" in message


def test_without_r_l_the_brackets_come_from_the_resource_parameters_max() -> None:
    assert validation_errors(hyperband({"resource_name": "epochs", "eta": "2"}, {"min": "1", "max": str(2**19)})) == []
    errors = validation_errors(hyperband({"resource_name": "epochs", "eta": "2"}, {"min": "1", "max": str(2**20)}))
    [message] = messages_at(errors, SETTINGS)  # no setting to point at: the settings list itself
    assert "21 brackets" in message and "not set" in message and "'epochs'" in message
    assert len(errors) == 1, errors


def test_r_l_of_1_is_accepted_and_below_1_refused_naming_r_l() -> None:
    assert validation_errors(hyperband({"resource_name": "epochs", "r_l": "1"})) == []
    errors = validation_errors(hyperband({"resource_name": "epochs", "r_l": "0.5"}))
    [message] = messages_at(errors, f"{SETTINGS}[1].value")
    assert re.search(r"\br_l\b", message) and "at least 1" in message and "0.5" in message


def test_a_resource_max_below_1_is_refused_naming_the_parameter() -> None:
    errors = validation_errors(hyperband({"resource_name": "epochs"}, {"min": "0", "max": "0.5"}))
    [message] = [e.message for e in errors if "at least 1" in e.message]
    assert "'epochs'" in message and "not set" in message
    assert [e.path for e in errors if "at least 1" in e.message] == [SETTINGS]


def test_a_resource_problem_reported_elsewhere_is_not_also_a_bracket_problem() -> None:
    """An r_l that cannot be known (no such parameter, or no max) is one error at its cause, not a
    made-up bracket count (eta 2, the smallest Katib admits, makes the most brackets)."""
    for settings, epochs, cause in (
        ({"resource_name": "epoch", "eta": "2"}, None, SETTINGS),
        ({"resource_name": "epochs", "eta": "2"}, {"min": "1"}, "spec.parameters[1].feasibleSpace.max"),
    ):
        errors = validation_errors(hyperband(settings, epochs))
        assert [e.path for e in errors] == [cause], errors
        assert not any("brackets" in e.message for e in errors)


def test_only_hyperband_lets_its_resource_parameter_have_min_equal_to_max() -> None:
    """As in Katib's hyperband example the resource may be fixed (r_l sets its range); a
    resource_name given to another algorithm is an unknown setting and exempts nothing."""
    doc = hyperband({"resource_name": "epochs", "r_l": "9"}, {"min": "9", "max": "9"})
    assert validation_errors(doc) == []
    doc["spec"]["algorithm"]["algorithmName"] = "random"
    paths = [e.path for e in validation_errors(doc)]
    assert "spec.parameters[1].feasibleSpace.min" in paths and f"{SETTINGS}[0].name" in paths


def test_an_infinite_resource_max_is_the_parameters_own_error_not_a_crash(tmp_path, capsys) -> None:
    """A resource max of 1e400 or inf (no r_l) made r_l infinite and validate ended in an
    OverflowError, exit 1; the max is refused at the parameter, exit 2, and no bracket count made up."""
    import yaml

    from kfp_tune.cli import main

    for maximum in ("1e400", "inf", "1" + "0" * 400):
        errors = validation_errors(hyperband({"resource_name": "epochs"}, {"min": "1", "max": maximum}))
        assert [e.path for e in errors] == ["spec.parameters[1].feasibleSpace.max"], errors
        assert "expected a finite number" in errors[0].message
    path = tmp_path / "hb.yaml"
    path.write_text(yaml.safe_dump(hyperband({"resource_name": "epochs"}, {"min": "1", "max": "1e400"})))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "spec.parameters[1].feasibleSpace.max: expected a finite number, got '1e400'" in err and "OverflowError" not in err


def test_a_huge_finite_r_l_or_eta_is_a_bracket_count_or_accepted() -> None:
    """The other limits on the edge of floats: r_l 1e308 is 646 brackets (refused, no overflow);
    eta 1e308 makes one bracket; an infinite r_l or eta is refused at the setting."""
    [message] = messages_at(validation_errors(hyperband({"resource_name": "epochs", "r_l": "1e308"})), f"{SETTINGS}[1].value")
    assert "646 brackets" in message
    assert validation_errors(hyperband({"resource_name": "epochs", "eta": "1e308"})) == []
    for setting in ("r_l", "eta"):
        [message] = messages_at(validation_errors(hyperband({"resource_name": "epochs", setting: "1e400"})), f"{SETTINGS}[1].value")
        assert "expected a finite number" in message
