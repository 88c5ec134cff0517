"""Which algorithm names this version implements, and how to build one. The shipped
algorithms register in :mod:`.builtin`, which the package imports; a plug-in registers the same
way, from a module its ``kfp_tune.plugins`` entry point names (:mod:`kfp_tune.plugins`)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal, get_args

from kfp_tune.algorithms.base import Algorithm
from kfp_tune.core.catalogue import ALGORITHMS, SPACE_ADJUSTERS, CatalogueEntry, ProblemCheck, Setting, SpaceAdjuster, adjusted_space
from kfp_tune.core.errors import NotImplementedAlgorithm
from kfp_tune.core.space import SearchSpace

AlgorithmFactory = Callable[[dict[str, Any]], Algorithm]
SearchEnd = Literal["after-its-schedule", "on-a-finite-space", "never"]
"""What an algorithm does at the end of its search space, as it declares when it registers
(``register(..., ends=...)``):

- ``"after-its-schedule"``: it says ``exhausted`` after a finite number of trials whatever the
  space (grid once every point of its stepped grid is run, hyperband after its last bracket,
  darts after its one trial);
- ``"on-a-finite-space"``: it hands over the last points of a finite space of at most
  :data:`kfp_tune.algorithms.space_tools.ENUMERATION_LIMIT` points, then says ``exhausted``
  (as :func:`~kfp_tune.algorithms.space_tools.last_points` does for the built-in samplers);
- ``"never"``: it suggests for as long as it is asked (pbt).

