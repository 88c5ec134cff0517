"""The cleanup sweep given the trials its store's experiment recorded (``ours``): a resource the
anchor owns whose trial label is none of them is another experiment's of the same name (another
store's, its trials in the same namespace: the anchor is named after the experiment alone), so it
is kept and named, and the label selector, which selects it too, is not offered for the kept."""

from __future__ import annotations

import time

from conftest import quadratic_experiment
from fake_kube import FakeKube
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher


def _retained(launcher: KubernetesLauncher, *names: str) -> None:
    experiment = load_experiment(quadratic_experiment(**{"spec.trialTemplate.retain": True}))
    for index, name in enumerate(names):
        state = TrialState(name=name, index=index, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
        assert launcher.run(trial_run(experiment, state)).phase == "Succeeded"


def test_a_resource_of_a_trial_not_ours_is_kept_and_named(kube: FakeKube) -> None:
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05, api_retry_seconds=0.0), api_client=kube.api_client(), env={},
                                  sleep=time.sleep)
    _retained(launcher, "quad-aaaa1111", "quad-bbbb2222", "quad-cccc3333")
    asked: list[str] = []
    swept = launcher.sweep("quad", keep=lambda: asked.append("keep") or {"quad-bbbb2222"},
                           ours=lambda: asked.append("ours") or {"quad-aaaa1111", "quad-bbbb2222"})
    assert asked == ["keep", "ours"]  # ours after keep: cleanup reads both from one reading of the store
    assert swept.deleted == ["quad-aaaa1111"]
    assert swept.kept == [("jobs.batch", "quad-bbbb2222")] and swept.others == [("jobs.batch", "quad-cccc3333")]
    assert swept.kept_selectors == {}  # the selector would select quad-cccc3333 too
    assert sorted(o["metadata"]["name"] for o in kube.stored("jobs")) == ["quad-bbbb2222", "quad-cccc3333"]


def test_without_ours_every_resource_the_anchor_owns_is_the_experiments(kube: FakeKube) -> None:
    """No store records the experiment any more (kfp-tune delete): as before."""
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05, api_retry_seconds=0.0), api_client=kube.api_client(), env={},
                                  sleep=time.sleep)
    _retained(launcher, "quad-aaaa1111", "quad-cccc3333")
    swept = launcher.sweep("quad")
    assert sorted(swept.deleted) == ["quad-aaaa1111", "quad-cccc3333"] and swept.others == [] and kube.stored("jobs") == []


def test_take_others_is_asked_with_them_once_ours_are_deleted_and_deletes_only_those_named(kube: FakeKube) -> None:
    """cleanup --others: a predecessor's of the name (deleted and made again in the same store)
    looks as another store's does, so a person is asked; declined, they are kept as before."""
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05, api_retry_seconds=0.0), api_client=kube.api_client(), env={},
                                  sleep=time.sleep)
    _retained(launcher, "quad-aaaa1111", "quad-cccc3333", "quad-dddd4444")
    asked: list[list[tuple[str, str]]] = []
    declined = launcher.sweep("quad", ours={"quad-aaaa1111"}, take_others=lambda others: asked.append(others) or False)
    assert asked == [[("jobs.batch", "quad-cccc3333"), ("jobs.batch", "quad-dddd4444")]]
    assert declined.deleted == ["quad-aaaa1111"] and declined.others == asked[0] and declined.others_taken == []
    assert sorted(o["metadata"]["name"] for o in kube.stored("jobs")) == ["quad-cccc3333", "quad-dddd4444"]
    taken = launcher.sweep("quad", ours=set(), take_others=lambda others: asked.append(others) or True)
    assert taken.others == [] and taken.others_taken == asked[0] and kube.stored("jobs") == []
    assert launcher.sweep("quad", ours=set(), take_others=lambda others: asked.append(others) or True).others_taken == []
    assert len(asked) == 2  # nothing of another's left: not asked
