"""``validate`` notes where Katib's suggestion service reads an int parameter's bounds (and
hyperband every discrete value) as integer text: ``"1.0"``, which kfp-tune and Katib's webhook
take, fails the experiment at its first suggestion there (QA's intdec.yaml and hb1.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import KATIB_INTEGER_TEXT_SERVICES, katib_notes

FAILING = sorted(KATIB_INTEGER_TEXT_SERVICES)
TAKING = ["random", "tpe"]  # hyperopt reads them as floats (pbt too: it needs its own settings, tested below)


def _with_int(algorithm: str, **space: str) -> dict[str, Any]:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": algorithm}})
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": space}
    if algorithm in ("grid", "hyperband"):
        doc["spec"]["parameters"][0]["feasibleSpace"]["step"] = "0.25"
    if algorithm == "hyperband":
        doc["spec"]["algorithm"]["algorithmSettings"] = [{"name": "resource_name", "value": "x"}, {"name": "r_l", "value": "3"}]
        doc["spec"]["parameters"][0] = {"name": "x", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}}
    return doc


def _paths(doc: dict[str, Any]) -> dict[str, str]:
    return {n.path: n.message for n in katib_notes(load_experiment(doc)) if "integer text" in n.message}


@pytest.mark.parametrize("algorithm", FAILING)
def test_a_decimal_int_bound_is_noted_where_katibs_service_fails_on_it(algorithm: str) -> None:
    notes = _paths(_with_int(algorithm, min="1.0", max="3e0"))
    service = KATIB_INTEGER_TEXT_SERVICES[algorithm][0]
    assert set(notes) == {"spec.parameters[1].feasibleSpace.min", "spec.parameters[1].feasibleSpace.max"}, notes
    assert all(f"Katib's {service} service" in m and "first suggestion" in m for m in notes.values())
    assert "'1.0'" in notes["spec.parameters[1].feasibleSpace.min"]
    assert _paths(_with_int(algorithm, min="1", max="+3")) == {}


@pytest.mark.parametrize("algorithm", TAKING)
def test_hyperopts_algorithms_take_it_without_a_note(algorithm: str) -> None:
    assert _paths(_with_int(algorithm, min="1.0", max="3.0", step="1.0")) == {}


def test_an_int_step_is_noted_only_where_the_service_reads_it() -> None:
    assert set(_paths(_with_int("grid", min="1", max="3", step="1.0"))) == {"spec.parameters[1].feasibleSpace.step"}
    assert _paths(_with_int("bayesianoptimization", min="1", max="3", step="1.0")) == {}  # skopt's Integer has no step


def test_hyperbands_discrete_values_must_be_integer_text() -> None:
    doc = _with_int("hyperband", min="1", max="3")
    doc["spec"]["parameters"].append({"name": "z", "parameterType": "discrete", "feasibleSpace": {"list": ["2", "0.5", "1e-3"]}})
    doc["spec"]["trialTemplate"]["trialParameters"].append({"name": "z", "reference": "z"})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("z=${trialParameters.z}")
    notes = _paths(doc)
    assert set(notes) == {"spec.parameters[2].feasibleSpace.list"} and "'0.5', '1e-3'" in notes["spec.parameters[2].feasibleSpace.list"]
    doc["spec"]["algorithm"] = {"algorithmName": "random"}
    assert _paths(doc) == {}
