"""The neural architecture search example trials, images/enas-digits and images/darts-digits,
driven with the values in Katib's exact formats. The strings below are written by hand from
Katib's suggestion services (pkg/suggestion/v1beta1/nas/enas/service.py and
nas/darts/service.py: ``json.dumps`` of what they build, every ``"`` then turned into ``'``), for
the search spaces of the two examples' experiment.yaml, so a trial that reads them reads what
Katib's enas and darts would send."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from conftest import REPO, folder_module
from kfp_tune.collectors.stdout import parse_metric_lines, parse_output
from kfp_tune.core.loading import load_experiment

torch = pytest.importorskip("torch", reason="the NAS example trials need the nas-examples extra (torch)")
pytest.importorskip("sklearn")

IMAGES = REPO / "images"
ENAS = IMAGES / "enas-digits"
DARTS = IMAGES / "darts-digits"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # the trial scripts train on one thread; in-process too


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=600)


# --- ENAS ----------------------------------------------------------------------------------------
# images/enas-digits/experiment.yaml's operations, expanded as Katib's enas does (every
# combination of an operation's parameter values, in the order listed, numbered from 0):
# 0-3 convolution (3,8) (3,16) (5,8) (5,16); 4-5 separable_convolution (3,8) (3,16);
# 6-9 reduction max 2, max 3, avg 2, avg 3. Categorical values are strings, int ones numbers.
CONV_3x3_16 = "'1': {'opt_id': 1, 'opt_type': 'convolution', 'opt_params': {'filter_size': '3', 'num_filter': '16', 'stride': '1'}}"
CONV_5x5_16 = "'3': {'opt_id': 3, 'opt_type': 'convolution', 'opt_params': {'filter_size': '5', 'num_filter': '16', 'stride': '1'}}"
SEP_3x3_16 = (
    "'5': {'opt_id': 5, 'opt_type': 'separable_convolution', 'opt_params': {'filter_size': '3', 'num_filter': '16', 'stride': '1', 'depth_multiplier': '1'}}"
)
MAX_POOL_2 = "'6': {'opt_id': 6, 'opt_type': 'reduction', 'opt_params': {'reduction_type': 'max_pooling', 'pool_size': 2}}"
AVG_POOL_2 = "'8': {'opt_id': 8, 'opt_type': 'reduction', 'opt_params': {'reduction_type': 'avg_pooling', 'pool_size': 2}}"


def nn_config(num_layers: int, *embedding: str) -> str:
    """Katib's nn_config for the digits: the embedding holds the operations the layers use, in
    the order the layers first use them."""
    return f"{{'num_layers': {num_layers}, 'input_sizes': [8, 8, 1], 'output_sizes': [10], 'embedding': {{{', '.join(embedding)}}}}}"


MIXED_ARCH = "[[1], [6, 0], [3, 1, 0], [5, 0, 1, 1]]"
MIXED_CONFIG = nn_config(4, CONV_3x3_16, MAX_POOL_2, CONV_5x5_16, SEP_3x3_16)
POOLING_ARCH = "[[6], [8, 0]]"
POOLING_CONFIG = nn_config(2, MAX_POOL_2, AVG_POOL_2)
CONV_ARCH = "[[1], [1, 0]]"
CONV_CONFIG = nn_config(2, CONV_3x3_16)


def test_enas_trial_takes_katibs_command_line_and_prints_what_the_collector_reads():
    """Katib's enas examples quote the values (``--architecture="${...}"``); run as an exec-form
    command the quotes reach the trial, which must still read them. Its output, read with the
    example experiment's own collector settings, gives a Validation-Accuracy per epoch, well
    above chance (0.1) for a network of convolutions."""
    result = _run(ENAS / "train.py", "--num_epochs=2", f'--architecture="{MIXED_ARCH}"', f'--nn_config="{MIXED_CONFIG}"')
    assert result.returncode == 0, result.stderr
    experiment = load_experiment(ENAS / "experiment.yaml")
    logs = parse_output(experiment, result.stdout)
    accuracy = [m.value for m in logs if m.name == "Validation-Accuracy"]
    loss = [m.value for m in logs if m.name == "Validation-Loss"]
    assert len(accuracy) == 2 and len(loss) == 2
    assert 0.5 < accuracy[-1] <= 1.0 and loss[-1] > 0
    # every layer as the architecture says: operation, and skip connections from earlier nodes
    described = [line for line in result.stdout.splitlines() if line.startswith("layer ")]
    assert [line.split(":")[1].split()[0] for line in described] == ["convolution", "reduction", "convolution", "separable_convolution"]
    assert [line.rsplit("<- nodes ", 1)[1] for line in described] == ["[0]", "[1]", "[2, 0]", "[3, 1, 2]"]


def test_enas_architecture_decides_the_layers_and_the_skip_connections():
    """Parameter counts worked out by hand: a 3x3 convolution to 16 filters has 9*16 weights per
    input channel, 16 biases, and its batch norm 32 parameters; the head 16*10 + 10. A skip
    connection from the input (node 0) adds one input channel to the second layer."""
    child = folder_module(ENAS, "child")
    plain = child.build_child(CONV_ARCH, CONV_CONFIG)
    skipped = child.build_child("[[1], [1, 1]]", CONV_CONFIG)
    first, head = 1 * 9 * 16 + 16 + 32, 16 * 10 + 10
    assert plain.parameter_count() == first + (16 * 9 * 16 + 16 + 32) + head
    assert skipped.parameter_count() == first + (17 * 9 * 16 + 16 + 32) + head
    # a pooling layer has no weights: only the head is left, on one channel
    pooling = child.build_child(POOLING_ARCH, POOLING_CONFIG)
    assert pooling.parameter_count() == 1 * 10 + 10
    kinds = [{type(m).__name__ for m in layer.modules()} for layer in pooling.layers]
    assert "MaxPool2d" in kinds[0] and "AvgPool2d" in kinds[1] and not any("Conv2d" in k for k in kinds)


def test_enas_skip_connection_pads_a_smaller_layer_to_the_larger_one():
    """Katib's concat: a pooled 4x4 layer joined by the 8x8 input is zero-padded to 8x8 and the
    channels stacked (1 + 1), so the convolution after them sees 2 channels at 8x8."""
    child = folder_module(ENAS, "child")
    config = nn_config(2, MAX_POOL_2, CONV_3x3_16)
    net = child.build_child("[[6], [1, 1]]", config)
    assert net.shapes == [(1, 8, 8), (1, 4, 4), (16, 8, 8)]
    conv = next(m for m in net.layers[1].modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.in_channels == 2
    assert net(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


def test_enas_the_architecture_changes_what_the_child_learns():
    """The controller's reward has to depend on its choices: two layers of pooling leave one
    channel to classify ten digits from, two convolutions learn them."""
    child = folder_module(ENAS, "child")
    convolutions = child.train_child("[[3], [3, 0]]", nn_config(2, CONV_5x5_16), epochs=2, seed=0)
    pooling = child.train_child(POOLING_ARCH, POOLING_CONFIG, epochs=2, seed=0)
    assert convolutions > 0.7 and pooling < 0.3


def test_enas_training_is_deterministic_for_a_seed_and_leaves_the_callers_random_state():
    child = folder_module(ENAS, "child")
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = list(child.train_child_epochs(MIXED_ARCH, MIXED_CONFIG, epochs=1, seed=4))
    assert torch.equal(torch.rand(3), expected_next)
    assert list(child.train_child_epochs(MIXED_ARCH, MIXED_CONFIG, epochs=1, seed=4)) == first
    other = list(child.train_child_epochs(MIXED_ARCH, MIXED_CONFIG, epochs=1, seed=5))
    assert other[0].validation_loss != first[0].validation_loss


@pytest.mark.parametrize(
    ("architecture", "config", "message"),
    [
        ("[[2]]", nn_config(1, CONV_3x3_16), "operation 2, which nn_config's embedding does not describe"),
        ("[[1], [1]]", CONV_CONFIG, "architecture layer 1 must be [operation, 1 skip bits]"),
        ("[[1]]", CONV_CONFIG, "must be a list of 2 layers"),
        ("[[1], [1, 2]]", CONV_CONFIG, "skip connections are 0 or 1"),
        ("[[1]", CONV_CONFIG, "error: "),
    ],
)
def test_enas_trial_refuses_values_katib_would_never_send(architecture, config, message, capsys):
    train = folder_module(ENAS, "train")
    assert train.main(["--num_epochs=1", f"--architecture={architecture}", f"--nn_config={config}"]) == 2
    out, err = capsys.readouterr()
    assert message in err and "Validation-Accuracy" not in out


# --- DARTS ---------------------------------------------------------------------------------------
# Katib's darts service: its 14 defaults as numbers, in its order, each setting the experiment
# gives replaced in place by the setting's string; the search space as operation_KxK names.
DARTS_SETTINGS = (
    "{'num_epochs': '2', 'w_lr': '0.05', 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, "
    "'alpha_lr': '0.01', 'alpha_weight_decay': 0.001, 'batch_size': '32', 'num_workers': 4, 'init_channels': '4', "
    "'print_step': 50, 'num_nodes': '2', 'stem_multiplier': '2'}"
)
ONE_EPOCH = DARTS_SETTINGS.replace("'num_epochs': '2'", "'num_epochs': '1'")
DARTS_SPACE = "['separable_convolution_3x3', 'dilated_convolution_3x3', 'max_pooling_3x3', 'avg_pooling_3x3', 'skip_connection']"
DARTS_PRIMITIVES = {"separable_convolution_3x3", "dilated_convolution_3x3", "max_pooling_3x3", "avg_pooling_3x3", "skip_connection"}


def parse_genotype(text: str) -> dict[str, Any]:
    """Katib's genotype string, ``Genotype(normal=[[('op',0),...],...],normal_concat=range(2,4),...)``,
    read with the Python parser: a call of Genotype with four keyword arguments."""
    call = ast.parse(text, mode="eval").body
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Genotype" and not call.args
    fields: dict[str, Any] = {}
    for keyword in call.keywords:
        value = keyword.value
        if isinstance(value, ast.Call):
            assert isinstance(value.func, ast.Name) and value.func.id == "range"
            fields[str(keyword.arg)] = range(*(ast.literal_eval(a) for a in value.args))
        else:
            fields[str(keyword.arg)] = ast.literal_eval(value)
    assert set(fields) == {"normal", "normal_concat", "reduce", "reduce_concat"}
    return fields


def _check_cells(cells: list[list[tuple[str, int]]], num_nodes: int) -> None:
    """Each node keeps two distinct incoming edges (from the cell's 2 inputs and earlier nodes),
    each with one primitive of the search space: never ``none``."""
    assert len(cells) == num_nodes
    for node, edges in enumerate(cells):
        assert len(edges) == 2 and len({e for _, e in edges}) == 2
        assert all(op in DARTS_PRIMITIVES and 0 <= edge < node + 2 for op, edge in edges)


@pytest.mark.long
def test_darts_trial_takes_katibs_command_line_and_prints_its_genotype():
    """Katib's darts examples quote all three values; the genotype line is read with the
    metricsFormat of the example experiment (Katib's, for a string metric)."""
    result = _run(DARTS / "train.py", f'--algorithm-settings="{DARTS_SETTINGS}"', f'--search-space="{DARTS_SPACE}"', '--num-layers="2"')
    assert result.returncode == 0, result.stderr
    accuracy = [m.value for m in parse_metric_lines(result.stdout.splitlines(), ["Validation-Accuracy"])]
    assert len(accuracy) == 2 and all(0.0 <= a <= 1.0 for a in accuracy) and accuracy[-1] > 0.4
    spec = yaml.safe_load((DARTS / "experiment.yaml").read_text())["spec"]
    (metrics_format,) = spec["metricsCollectorSpec"]["source"]["filter"]["metricsFormat"]
    found = [m.groups() for line in result.stdout.splitlines() for m in re.finditer(metrics_format, line)]
    assert len(found) == 1 and found[0][0] == spec["objective"]["objectiveMetricName"] == "Best-Genotype"
    genotype = parse_genotype(found[0][1])
    assert " " not in found[0][1]
    _check_cells(genotype["normal"], 2)
    _check_cells(genotype["reduce"], 2)  # two layers: the second is a reduction cell
    assert genotype["normal_concat"] == genotype["reduce_concat"] == range(2, 4)


def test_darts_one_layer_has_no_reduction_cell_as_in_katibs_trial():
    supernet = folder_module(DARTS, "supernet")
    settings = supernet.Settings.parse(supernet.parse_katib_json(ONE_EPOCH))
    results = list(supernet.search(["max_pooling_3x3", "skip_connection"], 1, settings, seed=0))
    text = supernet.genotype_text(results[-1].genotype)
    genotype = parse_genotype(text)
    assert genotype["reduce"] == [] and len(genotype["normal"]) == 2
    assert {op for node in genotype["normal"] for op, _ in node} <= {"max_pooling_3x3", "skip_connection"}


def test_darts_settings_take_katibs_defaults_and_strings():
    supernet = folder_module(DARTS, "supernet")
    settings = supernet.Settings.parse({"num_epochs": "3", "batch_size": None})
    assert settings.num_epochs == 3 and settings.batch_size is None
    # Katib's defaults, as its darts service documents them, for everything not given
    assert (settings.w_lr, settings.alpha_lr, settings.num_nodes, settings.init_channels, settings.stem_multiplier) == (0.025, 3e-4, 4, 16, 3)


@pytest.mark.parametrize(
    ("settings", "space", "layers", "message"),
    [
        (DARTS_SETTINGS, "['convolution_4x4']", "1", "filter sizes must be odd"),
        (DARTS_SETTINGS, "['lstm_3x3']", "1", "unknown operation 'lstm_3x3'"),
        (DARTS_SETTINGS.replace("'num_nodes': '2'", "'num_nodes': '0'"), DARTS_SPACE, "1", "num_nodes must be at least 1"),
        (DARTS_SETTINGS.replace("'num_epochs': '2'", "'num_epochs': 'two'"), DARTS_SPACE, "1", "algorithm-settings"),
        (DARTS_SETTINGS, DARTS_SPACE, "0", "num-layers must be at least 1"),
    ],
)
def test_darts_trial_refuses_what_it_cannot_build(settings, space, layers, message, capsys):
    train = folder_module(DARTS, "train")
    assert train.main([f"--algorithm-settings={settings}", f"--search-space={space}", f"--num-layers={layers}"]) == 2
    out, err = capsys.readouterr()
    assert message in err and "Best-Genotype" not in out


def _tiny_supernet(supernet: ModuleType, seed: int) -> tuple[Any, Any]:
    settings = supernet.Settings.parse({"num_nodes": "2", "init_channels": "2", "stem_multiplier": "1", "num_epochs": "1"})
    torch.manual_seed(seed)
    return supernet.Supernet(sorted(DARTS_PRIMITIVES), 2, settings), settings


def _batches(supernet: ModuleType, size: int = 32) -> tuple[Any, Any, Any, Any]:
    x_train, y_train, x_valid, y_valid = supernet.digits_halves()
    return x_train[:size], y_train[:size], x_valid[:size], y_valid[:size]


def test_darts_alpha_learns_on_the_held_out_half_and_the_weights_on_the_other():
    """The alpha step moves alpha only, the weight step the weights only (bilevel: neither
    step may leak into the other's variables)."""
    supernet = folder_module(DARTS, "supernet")
    model, settings = _tiny_supernet(supernet, seed=1)
    search = supernet.Search(model, settings)
    x_train, y_train, x_valid, y_valid = _batches(supernet)

    def snapshot() -> tuple[list[Any], list[Any]]:
        return [a.detach().clone() for a in model.alphas()], [w.detach().clone() for w in model.named_weights().values()]

    alphas0, weights0 = snapshot()
    search.alpha_step(x_train, y_train, x_valid, y_valid, lr=settings.w_lr)
    alphas1, weights1 = snapshot()
    assert all(torch.equal(a, b) for a, b in zip(weights0, weights1, strict=True))
    assert all(not torch.equal(a, b) for a, b in zip(alphas0, alphas1, strict=True))
    search.weight_step(x_train, y_train)
    alphas2, weights2 = snapshot()
    assert all(torch.equal(a, b) for a, b in zip(alphas1, alphas2, strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(weights1, weights2, strict=True))


@pytest.mark.parametrize("onednn", [True, False])
def test_darts_steps_leave_the_onednn_setting_as_they_found_it(onednn: bool, monkeypatch: pytest.MonkeyPatch):
    """The supernet turns oneDNN off for its own steps only (a heap corruption in alpha_step on
    some CPUs): switched off process-wide, it changed the kernels, hence the scores, of every
    other network trained later in the same process (the ENAS children in a test of their
    controller). Inside a step it is off either way, so a search computes the same numbers."""
    supernet = folder_module(DARTS, "supernet")
    model, settings = _tiny_supernet(supernet, seed=1)
    search = supernet.Search(model, settings)
    seen: list[bool] = []
    model.register_forward_pre_hook(lambda *_: seen.append(torch.backends.mkldnn.enabled))
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", onednn)
    search.alpha_step(*_batches(supernet), lr=settings.w_lr)
    search.weight_step(*_batches(supernet)[:2])
    assert torch.backends.mkldnn.enabled is onednn
    assert seen and not any(seen)


def test_darts_alpha_gradient_is_the_unrolled_validation_gradient():
    """DARTS's second-order gradient: d/d(alpha) of L_valid(w - xi * dL_train/dw, alpha),
    computed here exactly by differentiating through the virtual step (float64), must match
    the trial's, whose Hessian term is a central finite difference. With DARTS's own step (the
    weights moved by 0.01) the difference quotient is far off on a network this small (ReLU,
    pooling and batch norm bend sharply), so the formula is checked with a step that makes its
    error negligible."""
    from torch.func import functional_call

    supernet = folder_module(DARTS, "supernet")
    model, settings = _tiny_supernet(supernet, seed=2)
    model = model.double()
    search = supernet.Search(model, settings, hessian_step=1e-5)
    x_train, y_train, x_valid, y_valid = (t.double() if t.is_floating_point() else t for t in _batches(supernet))
    xi = 0.05
    weights = model.named_weights()
    alphas = model.alphas()
    train_loss = torch.nn.functional.cross_entropy(model(x_train), y_train)
    grads = torch.autograd.grad(train_loss, list(weights.values()), create_graph=True)
    virtual = {n: w - xi * (g + settings.w_weight_decay * w) for (n, w), g in zip(weights.items(), grads, strict=True)}
    valid_loss = torch.nn.functional.cross_entropy(functional_call(model, virtual, (x_valid,)), y_valid)
    exact = torch.cat([g.reshape(-1) for g in torch.autograd.grad(valid_loss, alphas)])
    first_order = torch.cat([g.reshape(-1) for g in torch.autograd.grad(torch.nn.functional.cross_entropy(model(x_valid), y_valid), alphas)])

    search.alpha_step(x_train, y_train, x_valid, y_valid, lr=xi)  # no momentum yet: the buffer is empty
    approximated = torch.cat([a.grad.reshape(-1) for a in alphas])
    assert torch.linalg.norm(approximated - exact) < 1e-5 * torch.linalg.norm(exact)
    # and the second-order term is really there: the first-order gradient is further off
    assert torch.linalg.norm(first_order - exact) > 10 * torch.linalg.norm(approximated - exact)


def test_darts_genotype_keeps_each_nodes_two_strongest_edges_and_never_none():
    supernet = folder_module(DARTS, "supernet")
    model, _ = _tiny_supernet(supernet, seed=3)
    primitives = model.primitives  # the search space (sorted) and none last
    assert primitives[-1] == "none" and "none" not in DARTS_PRIMITIVES
    sep, skip, maxp = (primitives.index(p) for p in ("separable_convolution_3x3", "skip_connection", "max_pooling_3x3"))
    with torch.no_grad():
        for alpha in model.alphas():
            alpha.zero_()
            alpha[:, -1] = 10.0  # none is the strongest everywhere, and must still never be chosen
        first, second = model.alpha_normal
        first[0, sep], first[1, skip] = 2.0, 3.0
        second[0, maxp], second[1, sep], second[2, skip] = 1.0, 0.5, 4.0
    genotype = model.genotype()
    assert genotype.normal == [[("skip_connection", 1), ("separable_convolution_3x3", 0)], [("skip_connection", 2), ("max_pooling_3x3", 0)]]
    assert list(genotype.normal_concat) == [2, 3]


def test_darts_search_is_deterministic_for_a_seed():
    supernet = folder_module(DARTS, "supernet")
    settings = supernet.Settings.parse(supernet.parse_katib_json(ONE_EPOCH))
    primitives = sorted(DARTS_PRIMITIVES)
    first = list(supernet.search(primitives, 1, settings, seed=7))
    assert list(supernet.search(primitives, 1, settings, seed=7)) == first
    (other,) = supernet.search(primitives, 1, settings, seed=8)
    assert other.validation_loss != first[0].validation_loss
