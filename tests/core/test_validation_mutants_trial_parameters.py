"""What validation says about spec.trialTemplate.trialParameters and the trial template's
containers where mutants of ``validation`` passed every other test: the labels a template may
read because kfp-tune or the algorithm puts them on every trial (round; pbt's parent, under pbt
only), trialParameter names a substitution cannot carry, env entries that take their value from
elsewhere, and two parameter checks (logNormal's positive min, an operation's double step)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import DELETE, load_katib_example, merge, quadratic_experiment, validation_errors
from kfp_tune.core.errors import FieldError

TRIAL_PARAMETERS = "spec.trialTemplate.trialParameters"
PBT_PARENT = "pbt.suggestion.katib.kubeflow.org/parent"


def at(errors: list[FieldError], prefix: str) -> dict[str, str]:
    """path -> message for the errors under prefix."""
    return {e.path: e.message for e in errors if e.path.startswith(prefix)}


def reading_label(doc: dict[str, Any], label: str) -> dict[str, Any]:
    """doc whose first container also gets ``--from-label=`` the trial's label (a trialParameter)."""
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "fromLabel", "reference": f"${{trialSpec.Labels[{label}]}}"})
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0].setdefault("args", []).append("--from-label=${trialParameters.fromLabel}")
    return doc


def test_a_template_may_read_the_round_label_kfp_tune_puts_on_its_trials() -> None:
    assert validation_errors(reading_label(quadratic_experiment(), "kfp-tune.kubeflow.org/round")) == []


def test_pbts_parent_label_may_be_read_under_pbt() -> None:
    """pbt labels each trial with its parent before the references are read (Katib's pbt
    service does the same); under random the same reference is refused (tested beside it)."""
    simple_pbt = merge(load_katib_example("hp-tuning_simple-pbt.yaml"), {"spec.maxTrialCount": 4})  # Katib refuses its 2 (< 3 failures)
    assert validation_errors(reading_label(simple_pbt, PBT_PARENT)) == []
    refused = reading_label(merge(simple_pbt, {"spec.algorithm": {"algorithmName": "random"}}), PBT_PARENT)
    assert PBT_PARENT in at(validation_errors(refused), f"{TRIAL_PARAMETERS}[1].reference")[f"{TRIAL_PARAMETERS}[1].reference"]


@pytest.mark.parametrize("name", ["", "x{", "}x"])
def test_a_trial_parameter_name_that_is_empty_or_has_a_brace_is_refused_at_the_name(name: str) -> None:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialParameters"][0]["name"] = name
    got = at(validation_errors(doc), f"{TRIAL_PARAMETERS}[0]")
    assert got == {f"{TRIAL_PARAMETERS}[0].name": f"required, without '{{' or '}}', got {name!r}"}


def test_an_env_entry_that_takes_its_value_from_a_secret_is_accepted() -> None:
    """Katib's examples pass credentials as ``valueFrom: secretKeyRef``: an entry without value."""
    doc = quadratic_experiment()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}, {"name": "MODE", "value": "fast"}]
    assert validation_errors(doc) == []


@pytest.mark.parametrize("distribution", ["logUniform", "logNormal"])
def test_a_log_distribution_needs_a_positive_min(distribution: str) -> None:
    doc = quadratic_experiment()
    doc["spec"]["parameters"][0]["feasibleSpace"] = {"min": "0", "max": "1", "distribution": distribution}
    got = at(validation_errors(doc), "spec.parameters[0]")
    assert got == {"spec.parameters[0].feasibleSpace.min": f"expected min > 0 for the {distribution} distribution, got 0"}


@pytest.mark.parametrize("step", [DELETE, ""])
def test_a_double_parameter_of_an_operation_needs_a_step(step: object) -> None:
    """An operation's values are enumerated (min, min + step, ... max): Katib's NAS services
    need the step; an empty string (as Katib's CRD leaves it) is no step."""
    doc = load_katib_example("nas_enas-cpu.yaml")
    doc["spec"]["nasConfig"]["operations"][0]["parameters"][0] = {
        "name": "dropout",
        "parameterType": "double",
        "feasibleSpace": {"min": "0.1", "max": "0.5", "step": "0.2"},
    }
    assert validation_errors(doc) == []
    if step is DELETE:
        del doc["spec"]["nasConfig"]["operations"][0]["parameters"][0]["feasibleSpace"]["step"]
    else:
        doc["spec"]["nasConfig"]["operations"][0]["parameters"][0]["feasibleSpace"]["step"] = step
    step_path = "spec.nasConfig.operations[0].parameters[0].feasibleSpace.step"
    assert at(validation_errors(doc), "spec.nasConfig") == {
        step_path: "required for a double parameter of an operation: its values are min, min + step, ... max"
    }
