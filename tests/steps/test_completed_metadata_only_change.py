"""A completed experiment run again from a YAML whose metadata alone differs (a label, an
annotation such as kubectl's last-applied-configuration; QA migrator, finding 3) was refused
as "is completed and its spec changed". Katib takes a label or annotation change on a completed
Experiment as a plain update and restarts nothing: the run reports the experiment, as the same
YAML's run does, and writes nothing. Another metadata.namespace stays refused, naming the field
(tests/steps/test_resume_other_namespace.py)."""

from __future__ import annotations

import json

import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main


def _write(tmp_path, name: str, **metadata) -> str:
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2, "metadata.namespace": "kubeflow"})
    doc["metadata"].update(metadata)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _keys(store) -> list[str]:
    return sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.is_file())


def test_a_completed_experiment_whose_labels_or_annotations_changed_is_reported_as_the_same_one(tmp_path, capsys):
    store = tmp_path / "store"
    plain = _write(tmp_path, "plain")
    assert main(["run", plain, "--engine", "inline", "--store", str(store)]) == 0
    capsys.readouterr()
    assert main(["run", plain, "--engine", "inline", "--store", str(store)]) == 0
    unchanged = capsys.readouterr()
    written = _keys(store)
    applied = json.dumps({"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "quad", "namespace": "kubeflow"}})
    for name, metadata in (("labelled", {"labels": {"team": "vision"}}),
                           ("reapplied", {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied}})):
        assert main(["run", _write(tmp_path, name, **metadata), "--engine", "inline", "--store", str(store)]) == 0, name
        seen = capsys.readouterr()
        assert (seen.out, seen.err) == (unchanged.out, unchanged.err), name
        assert "spec changed" not in seen.err and "error" not in seen.err
        assert _keys(store) == written, name  # nothing written: no revision, no claim kept
