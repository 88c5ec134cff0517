"""A ConfigMap template's ``replicas: ${trialParameters.numWorkers}`` (the placeholder written
unquoted) was refused by the Training Operator's integer-field check ("expected an integer, got
'${yaml:trialParameters.numWorkers}'"), showing kfp-tune's internal spelling, though Katib fills
a ConfigMap template in its YAML text, so the count is an integer when the trial is made, and the
guide gives this very field as its example (review D of 6207ec6, finding 1). The check now skips
such a placeholder by the batch/v1 Job check's rule (``core.job_fields``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from conftest import load_katib_example

PYTORCH = "kubeflow-training-operator_pytorchjob-mnist.yaml"
PT = "spec.trialTemplate.trialSpec.spec.pytorchReplicaSpecs"
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"


def _from_config_map(worker_replicas: str, run_policy: str = "") -> tuple[Any, str]:
    """Katib's PyTorchJob example with its template moved into a ConfigMap, the Worker's count
    written as ``worker_replicas`` in the template's YAML text; (experiment resolved, its errors)."""
    from kfp_tune.core.errors import SpecError
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.template_source import resolve_trial_template

    doc = load_katib_example(PYTORCH)
    template = doc["spec"]["trialTemplate"]
    trial_spec = template.pop("trialSpec")
    doc["spec"]["parameters"].append({"name": "workers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}})
    template["trialParameters"].append({"name": "numWorkers", "reference": "workers"})
    template["configMap"] = {"configMapName": "pt-template", "configMapNamespace": "kubeflow", "templatePath": "pytorch.yaml"}
    template["successCondition"] = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
    template["failureCondition"] = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    trial_spec["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] = "WORKERS"
    if run_policy:
        trial_spec["spec"]["runPolicy"] = {"backoffLimit": "BACKOFF"}
    text = yaml.safe_dump(trial_spec, sort_keys=False).replace("replicas: WORKERS", worker_replicas).replace("backoffLimit: BACKOFF", run_policy)
    assert worker_replicas in text
    try:
        experiment = resolve_trial_template(load_experiment(doc), lambda ns, name: {"pytorch.yaml": text}, "in the test")
    except SpecError as exc:
        return None, "\n".join(f"{e.path}: {e.message}" for e in exc.errors)
    return experiment, ""


def _trial_workers(experiment: Any, workers: str) -> Any:
    from kfp_tune.core.template import substitute

    values = {"learningRate": "0.01", "momentum": "0.5", "numWorkers": workers}
    return substitute(experiment.spec.trial_template.trial_spec, values)["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"]


def test_a_config_map_templates_unquoted_worker_count_placeholder_is_valid_and_an_integer_in_each_trial() -> None:
    experiment, errors = _from_config_map("replicas: ${trialParameters.numWorkers}", run_policy="backoffLimit: ${trialParameters.numWorkers}")
    assert errors == ""
    assert _trial_workers(experiment, "3") == 3


def test_the_guides_own_example_is_valid() -> None:
    """docs/guide.md's ConfigMap paragraph: "`replicas: ${trialParameters.workers}` becomes `replicas: 2`"."""
    found = re.search(r"`(replicas: \$\{trialParameters\.(\w+)\})` becomes `replicas: (\d+)`", GUIDE.read_text(encoding="utf-8"))
    assert found is not None, "the guide's ConfigMap example is gone"
    written, name, count = found.groups()
    experiment, errors = _from_config_map(written.replace(f".{name}}}", ".numWorkers}"))
    assert errors == ""
    assert _trial_workers(experiment, count) == int(count)


def test_a_quoted_placeholder_in_a_config_map_stays_text_and_is_refused_without_kfp_tunes_own_spelling() -> None:
    _, errors = _from_config_map('replicas: "${trialParameters.numWorkers}"')
    assert f"{PT}.Worker.replicas: expected an integer, got '${{trialParameters.numWorkers}}'" in errors, errors
    assert "unquoted" in errors and "${yaml:" not in errors
