"""A small DARTS supernet on scikit-learn's digits (Liu et al. 2019, "DARTS: Differentiable
Architecture Search"), driven by the three values Katib's darts suggestion gives a trial.

The formats, as Katib's darts service writes them (JSON with every ``"`` turned into ``'``):

- ``search-space``: the candidate operations, ``['separable_convolution_3x3',
  'max_pooling_3x3', 'skip_connection']``: each operation type of ``nasConfig`` with its
  ``filter_size`` values as ``_KxK``, and ``skip_connection`` alone.
- ``algorithm-settings``: Katib's 14 settings, defaults as numbers and the experiment's own
  values as strings (``'num_epochs': '3'``; ``None`` as ``null``).
- ``num-layers``: ``nasConfig.graphConfig.numLayers``, a string.

The network is Katib's trial's design: a 3x3 convolution stem, ``num-layers`` cells (a
reduction cell, stride 2 and twice the channels, at a third and two thirds of the depth; one
layer: a normal cell only; two: normal then reduction), global average pooling, a linear
classifier. Each cell has two inputs (the two cells before it) and ``num_nodes`` nodes; each node
sums a mixed operation on every earlier state, the softmax of its architecture weights (alpha)
blending all candidates plus ``none``. Weights train on one half of the digits with SGD (cosine
schedule down to ``w_lr_min``); alpha trains on the other half with Adam, on the gradient of the
validation loss after one virtual weight step (DARTS's second-order approximation, its Hessian
term by finite differences). The genotype keeps, for every node, the two incoming edges whose
best operation other than ``none`` has the largest alpha, as Katib's trial chooses them.

Operations beyond Katib's trial: any odd filter size, and ``convolution_KxK`` (ReLU, convolution,
batch norm). Everything random comes from ``seed``: a run is deterministic on CPU.
"""

from __future__ import annotations

import json
import math
import re
from collections import namedtuple
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.func import functional_call


@contextmanager
def plain_cpu_kernels() -> Iterator[None]:
    """oneDNN off inside, as it was outside afterwards. torch 2.13's oneDNN kernels corrupt the
    heap in the second-order gradient of :meth:`Search.alpha_step` on some AMD EPYC CPUs
    ("corrupted double-linked list", then SIGABRT); the plain CPU kernels are correct
    everywhere, and this small supernet loses little without oneDNN. The weight steps and the
    evaluation use the same kernels, so a search's numbers do not depend on which ran where.
    Scoped, not set at import: whatever else runs in the process (a test of another image)
    keeps its kernels. Not ``torch.backends.mkldnn.flags(enabled=False)``: that also resets
    oneDNN's other settings (deterministic, TF32) to its defaults while inside, and warns."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
"""Katib's genotype: printed as ``str(genotype)`` with the spaces removed."""

NONE = "none"
"""The zero operation every mixed edge has besides the search space; never in a genotype."""
SKIP = "skip_connection"
_SIZED = re.compile(r"^(?P<kind>separable_convolution|dilated_convolution|convolution|avg_pooling|max_pooling)_(?P<k>\d+)x(?P=k)$")

# Katib's darts defaults (pkg/suggestion/v1beta1/nas/darts/service.py), for values the trial is not given
DEFAULT_SETTINGS: dict[str, Any] = {
    "num_epochs": 50,
    "w_lr": 0.025,
    "w_lr_min": 0.001,
    "w_momentum": 0.9,
    "w_weight_decay": 3e-4,
    "w_grad_clip": 5.0,
    "alpha_lr": 3e-4,
    "alpha_weight_decay": 1e-3,
    "batch_size": 128,
    "num_workers": 4,
    "init_channels": 16,
    "print_step": 50,
    "num_nodes": 4,
    "stem_multiplier": 3,
}


def parse_katib_json(text: str) -> Any:
    """A value as Katib hands it to a trial: JSON with ``'`` for ``"``. Katib's examples write
    ``--flag="${trialParameters.x}"``: the ``sh -c`` Katib runs the command with removes the
    quotes, but a command run as exec form keeps them, so one surrounding pair is dropped too."""
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    parsed = json.loads(value.replace("'", '"'))
    if isinstance(parsed, str):
        parsed = json.loads(parsed)
    return parsed


