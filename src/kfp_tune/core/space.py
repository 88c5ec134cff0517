"""The search space as algorithms see it: typed parameters, their values and how values print.

Katib passes every value to the trial as a string. Here a value is held typed (float for double,
int for int, the list's own string for discrete and categorical) and turned into Katib's string
form in one place, :meth:`Parameter.format`.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, cast

from kfp_tune.core.errors import shown

ParameterType = Literal["double", "int", "discrete", "categorical", "text"]
"""Katib's four parameter types, and ``text``: a value an architecture search algorithm makes
whole (enas's ``architecture`` JSON, darts's ``search-space``), not chosen from a list."""
Distribution = Literal["uniform", "logUniform", "normal", "logNormal"]
PARAMETER_TYPES: tuple[str, ...] = ("double", "int", "discrete", "categorical")
DISTRIBUTIONS: tuple[str, ...] = ("uniform", "logUniform", "normal", "logNormal")
LOG_DISTRIBUTIONS: tuple[str, ...] = ("logUniform", "logNormal")
"""The distributions drawn on log10 of the value: they need min > 0."""

Value = float | int | str

GRID_ULPS = 8
"""How many float spacings (of the larger bound) a stepped double may sit off its grid: snap's
``min + k * step`` and its rounding to the step's decimals are each half a spacing off at most."""

GRID_SLACK_MAX = 0.1
"""The most of a step a value may sit off the grid and still be on it: a step so fine that
:data:`GRID_ULPS` spacings are more is refused by validation (:func:`finest_step`)."""


def finest_step(low: float, high: float) -> float:
    """The finest step a double from ``low`` to ``high`` may have: finer, its neighbouring values
    are too few float spacings apart to tell on the grid from off it."""
    return GRID_ULPS * sys.float_info.epsilon * max(abs(low), abs(high)) / GRID_SLACK_MAX


def parse_number(text: str) -> float:
    """A finite float from Katib's string form; ValueError otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _decimals(text: str) -> int:
    try:
        exponent = Decimal(text.strip()).normalize().as_tuple().exponent
    except InvalidOperation:
        return 0
    return max(0, -int(exponent)) if isinstance(exponent, int) else 0


def as_given(values: Mapping[str, Any], objects: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A trial's typed values with each categorical one the object given for its text
    (``objects``: ``kfp_tune.search.categorical_objects``): as a function trial gets them and a result shows them."""
    out = dict(values)
    for name, by_text in objects.items():
        text = out.get(name)
        if isinstance(text, str) and text in by_text:
            out[name] = by_text[text]
    return out


