"""Which kfp-tune plug-ins failed to load in this process, so that a name nothing registered (an
unknown algorithm or early-stopping rule) is refused naming the plug-in that may have been the
one to register it, or, when none failed, saying how a plug-in registers one.
:mod:`kfp_tune.plugins`, which the core does not import, says where the outcome of loading is
read; validation reads it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

PLUGIN_GROUP = "kfp_tune.plugins"
"""The entry-point group plug-ins declare their module in (:mod:`kfp_tune.plugins` loads it)."""

NO_PLUGIN_HINT = (
    f"no installed kfp-tune plug-in registers it (a plug-in declares its module in the {PLUGIN_GROUP!r} entry-point group; "
    f"a compiled pipeline's steps need it installed in their image, the one KFP_TUNE_IMAGE names)"
)
"""What a refusal of an unknown name adds when no plug-in failed to load: the name may be a
plug-in's, not installed here (or not in the image the steps run)."""

PluginOutcomes = Callable[[], Mapping[str, str]]
"""``{entry point name: "" if it loaded, else its error}``, as loading the plug-ins left it."""



def _none_loaded() -> Mapping[str, str]:
    """Before any loader says where to read (the core used on its own): nothing failed."""
    return {}


_read_outcomes: PluginOutcomes = _none_loaded


def read_plugin_outcomes_from(read: PluginOutcomes) -> None:
    """Where the outcome of loading the plug-ins is read from (set by ``load_plugins``). Read at
    each refusal, not copied: a loader's result put back (a test's) takes its failures with it."""
    global _read_outcomes
    _read_outcomes = read


def failed_plugins() -> list[str]:
    """The entry point names of the plug-ins that failed to load, in the order they were loaded."""
    return [name for name, error in _read_outcomes().items() if error]


def failed_plugins_note() -> str:
    """What a refusal of an unknown name adds: the plug-ins that failed to load (their warnings,
    printed when they failed, say why), else how a plug-in would bring the name."""
    failed = failed_plugins()
    if not failed:
        return f"; {NO_PLUGIN_HINT}"
    names = ", ".join(repr(name) for name in failed)
    if len(failed) == 1:
        return f"; kfp-tune plug-in {names} could not be loaded (see its warning above) and may be what registers it"
    return f"; kfp-tune plug-ins {names} could not be loaded (see their warnings above) and one may be what registers it"
