"""Katib's field names, one way throughout (QA migrator, finding 6): a YAML file (or text, or a
dict) was read with kfp-tune's Python names as well (``max_trial_count: 12`` ran 12 trials),
where Katib's Go types, decoded case-sensitively, read only ``maxTrialCount`` and leave the
experiment without one; while the same names under ``metadata`` were refused. Now a Python
name is refused everywhere a document is read, as an unknown field naming Katib's name, as
Katib's webhook would see the field missing. A Katib SDK model (``V1beta1Experiment``) is still
read by its JSON names; its ``to_dict()`` (Python names at every level) is told to pass the
model itself."""

from __future__ import annotations

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment


def test_a_yaml_file_with_a_python_name_is_refused_naming_katibs(tmp_path, capsys):
    doc = quadratic_experiment()
    doc["spec"]["max_trial_count"] = doc["spec"].pop("maxTrialCount")
    doc["spec"]["trialTemplate"]["primary_container_name"] = doc["spec"]["trialTemplate"].pop("primaryContainerName")
    path = tmp_path / "snake.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "spec.max_trial_count: unknown field (Katib's v1beta1 Experiment names it maxTrialCount" in err
    assert "spec.trialTemplate.primary_container_name: unknown field (Katib's v1beta1 Experiment names it primaryContainerName" in err


def test_a_dict_with_python_names_is_refused_and_told_to_pass_the_sdk_model_itself():
    doc = quadratic_experiment()
    doc["spec"]["parallel_trial_count"] = doc["spec"].pop("parallelTrialCount")
    doc["metadata"]["creation_timestamp"] = "2026-11-30T10:00:00Z"
    with pytest.raises(SpecError) as refused:
        load_experiment(doc)
    by_path = {e.path: e.message for e in refused.value.errors}
    assert by_path["spec.parallel_trial_count"].startswith("unknown field (Katib's v1beta1 Experiment names it parallelTrialCount")
    assert sum("to_dict()" in m and "V1beta1Experiment" in m for m in by_path.values()) == 1  # said once
    assert "creationTimestamp" in by_path["metadata.creation_timestamp"]


def test_katibs_names_and_kfp_tunes_own_models_load_as_before():
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 4}))
    assert experiment.spec.max_trial_count == 4
    assert load_experiment(experiment).spec.max_trial_count == 4  # a model is read by its JSON names


def test_a_python_name_under_a_model_that_allows_extra_keys_is_refused_too():
    """Review D of session 37, finding 3: ``metricsCollectorSpec.source`` and ``.collector`` allow
    keys of their own (httpGet, customCollector), so ``file_system_path`` there was taken as an
    extra key and read as fileSystemPath, which Katib never reads."""
    doc = quadratic_experiment()
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "File"},
                                           "source": {"file_system_path": {"path": "/var/log/katib/metrics.log", "kind": "File"}}}
    with pytest.raises(SpecError) as refused:
        load_experiment(doc)
    by_path = {e.path: e.message for e in refused.value.errors}
    assert by_path["spec.metricsCollectorSpec.source.file_system_path"].startswith(
        "unknown field (Katib's v1beta1 Experiment names it fileSystemPath"), by_path


def test_the_check_needs_no_keyword_of_a_newer_pydantic(monkeypatch):
    """Review D, finding 4: ``model_validate(by_alias=, by_name=)`` came with pydantic 2.11, and
    pyproject allows 2.6: the check must not call it, or a document with an underscore in any key
    (a label such as app_name) ends in a TypeError there."""
    from kfp_tune.core.spec import Experiment

    def old_model_validate(cls, obj, *, strict=None, from_attributes=None, context=None):  # pydantic 2.6's signature
        return original(obj, strict=strict, from_attributes=from_attributes, context=context)

    original = Experiment.model_validate
    monkeypatch.setattr(Experiment, "model_validate", classmethod(old_model_validate))
    doc = quadratic_experiment()
    doc["metadata"]["labels"] = {"app_name": "quad"}
    assert load_experiment(doc).metadata.labels == {"app_name": "quad"}
    doc["spec"]["max_trial_count"] = doc["spec"].pop("maxTrialCount")
    with pytest.raises(SpecError, match=r"spec.max_trial_count: unknown field"):
        load_experiment(doc)


def test_kfp_tunes_own_model_dump_is_told_the_right_way():
    """Review D, finding 7: ``Experiment.model_dump()`` (kfp-tune's own, Python names) is refused as
    any document of Python names, and the hint names kfp-tune's ways, not only Katib's SDK."""
    experiment = load_experiment(quadratic_experiment())
    with pytest.raises(SpecError) as refused:
        load_experiment(experiment.model_dump())
    hints = [e.message for e in refused.value.errors if "to_dict()" in e.message]
    assert len(hints) == 1 and "model_dump()" in hints[0] and "Experiment.to_dict()" in hints[0], hints
    assert load_experiment(experiment.to_dict()).spec.max_trial_count == experiment.spec.max_trial_count
