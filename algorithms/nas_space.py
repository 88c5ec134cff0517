"""The architecture space of a ``spec.nasConfig``, in Katib's ENAS terms, shared by the
algorithms that search it (enas, regularized-evolution).

Katib's ENAS service (``pkg/suggestion/v1beta1/nas/enas``) turns the nasConfig into a flat list
of candidate operations (every combination of each operation's parameter values, numbered in
order) and gives every trial two strings, which a Katib ENAS trial image parses:

- ``architecture``: one list per layer, layer ``i`` being ``[op, s_0, ..., s_{i-1}]`` (the
  candidate operation's id, then one 0/1 skip bit per earlier layer);
- ``nn_config``: ``num_layers``, ``input_sizes``, ``output_sizes`` and an ``embedding`` that
  describes each operation the architecture uses.

Both are JSON (Python's ``json.dumps`` spacing) with every ``"`` turned into ``'``, as Katib
writes them. An architecture is held here as that nested tuple; its string form is the key
that makes two trials the same architecture.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Suggestions, marked_repeats, spent
from kfp_tune.core.nas_values import ARCHITECTURE, NN_CONFIG, katib_json_value
from kfp_tune.core.space import Value
from kfp_tune.core.vocabulary import TrialStatus

Architecture = tuple[tuple[int, ...], ...]
"""Katib's per-layer lists as tuples: layer ``i`` is ``(op, s_0, ..., s_{i-1})``."""

ENUMERATION_LIMIT = 100_000
"""Architecture spaces at most this big are enumerated when few architectures are left, so the
last ones are found and the end is said (``exhausted``)."""
MAX_DRAWS = 200
"""Draws from an algorithm's own proposal before it falls back to a uniform unused architecture."""


@dataclass(frozen=True)
class CandidateOperation:
    """One of the candidates a layer chooses among: an operation type with one value for each
    of its parameters (Katib's ``Operation``)."""

    opt_id: int
    opt_type: str
    opt_params: tuple[tuple[str, Value], ...]
    """(name, value) in the nasConfig's parameter order: categorical values as their strings,
    int values as ints, double values as floats."""

    def katib_dict(self) -> dict[str, Any]:
        """The operation as nn_config's embedding describes it."""
        return {"opt_id": self.opt_id, "opt_type": self.opt_type, "opt_params": dict(self.opt_params)}


def _parameter_values(parameter: Mapping[str, Any]) -> list[Value]:
    """The values Katib's Operation.py enumerates for one operation parameter; ValueError for a
    kind it leaves out (discrete): its service then fails, and here the parameter would never be
    searched nor reach nn_config (validation refuses it first)."""
    kind = parameter.get("parameterType")
    space = parameter.get("feasibleSpace") or {}
    if kind == "categorical":
        return [str(v) for v in space.get("list") or []]
    if kind == "int":
        first, last, stride = (_int(space.get(key), key) for key in ("min", "max", "step"))
        if stride <= 0:
            raise ValueError(f"an int parameter's step must be positive, got {stride}")
        return list(range(first, last + 1, stride))
    if kind == "double":
        low, high, step = (float(space[key]) for key in ("min", "max", "step"))
        if not step > 0:
            raise ValueError(f"a double parameter's step must be positive, got {step}")
        # Katib's values are numpy's arange(min, max + step, step) without a last one past max (its
        # `del` on an array raises there instead); as many as the catalogue counts, the last one
        # clipped to max where arange's rounding overshoots it (0.1 + 2 * 0.2 is 0.5000000000000001)
        count = int((high - low) / step + 1e-9) + 1
        values: list[Value] = [min(float(v), high) for v in np.arange(low, high + step, step)[:count]]
        return values
    raise ValueError(
        f"operation parameter {parameter.get('name')!r}: parameterType {kind!r} is not one enas enumerates, expected categorical, int or double "
        "(Katib's enas service fails on a discrete one)"
    )


def _int(text: Any, key: str) -> int:
    if text is None or text == "":
        raise ValueError(f"an int parameter of an enas operation needs feasibleSpace.{key}")
    number = float(text)
    if number != int(number):
        raise ValueError(f"feasibleSpace.{key} {text!r} is not an integer")
    return int(number)


def candidate_operations(operations: Sequence[Mapping[str, Any]]) -> tuple[CandidateOperation, ...]:
    """Every combination of each operation's parameter values, numbered from 0 in the nasConfig's
    order (the last parameter varying fastest), as Katib's ENAS service numbers them."""
    out: list[CandidateOperation] = []
    for operation in operations:
        names: list[str] = []
        columns: list[list[Value]] = []
        for parameter in operation.get("parameters") or []:
            values = _parameter_values(parameter)
            name = str(parameter.get("name", ""))
            if name in names:  # Katib keys the columns by name: a repeat replaces the values in place
                columns[names.index(name)] = values
                continue
            names.append(name)
            columns.append(values)
        for combination in itertools.product(*columns):
            out.append(CandidateOperation(len(out), str(operation.get("operationType", "")), tuple(zip(names, combination, strict=True))))
    return tuple(out)


