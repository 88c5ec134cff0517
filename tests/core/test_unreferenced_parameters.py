"""A spec.parameters entry that no trialParameter references never reaches the trial: Katib's
trial controller fails the creation of every trial of such an experiment (generator.go,
applyParameters: errParamNotFoundInTrialParameters), so validation refuses it, naming the
parameter (QA report s35 examples, finding 1). Only where trials get their values through
trialParameters: function trials and architecture searches are not refused."""

from __future__ import annotations

import pytest

from conftest import load_katib_example, quadratic_experiment, validation_errors

PATH = "spec.trialTemplate.trialParameters"


def unreferenced_y() -> dict:
    doc = quadratic_experiment()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"] = [{"name": "x", "reference": "x"}]
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"] = ["x=${trialParameters.x}", "y=0.5"]
    return doc


def test_a_parameter_no_trial_parameter_references_is_refused_naming_it() -> None:
    errors = validation_errors(unreferenced_y())
    assert [e.path for e in errors] == [PATH]
    message = errors[0].message
    assert message.startswith("spec.parameters[1].name 'y' is tuned, but no trial parameter references it")
    assert "expected an entry {name: NAME, reference: y} whose ${trialParameters.NAME} is used in the trial template" in message
    assert "Katib's trial controller would fail every trial of this experiment" in message


def test_with_no_trial_parameters_at_all_every_parameter_is_named() -> None:
    doc = unreferenced_y()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"] = []
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"] = ["x=0.3"]
    messages = [e.message for e in validation_errors(doc) if e.path == PATH]
    assert [m.split(" is tuned")[0] for m in messages] == ["spec.parameters[0].name 'x'", "spec.parameters[1].name 'y'"]


def test_a_meta_reference_does_not_stand_for_a_parameter() -> None:
    doc = unreferenced_y()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "trialName", "reference": "${trialSpec.Name}"})
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("name=${trialParameters.trialName}")
    assert [e.message.split(" is tuned")[0] for e in validation_errors(doc)] == ["spec.parameters[1].name 'y'"]


def test_every_parameter_referenced_is_valid() -> None:
    assert validation_errors(quadratic_experiment()) == []


@pytest.mark.parametrize("example", ["hp-tuning_hyperband.yaml", "hp-tuning_simple-pbt.yaml", "nas_enas-cpu.yaml", "nas_darts-cpu.yaml"])
def test_katibs_examples_reference_every_parameter(example: str) -> None:
    doc = load_katib_example(example)
    doc["spec"]["maxFailedTrialCount"] = 1  # simple-pbt's own 3 > 2 is Katib's refusal too, not this one
    assert [e for e in validation_errors(doc) if "no trial parameter references" in e.message] == []



def test_a_mistyped_reference_is_the_one_error_told() -> None:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialParameters"][1]["reference"] = "yy"
    assert [e.path for e in validation_errors(doc)] == ["spec.trialTemplate.trialParameters[1].reference"]


def test_an_experiment_stored_before_this_rule_is_still_read(tmp_path) -> None:
    """A stored spec's parameters are held to a given spec's rules when read; this rule is told at
    trialParameters, so an experiment an older kfp-tune stored with such a parameter stays readable."""
    import json

    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import load_state
    from kfp_tune.steps import init_experiment
    from kfp_tune.stores import LocalStore

    records = ExperimentRecords(LocalStore(tmp_path), "quad")
    init_experiment(records, load_experiment(quadratic_experiment()))
    head = json.loads(records.store.get(records.experiment_key()))
    stored_template = head["spec"]["spec"]["trialTemplate"]
    stored_template["trialParameters"] = stored_template["trialParameters"][:1]
    stored_template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"] = ["x=${trialParameters.x}", "y=0.5"]
    records.store.put(records.experiment_key(), json.dumps(head).encode())
    assert validation_errors(unreferenced_y())  # as given now, it is refused
    assert [p.name for p in load_state(records).experiment.spec.parameters] == ["x", "y"]
