"""The architecture space of a nasConfig in Katib's ENAS terms: candidate operations numbered as
Katib's enas service numbers them, the ``architecture`` and ``nn_config`` strings exactly as it
writes them, and the enumeration the algorithms use to avoid repeats and find the last ones.

Every expected string here was written out by hand from reading Katib's
``pkg/suggestion/v1beta1/nas/enas/service.py`` and ``Operation.py`` (itertools.product over each
operation's parameters, the last varying fastest; ``json.dumps`` then ``"`` -> ``'``)."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest

from conftest import load_katib_example
from kfp_tune.algorithms import nas_space
from kfp_tune.algorithms.base import FinishedTrial, Suggestions
from kfp_tune.algorithms.nas_space import (
    NasSpace,
    candidate_operations,
    last_architectures,
    marked_architecture_repeats,
    unused_architecture,
    used_architectures,
)
from kfp_tune.core.spec import parse_experiment


def enas_cpu_config(**graph: Any) -> dict[str, Any]:
    """Katib's enas-cpu example's nasConfig as Problem.nas_config holds it, with graphConfig overrides."""
    config = parse_experiment(load_katib_example("nas_enas-cpu.yaml")).spec.nas_config
    assert config is not None
    out = copy.deepcopy(config.to_dict())
    out["graphConfig"].update(graph)
    return out


def small_config(num_layers: int, operations: int) -> dict[str, Any]:
    """``operations`` candidates: one convolution with that many filter sizes."""
    return {
        "graphConfig": {"numLayers": num_layers, "inputSizes": [8, 8, 1], "outputSizes": [10]},
        "operations": [
            {
                "operationType": "convolution",
                "parameters": [{"name": "filter_size", "parameterType": "categorical", "feasibleSpace": {"list": [str(k) for k in range(operations)]}}],
            }
        ],
    }


# ------------------------------------------------------------------------ Katib's numbering


# (id, type, params) read off the enas-cpu example by hand: convolution 3 x 5 x 2 = 30 (0-29),
# separable_convolution 3 x 5 x 2 x 2 = 60 (30-89), depthwise_convolution 3 x 2 x 2 = 12 (90-101),
# reduction 2 x range(2, 4) = 4 (102-105)
ENAS_CPU_OPERATIONS = [
    (0, "convolution", {"filter_size": "3", "num_filter": "32", "stride": "1"}),
    (1, "convolution", {"filter_size": "3", "num_filter": "32", "stride": "2"}),
    (2, "convolution", {"filter_size": "3", "num_filter": "48", "stride": "1"}),
    (10, "convolution", {"filter_size": "5", "num_filter": "32", "stride": "1"}),
    (29, "convolution", {"filter_size": "7", "num_filter": "128", "stride": "2"}),
    (30, "separable_convolution", {"filter_size": "3", "num_filter": "32", "stride": "1", "depth_multiplier": "1"}),
    (31, "separable_convolution", {"filter_size": "3", "num_filter": "32", "stride": "1", "depth_multiplier": "2"}),
    (67, "separable_convolution", {"filter_size": "5", "num_filter": "128", "stride": "1", "depth_multiplier": "2"}),
    (89, "separable_convolution", {"filter_size": "7", "num_filter": "128", "stride": "2", "depth_multiplier": "2"}),
    (90, "depthwise_convolution", {"filter_size": "3", "stride": "1", "depth_multiplier": "1"}),
    (101, "depthwise_convolution", {"filter_size": "7", "stride": "2", "depth_multiplier": "2"}),
    (102, "reduction", {"reduction_type": "max_pooling", "pool_size": 2}),
    (103, "reduction", {"reduction_type": "max_pooling", "pool_size": 3}),
    (104, "reduction", {"reduction_type": "avg_pooling", "pool_size": 2}),
    (105, "reduction", {"reduction_type": "avg_pooling", "pool_size": 3}),
]


def test_the_enas_cpu_example_has_katibs_106_candidates_in_its_order():
    space = NasSpace.from_config(enas_cpu_config())
    assert space.num_operations == 106
    assert (space.num_layers, space.input_sizes, space.output_sizes) == (1, (32, 32, 3), (10,))
    for opt_id, kind, params in ENAS_CPU_OPERATIONS:
        assert space.operations[opt_id].katib_dict() == {"opt_id": opt_id, "opt_type": kind, "opt_params": params}
        # the parameters keep the nasConfig's order, which the embedding's JSON shows
        assert list(space.operations[opt_id].katib_dict()["opt_params"]) == list(params)


def test_int_and_double_parameters_are_enumerated_as_katib_does():
    """int: range(min, max + 1, step); double: numpy's arange(min, max + step, step) (its float
    values, as json.dumps prints them), without a value past max. Where arange overshoots,
    Katib's ``del double_list[-1]`` raises (numpy arrays have no del); kfp-tune drops a value
    past max, and clips one that is max but for rounding (the catalogue counts it)."""
    operations = [
        {
            "operationType": "pool",
            "parameters": [
                {"name": "size", "parameterType": "int", "feasibleSpace": {"min": "2", "max": "7", "step": "2"}},
                {"name": "rate", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.5", "step": "0.2"}},  # arange: 0.5000000000000001
            ],
        },
        {"operationType": "drop", "parameters": [{"name": "p", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.3"}}]},
    ]
    candidates = candidate_operations(operations)
    assert [json.dumps(c.katib_dict()["opt_params"]) for c in candidates] == [
        '{"size": 2, "rate": 0.1}',
        '{"size": 2, "rate": 0.30000000000000004}',
        '{"size": 2, "rate": 0.5}',
        '{"size": 4, "rate": 0.1}',
        '{"size": 4, "rate": 0.30000000000000004}',
        '{"size": 4, "rate": 0.5}',
        '{"size": 6, "rate": 0.1}',
        '{"size": 6, "rate": 0.30000000000000004}',
        '{"size": 6, "rate": 0.5}',
        # arange(0, 1.3, 0.3) ends at 1.2 > 1, dropped
        '{"p": 0.0}',
        '{"p": 0.3}',
        '{"p": 0.6}',
        '{"p": 0.8999999999999999}',
    ]
    assert [c.opt_id for c in candidates] == list(range(13))
    assert {c.opt_type for c in candidates[:9]} == {"pool"} and candidates[9].opt_type == "drop"


def test_a_discrete_operation_parameter_is_refused_not_dropped():
    """Katib's Operation.py leaves a discrete parameter out of the combinations (and its service
    then fails): kfp-tune once skipped it, so it was never searched nor reached nn_config.
    Validation refuses it first; the space refuses it too, naming the parameter."""
    operations = copy.deepcopy(small_config(1, 2)["operations"])
    operations[0]["parameters"].append({"name": "stride", "parameterType": "discrete", "feasibleSpace": {"list": ["1", "2"]}})
    with pytest.raises(ValueError, match=r"'stride': parameterType 'discrete' .* expected categorical, int or double"):
        candidate_operations(operations)


@pytest.mark.parametrize(
    ("feasible_space", "key"),
    [({"min": "1", "max": "3"}, "step"), ({"min": "1", "max": "3", "step": ""}, "step"), ({"max": "3", "step": "1"}, "min")],
    ids=["step-missing", "step-empty", "min-missing"],
)
def test_an_int_operation_parameter_without_a_bound_names_it(feasible_space, key):
    """An int's values are range(min, max + 1, step): a bound left out or empty is named (validation
    says it first; a mutant that took a missing or empty one lived)."""
    config = small_config(1, 2)
    config["operations"][0]["parameters"].append({"name": "num_filter", "parameterType": "int", "feasibleSpace": feasible_space})
    with pytest.raises(ValueError, match=f"needs feasibleSpace.{key}"):
        NasSpace.from_config(config)


# ------------------------------------------------------------------------ the two strings


def test_one_layer_strings_are_katibs():
    space = NasSpace.from_config(enas_cpu_config())
    architecture = ((102,),)
    assert space.architecture_text(architecture) == "[[102]]"
    assert space.nn_config_text(architecture) == (
        "{'num_layers': 1, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': "
        "{'102': {'opt_id': 102, 'opt_type': 'reduction', 'opt_params': {'reduction_type': 'max_pooling', 'pool_size': 2}}}}"
    )
    assert space.nn_config_text(((67,),)) == (
        "{'num_layers': 1, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': "
        "{'67': {'opt_id': 67, 'opt_type': 'separable_convolution', 'opt_params': "
        "{'filter_size': '5', 'num_filter': '128', 'stride': '1', 'depth_multiplier': '2'}}}}"
    )


def test_several_layers_list_skips_per_layer_and_each_operation_once_in_first_use_order():
    space = NasSpace.from_config(enas_cpu_config(numLayers=3))
    architecture = ((29,), (102, 1), (29, 0, 1))
    assert space.architecture_text(architecture) == "[[29], [102, 1], [29, 0, 1]]"
    assert space.nn_config_text(architecture) == (
        "{'num_layers': 3, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': {"
        "'29': {'opt_id': 29, 'opt_type': 'convolution', 'opt_params': {'filter_size': '7', 'num_filter': '128', 'stride': '2'}}, "
        "'102': {'opt_id': 102, 'opt_type': 'reduction', 'opt_params': {'reduction_type': 'max_pooling', 'pool_size': 2}}}}"
    )
    assert space.assignment(architecture) == {"architecture": "[[29], [102, 1], [29, 0, 1]]", "nn_config": space.nn_config_text(architecture)}


def test_a_katib_trial_reads_the_strings_back():
    """Katib's trial (RunTrial.py) turns ' back into " and parses the JSON."""
    space = NasSpace.from_config(enas_cpu_config(numLayers=2))
    assignment = space.assignment(((90,), (104, 1)))
    assert json.loads(str(assignment["architecture"]).replace("'", '"')) == [[90], [104, 1]]
    config = json.loads(str(assignment["nn_config"]).replace("'", '"'))
    assert config["num_layers"] == 2 and config["input_sizes"] == [32, 32, 3] and config["output_sizes"] == [10]
    assert config["embedding"]["104"] == {"opt_id": 104, "opt_type": "reduction", "opt_params": {"reduction_type": "avg_pooling", "pool_size": 2}}
    assert set(config["embedding"]) == {"90", "104"}