def katib_json(value: Any) -> str:
    """JSON as Katib's enas service hands it to trials: ``json.dumps`` with ``"`` made ``'``."""
    return json.dumps(value).replace('"', "'")


@dataclass(frozen=True)
class NasSpace:
    """The architectures of one nasConfig: ``num_layers`` choices of a candidate operation, and
    a skip bit for every pair of layers."""

    num_layers: int
    input_sizes: tuple[int, ...]
    output_sizes: tuple[int, ...]
    operations: tuple[CandidateOperation, ...]

    @classmethod
    def from_config(cls, nas_config: Mapping[str, Any] | None) -> NasSpace:
        """The space of ``spec.nasConfig`` as Katib's camelCase JSON; ValueError when it has no
        layers or no candidate operation (validation refuses those first)."""
        if not nas_config:
            raise ValueError("an architecture search needs spec.nasConfig")
        graph = nas_config.get("graphConfig") or {}
        layers = graph.get("numLayers")
        if not isinstance(layers, int) or isinstance(layers, bool) or layers < 1:
            raise ValueError(f"spec.nasConfig.graphConfig.numLayers must be a positive integer, got {layers!r}")
        operations = candidate_operations(nas_config.get("operations") or [])
        if not operations:
            raise ValueError("spec.nasConfig.operations gives no candidate operation")
        return cls(layers, tuple(int(v) for v in graph.get("inputSizes") or ()), tuple(int(v) for v in graph.get("outputSizes") or ()), operations)

    @property
    def num_operations(self) -> int:
        return len(self.operations)

    @property
    def num_skips(self) -> int:
        """Skip bits in an architecture: one per pair of layers."""
        return self.num_layers * (self.num_layers - 1) // 2

    @property
    def size(self) -> int:
        """How many distinct architectures there are (an exact, possibly huge, integer)."""
        return self.num_operations**self.num_layers * 2**self.num_skips

    def size_at_most(self, limit: int) -> int | None:
        """:attr:`size` when it is at most ``limit``, else None; decided on logarithms first, so a
        space of many layers never builds its size (2 ** (L(L-1)/2) alone has gigabytes of digits
        at 100,000 layers)."""
        bits = self.num_layers * math.log2(self.num_operations) + self.num_skips
        if bits > math.log2(max(limit, 1)) + 1:  # + 1: room for rounding; the exact test follows
            return None
        size = self.size
        return size if size <= limit else None

    def radices(self) -> list[int]:
        """How many values each decision has, in Katib's order (per layer: op, then skip bits)."""
        return [r for layer in range(self.num_layers) for r in (self.num_operations, *([2] * layer))]

    # --- Katib's strings ----------------------------------------------------------------------
    def architecture_text(self, architecture: Architecture) -> str:
        """The ``architecture`` value a trial gets, e.g. ``[[3], [0, 1]]``."""
        return katib_json([list(layer) for layer in architecture])

    def nn_config_text(self, architecture: Architecture) -> str:
        """The ``nn_config`` value a trial gets: the graph's sizes and the operations the
        architecture uses, keyed by id in the order the layers first use them."""
        embedding: dict[int, dict[str, Any]] = {}
        for layer in architecture:
            embedding[layer[0]] = self.operations[layer[0]].katib_dict()
        config = {
            "num_layers": self.num_layers,
            "input_sizes": list(self.input_sizes),
            "output_sizes": list(self.output_sizes),
            "embedding": embedding,
        }
        return katib_json(config)

    def assignment(self, architecture: Architecture) -> dict[str, Value]:
        """What a trial is assigned: both of Katib's values."""
        return {ARCHITECTURE: self.architecture_text(architecture), NN_CONFIG: self.nn_config_text(architecture)}

    def parse(self, text: str) -> Architecture:
        """An ``architecture`` string back into decisions; ValueError when it is not one of this
        space's (wrong shape, an operation id out of range, a skip bit not 0 or 1)."""
        try:
            value = katib_json_value(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"architecture {text!r} is not JSON: {exc}") from None
        if not isinstance(value, list) or len(value) != self.num_layers:
            raise ValueError(f"architecture {text!r}: expected a list of {self.num_layers} layers")
        layers: list[tuple[int, ...]] = []
        for index, layer in enumerate(value):
            if not isinstance(layer, list) or len(layer) != index + 1 or not all(isinstance(v, int) and not isinstance(v, bool) for v in layer):
                raise ValueError(f"architecture {text!r}: layer {index} must be [operation, {index} skip bits] of integers")
            if not 0 <= layer[0] < self.num_operations:
                raise ValueError(f"architecture {text!r}: layer {index} uses operation {layer[0]}, expected 0 to {self.num_operations - 1}")
            if any(bit not in (0, 1) for bit in layer[1:]):
                raise ValueError(f"architecture {text!r}: layer {index}'s skip bits must be 0 or 1")
            layers.append(tuple(layer))
        return tuple(layers)

    def architecture_of(self, assignment: Mapping[str, Value]) -> Architecture | None:
        """A trial's architecture; None when its ``architecture`` is not one of this space's."""
        text = assignment.get(ARCHITECTURE)
        if not isinstance(text, str):
            return None
        try:
            return self.parse(text)
        except ValueError:
            return None

    # --- enumeration --------------------------------------------------------------------------
    def decisions(self, architecture: Architecture) -> list[int]:
        """The architecture's decisions, flat, in Katib's order (its sampled ``arc`` sequence)."""
        return [v for layer in architecture for v in layer]

    def from_decisions(self, decisions: Sequence[int]) -> Architecture:
        layers, start = [], 0
        for layer in range(self.num_layers):
            layers.append(tuple(int(v) for v in decisions[start : start + layer + 1]))
            start += layer + 1
        return tuple(layers)

    def index(self, architecture: Architecture) -> int:
        """The architecture's number in [0, size): its decisions read as a mixed-radix number."""
        number = 0
        for digit, radix in zip(self.decisions(architecture), self.radices(), strict=True):
            number = number * radix + digit
        return number

    def at(self, index: int) -> Architecture:
        """The architecture numbered ``index`` (the inverse of :meth:`index`)."""
        digits = []
        for radix in reversed(self.radices()):
            index, digit = divmod(index, radix)
            digits.append(digit)
        return self.from_decisions(digits[::-1])

    def random(self, rng: np.random.Generator) -> Architecture:
        """An architecture drawn uniformly."""
        return self.from_decisions([int(rng.integers(radix)) for radix in self.radices()])


