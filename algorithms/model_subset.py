"""Which observations a surrogate model is built on when the history is long.

A model rebuilt from the whole history on every call costs more with every trial: the Gaussian
process's factorisations grow as n**3 (a suggestion at 10,000 trials took 100 s), scikit-optimize's
tree models about as n log n per tree, fitted twice per call with pending trials (3 s at 10,000).
Above a cap, a model sees:

* the best half of its quota by loss: the incumbent and its neighbourhood, where an acquisition
  function tells the candidates that matter apart (as trust-region Bayesian optimisation, TuRBO,
  models locally);
* for the other half, the remaining trials picked farthest-first (greedy maximin: each next one
  the trial farthest from every one kept so far): a space-filling cover of where the search has
  been, so the model still knows those regions are worse and does not send the search back.

Deterministic (ties go to the earlier trial), so any process builds the same model from the same
history; at or below the cap every observation is kept, so shorter experiments are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kfp_tune.algorithms.unit_cube import encode_value
from kfp_tune.core.space import SearchSpace, Value


def model_rows(x: np.ndarray, losses: np.ndarray, limit: int) -> np.ndarray:
    """Indexes, in history order, of at most ``limit`` rows of ``x`` (coordinates in comparable
    units, one row per observation) to build the model on: all of them up to ``limit``, else the
    best ``limit // 2`` by loss and the rest farthest-first."""
    n = len(losses)
    if n <= limit:
        return np.arange(n)
    columns = np.ascontiguousarray(np.asarray(x, dtype=float).T)
    best = np.argsort(np.asarray(losses, dtype=float), kind="stable")[: limit // 2]
    nearest = np.full(n, np.inf)  # squared distance to the nearest row kept so far
    scratch = (np.empty(n), np.empty(n))
    for index in best:
        _keep(int(index), columns, nearest, scratch)
    for _ in range(limit - len(best)):
        _keep(int(np.argmax(nearest)), columns, nearest, scratch)
    return np.flatnonzero(nearest < 0)


def _keep(index: int, columns: np.ndarray, nearest: np.ndarray, scratch: tuple[np.ndarray, np.ndarray]) -> None:
    """Mark row ``index`` kept (-1) and lower every other row's distance to the kept ones.
    Elementwise, a column at a time: exact and the same on any machine (a matrix product's
    rounding can depend on the BLAS build and its threads)."""
    total, part = scratch
    total.fill(0.0)
    for column in columns:
        np.subtract(column, column[index], out=part)
        np.multiply(part, part, out=part)
        total += part
    np.minimum(nearest, total, out=nearest)
    nearest[index] = -1.0


def unit_coordinates(space: SearchSpace, assignments: Sequence[dict[str, Value]]) -> np.ndarray:
    """Assignments as rows for :func:`model_rows`: numeric and discrete parameters in the unit cube
    (log scale for log distributions, through the CDF for normal ones), categorical ones one-hot scaled so that two different
    choices are as far apart as the two ends of a numeric range."""
    columns: list[np.ndarray] = []
    for parameter in space:
        values = [a[parameter.name] for a in assignments]
        if parameter.type == "categorical":
            index = {choice: i for i, choice in enumerate(parameter.choices)}
            onehot = np.zeros((len(values), len(parameter.choices)))
            onehot[np.arange(len(values)), [index[str(v)] for v in values]] = np.sqrt(0.5)
            columns.append(onehot)
        else:
            columns.append(np.array([[encode_value(parameter, v)] for v in values], dtype=float).reshape(len(values), 1))
    return np.hstack(columns) if columns else np.zeros((len(assignments), 0))
