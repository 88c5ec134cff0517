"""``${yaml:trialParameters.x}`` is kfp-tune's own form of a ConfigMap template's whole unquoted
placeholder. Written by a user, in an inline ``trialSpec`` or a ConfigMap's template text, it was
taken as that form (``parallelism: ${yaml:trialParameters.momentum}`` rendered ``parallelism:
0.5``), where Katib leaves it as written and refuses the experiment when it is the parameter's
only use (validator.go: parameter not found in spec.trialTemplate). It is refused, naming the
field; kfp-tune's stored experiments, passed as dicts or models, keep it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import config_map_experiment, quadratic_experiment
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.template_source import resolve_trial_template

PROBLEM = "'${yaml:trialParameters.x}' is not a Katib placeholder"
"""How each refusal starts."""


def _with_internal_placeholder() -> dict[str, Any]:
    doc = quadratic_experiment()
    job = doc["spec"]["trialTemplate"]["trialSpec"]
    job["spec"]["parallelism"] = "${yaml:trialParameters.x}"
    job["metadata"] = {"labels": {"${yaml:trialParameters.y}": "v"}}
    return doc


def _messages(source: Any) -> dict[str, str]:
    with pytest.raises(SpecError) as info:
        load_experiment(source)
    return {error.path: error.message for error in info.value.errors}


def test_an_inline_template_written_with_the_internal_form_is_refused_naming_the_field(tmp_path: Path) -> None:
    text = yaml.safe_dump(_with_internal_placeholder())
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    for source in (text, path):
        messages = _messages(source)
        assert messages["spec.trialTemplate.trialSpec.spec.parallelism"].startswith(PROBLEM)
        assert messages["spec.trialTemplate.trialSpec.spec.parallelism"].endswith("write ${trialParameters.x}")
        assert messages["spec.trialTemplate.trialSpec.metadata.labels.${yaml:trialParameters.y}"].startswith("the key: '${yaml:trialParameters.y}'")
    inside = text.replace("x=${trialParameters.x}", "x=${yaml:trialParameters.x} and more")  # inside a longer string too
    assert _messages(inside)["spec.trialTemplate.trialSpec.spec.template.spec.containers[0].args[0]"].startswith(PROBLEM)


def test_a_config_map_template_written_with_the_internal_form_is_refused_naming_its_line() -> None:
    doc = config_map_experiment()
    template = yaml.safe_dump(quadratic_experiment()["spec"]["trialTemplate"]["trialSpec"])
    text = template.replace("spec:\n  template:", "spec:\n  parallelism: ${yaml:trialParameters.x}\n  template:", 1)
    assert text != template
    experiment = load_experiment(doc)
    with pytest.raises(SpecError) as info:
        resolve_trial_template(experiment, lambda ns, name: {"t.yaml": text}, "in the test")
    ((path, message),) = [(e.path, e.message) for e in info.value.errors]
    line = text.splitlines().index("  parallelism: ${yaml:trialParameters.x}") + 1
    assert path == "spec.trialTemplate.configMap.templatePath"
    assert message.startswith(f"ConfigMap ns/templates key 't.yaml': line {line}: {PROBLEM}")


def test_the_internal_form_kfp_tune_stores_still_loads_from_a_dict_or_a_model() -> None:
    """A template read from a ConfigMap is stored with it, and reloaded (client's budget edit,
    a compiled pipeline's steps) as a dict or a model."""
    template = yaml.safe_dump(quadratic_experiment()["spec"]["trialTemplate"]["trialSpec"])
    text = template.replace("spec:\n  template:", "spec:\n  parallelism: ${trialParameters.x}\n  template:", 1)
    resolved = resolve_trial_template(load_experiment(config_map_experiment()), lambda ns, name: {"t.yaml": text}, "in the test")
    assert resolved.spec.trial_template.trial_spec["spec"]["parallelism"] == "${yaml:trialParameters.x}"
    assert load_experiment(resolved).spec.trial_template.trial_spec == resolved.spec.trial_template.trial_spec
    assert load_experiment(resolved.to_dict()).spec.trial_template.trial_spec == resolved.spec.trial_template.trial_spec


@pytest.mark.parametrize("expansion", ["${yaml:-cfg.yaml}", "${yaml:+set}", "${yaml:0:3}"])
def test_a_shell_expansion_of_a_variable_named_yaml_is_the_trials_own(expansion: str) -> None:
    """Only ``${yaml:trialParameters.`` is kfp-tune's form: a shell's default, alternative or
    substring of a variable named yaml, in a command or a ConfigMap template, is left as written
    (as Katib leaves it) and validates, renders and runs as it did before the refusal."""
    doc = quadratic_experiment()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["sh", "-c", f"echo {expansion} x=${{trialParameters.x}}"]
    experiment = load_experiment(yaml.safe_dump(doc))
    assert experiment.spec.trial_template.trial_spec["spec"]["template"]["spec"]["containers"][0]["command"][2].startswith(f"echo {expansion} ")
    template = yaml.safe_dump(doc["spec"]["trialTemplate"]["trialSpec"])
    resolved = resolve_trial_template(load_experiment(config_map_experiment()), lambda ns, name: {"t.yaml": template}, "in the test")
    assert expansion in resolved.spec.trial_template.trial_spec["spec"]["template"]["spec"]["containers"][0]["command"][2]
