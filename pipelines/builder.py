"""Build the looping tuning pipeline for an experiment, and compile it to KFP IR YAML.

KFP v2 has no while loop, so rounds are unrolled and nested::

    suggest -> ParallelFor(trials, parallelism=parallelTrialCount)[launch-trial -> collect-metrics]
            -> decide-stop -> If(continue) -> next round ...

Only handles travel between steps (store URI, experiment name, run id, round); the history
stays in the store. Caching is off on every step: they are all stateful. Every step gets the
store's credentials from a Kubernetes Secret as env; the Secret's name is a run parameter, its
values never are.
"""

# No `from __future__ import annotations` here: KFP reads the pipeline function's annotations.
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfp import compiler, dsl, kubernetes

from kfp_tune.components import collect_metrics, decide_stop, launch_trial, suggest
from kfp_tune.core.naming import dns_label
from kfp_tune.core.spec import Experiment
from kfp_tune.steps.schedule import plan_rounds

DEFAULT_CLUSTER_STORE = "s3://mlpipeline/kfp-tune"
DEFAULT_LAUNCHER_CONFIG: dict[str, Any] = {"kind": "local"}


@dataclass(frozen=True)
class ObjectStore:
    """Where the pipeline's steps find the store in the cluster, and the Secret with its keys.

    ``secret_keys`` maps the Secret's data keys to the env the S3 store reads; ``secret=""``
    wires no Secret (credentials from the pod's own identity, e.g. IAM roles for service
    accounts)."""

    endpoint: str
    secret: str = "mlpipeline-minio-artifact"
    secret_keys: tuple = (("accesskey", "AWS_ACCESS_KEY_ID"), ("secretkey", "AWS_SECRET_ACCESS_KEY"))


OBJECT_STORES: dict[str, ObjectStore] = {
    # KFP 2.16 and later ship SeaweedFS; the artifact Secret kept its name and keys.
    "seaweedfs": ObjectStore(endpoint="http://seaweedfs.kubeflow:9000"),
    # KFP before 2.16: MinIO.
    "minio": ObjectStore(endpoint="http://minio-service.kubeflow:9000"),
}
DEFAULT_OBJECT_STORE = "seaweedfs"


def build_pipeline(
    experiment: Experiment,
    rounds: int | None = None,
    store_uri: str = DEFAULT_CLUSTER_STORE,
    launcher_config: dict[str, Any] | None = None,
    object_store: str | ObjectStore = DEFAULT_OBJECT_STORE,
) -> Callable[..., Any]:
    """The KFP pipeline function for an experiment (already validated).

    ``store_uri``, ``launcher_config`` and the object store's endpoint and Secret name become the
    pipeline parameters' defaults (``object_store``: "seaweedfs", "minio" or an ObjectStore);
    the spec is embedded as a constant input of the first round's suggest (not a run parameter:
    those are capped at 10,000 characters and public)."""
    if isinstance(object_store, str):
        if object_store not in OBJECT_STORES:
            raise ValueError(f"object_store {object_store!r}: expected one of {sorted(OBJECT_STORES)} or an ObjectStore")
        object_store = OBJECT_STORES[object_store]
    cluster_store = object_store
    total = rounds or plan_rounds(experiment)
    if total < 1:
        raise ValueError(f"rounds must be at least 1, got {total}")
    parallel = experiment.spec.parallel_trial_count or 1
    spec_json = json.dumps(experiment.to_dict(), sort_keys=True, separators=(",", ":"))
    launcher_json = json.dumps(launcher_config or DEFAULT_LAUNCHER_CONFIG, sort_keys=True)

    def stateful(task: Any, display_name: str, params: dict[str, Any]) -> Any:
        """Caching off (every step reads and writes the store), the store Secret as env."""
        task.set_caching_options(False).set_display_name(display_name)
        if cluster_store.secret:
            kubernetes.use_secret_as_env(task, secret_name=params["store_secret"], secret_key_to_env=dict(cluster_store.secret_keys))
        return task

    def add_round(params: dict[str, Any], index: int) -> None:
        store, endpoint, fresh = params["store_uri"], params["s3_endpoint"], params["fresh_experiment"]
        name = params["experiment_name"]
        first = index == 0
        suggest_task = stateful(
            suggest(
                store_uri=store,
                experiment_name=name,
                run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
                round_index=index,
                rounds_total=total,
                experiment_spec=spec_json if first else "",
                take_over=params["take_over"] if first else False,
                s3_endpoint=endpoint,
                fresh_experiment=fresh,
            ),
            f"suggest (round {index + 1}/{total})",
            params,
        )
        with dsl.ParallelFor(suggest_task.output, parallelism=parallel, name=f"trials-round-{index + 1}") as trial:
            common = dict(store_uri=store, experiment_name=name, trial_name=trial, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER, s3_endpoint=endpoint, fresh_experiment=fresh)
            launch_task = stateful(launch_trial(launcher_config=params["launcher_config"], **common), "launch-trial", params)
            collect_task = stateful(collect_metrics(**common).after(launch_task), "collect-metrics", params)
        # .after() on a task in the loop waits for the whole loop, and copes with an empty round.
        decide_task = stateful(
            decide_stop(
                store_uri=store, experiment_name=name, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER, round_index=index, rounds_total=total, s3_endpoint=endpoint,
                fresh_experiment=fresh,
            ).after(collect_task),
            f"decide-stop (round {index + 1}/{total})",
            params,
        )
        if index + 1 < total:
            with dsl.If(decide_task.outputs["Output"] == True, name=f"round-{index + 2}"):  # noqa: E712 (a KFP condition)
                add_round(params, index + 1)

    @dsl.pipeline(
        name=dns_label(f"kfp-tune-{experiment.name}"),
        description=f"kfp-tune: Katib experiment {experiment.name!r}, {total} round(s) per run",
    )
    def tuning_pipeline(
        store_uri: str = store_uri,
        experiment_name: str = experiment.name,
        launcher_config: str = launcher_json,
        take_over: bool = False,
        fresh_experiment: bool = False,
        s3_endpoint: str = cluster_store.endpoint,
        store_secret: str = cluster_store.secret,
    ) -> None:
        params = dict(
            store_uri=store_uri,
            experiment_name=experiment_name,
            launcher_config=launcher_config,
            take_over=take_over,
            fresh_experiment=fresh_experiment,
            s3_endpoint=s3_endpoint,
            store_secret=store_secret,
        )
        add_round(params, 0)

    return tuning_pipeline


def compile_pipeline(experiment: Experiment, output: str | Path, **options: Any) -> Path:
    """Compile the experiment's pipeline to KFP IR YAML at ``output``."""
    path = Path(output)
    compiler.Compiler().compile(build_pipeline(experiment, **options), str(path))
    return path
