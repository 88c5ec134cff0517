"""An enas trial's two values as tables show them: the architecture in words, layer after layer,
with its skip connections' sources as Katib's example trial wires them, and nn_config (which
the words hold) left out; anything else shown as it is."""

from __future__ import annotations

import pytest
import yaml

from conftest import REPO
from kfp_tune.core.nas_values import ARCHITECTURE, NN_CONFIG, architecture_words, shown_assignment

CONFIG = (
    "{'num_layers': 3, 'input_sizes': [8, 8, 1], 'output_sizes': [10], 'embedding': "
    "{'4': {'opt_id': 4, 'opt_type': 'convolution', 'opt_params': {'filter_size': '5', 'num_filter': '16', 'stride': '1'}}, "
    "'9': {'opt_id': 9, 'opt_type': 'reduction', 'opt_params': {'reduction_type': 'max_pooling', 'pool_size': 2}}}}"
)


def test_each_layer_names_its_operation_and_its_skip_sources():
    # layer 3's bits are for node 0 (the input) and node 1 (layer 1); the layer before always feeds it
    assert architecture_words("[[4], [9, 0], [4, 1, 1]]", CONFIG) == (
        "1: convolution (filter_size 5, num_filter 16, stride 1); "
        "2: reduction (reduction_type max_pooling, pool_size 2); "
        "3: convolution (filter_size 5, num_filter 16, stride 1) + input, 1"
    )
    assert architecture_words("[[9], [4, 1], [9, 0, 1]]", CONFIG) == (
        "1: reduction (reduction_type max_pooling, pool_size 2); "
        "2: convolution (filter_size 5, num_filter 16, stride 1) + input; "
        "3: reduction (reduction_type max_pooling, pool_size 2) + 1"
    )


def test_the_words_follow_the_space_that_made_the_values():
    """The repository's enas example's space, every layer a different operation and every skip bit set."""
    from kfp_tune.algorithms.nas_space import NasSpace

    spec = yaml.safe_load((REPO / "images" / "enas-digits" / "experiment.yaml").read_text())["spec"]
    space = NasSpace.from_config(spec["nasConfig"])
    architecture = tuple((layer, *([1] * layer)) for layer in range(space.num_layers))
    words = architecture_words(**space.assignment(architecture)).split("; ")  # type: ignore[arg-type]
    assert len(words) == space.num_layers
    for layer, text in enumerate(words):
        assert text.startswith(f"{layer + 1}: {space.operations[layer].opt_type} (")
        assert text.endswith(")" if layer == 0 else " + " + ", ".join(["input", *map(str, range(1, layer))]))


@pytest.mark.parametrize(
    ("architecture", "config"),
    [
        ("[[4], [9, 0]", CONFIG),  # not JSON
        ("[[4], [9]]", CONFIG),  # layer 2 without its skip bit
        ("[[5]]", CONFIG),  # an operation the embedding does not describe
        ("[[4]]", "{'num_layers': 1}"),  # no embedding
        ("[]", CONFIG),
    ],
)
def test_values_that_are_not_katibs_forms_are_shown_as_they_are(architecture: str, config: str):
    assert architecture_words(architecture, config) is None
    assert shown_assignment({ARCHITECTURE: architecture, NN_CONFIG: config}) == {ARCHITECTURE: architecture, NN_CONFIG: config}


def test_an_enas_trials_nn_config_is_left_out_and_other_values_kept():
    shown = shown_assignment({ARCHITECTURE: "[[4]]", NN_CONFIG: CONFIG, "lr": "0.1"})
    assert shown == {ARCHITECTURE: "1: convolution (filter_size 5, num_filter 16, stride 1)", "lr": "0.1"}
    assert shown_assignment({"architecture": "resnet", "lr": "0.1"}) == {"architecture": "resnet", "lr": "0.1"}