@dataclass(frozen=True)
class Settings:
    """Katib's darts settings, parsed as its trial parses them (numbers or their strings)."""

    num_epochs: int
    w_lr: float
    w_lr_min: float
    w_momentum: float
    w_weight_decay: float
    w_grad_clip: float
    alpha_lr: float
    alpha_weight_decay: float
    batch_size: int | None
    """None (Katib's "None"): one batch of the whole split."""
    init_channels: int
    print_step: int
    num_nodes: int
    stem_multiplier: int

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Settings:
        values = {**DEFAULT_SETTINGS, **raw}
        try:
            batch = values["batch_size"]
            settings = cls(
                num_epochs=int(values["num_epochs"]),
                w_lr=float(values["w_lr"]),
                w_lr_min=float(values["w_lr_min"]),
                w_momentum=float(values["w_momentum"]),
                w_weight_decay=float(values["w_weight_decay"]),
                w_grad_clip=float(values["w_grad_clip"]),
                alpha_lr=float(values["alpha_lr"]),
                alpha_weight_decay=float(values["alpha_weight_decay"]),
                batch_size=None if batch in (None, "None") else int(batch),
                init_channels=int(values["init_channels"]),
                print_step=int(values["print_step"]),
                num_nodes=int(values["num_nodes"]),
                stem_multiplier=int(values["stem_multiplier"]),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"algorithm-settings: {exc}") from exc
        for name in ("num_epochs", "init_channels", "print_step", "num_nodes", "stem_multiplier"):
            if getattr(settings, name) < 1:
                raise ValueError(f"algorithm-settings: {name} must be at least 1, got {getattr(settings, name)}")
        if settings.batch_size is not None and settings.batch_size < 1:
            raise ValueError(f"algorithm-settings: batch_size must be at least 1, got {settings.batch_size}")
        return settings


def parse_search_space(raw: Sequence[Any]) -> list[str]:
    """The candidate operations; ValueError for a name this supernet cannot build."""
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"search-space must be a non-empty list of operation names, got {raw!r}")
    for name in raw:
        if not isinstance(name, str):
            raise ValueError(f"search-space: operation names are strings, got {name!r}")
        if name == SKIP:
            continue
        match = _SIZED.match(name)
        if match is None:
            raise ValueError(
                f"search-space: unknown operation {name!r} (known: skip_connection, and separable_convolution, dilated_convolution, "
                "convolution, avg_pooling, max_pooling with _KxK)"
            )
        if int(match["k"]) % 2 == 0:
            raise ValueError(f"search-space: {name!r}: filter sizes must be odd, so that a stride-1 edge keeps its input's size")
    if len(set(raw)) != len(raw):
        raise ValueError(f"search-space names an operation twice: {raw}")
    return list(raw)


class Zero(nn.Module):
    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :: self.stride, :: self.stride] * 0.0


