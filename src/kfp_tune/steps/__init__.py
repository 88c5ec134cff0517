"""The tuning loop's steps, as plain functions over a store and a launcher.

One module per step, named as the component that calls it (``components/<name>/``):
:mod:`.suggest`, :mod:`.launch_trial`, :mod:`.collect_metrics`, :mod:`.decide_stop`; and what
they share: :mod:`.prepare` (the one pre-flight), :mod:`.designer` (history to algorithm),
:mod:`.schedule` (rounds), :mod:`.early_stopping` (the running-trial monitor),
:mod:`.entrypoints` (what the KFP components call). The KFP components, the inline runner and
``kfp_tune.tune`` all call these, so every way of running an experiment writes the same
records. Each step may be re-run with no harm: identity comes before side effects, and
write-once records make a retry return what the first try wrote.

The step functions are re-exported here: ``from kfp_tune.steps import suggest`` gives the
function, not the module.
"""

from kfp_tune.steps.collect_metrics import collect_metrics
from kfp_tune.steps.decide_stop import close_run, decide_stop
from kfp_tune.steps.designer import history_of, problem_of
from kfp_tune.steps.launch_trial import launch_trial
from kfp_tune.steps.prepare import init_experiment, prepare, runnable_problems
from kfp_tune.steps.suggest import suggest

__all__ = [
    "close_run",
    "collect_metrics",
    "decide_stop",
    "history_of",
    "init_experiment",
    "launch_trial",
    "prepare",
    "problem_of",
    "runnable_problems",
    "suggest",
]
