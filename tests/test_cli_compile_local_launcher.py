"""``kfp-tune compile`` for kfp.local (QA newcomer, session 38, finding 3): with
``--launcher-config '{"kind": "local"}'`` and a folder store, the pipeline the guide's kfp.local
block compiles, compile warned that the run's steps and trials run in pods on the cluster (the
launcher config says they run here), and said nothing of the trial's script that is not on this
machine (``python3 /opt/digits/train.py``), which ``kfp-tune run`` names: every trial then failed
"can't open file". Compile now skips that store warning for a local launcher and gives run's
note, with the launcher config's ``mounts`` in place of ``--mount``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import yaml

from conftest import QUADRATIC, quadratic_experiment
from kfp_tune.cli import main

APP = "/opt/kfp-tune-test-app"


def _experiment(tmp_path: Path) -> str:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"] = ["python3", f"{APP}/quadratic.py"]
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _compile(tmp_path: Path, config: dict | None, capsys) -> str:
    argv = ["compile", _experiment(tmp_path), "-o", str(tmp_path / "p.yaml"), "--store", str(tmp_path / "runs")]
    argv += ["--launcher-config", json.dumps(config)] if config is not None else []
    assert main(argv) == 0
    return capsys.readouterr().err


def test_a_local_launcher_gets_no_cluster_store_warning_and_the_missing_script_note(tmp_path, capsys):
    err = _compile(tmp_path, {"kind": "local"}, capsys)

    assert "is not an s3:// URI" not in err, err
    assert (
        f"note: spec.trialTemplate.trialSpec (container 'main'): {APP}/quadratic.py is not on this machine, nor is {APP}; if the trial's "
        f'image holds it, give a local copy of that folder: --launcher-config \'{{"kind": "local", "mounts": {{"{APP}": "/ABSOLUTE/LOCAL_FOLDER"}}}}\'\n'
    ) in err, err


def test_a_local_launcher_whose_mounts_give_the_folder_gets_no_note(tmp_path, capsys):
    app = tmp_path / "app"
    app.mkdir()
    (app / "quadratic.py").write_bytes(QUADRATIC.read_bytes())

    err = _compile(tmp_path, {"kind": "local", "mounts": {APP: str(app)}}, capsys)

    assert "note:" not in err and "is not an s3:// URI" not in err, err


@pytest.mark.parametrize("config", [None, {"kind": "kubernetes"}])
def test_a_cluster_launcher_still_gets_the_store_warning_and_no_local_note(tmp_path, capsys, config):
    err = _compile(tmp_path, config, capsys)

    assert "is not an s3:// URI: the run's steps and trials run in pods on the cluster" in err, err
    assert "is not on this machine" not in err, err


def test_compile_pipeline_warns_of_a_folder_store_only_for_a_cluster_launcher(tmp_path):
    from kfp_tune.pipelines.builder import ClusterStoreWarning, compile_pipeline

    experiment = yaml.safe_load(Path(_experiment(tmp_path)).read_text())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compile_pipeline(experiment, tmp_path / "local.yaml", store_uri=str(tmp_path / "runs"), launcher_config={"kind": "local"})
        local = [w for w in caught if issubclass(w.category, ClusterStoreWarning)]
        compile_pipeline(experiment, tmp_path / "cluster.yaml", store_uri=str(tmp_path / "runs"), launcher_config={"kind": "kubernetes"})
        cluster = [w for w in caught if issubclass(w.category, ClusterStoreWarning)]
    assert local == [] and len(cluster) == 1, [str(w.message) for w in caught]
