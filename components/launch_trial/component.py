from kfp import dsl

from kfp_tune.components._image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def launch_trial(store_uri: str, experiment_name: str, trial_name: str, launcher_config: str, run_id: str, s3_endpoint: str = "", fresh_experiment: bool = False) -> str:
    """Run one trial to its end, store its log, and return how it ended.

    A retry never starts the trial a second time: it waits for the attempt that started it, or
    re-attaches to the trial if that attempt died.

    Args:
        store_uri: The store: ``s3://bucket/prefix``, or a folder (path or ``file:///path``)
            on a laptop.
        experiment_name: The experiment, as given to suggest.
        trial_name: One of the trial names suggest returned.
        launcher_config: How the trial runs, as JSON: ``{"kind": "local"}`` (a subprocess in
            this step's pod; optional ``"mounts"``, ``"timeoutSeconds"``) or
            ``{"kind": "kubernetes", "namespace": ...}`` (the trial's own resource). Without
            ``"kind"``: local.
        run_id: The pipeline run, as given to suggest.
        s3_endpoint: The S3 store's endpoint (also given to Kubernetes trials).
            ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
        fresh_experiment: As given to suggest.

    Returns:
        Output: How the trial ended: ``Succeeded``, ``Failed`` or ``EarlyStopped``.
    """
    from kfp_tune.steps.entrypoints import launch_trial_step

    return launch_trial_step(store_uri, experiment_name, trial_name, launcher_config, run_id, s3_endpoint, fresh_experiment)
