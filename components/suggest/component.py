from kfp import dsl

from kfp_tune.components._image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def suggest(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    round_index: int,
    rounds_total: int,
    experiment_spec: str = "",
    take_over: bool = False,
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    trial_count: int = -1,
) -> list[str]:
    """Create this round's trials in the store and return their names.

    A round gets the budget left (``maxTrialCount``) spread over the run's rounds left, at
    least ``parallelTrialCount``; fewer when the algorithm has no more points (grid) or a rung
    to finish (hyperband). A retry of the same round returns the same trials. The step that gets ``experiment_spec`` claims the
    experiment for this run and creates it in the store, or checks that it may resume.

    Args:
        store_uri: The store: ``s3://bucket/prefix``, or a folder (path or ``file:///path``)
            on a laptop.
        experiment_name: The experiment to create or resume (Katib's ``metadata.name``; it
            replaces the name in ``experiment_spec``).
        run_id: The pipeline run, ``dsl.PIPELINE_JOB_ID_PLACEHOLDER`` (one call of a tuning
            step: stage-inputs' ``run_id`` output); the same on every step.
        round_index: This round's index in the run, 0 for the first.
        rounds_total: How many rounds are compiled into the run.
        experiment_spec: Round 0: the Katib Experiment as JSON. Later rounds: ``""``.
        take_over: Claim the experiment even from a run that looks alive but is gone.
            False: refuse while another run's claim lasts.
        s3_endpoint: The S3 store's endpoint, e.g. ``http://seaweedfs.kubeflow:9000``.
            ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
        fresh_experiment: Tune a new experiment per run (per call),
            ``<experiment_name>-<hash of run_id>``, instead of resuming ``experiment_name``.
            Give every step of the run the same value.
        trial_count: How many new trials: ``-1`` for the round's share of the budget; ``0``
            with ``experiment_spec`` only claims and prepares the run (the pipeline does this,
            and launch-trial's slots then suggest one trial at a time).

    Returns:
        Output: The round's trial names (list of str), for a ``dsl.ParallelFor``; may be
            empty.
    """
    import kfp_tune

    kfp_tune.check_compiled_version()
    from kfp_tune.steps.entrypoints import suggest_step

    return suggest_step(store_uri, experiment_name, run_id, round_index, rounds_total, experiment_spec, take_over, s3_endpoint, fresh_experiment, trial_count)
