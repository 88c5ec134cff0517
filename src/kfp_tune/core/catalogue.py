"""Katib's algorithm names and settings: the contract, in one place.

Every name Katib accepts in ``algorithmName`` (and ``earlyStopping.algorithmName``) is listed
here with its settings, so an experiment is validated the way Katib validates it whether or not
this version implements the algorithm yet. Implementations (:mod:`kfp_tune.algorithms`) register themselves in
:mod:`kfp_tune.algorithms.registry` under these names. Pure data and parsing: the core
validates with it, and the algorithms import it, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One ``algorithmSettings`` entry: its Katib name, how to parse it, and its default.

    ``parse`` turns the string into a value or raises ValueError saying what was expected."""

    name: str
    parse: Callable[[str], Any]
    default: Any = None
    help: str = ""


def int_setting(name: str, default: Any = None, minimum: int | None = None, help: str = "") -> Setting:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
        if minimum is not None and value < minimum:
            raise ValueError(f"expected an integer >= {minimum}, got {value}")
        return value

    return Setting(name, parse, default, help)


def float_setting(
    name: str,
    default: Any = None,
    greater_than: float | None = None,
    less_than: float | None = None,
    help: str = "",
) -> Setting:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"expected a finite number, got {text!r}")
        if greater_than is not None and not value > greater_than:
            raise ValueError(f"expected a number > {greater_than}, got {value}")
        if less_than is not None and not value < less_than:
            raise ValueError(f"expected a number < {less_than}, got {value}")
        return value

    return Setting(name, parse, default, help)


def choice_setting(name: str, choices: Sequence[str], default: Any = None, help: str = "") -> Setting:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"expected one of {list(choices)}, got {text!r}")
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


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    settings: tuple[Setting, ...] = ()
    check_problem: ProblemCheck | None = None
    help: str = ""
    settings_by_name: dict[str, Setting] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings_by_name", {s.name: s for s in self.settings})


_RANDOM_STATE = int_setting("random_state", None, minimum=0, help="seed; same seed, same suggestions")
_TPE_SETTINGS = (  # tpe and multivariate-tpe take the same settings
    float_setting("gamma", 0.25, greater_than=0.0, less_than=1.0),
    float_setting("prior_weight", 1.0, greater_than=0.0),
    int_setting("n_EI_candidates", None, minimum=1, help="hyperopt's name for n_ei_candidates"),
    int_setting("n_ei_candidates", None, minimum=1, help="candidates drawn per suggestion (default 24)"),
    int_setting("n_startup_trials", 10, minimum=0),
    _RANDOM_STATE,
)


def _numeric_parameters(parameters: Sequence[Any]) -> list[Any]:
    return [p for p in parameters if p.parameter_type in ("double", "int")]


def _check_cmaes(parameters: Sequence[Any], settings: dict[str, Any]) -> list[tuple[str, str]]:
    if len(_numeric_parameters(parameters)) < 2:
        return [("spec.parameters", "cmaes needs at least two parameters of type double or int")]
    return []


def _check_hyperband(parameters: Sequence[Any], settings: dict[str, Any]) -> list[tuple[str, str]]:
    resource = settings.get("resource_name")
    if resource is None:
        return [("spec.algorithm.algorithmSettings", "hyperband needs the setting resource_name")]
    matches = [p for p in parameters if p.name == resource]
    if not matches:
        return [("spec.algorithm.algorithmSettings", f"resource_name {resource!r} is not a parameter in spec.parameters")]
    if matches[0].parameter_type not in ("int", "double"):
        return [("spec.algorithm.algorithmSettings", f"resource_name {resource!r} must be an int or double parameter")]
    return []


def _check_grid(parameters: Sequence[Any], settings: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"spec.parameters[{i}].feasibleSpace.step", "grid needs a step for every double parameter")
        for i, p in enumerate(parameters)
        if p.parameter_type == "double" and not p.feasible_space.step
    ]


ALGORITHMS: dict[str, CatalogueEntry] = {
    entry.name: entry
    for entry in (
        CatalogueEntry("random", (_RANDOM_STATE,), help="independent samples from each parameter's distribution"),
        CatalogueEntry("grid", (), check_problem=_check_grid, help="every point of the (stepped) grid, in order"),
        CatalogueEntry("sobol", (_RANDOM_STATE,), help="scrambled Sobol quasi-random sequence"),
        CatalogueEntry(
            "bayesianoptimization",
            (
                choice_setting("base_estimator", ("GP", "RF", "ET", "GBRT"), "GP"),
                int_setting("n_initial_points", 10, minimum=0),
                choice_setting("acq_func", ("gp_hedge", "LCB", "EI", "PI", "EIps", "PIps"), "gp_hedge"),
                choice_setting("acq_optimizer", ("auto", "sampling", "lbfgs"), "auto"),
                float_setting("kappa", 1.96, greater_than=0.0, help="exploration for LCB/UCB"),
                float_setting("xi", 0.01, greater_than=-1e-12, help="exploration for EI/PI"),
                _RANDOM_STATE,
            ),
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
                float_setting("sigma", None, greater_than=0.0),
                choice_setting("restart_strategy", ("none", "ipop", "bipop"), "none"),
                _RANDOM_STATE,
            ),
            check_problem=_check_cmaes,
        ),
        CatalogueEntry(
            "hyperband",
            (
                str_setting("resource_name"),
                float_setting("eta", 3.0, greater_than=1.0),
                float_setting("r_l", None, greater_than=0.0),
            ),
            check_problem=_check_hyperband,
        ),
        CatalogueEntry(
            "pbt",
            (
                str_setting("suggestion_trial_dir"),
                int_setting("n_population", 40, minimum=5),
                float_setting("truncation_threshold", 0.2, greater_than=0.0, less_than=1.0),
                float_setting("resample_probability", None, greater_than=-1e-12, less_than=1.0 + 1e-12),
            ),
        ),
        CatalogueEntry("enas", (), help="neural architecture search (needs nasConfig)"),
        CatalogueEntry("darts", (), help="neural architecture search (needs nasConfig)"),
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


def parse_settings(
    entry: CatalogueEntry, given: Sequence[tuple[str, str]], path: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Parse ``algorithmSettings`` against an entry. Returns (settings with defaults, errors).

    Each error is (field path, message); ``given`` is [(name, value)] in spec order."""
    values: dict[str, Any] = {s.name: s.default for s in entry.settings}
    errors: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, (name, text) in enumerate(given):
        where = f"{path}[{index}]"
        if name in seen:
            errors.append((f"{where}.name", f"setting {name!r} is given more than once"))
            continue
        seen.add(name)
        setting = entry.settings_by_name.get(name)
        if setting is None:
            known = ", ".join(sorted(entry.settings_by_name)) or "none"
            errors.append((f"{where}.name", f"unknown setting {name!r} for {entry.name} (known: {known})"))
            continue
        try:
            values[name] = setting.parse(text)
        except ValueError as exc:
            errors.append((f"{where}.value", f"{name}: {exc}"))
    return values, errors
