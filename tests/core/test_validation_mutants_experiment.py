"""The experiment-level messages of validation, word for word where a user reads them first:
no name, an unknown resume policy, parameters and nasConfig together or neither, a parameter
name given twice. Written for the mutants of ``validate_experiment`` that other tests let pass."""

from __future__ import annotations

from conftest import DELETE, load_katib_example, merge, quadratic_experiment, validation_errors


def messages(doc: dict) -> dict[str, str]:
    return {e.path: e.message for e in validation_errors(doc)}


def test_an_experiment_without_a_name_is_told_it_needs_one() -> None:
    assert messages(quadratic_experiment(**{"metadata.name": DELETE})) == {"metadata.name": "required: the experiment's name"}


def test_an_unknown_resume_policy_is_quoted_back() -> None:
    got = messages(quadratic_experiment(**{"spec.resumePolicy": "Sometimes"}))
    assert got == {"spec.resumePolicy": "expected one of ['Never', 'LongRunning', 'FromVolume'], got 'Sometimes'"}


def test_parameters_and_nas_config_together_are_refused_saying_which_tunes_what() -> None:
    doc = load_katib_example("nas_enas-cpu.yaml")
    doc["spec"]["parameters"] = [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}}]
    assert messages(doc) == {"spec.nasConfig": (
        "only one of spec.parameters and spec.nasConfig may be given: parameters are tuned by a hyperparameter algorithm, "
        "nasConfig is searched by an architecture search algorithm"
    )}


def test_an_experiment_with_nothing_to_tune_says_what_it_needs() -> None:
    doc = merge(quadratic_experiment(), {"spec.parameters": []})
    doc["spec"]["trialTemplate"]["trialParameters"] = []
    assert messages(doc)["spec.parameters"] == "required: at least one parameter to tune (or spec.nasConfig, for neural architecture search)"


def test_a_parameter_name_given_twice_is_named_at_the_second() -> None:
    doc = quadratic_experiment()
    doc["spec"]["parameters"][1]["name"] = "x"
    assert messages(doc)["spec.parameters[1].name"] == "parameter name 'x' is given more than once"
