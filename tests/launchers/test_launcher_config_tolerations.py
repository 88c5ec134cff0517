"""launcher_config ``tolerations`` checked as Kubernetes' ValidateTolerations checks a pod's, before
any trial (as ``nodeSelector`` is): an operator's CRD does not check them, so a TFJob or PyTorchJob
was created and each of its pods refused; a misspelt field was dropped and its GPU pods stayed
Pending."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import load_katib_example
from fake_kube import toleration_errors
from kfp_tune.core.errors import TrialNotCreated
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

GPU = "nvidia.com/gpu"


def _refusal(*tolerations: object) -> str:
    with pytest.raises(ValueError) as info:
        KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "team-a", "tolerations": list(tolerations)})
    return str(info.value)


REFUSED = [
    ({"key": GPU, "opertor": "Exists", "effect": "NoSchedule"}, "opertor", "only a toleration's fields, some of ['key', 'operator', 'value', 'effect', 'tolerationSeconds']"),
    ({"key": GPU, "operator": "Exists", "value": "x"}, "value", "no value with operator 'Exists'"),
    ({"key": GPU, "tolerationSeconds": "30", "effect": "NoExecute"}, "tolerationSeconds", "tolerationSeconds a whole number of seconds"),
    ({"key": GPU, "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 30}, "tolerationSeconds", "tolerationSeconds only with effect 'NoExecute'"),
    ({"key": GPU, "tolerationSeconds": 30}, "tolerationSeconds", "tolerationSeconds only with effect 'NoExecute'"),
    ({"operator": "Equal", "value": "present"}, "operator", "operator 'Exists' where key is empty"),
    ({"value": "present"}, "operator", "operator 'Exists' where key is empty"),  # no operator: Equal
    ({"key": "bad key!", "operator": "Exists"}, "key", "key a label name"),
    ({"key": "/gpu", "operator": "Exists"}, "key", "key a label name"),
    ({"key": GPU, "value": "not a label value"}, "value", "value a label value"),
    ({"key": GPU, "operator": "Exist"}, "operator", "operator one of ['Exists', 'Equal']"),
    ({"key": GPU, "effect": "NoScheduled"}, "effect", "effect one of ['NoSchedule', 'PreferNoSchedule', 'NoExecute']"),
    ({"key": 7, "operator": "Exists"}, "key", "key a string"),
]
TAKEN = [
    {"key": GPU, "operator": "Exists", "effect": "NoSchedule"},
    {"key": GPU, "operator": "Exists"},
    {"operator": "Exists"},  # every taint
    {"key": GPU, "value": "present", "effect": "NoSchedule"},  # Equal, the default
    {"key": GPU, "operator": "Equal", "value": "", "effect": ""},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "pool", "operator": "Equal", "value": "gpu-a100", "effect": "PreferNoSchedule"},
]


@pytest.mark.parametrize(("toleration", "field", "expected"), REFUSED)
def test_a_toleration_kubernetes_refuses_or_drops_is_refused_naming_its_entry_and_field(toleration, field, expected):
    message = _refusal(toleration)
    assert message.startswith("launcher_config tolerations: "), message
    assert f"expected {expected}" in message, message
    assert message.endswith(f"(tolerations[0].{field})"), message


def test_the_entry_named_is_the_one_at_fault():
    message = _refusal({"key": GPU, "operator": "Exists", "effect": "NoSchedule"}, {"key": GPU, "opertor": "Exists"})
    assert message.endswith("(tolerations[1].opertor)"), message
    assert "'opertor': 'Exists'" in message


@pytest.mark.parametrize("toleration", TAKEN)
def test_a_toleration_kubernetes_takes_is_kept_as_given(toleration):
    config = KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "team-a", "tolerations": [toleration]})
    assert config.tolerations == (toleration,)


@pytest.mark.parametrize(("toleration", "field", "expected"), [case for case in REFUSED if case[1] in ("key", "operator", "value", "effect", "tolerationSeconds")
                                                               and isinstance(case[0].get("key", ""), str) and not isinstance(case[0].get("tolerationSeconds"), str)])
def test_the_fake_api_server_refuses_on_a_pod_what_the_launcher_config_refuses(toleration, field, expected):
    assert toleration_errors([toleration], "spec.tolerations"), toleration


@pytest.mark.parametrize("toleration", TAKEN)
def test_the_fake_api_server_takes_on_a_pod_what_the_launcher_config_takes(toleration):
    assert toleration_errors([toleration], "spec.tolerations") == []


def test_a_job_trial_whose_pod_kubernetes_refuses_for_its_toleration_is_not_created(kube):
    config = KubernetesConfig(namespace="team-a", poll_seconds=0.0, tolerations=({"key": GPU, "operator": "Exists", "value": "present"},))  # past from_dict
    launcher = KubernetesLauncher(config, api_client=kube.api_client(), env={"KFP_TUNE_STORE": "s3://bucket/tuning"}, sleep=lambda seconds: None)
    doc: dict[str, Any] = load_katib_example("hp-tuning_random.yaml")
    assignment = {p["name"]: p["feasibleSpace"].get("min") or p["feasibleSpace"]["list"][0] for p in doc["spec"]["parameters"]}
    trial = trial_run(load_experiment(doc), TrialState(name="random-abcd1234", index=0, round="run-1-r000", assignment=assignment, created=""))
    with pytest.raises(TrialNotCreated) as raised:
        launcher.run(trial)
    assert "422" in str(raised.value) and "value must be empty when `operator` is 'Exists'" in str(raised.value), raised.value


@pytest.mark.parametrize(("seconds", "said"), [(300.0, "300.0"), (True, "True"), ("30", "'30'")])
def test_a_toleration_seconds_that_is_no_integer_is_refused_showing_what_was_given(seconds, said):
    """300.0 and true are no strings: the message shows the value given, not "not a string"."""
    message = _refusal({"key": GPU, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds})
    assert f"expected tolerationSeconds a whole number of seconds, an integer (got {said})" in message, message
    assert "not a string" not in message, message
    assert message.endswith("(tolerations[0].tolerationSeconds)"), message
