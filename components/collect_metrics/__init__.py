from kfp_tune.components.collect_metrics.component import collect_metrics

__all__ = ["collect_metrics"]
