"""A plug-in's names: a new algorithm or early-stopping rule declared with its settings (Katib's
custom algorithm names), a takeover of a Katib name that keeps Katib's settings and checks, and
the contract suites' clear refusal of a suite whose plug-in was not imported."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from conftest import quadratic_experiment, validation_errors
from kfp_tune.algorithms import early_stopping, registry
from kfp_tune.algorithms.early_stopping import MedianStop
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.algorithms.testing import AlgorithmContract, EarlyStoppingContract
from kfp_tune.core import catalogue
from kfp_tune.core.catalogue import int_setting
from kfp_tune.core.loading import load_experiment
from kfp_tune.steps.prepare import runnable_problems


def _no_odd_x(parameters, settings):
    return [("spec.parameters", f"my-algo needs at most {settings['limit']} parameters")] if len(parameters) > settings["limit"] else []


def test_a_new_algorithm_name_is_validated_with_its_own_settings_and_check(clean_plugin_registries):
    registry.register("my-algo", RandomSearch, settings=[int_setting("limit", 5, minimum=1)], check_problem=_no_odd_x, help="a test's")
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "my-algo", "algorithmSettings": [{"name": "limit", "value": "2"}]}})
    experiment = load_experiment(doc)
    assert runnable_problems(experiment) == []
    assert registry.create("my-algo", {"limit": 2}) is not None
    bad = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "my-algo", "algorithmSettings": [{"name": "limit", "value": "0"}]}})
    assert [(e.path, e.message) for e in validation_errors(bad)] == [("spec.algorithm.algorithmSettings[0].value", "limit: expected an integer >= 1, got 0")]
    too_many = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "my-algo", "algorithmSettings": [{"name": "limit", "value": "1"}]}})
    assert [e.message for e in validation_errors(too_many)] == ["my-algo needs at most 1 parameters"]
    unknown = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "my-algo", "algorithmSettings": [{"name": "gamma", "value": "1"}]}})
    assert "unknown setting 'gamma' for my-algo (known: limit)" in validation_errors(unknown)[0].message


def test_a_new_name_needs_its_settings_so_a_misspelt_katib_name_is_not_a_new_one(clean_plugin_registries):
    with pytest.raises(ValueError, match=r"'radnom' is not a Katib algorithm name \(known: .*random.*\); to add a new one, pass its settings"):
        registry.register("radnom", RandomSearch)
    with pytest.raises(ValueError, match="algorithm name 'My Algo': expected 1-63 lower case letters"):
        registry.register("My Algo", RandomSearch, settings=())
    with pytest.raises(TypeError, match=r"settings must be a list of kfp_tune\.core\.catalogue\.Setting"):
        registry.register("my-algo", RandomSearch, settings=["limit"])  # type: ignore[list-item]
    assert "radnom" not in catalogue.ALGORITHMS and "my-algo" not in catalogue.ALGORITHMS


def test_a_takeover_of_a_katib_name_keeps_katibs_settings_and_checks(clean_plugin_registries):
    with pytest.raises(ValueError, match="'grid' is a Katib algorithm name: a plug-in that takes it over keeps Katib's settings and checks"):
        registry.register("grid", RandomSearch, settings=())
    entry = catalogue.ALGORITHMS["grid"]
    registry.register("grid", RandomSearch)
    assert catalogue.ALGORITHMS["grid"] is entry
    assert isinstance(registry.create("grid", {}), RandomSearch)
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "grid"}})  # doubles without a step
    assert validation_errors(doc)[0].message == "grid needs a step for every double parameter"


def test_a_takeover_of_hyperband_without_its_space_adjuster_searches_the_specs_space(clean_plugin_registries):
    registry.register("hyperband", RandomSearch)
    space = catalogue.experiment_space(load_experiment(quadratic_experiment()).spec)
    assert registry.problem_space("hyperband", space, {"resource_name": "x"}) is space


class _NeverStop:
    name = "never"

    def __init__(self, settings):
        self.settings = settings

    def should_stop(self, objective_type, completed, current):
        return False


def test_a_new_early_stopping_rule_is_validated_and_runnable(clean_plugin_registries):
    early_stopping.register("never", _NeverStop, settings=[int_setting("patience", 3, minimum=0)], help="stops no trial")
    assert catalogue.EARLY_STOPPING["never"].help == "stops no trial"
    doc = quadratic_experiment(**{"spec.earlyStopping": {"algorithmName": "never", "algorithmSettings": [{"name": "patience", "value": "2"}]}})
    assert runnable_problems(load_experiment(doc)) == []
    assert early_stopping.create("never", {"patience": 2}).settings == {"patience": 2}  # type: ignore[attr-defined]
    bad = quadratic_experiment(**{"spec.earlyStopping": {"algorithmName": "never", "algorithmSettings": [{"name": "patience", "value": "-1"}]}})
    assert [e.message for e in validation_errors(bad)] == ["patience: expected an integer >= 0, got -1"]


def test_early_stopping_takeovers_keep_katibs_settings_and_new_names_need_theirs(clean_plugin_registries):
    with pytest.raises(ValueError, match="'medianstop' is Katib's early-stopping name: a plug-in that takes it over keeps Katib's settings"):
        early_stopping.register("medianstop", _NeverStop, settings=())
    with pytest.raises(ValueError, match=r"'medainstop' is not a Katib early-stopping name \(known: medianstop\)"):
        early_stopping.register("medainstop", _NeverStop)
    early_stopping.register("medianstop", _NeverStop)
    assert isinstance(early_stopping.create("medianstop", {}), _NeverStop)
    assert catalogue.EARLY_STOPPING["medianstop"].settings_by_name.keys() == {"min_trials_required", "start_step"}


def test_a_factory_that_raises_key_error_is_not_taken_for_a_missing_rule(clean_plugin_registries):
    def broken(settings):
        raise KeyError("threshold")

    early_stopping.register("broken", broken, settings=())
    with pytest.raises(KeyError, match="threshold"):
        early_stopping.create("broken", {})


class TestMedianStopKeepsTheEarlyStoppingContract(EarlyStoppingContract):
    rule_name = "medianstop"
    settings: ClassVar[dict[str, Any]] = {"min_trials_required": 2, "start_step": 3}


def test_the_early_stopping_contract_fails_a_rule_that_stops_good_trials(clean_plugin_registries):
    class StopsEverything(MedianStop):
        def should_stop(self, objective_type, completed, current):
            return bool(current)

    early_stopping.register("stops-everything", StopsEverything, settings=catalogue.EARLY_STOPPING["medianstop"].settings)

    class Suite(EarlyStoppingContract):
        rule_name = "stops-everything"

    with pytest.raises(AssertionError, match="minimize: a trial better than every completed one was stopped at report 1"):
        Suite().test_a_trial_better_than_every_completed_one_is_never_stopped()


@pytest.mark.parametrize(
    ("suite", "message"),
    [
        (type("TestUnset", (AlgorithmContract,), {}), "TestUnset: set algorithm_name to the name your plug-in registers with kfp_tune.algorithms.register"),
        (
            type("TestMissing", (AlgorithmContract,), {"algorithm_name": "x"}),
            "TestMissing: 'x' is not registered: import your plug-in module (the one that calls kfp_tune.algorithms.register)",
        ),
        (type("TestUnsetRule", (EarlyStoppingContract,), {}), "TestUnsetRule: set rule_name to the name your plug-in registers with kfp_tune.algorithms.early_stopping.register"),
        (type("TestMissingRule", (EarlyStoppingContract,), {"rule_name": "x"}), "TestMissingRule: 'x' is not registered: import your plug-in module"),
    ],
    ids=["algorithm-unset", "algorithm-not-registered", "rule-unset", "rule-not-registered"],
)
def test_a_contract_suite_whose_plugin_is_not_imported_says_so_in_each_test(suite, message):
    tests = [name for name in dir(suite) if name.startswith("test_")]
    assert len(tests) >= 4
    for name in tests:
        with pytest.raises(AssertionError) as caught:
            getattr(suite(), name)()
        assert message in str(caught.value), name
