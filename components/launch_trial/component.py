from kfp import dsl

from kfp_tune.components._image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def launch_trial(
    store_uri: str,
    experiment_name: str,
    launcher_config: str,
    run_id: str,
    trial_name: str = "",
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    checkpoint_index: int = 0,
    checkpoints_total: int = 1,
    checkpoint_trials: int = 0,
    checkpoint_seconds: float = 0.0,
    store_secret: str = "",
) -> str:
    """Run one trial to its end (``trial_name``), or keep the experiment's slots busy (slots mode).

    One trial: it is started at most once; a retry waits for the attempt that started it, or
    re-attaches to the trial if that attempt died. Slots mode (no ``trial_name``): as each
    trial ends, the next one starts at once, suggested from every finished trial with the
    running ones pending, collected, and checked against the stop rules, until the experiment
    ends or the checkpoint is due.

    Args:
        store_uri: The store: ``s3://bucket/prefix``, or a folder (path or ``file:///path``)
            on a laptop.
        experiment_name: The experiment, as given to suggest.
        launcher_config: How trials run, as JSON: ``{"kind": "kubernetes"}`` (each trial as
            its own resource in the config's ``"namespace"``, else the experiment's
            ``metadata.namespace``, else this run's namespace) or ``{"kind": "local"}`` (a
            subprocess in this step's pod; optional ``"mounts"``, ``"timeoutSeconds"``).
            Without ``"kind"``: local.
        run_id: The pipeline run, as given to suggest.
        trial_name: One of the trial names suggest returned; ``""`` for slots mode.
        s3_endpoint: The S3 store's endpoint (also given to Kubernetes trials).
            ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
        fresh_experiment: As given to suggest.
        checkpoint_index: Slots mode: this checkpoint's index in the run, 0 for the first.
        checkpoints_total: Slots mode: checkpoints in the run; the last one has no limit.
        checkpoint_trials: Slots mode: hand back after this many trials ended (0: no limit).
        checkpoint_seconds: Slots mode: hand back after this many seconds (0: no limit).
        store_secret: The Kubernetes Secret with the store's keys (``accesskey``,
            ``secretkey``), given to Kubernetes trials by reference when ``launcher_config``
            names no ``"storeSecret"``; ``""``: none.

    Returns:
        Output: One trial: its status as recorded, not its job's phase (``Succeeded``, ``Failed``, ``EarlyStopped``; ``MetricsUnavailable``: no objective value; ``Killed``: given back).
            Slots mode: the experiment's phase (``Running``, ``Succeeded`` or ``Failed``).
    """
    import kfp_tune

    kfp_tune.check_compiled_version()
    from kfp_tune.steps.entrypoints import launch_trial_step, launch_trials_step

    if trial_name:
        return launch_trial_step(store_uri, experiment_name, trial_name, launcher_config, run_id, s3_endpoint, fresh_experiment, store_secret)
    return launch_trials_step(
        store_uri, experiment_name, launcher_config, run_id, checkpoint_index, checkpoints_total, checkpoint_trials, checkpoint_seconds, s3_endpoint, fresh_experiment, store_secret
    )
