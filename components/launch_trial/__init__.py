from kfp_tune.components.launch_trial.component import launch_trial

__all__ = ["launch_trial"]
