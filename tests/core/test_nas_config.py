"""Katib's ``spec.nasConfig`` and its architecture search algorithms (enas, darts): parsed into
models, validated with Katib's rules and field paths, their settings checked as Katib's
services check them, and trialParameters allowed to reference what each gives its trials.

The algorithms themselves are not implemented yet: Katib's four NAS examples are valid, and
``validate`` says kfp-tune cannot run them (tests/test_katib_examples.py)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import DELETE, KATIB_NAS, load_katib_example, merge, quadratic_experiment
from kfp_tune import SpecError, load_experiment
from kfp_tune.cli import main
from kfp_tune.core.catalogue import ALGORITHMS, MAX_ENAS_OPERATIONS, parse_settings
from kfp_tune.core.spec import Experiment, parse_experiment

SETTINGS = "spec.algorithm.algorithmSettings"

# Katib's names, read from its services (pkg/suggestion/v1beta1/nas/enas/AlgorithmSettings.py,
# pkg/suggestion/v1beta1/nas/darts/service.py), with the defaults each one fills in.
KATIB_ENAS_DEFAULTS = {
    "controller_hidden_size": 64, "controller_temperature": 5.0, "controller_tanh_const": 2.25,
    "controller_entropy_weight": 1e-5, "controller_baseline_decay": 0.999, "controller_learning_rate": 5e-5,
    "controller_skip_target": 0.4, "controller_skip_weight": 0.8, "controller_train_steps": 50,
    "controller_log_every_steps": 10,
}
KATIB_DARTS_DEFAULTS = {
    "num_epochs": 50, "w_lr": 0.025, "w_lr_min": 0.001, "w_momentum": 0.9, "w_weight_decay": 3e-4,
    "w_grad_clip": 5.0, "alpha_lr": 3e-4, "alpha_weight_decay": 1e-3, "batch_size": 128, "num_workers": 4,
    "init_channels": 16, "print_step": 50, "num_nodes": 4, "stem_multiplier": 3,
}


def _errors(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_experiment(doc)
    return [f"{e.path}: {e.message}" for e in info.value.errors]


def enas(**overrides: Any) -> dict[str, Any]:
    """Katib's enas-cpu example, with dotted-path overrides."""
    return merge(load_katib_example("nas_enas-cpu.yaml"), overrides)


def darts(**overrides: Any) -> dict[str, Any]:
    """Katib's darts-gpu example (it has a skip_connection), with dotted-path overrides."""
    return merge(load_katib_example("nas_darts-gpu.yaml"), overrides)


# ---------------------------------------------------------------- Katib's examples


@pytest.mark.parametrize("name", sorted(KATIB_NAS))
def test_katibs_examples_parse_to_their_graph_and_operations(name):
    doc = load_katib_example(name)
    nas = load_experiment(doc).spec.nas_config
    want = doc["spec"]["nasConfig"]
    assert nas is not None and nas.graph_config is not None
    assert nas.graph_config.num_layers == want["graphConfig"]["numLayers"]
    assert nas.graph_config.input_sizes == want["graphConfig"].get("inputSizes")
    assert nas.graph_config.output_sizes == want["graphConfig"].get("outputSizes")
    assert [op.operation_type for op in nas.operations or []] == [op["operationType"] for op in want["operations"]]
    for op, wanted in zip(nas.operations or [], want["operations"], strict=True):
        got = [(p.name, p.parameter_type, p.feasible_space.list, p.feasible_space.min, p.feasible_space.max, p.feasible_space.step) for p in op.parameters or []]
        assert got == [
            (p["name"], p["parameterType"], p["feasibleSpace"].get("list"), p["feasibleSpace"].get("min"), p["feasibleSpace"].get("max"), p["feasibleSpace"].get("step"))
            for p in wanted.get("parameters", [])
        ]


@pytest.mark.parametrize("name", sorted(KATIB_NAS))
def test_nas_config_round_trips_as_katib_writes_it(name):
    """A stored experiment (``to_dict``, camelCase, nothing added) reloads equal."""
    doc = load_katib_example(name)
    experiment = load_experiment(doc)
    stored = experiment.to_dict()
    assert stored["spec"]["nasConfig"] == doc["spec"]["nasConfig"]
    assert "parameters" not in stored["spec"] or stored["spec"]["parameters"] == []
    reloaded = load_experiment(yaml.safe_load(yaml.safe_dump(stored)))
    assert reloaded == experiment
    assert reloaded.search_space_hash() == experiment.search_space_hash()


