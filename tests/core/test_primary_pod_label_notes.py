"""A ``primaryPodLabels`` key that no pod template sets with that value selects no pod, on Katib
(its webhook tests the pod's labels as they came, before it adds the Trial's: inject_webhook.go
Mutate) as here: every trial that ends well ends PrimaryPodMissing. validate said the experiment
was valid and nothing more, and where the key was only the Experiment's ``metadata.labels`` it
said nothing either (it took those for labels that choose the primary pod); it notes each such key
now: set only on the resource or the Experiment, set nowhere (no domain, no controller's), set
with another value. Not where a pod template sets it, nor for a key a controller may set."""

from __future__ import annotations

from typing import Any

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes

LABELLED = "spec.trialTemplate.trialSpec.metadata"
POD_META = "spec.trialTemplate.trialSpec.spec.template.metadata"


def notes(labels: dict[str, str] | None = None, **overrides: Any) -> list[str]:
    doc = quadratic_experiment(**{"spec.trialTemplate.primaryPodLabels": labels or {"role": "primary"}, **overrides})
    return [f"{n.path}: {n.message}" for n in katib_notes(load_experiment(doc)) if "primaryPodLabels" in n.path]


def test_a_primary_pod_label_only_the_resource_carries_is_noted() -> None:
    told = notes(**{LABELLED: {"labels": {"role": "primary"}}})
    assert len(told) == 1 and told[0].startswith("spec.trialTemplate.primaryPodLabels.role: ") and "PrimaryPodMissing" in told[0]


def test_a_primary_pod_label_only_the_experiment_carries_is_noted() -> None:
    told = notes({"team": "ml"}, **{"metadata.labels": {"team": "ml"}})
    assert len(told) == 1 and told[0].startswith("spec.trialTemplate.primaryPodLabels.team: ") and "Experiment's metadata.labels" in told[0]


def test_a_label_set_nowhere_or_with_another_value_is_noted() -> None:
    assert [n.partition(": ")[0] for n in notes({"nope": "x"})] == ["spec.trialTemplate.primaryPodLabels.nope"]
    told = notes({"app": "x"}, **{POD_META: {"labels": {"app": "y"}}})
    assert len(told) == 1 and "only to 'y', not 'x'" in told[0]


def test_no_note_where_a_pod_template_sets_it_or_a_controller_may() -> None:
    on_resource = {LABELLED: {"labels": {"role": "primary"}}}
    assert not notes(**on_resource, **{POD_META: {"labels": {"role": "primary"}}})
    assert not notes({"team": "ml"}, **{"metadata.labels": {"team": "ml"}, POD_META: {"labels": {"team": "ml"}}})
    assert not notes({"example.com/role": "primary"}), "a key with a domain may be a webhook's"
    assert not notes({"job-name": "x", "batch.kubernetes.io/job-name": "x"}), "a Job's controller sets these"

