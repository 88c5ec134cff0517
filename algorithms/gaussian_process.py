"""A small, fast Gaussian process: Matern 5/2 kernel with one length scale per input, fitted by
maximising the log marginal likelihood (analytic gradients, L-BFGS-B), on numpy and scipy.

The noise variance is a fitted hyperparameter like the others (learned from the data; ``LOG_NOISE``
bounds it, it is not a fixed floor): a noisy objective gets a smoothing model, a deterministic one
an interpolating model (tests/algorithms/test_gp_noise.py). Inputs are in the unit cube; outputs
are standardised inside. Fitting the hyperparameters uses at most ``FIT_LIMIT`` points (a seeded
subset), the posterior all the points it is given: its cost grows as n**3, so the caller caps
them (``bayesopt.MAX_MODEL_OBSERVATIONS``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cho_factor, cho_solve, cholesky, solve_triangular
from scipy.optimize import minimize

FIT_LIMIT = 150
SQRT5 = math.sqrt(5.0)
# Bounds of the log hyperparameters: length scales, signal variance, noise variance.
LOG_LENGTH = (math.log(1e-2), math.log(20.0))
LOG_SIGNAL = (math.log(1e-2), math.log(50.0))
# The noise floor is low so that deterministic objectives can be resolved to 1e-5 of their range
# (a floor of 1e-6 of the variance left Branin's regret at 4e-4, docs/benchmarks.md).
LOG_NOISE = (math.log(1e-10), math.log(1.0))
JITTERS = (1e-9, 1e-7, 1e-5, 1e-3)
LENGTH_PRIOR_MEAN, LENGTH_PRIOR_SD = math.log(0.5), 1.5


def _scaled_sq_dist(a: np.ndarray, b: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    a, b = a / lengths, b / lengths
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def matern52(a: np.ndarray, b: np.ndarray, lengths: np.ndarray, signal: float) -> np.ndarray:
    r = np.sqrt(_scaled_sq_dist(a, b, lengths))
    return signal * (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-SQRT5 * r)


class GaussianProcess:
    def __init__(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator):
        self.x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        self.y_mean = float(y.mean())
        self.y_std = float(y.std()) or 1.0
        self.y = (y - self.y_mean) / self.y_std
        self.theta = self._fit(rng)
        self._factor()

    # --- hyperparameters --------------------------------------------------------------------
    def _unpack(self, theta: np.ndarray) -> tuple[np.ndarray, float, float]:
        d = self.x.shape[1]
        return np.exp(theta[:d]), float(np.exp(theta[d])), float(np.exp(theta[d + 1]))

    def _nll(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log marginal likelihood (plus a log-normal length-scale prior) and gradient."""
        lengths, signal, noise = self._unpack(theta)
        n, d = x.shape
        sq = _scaled_sq_dist(x, x, lengths)
        r = np.sqrt(sq)
        e = np.exp(-SQRT5 * r)
        m = (1.0 + SQRT5 * r + (5.0 / 3.0) * sq) * e
        k = signal * m + (noise + JITTERS[0]) * np.eye(n)
        try:
            factor = cho_factor(k, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = cho_solve(factor, y, check_finite=False)
        log_det = 2.0 * np.log(np.diag(factor[0])).sum()
        prior = ((theta[:d] - LENGTH_PRIOR_MEAN) ** 2).sum() / (2 * LENGTH_PRIOR_SD**2)
        value = 0.5 * y @ alpha + 0.5 * log_det + prior
        w = cho_solve(factor, np.eye(n), check_finite=False) - np.outer(alpha, alpha)
        grad = np.empty_like(theta)
        common = signal * (5.0 / 3.0) * (1.0 + SQRT5 * r) * e
        for j in range(d):
            diff = (x[:, j][:, None] - x[:, j][None, :]) / lengths[j]
            grad[j] = 0.5 * (w * (common * diff * diff)).sum() + (theta[j] - LENGTH_PRIOR_MEAN) / LENGTH_PRIOR_SD**2
        grad[d] = 0.5 * (w * (signal * m)).sum()
        grad[d + 1] = 0.5 * np.trace(w) * noise
        return float(value), grad

    def _fit(self, rng: np.random.Generator) -> np.ndarray:
        n, d = self.x.shape
        if n > FIT_LIMIT:
            keep = np.sort(rng.choice(n, FIT_LIMIT, replace=False))
            x, y = self.x[keep], self.y[keep]
        else:
            x, y = self.x, self.y
        bounds = [LOG_LENGTH] * d + [LOG_SIGNAL, LOG_NOISE]
        theta0 = np.array([math.log(0.5)] * d + [0.0, math.log(1e-3)])
        result = minimize(self._nll, theta0, args=(x, y), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 60})
        return np.asarray(result.x)

    # --- posterior --------------------------------------------------------------------------
    def _factor(self) -> None:
        lengths, signal, noise = self._unpack(self.theta)
        self.lengths, self.signal, self.noise = lengths, signal, noise
        k = matern52(self.x, self.x, lengths, signal)
        for jitter in JITTERS:  # near-duplicate points with a tiny noise: add jitter until it factors
            try:
                self.chol = cholesky(k + (noise + jitter) * np.eye(len(self.x)), lower=True, check_finite=False)
                break
            except np.linalg.LinAlgError:
                continue
        else:
            raise np.linalg.LinAlgError("the kernel matrix is not positive definite even with jitter")
        self.alpha = cho_solve((self.chol, True), self.y, check_finite=False)

    def add(self, x: np.ndarray, y: float) -> None:
        """Condition on one more (x, y) in original units, keeping the hyperparameters."""
        self.x = np.vstack([self.x, x[None, :]])
        self.y = np.append(self.y, (y - self.y_mean) / self.y_std)
        self._factor()

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation, in the original units."""
        k_star = matern52(self.x, x, self.lengths, self.signal)
        mean = k_star.T @ self.alpha
        v = solve_triangular(self.chol, k_star, lower=True, check_finite=False)
        var = np.maximum(self.signal - (v * v).sum(0), 1e-12)
        return mean * self.y_std + self.y_mean, np.sqrt(var) * self.y_std
