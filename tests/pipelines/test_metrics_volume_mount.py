"""A Kubernetes launcher config's ``metricsVolume`` compiled into a pipeline mounts the claim on
launch-trial, which reads the trials' metrics files through it; one given only at run time
cannot be mounted, and launch-trial says so in its log rather than keeping nothing silently."""

import json
from pathlib import Path

import yaml

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers import launcher_from_config
from kfp_tune.pipelines.builder import compile_pipeline
from kfp_tune.steps.entrypoints import unmounted_metrics_volume

VOLUME = {"claimName": "kfp-tune-metrics", "mountPath": "/mnt/kfp-tune-metrics"}


def _executors(tmp_path: Path, launcher_config: dict) -> dict[str, dict]:
    path = compile_pipeline(load_experiment(quadratic_experiment()), tmp_path / "p.yaml", rounds=2, launcher_config=launcher_config)
    platform = list(yaml.safe_load_all(path.read_text()))[1]
    return platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]


def test_a_compiled_metrics_volume_is_mounted_on_every_launch_trial(tmp_path):
    executors = _executors(tmp_path, {"kind": "kubernetes", "metricsVolume": VOLUME})
    launch = {name: config for name, config in executors.items() if "launch-trial" in name}
    assert len(launch) == 2
    for name, config in launch.items():
        (mount,) = config["pvcMount"]
        assert mount["mountPath"] == VOLUME["mountPath"], name
        assert VOLUME["claimName"] in json.dumps(mount), name
    assert not any("pvcMount" in config for name, config in executors.items() if "launch-trial" not in name)


def test_no_claim_is_mounted_without_a_metrics_volume_or_its_mount_path(tmp_path):
    for config in ({"kind": "kubernetes"}, {"kind": "kubernetes", "metricsVolume": {"claimName": "kfp-tune-metrics"}}, {"kind": "local"}):
        assert not any("pvcMount" in c for c in _executors(tmp_path, config).values()), config


def test_launch_trial_says_when_the_metrics_volume_is_not_mounted(tmp_path):
    """A run-time launcher_config naming a metricsVolume the pipeline does not mount."""
    absent = tmp_path / "absent"
    launcher = launcher_from_config({"kind": "kubernetes", "namespace": "team-a", "metricsVolume": {"claimName": "kfp-tune-metrics", "mountPath": str(absent)}})
    problem = unmounted_metrics_volume(launcher)
    assert "launcher_config metricsVolume: claim 'kfp-tune-metrics' is not mounted in launch-trial at" in problem
    assert "kfp-tune compile --launcher-config" in problem
    absent.mkdir()
    assert unmounted_metrics_volume(launcher) == ""
    assert unmounted_metrics_volume(launcher_from_config({"kind": "kubernetes", "namespace": "team-a"})) == ""
    assert unmounted_metrics_volume(launcher_from_config({"kind": "local"})) == ""
