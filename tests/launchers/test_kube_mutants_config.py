"""The Kubernetes launcher's config as a user writes it (``launcher_config``): its defaults, the
``trialResources`` entries and ``checkpointVolume`` it refuses and what the refusal says, and
the trial template ConfigMap read's errors for statuses other than 403 and 404."""

from __future__ import annotations

from typing import Any

import pytest

from fake_kube import FakeKube, Fault
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.launchers.kubernetes import KubernetesConfig
from kfp_tune.launchers.kubernetes.config_maps import read_config_map
from kfp_tune.launchers.kubernetes.kinds import trial_kind
from kfp_tune.launchers.kubernetes.launcher import KubernetesLauncher, check_checkpoints


def test_a_config_that_gives_only_the_namespace_is_the_launchers_defaults() -> None:
    """What a user leaves out of the config file is what the launcher takes when built in code."""
    assert KubernetesConfig.from_dict({"namespace": "team-a"}) == KubernetesConfig(namespace="team-a")


# --- trialResources ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "manifest",
    [
        {"apiVersion": "example.com/v1", "kind": "TrainingRun"},  # not known here: plural learned from the cluster, pods by owners
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"},  # known here: its plural and pod label stay
    ],
)
def test_a_mapping_with_only_kind_and_api_version_is_the_kind_as_a_trial_manifest_gives_it(manifest: dict[str, str]) -> None:
    config = KubernetesConfig.from_dict({"namespace": "team-a", "trialResources": [dict(manifest)]})
    assert config.trial_resources == (trial_kind(manifest),)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (".v1.example.com", "is not Kind.version.group"),  # no kind
        ("TrainingRun.v1.", "is not Kind.version.group"),  # no group
        ({"kind": "", "apiVersion": "example.com/v1"}, "needs kind and apiVersion (group/version)"),
        ({"kind": "TrainingRun", "apiVersion": "example.com/v1", "plural": 7}, "plural and podLabel must be strings"),
        ({"kind": "TrainingRun", "apiVersion": "example.com/v1", "podLabel": ["example.com/run"]}, "plural and podLabel must be strings"),
    ],
)
def test_a_trial_resources_entry_missing_a_part_is_refused_saying_what_is_expected(entry: Any, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        KubernetesConfig.from_dict({"namespace": "team-a", "trialResources": [entry]})
    assert problem in str(caught.value) and "trialResources" in str(caught.value)


def test_trial_resources_that_is_not_a_list_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError) as caught:
        KubernetesConfig.from_dict({"namespace": "team-a", "trialResources": "TrainingRun.v1.example.com"})
    assert "trialResources" in str(caught.value) and "expected a list" in str(caught.value)


# --- checkpointVolume -------------------------------------------------------------------------------


@pytest.mark.parametrize("volume", [7, "checkpoints", {"claimName": "checkpoints", "readOnly": True}, {"claimName": "Checkpoints"}])
def test_a_checkpoint_volume_that_is_not_a_claim_name_mapping_is_refused_saying_the_form(volume: Any) -> None:
    with pytest.raises(ValueError) as caught:
        KubernetesConfig.from_dict({"namespace": "team-a", "checkpointVolume": volume})
    assert 'checkpointVolume.claimName: expected {"claimName": NAME} naming a ReadWriteMany PersistentVolumeClaim' in str(caught.value)


def test_an_experiment_with_checkpoint_folders_and_no_claim_is_told_what_to_add() -> None:
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a"))
    with pytest.raises(ValueError) as caught:
        check_checkpoints(launcher, "/var/log/katib/checkpoints/")
    message = str(caught.value)
    assert "'/var/log/katib/checkpoints/'" in message and "ReadWriteMany PersistentVolumeClaim" in message
    assert message.endswith('add "checkpointVolume": {"claimName": NAME} to the launcher config')


# --- the trial template ConfigMap ---------------------------------------------------------------------


def test_an_unauthenticated_read_of_the_template_names_the_rbac_rule(kube: FakeKube) -> None:
    """401 is a refusal as 403 is: the error says which rule the step's service account needs."""
    kube.faults = [Fault("GET", "/configmaps/templates$", 401)]
    with pytest.raises(KfpTuneError) as caught:
        read_config_map("team-a", "templates", kube.api_client())
    message = str(caught.value)
    assert "refused (401)" in message and "needs 'get' on configmaps named 'templates' in namespace 'team-a'" in message


def test_a_failed_read_of_the_template_says_which_config_map_and_what_the_api_answered(kube: FakeKube) -> None:
    # a status not retried (a 500 is retried for apiRetrySeconds, as the launcher's calls are): the server's words quoted
    kube.faults = [Fault("GET", "/configmaps/templates$", 400, message="the server rejected our request")]
    with pytest.raises(KfpTuneError) as caught:
        read_config_map("team-a", "templates", kube.api_client())
    assert str(caught.value) == "reading ConfigMap team-a/templates (the trial template) failed: 400 Bad Request: the server rejected our request"
