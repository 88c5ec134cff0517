"""``kfp-tune compile`` says what the pipeline's launch-trial pod cannot ask for on the trials'
behalf (pipelines/builder.py's LocalTrialResourcesWarning) as one ``warning:`` line, as it says
RuntimeImageWarning: it came in Python's raw form, cli.py's path, a line number, the warning's
class and the source line ``path = compile_pipeline(`` under it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main


def experiment_file(tmp_path: Path) -> Path:
    """Two slots of trials asking for a GPU and an RDMA device: the local launcher's pod asks
    for the GPU and cannot ask for the RDMA device."""
    doc = quadratic_experiment(**{"spec.parallelTrialCount": 2, "spec.maxTrialCount": 2, "spec.maxFailedTrialCount": 1})
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"limits": {"nvidia.com/gpu": 1, "rdma/hca_shared_devices_a": 1}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_compile_shows_the_local_trial_resources_warning_as_one_warning_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command = ["compile", str(experiment_file(tmp_path)), "-o", str(tmp_path / "p.yaml"), "--launcher-config", '{"kind": "local"}']
    for _ in range(2):  # every compile says it, not only the first of a process
        assert main(command) == 0
        err = capsys.readouterr().err
        told = [line for line in err.splitlines() if "rdma/hca_shared_devices_a" in line]
        assert len(told) == 1 and told[0].startswith("warning: the trials ask for rdma/hca_shared_devices_a, "), err
        assert "LocalTrialResourcesWarning" not in err and "compile_pipeline(" not in err and "cli.py" not in err, err


def test_compile_for_the_kubernetes_launcher_has_nothing_to_say_of_the_trials_resources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command = ["compile", str(experiment_file(tmp_path)), "-o", str(tmp_path / "p.yaml"), "--launcher-config", '{"kind": "kubernetes"}']
    assert main(command) == 0
    assert "rdma" not in capsys.readouterr().err