def test_parse_is_the_inverse_and_refuses_what_is_not_an_architecture_of_the_space():
    space = NasSpace.from_config(enas_cpu_config(numLayers=3))
    architecture = ((5,), (105, 0), (0, 1, 1))
    assert space.parse(space.architecture_text(architecture)) == architecture
    assert space.parse('[[5],[105,0],[0,1,1]]') == architecture  # spacing does not matter
    for text in ("[[5], [105, 0]]", "[[5], [106, 0], [0, 1, 1]]", "[[5], [105, 2], [0, 1, 1]]", "[[5], [105], [0, 1, 1]]", "[[5], [105, true], [0, 1, 1]]", "not json", "{}"):
        with pytest.raises(ValueError):
            space.parse(text)
    assert space.architecture_of({"architecture": "[[1]]"}) is None
    assert space.architecture_of({"architecture": space.architecture_text(architecture)}) == architecture


def test_from_config_refuses_a_graph_without_layers_or_operations():
    with pytest.raises(ValueError, match="numLayers"):
        NasSpace.from_config({"graphConfig": {"inputSizes": [1], "outputSizes": [1]}, "operations": small_config(1, 2)["operations"]})
    with pytest.raises(ValueError, match="operation"):
        NasSpace.from_config({"graphConfig": {"numLayers": 2}, "operations": []})
    with pytest.raises(ValueError, match="nasConfig"):
        NasSpace.from_config(None)


