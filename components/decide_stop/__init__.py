from kfp_tune.components.decide_stop.component import decide_stop, fail_if_experiment_failed

__all__ = ["decide_stop", "fail_if_experiment_failed"]