class FactorizedReduce(nn.Module):
    """Halve height and width with two offset stride-2 1x1 convolutions (skip_connection on a
    reduction edge, and a cell's first input after a reduction cell)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.first = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.second = nn.Conv2d(c_in, c_out - c_out // 2, 1, stride=2, bias=False)
        self.bn = _batch_norm(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        return self.bn(torch.cat([self.first(x), self.second(F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1)))], dim=1))


def _batch_norm(channels: int, affine: bool = False) -> nn.Module:
    """Batch norm on the batch's own statistics, in training and evaluation alike: the blend of
    operations moves with alpha every step, so running averages would describe a network that
    no longer exists (and the validation accuracy, read in evaluation mode, would be chance)."""
    return nn.BatchNorm2d(channels, affine=affine, track_running_stats=False)


def _relu_conv_bn(c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> nn.Module:
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False), _batch_norm(c_out))


def _dil_conv(channels: int, kernel: int, stride: int, dilation: int) -> nn.Module:
    """ReLU, depthwise (dilated) convolution, pointwise convolution, batch norm."""
    padding = dilation * (kernel // 2)
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(channels, channels, kernel, stride, padding, dilation=dilation, groups=channels, bias=False),
        nn.Conv2d(channels, channels, 1, bias=False),
        _batch_norm(channels),
    )


def make_operation(name: str, channels: int, stride: int) -> nn.Module:
    """One candidate operation on an edge; every one maps (C, H, W) to (C, ceil(H/s), ceil(W/s))."""
    if name == NONE:
        return Zero(stride)
    if name == SKIP:
        return nn.Identity() if stride == 1 else FactorizedReduce(channels, channels)
    match = _SIZED.match(name)
    assert match is not None, name
    kind, k = match["kind"], int(match["k"])
    if kind in ("avg_pooling", "max_pooling"):
        pool: nn.Module = (
            nn.AvgPool2d(k, stride, k // 2, count_include_pad=False) if kind == "avg_pooling" else nn.MaxPool2d(k, stride, k // 2)
        )
        return nn.Sequential(pool, _batch_norm(channels))
    if kind == "convolution":
        return _relu_conv_bn(channels, channels, k, stride, k // 2)
    if kind == "dilated_convolution":
        return _dil_conv(channels, k, stride, dilation=2)
    return nn.Sequential(_dil_conv(channels, k, stride, dilation=1), _dil_conv(channels, k, 1, dilation=1))  # separable


class MixedOp(nn.Module):
    def __init__(self, primitives: Sequence[str], channels: int, stride: int):
        super().__init__()
        self.ops = nn.ModuleList(make_operation(p, channels, stride) for p in primitives)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return sum((w * op(x) for w, op in zip(weights, self.ops, strict=True)), torch.zeros(()))


class Cell(nn.Module):
    def __init__(self, primitives: Sequence[str], num_nodes: int, c_prev_prev: int, c_prev: int, channels: int, reduction: bool, reduction_prev: bool):
        super().__init__()
        self.reduction = reduction
        self.pre0 = FactorizedReduce(c_prev_prev, channels) if reduction_prev else _relu_conv_bn(c_prev_prev, channels, 1, 1, 0)
        self.pre1 = _relu_conv_bn(c_prev, channels, 1, 1, 0)
        self.edges = nn.ModuleList(
            nn.ModuleList(MixedOp(primitives, channels, 2 if reduction and j < 2 else 1) for j in range(2 + i)) for i in range(num_nodes)
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: Sequence[torch.Tensor]) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for node_edges, node_weights in zip(self.edges, weights, strict=True):
            assert isinstance(node_edges, nn.ModuleList)
            states.append(sum((edge(s, w) for edge, s, w in zip(node_edges, states, list(node_weights), strict=True)), torch.zeros(())))
        return torch.cat(states[2:], dim=1)


def is_reduction(layer: int, num_layers: int) -> bool:
    """Katib's placement: none for one layer, the second of two, else a third and two thirds in."""
    if num_layers == 1:
        return False
    if num_layers == 2:
        return layer == 1
    return layer in (num_layers // 3, 2 * num_layers // 3)


class Supernet(nn.Module):
    def __init__(self, primitives: Sequence[str], num_layers: int, settings: Settings, input_channels: int = 1, num_classes: int = 10):
        super().__init__()
        self.primitives = [*primitives, NONE]
        self.num_layers = num_layers
        self.num_nodes = settings.num_nodes
        stem = settings.stem_multiplier * settings.init_channels
        self.stem = nn.Sequential(nn.Conv2d(input_channels, stem, 3, padding=1, bias=False), _batch_norm(stem, affine=True))
        c_prev_prev, c_prev, channels = stem, stem, settings.init_channels
        self.cells = nn.ModuleList()
        reduction_prev = False
        for layer in range(num_layers):
            reduction = is_reduction(layer, num_layers)
            if reduction:
                channels *= 2
            self.cells.append(Cell(self.primitives, self.num_nodes, c_prev_prev, c_prev, channels, reduction, reduction_prev))
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, channels * self.num_nodes
        self.classifier = nn.Linear(c_prev, num_classes)
        ops = len(self.primitives)
        self.alpha_normal = nn.ParameterList(nn.Parameter(1e-3 * torch.randn(i + 2, ops)) for i in range(self.num_nodes))
        # as in Katib's trial: reduction alphas exist only when there is more than one layer
        self.alpha_reduce = nn.ParameterList(nn.Parameter(1e-3 * torch.randn(i + 2, ops)) for i in range(self.num_nodes if num_layers > 1 else 0))

    def alphas(self) -> list[nn.Parameter]:
        return [*self.alpha_normal, *self.alpha_reduce]

    def named_weights(self) -> dict[str, nn.Parameter]:
        """Every parameter but the architecture's: what SGD trains."""
        return {n: p for n, p in self.named_parameters() if not n.startswith(("alpha_normal.", "alpha_reduce."))}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        normal = [F.softmax(a, dim=-1) for a in self.alpha_normal]
        reduce = [F.softmax(a, dim=-1) for a in self.alpha_reduce]
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, reduce if cell.reduction else normal)
        return self.classifier(s1.mean(dim=(2, 3)))

    def genotype(self) -> Genotype:
        """Per node, the two strongest incoming edges, each with its strongest operation other
        than ``none`` (alpha as learned, before the softmax; strongest first)."""

        def parse(alphas: nn.ParameterList) -> list[list[tuple[str, int]]]:
            gene = []
            for edges in alphas:
                best, which = edges.detach()[:, :-1].max(dim=1)  # the last primitive is none
                strongest = torch.topk(best, 2).indices.tolist()
                gene.append([(self.primitives[int(which[e])], int(e)) for e in strongest])
            return gene

        concat = range(2, 2 + self.num_nodes)
        return Genotype(normal=parse(self.alpha_normal), normal_concat=concat, reduce=parse(self.alpha_reduce), reduce_concat=concat)


