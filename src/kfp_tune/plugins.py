"""Third-party plug-ins, loaded once per process from the ``kfp_tune.plugins`` entry-point group.

A plug-in is an installed distribution that names a module in that group (its pyproject.toml)::

    [project.entry-points."kfp_tune.plugins"]
    my-plugin = "my_package.kfp_tune_plugin"

Importing the module registers what it brings: algorithms (:func:`kfp_tune.algorithms.register`),
early-stopping rules (:func:`kfp_tune.algorithms.early_stopping.register`) and store schemes
(:func:`kfp_tune.stores.register_scheme`). ``import kfp_tune`` loads every such module, as the
last thing it does, so that every process that runs kfp-tune has the same names: the CLI, a
notebook, and each pipeline step (kfp.local runs each as a subprocess, a cluster as a container
of the runtime image). A plug-in imported by hand exists in one process only: a step would
refuse its name, or run the built-in it took over in its place.

A plug-in that fails to import is a :class:`PluginWarning` naming the entry point and the error,
not an exception: one broken package in an environment must not lock its user out of kfp-tune
(``status``, ``report``, experiments that do not use it). That holds for ``SystemExit`` too (a
module that doubles as a script and parses arguments as it imports); ``KeyboardInterrupt`` goes
through, as the user's Ctrl-C. A plug-in left out is left out whole: what it registered before
its import failed is undone (a takeover of a Katib name included). A new name is one plug-in's:
a plug-in registering an algorithm, rule or store scheme of a new name that an earlier plug-in
registered is left out, the warning naming both (Katib's katib-config maps a name to one
service); a takeover of a Katib name by two plug-ins goes to the last. An entry point that names
an object in a module (``my_package.plugin:setup``) whose import registered nothing is left
out too, saying so: kfp-tune calls nothing, the import of the module is the registration. An experiment that names what the
plug-in would have registered is still refused, by validation (an unknown algorithm or store
scheme), right after the warning that says why; an unknown algorithm or early-stopping rule is
refused naming the plug-ins that failed (:mod:`kfp_tune.core.plugin_failures`), as the warning
may be far above, or in another process's log (a pipeline step's).

Cost: the scan reads every installed distribution's metadata. Measured with ``python -X
importtime -c "import kfp_tune"`` (139 distributions installed, no plug-in, a 2-core machine):
kfp_tune's own line went from 2-3 ms to 5.5-8 ms, so about 4-5 ms, against 350-550 ms for the
whole import (about 1%); ``importlib.metadata`` itself was already imported by dependencies.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kfp_tune.core.errors import masked_url
from kfp_tune.core.plugin_failures import PLUGIN_GROUP, read_plugin_outcomes_from

if TYPE_CHECKING:
    from kfp_tune.core.spec import Experiment

GROUP = PLUGIN_GROUP
"""The entry-point group plug-ins declare their module in."""


class PluginWarning(UserWarning):
    """A plug-in that could not be loaded (its entry point and error are in the message)."""


_loaded: dict[str, str] | None = None

_owners: dict[tuple[str, str], str] = {}
"""(kind, new name) -> the entry point of the plug-in that registered it."""


@dataclass(frozen=True)
class PluginProvider:
    """The plug-in a name in this process comes from: what a compiled pipeline's image must hold."""

    entry_point: str
    distribution: str | None
    takes_over: bool
    """It takes over a name kfp-tune has built in: without the plug-in, the built-in runs."""

    @property
    def said(self) -> str:
        return f"kfp-tune plug-in {self.entry_point!r}" + (f" (distribution {self.distribution!r})" if self.distribution else "")


_providers: dict[tuple[str, str], PluginProvider] = {}
"""(kind, name) -> the plug-in that registered it, takeovers of built-in names included."""


def provider_of(kind: str, name: str) -> PluginProvider | None:
    """The plug-in that registered ``name`` as ``kind`` ("algorithm", "early-stopping rule") in
    this process; None for kfp-tune's own."""
    return _providers.get((kind, name))


def plugins_the_image_needs(experiment: Experiment, store_uri: str | None, image: str) -> list[str]:
    """What a pipeline compiled from ``experiment`` needs of this process's plug-ins, one note
    each (``kfp-tune compile`` says them; ``submit`` and ``schedule`` warn them): its algorithm,
    early-stopping rule and its store's scheme (``store_uri``) where a plug-in brings or takes
    it over. The steps run in ``image``, which refuses a new name without the plug-in, and runs
    the built-in in place of a takeover."""
    spec = experiment.spec
    scheme = urlsplit(store_uri).scheme.lower() if store_uri and "://" in store_uri else ""
    named = [
        ("algorithm", spec.algorithm.algorithm_name if spec.algorithm is not None else None, None),
        ("early-stopping rule", spec.early_stopping.algorithm_name if spec.early_stopping is not None else None, None),
        ("store scheme", scheme, masked_url(store_uri) if store_uri else None),
    ]
    notes = []
    for kind, name, store in named:
        provider = provider_of(kind, name) if name else None
        if provider is None:
            continue
        if provider.takes_over:
            what = f"open the store {store} with the built-in {name!r}" if store else f"run the built-in {name!r}"
            notes.append(f"the {kind} {name!r} comes from {provider.said}, which takes over kfp-tune's own: the pipeline image "
                         f"({image}) must have it installed, or its steps {what} in its place")
        else:
            refused = f"the store {store}" if store else repr(name)
            notes.append(f"the {kind} {name!r} comes from {provider.said}: the pipeline image ({image}) must have it "
                         f"installed, or its steps refuse {refused}")
    return notes


