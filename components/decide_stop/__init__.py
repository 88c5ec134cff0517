from kfp_tune.components.decide_stop.component import decide_stop

__all__ = ["decide_stop"]
