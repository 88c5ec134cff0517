from kfp import dsl
from kfp.dsl import Metrics, Output

from kfp_tune.components._image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def collect_metrics(
    store_uri: str, experiment_name: str, trial_name: str, run_id: str, metrics: Output[Metrics], s3_endpoint: str = "", fresh_experiment: bool = False
) -> str:
    """Read a finished trial's metrics, apply ``metricStrategies``, and record its final status.

    The metrics are read as the experiment's ``metricsCollectorSpec`` says and shown in the KFP
    UI. A retry returns the recorded result.

    Args:
        store_uri: The store: ``s3://bucket/prefix``, or a folder (path or ``file:///path``)
            on a laptop.
        experiment_name: The experiment, as given to suggest.
        trial_name: The trial launch-trial ran.
        run_id: The pipeline run, as given to suggest.
        s3_endpoint: The S3 store's endpoint. ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
        fresh_experiment: As given to suggest.

    Returns:
        Output: The trial's final status: ``Succeeded``, ``Failed``, ``EarlyStopped``, or
            ``MetricsUnavailable`` (succeeded without a numeric objective; counts as failed).
        metrics: Each metric's value after its strategy (min, max or latest), shown in the KFP UI.
    """
    import kfp_tune

    kfp_tune.check_compiled_version()
    from kfp_tune.steps.entrypoints import collect_metrics_step

    result = collect_metrics_step(store_uri, experiment_name, trial_name, run_id, s3_endpoint, fresh_experiment)
    for name, value in result["metrics"].items():
        metrics.log_metric(name, value)
    return result["status"]
