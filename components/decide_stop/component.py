from kfp import dsl

from kfp_tune.components._image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def decide_stop(store_uri: str, experiment_name: str, run_id: str, round_index: int, rounds_total: int) -> bool:
    """Apply Katib's termination order after a round, write the experiment status to the store,
    and return True when the next round should run."""
    from kfp_tune.runtime import decide_stop_step

    return decide_stop_step(store_uri, experiment_name, run_id, round_index, rounds_total)