def genotype_text(genotype: Genotype) -> str:
    """As Katib's trial prints it: ``str`` of the named tuple without spaces."""
    return str(genotype).replace(" ", "")


def digits_halves() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_valid, y_valid): the digits as (N, 1, 8, 8) in [0, 1], split in two
    stratified halves the same way on every call: weights learn on the first, alpha on the second."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    x_train, x_valid, y_train, y_valid = train_test_split(images, digits.target, test_size=0.5, random_state=0, stratify=digits.target)
    return torch.from_numpy(x_train), torch.from_numpy(y_train), torch.from_numpy(x_valid), torch.from_numpy(y_valid)


class Search:
    """DARTS's bilevel optimization of one supernet: an alpha step, then a weight step, per batch."""

    def __init__(self, model: Supernet, settings: Settings, hessian_step: float = 0.01):
        """``hessian_step``: the finite differences move the weights this far (DARTS's
        epsilon = 0.01 / norm of the validation gradient, as in the paper and Katib's trial)."""
        self.model = model
        self.settings = settings
        self.hessian_step = hessian_step
        self.w_optim = torch.optim.SGD(model.named_weights().values(), settings.w_lr, momentum=settings.w_momentum, weight_decay=settings.w_weight_decay)
        self.alpha_optim = torch.optim.Adam(model.alphas(), settings.alpha_lr, betas=(0.5, 0.999), weight_decay=settings.alpha_weight_decay)
        self.schedule = torch.optim.lr_scheduler.CosineAnnealingLR(self.w_optim, settings.num_epochs, eta_min=settings.w_lr_min)

    def _loss(self, x: torch.Tensor, y: torch.Tensor, weights: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """The loss with these weights in place of the model's; batch norm's running statistics
        are updated on copies, so the extra passes of the alpha step leave them alone."""
        buffers = {n: b.clone() for n, b in self.model.named_buffers()}
        return F.cross_entropy(functional_call(self.model, {**(weights or {}), **buffers}, (x,)), y)

    @plain_cpu_kernels()
    def alpha_step(self, x_train: torch.Tensor, y_train: torch.Tensor, x_valid: torch.Tensor, y_valid: torch.Tensor, lr: float) -> None:
        """Alpha's gradient is the validation loss's after a virtual SGD step of the weights,
        w' = w - lr * (momentum buffer + grad + weight decay * w); its second-order term, a
        Hessian-vector product, by central finite differences of the training loss's gradient."""
        s = self.settings
        weights = self.model.named_weights()
        alphas = self.model.alphas()
        grads = torch.autograd.grad(self._loss(x_train, y_train), list(weights.values()))
        with torch.no_grad():
            virtual = {}
            for (name, w), g in zip(weights.items(), grads, strict=True):
                buffer = self.w_optim.state.get(w, {}).get("momentum_buffer")
                momentum = s.w_momentum * buffer if buffer is not None else torch.zeros_like(w)
                virtual[name] = (w - lr * (momentum + g + s.w_weight_decay * w)).requires_grad_()
        valid_loss = self._loss(x_valid, y_valid, virtual)
        found = torch.autograd.grad(valid_loss, [*alphas, *virtual.values()])
        d_alpha, d_weights = found[: len(alphas)], found[len(alphas) :]
        norm = torch.cat([d.reshape(-1) for d in d_weights]).norm()
        eps = self.hessian_step / max(float(norm), 1e-12)

        def shifted_alpha_grad(scale: float) -> tuple[torch.Tensor, ...]:
            moved = {name: w.detach() + scale * eps * d for (name, w), d in zip(weights.items(), d_weights, strict=True)}
            return torch.autograd.grad(self._loss(x_train, y_train, moved), alphas)

        plus, minus = shifted_alpha_grad(1.0), shifted_alpha_grad(-1.0)
        self.alpha_optim.zero_grad()
        for alpha, da, p, m in zip(alphas, d_alpha, plus, minus, strict=True):
            alpha.grad = da - lr * (p - m) / (2 * eps)
        self.alpha_optim.step()

    @plain_cpu_kernels()
    def weight_step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, int]:
        """One SGD step of the weights; (loss, correct predictions) on the batch."""
        self.w_optim.zero_grad()
        logits = self.model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        for alpha in self.model.alphas():  # the weight step moves weights only
            alpha.grad = None
        nn.utils.clip_grad_norm_(self.model.named_weights().values(), self.settings.w_grad_clip)
        self.w_optim.step()
        return float(loss.detach()), int((logits.argmax(1) == y).sum())


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    training_loss: float
    training_accuracy: float
    validation_loss: float
    validation_accuracy: float
    genotype: Genotype


