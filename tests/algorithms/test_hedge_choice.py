"""The hedge's choice among the EI, LCB and PI proposals: the lowest posterior mean where the
losses were judged noiseless (``fit_model``), the lowest value in one joint posterior draw where
they were judged noisy (``GaussianProcess.sample``), so that a search settled beside a peak that is not the
best can still leave it."""

from __future__ import annotations

import numpy as np
import pytest

from kfp_tune.algorithms.bayesopt import WARP_NOISE_LIMIT, GPBayesianOptimization, _Encoding
from kfp_tune.algorithms.gaussian_process import GaussianProcess
from kfp_tune.core.space import Parameter, SearchSpace, Value

SPACE = SearchSpace((Parameter("x", "double", 0.0, 1.0),))


def wiggle(x: np.ndarray) -> np.ndarray:
    return np.sin(6.0 * x[:, 0]) + x[:, 0]


def model_of(noise_sd: float, seed: int = 0) -> GaussianProcess:
    rng = np.random.default_rng([seed, 5])
    x = rng.random((30, 1))
    return GaussianProcess(x, wiggle(x) + noise_sd * rng.standard_normal(30), np.random.default_rng(seed))


def test_a_draw_has_the_posterior_mean_and_sd() -> None:
    model = model_of(0.2)
    rows = np.array([[0.1], [0.45], [0.9], [0.999]])
    draws = np.array([model.sample(rows, np.random.default_rng([1, i])) for i in range(4000)])
    mean, sd = model.predict(rows)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4 * sd / np.sqrt(len(draws)))
    assert draws.std(axis=0) == pytest.approx(sd, rel=0.08)


def test_near_rows_move_together_in_a_draw_and_far_rows_do_not() -> None:
    """A joint draw, not independent ones: what makes a whole region low or high at once."""
    model = model_of(0.2)
    rows = np.array([[0.5], [0.501], [0.5], [0.05]])
    draws = np.array([model.sample(rows, np.random.default_rng([2, i])) for i in range(2000)])
    correlation = np.corrcoef(draws.T)
    assert correlation[0, 1] > 0.99
    assert correlation[0, 2] > 0.999  # the same row twice: a singular covariance, still drawn
    assert abs(correlation[0, 3]) < 0.5


def test_a_draw_is_reproducible_from_the_generator() -> None:
    model = model_of(0.2)
    rows = np.array([[0.2], [0.7]])
    assert np.array_equal(model.sample(rows, np.random.default_rng(9)), model.sample(rows, np.random.default_rng(9)))


def hedge_choices(model: GaussianProcess, noisy: bool, proposals: list[float], seeds: range, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The point ``_hedge`` picks when EI, LCB and PI propose ``proposals``, one pick per seed,
    for losses judged ``noisy`` or not (``fit_model``)."""
    remaining: list[float] = []

    def propose(*args: object, **kwargs: object) -> dict[str, Value]:
        return {"x": remaining.pop(0)}

    monkeypatch.setattr(GPBayesianOptimization, "_best_on", propose)
    algorithm = GPBayesianOptimization({})
    chosen = []
    for seed in seeds:
        remaining[:] = proposals
        pick = algorithm._hedge(model, noisy, _Encoding(SPACE), 0.0, np.random.default_rng(seed), set(), np.array([0.5]))
        assert pick is not None
        chosen.append(float(pick["x"]))
    return chosen


def test_a_noiseless_model_always_takes_the_lowest_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    model = model_of(0.0)
    assert model.noise <= WARP_NOISE_LIMIT
    proposals = [0.2, 0.75, 0.95]
    means, _ = model.predict(np.array([[p] for p in proposals]))
    lowest = proposals[int(np.argmin(means))]
    assert set(hedge_choices(model, False, proposals, range(30), monkeypatch)) == {lowest}


def test_a_noisy_model_takes_each_close_proposal_sometimes_and_a_far_worse_one_never(monkeypatch: pytest.MonkeyPatch) -> None:
    """On either side of the model's minimum (x = 0.73) two proposals differ in mean by far less
    than their sd: each wins about half the draws. One at x = 0.27, about 1.3 higher in mean
    (over 5 sd): it never wins."""
    model = model_of(0.2)
    assert model.noise > WARP_NOISE_LIMIT
    proposals = [0.69, 0.77, 0.27]
    means, sd = model.predict(np.array([[p] for p in proposals]))
    assert abs(means[0] - means[1]) < 0.1 * min(sd[0], sd[1]) and means[2] - max(means[:2]) > 5 * sd.max()
    chosen = hedge_choices(model, True, proposals, range(60), monkeypatch)
    assert chosen.count(0.69) >= 15 and chosen.count(0.77) >= 15
    assert 0.27 not in chosen
