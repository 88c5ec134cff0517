"""Bayesian optimization, under Katib's name and settings (``bayesianoptimization``).

``base_estimator: GP`` (the default) uses kfp-tune's own Gaussian process
(:mod:`.gaussian_process`): scikit-optimize's GP, refitted from scratch on every request as
Katib does, takes 3.0 s at 200 observations and 25 s at 500 here (docs/benchmarks.md), and
even with lighter settings 0.9 s and 5 s. ``RF``, ``ET`` and ``GBRT`` use scikit-optimize's tree models through
its one adapter (:mod:`.skopt_adapter`).

Priors follow each parameter's distribution (log scale for logUniform / logNormal only), not a
blanket log prior: the Gaussian process works in the unit cube of :mod:`.unit_cube`, where
normal and logNormal parameters are warped through their distribution's CDF, so the random
candidates (uniform in the cube) follow the distribution and the model's distances are
measured in probability mass; uniform and logUniform parameters map linearly, as before. Acquisitions: ``EI`` and ``PI`` with ``xi``, ``LCB`` with ``kappa``;
``gp_hedge`` lets EI, LCB and PI each propose a point and takes the one with the lowest
posterior mean (scikit-optimize weighs them by gains summed over past iterations, which a
rebuilt-from-history algorithm does not keep); ``EIps`` / ``PIps`` act as EI / PI, since
trials report no run time.

The first trial of an experiment is the centre of the space (``_initial_points``), the other
``n_initial_points - 1`` random: Ax and OSS Vizier start there too (docs/benchmarks.md, "The first
trial at the centre of the space").

Pending trials, and earlier picks of the same batch, are handled by the Kriging Believer
(Ginsbourger, Le Riche and Carraro, 2010): each joins the model as if it had returned the
model's own posterior mean there, and that value counts towards the best seen. The mean stays
where the finished trials put it, so the picks keep refining the incumbent's neighbourhood; the
variance at and around a pending point shrinks, so the acquisition sees nothing left to gain
there. A suggestion beside pending trials (parallel slots) uses the same acquisition as one
without (``gp_hedge`` included); within one batch, the picks after the first use EI (see
``propose``). The constant liar used before (pending points modelled at the best value seen)
flattened the mean around each of them and pushed most picks at parallelTrialCount 4 away from
the incumbent (docs/benchmarks.md, "The schedule"). With nothing pending and one suggestion
asked, nothing changes.

The Gaussian process models the losses warped (``fit_model``: far outliers capped, then a
fitted power transform, unless the warped model finds the losses noisy): on BBOB without noise
this cut the final regret by 3x to 20x in each function group (d=2), and one diverged
trial no longer throws the search off (docs/benchmarks.md, "Output warping").

Where the model finds the losses noisy (``fit_model``), the point it believes best (lowest
posterior mean among the trials) may be suggested again (``Suggestions.repeats``), as Ax and
Optuna's GPSampler allow: a second measurement of it is worth as much as a first one elsewhere,
and an optimum on the bounds (a corner, where the acquisition's optimiser lands exactly) is
otherwise ringed by near misses, none of them the corner. On BBOB's linear slope (f5) with noise
the picked trial's regret went from about 1e-5 to 0, as Ax's and GPSampler's (docs/benchmarks.md,
"Measuring the believed best point again"). No other point measured comes again (a second look at
a point explored and found poor teaches next to nothing), nor a pending, failed or early-stopped
one; none where the model puts most of the losses' variance down to noise
(``REPEAT_NOISE_SHARE``); and none once a point run twice gave the same loss to the last digit (a
deterministic objective the model took for noisy: a repeat would waste the trial).

The Gaussian process models at most ``MAX_MODEL_OBSERVATIONS`` trials (:mod:`.model_subset`:
the best half and a space-filling half of the rest): a suggestion at 10,000 trials takes under a
second rather than 100 s, and grows only linearly beyond (reading the history); up to the cap every
trial is modelled, as before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import erfcx, log_ndtr, ndtr

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions, one_blas_thread
from kfp_tune.algorithms.gaussian_process import GaussianProcess
from kfp_tune.algorithms.model_subset import model_rows
from kfp_tune.algorithms.random_search import new_random_point
from kfp_tune.algorithms.space_tools import BuiltinAlgorithm, Used
from kfp_tune.algorithms.unit_cube import decode_value, encode_value
from kfp_tune.core.catalogue import setting_default
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.vocabulary import TrialStatus

RANDOM_CANDIDATES = 1000
LOCAL_CANDIDATES = 300
REFINE_STARTS = 5
HEDGE_REFINE_STARTS = 2
# The most trials the Gaussian process is built on: its Cholesky factorisations (one per pending
# trial too) grow as n**3 and each acquisition evaluation as n**2. 500 keeps a suggestion under a
# second on 2 cores; the benchmarks in docs/benchmarks.md (50 trials) are far below it.
MAX_MODEL_OBSERVATIONS = 500
# Above this fitted noise variance (a share of the losses' variance) the losses are modelled
# unwarped. Deterministic objectives fit under 1e-6 (tests/algorithms/test_gp_noise.py); BBOB
# with noise of 1 % of a random point's gap fits well above it.
WARP_NOISE_LIMIT = 1e-4
# Below this share of the modelled variance, noise leaves the model's ranking of the points it
# measured worth a second measurement (``propose``). Above it the model explains the losses
# mostly as noise (BBOB's Katsuura function, f23: its length scales at their floor, every point
# on its own), and its best-looking point, measured again and again, only looked best: one run
# spent 35 of its 100 trials on one corner.
REPEAT_NOISE_SHARE = 0.1
# The range of the warp's fitted exponent (``warp_losses`` says why it stops at 1).
WARP_EXPONENTS = (-2.0, 1.0)


class _Encoding:
    """Numeric and discrete parameters as one unit-cube coordinate each; categorical ones as a
    one-hot block (each choice its own length scale)."""

    def __init__(self, space: SearchSpace):
        self.space = space
        self.columns: list[tuple[Parameter, int, int]] = []
        width = 0
        for parameter in space:
            size = len(parameter.choices) if parameter.type == "categorical" else 1
            self.columns.append((parameter, width, size))
            width += size
        self.width = width
        self.numeric = [start for p, start, _ in self.columns if p.type in ("double", "int")]

    def encode(self, assignment: dict[str, Value]) -> np.ndarray:
        row = np.zeros(self.width)
        for parameter, start, _ in self.columns:
            value = assignment[parameter.name]
            if parameter.type == "categorical":
                row[start + parameter.choices.index(str(value))] = 1.0
            else:
                row[start] = encode_value(parameter, value)
        return row

    def random_rows(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` feasible points, encoded: uniform in the cube (so drawn from each parameter's
        distribution: linear or log scale, through the CDF for normal ones), snapped
        to steps and integers, a random choice for discrete and categorical parameters."""
        rows = np.zeros((count, self.width))
        for parameter, start, size in self.columns:
            if parameter.type == "categorical":
                rows[np.arange(count), start + rng.integers(0, size, count)] = 1.0
            elif parameter.type == "discrete":
                rows[:, start] = (rng.integers(0, len(parameter.choices), count) + 0.5) / len(parameter.choices)
            else:
                rows[:, start] = self.snap_column(parameter, rng.random(count))
        return rows

    def centre(self, rng: np.random.Generator) -> dict[str, Value]:
        """The middle of the space: each numeric and discrete parameter at the middle of the
        unit cube (the midpoint of a uniform range, the geometric one of a logUniform range,
        the mean of a normal one, the middle choice); a categorical one, which has no middle, a
        random choice."""
        row = self.random_rows(rng, 1)[0]
        for parameter, start, _ in self.columns:
            if parameter.type != "categorical":
                row[start] = self.snap_column(parameter, np.array([0.5]))[0]
        point = self.decode(row)
        for parameter, _, _ in self.columns:
            if parameter.type == "double" and not parameter.step:
                tidy = _as_written(float(point[parameter.name]))
                if parameter.contains(tidy):
                    point[parameter.name] = tidy
        return point

    def snap_column(self, parameter: Parameter, u: np.ndarray) -> np.ndarray:
        """Unit-cube coordinates moved onto the parameter's feasible values (steps, integers)."""
        if parameter.type == "double" and not parameter.step:
            return u
        return np.array([encode_value(parameter, decode_value(parameter, float(x))) for x in u])

    def decode(self, row: np.ndarray) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for parameter, start, size in self.columns:
            if parameter.type == "categorical":
                out[parameter.name] = parameter.choices[int(np.argmax(row[start : start + size]))]
            else:
                out[parameter.name] = decode_value(parameter, float(row[start]))
        return out


