from kfp import dsl
from kfp.dsl import HTML, Markdown, Output

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
) -> bool:
    """Apply Katib's termination order after a round, write the experiment status to the store,
    and return True when the next round should run. Shows the trial table (best marked) and an
    HTML report with plots in the KFP UI."""
    from kfp_tune.runtime import decide_stop_step

    return decide_stop_step(
        store_uri, experiment_name, run_id, round_index, rounds_total, s3_endpoint, fresh_experiment, trials_table.path, report.path
    )
