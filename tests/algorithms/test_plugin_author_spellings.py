"""What a plug-in author writes, spelt one way where two families meet: the setting helpers' bounds
(``int_setting(minimum=)`` beside ``float_setting(at_least=)``: an author's
``float_setting("step", 0.1, minimum=0.0)`` left the whole plug-in out with a TypeError), and the
early-stopping family's ``register`` beside the algorithms' one in ``kfp_tune.algorithms``."""

from __future__ import annotations

import pytest

from kfp_tune.core.catalogue import float_setting, int_setting


def _refusal(setting, text: str) -> str:
    with pytest.raises(ValueError) as caught:
        setting.parse(text)
    return str(caught.value)


def test_minimum_and_maximum_bound_both_number_helpers_inclusively():
    step = float_setting("step_fraction", 0.1, minimum=0.0, maximum=1.0)
    assert [step.parse(text) for text in ("0", "0.5", "1")] == [0.0, 0.5, 1.0]
    assert _refusal(step, "-0.1") == "expected a number >= 0.0, got -0.1"
    assert _refusal(step, "1.5") == "expected a number <= 1.0, got 1.5"
    rounds = int_setting("rounds", 3, minimum=1, maximum=10)
    assert [rounds.parse(text) for text in ("1", "10")] == [1, 10]
    assert _refusal(rounds, "0") == "expected an integer >= 1, got 0"
    assert _refusal(rounds, "11") == "expected an integer <= 10, got 11"


def test_the_strict_and_inclusive_float_keywords_still_work_as_before():
    rate = float_setting("rate", 0.5, greater_than=0, less_than=1)
    assert rate.parse("0.5") == 0.5 and _refusal(rate, "0") == "expected a number > 0, got 0.0" and _refusal(rate, "1") == "expected a number < 1, got 1.0"
    share = float_setting("share", 0.5, at_least=0, at_most=1)
    assert share.parse("1") == 1.0 and _refusal(share, "1.5") == "expected a number <= 1, got 1.5"


@pytest.mark.parametrize(("given", "bound"), [({"minimum": 0.0, "at_least": 0.0}, "minimum"), ({"maximum": 1.0, "at_most": 2.0}, "maximum")])
def test_a_float_bound_given_under_both_its_names_is_refused_naming_both(given, bound):
    with pytest.raises(TypeError, match=f"float_setting\\('x'\\): {bound}= and {'at_least' if bound == 'minimum' else 'at_most'}= "
                                        "are the same bound: give one"):
        float_setting("x", 0.5, **given)


def test_the_early_stopping_register_is_offered_beside_the_algorithms_one():
    from kfp_tune import algorithms
    from kfp_tune.algorithms import early_stopping

    assert algorithms.register_early_stopping is early_stopping.register
    assert "register_early_stopping" in algorithms.__all__
