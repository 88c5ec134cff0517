"""An ENAS child network on scikit-learn's digits, built from Katib's ``architecture`` and
``nn_config`` (the two values Katib's enas suggestion gives every trial).

The formats, as Katib's enas service writes them (JSON with every ``"`` turned into ``'``):

- ``architecture``: one list per layer; layer ``i`` (from 0) is ``[op, s_0, ..., s_{i-1}]``:
  ``op`` is a key of the embedding, and ``s_j == 1`` feeds the output of node ``j`` (node 0 is
  the input image, node ``j`` the ``j``-th layer) into layer ``i`` besides the layer just before
  it, which always feeds it.
- ``nn_config``: ``{'num_layers': n, 'input_sizes': [H, W, C], 'output_sizes': [classes],
  'embedding': {'<op>': {'opt_id': op, 'opt_type': ..., 'opt_params': {...}}}}``, where the
  embedding names only the operations the architecture uses; categorical parameter values are
  strings, int ones numbers.

A layer is built as Katib's trial builds it: its inputs are concatenated on the channel axis
(smaller ones zero-padded to the largest height and width first), then ``convolution``,
``separable_convolution`` and ``depthwise_convolution`` are ReLU, convolution with "same"
padding, batch norm; ``reduction`` is max or average pooling with "valid" padding (the identity
when the input is too small to pool). The network ends in global average pooling and a dense
layer. Two differences, both deliberate: the operation's parameters are read from
``opt_params`` (Katib's op library looks them up one level too high, so its trial always builds
its defaults), and pooling an input smaller than the window gives the identity instead of a
shape error.

Trains with Adam on a fixed split of ``load_digits`` (8x8x1 images, 10 classes; resized when
input_sizes says otherwise); everything random comes from ``seed``, so a call is deterministic
on CPU.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

DIGITS_INPUT = (8, 8, 1)
"""(height, width, channels) of ``load_digits``'s images: what nn_config's input_sizes must say."""
DIGITS_CLASSES = 10
SPLIT_SEED = 0
"""The train/validation split never moves with ``seed``: two architectures are scored on the same images."""
VALIDATION_FRACTION = 0.25

OPERATION_TYPES = ("convolution", "separable_convolution", "depthwise_convolution", "reduction")
# Katib's op library: the values an operation gets when its parameters do not name them.
CONVOLUTION_DEFAULTS = {"num_filter": 64, "filter_size": 3, "stride": 1, "depth_multiplier": 1}


def parse_katib_json(text: str) -> Any:
    """A value as Katib hands it to a trial: JSON with ``'`` for ``"``. Katib's examples write
    ``--flag="${trialParameters.x}"``: the ``sh -c`` Katib runs the command with removes the
    quotes, but a command run as exec form keeps them, so one surrounding pair is dropped too."""
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    parsed = json.loads(value.replace("'", '"'))
    if isinstance(parsed, str):  # the whole value was quoted once more: '[[0]]'
        parsed = json.loads(parsed)
    return parsed


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the child: which operation, with what parameters, fed by which nodes."""

    index: int
    """1 for the first layer; node 0 is the input."""
    operation: int
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[int, ...] = ()
    """Nodes concatenated into this layer: the previous one first, then the skip connections."""

    def describe(self) -> str:
        params = ", ".join(f"{k} {v}" for k, v in sorted(self.params.items()))
        return f"layer {self.index}: {self.kind} ({params}) <- nodes {list(self.inputs)}"


@dataclass(frozen=True)
class ChildSpec:
    input_sizes: tuple[int, int, int]
    num_classes: int
    layers: tuple[LayerSpec, ...]


