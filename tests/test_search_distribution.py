"""``search.int``'s ``distribution`` (kfp-tune's, beside Katib SDK's arguments; Katib's
``feasibleSpace.distribution``, pkg/apis/controller/experiments/v1beta1/experiment_types.go ``FeasibleSpace``): kept in
the parameter's feasible space and followed by the draws, as for ``search.double``."""

from __future__ import annotations

import pytest

from kfp_tune import search, tune


@pytest.mark.parametrize("helper", [search.int, search.double])
@pytest.mark.parametrize("distribution", ["uniform", "logUniform", "normal", "logNormal"])
def test_the_distribution_given_is_the_feasible_spaces(helper, distribution):
    spec = helper(1, 100, distribution=distribution)
    assert spec.feasible_space.distribution == distribution
    [parameter] = search.to_parameters({"n": spec})
    assert parameter.to_dict()["feasibleSpace"]["distribution"] == distribution


def test_a_log_uniform_int_is_drawn_on_a_log_scale(tmp_path):
    """Over 1 to 10000, a log-uniform draw is below 1000 three times in four, a uniform one once
    in ten: 20 random trials, seeded, land mostly below 1000 only on the log scale."""
    result = tune(
        lambda p: float(p["n"]), {"n": search.int(1, 10000, distribution="logUniform")}, algorithm="random",
        algorithm_settings={"random_state": 7}, max_trial_count=20, store=str(tmp_path),
    )
    drawn = [t.parameters["n"] for t in result.trials]
    assert len(drawn) == 20 and all(1 <= n <= 10000 for n in drawn)
    assert sum(n < 1000 for n in drawn) >= 10, drawn