# ------------------------------------------------------------------------ enumeration


def test_size_counts_every_operation_choice_and_skip_bit():
    # 3 layers of 4 operations and the 3 skip bits (layer 1: one, layer 2: two): 4**3 * 2**3
    space = NasSpace.from_config(small_config(3, 4))
    assert space.size == 512 and space.num_skips == 3
    everything = {space.architecture_text(space.at(i)) for i in range(space.size)}
    assert len(everything) == 512
    for i in (0, 1, 255, 511):
        assert space.index(space.at(i)) == i
    assert NasSpace.from_config(enas_cpu_config(numLayers=12)).size == 106**12 * 2**66


def test_used_architectures_reads_history_and_pending_in_canonical_form():
    space = NasSpace.from_config(small_config(2, 3))
    history = [
        FinishedTrial("a", {"architecture": "[[1],[0,1]]", "nn_config": "x"}, "Succeeded", 0.5),
        FinishedTrial("b", {"architecture": "[[9], [0, 1]]", "nn_config": "x"}, "Failed"),  # not of this space
    ]
    assert used_architectures(space, history, [{"architecture": "[[2], [2, 0]]", "nn_config": "y"}]) == {"[[1], [0, 1]]", "[[2], [2, 0]]"}


def test_the_last_architectures_are_found_and_the_end_is_said():
    space = NasSpace.from_config(small_config(2, 2))  # 2 * 2 * 2 = 8
    used = {space.architecture_text(space.at(i)) for i in range(5)}
    rng = np.random.default_rng(0)
    assert last_architectures(space, used, 2, rng) is None  # 3 left, 2 asked
    three = last_architectures(space, used, 3, rng)
    assert three is not None and three.exhausted
    assert {a["architecture"] for a in three.assignments} == {space.architecture_text(space.at(i)) for i in (5, 6, 7)}
    assert last_architectures(space, used, 4, rng).assignments.__len__() == 3  # type: ignore[union-attr]