def _as_written(x: float) -> float:
    """The number a person would write for ``x`` when ``x`` is one a hair off (0.5 for
    0.49999999999999994, 0.005 for 0.005000000000000002: a midpoint's rounding), else ``x``:
    the shortest form of at most 12 digits within 1e-15 of it, relatively."""
    for digits in range(1, 13):
        written = float(f"{x:.{digits}g}")
        if abs(written - x) <= 1e-15 * abs(x):
            return written
    return x


def cap_outliers(y: np.ndarray) -> np.ndarray:
    """Losses beyond Tukey's far fence Q3 + 5 IQR brought down to it: a diverged trial (loss 1e6
    among losses below 1) becomes just a bad trial, instead of setting the model's scale and
    squeezing the differences among the good trials, the ones that decide where to look next,
    to nothing."""
    q1, q3 = np.percentile(y, [25, 75])
    return np.minimum(y, q3 + 5.0 * (q3 - q1)) if q3 > q1 else y


def warp_losses(y: np.ndarray) -> np.ndarray:
    """Output warping (as in HEBO and OSS Vizier): outliers capped, standardised, then a
    Yeo-Johnson power transform whose exponent is fitted by maximum likelihood and held to
    [-2, 1]. An exponent below 1 evens out a long tail of bad values (a valley's steep walls): it
    spreads the low, good end and packs the high end. Above 1 it would do the opposite and blur
    the best trials, so it stops at 1, the identity. Monotone: the order of the trials, and so
    the incumbent, is unchanged; equal losses stay equal."""
    return _power_warp(cap_outliers(y))


