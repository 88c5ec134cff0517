from kfp_tune.components.suggest.component import suggest

__all__ = ["suggest"]
