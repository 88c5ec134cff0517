"""DARTS (differentiable architecture search), as Katib's suggestion service runs it.

Katib's DARTS makes no architectures: its one trial trains the whole supernet (every candidate
operation on every edge, mixed by learned weights) and prints the architecture it found,
``Best-Genotype=Genotype(...)``, which is the experiment's objective metric: a string. What the
service gives that trial are three values, each a string the trial parses:

- ``algorithm-settings``: Katib's 14 settings with their defaults, each setting the spec gives
  in its place, as JSON with every ``"`` turned into ``'``. The defaults are JSON numbers, a
  given setting is the spec's string (``'num_epochs': '1'``), and ``"None"`` is ``null``.
- ``search-space``: the primitives, a JSON list the same way: one per value of each operation's
  first parameter (its filter size: ``max_pooling`` with ``3`` gives ``max_pooling_3x3``), and
  ``skip_connection`` as it is, in the order of ``nasConfig.operations``.
- ``num-layers``: ``graphConfig.numLayers`` as a decimal string.

The single quotes are there because Katib runs the container's command through ``sh -c`` (its
collector's wrapper), and the examples put each value inside double quotes.

Katib's service hands the same three values to every trial it is asked for (``GetSuggestions``
in ``pkg/suggestion/v1beta1/nas/darts/service.py``), so with ``maxTrialCount`` above 1 it runs
the same search again, and after a failed trial it starts the same trial again. kfp-tune never
gives a point twice (the designer checks it), so here DARTS gives its one trial and then says the
search is exhausted: the experiment ends when that trial does (SuggestionEndReached if the budget
was larger), its genotype the result, and a failed search is not rerun by itself. A trial given
back (its run interrupted, or never created) did not search: the same trial is given again, as
Katib's service would give it, so the run resumes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions, marked_repeats, spent
from kfp_tune.algorithms.nas_space import katib_json
from kfp_tune.core.catalogue import ALGORITHMS, DARTS_PARAMETERLESS
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.space import Value

ALGORITHM_SETTINGS = "algorithm-settings"
SEARCH_SPACE = "search-space"
NUM_LAYERS = "num-layers"


def settings_value(given: Sequence[tuple[str, str]]) -> str:
    """``algorithm-settings`` for the spec's ``algorithmSettings`` as given (name, text), in
    order: Katib's defaults with each given one in its place, as the spec's string (``"None"`` as
    null). Katib's defaults are the catalogue's (a setting Katib lacks is refused before this)."""
    values: dict[str, Any] = {s.name: s.default for s in ALGORITHMS["darts"].settings}
    for name, text in given:
        values[name] = None if text == "None" else text
    return katib_json(values)


def primitives(nas_config: Mapping[str, Any]) -> list[str]:
    """Katib's DARTS primitives for a nasConfig (camelCase, as :attr:`Problem.nas_config`)."""
    out: list[str] = []
    for operation in nas_config.get("operations") or []:
        kind = operation.get("operationType", "")
        if kind == DARTS_PARAMETERLESS:
            out.append(kind)
            continue
        first = (operation.get("parameters") or [{}])[0]
        out.extend(f"{kind}_{size}x{size}" for size in (first.get("feasibleSpace") or {}).get("list") or [])
    return out


def assignment(nas_config: Mapping[str, Any], given: Sequence[tuple[str, str]]) -> dict[str, Value]:
    """The three values Katib's DARTS service gives its trial, by name."""
    layers = (nas_config.get("graphConfig") or {}).get("numLayers")
    return {
        ALGORITHM_SETTINGS: settings_value(given),
        SEARCH_SPACE: katib_json(primitives(nas_config)),
        NUM_LAYERS: str(layers),
    }


class Darts:
    """One trial (the supernet search) with Katib's three values; then exhausted. A given-back
    trial does not count: its search is given again."""

    name = "darts"

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings

    def suggest(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
    ) -> Suggestions:
        if problem.nas_config is None:
            raise KfpTuneError("darts searches spec.nasConfig, and this experiment has none")
        if spent(history) or pending:  # the one search has been given: Katib would give the same again
            return Suggestions([], exhausted=True)
        if n == 0:
            return Suggestions([])
        search = Suggestions([assignment(problem.nas_config, problem.algorithm_settings)], exhausted=True)
        return marked_repeats(search, history, problem.space.key)
