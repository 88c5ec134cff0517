"""Katib's algorithm names and settings: the contract, in one place.

Every name Katib accepts in ``algorithmName`` (and ``earlyStopping.algorithmName``) is listed
here with its settings, so an experiment is validated the way Katib validates it whether or not
this version implements the algorithm yet. Implementations (:mod:`kfp_tune.algorithms`) register themselves in
:mod:`kfp_tune.algorithms.registry` under these names. Pure data and parsing: the core
validates with it, and the algorithms import it, never the other way round.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kfp_tune.core.checkpoints import GENERATION_LABEL, PARENT_LABEL, TRIAL_DIR_SETTING
from kfp_tune.core.collector_checks import GO_INT_TEXT
from kfp_tune.core.nas_values import ENAS_TRIAL_VALUES
from kfp_tune.core.observation import go_float
from kfp_tune.core.space import SearchSpace, search_space_of
from kfp_tune.core.template import GO_INT64


@dataclass(frozen=True)
class Setting:
    """One ``algorithmSettings`` entry: its Katib name, how to parse it, and its default.

    ``parse`` turns the string into a value or raises ValueError saying what was expected."""

    name: str
    parse: Callable[[str], Any]
    default: Any = None
    help: str = ""


NONE = "None"
"""The value Katib's NAS services read as "not set" (Python's None) for the settings that allow it."""


def int_setting(
    name: str, default: Any = None, minimum: int | None = None, help: str = "", allow_none: bool = False, maximum: int | None = None
) -> Setting:
    """An integer setting; ``minimum`` and ``maximum`` are inclusive bounds (float_setting takes
    the same two). ``allow_none``: Katib's "None"."""

    def parse(text: str) -> int | None:
        if allow_none and text == NONE:
            return None
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
        if minimum is not None and value < minimum:
            raise ValueError(f"expected an integer >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise ValueError(f"expected an integer <= {maximum}, got {value}")
        return value

    return Setting(name, parse, default, help)


def float_setting(
    name: str,
    default: Any = None,
    greater_than: float | None = None,
    less_than: float | None = None,
    help: str = "",
    at_least: float | None = None,
    at_most: float | None = None,
    allow_none: bool = False,
    allow_infinity: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Setting:
    """A number setting; the bounds are strict (greater_than, less_than) or not (at_least,
    at_most), as each algorithm's own check has them. ``minimum`` and ``maximum`` are
    ``at_least`` and ``at_most`` spelt as int_setting spells them, so a plug-in bounds both
    kinds of number alike (one name for each bound, not both). ``allow_none``: Katib's "None".
    ``allow_infinity``: +infinity too, for a setting whose Katib check admits it (``float(v)``
    against lower bounds only) and whose algorithm runs with it."""
    if minimum is not None and at_least is not None:
        raise TypeError(f"float_setting({name!r}): minimum= and at_least= are the same bound: give one")
    if maximum is not None and at_most is not None:
        raise TypeError(f"float_setting({name!r}): maximum= and at_most= are the same bound: give one")
    at_least = minimum if minimum is not None else at_least
    at_most = maximum if maximum is not None else at_most

    def parse(text: str) -> float | None:
        if allow_none and text == NONE:
            return None
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if value != value or value == float("-inf") or (value == float("inf") and not allow_infinity):
            raise ValueError(f"expected a finite number, got {text!r}")
        if greater_than is not None and not value > greater_than:
            raise ValueError(f"expected a number > {greater_than}, got {value}")
        if less_than is not None and not value < less_than:
            raise ValueError(f"expected a number < {less_than}, got {value}")
        if at_least is not None and not value >= at_least:
            raise ValueError(f"expected a number >= {at_least}, got {value}")
        if at_most is not None and not value <= at_most:
            raise ValueError(f"expected a number <= {at_most}, got {value}")
        return value

    return Setting(name, parse, default, help)


def choice_setting(name: str, choices: Sequence[str], default: Any = None, help: str = "") -> Setting:
    def parse(text: str) -> str:
        if text not in choices:
            same = same_but_case(text, choices)
            raise ValueError(f"expected one of {list(choices)}, got {text!r}" + (f"; values are case-sensitive: {same!r}" if same else ""))
        return text

    return Setting(name, parse, default, help)


def str_setting(name: str, default: Any = None, help: str = "") -> Setting:
    def parse(text: str) -> str:
        if not text:
            raise ValueError("expected a non-empty string")
        return text

    return Setting(name, parse, default, help)


ProblemCheck = Callable[[Sequence[Any], dict[str, Any]], list[tuple[str, str]]]
"""(spec.parameters, parsed settings) -> [(path suffix, message)] for rules across fields."""
NasCheck = Callable[[Any, dict[str, Any]], list[tuple[str, str]]]
"""(spec.nasConfig, parsed settings) -> [(field path, message)]: what one architecture search
algorithm needs of the search space beyond the rules every nasConfig follows."""


@dataclass(frozen=True)
class CatalogueEntry:
    """An algorithm as Katib names it. ``trial_values``: for an architecture search algorithm
    (one that searches ``spec.nasConfig`` instead of ``spec.parameters``), the names of the
    values it gives each trial, which trialParameters reference; empty for the others.
    ``trial_labels``: the labels it puts on some or all of its trials (Katib's suggestion
    labels), which a template may name as ``${trialSpec.Labels[k]}``."""

    name: str
    settings: tuple[Setting, ...] = ()
    check_problem: ProblemCheck | None = None
    help: str = ""
    trial_values: tuple[str, ...] = ()
    check_nas: NasCheck | None = None
    trial_labels: tuple[str, ...] = ()
    takes_unknown_settings: bool = False
    """Whether Katib's service for it takes setting names it does not know instead of refusing
    them (goptuna's cmaes and sobol, hyperband and pbt ignore them; darts passes them on to its
    trial): kfp-tune then takes them too, and ``kfp-tune validate`` notes each one."""
    in_katib: bool = True
    """Whether Katib's default katib-config names it (manifests/v1beta1/installs/*/katib-config.yaml,
    ``suggestions`` or ``earlyStoppings``): Katib's webhook refuses a name that config lacks
    (validator.go, 'unable to get Suggestion config data'). False for kfp-tune's
    regularized-evolution and a plug-in's new name; ``kfp-tune validate`` notes them."""
    settings_by_name: dict[str, Setting] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings_by_name", {s.name: s for s in self.settings})

    @property
    def searches_architectures(self) -> bool:
        """Whether it takes ``spec.nasConfig`` (and no ``spec.parameters``)."""
        return bool(self.trial_values)


_RANDOM_STATE = int_setting("random_state", None, minimum=0, help="seed; same seed, same suggestions")
NUMPY_SEED_MAX = 2**32 - 1
"""The largest seed numpy's legacy ``np.random.RandomState`` takes ("Seed must be between 0 and
2**32 - 1"), which Katib's hyperopt (base_service.py), optuna (optuna 3.3's samplers) and skopt
(its Optimizer) services seed with ``random_state``: a larger one fails Katib's experiment."""


def _numpy_seed() -> Setting:
    """``random_state`` for random, tpe, grid, multivariate-tpe and bayesianoptimization: an
    integer Python's ``int`` reads, as Katib's services read it, from 0 (their checks refuse a
    negative one) to :data:`NUMPY_SEED_MAX`. kfp-tune's own algorithms would take any size; a
    spec that runs here must run in Katib too."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
        if value < 0:
            raise ValueError(f"expected an integer >= 0, got {value}")
        if value > NUMPY_SEED_MAX:
            raise ValueError(
                f"expected an integer from 0 to {NUMPY_SEED_MAX} (Katib's service seeds numpy's RandomState with it, which takes no larger), got {value}"
            )
        return value

    return Setting("random_state", parse, None, f"seed, 0 to {NUMPY_SEED_MAX}; same seed, same suggestions")


_KATIB_NUMPY_SEED = _numpy_seed()
TPE_EI_CANDIDATES = 24
"""Candidates drawn per suggestion when neither name sets it: hyperopt's ``tpe.suggest`` default,
which Katib's hyperopt service (pkg/suggestion/v1beta1/hyperopt/base_service.py) leaves in place.
Both names default to None in the settings, so the one given wins."""
_TPE_SETTINGS = (  # tpe and multivariate-tpe take the same settings
    float_setting("gamma", 0.25, greater_than=0.0, less_than=1.0),
    float_setting("prior_weight", 1.0, greater_than=0.0),
    int_setting("n_EI_candidates", None, minimum=1, help="hyperopt's name for n_ei_candidates"),
    int_setting("n_ei_candidates", None, minimum=1, help=f"candidates drawn per suggestion (default {TPE_EI_CANDIDATES})"),
    int_setting("n_startup_trials", 10, minimum=0),
    _KATIB_NUMPY_SEED,
)


def _numeric_parameters(parameters: Sequence[Any]) -> list[Any]:
    return [p for p in parameters if p.parameter_type in ("double", "int")]


def _check_cmaes(parameters: Sequence[Any], settings: dict[str, Any]) -> list[tuple[str, str]]:
    if len(_numeric_parameters(parameters)) < 2:
        return [("spec.parameters", "cmaes needs at least two parameters of type double or int")]
    return []


SEED_WRAP = 2**64
"""A negative ``random_state`` that Katib takes (its goptuna service reads any Go int) seeds
kfp-tune as this plus it: the unsigned number with the int64's bits, -1 as 2**64 - 1. One seed
for one text, and distinct from every seed a non-negative value gives (those below 2**63)."""


def _any_int_seed() -> Setting:
    """``random_state`` for cmaes: any integer Katib's goptuna service reads
    (goptuna/converter.go: strconv.Atoi, so its text and int64 range; what Atoi refuses fails the
    experiment in Katib, and is refused here); a negative one wraps (:data:`SEED_WRAP`), since
    kfp-tune's generators take seeds >= 0."""

    def parse(text: str) -> int:
        if not GO_INT_TEXT.fullmatch(text) or int(text) not in GO_INT64:
            raise ValueError(f"expected an integer in Go's int64 range (Katib's goptuna service reads it with strconv.Atoi), got {text!r}")
        value = int(text)
        return value % SEED_WRAP if value < 0 else value

    return Setting("random_state", parse, None, "seed; same seed, same suggestions (a negative one: plus 2**64)")


def _unread_seed() -> Setting:
    """``random_state`` for sobol and pbt, whose Katib services never read it (goptuna's sobol
    reads no settings; pbt's ValidateAlgorithmSettings and service look at other names only), so
    Katib takes any text: so does kfp-tune. An integer >= 0 is kfp-tune's seed; anything else is
    None, the experiment's own seed as when it is absent, which ``kfp-tune validate`` notes."""

    def parse(text: str) -> int | None:
        try:
            value = int(text)
        except ValueError:
            return None
        return value if value >= 0 else None

    return Setting("random_state", parse, None, "seed; same seed, same suggestions (any other text than an integer >= 0 is ignored, as Katib ignores it)")


def _cmaes_sigma_setting() -> Setting:
    """cmaes's ``sigma``: any number, as Katib's goptuna service reads it (goptuna/converter.go,
    toGoptunaSampler: strconv.ParseFloat, read here by :func:`go_float`: no spaces around it,
    hexadecimal ``0x1p-2`` is 0.25). goptuna v0.8.0 uses it only when it is > 0
    (cmaes/sampler.go, initOptimizer) and its default otherwise, and so does kfp-tune: one <= 0
    (or NaN) is None, the default, which ``kfp-tune validate`` notes. Infinity is refused: no
    search starts with an infinite step."""

    def parse(text: str) -> float | None:
        try:
            value = go_float(text)
        except ValueError:
            raise ValueError(f"expected a number as Go's strconv.ParseFloat reads it (Katib's goptuna service reads sigma so), got {text!r}") from None
        if math.isinf(value):
            raise ValueError(f"expected a finite number (> 0, or <= 0 for the default), got {text!r}")
        return value if value > 0 else None

    return Setting("sigma", parse, None, "the start's step in the parameters' units; <= 0 means the default, as in Katib")


def hyperband_s_max(r_l: float, eta: float) -> int:
    """Hyperband's largest bracket (brackets s_max down to 0), as Katib's
    ``HyperBandParam.convert`` computes it: truncated, float rounding included (r_l 1000 and
    eta 10 give 2, not 3). One definition for the schedule, its limit and Katib's notes."""
    return int(math.log(r_l) / math.log(eta))


def _hyperband_whole(x: float) -> int:
    """``int(x)``, as Katib takes each resource, except that a value float rounding left a hair
    below a whole number counts as that number (Katib's truncation turns 0.9999999999999999,
    r_l 49 and eta 7, into a resource of 0)."""
    return int(x + 1e-9 * max(1.0, abs(x)))


def hyperband_bracket_resources(r_l: float, eta: float) -> list[list[int]]:
    """Each bracket's rung resources, brackets s_max down to 0, as Katib's service computes them:
    the bracket's ``int(r_l * eta**-s)``, then its rungs' ``int(r * eta**i)``. The one rule the
    algorithm's schedule (:func:`kfp_tune.algorithms.hyperband.schedule`) and validate's notes use."""
    brackets = []
    for s in range(hyperband_s_max(r_l, eta), -1, -1):
        r = _hyperband_whole(r_l * eta ** (-s))
        brackets.append([_hyperband_whole(r * eta**i) for i in range(s + 1)])
    return brackets


def hyperband_configurations(r_l: float, eta: float) -> list[int]:
    """How many new configurations each bracket starts, brackets s_max down to 0: Katib's
    ``_new_hbParameters``, ``ceil((s_max + 1) * (eta**s / (s + 1)))``."""
    top = hyperband_s_max(r_l, eta)
    return [math.ceil(float(top + 1) * (eta**s / float(s + 1))) for s in range(top, -1, -1)]


def hyperband_rung_sizes(r_l: float, eta: float) -> list[list[int]]:
    """Each bracket's rung sizes, brackets s_max down to 0: the new configurations it starts,
    then each rung's promotions from the one below, as Katib's ``_make_child_bracket`` sizes them
    (``ceil(ceil(n * eta**-(i-1)) / eta)``), nominal (failed trials can shrink a rung)."""
    sizes = []
    for n, resources in zip(hyperband_configurations(r_l, eta), hyperband_bracket_resources(r_l, eta), strict=True):
        sizes.append([n] + [math.ceil(math.ceil(n * eta ** (-(i - 1))) / eta) for i in range(1, len(resources))])
    return sizes


def hyperband_largest_resource(space: SearchSpace, settings: dict[str, Any]) -> float:
    """``r_l``, or where the spec leaves it out the resource parameter's max (1 for one without:
    a list), as the algorithm takes it (:func:`kfp_tune.algorithms.hyperband.largest_resource`).
    ``settings``: parsed, of a valid spec."""
    if settings.get("r_l") is not None:
        return float(settings["r_l"])
    return float(space[settings["resource_name"]].high or 1.0)


def hyperband_repeat_note(space: SearchSpace, settings: dict[str, Any]) -> str | None:
    """Where the parameters other than the resource have fewer configurations than hyperband's
    schedule runs at one resource (a bracket's new ones, with other brackets' promotions there):
    some are drawn again and run again at that resource, as Katib's service, which draws with
    replacement, runs them. ``settings``: parsed, of a valid spec (r_l left out is the resource
    parameter's max, as the algorithm takes it)."""
    resource_name = settings["resource_name"]
    counts = [p.count() for p in space if p.name != resource_name]
    if None in counts:
        return None
    have = math.prod(c or 0 for c in counts)
    eta = float(settings.get("eta") or HYPERBAND_DEFAULT_ETA)
    r_l = hyperband_largest_resource(space, settings)
    at: dict[int, int] = {}
    for resources, sizes in zip(hyperband_bracket_resources(r_l, eta), hyperband_rung_sizes(r_l, eta), strict=True):
        for resource, size in zip(resources, sizes, strict=True):
            at[resource] = at.get(resource, 0) + size
    needed, resource = max((n, r) for r, n in at.items())
    if have >= needed:
        return None
    return (
        f"hyperband's schedule runs {needed} configurations at {resource_name} {resource} and the parameters other than {resource_name!r} "
        f"have only {have}, so some repeat: a configuration runs again at the same resource (Katib's hyperband service draws with "
        "replacement and repeats them too)"
    )


def hyperband_resources(r_l: float, eta: float) -> list[int]:
    """Every resource hyperband's schedule gives a trial, smallest first."""
    return sorted({resource for bracket in hyperband_bracket_resources(r_l, eta) for resource in bracket})


def _check_hyperband(parameters: Sequence[Any], settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Katib's ValidateAlgorithmSettings checks only that resource_name names a parameter: its
    service gives that parameter the schedule's whole numbers (``str(r)``) whatever its type, a
    discrete or categorical one's too, and so does kfp-tune (the algorithm's space makes it an int)."""
    resource = settings.get("resource_name")
    if resource is None:
        return [("spec.algorithm.algorithmSettings", "hyperband needs the setting resource_name")]
    if not any(p.name == resource for p in parameters):
        return [("spec.algorithm.algorithmSettings", f"resource_name {resource!r} is not a parameter in spec.parameters")]
    return []


HYPERBAND_DEFAULT_ETA = 3.0
"""The eta Katib's hyperband service uses when none is given, and in place of one <= 0."""


HYPERBAND_MIN_ETA = 2
"""The smallest eta Katib's hyperband service admits: its check reads eta as ``int(float(eta))``
and divides by ``log`` of that, which is 0 for any eta from 1 to 2."""


def _eta_setting() -> Setting:
    """hyperband's ``eta``: a number >= 2, or one <= 0, which Katib's service replaces with its
    default 3 (pkg/suggestion/v1beta1/hyperband/service.py: ValidateAlgorithmSettings and
    HyperBandParam.convert), and so does kfp-tune. One in (0, 2) is refused: from 1 to 2 as
    Katib's check refuses it, since ``int(r * eta**i)`` can give a promoted rung the resource its
    members just had, so they would run again unchanged; below 1 (Katib's check reads it as 3 and
    lets it through) since no bracket halves by a factor below 1. The refusal says the value as
    given (``1.9999999``, not ``2``)."""
    number = float_setting("eta").parse

    def parse(text: str) -> float:
        value = number(text)
        if value <= 0:
            return HYPERBAND_DEFAULT_ETA
        if value < HYPERBAND_MIN_ETA:
            why = (
                "Katib's hyperband service checks int(float(eta)), 1 here, and fails dividing by log(1) ('Validation failed: "
                "ValidateAlgorithmSettings Error: Exception calling application: float division by zero'); below 2 a promoted "
                "rung can get the resource its trials just had and run them again unchanged"
                if value >= 1 else
                f"no bracket halves by a factor below 1 (Katib's hyperband service checks int(float(eta)), 0 here, as its default "
                f"{HYPERBAND_DEFAULT_ETA:g} and lets it through)"
            )
            raise ValueError(
                f"expected a number >= {HYPERBAND_MIN_ETA} (or <= 0 for Katib's default {HYPERBAND_DEFAULT_ETA:g}), got {text.strip()}: {why}"
            )
        return float(value)

    return Setting("eta", parse, HYPERBAND_DEFAULT_ETA, "the halving rate; <= 0 means the default, as in Katib")


def _check_pbt(parameters: Sequence[Any], settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Katib's pbt service requires ``suggestion_trial_dir`` (pkg/suggestion/v1beta1/pbt/service.py,
    ValidateAlgorithmSettings). No default can stand in for it: it is the path the trial's own
    command reads and writes its checkpoint at, and without it every trial would share whatever
    folder that command names, each resuming from the one before."""
    if not settings.get(TRIAL_DIR_SETTING):
        return [
            (
                "spec.algorithm.algorithmSettings",
                f"pbt needs the setting {TRIAL_DIR_SETTING} (as Katib's pbt service does): the path, as the trial's command names it, "
                "where each trial finds its own checkpoint folder, e.g. /var/log/katib/checkpoints/",
            )
        ]
    return []


def _check_grid(parameters: Sequence[Any], settings: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"spec.parameters[{i}].feasibleSpace.step", "grid needs a step for every double parameter")
        for i, p in enumerate(parameters)
        if p.parameter_type == "double" and not p.feasible_space.step
    ]


FLOAT32_MAX = 3.4028234663852886e38
"""The largest float32. scikit-learn's trees read their inputs as float32: a larger value is infinity."""


def _check_bayesianoptimization(parameters: Sequence[Any], settings: dict[str, Any]) -> list[tuple[str, str]]:
    """base_estimator RF, ET and GBRT are scikit-learn's trees, given a uniform parameter's values
    as they are (a logUniform one's as logs, a normal or logNormal one's as unit-cube
    coordinates), which they read as float32: beyond about 3.4e38 every suggestion after the
    random start fails. The Gaussian process (GP) works in the unit cube and takes any range."""
    estimator = settings.get("base_estimator")
    if estimator not in ("RF", "ET", "GBRT"):
        return []
    problems: list[tuple[str, str]] = []
    for i, parameter in enumerate(parameters):
        if parameter.parameter_type not in ("double", "int") or parameter.feasible_space.distribution in ("logUniform", "normal", "logNormal"):
            continue
        for end in ("min", "max"):
            text = getattr(parameter.feasible_space, end)
            try:
                value = float(text)
            except (TypeError, ValueError):
                continue  # the parameter's own checks say what is wrong with it
            if math.isfinite(value) and abs(value) > FLOAT32_MAX:
                problems.append(
                    (
                        f"spec.parameters[{i}].feasibleSpace.{end}",
                        f"base_estimator {estimator} (scikit-learn's trees, which read values as float32) takes a uniform parameter "
                        f"between -3.4e38 and 3.4e38, got {text}: narrow the range, use a logUniform distribution, or base_estimator GP",
                    )
                )
    return problems


_ENAS_SETTINGS = (  # Katib: pkg/suggestion/v1beta1/nas/enas/AlgorithmSettings.py; floats in (low, high]
    int_setting("controller_hidden_size", 64, minimum=1, help="the LSTM's hidden units"),
    # inf: logits of 0, every choice equally likely, as in Katib; infinite tanh_const, entropy_weight or skip_weight
    # leave no finite logit or reward (softmax and REINFORCE give NaN), so kfp-tune refuses them (docs/guide.md)
    float_setting("controller_temperature", 5.0, greater_than=0.0, allow_none=True, help="softmax temperature of the logits", allow_infinity=True),
    float_setting("controller_tanh_const", 2.25, greater_than=0.0, allow_none=True, help="logits scaled by tanh times this"),
    float_setting("controller_entropy_weight", 1e-5, greater_than=0.0, allow_none=True, help="entropy bonus in the reward"),
    float_setting("controller_baseline_decay", 0.999, greater_than=0.0, at_most=1.0, help="decay of the reward's moving baseline"),
    float_setting("controller_learning_rate", 5e-5, greater_than=0.0, at_most=1.0),
    float_setting("controller_skip_target", 0.4, greater_than=0.0, at_most=1.0, help="wanted share of skip connections"),
    float_setting("controller_skip_weight", 0.8, greater_than=0.0, allow_none=True, help="weight of the skip-target penalty"),
    int_setting("controller_train_steps", 50, minimum=1, help="controller updates per suggestion"),
    int_setting("controller_log_every_steps", 10, minimum=1),
)
_DARTS_SETTINGS = (  # Katib: pkg/suggestion/v1beta1/nas/darts/service.py
    int_setting("num_epochs", 50, minimum=1),
    float_setting("w_lr", 0.025, at_least=0.0, help="weights' learning rate"),
    float_setting("w_lr_min", 0.001, at_least=0.0, help="weights' learning rate at the end of the cosine schedule"),
    float_setting("w_momentum", 0.9, at_least=0.0),
    float_setting("w_weight_decay", 3e-4, at_least=0.0),
    float_setting("w_grad_clip", 5.0, at_least=0.0, allow_infinity=True, help="gradient norm clip; inf: no clipping"),  # torch's clip_grad_norm_
    float_setting("alpha_lr", 3e-4, at_least=0.0, help="architecture weights' learning rate"),
    float_setting("alpha_weight_decay", 1e-3, at_least=0.0),
    int_setting("batch_size", 128, minimum=1, allow_none=True),
    int_setting("num_workers", 4, minimum=0, help="data loader workers"),
    int_setting("init_channels", 16, minimum=1),
    int_setting("print_step", 50, minimum=1),
    int_setting("num_nodes", 4, minimum=1, help="nodes per cell"),
    int_setting("stem_multiplier", 3, minimum=1),
)
DARTS_PARAMETERLESS = "skip_connection"
"""The one operation darts takes without parameters (an identity: no filter size)."""


def _operations(nas: Any) -> list[tuple[str, Any]]:
    return [(f"spec.nasConfig.operations[{i}]", op) for i, op in enumerate(nas.operations or [])]


MAX_ENAS_OPERATIONS = 10_000
"""Candidate operations (every combination of each operation's parameter values, summed), at
most: the controller chooses among them with a softmax at every layer, and the trial gets each
chosen one in nn_config. Katib's examples have a few hundred. kfp-tune's own bound, one of the
few refusals of what Katib admits (Katib's enas service sets none: Operation.py enumerates them
all): kfp-tune replays the controller's training over every trial at each suggestion, and
that grows with the candidates (10 trials of one layer: 17 s at 10,000, 2 minutes at 100,000)."""

MAX_ENAS_LAYERS = 100
"""``graphConfig.numLayers`` at most, for enas (and regularized-evolution, which gives trials
enas's values); Katib's examples have 1 and 8. kfp-tune's own bound (Katib's enas service sets
none): an architecture has a skip bit per pair of layers, so its ``architecture`` string grows
with the square of the layers (15,000 characters at 100 layers, 60,000 at 200; above about 290 it
no longer fits the 128 KiB Linux allows one argument, and Katib's examples pass it inside
``sh -c``'s one command string), and the controller replayed over every trial at each suggestion
costs about 2 s per trial at 100 layers, 10 s at 200 (2 shared cores)."""


MAX_ENAS_CONTROLLER_BYTES = 32 * 2**30
"""The most memory the enas controller may need (:func:`enas_controller_bytes`), 32 GiB: its
LSTM's weights grow with the square of ``controller_hidden_size`` (Katib's examples: 64 and 100,
a few MiB), so 100,000 asks for terabytes and fails at the first suggestion. kfp-tune's own
bound (Katib's enas service sets none), refused when the experiment is checked."""
ENAS_BYTES_PER_WEIGHT = 24
"""What the controller keeps per weight: its float64 initial draw (8 bytes), the float32 weights,
their two Adam moments and a gradient (4 each); the activations of a replay come on top."""


def enas_controller_bytes(hidden_size: int, candidates: int) -> int:
    """The enas controller's memory, estimated from its settings (algorithms/enas.py Controller):
    the LSTM's (2h, 4h) weights, the two (h, h) attention matrices and the embeddings of the
    ``candidates`` operations, at :data:`ENAS_BYTES_PER_WEIGHT` each."""
    h = hidden_size
    weights = 8 * h * h + 2 * h * h + 2 * h + 2 * candidates * h
    return weights * ENAS_BYTES_PER_WEIGHT


def _value_count(parameter: Any) -> int | None:
    """How many values ENAS enumerates for an operation's parameter (Katib's Operation.py:
    a categorical's list, an int's range(min, max + 1, step), a double's min, min + step, ...
    up to max; a discrete one, which enas refuses with its own message, as 1); None where a bound
    does not parse (the parameter's own check names it)."""
    fs = parameter.feasible_space
    if parameter.parameter_type == "categorical":
        return len(fs.list or [])
    if parameter.parameter_type not in ("int", "double"):
        return 1
    try:
        low, high, step = float(fs.min), float(fs.max), float(fs.step)
    except (TypeError, ValueError):
        return None
    if not (step > 0 and high >= low) or not math.isfinite((high - low) / step):
        return None
    return int((high - low) / step + 1e-9) + 1


def _gib(size: int) -> str:
    """A size as a message says it: ``2,328 GiB``, ``0.5 GiB``."""
    gib = size / 2**30
    return f"{gib:,.0f} GiB" if gib >= 10 else f"{gib:.1f} GiB"


def _largest_enas_hidden_size(candidates: int) -> int:
    """The largest controller_hidden_size within :data:`MAX_ENAS_CONTROLLER_BYTES`."""
    low, high = 1, 1 << 20
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if enas_controller_bytes(middle, candidates) <= MAX_ENAS_CONTROLLER_BYTES else (low, middle - 1)
    return low


def _check_enas(nas: Any, settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Katib's ENAS service: input and output sizes given, every operation with parameters of a
    kind it enumerates (categorical, int, double: its Operation.py leaves a discrete one out of the
    combinations but not out of its count, and fails), and an int parameter's step (each operation
    is expanded into every combination of its parameters' values, an int's as range(min, max + 1,
    step)); and no more candidate operations, nor layers, than a suggestion can afford."""
    problems: list[tuple[str, str]] = []
    total = 0
    for _, op in _operations(nas):
        counts = [_value_count(parameter) for parameter in op.parameters or []]
        if None in counts:
            total = -1  # not countable: a bound the parameter's own check reports
            break
        total += math.prod(c for c in counts if c is not None)
        if total > MAX_ENAS_OPERATIONS:
            break
    if total > MAX_ENAS_OPERATIONS:
        problems.append(
            (
                "spec.nasConfig.operations",
                f"enas expands the operations into more than {MAX_ENAS_OPERATIONS:,} candidates (every combination of each operation's parameter values); "
                "expected at most that: fewer values or a larger step (kfp-tune's own limit, which Katib does not set: "
                "its controller is rebuilt from every trial at each suggestion, at a cost that grows with the candidates)",
            )
        )
    hidden = settings.get("controller_hidden_size")
    if isinstance(hidden, int) and (needed := enas_controller_bytes(hidden, max(total, 1))) > MAX_ENAS_CONTROLLER_BYTES:
        problems.append(
            (
                "spec.algorithm.algorithmSettings",
                f"controller_hidden_size {hidden:,}: the enas controller would need about {_gib(needed)} of memory "
                f"(its LSTM's weights grow with the square of the hidden size); expected at most {MAX_ENAS_CONTROLLER_BYTES // 2**30} GiB, "
                f"a hidden size up to about {_largest_enas_hidden_size(max(total, 1)):,} (Katib's examples use 64 and 100; kfp-tune's own limit, which Katib does not set)",
            )
        )
    graph = nas.graph_config
    if graph is not None and graph.num_layers is not None and graph.num_layers > MAX_ENAS_LAYERS:
        problems.append(
            (
                "spec.nasConfig.graphConfig.numLayers",
                f"expected at most {MAX_ENAS_LAYERS} layers for enas, got {graph.num_layers:,} (kfp-tune's own limit, which Katib does not set: "
                "an architecture has a skip bit per pair of layers, so the trial's architecture value grows with their square, "
                "and each suggestion's cost grows with them)",
            )
        )
    for key, attribute in (("inputSizes", "input_sizes"), ("outputSizes", "output_sizes")):
        if graph is None or not getattr(graph, attribute):
            problems.append((f"spec.nasConfig.graphConfig.{key}", "required for enas: a non-empty list of sizes (the trial's network gets them in nn_config)"))
    for path, op in _operations(nas):
        if not op.parameters:
            problems.append((f"{path}.parameters", "required for enas: each combination of an operation's parameter values is one candidate operation"))
            continue
        for j, parameter in enumerate(op.parameters):
            if parameter.parameter_type == "discrete":
                problems.append(
                    (
                        f"{path}.parameters[{j}].parameterType",
                        "expected categorical, int or double for a parameter of an enas operation, got 'discrete': Katib's enas service fails on it "
                        "(its Operation.py leaves it out of the candidate operations, then looks for it there), and it would never be searched "
                        "nor reach nn_config; a categorical list of the same values searches them",
                    )
                )
            if parameter.parameter_type == "int" and not parameter.feasible_space.step:
                problems.append((f"{path}.parameters[{j}].feasibleSpace.step", "required for an int parameter of an enas operation: its values are min, min + step, ... max"))
    return problems


def _check_darts(nas: Any, settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Katib's DARTS service makes one primitive per value of each operation's first parameter
    (its filter size: ``separable_convolution_3x3``), and ``skip_connection`` as it is."""
    problems: list[tuple[str, str]] = []
    for path, op in _operations(nas):
        if op.operation_type == DARTS_PARAMETERLESS:
            continue
        if not op.parameters:
            problems.append((f"{path}.parameters", f"required for darts (all but {DARTS_PARAMETERLESS}): one categorical parameter, the filter size"))
        elif op.parameters[0].parameter_type not in ("categorical", "discrete"):
            problems.append(
                (f"{path}.parameters[0].parameterType", f"darts reads the filter sizes from the first parameter's feasibleSpace.list: expected categorical or discrete, got {op.parameters[0].parameter_type!r}")
            )
    return problems


def _check_regularized_evolution(nas: Any, settings: dict[str, Any]) -> list[tuple[str, str]]:
    """kfp-tune's regularized-evolution (not Katib's) gives trials enas's values, so it needs of
    nasConfig what enas does; and a tournament no larger than the population."""
    problems = [(path, f"{message} (regularized-evolution reads nasConfig as enas does)") for path, message in _check_enas(nas, settings)]
    population, sample = settings.get("population_size"), settings.get("sample_size")
    if isinstance(population, int) and isinstance(sample, int) and sample > population:
        problems.append(("spec.algorithm.algorithmSettings", f"sample_size {sample} is larger than population_size {population}: expected at most population_size"))
    return problems


ALGORITHMS: dict[str, CatalogueEntry] = {
    entry.name: entry
    for entry in (
        CatalogueEntry("random", (_KATIB_NUMPY_SEED,), help="independent samples from each parameter's distribution"),
        CatalogueEntry(
            "grid",
            # Katib's grid (Optuna's GridSampler) draws each point at random among those left, seeded by random_state
            (_KATIB_NUMPY_SEED,),
            check_problem=_check_grid,
            help="every point of the (stepped) grid once, in random order",
        ),
        CatalogueEntry("sobol", (_unread_seed(),), help="scrambled Sobol quasi-random sequence", takes_unknown_settings=True),  # goptuna reads none
        CatalogueEntry(
            "bayesianoptimization",
            (
                choice_setting("base_estimator", ("GP", "RF", "ET", "GBRT"), "GP"),
                int_setting("n_initial_points", 10, minimum=0),
                choice_setting("acq_func", ("gp_hedge", "LCB", "EI", "PI", "EIps", "PIps"), "gp_hedge"),
                choice_setting("acq_optimizer", ("auto", "sampling", "lbfgs"), "auto"),
                float_setting("kappa", 1.96, greater_than=0.0, help="exploration for LCB/UCB"),
                float_setting("xi", 0.01, at_least=0.0, help="exploration for EI/PI"),
                _KATIB_NUMPY_SEED,
            ),
            check_problem=_check_bayesianoptimization,
        ),
        CatalogueEntry(
            "tpe",
            _TPE_SETTINGS,
        ),
        CatalogueEntry(
            "multivariate-tpe",
            _TPE_SETTINGS,
        ),
        CatalogueEntry(
            "cmaes",
            (
                _cmaes_sigma_setting(),
                choice_setting("restart_strategy", ("none", "ipop", "bipop"), "none"),
                _any_int_seed(),
            ),
            check_problem=_check_cmaes,
            takes_unknown_settings=True,  # goptuna/converter.go, toGoptunaSampler: reads the names it knows
        ),
        CatalogueEntry(
            "hyperband",
            (
                str_setting("resource_name"),
                _eta_setting(),
                # any number here: validation says the real bound, at least 1 (_check_algorithm_limits)
                float_setting("r_l", None),
            ),
            check_problem=_check_hyperband,
            takes_unknown_settings=True,  # HyperBandParam.convert logs an unknown name and goes on
        ),
        CatalogueEntry(
            "pbt",
            (  # Katib: pbt/service.py, ValidateAlgorithmSettings (both ends of truncation_threshold included)
                str_setting(TRIAL_DIR_SETTING),
                int_setting("n_population", 40, minimum=5),
                float_setting("truncation_threshold", 0.2, at_least=0.0, at_most=1.0),
                float_setting("resample_probability", None, at_least=0.0, at_most=1.0),
                _unread_seed(),
            ),
            check_problem=_check_pbt,
            trial_labels=(GENERATION_LABEL, PARENT_LABEL),
            takes_unknown_settings=True,  # its check reads only its own keys
        ),
        CatalogueEntry(
            "enas",
            _ENAS_SETTINGS,
            help="neural architecture search: an LSTM controller proposes each layer's operation and skip connections (needs nasConfig)",
            trial_values=ENAS_TRIAL_VALUES,
            check_nas=_check_enas,
        ),
        # kfp-tune's own, not one of Katib's algorithms: regularized (aging) evolution, Real et al. 2019,
        # over enas's architectures (algorithms/regularized_evolution.py)
        CatalogueEntry(
            "regularized-evolution",
            (
                int_setting("population_size", 20, minimum=1, help="the most recent trials with a result that make the population; the first this many trials are random"),
                int_setting("sample_size", 5, minimum=1, help="members drawn (with replacement) for each tournament; the best is mutated"),
                _RANDOM_STATE,
            ),
            help="kfp-tune's own (not Katib's): aging evolution over enas's architectures, mutating the best of a random sample (needs nasConfig)",
            trial_values=ENAS_TRIAL_VALUES,
            check_nas=_check_regularized_evolution,
            in_katib=False,
        ),
        CatalogueEntry(
            "darts",
            _DARTS_SETTINGS,
            help="differentiable architecture search: each trial trains the whole supernet (needs nasConfig)",
            trial_values=("algorithm-settings", "search-space", "num-layers"),
            check_nas=_check_darts,
            takes_unknown_settings=True,  # darts/service.py: get_algorithm_settings passes every name on to the trial
        ),
    )
}

EARLY_STOPPING: dict[str, CatalogueEntry] = {
    "medianstop": CatalogueEntry(
        "medianstop",
        (
            int_setting("min_trials_required", 3, minimum=1),
            int_setting("start_step", 4, minimum=1),
        ),
        help="stop a trial whose best value so far is worse than the median of completed trials",
    )
}


def setting_default(algorithm: str, name: str) -> Any:
    """The catalogue's default of one of a Katib algorithm's settings. An algorithm falls back on
    it when built from settings that leave the name out (``registry.create`` with a dict of its
    caller's, a test's direct construction): validation's defaults and the algorithm's are then
    one number, written here."""
    return ALGORITHMS[algorithm].settings_by_name[name].default


def parse_settings(
    entry: CatalogueEntry, given: Sequence[tuple[str, str]], path: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Parse ``algorithmSettings`` against an entry. Returns (settings with defaults, errors).

    Each error is (field path, message); ``given`` is [(name, value)] in spec order. A name given
    twice takes its last value, as each of Katib's services builds its settings (each value is
    still checked). An unknown name is refused, unless Katib's service takes such names
    (``takes_unknown_settings``): then it is left out here, and noted by ``kfp-tune validate``."""
    values: dict[str, Any] = {s.name: s.default for s in entry.settings}
    errors: list[tuple[str, str]] = []
    for index, (name, text) in enumerate(given):
        where = f"{path}[{index}]"
        setting = entry.settings_by_name.get(name)
        if setting is None:
            if entry.takes_unknown_settings:
                continue
            known = ", ".join(sorted(entry.settings_by_name)) or "none"
            errors.append((f"{where}.name", f"unknown setting {name!r} for {entry.name}{did_you_mean(name, entry)} (known: {known})"))
            continue
        try:
            values[name] = setting.parse(text)
        except ValueError as exc:
            errors.append((f"{where}.value", f"{name}: {exc}"))
    return values, errors


SETTING_ALIASES: dict[str, tuple[str, str]] = {
    "n_random_starts": ("n_initial_points", "scikit-optimize's older name of it"),
    "n_startup_jobs": ("n_startup_trials", "hyperopt's name of it"),
    "seed": ("random_state", "the seed's name in Katib's settings"),
    "random_seed": ("random_state", "the seed's name in Katib's settings"),
}
"""Setting names of other libraries, or older ones, that users type for a Katib setting: name ->
(the setting, why), offered where the algorithm has that setting. Spelling alone would point
``n_random_starts`` at ``random_state``, the seed."""


def same_but_case(given: str, known: Sequence[str]) -> str | None:
    """The one of ``known`` that ``given`` differs from only by its case, else None."""
    same = [k for k in known if k.lower() == given.lower()]
    return same[0] if len(same) == 1 else None


def did_you_mean(name: str, entry: CatalogueEntry) -> str:
    """``"; did you mean 'x'?"`` for the setting a mistyped name stands for: another library's
    name of it (:data:`SETTING_ALIASES`), the same name in another case, else the nearest spelling;
    "" when none is near."""
    known = list(entry.settings_by_name)
    alias = SETTING_ALIASES.get(name)
    if alias is not None and alias[0] in entry.settings_by_name:
        return f"; did you mean {alias[0]!r}? ({name!r} is {alias[1]})"
    if (same := same_but_case(name, known)) is not None:
        return f"; did you mean {same!r}? (setting names are case-sensitive)"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def experiment_space(spec: Any) -> SearchSpace:
    """The space an experiment's trials are assigned from: ``spec.parameters``, or for an
    architecture search (``spec.nasConfig``) one ``text`` value per name its algorithm gives each
    trial (enas: ``architecture``, ``nn_config``), so trials of both kinds are stored alike."""
    entry = ALGORITHMS.get(spec.algorithm.algorithm_name) if spec.algorithm is not None else None
    searched = entry.trial_values if entry is not None and spec.nas_config is not None else ()
    return search_space_of(spec.parameters or (), searched)


SpaceAdjuster = Callable[[SearchSpace, dict[str, Any]], SearchSpace]
SPACE_ADJUSTERS: dict[str, SpaceAdjuster] = {}
"""By algorithm name, how an algorithm that owns part of the space changes it (hyperband: its
resource parameter's range), registered with the algorithm (``kfp_tune.algorithms.register``)."""


def adjusted_space(name: str, space: SearchSpace, settings: dict[str, Any]) -> SearchSpace:
    """The space the algorithm ``name`` searches (the spec's, unless the algorithm adjusts it)."""
    adjust = SPACE_ADJUSTERS.get(name)
    return adjust(space, settings) if adjust is not None else space


def searched_space(spec: Any) -> SearchSpace:
    """The space a (valid) experiment's trials are assigned from, as its algorithm searches it:
    what every stored assignment is checked against when it is read. Where the algorithm cannot
    say (not one of the catalogue's: a plug-in, installed or not; settings that do not parse
    today), its numbers' bounds are not held (:meth:`SearchSpace.without_bounds`): a shared
    store read without the plug-in must not call its own trials damaged."""
    space = experiment_space(spec)
    entry = ALGORITHMS.get(spec.algorithm.algorithm_name) if spec.algorithm is not None else None
    if entry is None:
        return space.without_bounds()
    settings, problems = parse_settings(entry, [(s.name, s.value) for s in spec.algorithm.algorithm_settings], "")
    return space.without_bounds() if problems else adjusted_space(entry.name, space, settings)


DEFAULT_ALGORITHM = "bayesianoptimization"
"""The algorithm ``tune()``, ``submit_function()`` and ``remote.function_job_experiment()`` use
when none is named: the one with the best overall rank on the BBOB benchmark among kfp-tune's
algorithms (docs/benchmarks.md, "tune()'s default"). Its first ``n_initial_points`` (10) trials
are random. A Katib Experiment names its algorithm (``algorithmName`` is required, as in Katib),
so this is for Python only."""