def _power_warp(y: np.ndarray) -> np.ndarray:
    """``warp_losses`` after the capping."""
    spread = float(y.std())
    if spread == 0.0:
        return np.zeros_like(y)
    z = (y - y.mean()) / spread
    if len(y) < 3:
        return z
    return yeo_johnson(z, fitted_exponent(z))


def yeo_johnson(z: np.ndarray, exponent: float) -> np.ndarray:
    """The Yeo-Johnson power transform, written here rather than taken from ``scipy.stats``:
    importing ``scipy.stats`` adds 0.65 s to every suggest step's start (measured on the 2-core
    development machine, on top of the 0.8 s ``scipy.optimize`` already costs), and each step of
    the pipeline is a new process. ``tests/algorithms/test_loss_warping.py`` checks it against
    ``scipy.stats.yeojohnson``. Exponents here are at most 1, never the special case 2."""
    out = np.empty_like(z)
    good = z >= 0
    log_up = np.log1p(z[good])
    out[good] = log_up if abs(exponent) < 1e-12 else np.expm1(exponent * log_up) / exponent
    out[~good] = -np.expm1((2.0 - exponent) * np.log1p(-z[~good])) / (2.0 - exponent)
    return out


def fitted_exponent(z: np.ndarray) -> float:
    """The exponent in ``WARP_EXPONENTS`` that makes ``yeo_johnson(z, exponent)`` most likely
    normal (maximum profile likelihood: the variance of the transformed values against the
    transform's Jacobian)."""
    jacobian = float(np.sum(np.sign(z) * np.log1p(np.abs(z))))

    def unlikelihood(exponent: float) -> float:
        variance = float(np.var(yeo_johnson(z, exponent)))
        return math.inf if variance <= 0.0 else 0.5 * len(z) * math.log(variance) - (exponent - 1.0) * jacobian

    fit = minimize_scalar(unlikelihood, bounds=WARP_EXPONENTS, method="bounded", options={"xatol": 1.5e-8})
    return float(fit.x)


