"""The four KFP v2 components, one folder each: suggest, launch-trial, collect-metrics,
decide-stop. Each is a thin shell over one step in :mod:`kfp_tune.steps` (one module each, same name)."""

from kfp_tune.components.collect_metrics import collect_metrics
from kfp_tune.components.decide_stop import decide_stop
from kfp_tune.components.launch_trial import launch_trial
from kfp_tune.components.suggest import suggest

__all__ = ["collect_metrics", "decide_stop", "launch_trial", "suggest"]