@dataclass(frozen=True)
class Parameter:
    """One validated parameter of the search space."""

    name: str
    type: ParameterType
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    distribution: Distribution = "uniform"
    decimals: int | None = field(default=None, compare=False)

    @property
    def is_numeric_range(self) -> bool:
        return self.type in ("double", "int")

    @property
    def is_log(self) -> bool:
        return self.distribution in LOG_DISTRIBUTIONS

    def feasible_text(self) -> str:
        """The feasible space in words, for a message about a value outside it."""
        if self.type in ("discrete", "categorical"):
            return f"one of {list(self.choices)}"
        if self.type == "text":
            return "any text"
        assert self.low is not None and self.high is not None
        if math.isinf(self.low) and math.isinf(self.high):  # SearchSpace.without_bounds
            return f"a finite {'integer' if self.type == 'int' else 'number'}"
        bounds = f"{self.type} from {self.format(self.low)} to {self.format(self.high)}"
        return bounds + (f" in steps of {self.format(self.step)} from {self.format(self.low)}" if self.step else "")

    def format(self, value: Value) -> str:
        """Katib's string form of a value of this parameter."""
        if self.type == "int":
            return str(int(value))
        if self.type == "double":
            number = float(value)
            if self.decimals is not None:
                text = f"{number:.{self.decimals}f}"
                return text.rstrip("0").rstrip(".") if "." in text else text
            return repr(number)
        return str(value)

    def canonical(self, value: Value) -> Value:
        """A value that compares equal exactly when ``format`` gives the same string."""
        if self.type == "int":
            return int(value)
        if self.type == "double":
            number = float(value)
            return round(number, self.decimals) if self.decimals is not None else number
        return str(value)

    def parse(self, text: str) -> Value:
        """The typed value of Katib's string form; ValueError if it is not one of this parameter's."""
        if self.type == "int":
            number = parse_number(text)
            if number != int(number):
                raise ValueError(f"{text!r} is not an integer")
            return int(number)
        if self.type == "double":
            return parse_number(text)
        if self.type == "text":
            return text
        if text not in self.choices:
            raise ValueError(f"{text!r} is not one of {list(self.choices)}")
        return text

    def to_python(self, value: Value) -> Value:
        """The value a Python objective gets: discrete values as numbers (int when integral)."""
        if self.type == "discrete" and isinstance(value, str):
            number = parse_number(value)
            return int(number) if number.is_integer() and not any(c in value for c in ".eE") else number
        return value

    def contains(self, value: Value) -> bool:
        """Whether a typed value is feasible: in bounds, on the step grid, of the right type."""
        if self.type in ("discrete", "categorical"):
            return isinstance(value, str) and value in self.choices
        if self.type == "text":
            return isinstance(value, str)
        if self.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            return False
        if not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            return False
        assert self.low is not None and self.high is not None
        if self.type == "int":
            # exact: an int has no rounding noise, and the float allowance below grows with the
            # range (1e-9 of 0..1e9 is 1, so 1000000001 would pass); validated bounds and step are
            # whole numbers within 2**53, so int() of them is exact
            if not self.low <= value <= self.high:
                return False
            return not self.step or (int(value) - int(self.low)) % int(self.step) == 0
        # rounding noise (a log scale's exp(log(max))) scales with the numbers, not with 1: a range
        # of 1e-10 .. 5e-10 must refuse 1.4e-9
        tolerance = 1e-9 * max(abs(self.low), abs(self.high), self.high - self.low)
        if not (self.low - tolerance <= float(value) <= self.high + tolerance):
            return False
        if self.step:
            # on the grid to the float's own precision: a value near 1e6 is 1e-10 apart from the
            # next float, a thousandth of a step of 1e-7, so snap's own values land that far off
            k = (float(value) - self.low) / self.step
            precision = GRID_ULPS * sys.float_info.epsilon * max(abs(self.low), abs(self.high)) / self.step
            return abs(k - round(k)) < min(1e-6 + precision, GRID_SLACK_MAX)
        return True

    def snap(self, value: float) -> Value:
        """The nearest feasible value to a number (clipped, on step, typed)."""
        assert self.low is not None and self.high is not None
        value = min(max(float(value), self.low), self.high)
        if self.step:
            k = round((value - self.low) / self.step)
            k = max(0, min(k, math.floor((self.high - self.low) / self.step + 1e-9)))
            value = self.low + k * self.step
        if self.type == "int":
            return round(value)
        if self.decimals is not None:
            return round(value, self.decimals)
        return value

    def count(self) -> int | None:
        """How many distinct values the parameter has; None for a double with no step or text."""
        if self.type in ("discrete", "categorical"):
            return len(self.choices)
        if self.type == "text" or (self.type == "double" and not self.step):
            return None
        assert self.low is not None and self.high is not None
        return math.floor((self.high - self.low) / (self.step or 1.0) + 1e-9) + 1

    def value_at(self, index: int) -> Value:
        """The index-th value in grid order (0 is min, or the first list item)."""
        if self.type in ("discrete", "categorical"):
            return self.choices[index]
        assert self.low is not None
        return self.snap(self.low + index * (self.step or 1.0))

    def grid(self) -> list[Value]:
        """Every value of a finite parameter in order, for grid search.

        Raises ValueError for a double without a step (an infinite set)."""
        count = self.count()
        if count is None:
            raise ValueError(f"parameter {self.name!r} is a double with no step: grid needs feasibleSpace.step")
        return [self.value_at(k) for k in range(count)]


