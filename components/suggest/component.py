from typing import List

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
) -> List[str]:
    """Create this round's trials in the store and return their names.

    The number of trials is decided from what the store says is left of the budget. A retry of
    the same round returns the same trials. Round 0 gets the experiment spec (JSON), claims the
    experiment for this run (``take_over`` claims it from a run that looks alive) and creates
    it, or checks that it may resume. With ``fresh_experiment`` (on every step of a run) the run
    tunes a new experiment named after ``experiment_name`` and the run id. ``s3_endpoint`` overrides $KFP_TUNE_S3_ENDPOINT."""
    from kfp_tune.runtime import suggest_step

    return suggest_step(store_uri, experiment_name, run_id, round_index, rounds_total, experiment_spec, take_over, s3_endpoint, fresh_experiment)