def test_a_changed_nas_config_is_another_search_space():
    """Resuming with other operations is refused like resuming with other parameters: the hash
    a resumed run is checked against covers nasConfig."""
    base = load_experiment(enas())
    more = load_experiment(enas(**{"spec.nasConfig.operations.0.parameters.2.feasibleSpace.list": ["1", "2", "3"]}))
    deeper = load_experiment(enas(**{"spec.nasConfig.graphConfig.numLayers": 2}))
    budget = load_experiment(enas(**{"spec.maxTrialCount": 7}))
    assert len({base.search_space_hash(), more.search_space_hash(), deeper.search_space_hash()}) == 3
    assert budget.search_space_hash() == base.search_space_hash()


def test_nas_config_is_built_in_python_with_snake_case_names():
    doc = enas()
    nas = Experiment.model_validate(doc).spec.nas_config
    assert nas is not None
    built = parse_experiment({**doc, "spec": {**doc["spec"], "nasConfig": nas.model_dump(exclude_none=True)}})
    assert built.spec.nas_config == nas


# ---------------------------------------------------------------- Katib's rules, with paths

OPS = "spec.nasConfig.operations"
GRAPH = "spec.nasConfig.graphConfig"

# (an example's overrides, the path that must be named, a phrase of the message)
INVALID: list[tuple[Any, str, str]] = [
    # exactly one of parameters and nasConfig (Katib's webhook)
    (enas(**{"spec.parameters": quadratic_experiment()["spec"]["parameters"]}), "spec.nasConfig", "only one of spec.parameters and spec.nasConfig"),
    (enas(**{"spec.nasConfig": DELETE}), "spec.parameters", "or spec.nasConfig"),
    # an architecture search algorithm searches a nasConfig; the others tune parameters
    (quadratic_experiment(**{"spec.algorithm": {"algorithmName": "enas"}}), "spec.nasConfig", "required for enas"),
    (enas(**{"spec.algorithm": {"algorithmName": "random"}}), "spec.algorithm.algorithmName", "architecture search algorithm"),
    # graphConfig
    (enas(**{"spec.nasConfig.graphConfig.numLayers": DELETE}), f"{GRAPH}.numLayers", "required"),
    (enas(**{"spec.nasConfig.graphConfig": DELETE}), f"{GRAPH}.numLayers", "required"),
    (enas(**{"spec.nasConfig.graphConfig.numLayers": 0}), f"{GRAPH}.numLayers", "from 1"),
    (darts(**{"spec.nasConfig.graphConfig.numLayers": -2}), f"{GRAPH}.numLayers", "from 1"),
    (enas(**{"spec.nasConfig.graphConfig.numLayers": 2**31}), f"{GRAPH}.numLayers", "int32"),
    (enas(**{"spec.nasConfig.graphConfig.numLayers": "3"}), f"{GRAPH}.numLayers", "integer"),
    (enas(**{"spec.nasConfig.graphConfig.inputSizes": [32, 0, 3]}), f"{GRAPH}.inputSizes[1]", "from 1"),
    (enas(**{"spec.nasConfig.graphConfig.outputSizes": [2.5]}), f"{GRAPH}.outputSizes[0]", "integer"),
    (enas(**{"spec.nasConfig.graphConfig.inputSizes": DELETE}), f"{GRAPH}.inputSizes", "required for enas"),
    (enas(**{"spec.nasConfig.graphConfig.outputSizes": []}), f"{GRAPH}.outputSizes", "required for enas"),
    (enas(**{"spec.nasConfig.graphConfig.numLayer": 1}), f"{GRAPH}.numLayer", "unknown field"),
    # operations
    (enas(**{"spec.nasConfig.operations": []}), OPS, "at least one operation"),
    (darts(**{"spec.nasConfig.operations": DELETE}), OPS, "at least one operation"),
    (enas(**{"spec.nasConfig.operations.1.operationType": ""}), f"{OPS}[1].operationType", "required"),
    (enas(**{"spec.nasConfig.operations.2.operationType": "convolution"}), f"{OPS}[2].operationType", "more than once"),
    (enas(**{"spec.nasConfig.operations.0.operationtype": "x"}), f"{OPS}[0].operationtype", "unknown field"),
    (enas(**{"spec.nasConfig.operations.3.parameters": []}), f"{OPS}[3].parameters", "required for enas"),
    (darts(**{"spec.nasConfig.operations.1.parameters": DELETE}), f"{OPS}[1].parameters", "required for darts"),
    # an operation's parameters are valid as spec.parameters are
    (enas(**{"spec.nasConfig.operations.2.parameters.0.feasibleSpace.list": []}), f"{OPS}[2].parameters[0].feasibleSpace.list", "non-empty"),
    (enas(**{"spec.nasConfig.operations.0.parameters.1.feasibleSpace.list": ["32", "48", "32"]}), f"{OPS}[0].parameters[1].feasibleSpace.list[2]", "more than once"),
    (enas(**{"spec.nasConfig.operations.0.parameters.0.parameterType": "float"}), f"{OPS}[0].parameters[0].parameterType", "categorical"),
    (enas(**{"spec.nasConfig.operations.0.parameters.0.name": ""}), f"{OPS}[0].parameters[0].name", "required"),
    (enas(**{"spec.nasConfig.operations.0.parameters.2.name": "filter_size"}), f"{OPS}[0].parameters[2].name", "more than once"),
    (enas(**{"spec.nasConfig.operations.0.parameters.0.feasibleSpace.min": "1"}), f"{OPS}[0].parameters[0].feasibleSpace.min", "not allowed"),
    (enas(**{"spec.nasConfig.operations.0.parameters.0": {"name": "f", "parameterType": "discrete", "feasibleSpace": {"list": ["3", "five"]}}}),
     f"{OPS}[0].parameters[0].feasibleSpace.list[1]", "numbers"),
    (enas(**{"spec.nasConfig.operations.3.parameters.1.feasibleSpace": {"min": "3", "max": "2", "step": "1"}}), f"{OPS}[3].parameters[1].feasibleSpace.min", "min < max"),
    (enas(**{"spec.nasConfig.operations.3.parameters.1.feasibleSpace": {"min": "2", "max": "3.5", "step": "1"}}), f"{OPS}[3].parameters[1].feasibleSpace.max", "integer"),
    (enas(**{"spec.nasConfig.operations.3.parameters.1.feasibleSpace": {"min": "2", "max": "3", "step": "0"}}), f"{OPS}[3].parameters[1].feasibleSpace.step", "> 0"),
    (enas(**{"spec.nasConfig.operations.3.parameters.1.feasibleSpace": {"max": "3", "step": "1"}}), f"{OPS}[3].parameters[1].feasibleSpace.min", "required"),
    (enas(**{"spec.nasConfig.operations.3.parameters.1.feasibleSpace": {"min": "2", "max": "3", "step": "1", "distribution": "gaussian"}}),
     f"{OPS}[3].parameters[1].feasibleSpace.distribution", "logUniform"),
    # a double's values are enumerated: Katib's NAS services need its step; enas needs an int's too
    (enas(**{"spec.nasConfig.operations.3.parameters.1": {"name": "rate", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.5"}}}),
     f"{OPS}[3].parameters[1].feasibleSpace.step", "required for a double parameter"),
    (enas(**{"spec.nasConfig.operations.3.parameters.1.feasibleSpace": {"min": "2", "max": "3"}}), f"{OPS}[3].parameters[1].feasibleSpace.step", "required for an int parameter of an enas"),
    # darts makes its primitives from the first parameter's list (the filter size)
    (darts(**{"spec.nasConfig.operations.1.parameters.0": {"name": "filter_size", "parameterType": "int", "feasibleSpace": {"min": "3", "max": "5", "step": "2"}}}),
     f"{OPS}[1].parameters[0].parameterType", "first parameter's feasibleSpace.list"),
]


@pytest.mark.parametrize("doc,path,phrase", INVALID, ids=[f"{i}-{c[1]}" for i, c in enumerate(INVALID)])
def test_a_broken_rule_names_its_field(doc, path, phrase):
    errors = _errors(doc)
    matching = [e for e in errors if e.startswith(path + ":")]
    assert matching, f"no error at {path}; got {errors}"
    assert any(phrase in e for e in matching), f"{phrase!r} not in {matching}"


def test_what_katib_accepts_is_accepted():
    """Not refused: darts's skip_connection without parameters (its service adds it as it
    is); an operation's int without a step for darts (only the filter sizes are read); an
    operation's distribution left out (Katib defaults it for spec.parameters only); the same
    size twice (32x32 images)."""
    load_experiment(darts())
    load_experiment(darts(**{"spec.nasConfig.operations.1.parameters": [
        {"name": "filter_size", "parameterType": "categorical", "feasibleSpace": {"list": ["3", "5"]}},
        {"name": "dilation", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "2"}},
    ]}))
    experiment = load_experiment(enas())
    assert experiment.spec.nas_config is not None and experiment.spec.nas_config.operations
    assert all(p.feasible_space.distribution is None for op in experiment.spec.nas_config.operations for p in op.parameters or [])
    assert experiment.spec.nas_config.graph_config is not None
    sizes = experiment.spec.nas_config.graph_config.input_sizes or []
    assert len(sizes) != len(set(sizes))


def test_enas_candidate_operations_are_bounded():
    """ENAS chooses among every combination of each operation's values; one int parameter with
    as many values as the bound is accepted, one more is refused."""
    def one_range(count: int) -> dict[str, Any]:
        return enas(**{"spec.nasConfig.operations": [{"operationType": "convolution", "parameters": [
            {"name": "num_filter", "parameterType": "int", "feasibleSpace": {"min": "1", "max": str(count), "step": "1"}},
        ]}]})
    load_experiment(one_range(MAX_ENAS_OPERATIONS))
    errors = _errors(one_range(MAX_ENAS_OPERATIONS + 1))
    assert [e.split(":")[0] for e in errors] == [OPS]
    assert "candidates" in errors[0]


def test_every_problem_is_reported_at_once():
    doc = enas(**{
        "spec.nasConfig.graphConfig.numLayers": 0,
        "spec.nasConfig.operations.2.parameters.0.feasibleSpace.list": [],
        "spec.algorithm.algorithmSettings": [{"name": "controller_hidden_size", "value": "0"}],
        "spec.trialTemplate.trialParameters.0.reference": "search-space",
    })
    paths = {e.split(":")[0] for e in _errors(doc)}
    assert {
        f"{GRAPH}.numLayers",
        f"{OPS}[2].parameters[0].feasibleSpace.list",
        f"{SETTINGS}[0].value",
        "spec.trialTemplate.trialParameters[0].reference",
    } <= paths


# ---------------------------------------------------------------- settings


def test_settings_have_katibs_names_and_defaults():
    for name, katib in (("enas", KATIB_ENAS_DEFAULTS), ("darts", KATIB_DARTS_DEFAULTS)):
        values, problems = parse_settings(ALGORITHMS[name], [], SETTINGS)
        assert problems == []
        assert values == katib, name
    assert len(KATIB_DARTS_DEFAULTS) == 14  # the count the issue quotes from Katib's service


def test_every_darts_setting_is_accepted_as_katibs_examples_give_it():
    """All 14 at once, each as a string as Katib keeps it; ``None`` where Katib's check lets
    it through (batch_size)."""
    given = [{"name": key, "value": "None" if key == "batch_size" else str(value)} for key, value in KATIB_DARTS_DEFAULTS.items()]
    experiment = load_experiment(darts(**{"spec.algorithm.algorithmSettings": given}))
    assert experiment.spec.algorithm is not None
    assert experiment.spec.algorithm.settings() == {s["name"]: s["value"] for s in given}


# (algorithm, setting, value) Katib's services accept
ACCEPTED = [
    ("enas", "controller_baseline_decay", "1.0"),  # (0, 1]: the top is in
    ("enas", "controller_skip_target", "1"),
    ("enas", "controller_temperature", "None"),  # Katib's enableNoneSettingsList
    ("enas", "controller_tanh_const", "None"),
    ("enas", "controller_entropy_weight", "None"),
    ("enas", "controller_skip_weight", "None"),
    ("enas", "controller_hidden_size", "1"),
    ("enas", "controller_learning_rate", "0.5"),
    ("darts", "num_workers", "0"),  # >= 0
    ("darts", "w_lr", "0"),  # >= 0
    ("darts", "w_weight_decay", "0.0"),
    ("darts", "batch_size", "None"),
    ("darts", "num_nodes", "1"),
]
# (algorithm, setting, value, a phrase of the message) Katib's services refuse
REFUSED = [
    ("enas", "controller_baseline_decay", "1.5", "<= 1.0"),
    ("enas", "controller_baseline_decay", "0", "> 0.0"),
    ("enas", "controller_learning_rate", "None", "expected a number"),  # not in Katib's None list
    ("enas", "controller_temperature", "0", "> 0.0"),
    ("enas", "controller_hidden_size", "0", ">= 1"),
    ("enas", "controller_train_steps", "2.5", "integer"),
    ("enas", "controller_log_every_steps", "0", ">= 1"),
    ("darts", "num_epochs", "0", ">= 1"),
    ("darts", "num_epochs", "1.5", "integer"),
    ("darts", "w_lr", "-0.1", ">= 0.0"),
    ("darts", "alpha_weight_decay", "-1", ">= 0.0"),
    ("darts", "w_momentum", "fast", "expected a number"),
    ("darts", "batch_size", "0", ">= 1"),
    ("darts", "num_workers", "-1", ">= 0"),
    ("darts", "init_channels", "0", ">= 1"),
    ("darts", "stem_multiplier", "0", ">= 1"),
    ("darts", "print_step", "None", "integer"),
]


def _with_setting(algorithm: str, name: str, value: str) -> dict[str, Any]:
    doc = enas() if algorithm == "enas" else darts()
    doc["spec"]["algorithm"]["algorithmSettings"] = [{"name": name, "value": value}]
    return doc


@pytest.mark.parametrize("algorithm,name,value", ACCEPTED, ids=[f"{a}-{n}={v}" for a, n, v in ACCEPTED])
def test_setting_accepted(algorithm, name, value):
    load_experiment(_with_setting(algorithm, name, value))


@pytest.mark.parametrize("algorithm,name,value,phrase", REFUSED, ids=[f"{a}-{n}={v}" for a, n, v, _ in REFUSED])
def test_setting_refused_with_its_path(algorithm, name, value, phrase):
    errors = _errors(_with_setting(algorithm, name, value))
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{SETTINGS}[0].value: {name}: ")
    assert phrase in errors[0]


def test_an_unknown_setting_names_the_known_ones():
    """enas refuses a name it does not know (Katib's enas service: "Unknown Algorithm Setting
    name"); darts passes it on to its trial as Katib's darts service does (get_algorithm_settings)."""
    errors = _errors(_with_setting("enas", "num_epochs", "3"))  # darts's, not enas's
    assert len(errors) == 1 and "unknown setting 'num_epochs' for enas" in errors[0]
    assert all(name in errors[0] for name in ALGORITHMS["enas"].settings_by_name)
    load_experiment(_with_setting("darts", "num_epoch", "3"))  # no error


def test_validate_names_a_bad_setting_and_exits_2(tmp_path: Path, capsys):
    path = tmp_path / "darts.yaml"
    path.write_text(yaml.safe_dump(_with_setting("darts", "w_grad_clip", "-5")))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{SETTINGS}[0].value: w_grad_clip: expected a number >= 0.0, got -5.0"]


# ---------------------------------------------------------------- what trials may reference

NAS_VALUES = {"enas": {"architecture", "nn_config"}, "darts": {"algorithm-settings", "search-space", "num-layers"}}
"""What Katib's services assign each trial (their GetSuggestions: ParameterAssignment names)."""


def test_trial_parameters_reference_what_the_algorithm_gives():
    for name, build in (("enas", enas), ("darts", darts)):
        doc = build()
        referenced = {tp["reference"] for tp in doc["spec"]["trialTemplate"]["trialParameters"]}
        assert referenced == NAS_VALUES[name]  # Katib's examples reference all of them
        assert set(ALGORITHMS[name].trial_values) == NAS_VALUES[name]
        load_experiment(doc)


def test_trial_metadata_may_be_referenced_too():
    doc = enas()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "trialName", "reference": "${trialSpec.Name}"})
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"].append("--name=${trialParameters.trialName}")
    load_experiment(doc)


