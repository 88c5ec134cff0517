"""What validation says about a mistake in the objective or in a trial's container: the field
it names (a Katib-style path down to the list index) and the words that tell the user what
was expected and what was given, so the line can be acted on without reading the spec again."""

from __future__ import annotations

import logging
from typing import Any

from conftest import quadratic_experiment, validation_errors
from kfp_tune.core.errors import FieldError

CONTAINER = "spec.trialTemplate.trialSpec.spec.template.spec.containers[0]"


def messages_at(errors: list[FieldError], path: str) -> list[str]:
    return [e.message for e in errors if e.path == path]


# --- objective -------------------------------------------------------------------------------


def test_a_missing_objective_says_what_it_needs() -> None:
    doc = quadratic_experiment()
    del doc["spec"]["objective"]
    [message] = messages_at(validation_errors(doc), "spec.objective")
    assert message.startswith("required") and "type" in message and "objectiveMetricName" in message


def test_an_empty_objective_metric_is_required() -> None:
    [message] = messages_at(validation_errors(quadratic_experiment(**{"spec.objective.objectiveMetricName": ""})), "spec.objective.objectiveMetricName")
    assert message.startswith("required")


def test_a_wrong_objective_type_is_quoted_back() -> None:
    [message] = messages_at(validation_errors(quadratic_experiment(**{"spec.objective.type": "minimise"})), "spec.objective.type")
    assert "'minimize'" in message and "got 'minimise'" in message


def test_the_objective_metric_among_the_additional_ones_is_named() -> None:
    doc = quadratic_experiment(**{"spec.objective.additionalMetricNames": ["accuracy", "loss"]})
    [message] = messages_at(validation_errors(doc), "spec.objective.additionalMetricNames")
    assert "'loss'" in message


def test_an_additional_metric_given_twice_is_pointed_at_by_index() -> None:
    errors = validation_errors(quadratic_experiment(**{"spec.objective.additionalMetricNames": ["accuracy", "f1", "accuracy"]}))
    [message] = messages_at(errors, "spec.objective.additionalMetricNames[2]")
    assert "metric name 'accuracy'" in message and "more than once" in message
    assert [e.path for e in errors if e.path.startswith("spec.objective.additionalMetricNames")] == ["spec.objective.additionalMetricNames[2]"]


def test_a_metric_named_twice_is_reported_once_where_the_user_wrote_it() -> None:
    """Katib's defaults add one strategy per metric name; a name listed twice must not also show
    up as a duplicate strategy at an index the user never wrote."""
    for names in (["accuracy", "f1", "accuracy"], ["loss", "accuracy"]):
        errors = validation_errors(quadratic_experiment(**{"spec.objective.additionalMetricNames": names}))
        assert [e.path for e in errors if "metricStrategies" in e.path] == []
        assert [e.path for e in errors if e.path.startswith("spec.objective.additionalMetricNames")]


def test_a_goal_that_is_not_finite_is_refused_at_the_goal() -> None:
    """YAML reads 1e400 as infinity; a goal no metric can reach is refused, not run forever."""
    [message] = messages_at(validation_errors(quadratic_experiment(**{"spec.objective.goal": float("inf")})), "spec.objective.goal")
    assert "finite" in message and "inf" in message


def strategies(*pairs: tuple[str, str]) -> dict[str, Any]:
    return quadratic_experiment(**{"spec.objective.metricStrategies": [{"name": n, "value": v} for n, v in pairs]})


def test_a_metric_strategy_value_is_one_of_katibs_and_quoted_back() -> None:
    [message] = messages_at(validation_errors(strategies(("loss", "median"))), "spec.objective.metricStrategies[0].value")
    assert "'latest'" in message and "got 'median'" in message


def test_a_strategy_for_an_unknown_metric_is_a_note_naming_it() -> None:
    """Katib's webhook admits it and runs the experiment: a note, not an error."""
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.validation import metric_strategy_notes

    doc = strategies(("los", "min"))
    assert validation_errors(doc) == []
    [note] = metric_strategy_notes(load_experiment(doc))
    assert note.path == "spec.objective.metricStrategies[0].name" and "'los'" in note.message


def test_a_strategy_given_twice_is_pointed_at_by_index() -> None:
    errors = validation_errors(strategies(("loss", "min"), ("accuracy", "max"), ("loss", "latest")))
    [message] = messages_at(errors, "spec.objective.metricStrategies[2].name")
    assert "'loss'" in message and "more than once" in message
    assert len(errors) == 1, errors


# --- the trial's kind ------------------------------------------------------------------------


def test_a_kind_without_katib_defaults_is_named_where_conditions_are_required() -> None:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"] = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "spec": {"x": "${trialParameters.x}", "y": "${trialParameters.y}"},
    }
    errors = validation_errors(doc)
    for key in ("successCondition", "failureCondition"):
        [message] = messages_at(errors, f"spec.trialTemplate.{key}")
        assert message.startswith("required") and "'Widget'" in message


def test_a_missing_kind_is_the_one_error_not_its_conditions() -> None:
    """Without a kind there are no default conditions to miss: asking for them for an empty
    kind would send the user after the wrong field."""
    doc = quadratic_experiment()
    del doc["spec"]["trialTemplate"]["trialSpec"]["kind"]
    errors = validation_errors(doc)
    assert [(e.path, e.message) for e in errors] == [("spec.trialTemplate.trialSpec.kind", "required")]


