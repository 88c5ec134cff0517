from kfp import dsl

from kfp_tune.components._image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def launch_trial(store_uri: str, experiment_name: str, trial_name: str, launcher_config: str, run_id: str, s3_endpoint: str = "", fresh_experiment: bool = False) -> str:
    """Run one trial to its end (Succeeded, Failed or EarlyStopped) and store its logs; a retry
    never starts a trial a second time. Returns how the trial ended."""
    from kfp_tune.runtime import launch_trial_step

    return launch_trial_step(store_uri, experiment_name, trial_name, launcher_config, run_id, s3_endpoint, fresh_experiment)