def parse_child(architecture: str | Sequence[Any], nn_config: str | dict[str, Any]) -> ChildSpec:
    """The child's layers from Katib's two values (strings as the trial gets them, or parsed);
    ValueError, naming what is wrong, for values Katib's enas would never send."""
    arch = parse_katib_json(architecture) if isinstance(architecture, str) else architecture
    config = parse_katib_json(nn_config) if isinstance(nn_config, str) else nn_config
    if not isinstance(config, dict):
        raise ValueError(f"nn_config must be a JSON object, got {type(config).__name__}")
    try:
        num_layers = int(config["num_layers"])
        input_sizes = [int(v) for v in config["input_sizes"]]
        output_sizes = [int(v) for v in config["output_sizes"]]
        embedding = config["embedding"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"nn_config needs num_layers, input_sizes, output_sizes and embedding: {exc!r}") from exc
    if len(input_sizes) != 3:
        raise ValueError(f"nn_config input_sizes must be [height, width, channels], got {input_sizes}")
    if not output_sizes:
        raise ValueError("nn_config output_sizes is empty")
    if not isinstance(arch, list) or len(arch) != num_layers:
        raise ValueError(f"architecture must be a list of {num_layers} layers (nn_config num_layers), got {arch!r}")
    layers = []
    for i, entry in enumerate(arch):
        if not isinstance(entry, list) or len(entry) != i + 1 or not all(isinstance(v, int) for v in entry):
            raise ValueError(f"architecture layer {i} must be [operation, {i} skip bits], got {entry!r}")
        operation, skips = entry[0], entry[1:]
        if any(bit not in (0, 1) for bit in skips):
            raise ValueError(f"architecture layer {i}: skip connections are 0 or 1, got {skips}")
        described = embedding.get(str(operation))
        if not isinstance(described, dict):
            raise ValueError(f"architecture layer {i} uses operation {operation}, which nn_config's embedding does not describe")
        kind = described.get("opt_type")
        if kind not in OPERATION_TYPES:
            raise ValueError(f"operation {operation}: unknown opt_type {kind!r} (known: {', '.join(OPERATION_TYPES)})")
        inputs = (i, *(j for j, bit in enumerate(skips) if bit == 1))
        layers.append(LayerSpec(i + 1, operation, kind, dict(described.get("opt_params") or {}), inputs))
    height, width, channels = input_sizes
    return ChildSpec((height, width, channels), output_sizes[-1], tuple(layers))


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same": the output is ceil(size / stride), the odd pixel of padding after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _int_param(params: dict[str, Any], name: str) -> int:
    return int(params.get(name, CONVOLUTION_DEFAULTS[name]))


