"""734377d made AlgorithmContract's ``covers_finite_space`` and ``ends_on_its_own`` read-only
properties (their default read from the registration), so a suite that set them on the instance,
in ``setup_method`` or from a fixture, as it could while they were plain class attributes, got
"AttributeError: property 'covers_finite_space' ... has no setter". Setting them in the class body
(the documented way) or on the class still wins; setting them on an instance now does too, for
that instance only; anything but True or False is refused naming the flag."""

from __future__ import annotations

import pytest

from kfp_tune.algorithms.testing import AlgorithmContract


class HyperbandSuite(AlgorithmContract):
    """hyperband declares ``ends="after-its-schedule"``: by default it does not cover a finite
    space and ends on its own."""

    algorithm_name = "hyperband"


class SetInSetupMethod(HyperbandSuite):
    def setup_method(self) -> None:
        self.covers_finite_space = True
        self.ends_on_its_own = False


class SetInTheClassBody(HyperbandSuite):
    covers_finite_space = True
    ends_on_its_own = False


def test_flags_set_on_the_instance_win_for_that_instance_only() -> None:
    suite = SetInSetupMethod()
    suite.setup_method()
    assert (suite.covers_finite_space, suite.ends_on_its_own) == (True, False)
    other = HyperbandSuite()
    assert (other.covers_finite_space, other.ends_on_its_own) == (False, True)


def test_flags_set_in_the_class_body_or_on_the_class_still_win() -> None:
    assert (SetInTheClassBody().covers_finite_space, SetInTheClassBody().ends_on_its_own) == (True, False)
    set_later = type("SetLater", (HyperbandSuite,), {})
    set_later.covers_finite_space = True
    assert set_later().covers_finite_space is True and HyperbandSuite().covers_finite_space is False


@pytest.mark.parametrize("flag", ["covers_finite_space", "ends_on_its_own"])
def test_a_flag_that_is_not_a_bool_is_refused_naming_it(flag: str) -> None:
    suite = HyperbandSuite()
    with pytest.raises(TypeError, match=rf"^AlgorithmContract\.{flag} is True or False, got 'yes' \(str\)$"):
        setattr(suite, flag, "yes")
