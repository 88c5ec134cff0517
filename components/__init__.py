"""The KFP v2 components, one folder each: the four of the tuning loop (suggest, launch-trial,
collect-metrics, decide-stop), fail-if-experiment-failed after them (the run fails when its
experiment ended Failed; its code lives beside decide-stop's) and the two of the tuning step for
a user's own pipeline (stage-inputs, best-trial). Each is a thin shell over one step in
:mod:`kfp_tune.steps`."""

from kfp_tune.components.best_trial import best_trial
from kfp_tune.components.collect_metrics import collect_metrics
from kfp_tune.components.decide_stop import decide_stop
from kfp_tune.components.fail_if_experiment_failed import fail_if_experiment_failed
from kfp_tune.components.launch_trial import launch_trial
from kfp_tune.components.stage_inputs import stage_inputs
from kfp_tune.components.suggest import suggest

__all__ = ["best_trial", "collect_metrics", "decide_stop", "fail_if_experiment_failed", "launch_trial", "stage_inputs", "suggest"]
