"""fail-if-experiment-failed: fails the run whose experiment ended Failed in it, after the
checkpoints (the reports written). Its code lives beside decide-stop's, in
:mod:`kfp_tune.components.decide_stop.component`; this folder holds its README and compiled
component.yaml, as every component's does."""

from kfp_tune.components.decide_stop.component import fail_if_experiment_failed

__all__ = ["fail_if_experiment_failed"]
