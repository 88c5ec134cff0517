from typing import NamedTuple, Optional

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
    call_id: str = "",
) -> NamedTuple("Outputs", [("run_id", str), ("files", int)]):  # type: ignore[valid-type]
    """Open one call of the tuning step: check what suggest would refuse first, then make an
    upstream artifact available to every trial: copy it into the store, where a trial finds it
    with ``kfp_tune.steps.trial_artifacts.input_path("dataset")`` wherever it runs (a subprocess
    here, a pod on the cluster).

    Refused before anything is stored: an experiment name Katib would refuse, a second call of
    the same pipeline run on this experiment, and a dataset other than the one the experiment's
    trials were measured on (give such a call fresh_experiment=True or its own experiment_name).
    The same content is stored once per experiment, however many runs stage it.

    Args:
        store_uri: The store: ``s3://bucket/prefix``, or a folder (path or ``file:///path``)
            on a laptop.
        experiment_name: The experiment, as given to suggest.
        run_id: The pipeline run, ``dsl.PIPELINE_JOB_ID_PLACEHOLDER``.
        s3_endpoint: The S3 store's endpoint. ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
        fresh_experiment: As given to suggest.
        dataset: The upstream dataset (a file or a folder); none given, nothing is staged.
        call_id: This call's own id, ``dsl.PIPELINE_TASK_ID_PLACEHOLDER``, so that two calls
            in one run are told apart; ``""``: the pipeline run is one call.

    Returns:
        run_id: The run id every later step of this call takes (``run_id`` and ``call_id``
            together): its claim, rounds, trials and staged inputs are its own.
        files: How many files were staged.
    """
    import kfp_tune

    kfp_tune.check_compiled_version()
    from collections import namedtuple

    from kfp_tune.core.claims import call_run_id
    from kfp_tune.steps.entrypoints import stage_inputs_step

    run = call_run_id(run_id, call_id)
    inputs = {} if dataset is None else {"dataset": (dataset.path, dataset.uri)}
    files = stage_inputs_step(store_uri, experiment_name, run, inputs, s3_endpoint, fresh_experiment)
    Outputs = namedtuple("Outputs", ["run_id", "files"])
    return Outputs(run, files)
