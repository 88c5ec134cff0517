from kfp import dsl
from kfp.dsl import Metrics, Output

from kfp_tune.components._image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def collect_metrics(
    store_uri: str, experiment_name: str, trial_name: str, run_id: str, metrics: Output[Metrics], s3_endpoint: str = "", fresh_experiment: bool = False
) -> str:
    """Read the trial's metrics (metricsCollectorSpec), apply metricStrategies, record its final
    status (Succeeded, Failed or MetricsUnavailable) and show the metrics in the KFP UI."""
    from kfp_tune.runtime import collect_metrics_step

    result = collect_metrics_step(store_uri, experiment_name, trial_name, run_id, s3_endpoint, fresh_experiment)
    for name, value in result["metrics"].items():
        metrics.log_metric(name, value)
    return result["status"]
