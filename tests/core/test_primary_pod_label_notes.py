"""A ``primaryPodLabels`` key set only on the trial resource's own ``metadata.labels`` reaches
no pod, on Katib (its webhook gives the pods the Trial's labels) as here: every trial that ends
well ends PrimaryPodMissing. validate said the experiment was valid and nothing more; it notes it
now, and not where a pod template or the Experiment's ``metadata.labels`` sets the key."""

from __future__ import annotations

from typing import Any

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes

LABELLED = "spec.trialTemplate.trialSpec.metadata"
POD_META = "spec.trialTemplate.trialSpec.spec.template.metadata"


def notes(**overrides: Any) -> list[str]:
    doc = quadratic_experiment(**{"spec.trialTemplate.primaryPodLabels": {"role": "primary"}, **overrides})
    return [f"{n.path}: {n.message}" for n in katib_notes(load_experiment(doc))]


def test_a_primary_pod_label_only_the_resource_carries_is_noted() -> None:
    told = [n for n in notes(**{LABELLED: {"labels": {"role": "primary"}}}) if "primaryPodLabels" in n]
    assert len(told) == 1 and told[0].startswith("spec.trialTemplate.primaryPodLabels.role: ") and "PrimaryPodMissing" in told[0]


def test_no_note_where_a_pod_template_or_the_experiment_sets_it() -> None:
    on_resource = {LABELLED: {"labels": {"role": "primary"}}}
    assert not [n for n in notes(**on_resource, **{POD_META: {"labels": {"role": "primary"}}}) if "primaryPodLabels" in n]
    assert not [n for n in notes(**on_resource, **{"metadata.labels": {"role": "primary"}}) if "primaryPodLabels" in n]
    assert not [n for n in notes() if "primaryPodLabels" in n], "a label set nowhere is the cluster's (a controller's), not told"
