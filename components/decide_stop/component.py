from kfp import dsl
from kfp.dsl import HTML, Markdown, Metrics, Output

from kfp_tune.components._image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def decide_stop(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    round_index: int,
    rounds_total: int,
    trials_table: Output[Markdown],
    report: Output[HTML],
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    final: bool = False,
    metrics: Output[Metrics] = None,  # KFP always passes it
) -> bool:
    """Apply Katib's termination order at a checkpoint and write the experiment's status.

    Args:
        store_uri: The store: ``s3://bucket/prefix``, or a folder.
        experiment_name: The experiment, as given to suggest.
        run_id: The pipeline run, as given to suggest.
        round_index: The round that just ended, 0 for the first.
        rounds_total: How many rounds are compiled into the run.
        s3_endpoint: The S3 store's endpoint. ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
        fresh_experiment: As given to suggest.
        final: The run's exit handler: write the status and give the claim back, whatever happened.

    Returns:
        Output: True while the experiment is Running (after the run's last round: budget is
            left for the next run); False when it ended.
        trials_table: Markdown table of every trial, the best marked.
        report: Self-contained HTML report with plots of the search so far.
        metrics: The best trial so far as KFP Metrics, as best-trial's ``metrics``.
    """
    import kfp_tune

    kfp_tune.check_compiled_version()
    from kfp_tune.steps.entrypoints import decide_stop_metrics_step

    going_on, best = decide_stop_metrics_step(  # by keyword: compiled packages keep this call
        store_uri=store_uri, experiment_name=experiment_name, run_id=run_id, round_index=round_index, rounds_total=rounds_total,
        s3_endpoint=s3_endpoint, fresh_experiment=fresh_experiment, markdown_path=trials_table.path, html_path=report.path, final=final,
    )
    if metrics is not None:
        for name, value in best.items():
            metrics.log_metric(name, value)
    return going_on


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def fail_if_experiment_failed(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    failed_before_fails: bool = False,
) -> None:
    """Fail the run when its experiment ended Failed in it (Katib's Failed condition), after decide-stop.

    Args:
        failed_before_fails: Also when it had ended Failed before this run (a tuning step's).
    """
    import kfp_tune

    kfp_tune.check_compiled_version()
    from kfp_tune.core.errors import KfpTuneError
    from kfp_tune.steps.entrypoints import fail_if_experiment_failed as step

    try:
        step(  # by keyword: compiled packages keep this call
            store_uri=store_uri, experiment_name=experiment_name, run_id=run_id, s3_endpoint=s3_endpoint,
            fresh_experiment=fresh_experiment, failed_before_fails=failed_before_fails,
        )
    except KfpTuneError as exc:  # one line, as the other steps say kfp-tune's own errors: no traceback to read through
        raise SystemExit(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}") from None
