"""launch-trial's ``launcher_config`` JSON: what each documented key sets, the defaults a user
leaves out, and the refusals of what cannot be meant (docs/guide.md, "Launchers")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kfp_tune.launchers import LocalLauncher, launcher_from_config
from kfp_tune.launchers.kubernetes import launcher as kubernetes_launcher
from kfp_tune.launchers.kubernetes.launcher import KubernetesConfig, KubernetesLauncher

GUIDE_EXAMPLE = {
    "kind": "kubernetes",
    "namespace": "my-profile",
    "serviceAccounts": ["default", "trainer"],
    "gpus": 1,
    "nodeSelector": {"pool": "gpu"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}],
    "timeoutSeconds": 7200,
    "pollSeconds": 5,
    "quotaWaitSeconds": 3600,
    "storeSecret": "mlpipeline-minio-artifact",
    "metricsVolume": {"claimName": "kfp-tune-metrics", "mountPath": "/mnt/kfp-tune-metrics"},
}
"""The example in docs/guide.md, key for key."""


def test_every_documented_key_sets_its_setting():
    config = KubernetesConfig.from_dict({**GUIDE_EXAMPLE, "pollSeconds": 2.5, "apiRetrySeconds": 30, "collectorImage": "registry.local/kfp-tune:1"})
    assert config == KubernetesConfig(
        namespace="my-profile",
        service_accounts=("default", "trainer"),
        node_selector={"pool": "gpu"},
        tolerations=({"key": "nvidia.com/gpu", "operator": "Exists"},),
        gpus=1,
        timeout_seconds=7200.0,
        poll_seconds=2.5,
        api_retry_seconds=30.0,
        quota_wait_seconds=3600.0,
        store_secret="mlpipeline-minio-artifact",
        metrics_claim="kfp-tune-metrics",
        metrics_mount="/mnt/kfp-tune-metrics",
        collector_image="registry.local/kfp-tune:1",
    )


def test_what_is_left_out_gets_the_documented_defaults(monkeypatch, tmp_path):
    monkeypatch.setattr(kubernetes_launcher, "NAMESPACE_FILE", tmp_path / "absent")
    config = KubernetesConfig.from_dict({"kind": "kubernetes"})
    assert config.namespace == "default", "off-cluster, with no namespace given"
    assert config.service_accounts == ("default",)
    assert (config.gpus, config.node_selector, config.tolerations) == (0, None, ())
    assert config.timeout_seconds is None, "no deadline unless one is asked for"
    assert config.api_retry_seconds == 120.0, "the guide's apiRetrySeconds default"
    assert (config.store_secret, config.metrics_claim, config.metrics_mount) == ("", "", "")
    assert KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "x", "timeoutSeconds": 0}).timeout_seconds is None
    assert KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "x", "gpus": None, "serviceAccounts": []}).service_accounts == ("default",)


def test_in_a_pod_the_namespace_is_the_pods_own(monkeypatch, tmp_path):
    service_account_namespace = tmp_path / "namespace"
    service_account_namespace.write_text("team-a\n")
    monkeypatch.setattr(kubernetes_launcher, "NAMESPACE_FILE", service_account_namespace)
    assert KubernetesConfig.from_dict({"kind": "kubernetes"}).namespace == "team-a"
    assert KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "given"}).namespace == "given", "a namespace given wins"
    assert launcher_from_config({"kind": "kubernetes"}).namespace == "team-a", "no experiment namespace given: still the pod's own"


def test_a_metrics_volume_without_a_mount_path_sets_only_the_claim():
    config = KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "x", "metricsVolume": {"claimName": "c"}})
    assert (config.metrics_claim, config.metrics_mount) == ("c", "")


def test_an_unknown_key_is_refused_naming_it_and_the_known_ones():
    with pytest.raises(ValueError) as info:
        KubernetesConfig.from_dict({**GUIDE_EXAMPLE, "gpu": 2, "timeout": 5})
    message = str(info.value)
    assert "unknown key(s) ['gpu', 'timeout']" in message
    for key in (*GUIDE_EXAMPLE, "apiRetrySeconds"):
        assert repr(key) in message, f"{key} is a known key and the message should list it"
    for key in GUIDE_EXAMPLE:  # each documented key alone is accepted
        KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "x", key: GUIDE_EXAMPLE[key]})


def test_a_local_config_from_json_or_a_dict(tmp_path: Path):
    launcher = launcher_from_config(json.dumps({"kind": "local", "mounts": {"/opt/app/": str(tmp_path)}, "timeoutSeconds": 30}), store_uri="s3://bucket/runs")
    assert isinstance(launcher, LocalLauncher)
    assert launcher.mounts == {"/opt/app": str(tmp_path.resolve())} and launcher.timeout_seconds == 30
    assert launcher.env == {"KFP_TUNE_STORE": "s3://bucket/runs"}, "the trial reports to the run's store"
    default = launcher_from_config({})
    assert isinstance(default, LocalLauncher), "local is the default kind"
    assert (default.mounts, default.timeout_seconds, default.env) == ({}, None, {})


def test_a_kubernetes_config_gives_trials_the_store_to_report_to():
    launcher = launcher_from_config(GUIDE_EXAMPLE, store_uri="s3://bucket/runs", s3_endpoint="http://minio:9000")
    assert isinstance(launcher, KubernetesLauncher)
    assert launcher.config == KubernetesConfig.from_dict(GUIDE_EXAMPLE)
    assert launcher.env == {"KFP_TUNE_STORE": "s3://bucket/runs", "KFP_TUNE_S3_ENDPOINT": "http://minio:9000"}
    assert launcher_from_config(GUIDE_EXAMPLE, store_uri="s3://bucket/runs").env == {"KFP_TUNE_STORE": "s3://bucket/runs"}
    assert launcher_from_config(GUIDE_EXAMPLE).env == {}


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="launcher kind 'ssh': expected 'local' or 'kubernetes'"):
        launcher_from_config({"kind": "ssh"})


def test_trials_go_to_the_experiments_namespace_unless_the_config_names_one(tmp_path):
    """Katib creates an experiment's trials in its metadata.namespace: so does the Kubernetes
    launcher, unless launcher_config says otherwise; the pipeline's steps take it from the
    stored experiment."""
    from conftest import quadratic_experiment
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.steps import prepare
    from kfp_tune.steps.entrypoints import _launcher
    from kfp_tune.stores import LocalStore

    assert launcher_from_config({"kind": "kubernetes"}, experiment_namespace="team-a").namespace == "team-a"
    assert launcher_from_config({"kind": "kubernetes", "namespace": "team-b"}, experiment_namespace="team-a").namespace == "team-b"
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    prepare(records, load_experiment(quadratic_experiment(**{"metadata.namespace": "team-a"})))
    assert _launcher(records, '{"kind": "kubernetes"}', "", "").namespace == "team-a"
    assert _launcher(records, '{"kind": "kubernetes", "namespace": "team-c"}', "", "").namespace == "team-c"


@pytest.mark.parametrize(("config", "words"), [
    ({"serviceAccounts": "trainer"}, "serviceAccounts: expected a list of service account names"),  # it became the account "t"
    ({"serviceAccounts": ["Bad Name"]}, "serviceAccounts: expected a list of service account names"),
    ({"gpus": -1}, "gpus: expected a whole number of GPUs per trial, 0 or more, got -1"),
    ({"gpus": 1.7}, "gpus: expected a whole number"),  # it became 1
    ({"gpus": "two"}, "gpus: expected a whole number"),
    ({"nodeSelector": {"pool": 1}}, "nodeSelector: expected a mapping of label name to label value, both strings"),
    ({"nodeSelector": ["pool"]}, "nodeSelector: expected a mapping"),
    ({"tolerations": {"key": "x"}}, "tolerations: expected a list of Kubernetes tolerations"),
    ({"tolerations": [{"operator": "Bogus"}]}, "tolerations: {'operator': 'Bogus'}: expected operator one of ['Exists', 'Equal']"),
    ({"timeoutSeconds": "abc"}, "timeoutSeconds: expected a number of seconds"),
    ({"timeoutSeconds": -5}, "timeoutSeconds: expected a number of seconds"),  # every trial ended DeadlineExceeded at once
    ({"pollSeconds": -1}, "pollSeconds: expected a number of seconds, 0 or more"),  # it crashed after the trial was created
    ({"apiRetrySeconds": -1}, "apiRetrySeconds: expected a number of seconds, 0 or more, got -1"),
    ({"quotaWaitSeconds": -1}, "quotaWaitSeconds: expected a number of seconds, 0 or more (0: no wait"),
    ({"storeSecret": "Bad_Name"}, "storeSecret: expected the name of a Secret"),
    ({"metricsVolume": "pvc"}, "metricsVolume: expected a mapping with claimName and mountPath"),  # unexpected AttributeError
    ({"metricsVolume": {"claimName": "Bad_Claim"}}, "metricsVolume.claimName: expected the name of a PersistentVolumeClaim"),
    ({"metricsVolume": {"claimName": "metrics", "mountPath": "rel/path"}}, "metricsVolume.mountPath: expected an absolute path"),
    ({"collectorImage": 123}, "collectorImage: expected an image reference"),
])
def test_a_value_of_the_wrong_type_or_range_is_refused_naming_its_key(config, words):
    with pytest.raises(ValueError) as info:
        KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "team-a", **config})
    assert f"launcher_config {words}" in str(info.value)


NUMERIC_KEYS = ("gpus", "timeoutSeconds", "pollSeconds", "apiRetrySeconds", "quotaWaitSeconds")


@pytest.mark.parametrize("key", NUMERIC_KEYS)
def test_a_numeric_key_given_as_null_takes_its_default(key, capsys):
    """null is "not set", as a JSON writer leaves an unset field: pollSeconds and apiRetrySeconds
    null ended in an unexpected TypeError (exit 1) where timeoutSeconds null took its default."""
    from kfp_tune.cli import main

    defaults = launcher_from_config({"kind": "kubernetes", "namespace": "team-a"}).config
    assert launcher_from_config({"kind": "kubernetes", "namespace": "team-a", key: None}).config == defaults
    example = Path(__file__).parents[1] / "data" / "katib-examples" / "hp-tuning_random.yaml"
    assert main(["render", str(example), "--launcher-config", json.dumps({key: None})]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(("selector", "words"), [
    ({"gpu type": "a100"}, "launcher_config nodeSelector: 'gpu type' is not a valid label key"),
    ({"pool": "a b"}, "launcher_config nodeSelector.pool: 'a b' is not a valid label value"),
    ({"example.com/": "x"}, "launcher_config nodeSelector: 'example.com/' is not a valid label key"),
])
def test_a_node_selector_that_is_no_label_is_refused_up_front_naming_the_key(selector, words, capsys):
    """The API server refuses it (422) at every trial's create, once the run is under way."""
    from kfp_tune.cli import main

    with pytest.raises(ValueError, match=re.escape(words)):
        KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "team-a", "nodeSelector": selector})
    example = Path(__file__).parents[1] / "data" / "katib-examples" / "hp-tuning_random.yaml"
    assert main(["render", str(example), "--launcher-config", json.dumps({"nodeSelector": selector})]) == 2
    assert words in capsys.readouterr().err
    valid = {"pool": "gpu", "cloud.google.com/gke-accelerator": "nvidia-tesla-a100", "example.com/empty": ""}
    assert KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "team-a", "nodeSelector": valid}).node_selector == valid


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"kind": "local", "mount": {"/opt/app": "/tmp"}}, "unknown key(s) ['mount'] for the local launcher"),
        ({"kind": "local", "namespace": "team-a"}, "unknown key(s) ['namespace'] for the local launcher"),
        ({"kind": "local", "mounts": 3}, "launcher_config mounts: expected a mapping of container path (absolute) to local folder"),
        ({"kind": "local", "mounts": {"/opt/app": 3}}, "launcher_config mounts: expected"),
        ({"kind": "local", "mounts": {"opt/app": "/tmp"}}, "launcher_config mounts: expected"),
        ({"kind": "local", "timeoutSeconds": "600"}, "launcher_config timeoutSeconds: expected a number of seconds"),
        ({"kind": "local", "timeoutSeconds": -1}, "launcher_config timeoutSeconds: expected a number of seconds"),
        ({"kind": "local", "timeoutSeconds": True}, "launcher_config timeoutSeconds: expected a number of seconds"),
    ],
)
def test_a_local_config_that_cannot_be_meant_is_refused_naming_its_key(config, words):
    """A typo (``mount``) was ignored, and a mounts or timeout of the wrong type failed with
    Python's own words (AttributeError; a TypeError only once a trial ran): each is refused when
    the config is read, naming the key, as the Kubernetes launcher's keys are."""
    with pytest.raises(ValueError) as refused:
        launcher_from_config(json.dumps(config))
    assert words in str(refused.value)


def test_a_local_configs_null_or_zero_take_the_defaults():
    launcher = launcher_from_config({"kind": "local", "mounts": None, "timeoutSeconds": 0})
    assert isinstance(launcher, LocalLauncher) and (launcher.mounts, launcher.timeout_seconds) == ({}, None)