def test_another_algorithms_value_is_refused_saying_whose_it_is():
    errors = _errors(enas(**{"spec.trialTemplate.trialParameters.1.reference": "num-layers"}))
    assert errors == [
        "spec.trialTemplate.trialParameters[1].reference: 'num-layers' is what darts gives its trials, not 'enas': "
        "expected one of ['architecture', 'nn_config'] or a ${trialSpec.*} reference"
    ]


def test_an_unknown_reference_in_a_nas_experiment_lists_what_it_may_name():
    errors = _errors(darts(**{"spec.trialTemplate.trialParameters.2.reference": "layers"}))
    assert len(errors) == 1 and errors[0].startswith("spec.trialTemplate.trialParameters[2].reference: 'layers' is not a value")
    assert all(repr(value) in errors[0] for value in NAS_VALUES["darts"])


def test_a_nas_value_without_nas_config_is_refused():
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialParameters"][1]["reference"] = "architecture"
    errors = _errors(doc)
    assert len(errors) == 1
    assert errors[0].startswith("spec.trialTemplate.trialParameters[1].reference: 'architecture' is a value enas and regularized-evolution give their trials")
    assert "spec.nasConfig" in errors[0]


def test_a_nas_experiment_is_not_changed_by_loading():
    """Katib's mutating webhook defaults spec.parameters' distributions, not an operation's;
    nothing is added to nasConfig."""
    doc = darts()
    before = copy.deepcopy(doc["spec"]["nasConfig"])
    assert load_experiment(doc).to_dict()["spec"]["nasConfig"] == before
