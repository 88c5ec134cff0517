"""A tuning step for any pipeline: the tuning loop as a sub-pipeline whose best result flows
downstream.

``tuning_step(experiment)`` returns a KFP pipeline to call inside your own ``@dsl.pipeline``
like a component::

    stage-inputs (names this call, checks it, copies the upstream dataset into the store)
      -> the tuning pipeline of :func:`kfp_tune.pipelines.build_pipeline` (claim, checkpoints
         of launch-trial slots and decide-stop, release), as a nested pipeline; it fails when its
         experiment is Failed, in this call or before, so no step after it takes that best trial
      -> best-trial (read the store: best parameters, objective, trial, metrics, model)

Inputs: ``dataset`` (an optional ``Input[Dataset]``) and the tuning pipeline's parameters
(``store_uri``, ``experiment_name``, ...: the same names and defaults; ``launcher_config`` as a
dict or its JSON). Outputs: ``best_parameters`` (dict), ``best_objective`` (float),
``best_trial`` (str), ``best_model`` (Model), ``best_metrics`` (list, Katib's shape), ``metrics``
(a KFP ``Metrics`` artifact: the best trial's metrics, which the KFP UI compares across runs). A trial
reads the dataset with ``kfp_tune.steps.trial_artifacts.input_path()`` and saves its model with
``save_model(path)`` (:mod:`kfp_tune.steps.trial_artifacts`).

Each call of the step is a run of its own to the store (stage-inputs passes the call's KFP task
id on, ``core.claims.call_run_id``): two calls in one pipeline run (two steps, or a
``ParallelFor``) never share a claim or staged inputs, and a second call on the experiment of
the first is refused, as is a later run whose dataset differs from the one the experiment was
tuned on.
"""

# No `from __future__ import annotations` here: KFP reads the pipeline function's annotations.
import inspect
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, Optional

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model
from kfp.dsl.graph_component import GraphComponent

from kfp_tune.components.best_trial import best_trial
from kfp_tune.components.stage_inputs import stage_inputs
from kfp_tune.core.errors import InputError
from kfp_tune.core.naming import dns_label
from kfp_tune.core.spec import Experiment
from kfp_tune.core.version import compiled_by_text
from kfp_tune.pipelines.builder import (
    DEFAULT_CHECKPOINT_SECONDS,
    DEFAULT_CLUSTER_STORE,
    DEFAULT_OBJECT_STORE,
    RUN_PARAMETERS,
    ObjectStore,
    as_experiment,
    build_pipeline,
    checked_store_uri,
    launcher_config_of,
    pipeline_doc,
    pipeline_store_uri,
    resolve_object_store,
    stateful_task,
    warn_unasked_trial_resources,
)
from kfp_tune.stores.s3 import check_s3_endpoint

TuningOutputs = NamedTuple("TuningOutputs", [("best_parameters", dict), ("best_objective", float), ("best_trial", str), ("best_model", Model), ("best_metrics", list), ("metrics", Metrics)])  # noqa: UP014 (KFP reads this form)
"""What the tuning step hands downstream: ``step.outputs["best_parameters"]`` and so on."""
TUNING_OUTPUTS: dict[str, str] = {
    "best_parameters": "The best trial's parameters by name: int, float, a categorical's string, a discrete value as a number. The number type is not kept across KFP (kfp.local: 4 as 4.0; a cluster: 1.0 as 1): convert each value, int(p['C']), float(p['gamma']).",
    "best_objective": "The best trial's objective value, after its metric strategy.",
    "best_trial": "The best trial's name.",
    "best_model": "The files the best trial saved (save_model); metadata: experiment, trial, parameters, metrics, the inputs it was tuned on.",
    "best_metrics": "Every metric of the best trial, as Katib's currentOptimalTrial.observation.metrics: [{name, min, max, latest}], as strings.",
    "metrics": "The best trial's metrics (system.Metrics) by the experiment's metric names, in name order, after their strategy; one never reported is left out: what the KFP UI shows and compares across runs.",
}
"""What each output of a tuning step (or of component trials) is: the descriptions KFP shows."""


class CheckedCall(GraphComponent):
    """A tuning pipeline as a component of your pipeline (a tuning step, component trials),
    whose ``store_uri`` and ``s3_endpoint`` given as constants where it is called are checked
    there as their defaults are (:func:`checked_store_uri`, :func:`check_s3_endpoint`): a
    constant becomes part of the compiled pipeline, which the KFP UI shows, so one with
    credentials in it is refused, naming the input, the secret never repeated."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        check_constant_store_inputs(kwargs)
        return super().__call__(*args, **kwargs)


def check_constant_store_inputs(kwargs: Mapping[str, Any]) -> None:
    """InputError naming ``store_uri`` or ``s3_endpoint`` when the one given as a constant
    (a string, not a pipeline parameter) holds credentials or is no store URI or endpoint the
    steps take; the value masked or left out."""
    if isinstance(kwargs.get("store_uri"), str):
        checked_store_uri(kwargs["store_uri"])
    if isinstance(kwargs.get("s3_endpoint"), str):
        try:
            check_s3_endpoint(kwargs["s3_endpoint"])
        except InputError as exc:
            raise InputError(f"s3_endpoint: {exc}") from None


class TuningStep(CheckedCall):
    """A tuning step as a component of your pipeline, taking ``launcher_config`` as a dict too:
    the step's input is a string (its JSON, as the run parameter and old compiled pipelines have
    it), so a dict (or a JSON string) given as a constant is checked, then passed as its JSON."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        config = kwargs.get("launcher_config")
        if isinstance(config, (dict, str)):
            kwargs["launcher_config"] = json.dumps(launcher_config_of(config), sort_keys=True)
        return super().__call__(*args, **kwargs)