def test_a_resource_with_no_kind_is_told_at_its_kind_not_as_an_unknown_kind(caplog) -> None:
    """QA: a trialSpec with no apiVersion and kind warned 'kind  (None) is not one kfp-tune
    knows' beside the errors: the errors name the fields it lacks, and nothing calls an absent
    kind unknown."""
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"] = {"a": 1}
    with caplog.at_level(logging.WARNING, logger="kfp_tune.core.validation"):
        errors = validation_errors(doc)
    paths = [e.path for e in errors]
    assert "spec.trialTemplate.trialSpec.apiVersion" in paths and "spec.trialTemplate.trialSpec.kind" in paths, paths
    assert "is not one kfp-tune knows" not in caplog.text and "(None)" not in caplog.text, caplog.text


# --- the trial's containers (Kubernetes' types for a container) ------------------------------


def with_container(**fields: Any) -> dict[str, Any]:
    """The quadratic experiment with fields set (or, given None, removed) in its one container."""
    doc = quadratic_experiment()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    for key, value in fields.items():
        if value is None:
            container.pop(key, None)
        else:
            container[key] = value
    return doc


def test_a_container_that_is_not_a_mapping_is_refused_at_its_index() -> None:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"].append("sidecar")
    path = CONTAINER.replace("[0]", "[1]")
    [message] = messages_at(validation_errors(doc), path)
    assert "mapping" in message and "got 'sidecar'" in message


def test_each_string_field_of_a_container_is_checked() -> None:
    for key, value in (("name", 7), ("image", 3.11), ("workingDir", ["/work"])):
        [message] = messages_at(validation_errors(with_container(**{key: value})), f"{CONTAINER}.{key}")
        assert "expected a string" in message and f"got {value!r}" in message, key


def test_a_command_written_as_one_string_suggests_its_list() -> None:
    errors = validation_errors(with_container(command="python train.py", args=["--lr", 0.1]))
    [message] = messages_at(errors, f"{CONTAINER}.command")
    assert "list of strings" in message and "['python', 'train.py']" in message and "got 'python train.py'" in message
    [item] = messages_at(errors, f"{CONTAINER}.args[1]")  # args are still checked after a bad command
    assert "quote it in YAML" in item and "got 0.1" in item


def test_a_command_that_is_no_string_gets_no_made_up_example() -> None:
    [message] = messages_at(validation_errors(with_container(command=5)), f"{CONTAINER}.command")
    assert "such as" not in message and "list of strings (" in message and "got 5" in message


def test_args_are_checked_when_there_is_no_command() -> None:
    [message] = messages_at(validation_errors(with_container(command=None, args="x=1 y=2")), f"{CONTAINER}.args")
    assert "['x=1', 'y=2']" in message


def test_env_that_is_not_a_list_is_refused_with_what_it_was() -> None:
    [message] = messages_at(validation_errors(with_container(env={"LR": "0.1", "DB_PASSWORD": "hunter2"})), f"{CONTAINER}.env")
    assert "list of {name, value}" in message and "got a mapping of ['DB_PASSWORD', 'LR']" in message
    assert "hunter2" not in message, "an env value is never shown: it is often a credential"


def test_every_env_entry_is_checked_past_a_bad_one() -> None:
    errors = validation_errors(with_container(env=["TOKEN=s3cr3t", {"name": 5, "value": "1"}, {"name": "DB_PASSWORD", "value": 123456789}]))
    [first] = messages_at(errors, f"{CONTAINER}.env[0]")
    assert "mapping with name and value" in first and "got text" in first and "s3cr3t" not in first
    [name] = messages_at(errors, f"{CONTAINER}.env[1].name")
    assert name.startswith("required") and "got 5" in name
    [value] = messages_at(errors, f"{CONTAINER}.env[2].value")
    assert "quote it in YAML" in value and "got a number" in value and "123456789" not in value


# --- trial metadata references ----------------------------------------------------------------


def _with_team_parameter(labels: dict[str, str] | None) -> dict[str, Any]:
    """The quadratic experiment whose trials also get ``--team=${trialParameters.team}``, the
    team read from the trial template's label ``team`` (Katib's trial-metadata-substitution)."""
    doc = quadratic_experiment()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "team", "reference": "${trialSpec.Labels[team]}"})
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("--team=${trialParameters.team}")
    if labels is not None:
        template["trialSpec"].setdefault("metadata", {})["labels"] = labels
    return doc


def test_a_label_reference_the_trial_template_cannot_fill_is_refused_before_anything_runs() -> None:
    """Katib creates no trial for it (its generator fails every one); kfp-tune says so up front."""
    for labels in (None, {"app": "quad"}):
        index = len(_with_team_parameter(labels)["spec"]["trialTemplate"]["trialParameters"]) - 1
        [message] = messages_at(validation_errors(_with_team_parameter(labels)), f"spec.trialTemplate.trialParameters[{index}].reference")
        assert "'team'" in message and "${trialSpec.Labels[team]}" in message and "does not have" in message
    assert validation_errors(_with_team_parameter({"team": "vision"})) == []


def test_a_template_may_name_the_labels_kfp_tune_puts_on_its_trials() -> None:
    """render_trial adds kfp-tune's labels (and pbt's generation and parent) before the
    references are read, so naming them is no mistake; pbt's only under pbt."""
    doc = quadratic_experiment()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "trialName", "reference": "${trialSpec.Labels[kfp-tune.kubeflow.org/trial]}"})
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("--trial=${trialParameters.trialName}")
    assert validation_errors(doc) == []
    template["trialParameters"][-1]["reference"] = "${trialSpec.Labels[pbt.suggestion.katib.kubeflow.org/parent]}"
    index = len(template["trialParameters"]) - 1
    [message] = messages_at(validation_errors(doc), f"spec.trialTemplate.trialParameters[{index}].reference")
    assert "pbt.suggestion.katib.kubeflow.org/parent" in message
