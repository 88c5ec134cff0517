"""Two more forms of a categorical value the trial's `sh -c` line does not pass whole (review B of
session 38, finding 6, of 99648d3): an empty value at a placeholder that is a word of its own
vanishes (the next argument takes its place), and under bash (a command kept as `bash -c`)
`{a,b}` and `{1..3}` expand into several words, which sh leaves as they are."""

from __future__ import annotations

from typing import Any

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes


def _experiment(values: list[str], args: list[str], command: list[str] | None = None) -> dict[str, Any]:
    doc = quadratic_experiment()
    doc["spec"]["parameters"] = [{"name": "cat", "parameterType": "categorical", "feasibleSpace": {"list": values}}]
    doc["spec"]["trialTemplate"]["trialParameters"] = [{"name": "choice", "reference": "cat"}]
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["args"] = args
    if command is not None:
        container["command"] = command
    return doc


def _shell_notes(doc: dict[str, Any]) -> dict[str, str]:
    return {n.path: n.message for n in katib_notes(load_experiment(doc), doc) if "sh -c" in n.message}


def test_an_empty_value_at_a_placeholder_that_is_a_word_of_its_own_is_noted() -> None:
    notes = _shell_notes(_experiment(["", "a"], ["--cat", "${trialParameters.choice}", "--seed", "1"]))
    assert list(notes) == ["spec.parameters[0].feasibleSpace.list[0]"]
    assert "drops the empty word, so the next argument takes its place" in notes["spec.parameters[0].feasibleSpace.list[0]"]
    assert _shell_notes(_experiment(["", "a"], ["--cat=${trialParameters.choice}", "--seed", "1"])) == {}  # "--cat=" stays a word


def test_braces_are_noted_under_bash_only() -> None:
    values = ["{a,b}", "x{1..3}", "{plain}"]
    under_bash = _shell_notes(_experiment(values, ["python3 -c 'print(1)' --cat ${trialParameters.choice}"], command=["bash", "-c"]))
    assert sorted(under_bash) == ["spec.parameters[0].feasibleSpace.list[0]", "spec.parameters[0].feasibleSpace.list[1]"]
    assert all("expands its braces into several words" in message for message in under_bash.values())
    assert _shell_notes(_experiment(values, ["--cat", "${trialParameters.choice}"])) == {}  # sh: no brace expansion
