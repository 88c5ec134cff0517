from typing import Optional

from kfp import dsl
from kfp.dsl import Dataset, Input

from kfp_tune.components._image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def stage_inputs(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    dataset: Optional[Input[Dataset]] = None,  # noqa: UP045 (KFP reads this form)
) -> int:
    """Make an upstream artifact available to every trial of this run: copy it into the store,
    where a trial finds it with ``kfp_tune.steps.trial_artifacts.input_path("dataset")``
    wherever it runs (a subprocess here, a pod on the cluster).

    Args:
        store_uri: The store: ``s3://bucket/prefix``, or a folder (path or ``file:///path``)
            on a laptop.
        experiment_name: The experiment, as given to suggest.
        run_id: The pipeline run, as given to suggest: a run's trials read what that run staged.
        s3_endpoint: The S3 store's endpoint. ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
        fresh_experiment: As given to suggest.
        dataset: The upstream dataset (a file or a folder); none given, nothing is staged.

    Returns:
        Output: How many files were staged.
    """
    from kfp_tune.steps.entrypoints import stage_inputs_step

    inputs = {} if dataset is None else {"dataset": (dataset.path, dataset.uri)}
    return stage_inputs_step(store_uri, experiment_name, run_id, inputs, s3_endpoint, fresh_experiment)