def search(primitives: Sequence[str], num_layers: int, settings: Settings, *, seed: int, log: Any = None) -> Iterator[EpochResult]:
    """Run DARTS on the digits, yielding the scores and the genotype after every epoch. ``log``:
    called with progress lines every ``print_step`` batches. The global torch RNG is used under
    :func:`torch.random.fork_rng`, so a caller's random state is left as it was."""
    if num_layers < 1:
        raise ValueError(f"num-layers must be at least 1, got {num_layers}")
    x_train, y_train, x_valid, y_valid = digits_halves()
    batch = settings.batch_size or len(x_train)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Supernet(primitives, num_layers, settings)
        run = Search(model, settings)
        shuffle = torch.Generator().manual_seed(seed)
        for epoch in range(1, settings.num_epochs + 1):
            lr = float(run.schedule.get_last_lr()[0])
            model.train()
            train_order, valid_order = torch.randperm(len(x_train), generator=shuffle), torch.randperm(len(x_valid), generator=shuffle)
            steps = math.ceil(min(len(train_order), len(valid_order)) / batch)
            total_loss, correct, seen = 0.0, 0, 0
            for step in range(steps):
                t = train_order[step * batch : (step + 1) * batch]
                v = valid_order[step * batch : (step + 1) * batch]
                run.alpha_step(x_train[t], y_train[t], x_valid[v], y_valid[v], lr)
                loss, right = run.weight_step(x_train[t], y_train[t])
                total_loss, correct, seen = total_loss + loss * len(t), correct + right, seen + len(t)
                if log is not None and (step % settings.print_step == 0 or step == steps - 1):
                    log(f"Train: [{epoch}/{settings.num_epochs}] Step {step:03d}/{steps - 1:03d} Loss {total_loss / seen:.3f} Prec@1 {correct / seen:.1%}")
            run.schedule.step()
            model.eval()
            with torch.no_grad(), plain_cpu_kernels():
                logits = model(x_valid)
                valid_loss = float(F.cross_entropy(logits, y_valid))
                valid_accuracy = float((logits.argmax(1) == y_valid).float().mean())
            yield EpochResult(epoch, total_loss / seen, correct / seen, valid_loss, valid_accuracy, model.genotype())
