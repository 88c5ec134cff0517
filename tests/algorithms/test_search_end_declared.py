"""What an algorithm does at the end of its search space is declared once, where it is registered
(``register(..., ends=...)``), and read from there by ``KatibClient.tune`` (whether a call without
``max_trial_count`` would end) and by the refusal of a restart (what the experiment ran out of).
``KatibClient.tune`` kept its own lists of the built-ins' names, so a plug-in that does end was
told it "never runs out of points", and a takeover of ``random`` that never ends was let through."""

from __future__ import annotations

import pytest

from kfp_tune import search
from kfp_tune.algorithms import registry
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.algorithms.space_tools import BuiltinAlgorithm
from kfp_tune.core.catalogue import ALGORITHMS


def prints_a(parameters):
    print(f"a={parameters['x']}")


def never_called(parameters):
    raise AssertionError("no trial runs: the call is refused first")


def test_every_builtin_declares_how_it_ends_and_the_samplers_that_hand_over_a_finite_space_say_so():
    declared = {name: registry.search_end(name) for name in registry.implemented()}
    assert None not in declared.values(), declared
    assert {name for name, end in declared.items() if end == "after-its-schedule"} == {"grid", "hyperband", "darts"}
    assert {name for name, end in declared.items() if end == "never"} == {"pbt"}
    for name, end in declared.items():  # a parameter-space sampler ends on a finite space exactly when it is a BuiltinAlgorithm
        if not ALGORITHMS[name].trial_values and end != "after-its-schedule":
            assert (end == "on-a-finite-space") == isinstance(registry.create(name, {}), BuiltinAlgorithm), name


def test_a_plugin_that_declares_it_ends_on_a_finite_space_runs_katibs_tune_to_its_end_without_a_budget(katib, clean_plugin_registries):
    registry.register("my-descent", RandomSearch, settings=(), ends="on-a-finite-space")
    katib.tune(name="ends", objective=prints_a, parameters={"x": search.int(min=0, max=4)}, objective_metric_name="a",
               algorithm_name="my-descent", parallel_trial_count=1)
    experiment = katib.get_experiment("ends")
    assert experiment.status.trials_succeeded == 5
    assert experiment.status.conditions[-1].reason == "ExperimentSuggestionEndReached"


def test_a_plugin_that_declares_nothing_is_refused_without_a_budget_saying_kfp_tune_cannot_tell(katib, clean_plugin_registries):
    registry.register("my-descent", RandomSearch, settings=())
    with pytest.raises(ValueError, match="max_trial_count is required without a host") as caught:
        katib.tune(name="unknown", objective=never_called, parameters={"x": search.int(min=0, max=4)}, objective_metric_name="a",
                   algorithm_name="my-descent")
    message = str(caught.value)
    assert "never runs out of points" not in message and "would not end" not in message, message
    assert "algorithm 'my-descent' does not declare whether it ends on its own" in message, message
    assert "register(..., ends=...)" in message and "kfp-tune cannot tell whether it would end with no budget" in message, message
    assert katib.list_experiments() == []


def test_a_takeover_of_random_that_declares_nothing_is_not_taken_to_end_as_random_does(katib, clean_plugin_registries):
    registry.register("random", RandomSearch)
    assert registry.search_end("random") is None
    with pytest.raises(ValueError, match="algorithm 'random' does not declare whether it ends on its own"):
        katib.tune(name="takeover", objective=never_called, parameters={"x": search.int(min=0, max=4)}, objective_metric_name="a")


def test_a_plugin_that_never_ends_is_told_so(katib, clean_plugin_registries):
    registry.register("my-forever", RandomSearch, settings=(), ends="never")
    with pytest.raises(ValueError, match="algorithm 'my-forever' on this search space never runs out of points, so with no budget it would not end"):
        katib.tune(name="forever", objective=never_called, parameters={"x": search.int(min=0, max=4)}, objective_metric_name="a",
                   algorithm_name="my-forever")


def test_the_declaration_goes_with_the_factory_so_putting_a_factory_back_puts_its_declaration_back(clean_plugin_registries):
    builtin = registry._FACTORIES["random"]
    registry.register("random", RandomSearch, ends="never")
    assert registry.search_end("random") == "never"
    registry._FACTORIES["random"] = builtin  # as a test's registries are restored
    assert registry.search_end("random") == "on-a-finite-space"
    assert registry.search_end("no-such-algorithm") is None


@pytest.mark.parametrize("ends", ["finite", "on_a_finite_space", True, ""])
def test_an_unknown_declaration_is_refused_naming_the_field_and_the_values_expected(ends, clean_plugin_registries):
    with pytest.raises(ValueError) as caught:
        registry.register("my-descent", RandomSearch, settings=(), ends=ends)
    assert str(caught.value) == (f"register('my-descent', ends={ends!r}): expected 'after-its-schedule', 'on-a-finite-space', 'never' "
                                 "or None (not declared: kfp-tune cannot tell whether it ends)")
    assert not registry.is_implemented("my-descent")


def test_the_end_of_suggestions_of_a_plugin_is_said_from_its_declaration():
    """The refusal to restart an experiment that ended SuggestionEndReached said "every point of
    its search space was tried" of any algorithm but hyperband and darts."""
    from kfp_tune.steps.prepare import _nothing_left_to_suggest

    assert _nothing_left_to_suggest("random").startswith("every point of its search space was tried")
    assert _nothing_left_to_suggest("pbt").startswith("algorithm 'pbt' said it has nothing left to suggest")


def test_the_end_of_suggestions_of_an_undeclared_plugin_or_takeover_claims_nothing(clean_plugin_registries):
    from kfp_tune.steps.prepare import _nothing_left_to_suggest

    registry.register("my-descent", RandomSearch, settings=())
    registry.register("hyperband", RandomSearch)
    for name in ("my-descent", "hyperband"):
        said = _nothing_left_to_suggest(name)
        assert said.startswith(f"algorithm {name!r} said it has nothing left to suggest"), said
        assert "search space was tried" not in said and "brackets" not in said, said
        assert "kfp-tune cannot tell why" in said and "register(..., ends=...)" in said, said
    registry.register("my-descent", RandomSearch, settings=(), ends="on-a-finite-space")
    assert _nothing_left_to_suggest("my-descent").startswith("every point of its search space was tried")
    registry.register("my-schedule", RandomSearch, settings=(), ends="after-its-schedule")
    assert _nothing_left_to_suggest("my-schedule").startswith("algorithm 'my-schedule' ran its whole schedule: a new experiment runs it again")
