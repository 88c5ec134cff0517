"""The experiment-level messages of validation, word for word where a user reads them first:
no name, an unknown resume policy, parameters and nasConfig together or neither, a parameter
name given twice. Written for the mutants of ``validate_experiment`` that other tests let pass."""

from __future__ import annotations

import pytest

from conftest import DELETE, load_katib_example, merge, quadratic_experiment, validation_errors
from kfp_tune.core.plugin_failures import NO_PLUGIN_HINT


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


# --- spec.algorithm ----------------------------------------------------------------------------------

# Katib's eleven algorithm names, and kfp-tune's regularized evolution (an architecture search)
NAMES = "['bayesianoptimization', 'cmaes', 'darts', 'enas', 'grid', 'hyperband', 'multivariate-tpe', 'pbt', 'random', 'regularized-evolution', 'sobol', 'tpe']"


def test_an_experiment_without_an_algorithm_is_told_it_needs_one() -> None:
    assert messages(quadratic_experiment(**{"spec.algorithm": DELETE})) == {"spec.algorithm": "required: algorithmName"}


def test_an_empty_algorithm_name_lists_every_algorithm() -> None:
    assert messages(quadratic_experiment(**{"spec.algorithm": {"algorithmName": ""}})) == {"spec.algorithm.algorithmName": f"required, one of {NAMES}"}


def test_an_unknown_algorithm_is_quoted_back_with_every_name() -> None:
    got = messages(quadratic_experiment(**{"spec.algorithm": {"algorithmName": "bayes"}}))
    assert got == {"spec.algorithm.algorithmName": f"unknown algorithm 'bayes'; expected one of {NAMES}; {NO_PLUGIN_HINT}"}


def test_a_hyperparameter_algorithm_on_a_nas_config_names_the_architecture_searches() -> None:
    got = messages(merge(load_katib_example("nas_enas-cpu.yaml"), {"spec.algorithm": {"algorithmName": "random"}}))
    assert got == {
        "spec.algorithm.algorithmName": "'random' tunes spec.parameters; spec.nasConfig is searched by an architecture search algorithm, "
        "one of ['darts', 'enas', 'regularized-evolution']"
    }


def test_nothing_to_tune_is_not_also_blamed_on_the_algorithm() -> None:
    doc = merge(quadratic_experiment(), {"spec.parameters": []})
    doc["spec"]["trialTemplate"]["trialParameters"] = []
    assert "spec.algorithm.algorithmName" not in messages(doc)


def test_an_empty_early_stopping_name_lists_medianstop() -> None:
    assert messages(quadratic_experiment(**{"spec.earlyStopping": {"algorithmName": ""}})) == {"spec.earlyStopping.algorithmName": "required, one of ['medianstop']"}


def test_an_unknown_early_stopping_algorithm_is_quoted_back() -> None:
    got = messages(quadratic_experiment(**{"spec.earlyStopping": {"algorithmName": "median"}}))
    assert got == {"spec.earlyStopping.algorithmName": f"unknown early stopping algorithm 'median'; expected one of ['medianstop']; {NO_PLUGIN_HINT}"}


# --- spec.trialTemplate ------------------------------------------------------------------------------


def test_an_experiment_without_a_trial_template_is_told_what_one_holds() -> None:
    assert messages(quadratic_experiment(**{"spec.trialTemplate": DELETE})) == {"spec.trialTemplate": "required: trialSpec, trialParameters and primaryContainerName"}


def test_a_trial_template_without_its_primary_container_name_says_what_it_is() -> None:
    got = messages(quadratic_experiment(**{"spec.trialTemplate.primaryContainerName": DELETE}))
    assert got == {"spec.trialTemplate.primaryContainerName": "required: the name of the container that trains"}


