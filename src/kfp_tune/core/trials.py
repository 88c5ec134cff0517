"""A trial's run: its manifest rendered from the experiment's template, and everything a
launcher needs to run it (:class:`~kfp_tune.core.interfaces.TrialRun`)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from kfp_tune.core.checkpoints import trial_checkpoint
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.naming import labels_for
from kfp_tune.core.spec import Experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.template import is_meta_reference, resolve_meta_reference, substitute

DEFAULT_NAMESPACE = "default"
"""The namespace of an experiment that names none, as Kubernetes gives it (and ``kfp-tune render``)."""


def trial_namespace(experiment: Experiment, launcher_namespace: str = "") -> str:
    """The namespace a trial's ``${trialSpec.Namespace}`` reads: where the launcher creates it, and
    where it runs nowhere (a local run), the experiment's, as in Katib, whose Trial is made in its
    Experiment's namespace (experiment_controller_util.go, then generator.go ``applyParameters``)."""
    return launcher_namespace or experiment.metadata.namespace or DEFAULT_NAMESPACE


def render_trial(experiment: Experiment, trial: TrialState, namespace: str = "") -> dict[str, Any]:
    """The trial's manifest: trialSpec with its name, labels (kfp-tune's, and the algorithm's,
    as Katib puts a suggestion's labels on the Trial) and parameters filled in.

    Substitution walks the parsed tree; nothing is spliced into YAML text."""
    template = experiment.spec.trial_template
    assert template is not None and template.trial_spec is not None
    manifest = copy.deepcopy(template.trial_spec)
    metadata = manifest.setdefault("metadata", {})
    metadata["name"] = trial.name
    if namespace:
        metadata["namespace"] = namespace
    metadata.setdefault("labels", {}).update({**trial.labels, **labels_for(experiment.name, trial.name, trial.round)})
    values: dict[str, str] = {}
    for tp in template.trial_parameters or []:
        if is_meta_reference(tp.reference):
            values[tp.name] = resolve_meta_reference(tp.reference, manifest)
        else:
            values[tp.name] = trial.assignment[tp.reference]
    return substitute(manifest, values)


def trial_run(
    experiment: Experiment, trial: TrialState, namespace: str = "", should_stop: Callable[[str], bool] | None = None, handover: threading.Event | None = None
) -> TrialRun:
    template = experiment.spec.trial_template
    assert template is not None
    mc = experiment.spec.metrics_collector_spec
    path = mc.source.file_system_path if experiment.spec.collector_kind in ("File", "TensorFlowEvent") and mc and mc.source else None
    checkpoint = trial_checkpoint(experiment, trial.labels)
    return TrialRun(
        experiment=experiment.name,
        trial=trial.name,
        manifest=render_trial(experiment, trial, namespace),
        assignment=dict(trial.assignment),
        primary_container=template.primary_container_name,
        success_condition=template.success_condition,
        failure_condition=template.failure_condition,
        primary_pod_labels=dict(template.primary_pod_labels or {}),
        pod_labels={**(experiment.metadata.labels or {}), **trial.labels, **labels_for(experiment.name, trial.name, trial.round)},
        retain=template.retain,
        should_stop=should_stop,
        metrics_path=(path.path or "") if path else "",
        metrics_path_kind=(path.kind or "") if path else "",
        metrics_collector=mc.to_dict() if mc is not None else {},
        metric_names=tuple(experiment.spec.objective.metric_names) if experiment.spec.objective is not None and experiment.spec.collector_kind == "StdOut" else (),
        handover=handover,
        checkpoint_path=checkpoint.path if checkpoint else "",
        checkpoint_parent=checkpoint.parent if checkpoint else "",
    )
