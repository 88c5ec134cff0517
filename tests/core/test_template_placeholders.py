"""A ``${trialParameters.`` that is not a whole placeholder (unterminated, empty, braced) is
refused before anything runs, as Katib's webhook refuses it (validator.go,
``validateTrialTemplate``): it used to reach the trial as literal text."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment, validation_errors
from kfp_tune.core.template import malformed_placeholders

MALFORMED = ["${trialParameters.x", "${trialParameters.}", "${trialParameters.{x}}"]


@pytest.mark.parametrize("text", MALFORMED)
@pytest.mark.parametrize("where", ["arg", "env", "word"])
def test_a_malformed_placeholder_is_refused_at_the_trial_template(text: str, where: str) -> None:
    doc = quadratic_experiment()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    if where == "arg":
        container.setdefault("args", []).append(text)
    elif where == "env":
        container.setdefault("env", []).append({"name": "X2", "value": text})
    else:
        container.setdefault("args", []).append(f"--x={text} --more")
    errors = [e for e in validation_errors(doc) if e.path == "spec.trialTemplate"]
    assert len(errors) == 1, errors
    found = malformed_placeholders({"a": text})
    assert len(found) == 1 and found[0] in errors[0].message and "literal text" in errors[0].message


def test_whole_placeholders_declared_or_not_are_not_malformed() -> None:
    """An undeclared whole placeholder has its own error (used but not declared), not this one."""
    assert malformed_placeholders({"${trialParameters.a}": ["${trialParameters.b}-${trialParameters.c}", "${yaml:trialParameters.d}", "$trialParameters.e"]}) == []
    assert validation_errors(quadratic_experiment()) == []


def test_the_text_found_is_what_katibs_regex_finds_or_the_rest_of_the_string() -> None:
    assert malformed_placeholders(["a ${trialParameters.{lr}} b", "${trialParameters.lr", {"${trialParameters.}": 1}]) == [
        "${trialParameters.{lr}", "${trialParameters.lr", "${trialParameters.}"]