def test_a_trial_template_without_a_trial_spec_is_one_error_at_its_cause() -> None:
    """No trialSpec, no kind: its success and failure conditions are not also asked for."""
    got = messages(quadratic_experiment(**{"spec.trialTemplate.trialSpec": DELETE}))
    assert got == {"spec.trialTemplate.trialSpec": "required: trialSpec (or configMap)"}


CONFIG_MAP_EXAMPLE = "trial-template_trial-configmap-source.yaml"


def test_a_trial_template_from_a_config_map_needs_its_name_namespace_and_path() -> None:
    """Katib reads the template from configMapName in configMapNamespace at templatePath: each
    missing one is named (the template itself is read when the experiment runs)."""
    assert messages(load_katib_example(CONFIG_MAP_EXAMPLE)) == {}
    for key in ("configMapName", "configMapNamespace", "templatePath"):
        got = messages(merge(load_katib_example(CONFIG_MAP_EXAMPLE), {f"spec.trialTemplate.configMap.{key}": DELETE}))
        assert got == {f"spec.trialTemplate.configMap.{key}": "required"}, key


def test_a_trial_template_with_both_a_trial_spec_and_a_config_map_is_refused() -> None:
    doc = merge(load_katib_example(CONFIG_MAP_EXAMPLE), {"spec.trialTemplate.trialSpec": {"apiVersion": "batch/v1", "kind": "Job"}})
    assert messages(doc) == {"spec.trialTemplate": "only one of trialSpec and configMap may be given"}


def test_a_trial_template_without_trial_parameters_says_what_they_are_and_what_uses_them() -> None:
    got = [(e.path, e.message) for e in validation_errors(quadratic_experiment(**{"spec.trialTemplate.trialParameters": DELETE}))]
    assert got == [
        ("spec.trialTemplate.trialParameters", "required: one entry per ${trialParameters.x} in trialSpec"),
        ("spec.trialTemplate.trialSpec", "${trialParameters.x} is used but not declared in spec.trialTemplate.trialParameters"),
        ("spec.trialTemplate.trialSpec", "${trialParameters.y} is used but not declared in spec.trialTemplate.trialParameters"),
    ]


def test_a_trial_spec_may_not_name_its_trials_nor_pick_their_namespace() -> None:
    got = messages(quadratic_experiment(**{"spec.trialTemplate.trialSpec.metadata": {"name": "x", "namespace": "y", "labels": {"app": "quad"}}}))
    reason = "must be omitted: kfp-tune names each trial and picks the namespace"
    assert got == {"spec.trialTemplate.trialSpec.metadata.name": reason, "spec.trialTemplate.trialSpec.metadata.namespace": reason}


def test_trial_spec_metadata_that_is_no_mapping_is_refused() -> None:
    assert messages(quadratic_experiment(**{"spec.trialTemplate.trialSpec.metadata": ["name"]})) == {"spec.trialTemplate.trialSpec.metadata": "expected a mapping"}


def test_a_condition_that_is_no_gjson_path_is_refused_at_its_field_saying_where() -> None:
    for key in ("successCondition", "failureCondition"):
        got = messages(quadratic_experiment(**{f"spec.trialTemplate.{key}": "status.#(a=="}))
        assert got == {f"spec.trialTemplate.{key}": "not a GJSON path kfp-tune reads as Katib does: position 7: unclosed query: expected ')' to end '#('"}


def test_a_trial_specs_api_version_and_kind_are_required_strings() -> None:
    for key in ("apiVersion", "kind"):
        assert messages(quadratic_experiment(**{f"spec.trialTemplate.trialSpec.{key}": DELETE})) == {f"spec.trialTemplate.trialSpec.{key}": "required"}
        assert messages(quadratic_experiment(**{f"spec.trialTemplate.trialSpec.{key}": 1})) == {f"spec.trialTemplate.trialSpec.{key}": "expected a string, got 1"}


# --- what a trial may not do, and the metrics collector ----------------------------------------------


