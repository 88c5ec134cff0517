"""Build the looping tuning pipeline for an experiment, and compile it to KFP IR YAML.

KFP v2 has no while loop, so rounds are unrolled and nested::

    suggest -> ParallelFor(trials, parallelism=parallelTrialCount)[launch-trial -> collect-metrics]
            -> decide-stop -> If(continue) -> next round ...

Only handles travel between steps (store URI, experiment name, run id, round); the history
stays in the store. Caching is off on every step: they are all stateful.
"""

# No `from __future__ import annotations` here: KFP reads the pipeline function's annotations.
import json
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Union

from kfp import compiler, dsl

from kfp_tune.components import collect_metrics, decide_stop, launch_trial, suggest
from kfp_tune.core.naming import dns_label
from kfp_tune.core.spec import Experiment
from kfp_tune.engine import plan_rounds

DEFAULT_CLUSTER_STORE = "s3://mlpipeline/kfp-tune"
DEFAULT_LAUNCHER_CONFIG: Dict[str, Any] = {"kind": "local"}


def build_pipeline(
    experiment: Experiment,
    rounds: Optional[int] = None,
    store_uri: str = DEFAULT_CLUSTER_STORE,
    launcher_config: Optional[Dict[str, Any]] = None,
) -> Callable[..., Any]:
    """The KFP pipeline function for an experiment (already validated).

    ``store_uri`` and ``launcher_config`` become the pipeline parameters' defaults; the spec is
    embedded as a constant input of the first round's suggest (not a run parameter: those are
    capped at 10,000 characters and public)."""
    total = rounds or plan_rounds(experiment)
    if total < 1:
        raise ValueError(f"rounds must be at least 1, got {total}")
    parallel = experiment.spec.parallel_trial_count or 1
    spec_json = json.dumps(experiment.to_dict(), sort_keys=True, separators=(",", ":"))
    launcher_json = json.dumps(launcher_config or DEFAULT_LAUNCHER_CONFIG, sort_keys=True)

    def add_round(store: Any, name: Any, launcher: Any, index: int, take_over: Any = False) -> None:
        suggest_task = suggest(
            store_uri=store,
            experiment_name=name,
            run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
            round_index=index,
            rounds_total=total,
            experiment_spec=spec_json if index == 0 else "",
            take_over=take_over,
        )
        suggest_task.set_caching_options(False).set_display_name(f"suggest (round {index + 1}/{total})")
        with dsl.ParallelFor(suggest_task.output, parallelism=parallel, name=f"trials-round-{index + 1}") as trial:
            launch_task = launch_trial(
                store_uri=store, experiment_name=name, trial_name=trial, launcher_config=launcher, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER
            )
            launch_task.set_caching_options(False).set_display_name("launch-trial")
            collect_task = collect_metrics(
                store_uri=store, experiment_name=name, trial_name=trial, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER
            ).after(launch_task)
            collect_task.set_caching_options(False).set_display_name("collect-metrics")
        # .after() on a task in the loop waits for the whole loop, and copes with an empty round.
        decide_task = decide_stop(
            store_uri=store, experiment_name=name, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER, round_index=index, rounds_total=total
        ).after(collect_task)
        decide_task.set_caching_options(False).set_display_name(f"decide-stop (round {index + 1}/{total})")
        if index + 1 < total:
            with dsl.If(decide_task.output == True, name=f"round-{index + 2}"):  # noqa: E712 (a KFP condition)
                add_round(store, name, launcher, index + 1)

    @dsl.pipeline(
        name=dns_label(f"kfp-tune-{experiment.name}"),
        description=f"kfp-tune: Katib experiment {experiment.name!r}, {total} round(s) per run",
    )
    def tuning_pipeline(
        store_uri: str = store_uri,
        experiment_name: str = experiment.name,
        launcher_config: str = launcher_json,
        take_over: bool = False,
    ) -> None:
        add_round(store_uri, experiment_name, launcher_config, 0, take_over)

    return tuning_pipeline


def compile_pipeline(experiment: Experiment, output: Union[str, Path], **options: Any) -> Path:
    """Compile the experiment's pipeline to KFP IR YAML at ``output``."""
    path = Path(output)
    compiler.Compiler().compile(build_pipeline(experiment, **options), str(path))
    return path