def tuning_step(
    experiment: Experiment | str | Path | Mapping[str, Any],
    rounds: int | None = None,
    store_uri: str | None = DEFAULT_CLUSTER_STORE,
    launcher_config: dict[str, Any] | str | None = None,
    object_store: str | ObjectStore = DEFAULT_OBJECT_STORE,
    checkpoint_trials: int | None = None,
    checkpoint_seconds: float = DEFAULT_CHECKPOINT_SECONDS,
    with_dataset: bool = True,
) -> Callable[..., Any]:
    """The tuning step of an experiment (a Katib Experiment: a model, a dict, a YAML path or
    YAML text; validated here), as a pipeline to use as a component in your own pipeline. The
    options are :func:`~kfp_tune.pipelines.build_pipeline`'s, and become the defaults of the
    step's parameters of the same names.

    For the local launcher, trials asking for an extended resource the launch-trial pod cannot
    ask for on their behalf give a LocalTrialResourcesWarning, as in ``compile_pipeline``.

    ``with_dataset=False``: a step with no ``dataset`` input, for trials that need none. (The
    input is optional in the compiled spec, but kfp.local 2.17 fails a nested pipeline whose
    call leaves an optional artifact out, so a step that never gets one should not declare it.)"""
    model = as_experiment(experiment)
    store_uri = pipeline_store_uri(store_uri)  # the step's parameter default, as the loop's: None is the cluster's store
    cluster_store = resolve_object_store(object_store)
    if checkpoint_trials is None:
        checkpoint_trials = 2 * (model.spec.parallel_trial_count or 1)
    launcher = launcher_config_of(launcher_config)
    warn_unasked_trial_resources(model, launcher)  # as compile_pipeline says it
    # its experiment Failed, the call fails, whenever it failed: no step after it takes a Failed experiment's best trial
    loop = build_pipeline(
        model, rounds, store_uri, launcher, cluster_store, checkpoint_trials, checkpoint_seconds, run_id_input=True, failed_before_fails=True,
    )

    def stateful(task: Any, display_name: str, store_secret: Any) -> Any:
        return stateful_task(task, display_name, cluster_store, store_secret)

    def tuning_step_pipeline(
        store_uri: str = store_uri,
        experiment_name: str = model.name,
        launcher_config: str = json.dumps(launcher, sort_keys=True),
        take_over: bool = False,
        fresh_experiment: bool = False,
        s3_endpoint: str = cluster_store.endpoint,
        store_secret: str = cluster_store.secret,
        checkpoint_trials: int = checkpoint_trials,
        checkpoint_seconds: float = checkpoint_seconds,
        dataset: Optional[Input[Dataset]] = None,  # noqa: UP045 (KFP reads this form)
    ) -> TuningOutputs:
        handles = dict(store_uri=store_uri, experiment_name=experiment_name, s3_endpoint=s3_endpoint, fresh_experiment=fresh_experiment)
        # the call's first task: checks, stages, and names the call (its task id) for every later task
        opened = stage_inputs(**handles, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER, call_id=dsl.PIPELINE_TASK_ID_PLACEHOLDER, **({"dataset": dataset} if with_dataset else {}))
        stateful(opened, "stage-inputs (checks; the dataset, for the trials)" if with_dataset else "stage-inputs (checks this call)", store_secret)
        run_id = opened.outputs["run_id"]
        tuned = loop(
            store_uri=store_uri, experiment_name=experiment_name, launcher_config=launcher_config, take_over=take_over,
            fresh_experiment=fresh_experiment, s3_endpoint=s3_endpoint, store_secret=store_secret,
            checkpoint_trials=checkpoint_trials, checkpoint_seconds=checkpoint_seconds, run_id=run_id,
        ).after(opened)
        tuned.set_caching_options(False).set_display_name(f"tune {model.name}")
        best = stateful(best_trial(**handles, run_id=run_id).after(tuned), "best-trial (parameters, objective, metrics, model)", store_secret)
        return TuningOutputs(
            best_parameters=best.outputs["best_parameters"], best_objective=best.outputs["best_objective"],
            best_trial=best.outputs["best_trial"], best_model=best.outputs["best_model"], best_metrics=best.outputs["best_metrics"],
            metrics=best.outputs["metrics"],
        )

    if not with_dataset:  # KFP reads the signature, and passes the inputs it lists in order: dataset is last
        signature = inspect.signature(tuning_step_pipeline)
        tuning_step_pipeline.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[p for p in signature.parameters.values() if p.name != "dataset"]
        )
    inputs = {**RUN_PARAMETERS, "dataset": "The upstream dataset (a file or a folder), staged for every trial: kfp_tune.steps.trial_artifacts.input_path()."}
    tuning_step_pipeline.__doc__ = pipeline_doc(f"kfp-tune tuning step: Katib experiment {model.name!r}.", inputs, TUNING_OUTPUTS)
    step = dsl.pipeline(
        name=dns_label(f"kfp-tune-step-{model.name}"),
        description=f"kfp-tune tuning step: Katib experiment {model.name!r}; outputs the best parameters, objective, trial, metrics and model; {compiled_by_text()}",
    )(tuning_step_pipeline)
    step.__class__ = TuningStep  # KFP's own component, with launcher_config taken as a dict too
    return step
