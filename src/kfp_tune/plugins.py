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
(``status``, ``report``, experiments that do not use it); an experiment that names what the
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

import warnings
from importlib import metadata

from kfp_tune.core.plugin_failures import read_plugin_outcomes_from

GROUP = "kfp_tune.plugins"
"""The entry-point group plug-ins declare their module in."""


class PluginWarning(UserWarning):
    """A plug-in that could not be loaded (its entry point and error are in the message)."""


_loaded: dict[str, str] | None = None


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
        try:
            entry.load()
        except Exception as exc:  # the plug-in's defect, named; the rest of kfp-tune still works
            _loaded[entry.name] = f"{type(exc).__name__}: {exc}"
            dist = getattr(entry, "dist", None)
            source = f" of distribution {dist.name!r}" if dist is not None else ""
            warnings.warn(
                f"kfp-tune plug-in {entry.name!r} ({GROUP} entry point {entry.value!r}{source}) could not be loaded and is left out: "
                f"{type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=2,
            )
        else:
            _loaded[entry.name] = ""
    return _loaded
