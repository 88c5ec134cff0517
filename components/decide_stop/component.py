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

    Goal reached, too many failed trials, ``maxTrialCount`` reached, search space exhausted:
    the experiment ends. Otherwise it stays Running; after the run's last round the next run
    of the pipeline resumes it. When the run ends, its claim on the experiment is released.

    Args:
        store_uri: The store: ``s3://bucket/prefix``, or a folder (path or ``file:///path``)
            on a laptop.
        experiment_name: The experiment, as given to suggest.
        run_id: The pipeline run, as given to suggest.
        round_index: The round that just ended, 0 for the first.
        rounds_total: How many rounds are compiled into the run.
        s3_endpoint: The S3 store's endpoint. ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
        fresh_experiment: As given to suggest.
        final: The run's exit handler: whatever happened (a step failed, the run was stopped),
            write the status and give the run's claim back, so the next run may start at once.

    Returns:
        Output: True while the experiment is Running (the next round should run; after the
            run's last round, True means budget is left for the next run); False when it ended.
        trials_table: Markdown table of every trial (status, parameters, metrics), the best
            marked.
        report: Self-contained HTML report with plots of the search so far.
        metrics: The best trial so far as KFP Metrics, as best-trial's ``metrics``: what the KFP
            UI compares across runs; empty while there is none (the README says when).
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
