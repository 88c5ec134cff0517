from kfp_tune.components.best_trial.component import best_trial

__all__ = ["best_trial"]
