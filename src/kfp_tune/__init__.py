"""kfp-tune: Katib-class hyperparameter tuning as Kubeflow Pipelines v2 components.

The public API:

- :func:`tune`: tune a Python function; :mod:`kfp_tune.search` for its search space. With
  ``host=`` its trials run on Kubeflow (:func:`submit_function`, :class:`RemoteTuning`).
- :func:`load_experiment`: a Katib ``kubeflow.org/v1beta1`` Experiment, defaulted and validated.
- :class:`SpecError`: every problem in an experiment, each with its field path.
- :func:`report_metrics`: from inside a trial, report its metrics (the Push collector);
  :func:`trial_name`: the trial's name, where a Katib objective reads ``$KATIB_TRIAL_NAME``.
- :class:`TrialReporter`: from inside a trial that is a KFP component (its ``kfp_tune_trial``
  input), report each step's metrics and ask whether early stopping stops it.
- :func:`input_path`, :func:`save_model`: from inside a trial of a tuning step in a user's
  pipeline, the upstream artifact's local path, and the trial's model for ``best_model``.
- :class:`Client`: what comes after a run starts: list, status, wait, optimal trial, trial
  metrics and logs, budget edits, delete (:mod:`kfp_tune.client`); :class:`KatibClient`, the
  same with Katib's SDK names, so a Katib notebook changes one import.
- :func:`submit`, :func:`schedule`: start the experiment's pipeline on a Kubeflow Pipelines host
  (imported on first use, so ``import kfp_tune`` does not load kfp).
- :func:`submit_function`: tune a Python function's trials on a Kubeflow Pipelines host, each a
  Job running the function's source (:mod:`kfp_tune.remote`); the handle it returns waits for the result.
- ``__version__``; :func:`check_compiled_version`, the first call of every component's body: it
  refuses a pipeline compiled by another kfp-tune than the image holds (:mod:`kfp_tune.core.version`),
  so it stays here, at the top of the package, in every version.

Importing the package also loads the installed plug-ins (the ``kfp_tune.plugins`` entry points:
:mod:`kfp_tune.plugins`), so their algorithms, early-stopping rules and store schemes are known
in every process.
"""

from typing import TYPE_CHECKING

from kfp_tune import cli_start, search  # (cli_start first: a Ctrl-C while the kfp-tune command loads, it says why)
from kfp_tune.api import Trial, TuneResult, submit_function, tune
from kfp_tune.client import Client
from kfp_tune.collectors.push import report_metrics, trial_name
from kfp_tune.core.errors import ExperimentBusy, ExperimentConflict, ExperimentNotFound, FieldError, KfpTuneError, SpecError, StoreError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import Experiment
from kfp_tune.core.version import VERSION, check_compiled_version
from kfp_tune.katib_client import KatibClient
from kfp_tune.remote import RemoteTuning
from kfp_tune.steps.trial_artifacts import input_path, save_model
from kfp_tune.steps.trial_reporter import TrialReporter

__version__ = VERSION

_LAZY = ("submit", "schedule")
"""Public names imported on first use: they load kfp, which ``import kfp_tune`` does not."""

if TYPE_CHECKING:  # what a type checker or an IDE reads for them; at run time __getattr__ below
    from types import FrameType
    from typing import TextIO

    from kfp_tune.pipelines.submit import schedule, submit
else:  # hidden from type checkers, so a misspelt kfp_tune.<name> is an error there, not Any

    def __getattr__(name: str) -> object:
        if name in _LAZY:
            from kfp_tune.pipelines import submit as submitting

            return getattr(submitting, name)
        raise AttributeError(f"module 'kfp_tune' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (``__all__``, the lazy ones included, so a notebook's tab completion offers
    ``submit``), the module's dunders and its loaded subpackages; not what it imports for itself."""
    import types

    here = globals()
    modules = {name for name, value in here.items() if isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}"}
    return sorted({*__all__, *(name for name in here if name.startswith("__")), *modules})


__all__ = [
    "Client",
    "Experiment",
    "ExperimentBusy",
    "ExperimentConflict",
    "ExperimentNotFound",
    "FieldError",
    "KatibClient",
    "KfpTuneError",
    "RemoteTuning",
    "SpecError",
    "StoreError",
    "Trial",
    "TrialReporter",
    "TuneResult",
    "check_compiled_version",
    "input_path",
    "load_experiment",
    "report_metrics",
    "save_model",
    "schedule",
    "search",
    "submit",
    "submit_function",
    "trial_name",
    "tune",
]

plugin_failures_for_the_command: list[str] = []
"""In the ``kfp-tune`` command, each plug-in failure's text, for ``cli.main`` to print as one
``warning:`` line (the command's own lines are not shown yet while the package loads)."""


def _load_plugins() -> None:
    """Load the plug-ins, a failure's :class:`~kfp_tune.plugins.PluginWarning` shown in one line
    its reader can use: Python's own form named this file, its line and ``load_plugins()``. In
    the command the text is kept for ``cli.main``; elsewhere it is the category and text at the
    line that imported kfp_tune, through the display the process has once the scan is over. The
    user's filters still decide (they are applied as the warning is made). Only
    ``warnings.showwarning`` is swapped, for the scan, and put back only if it is still ours: a
    filter or display a plug-in (or a library it imports) sets at import is kept, as Python keeps
    it; a failure after a plug-in set its own display is shown by that display, in Python's form."""
    import warnings

    from kfp_tune.plugins import PluginWarning, load_plugins

    failures: list[str] = []
    shown = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: "TextIO | None" = None, line: str | None = None) -> None:
        if issubclass(category, PluginWarning) and filename == __file__:
            failures.append(str(message))  # said once the scan is over, below
        else:  # a plug-in's own warning: its author's, where it is
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        load_plugins()
    finally:
        if warnings.showwarning is show:
            warnings.showwarning = shown
    if cli_start.started_as_the_command():
        plugin_failures_for_the_command.extend(failures)
        return
    importer = _importing_frame()
    filename, lineno = (importer.f_code.co_filename, importer.f_lineno) if importer is not None else (__file__, 0)
    for text in failures:
        warnings.showwarning(PluginWarning(text), PluginWarning, filename, lineno, None, "")  # "": no source line


def _importing_frame() -> "FrameType | None":
    """The frame whose ``import`` is loading this package, past the import machinery (as
    warnings' stacklevel skips it); None when no Python code imported it (an embedding program)."""
    import sys

    frame: FrameType | None = sys._getframe(1)
    while frame is not None and (frame.f_code.co_filename == __file__ or ("importlib" in frame.f_code.co_filename and "_bootstrap" in frame.f_code.co_filename)):
        frame = frame.f_back
    return frame


# Last: a plug-in's module imports kfp_tune's parts, and its names must be registered before
# anything validates an experiment, in every process (kfp_tune.plugins says why).
_load_plugins()