@dataclass(frozen=True)
class SearchSpace:
    """The ordered, validated parameters of an experiment."""

    parameters: tuple[Parameter, ...]

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def __getitem__(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def format(self, assignment: dict[str, Value]) -> dict[str, str]:
        """Katib's string form of a typed assignment."""
        return {p.name: p.format(assignment[p.name]) for p in self.parameters}

    def parse(self, assignment: dict[str, str]) -> dict[str, Value]:
        """Typed values of a stored (string) assignment."""
        return {p.name: p.parse(assignment[p.name]) for p in self.parameters}

    def to_python(self, assignment: dict[str, str]) -> dict[str, Value]:
        """A stored assignment as a Python objective receives it (see Parameter.to_python)."""
        return {p.name: p.to_python(p.parse(assignment[p.name])) for p in self.parameters}

    def key(self, assignment: dict[str, Value]) -> tuple[Value, ...]:
        """A hashable identity of an assignment: equal exactly when the trial would see the same
        strings (a canonical typed value per parameter, cheaper than formatting each one)."""
        return tuple(p.canonical(assignment[p.name]) for p in self.parameters)

    def contains(self, assignment: dict[str, Value]) -> bool:
        return self.problem(assignment) is None

    def problem(self, assignment: Any) -> str | None:
        """What makes a typed point infeasible, in words (the first parameter missing, unknown,
        or with a value outside its feasible space, named with that space); None when it is
        feasible. The one check of a point: an algorithm's suggestions and a stored round's
        assignments (:meth:`stored_problem`) are both held to it."""
        if not isinstance(assignment, dict):
            return f"expected a dict of parameter name to value, got {type(assignment).__name__}"
        for parameter in self.parameters:
            if parameter.name not in assignment:
                return f"parameter {parameter.name!r} is missing"
            value = assignment[parameter.name]
            if not parameter.contains(value):
                return f"parameter {parameter.name!r} is {shown(value)} ({type(value).__name__}); expected {parameter.feasible_text()}"
        unknown = sorted(set(assignment) - set(self.names), key=str)
        return f"{shown(unknown[0])} is not a parameter of the search space ({', '.join(self.names)})" if unknown else None

    def stored_problem(self, assignment: dict[str, str]) -> str | None:
        """What makes a stored (string) assignment not one of this space's points, in words;
        None when it is one. A trial's values reach its command line, so a round record edited
        by hand must not smuggle in one the space does not have (``a; touch x #`` for a
        categorical ``[a, b]``)."""
        typed: dict[str, Any] = {}
        for name, text in assignment.items():
            try:
                typed[name] = self[name].parse(text)
            except KeyError:
                typed[name] = text  # unknown: problem() names it
            except ValueError:
                return f"parameter {name!r} is {shown(text)}; expected {self[name].feasible_text()}"
        return self.problem(typed)

    def without_bounds(self) -> SearchSpace:
        """This space with its numbers' bounds and steps taken off (types, names and lists kept):
        what a stored assignment is held to where the algorithm that made it cannot be asked
        for the range it searched (a plug-in not installed here, settings a later rule refuses),
        since it may search past the spec's own bounds, as hyperband does its resource."""
        return SearchSpace(tuple(
            dataclasses.replace(p, low=-math.inf, high=math.inf, step=None) if p.is_numeric_range else p for p in self.parameters
        ))

    def grid_size(self) -> int | None:
        """How many points the space's grid has; None when a parameter has no finite count (a
        double with no step)."""
        counts = [p.count() for p in self.parameters]
        return math.prod(c for c in counts if c is not None) if None not in counts else None


def build_parameter(name: str, parameter_type: str, feasible: Any) -> Parameter:
    """A Parameter from an already validated Katib ParameterSpec's parts (so the type and
    distribution are among PARAMETER_TYPES and DISTRIBUTIONS)."""
    distribution = cast(Distribution, feasible.distribution or "uniform")
    if parameter_type in ("discrete", "categorical"):
        return Parameter(name=name, type=cast(ParameterType, parameter_type), choices=tuple(feasible.list or ()), distribution=distribution)
    low = parse_number(feasible.min)
    high = parse_number(feasible.max)
    step = parse_number(feasible.step) if feasible.step not in (None, "") else None
    decimals = None
    if parameter_type == "double" and step:
        decimals = max(_decimals(feasible.min), _decimals(feasible.step))
    return Parameter(
        name=name,
        type=cast(ParameterType, parameter_type),
        low=low,
        high=high,
        step=step,
        distribution=distribution,
        decimals=decimals,
    )


def search_space_of(parameters: Sequence[Any], text_values: Sequence[str] = ()) -> SearchSpace:
    """The SearchSpace of a validated experiment's ``spec.parameters``, plus one ``text``
    parameter per value an architecture search algorithm makes (``text_values``)."""
    return SearchSpace(
        tuple(build_parameter(p.name, p.parameter_type, p.feasible_space) for p in parameters)
        + tuple(Parameter(name=name, type="text") for name in text_values)
    )
