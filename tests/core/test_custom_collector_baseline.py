"""The Pod Security baseline refusals reach the Custom collector's container: kfp-tune adds
``spec.metricsCollectorSpec.collector.customCollector`` to the trial's pod, so what the baseline
forbids there (a privileged container, an added SYS_ADMIN, a hostPort, ...) is refused when
the experiment is validated, at its field, as it is in the trialSpec (the QA security pass's
custom_collector.yaml passed ``kfp-tune validate`` and reached the pod)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment, validation_errors
from kfp_tune.cli import main

CUSTOM = "spec.metricsCollectorSpec.collector.customCollector"
BASELINE = "the Pod Security Standards' baseline"


def custom_experiment(container_settings: dict[str, Any], kind: str = "Custom") -> dict[str, Any]:
    container = {"name": "my-collector", "image": "collector:1", "command": ["python3", "/collect.py"], **container_settings}
    return quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": kind, "customCollector": container}}})


def refusals(container_settings: dict[str, Any], kind: str = "Custom") -> dict[str, str]:
    return {e.path: e.message for e in validation_errors(custom_experiment(container_settings, kind))}


REFUSED = [
    ({"securityContext": {"privileged": True}}, "securityContext.privileged"),
    ({"securityContext": {"capabilities": {"add": ["CHOWN", "SYS_ADMIN"]}}}, "securityContext.capabilities.add[1]"),
    ({"ports": [{"containerPort": 80, "hostPort": 8080}]}, "ports[0].hostPort"),
    ({"securityContext": {"procMount": "Unmasked"}}, "securityContext.procMount"),
    ({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, "securityContext.seccompProfile.type"),
    ({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}, "securityContext.appArmorProfile.type"),
    ({"securityContext": {"windowsOptions": {"hostProcess": True}}}, "securityContext.windowsOptions.hostProcess"),
    ({"securityContext": {"seLinuxOptions": {"type": "spc_t"}}}, "securityContext.seLinuxOptions.type"),
]


@pytest.mark.parametrize(("settings", "path"), REFUSED, ids=[path for _, path in REFUSED])
def test_what_the_baseline_forbids_in_the_custom_collector_is_refused_at_its_field(settings: dict[str, Any], path: str) -> None:
    found = refusals(settings)
    assert list(found) == [f"{CUSTOM}.{path}"], found
    assert BASELINE in found[f"{CUSTOM}.{path}"] and "no opt-out" in found[f"{CUSTOM}.{path}"]


def test_every_refused_setting_of_the_qa_passs_collector_is_named_at_once() -> None:
    found = refusals({"securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}},
                      "ports": [{"containerPort": 80, "hostPort": 8080}]})
    assert sorted(found) == [f"{CUSTOM}.ports[0].hostPort", f"{CUSTOM}.securityContext.capabilities.add[0]", f"{CUSTOM}.securityContext.privileged"]
    assert "'SYS_ADMIN' is refused" in found[f"{CUSTOM}.securityContext.capabilities.add[0]"]


def test_what_the_baseline_allows_in_the_custom_collector_passes() -> None:
    allowed = {"securityContext": {"allowPrivilegeEscalation": True, "runAsUser": 0, "privileged": False, "procMount": "Default",
                                   "capabilities": {"add": ["CHOWN", "NET_BIND_SERVICE"], "drop": ["ALL"]}},
               "ports": [{"containerPort": 80, "hostPort": 0}]}
    assert refusals(allowed) == {}


def test_a_custom_collector_the_kind_does_not_use_is_not_checked() -> None:
    """Only a Custom collector's container reaches the pod (Katib ignores it for another kind)."""
    assert refusals({"securityContext": {"privileged": True}}, kind="StdOut") == {}


def test_kfp_tune_validate_and_render_refuse_it_with_the_field_and_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(custom_experiment({"securityContext": {"privileged": True}})))
    for command in (["validate", str(path)], ["render", str(path)]):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert f"{CUSTOM}.securityContext.privileged: privileged containers are refused" in err, err
        assert "Traceback" not in err