def _registries() -> list[tuple[str, dict[Any, Any], Callable[[Any], str | None], frozenset[str]]]:
    """Everything a plug-in's import can register into: (kind as a warning says it, the mapping,
    its key's name, or None for a mapping kept beside another (its copy is put back, never
    compared), the built-in names a plug-in may take over)."""
    from kfp_tune import stores
    from kfp_tune.algorithms import early_stopping, registry
    from kfp_tune.core import catalogue

    def named(key: Any) -> str | None:
        return str(key)

    def beside(key: Any) -> str | None:
        return None

    return [
        ("algorithm", registry._FACTORIES, named, registry.CATALOGUED),
        ("early-stopping rule", early_stopping.RULES, named, early_stopping.CATALOGUED),
        ("store scheme", stores._OPENERS, named, frozenset(stores.BUILTIN_SCHEMES)),
        ("", registry._SEARCH_ENDS, beside, frozenset()),
        ("", registry._SPACE_ADJUSTERS, beside, frozenset()),
        ("", catalogue.ALGORITHMS, beside, frozenset()),
        ("", catalogue.EARLY_STOPPING, beside, frozenset()),
    ]


def _registered_since(kept: list[dict[Any, Any]]) -> dict[str, list[str]]:
    """{kind: names registered (added or replaced) since ``kept`` was copied}."""
    since: dict[str, list[str]] = {}
    for (kind, now, name_of, _), before in zip(_registries(), kept, strict=True):
        for key, value in now.items():
            name = name_of(key)
            if name is not None and (key not in before or before[key] is not value):
                since.setdefault(kind, []).append(name)
    return since


def _put_back(kept: list[dict[Any, Any]]) -> None:
    for (_, now, _, _), before in zip(_registries(), kept, strict=True):
        now.clear()
        now.update(before)


def _taken(entry_name: str, since: dict[str, list[str]], kept: list[dict[Any, Any]]) -> str:
    """Why the plug-in must be left out for taking a new name an earlier plug-in registered ("" if none)."""
    clashes = []
    for (kind, _, _, built_in), before in zip(_registries(), kept, strict=True):
        for name in since.get(kind, []):
            if name not in built_in and name in before:
                owner = _owners.get((kind, name))
                whose = f"kfp-tune plug-in {owner!r}" if owner else "kfp-tune (registered before the plug-ins loaded)"
                clashes.append(f"it registers {kind} {name!r}, which {whose} registered: a new name is one plug-in's")
    return "; ".join(clashes)


def _undone(since: dict[str, list[str]]) -> str:
    """What a failed import had registered, now undone, as the warning says it ("" if nothing)."""
    parts = [f"{kind}s {', '.join(repr(n) for n in sorted(names))}" for kind, names in since.items()]
    return f"; what it registered before the error is undone: {'; '.join(parts)}" if parts else ""


def _outcomes() -> dict[str, str]:
    """What loading has left so far (``{}`` before it), read by the core when it refuses an
    unknown name (:mod:`kfp_tune.core.plugin_failures`)."""
    return _loaded or {}


def load_plugins() -> dict[str, str]:
    """Import every ``kfp_tune.plugins`` entry point's module, once per process (later calls
    return the first one's result). Returns ``{entry point name: "" if loaded, else the error}``,
    in the order loaded (by entry point name, so a name two plug-ins take over goes to the last)."""
    global _loaded
    read_plugin_outcomes_from(_outcomes)  # an unknown name's refusal names the plug-ins that failed
    if _loaded is not None:
        return _loaded
    _loaded = {}  # set first: a plug-in that imports kfp_tune again must not load the group twice
    try:
        found = sorted(metadata.entry_points(group=GROUP), key=lambda e: (e.name, e.value))
    except Exception as exc:  # damaged metadata of some unrelated distribution
        warnings.warn(f"kfp-tune could not list its plug-ins ({GROUP} entry points): {type(exc).__name__}: {exc}", PluginWarning, stacklevel=2)
        return _loaded
    for entry in found:
        kept = [dict(mapping) for _, mapping, _, _ in _registries()]
        dist = getattr(entry, "dist", None)
        named = f"kfp-tune plug-in {entry.name!r} ({GROUP} entry point {entry.value!r}{f' of distribution {dist.name!r}' if dist is not None else ''})"
        imported_before = entry.module in sys.modules  # by an earlier entry point of its module, another plug-in or the user
        try:
            entry.load()
        except (Exception, SystemExit) as exc:  # the plug-in's defect, named; the rest of kfp-tune still works
            undone = _undone(_registered_since(kept))
            _put_back(kept)
            _loaded[entry.name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"{named} could not be loaded and is left out: {type(exc).__name__}: {exc}{undone}", PluginWarning, stacklevel=2)
            continue
        since = _registered_since(kept)
        clash = _taken(entry.name, since, kept)
        advice = "; uninstall one of the two, or have one register another name" if clash else ""
        if entry.attr and not since and not imported_before:  # 'module:function' whose import registered nothing: kfp-tune imports modules, it calls nothing
            clash = (
                f"its entry point names {entry.value!r}, an object in a module, not a module, and importing the module registered nothing: "
                f"kfp-tune imports the module the entry point names, whose import registers what it brings, and calls nothing, so "
                f"{entry.attr} is not called; name the module ({entry.module!r}) and register at its import"
            )
        if clash:
            _put_back(kept)
            _loaded[entry.name] = clash
            warnings.warn(f"{named} is left out: {clash}{advice}", PluginWarning, stacklevel=2)
            continue
        for (kind, _, _, built_in) in _registries():
            _owners.update(((kind, name), entry.name) for name in since.get(kind, []) if name not in built_in)
            _providers.update(((kind, name), PluginProvider(entry.name, dist.name if dist is not None else None, name in built_in))
                              for name in since.get(kind, []))
        _loaded[entry.name] = ""
    return _loaded