def used_architectures(space: NasSpace, history: Sequence[FinishedTrial], pending: Sequence[Mapping[str, Value]]) -> set[str]:
    """The ``architecture`` strings already tried or running (in this space's canonical form):
    never suggest them again. A trial given back is not one (:func:`~kfp_tune.algorithms.base.spent`)."""
    used: set[str] = set()
    for assignment in [t.assignment for t in spent(history)] + list(pending):
        architecture = space.architecture_of(assignment)
        if architecture is not None:
            used.add(space.architecture_text(architecture))
    return used


def marked_architecture_repeats(space: NasSpace, result: Suggestions, history: Sequence[FinishedTrial]) -> Suggestions:
    """``result``, marked ``repeats`` when it gives again the architecture of a trial given back
    (:func:`~kfp_tune.algorithms.base.marked_repeats`, architectures compared in canonical form)."""

    def key(assignment: Mapping[str, Value]) -> str | None:
        architecture = space.architecture_of(assignment)
        return space.architecture_text(architecture) if architecture is not None else None

    return marked_repeats(result, history, key)


def last_architectures(space: NasSpace, used: set[str], n: int, rng: np.random.Generator) -> Suggestions | None:
    """When at most ``n`` architectures are left in a small space: all of them, in random order,
    ``exhausted`` when that is the last of them. None while more are left (or the space is too big
    to list)."""
    size = space.size_at_most(ENUMERATION_LIMIT)
    if size is None or size - len(used) > n:
        return None
    left = [a for a in (space.at(i) for i in range(size)) if space.architecture_text(a) not in used]
    order = rng.permutation(len(left))
    return Suggestions([space.assignment(left[i]) for i in order[:n]], exhausted=len(left) <= n)


def unused_architecture(space: NasSpace, used: set[str], rng: np.random.Generator, propose: Callable[[], Architecture] | None = None) -> Architecture:
    """An architecture not in ``used`` (and now in it): the algorithm's own ``propose`` while it
    finds new ones within MAX_DRAWS draws, then uniform draws, then (a space almost all tried) the
    next unused one after a uniform start; ValueError when every architecture is used."""
    for draw in (propose, lambda: space.random(rng)):
        if draw is None:
            continue
        for _ in range(MAX_DRAWS):
            candidate = draw()
            text = space.architecture_text(candidate)
            if text not in used:
                used.add(text)
                return candidate
    size = space.size
    start = space.index(space.random(rng))
    for offset in range(min(size, len(used) + 1)):  # among len(used) + 1 consecutive ones, one is unused
        candidate = space.at((start + offset) % size)
        text = space.architecture_text(candidate)
        if text not in used:
            used.add(text)
            return candidate
    raise ValueError("every architecture has been tried")


def succeeded(trial: FinishedTrial) -> bool:
    """Whether a trial counts as a result (Katib's enas reads only Succeeded trials' metric)."""
    return trial.status == TrialStatus.SUCCEEDED and trial.objective is not None and math.isfinite(trial.objective)