Not declared (None): kfp-tune cannot tell whether it ends. ``KatibClient.tune`` without a host
then asks for ``max_trial_count``, and a refused restart does not say what it ran out of."""
SEARCH_ENDS: tuple[SearchEnd, ...] = get_args(SearchEnd)

_FACTORIES: dict[str, AlgorithmFactory] = {}
_SEARCH_ENDS: dict[tuple[str, int], tuple[AlgorithmFactory, SearchEnd]] = {}
"""Each factory's declaration, by (name, ``id(factory)``), the factory kept with it so its id is
not reused: the declaration goes with the factory, as ``adjust_space`` does, so a takeover that
declares nothing is not taken to end as the algorithm it replaced, and a factory put back (a
test's registries restored) has its declaration back."""
_SPACE_ADJUSTERS = SPACE_ADJUSTERS
"""The core's (``core.catalogue``): a stored round's assignments are checked against the space
the algorithm searches."""
CATALOGUED = frozenset(ALGORITHMS)
"""The names the catalogue holds (Katib's, and kfp-tune's regularized-evolution): a plug-in may
take one over, keeping its settings and checks, but not redefine them."""
ALGORITHM_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$")
"""What a new algorithm's name may be: lower case letters, digits, '.', '_' and '-', as Katib's
own names are (it is shown in tables, labels and the KFP UI)."""


def register(
    name: str,
    factory: AlgorithmFactory,
    adjust_space: SpaceAdjuster | None = None,
    *,
    settings: Sequence[Setting] | None = None,
    check_problem: ProblemCheck | None = None,
    help: str = "",
    ends: SearchEnd | None = None,
) -> None:
    """Make ``name`` buildable from settings: ``factory(parsed settings) -> Algorithm``.

    A name of the catalogue (Katib's) is taken over: it keeps Katib's settings and checks, so an
    experiment valid for Katib stays valid, and passing ``settings`` or ``check_problem`` is an
    error. A new name (Katib's custom algorithm names, served there by a suggestion service of
    one's own) is added to the catalogue with ``settings`` (required, ``()`` for none, so that a
    misspelt Katib name is not taken for a new one), ``check_problem`` (spec.parameters and the
    parsed settings -> [(field path, message)]) and ``help``; validation then knows it.

    ``adjust_space`` lets an algorithm own part of the space, as hyperband owns its resource
    parameter's range (it goes with the factory: a takeover without one searches the spec's
    space). ``ends``: what the algorithm does at the end of its space (:data:`SearchEnd`); it goes
    with the factory too, and of a factory that declares nothing kfp-tune cannot tell whether it
    ends."""
    if ends is not None and ends not in SEARCH_ENDS:
        expected = ", ".join(repr(end) for end in SEARCH_ENDS)
        raise ValueError(f"register({name!r}, ends={ends!r}): expected {expected} or None (not declared: kfp-tune cannot tell whether it ends)")
    if name in CATALOGUED:
        if settings is not None or check_problem is not None:
            raise ValueError(f"{name!r} is a Katib algorithm name: a plug-in that takes it over keeps Katib's settings and checks (pass no settings or check_problem)")
    else:
        ALGORITHMS[name] = new_entry("algorithm", name, settings, CATALOGUED, check_problem=check_problem, help=help)
    _FACTORIES[name] = factory
    if ends is not None:
        _SEARCH_ENDS[(name, id(factory))] = (factory, ends)
    else:
        _SEARCH_ENDS.pop((name, id(factory)), None)
    if adjust_space is not None:
        _SPACE_ADJUSTERS[name] = adjust_space
    else:
        _SPACE_ADJUSTERS.pop(name, None)


def new_entry(
    kind: str, name: str, settings: Sequence[Setting] | None, known: frozenset[str], check_problem: ProblemCheck | None = None, help: str = ""
) -> CatalogueEntry:
    """The catalogue entry of a new ``kind`` ("algorithm", "early-stopping") name, checked:
    ValueError or TypeError saying what was expected."""
    if not isinstance(name, str) or not ALGORITHM_NAME.match(name):
        raise ValueError(f"{kind} name {name!r}: expected 1-63 lower case letters, digits, '.', '_' or '-', starting and ending with a letter or digit")
    if settings is None:
        raise ValueError(
            f"{name!r} is not a Katib {kind} name (known: {', '.join(sorted(known))}); to add a new one, pass its settings: "
            "register(name, factory, settings=[kfp_tune.core.catalogue.int_setting(...), ...]) (settings=() for none)"
        )
    if isinstance(settings, (str, bytes)) or not all(isinstance(s, Setting) for s in settings):
        raise TypeError(f"{name!r}: settings must be a list of kfp_tune.core.catalogue.Setting (int_setting, float_setting, choice_setting, str_setting)")
    return CatalogueEntry(name, tuple(settings), check_problem=check_problem, help=help, in_katib=False)


def imported_on_use(path: str) -> Callable[..., Any]:
    """``path`` ("package.module:name") called through a wrapper that imports its module on the
    first call. Registering a factory this way keeps its imports (scipy, cmaes: most of a KFP
    task's start-up) out of every task that never builds that algorithm."""
    module_name, _, name = path.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module_name), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = name
    return call


def problem_space(name: str, space: SearchSpace, settings: dict[str, Any]) -> SearchSpace:
    """The space the algorithm searches (the spec's, unless the algorithm adjusts it)."""
    return adjusted_space(name, space, settings)


def search_end(name: str) -> SearchEnd | None:
    """What the algorithm registered under ``name`` declared it does at the end of its space
    (:data:`SearchEnd`); None where it declared nothing (or no such algorithm is registered):
    kfp-tune cannot tell whether it ends."""
    factory = _FACTORIES.get(name)
    declared = _SEARCH_ENDS.get((name, id(factory)))
    return declared[1] if declared is not None and declared[0] is factory else None


def implemented() -> list[str]:
    return sorted(_FACTORIES)


def is_implemented(name: str) -> bool:
    return name in _FACTORIES


def create(name: str, settings: dict[str, Any]) -> Algorithm:
    """An algorithm instance for parsed settings; NotImplementedAlgorithm for a Katib name we lack."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise NotImplementedAlgorithm(
            f"algorithm {name!r} is one of Katib's, but this version of kfp-tune does not implement it yet "
            f"(implemented: {', '.join(sorted(_FACTORIES))})"
        )
    return factory(settings)