def fit_model(x: np.ndarray, losses: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, GaussianProcess, bool]:
    """The Gaussian process on the warped losses, unless it finds them noisy (fitted noise above
    ``WARP_NOISE_LIMIT`` of the variance, also without the capped outliers, whose jumps look like
    noise): then on the losses as they are, outliers capped.
    Warping spreads the good end, and with noise it spreads the noise just where the search
    decides; on BBOB with noise it made the ill-conditioned functions' regret 6x worse
    (docs/benchmarks.md, "Output warping"). Returns the values modelled, the model, and whether
    it found the losses noisy."""
    capped = cap_outliers(losses)
    warped = _power_warp(capped)
    keep = model_rows(x, warped, MAX_MODEL_OBSERVATIONS)  # every trial up to the cap; the best one always
    model = GaussianProcess(x[keep], warped[keep], rng)
    if model.noise <= WARP_NOISE_LIMIT:
        return warped, model, False
    inside = capped == losses
    if 3 <= inside.sum() < len(losses):  # capped trials are jumps the model may call noise: judge without them
        rows = np.flatnonzero(inside)[model_rows(x[inside], warped[inside], MAX_MODEL_OBSERVATIONS)]
        if GaussianProcess(x[rows], warped[rows], rng).noise <= WARP_NOISE_LIMIT:
            return warped, model, False
    return capped, GaussianProcess(x[keep], capped[keep], rng), True  # same rows: the warp keeps the order


