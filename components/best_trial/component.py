from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Metrics, Model, Output

from kfp_tune.components._image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def best_trial(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    best_model: Output[Model],
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    metrics: Output[Metrics] = None,  # None only where python_func is called without it: KFP always passes it
) -> NamedTuple("Outputs", [("best_parameters", dict), ("best_objective", float), ("best_trial", str), ("best_metrics", list)]):  # type: ignore[valid-type]
    """Hand the tuning loop's result downstream: the best trial's parameters, objective value,
    name, metrics and model.

    The best trial is Katib's currentOptimalTrial: among Succeeded and EarlyStopped trials, the
    best objective value after its metric strategy (highest for maximize, lowest for minimize).
    An experiment with no trial that reported its objective fails this task, with a message
    naming the experiment and what its trials ended as.

    Args:
        store_uri: The store: ``s3://bucket/prefix``, or a folder (path or ``file:///path``)
            on a laptop.
        experiment_name: The experiment, as given to suggest.
        run_id: The run, as given to suggest (in a tuning step: stage-inputs' ``run_id``).
        s3_endpoint: The S3 store's endpoint. ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
        fresh_experiment: As given to suggest.

    Returns:
        best_parameters: The best trial's parameters by name, typed: int, float, or the
            string of a categorical (a discrete value as a number). The number type is not
            kept across KFP: kfp.local hands every number on as a float (4 as 4.0), a cluster
            hands a whole number on as an int (a double 1.0 as 1), so convert each value
            downstream: ``int(p["C"])``, ``float(p["gamma"])``.
        best_objective: The best trial's objective value, after its metric strategy.
        best_trial: The best trial's name.
        best_metrics: Every metric of the best trial (the objective and
            additionalMetricNames), as Katib's ``currentOptimalTrial.observation.metrics``:
            ``[{"name", "min", "max", "latest"}]``, the values as strings.
        best_model: A folder holding the files the best trial saved with
            ``kfp_tune.steps.trial_artifacts.save_model``, by their paths below what it saved
            (a single file: by its name); only a note when it saved none. Its metadata: the
            experiment, the trial, its parameters, objective and metrics, the inputs it was
            tuned on, the files.
        metrics: The best trial's metrics as a KFP Metrics artifact (``system.Metrics``), by
            the experiment's metric names in name order, each after its metric strategy: those
            of the objective and additionalMetricNames it reported as numbers (one it never
            reported, ``unavailable`` in best_metrics, is left out); what the KFP UI shows for
            the run and compares across runs. ``python_func`` callers may leave it out.
    """
    import kfp_tune

    kfp_tune.check_compiled_version()
    from collections import namedtuple

    from kfp_tune.steps.entrypoints import best_trial_step

    parameters, objective, trial, metadata = best_trial_step(store_uri, experiment_name, run_id, best_model.path, s3_endpoint, fresh_experiment)
    best_model.metadata.update(metadata)
    if metrics is not None:
        for name, value in metadata["metrics"].items():
            metrics.log_metric(name, value)
    Outputs = namedtuple("Outputs", ["best_parameters", "best_objective", "best_trial", "best_metrics"])
    return Outputs(parameters, objective, trial, metadata["observation"]["metrics"])