def test_a_space_of_many_layers_is_too_big_to_list_without_building_its_size(monkeypatch):
    """100,000 layers: 2 ** (L(L-1)/2) architectures, an integer of gigabytes that once exhausted
    memory at the first suggestion. Whether the space can be listed is decided on logarithms;
    its exact size is built only where that says it is small."""

    def refused(self):
        raise AssertionError("NasSpace.size built for a space too big to list")

    monkeypatch.setattr(NasSpace, "size", property(refused))
    huge = NasSpace.from_config(small_config(10**5, 2))
    assert huge.size_at_most(nas_space.ENUMERATION_LIMIT) is None
    assert last_architectures(huge, set(), 1, np.random.default_rng(0)) is None
    # just above the limit by a little (2 * 2**16 = 131,072): refused on the exact count, so no
    # rounding of the logarithms decides it
    monkeypatch.undo()
    above = NasSpace.from_config(small_config(1, 131_072))
    assert above.size_at_most(131_071) is None and above.size_at_most(131_072) == 131_072


def test_the_sequential_scan_finds_the_one_unused_architecture(monkeypatch):
    """Past the draws (none here), the scan from a random start takes the next unused
    architecture, and marks it used (mutants that skipped either lived)."""
    monkeypatch.setattr(nas_space, "MAX_DRAWS", 0)
    space = NasSpace.from_config(small_config(2, 3))
    used = {space.architecture_text(space.at(i)) for i in range(space.size) if i != 7}
    found = unused_architecture(space, used, np.random.default_rng(0))
    assert found == space.at(7)
    assert space.architecture_text(found) in used


def test_unused_architecture_falls_back_when_the_proposal_only_repeats():
    """A proposal stuck on a used architecture, in a space too big to list, with every
    architecture but one used nearby: the fallbacks still find a new one."""
    space = NasSpace.from_config(small_config(2, 3))
    stuck = space.at(0)
    used = {space.architecture_text(space.at(i)) for i in range(space.size) if i != 7}
    found = unused_architecture(space, used, np.random.default_rng(1), lambda: stuck)
    assert found == space.at(7)
    assert space.architecture_text(found) in used  # taken now
    with pytest.raises(ValueError, match="every architecture"):
        unused_architecture(space, used, np.random.default_rng(1), lambda: stuck)


def test_only_an_architecture_given_back_is_marked_a_repeat():
    """A suggestion is marked ``repeats`` when it gives again the architecture of a trial given
    back (in canonical form, whatever the spacing), not when it is new beside one."""
    space = NasSpace.from_config(small_config(2, 3))
    history = [
        FinishedTrial("a", {"architecture": "[[1],[0,1]]", "nn_config": "x"}, "Killed", given_back=True),
        FinishedTrial("b", {"architecture": "[[2], [2, 0]]", "nn_config": "x"}, "Succeeded", 0.5),
    ]
    new = Suggestions([{"architecture": "[[0], [1, 1]]", "nn_config": "x"}])
    assert not marked_architecture_repeats(space, new, history).repeats
    again = Suggestions([{"architecture": "[[0], [1, 1]]", "nn_config": "x"}, {"architecture": "[[1], [0, 1]]", "nn_config": "x"}])
    assert marked_architecture_repeats(space, again, history).repeats