def log_expected_improvement(z: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """log EI = log(sd) + log(phi(z) + z * Phi(z)), accurate far into both tails: where EI
    underflows to 0 (every unexplored region would look the same) and where z is huge (a model
    with almost no noise, sure of an improvement)."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    upper = z >= -1.0  # phi + z Phi >= 0.08 here: computed directly
    zu = z[upper]
    phi = np.exp(-0.5 * np.minimum(zu, 30.0) ** 2) / math.sqrt(2 * math.pi)
    out[upper] = np.log(phi + zu * ndtr(zu))
    # below: phi(z) * (1 + z Phi(z) / phi(z)), with Phi / phi = sqrt(pi/2) erfcx(-z / sqrt 2)
    zl = z[~upper]
    ratio = 1.0 + zl * math.sqrt(math.pi / 2) * erfcx(-zl / math.sqrt(2))
    out[~upper] = -0.5 * zl * zl - 0.5 * math.log(2 * math.pi) + np.log(np.maximum(ratio, 1e-300))
    return np.log(sd) + out


def acquisition(name: str, mean: np.ndarray, sd: np.ndarray, best: float, kappa: float, xi: float) -> np.ndarray:
    """Larger is better; the objective is minimised. EI and PI on a log scale (same order,
    no underflow)."""
    if name == "LCB":
        return -(mean - kappa * sd)
    z = (best - mean - xi) / sd
    if name in ("PI", "PIps"):
        return log_ndtr(z)
    return log_expected_improvement(z, sd)


def believe(model: GaussianProcess, row: np.ndarray, best: float) -> float:
    """The Kriging Believer for a point being evaluated: condition ``model`` on its own posterior
    mean at ``row`` (the mean everywhere stays as it was; the variance near ``row`` shrinks) and
    return the best value seen, counting the believed one."""
    mean, _ = model.predict(row[None, :])
    believed = float(mean[0])
    model.add(row, believed)
    return min(best, believed)


def repeated_alike(space: SearchSpace, trials: Sequence[FinishedTrial], problem: Problem) -> bool:
    """Whether a point run twice gave the same loss both times: the objective is deterministic
    (a rugged one can look noisy to the model), so running a point again would waste the trial."""
    seen: set[tuple[tuple[Value, ...], float | None]] = set()
    for trial in trials:
        result = (space.key(trial.assignment), problem.loss(trial))
        if result in seen:
            return True
        seen.add(result)
    return False


def point_to_measure_again(
    problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], scored: Sequence[FinishedTrial], x: np.ndarray, model: GaussianProcess
) -> Used:
    """The key of the point the model believes best (lowest posterior mean among the ``scored``
    trials, encoded in ``x``), which may be suggested again: a second result there is worth as
    much as one at a new point when the losses are noisy. Empty where the model puts most of
    the variance down to noise, where a repeat gave the same loss (the objective is
    deterministic), and where that point is also pending, failed or early stopped."""
    space = problem.space
    if model.noise >= REPEAT_NOISE_SHARE * (model.noise + model.signal) or repeated_alike(space, scored, problem):
        return set()
    key = space.key(scored[int(np.argmin(model.predict(x)[0]))].assignment)
    taken = [t.assignment for t in history if t.status != TrialStatus.SUCCEEDED] + list(pending)
    return set() if any(space.key(a) == key for a in taken) else {key}


def _default(name: str) -> Any:
    """skopt's default as Katib's service passes it on (skopt/base_service.py), from the catalogue."""
    return setting_default("bayesianoptimization", name)


class GPBayesianOptimization(BuiltinAlgorithm):
    name = "bayesianoptimization"

    def __init__(self, settings: dict[str, Any]):
        super().__init__(settings)
        initial, kappa, xi = settings.get("n_initial_points"), settings.get("kappa"), settings.get("xi")
        self.n_initial = int(initial if initial is not None else _default("n_initial_points"))
        self.acq_func = settings.get("acq_func") or _default("acq_func")
        self.acq_optimizer = settings.get("acq_optimizer") or _default("acq_optimizer")
        self.kappa = float(kappa if kappa is not None else _default("kappa"))
        self.xi = float(xi if xi is not None else _default("xi"))

    @one_blas_thread()
    def propose(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
        used: Used,
    ) -> Suggestions:
        space = problem.space
        scored = [t for t in history if problem.loss(t) is not None]
        if len(scored) < max(self.n_initial, 2) or n == 0:
            return Suggestions(self._initial_points(space, history, pending, n, rng, used))
        encoding = _Encoding(space)
        x = np.array([encoding.encode(t.assignment) for t in scored])
        y, model, noisy = fit_model(x, np.array([problem.loss(t) for t in scored], dtype=float), rng)
        again = point_to_measure_again(problem, history, pending, scored, x, model) if noisy else set()
        used = used - again
        best = float(y.min())
        for assignment in pending:
            best = believe(model, encoding.encode(assignment), best)
        out: list[dict[str, Value]] = []
        incumbent = x[int(np.argmin(y))]
        for index in range(n):
            if self.acq_func == "gp_hedge" and index:
                # The later picks of one batch rest on the same beliefs, with no result between
                # them: EI spreads them where the model is unsure, where the hedge's lowest-mean
                # rule would line them up beside the believed ones.
                chosen = self._maximise(model, encoding, "EI", best, rng, used, incumbent)
            elif self.acq_func == "gp_hedge":
                chosen = self._hedge(model, encoding, best, rng, used, incumbent)
            else:
                chosen = self._maximise(model, encoding, str(self.acq_func), best, rng, used, incumbent)
            if chosen is None:  # every candidate taken
                chosen = new_random_point(space, used, rng)
            else:
                used.add(space.key(chosen))
            out.append(chosen)
            if index + 1 < n:
                best = believe(model, encoding.encode(chosen), best)
        return Suggestions(out, repeats=any(space.key(a) in again for a in out))

    def _initial_points(self, space: SearchSpace, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator, used: Used) -> list[dict[str, Value]]:
        """Random points, the first trial of an experiment the centre of the space (as Ax and
        OSS Vizier start): a user's range is usually drawn around the values they expect to be
        good. Only the first: once a trial exists, finished, failed or pending, all are random."""
        points: list[dict[str, Value]] = []
        if n and not history and not pending:
            centre = _Encoding(space).centre(rng)
            if space.key(centre) not in used:
                used.add(space.key(centre))
                points.append(centre)
        return points + [new_random_point(space, used, rng) for _ in range(n - len(points))]

    def _hedge(self, model: GaussianProcess, encoding: _Encoding, best: float, rng: np.random.Generator, used: set, incumbent: np.ndarray) -> dict[str, Value] | None:
        """GP-Hedge without memory: each of EI, LCB and PI proposes a point, and the proposal
        the model expects to be best (lowest posterior mean) wins. scikit-optimize weighs them
        by gains summed over past iterations, which a rebuilt-from-history algorithm does not
        keep; this is the one-step form of the same reward."""
        grid = self._candidates(encoding, rng, incumbent)
        mean, sd = model.predict(grid)
        proposals = [self._best_on(model, encoding, grid, mean, sd, kind, best, rng, used, HEDGE_REFINE_STARTS) for kind in ("EI", "LCB", "PI")]
        found = [p for p in proposals if p is not None]
        if not found:
            return None
        means, _ = model.predict(np.array([encoding.encode(p) for p in found]))
        return found[int(np.argmin(means))]

    def _maximise(self, model: GaussianProcess, encoding: _Encoding, kind: str, best: float, rng: np.random.Generator, used: set, incumbent: np.ndarray) -> dict[str, Value] | None:
        grid = self._candidates(encoding, rng, incumbent)
        mean, sd = model.predict(grid)
        return self._best_on(model, encoding, grid, mean, sd, kind, best, rng, used, REFINE_STARTS)

    def _candidates(self, encoding: _Encoding, rng: np.random.Generator, incumbent: np.ndarray) -> np.ndarray:
        """Random feasible points, and points around the best so far at a coarse and a fine scale."""
        local = np.repeat(incumbent[None, :], LOCAL_CANDIDATES, axis=0)
        scale = np.where(np.arange(LOCAL_CANDIDATES) % 2 == 0, 0.05, 0.005)
        for parameter, start, _ in encoding.columns:
            if parameter.type in ("double", "int"):
                local[:, start] = encoding.snap_column(parameter, np.clip(local[:, start] + rng.normal(0, 1, LOCAL_CANDIDATES) * scale, 0, 1))
        return np.vstack([encoding.random_rows(rng, RANDOM_CANDIDATES), local])

    def _best_on(
        self,
        model: GaussianProcess,
        encoding: _Encoding,
        grid: np.ndarray,
        mean: np.ndarray,
        sd: np.ndarray,
        kind: str,
        best: float,
        rng: np.random.Generator,
        used: set,
        starts: int,
    ) -> dict[str, Value] | None:
        """The new point with the highest acquisition: the best candidates, refined by L-BFGS-B
        on the numeric coordinates unless acq_optimizer is 'sampling'."""
        space = encoding.space
        score = acquisition(kind, mean, sd, best, self.kappa, self.xi)
        order = np.argsort(-score)
        if self.acq_optimizer != "sampling" and encoding.numeric:
            refined = []
            for start in self._starts(score, order, rng, starts):
                row = self._refine(model, encoding, grid[start], kind, best)
                refined.append(encoding.encode(encoding.decode(row)))
            extra = np.array(refined)
            extra_mean, extra_sd = model.predict(extra)
            extra_score = acquisition(kind, extra_mean, extra_sd, best, self.kappa, self.xi)
            grid = np.vstack([extra, grid])
            score = np.concatenate([extra_score, score])
            order = np.argsort(-score)
        for index in order:
            assignment = encoding.decode(grid[index])
            if space.key(assignment) not in used:
                return assignment
        return None

    def _starts(self, score: np.ndarray, order: np.ndarray, rng: np.random.Generator, count: int) -> list[int]:
        """The best candidate, and others drawn with weight exp(score - best) so the local
        searches spread over the promising regions rather than one."""
        weights = np.exp(np.clip(score - score[order[0]], -700, 0))
        weights[order[0]] = 0.0
        others = min(count - 1, int(np.count_nonzero(weights)))
        chosen = [int(order[0])]
        if others > 0:
            chosen += rng.choice(len(score), size=others, replace=False, p=weights / weights.sum()).tolist()
        return chosen

    def _refine(self, model: GaussianProcess, encoding: _Encoding, row: np.ndarray, kind: str, best: float) -> np.ndarray:
        """L-BFGS-B on the numeric coordinates, the others held."""
        columns = encoding.numeric

        def negative(z: np.ndarray) -> float:
            point = row.copy()
            point[columns] = z
            mean, sd = model.predict(point[None, :])
            return -float(acquisition(kind, mean, sd, best, self.kappa, self.xi)[0])

        result = minimize(negative, row[columns], method="L-BFGS-B", bounds=[(0.0, 1.0)] * len(columns), options={"maxiter": 50})
        out = row.copy()
        out[columns] = result.x
        return out


def create(settings: dict[str, Any]) -> BuiltinAlgorithm:
    """GP -> kfp-tune's Gaussian process; RF, ET, GBRT -> scikit-optimize's tree models."""
    if (settings.get("base_estimator") or _default("base_estimator")) == "GP":
        return GPBayesianOptimization(settings)
    from kfp_tune.algorithms.skopt_adapter import SkoptBayesianOptimization

    return SkoptBayesianOptimization(settings)