def test_a_trial_that_would_reach_the_node_is_refused_before_anything_runs() -> None:
    """The security promise, through the validation every command runs: hostPath volumes,
    privileged containers and the node's namespaces, each at its field."""
    doc = quadratic_experiment()
    pod = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
    pod["hostNetwork"] = True
    pod["volumes"] = [{"name": "root", "hostPath": {"path": "/"}}]
    pod["containers"][0]["securityContext"] = {"privileged": True}
    where = "spec.trialTemplate.trialSpec.spec.template.spec"
    from kfp_tune.core.template import BASELINE_RULE  # each says the rule (Pod Security baseline) and what to do

    assert messages(doc) == {
        f"{where}.containers[0].securityContext.privileged": f"privileged containers are refused {BASELINE_RULE}",
        f"{where}.hostNetwork": f"hostNetwork is refused: a trial must not share the node's namespaces {BASELINE_RULE}",
        f"{where}.volumes[0].hostPath": f"hostPath volumes are refused: a trial must not reach the node's files {BASELINE_RULE}",
    }


def collector(spec: dict) -> dict[str, str]:
    return messages(quadratic_experiment(**{"spec.metricsCollectorSpec": spec}))


def test_an_unknown_collector_kind_is_quoted_back_with_katibs_kinds() -> None:
    got = collector({"collector": {"kind": "Stdout"}})
    assert got == {"spec.metricsCollectorSpec.collector.kind": "expected one of ['StdOut', 'File', 'TensorFlowEvent', 'PrometheusMetric', 'Custom', 'Push'], got 'Stdout'"}


@pytest.mark.parametrize("file_system_path", [{"path": "/out/m.log", "kind": "Directory"}, {"path": "out/m.log", "kind": "File"}])
def test_the_file_collector_needs_an_absolute_path_of_kind_file(file_system_path: dict[str, str]) -> None:
    got = collector({"collector": {"kind": "File"}, "source": {"fileSystemPath": file_system_path}})
    assert got == {"spec.metricsCollectorSpec.source.fileSystemPath.path": "an absolute path of kind File is required for the File collector"}


def test_the_file_collectors_format_is_text_or_json() -> None:
    assert messages(load_katib_example("metrics-collector_file-metrics-collector-with-json-format.yaml")) == {}
    got = collector({"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/out/m.log", "kind": "File", "format": "YAML"}}})
    assert got == {"spec.metricsCollectorSpec.source.fileSystemPath.format": "expected TEXT or JSON, got 'YAML'"}


def test_a_json_metrics_file_takes_no_filter() -> None:
    """Katib reads JSON lines by key: a metricsFormat regular expression has nothing to match."""
    source = {"fileSystemPath": {"path": "/out/m.json", "kind": "File", "format": "JSON"}, "filter": {"metricsFormat": ["([\\w|-]+)\\s*=\\s*([+-]?\\d*(\\.\\d+)?([Ee][+-]?\\d+)?)"]}}
    assert collector({"collector": {"kind": "File"}, "source": source}) == {"spec.metricsCollectorSpec.source.filter": "must be omitted when the file format is JSON"}
    text = {**source, "fileSystemPath": {**source["fileSystemPath"], "format": "TEXT"}}
    assert collector({"collector": {"kind": "File"}, "source": text}) == {}


def test_the_tensorflow_event_collector_needs_an_absolute_directory_and_no_format() -> None:
    base = {"collector": {"kind": "TensorFlowEvent"}}
    assert collector({**base, "source": {"fileSystemPath": {"path": "/out/events", "kind": "Directory"}}}) == {}
    got = collector({**base, "source": {"fileSystemPath": {"path": "/out/events.log", "kind": "File", "format": "TEXT"}}})
    assert got == {
        "spec.metricsCollectorSpec.source.fileSystemPath.path": "an absolute path of kind Directory is required for the TensorFlowEvent collector",
        "spec.metricsCollectorSpec.source.fileSystemPath.format": "must be empty for the TensorFlowEvent collector",
    }