class Layer(nn.Module):
    """Concatenate the inputs (zero-padded to one size), then the layer's operation."""

    def __init__(self, spec: LayerSpec, shapes: Sequence[tuple[int, int, int]]):
        super().__init__()
        self.inputs = spec.inputs
        chosen = [shapes[n] for n in spec.inputs]
        height, width = max(s[1] for s in chosen), max(s[2] for s in chosen)
        # F.pad's order: (left, right, top, bottom); an odd pixel goes after, as in Katib's concat
        self.pads = [((width - w) // 2, width - w - (width - w) // 2, (height - h) // 2, height - h - (height - h) // 2) for _, h, w in chosen]
        channels = sum(s[0] for s in chosen)
        self.op, self.out_shape = _operation(spec, channels, height, width)

    def forward(self, nodes: list[torch.Tensor]) -> torch.Tensor:
        parts = [F.pad(nodes[n], pad) if any(pad) else nodes[n] for n, pad in zip(self.inputs, self.pads, strict=True)]
        x = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        return self.op(x)


def _operation(spec: LayerSpec, channels: int, height: int, width: int) -> tuple[nn.Module, tuple[int, int, int]]:
    """The layer's operation on a (channels, height, width) input, and its output's shape."""
    p = spec.params
    if spec.kind == "reduction":
        pool = int(p.get("pool_size", 2))
        stride = int(p["stride"]) if p.get("stride") not in (None, "None") else pool
        if height < pool or width < pool or height == 1 or width == 1:
            return nn.Identity(), (channels, height, width)
        kind = str(p.get("reduction_type", "max_pooling"))
        if kind not in ("max_pooling", "avg_pooling"):
            raise ValueError(f"layer {spec.index}: reduction_type must be max_pooling or avg_pooling, got {kind!r}")
        layer = nn.MaxPool2d(pool, stride) if kind == "max_pooling" else nn.AvgPool2d(pool, stride)
        return layer, (channels, (height - pool) // stride + 1, (width - pool) // stride + 1)
    kernel, stride = _int_param(p, "filter_size"), _int_param(p, "stride")
    top, bottom = _same_padding(height, kernel, stride)
    left, right = _same_padding(width, kernel, stride)
    if spec.kind == "convolution":
        out = _int_param(p, "num_filter")
        conv: nn.Module = nn.Conv2d(channels, out, kernel, stride)
    elif spec.kind == "separable_convolution":
        out, depth = _int_param(p, "num_filter"), _int_param(p, "depth_multiplier")
        conv = nn.Sequential(nn.Conv2d(channels, channels * depth, kernel, stride, groups=channels, bias=False), nn.Conv2d(channels * depth, out, 1))
    else:  # depthwise_convolution
        out = channels * _int_param(p, "depth_multiplier")
        conv = nn.Conv2d(channels, out, kernel, stride, groups=channels)
    block = nn.Sequential(nn.ReLU(), nn.ZeroPad2d((left, right, top, bottom)), conv, nn.BatchNorm2d(out))
    return block, (out, -(-height // stride), -(-width // stride))


class ChildNetwork(nn.Module):
    """The child: its layers over the input node, global average pooling, a dense layer."""

    def __init__(self, spec: ChildSpec):
        super().__init__()
        self.spec = spec
        height, width, channels = spec.input_sizes
        shapes = [(channels, height, width)]
        self.layers = nn.ModuleList()
        for layer_spec in spec.layers:
            layer = Layer(layer_spec, shapes)
            self.layers.append(layer)
            shapes.append(layer.out_shape)
        self.shapes = shapes
        self.head = nn.Linear(shapes[-1][0], spec.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for layer in self.layers:
            nodes.append(layer(nodes))
        return self.head(nodes[-1].mean(dim=(2, 3)))

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build_child(architecture: str | Sequence[Any], nn_config: str | dict[str, Any]) -> ChildNetwork:
    """The child network for these two values, with PyTorch's default initialization (seed it first)."""
    return ChildNetwork(parse_child(architecture, nn_config))


def digits_split(input_sizes: Sequence[int] = DIGITS_INPUT) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_valid, y_valid): the digits as (N, C, H, W) floats in [0, 1], split
    the same way on every call. Other input sizes than the digits' 8x8x1 (Katib's examples say
    CIFAR-10's 32x32x3) get the digits resized and their one channel repeated, so a Katib
    experiment runs unchanged with this trial."""
    height, width, channels = input_sizes
    digits = load_digits()
    images = torch.from_numpy((digits.images / 16.0).astype(np.float32)[:, None, :, :])
    if (height, width) != DIGITS_INPUT[:2]:
        images = F.interpolate(images, size=(height, width), mode="bilinear", align_corners=False)
    images = images.repeat(1, channels, 1, 1)
    train_index, valid_index = train_test_split(
        np.arange(len(images)), test_size=VALIDATION_FRACTION, random_state=SPLIT_SEED, stratify=digits.target
    )
    labels = torch.from_numpy(digits.target)
    return images[train_index], labels[train_index], images[valid_index], labels[valid_index]


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    training_loss: float
    training_accuracy: float
    validation_loss: float
    validation_accuracy: float


def train_child_epochs(
    architecture: str | Sequence[Any],
    nn_config: str | dict[str, Any],
    *,
    epochs: int,
    seed: int,
    batch_size: int = 32,
    learning_rate: float = 3e-3,
) -> Iterator[EpochResult]:
    """Train the child (Adam, cosine learning-rate decay), yielding its scores after every epoch. The global torch RNG is used
    under :func:`torch.random.fork_rng`, so a caller's own random state is left as it was."""
    spec = parse_child(architecture, nn_config)
    if spec.num_classes < DIGITS_CLASSES or min(spec.input_sizes) < 1:
        raise ValueError(
            f"this trial trains on scikit-learn's digits ({DIGITS_CLASSES} classes): nn_config's output_sizes must end in at least "
            f"{DIGITS_CLASSES} and its input_sizes be positive, got {list(spec.input_sizes)} and [{spec.num_classes}]"
        )
    x_train, y_train, x_valid, y_valid = digits_split(spec.input_sizes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ChildNetwork(spec)
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        # cosine decay to zero over the run: the last epoch's score, the one reported, is settled rather than one noisy step
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
        shuffle = torch.Generator().manual_seed(seed)
        for epoch in range(1, epochs + 1):
            model.train()
            order = torch.randperm(len(x_train), generator=shuffle)
            total_loss, correct = 0.0, 0
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                logits = model(x_train[batch])
                loss = F.cross_entropy(logits, y_train[batch])
                loss.backward()
                optimizer.step()
                total_loss += float(loss.detach()) * len(batch)
                correct += int((logits.argmax(1) == y_train[batch]).sum())
            schedule.step()
            model.eval()
            with torch.no_grad():
                logits = model(x_valid)
                valid_loss = float(F.cross_entropy(logits, y_valid))
                valid_accuracy = float((logits.argmax(1) == y_valid).float().mean())
            yield EpochResult(epoch, total_loss / len(order), correct / len(order), valid_loss, valid_accuracy)


def train_child(architecture: str, nn_config: str, *, epochs: int, seed: int) -> float:
    """Validation accuracy of the child after ``epochs`` epochs on the digits: what the enas
    controller is rewarded with."""
    accuracy = 0.0
    for result in train_child_epochs(architecture, nn_config, epochs=epochs, seed=seed):
        accuracy = result.validation_accuracy
    return accuracy
