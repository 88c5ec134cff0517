"""ENAS (Pham et al. 2018) as Katib's enas suggestion runs it, in numpy: an LSTM controller
samples each layer's operation and its skip connections, and is trained with REINFORCE.

The controller is Katib's (``pkg/suggestion/v1beta1/nas/enas/Controller.py``), decision for
decision: an LSTM without biases (gates i, f, o, g) fed a learned start embedding; at each layer
one step gives the operation's logits (``h @ w_soft``, divided by ``controller_temperature``,
then ``controller_tanh_const * tanh``), a second step reads the chosen operation's embedding, and
from the second layer on an attention over the earlier layers' outputs gives one two-way logit
pair ``[-q, q]`` per earlier layer (the skip bits); the next layer's input is the mean of the
outputs it skips to (or the start embedding again after the first layer). Weights start
uniform in [-0.01, 0.01]. One training step is Katib's train op: reward = the trial's objective
(negated for minimize) plus ``controller_entropy_weight`` times the sample's entropy term (the
sum over decisions of ``-log p * p``, no gradient); the baseline moves towards it
(``b -= (1 - controller_baseline_decay) * (b - reward)``); the loss is ``-log p(arch) * (reward
- b)``, with the baseline just moved, plus ``controller_skip_weight`` times the mean over layers
of the KL term between the sigmoids of the skip logits and ``[1 - controller_skip_target,
controller_skip_target]``; one Adam step (TensorFlow 1's, at ``controller_learning_rate``).
``controller_train_steps`` such steps follow every finished trial; every
``controller_log_every_steps`` steps the step's loss, entropy, gradient norm, baseline and skip
rate are logged (at DEBUG).

Two deliberate differences. Each step is taken on the architecture the trial actually trained,
with that trial's result: Katib's service feeds the mean objective of all succeeded trials so
far as the reward of a *freshly sampled* architecture, so its gradient does not depend on which
architecture earned the reward and its controller cannot learn which ones are good. And when no
trial has succeeded yet, the untrained controller still samples (Katib's service returns no
suggestion once trials exist but none succeeded).

Nothing is kept between calls. The controller is rebuilt on every call by replaying the training
over the finished trials in trial order (Succeeded trials only, as Katib's service reads only
those; failed ones teach nothing), starting from weights drawn from ``problem.seed``: the same
history gives the same controller, so a resumed experiment suggests what an uninterrupted one
would. The replay is all numpy: one forward and one backward pass per training step, with the
weights and Adam's moments in single flat vectors.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.nas_space import (
    NasSpace,
    last_architectures,
    marked_architecture_repeats,
    succeeded,
    unused_architecture,
    used_architectures,
)
from kfp_tune.core.space import Value
from kfp_tune.core.vocabulary import ObjectiveType

log = logging.getLogger(__name__)

INIT_RANGE = 0.01
"""Katib's initializer: every weight uniform in [-INIT_RANGE, INIT_RANGE]."""
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8
"""tf.compat.v1.train.AdamOptimizer's defaults, which Katib's controller uses."""


@dataclass(frozen=True)
class ControllerSettings:
    """Katib's enas settings (parsed, with its defaults); None where Katib allows "None"."""

    hidden_size: int = 64
    temperature: float | None = 5.0
    tanh_const: float | None = 2.25
    entropy_weight: float | None = 1e-5
    baseline_decay: float = 0.999
    learning_rate: float = 5e-5
    skip_target: float = 0.4
    skip_weight: float | None = 0.8
    train_steps: int = 50
    log_every_steps: int = 10

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> ControllerSettings:
        """From ``problem.settings`` (``controller_*``); a setting left out takes Katib's default,
        one given as "None" (parsed to None) stays None."""
        given = {name: settings[f"controller_{name}"] for name in cls.__dataclass_fields__ if f"controller_{name}" in settings}
        return cls(**given)


@dataclass
class _Step:
    """One LSTM step's values, kept for the backward pass."""

    x: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    gates: np.ndarray  # i, f, o (after sigmoid) and g (after tanh), concatenated
    c: np.ndarray
    tanh_c: np.ndarray
    h: np.ndarray


@dataclass
class _Layer:
    op_step: _Step
    op_probs: np.ndarray
    op_slope: np.ndarray  # d logits / d raw logits
    op: int
    emb_step: _Step
    skips: np.ndarray | None = None  # the layer's skip bits (from the second layer on)
    attention: np.ndarray | None = None  # tanh(h_j @ w_1 + h @ w_2) for each earlier layer j
    skip_r: np.ndarray | None = None  # each pair's logit r, after temperature and tanh: the pair is [-r, r]
    skip_slope: np.ndarray | None = None  # d r / d q
    skip_kl_slope: np.ndarray | None = None  # d KL / d r


@dataclass
class Pass:
    """A forward pass over one architecture: what the loss needs, and what its gradient needs."""

    neg_log_prob: float
    """-log p(architecture): Katib's sample_log_probs (a sum of cross-entropies)."""
    entropy: float
    """Katib's sample_entropy: the sum over decisions of -log p * p."""
    skip_penalty: float
    """The mean over layers (from the second) of the KL term; 0 for a one-layer network."""
    skip_count: int
    layers: list[_Layer]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class Controller:
    """Katib's ENAS controller: weights, its sampler, its loss's gradient and its Adam trainer.

    Float32 by default, as Katib's TensorFlow variables are (half the memory traffic of the
    replay); float64 for checking the gradient against finite differences."""

    def __init__(self, num_layers: int, num_operations: int, settings: ControllerSettings, seed: int, dtype: type[np.floating[Any]] = np.float32):
        self.num_layers = num_layers
        self.dtype = dtype
        self.num_operations = num_operations
        self.settings = settings
        hidden = settings.hidden_size
        self.shapes: dict[str, tuple[int, ...]] = {  # Katib's variables (its [1, H] and [H, 1] as vectors)
            "w_lstm": (2 * hidden, 4 * hidden),
            "g_emb": (hidden,),
            "w_emb": (num_operations, hidden),
            "w_soft": (hidden, num_operations),
            "attn_w_1": (hidden, hidden),
            "attn_w_2": (hidden, hidden),
            "attn_v": (hidden,),
        }
        self.layout: list[tuple[str, int, int, tuple[int, ...]]] = []
        start = 0
        for name, shape in self.shapes.items():
            size = math.prod(shape)
            self.layout.append((name, start, start + size, shape))
            start += size
        self.theta = np.random.default_rng(seed).uniform(-INIT_RANGE, INIT_RANGE, start).astype(dtype)
        self.params = self._views(self.theta)
        self.adam_m = np.zeros(start, dtype)
        self.adam_v = np.zeros(start, dtype)
        self.train_step_count = 0
        self.baseline = 0.0
        self._gate_scale = np.repeat(np.array([0.5, 1.0], dtype), (3 * hidden, hidden))
        self._gate_shift = np.repeat(np.array([0.5, 0.0], dtype), (3 * hidden, hidden))
        targets = (1.0 - settings.skip_target, settings.skip_target)
        self.log_targets = (float(np.log(targets[0])), float(np.log(targets[1])))

    def _views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Named arrays that share the flat vector's memory."""
        return {name: flat[start:end].reshape(shape) for name, start, end, shape in self.layout}

    # --- the policy ---------------------------------------------------------------------------
    def _transform(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Katib's logits from raw ones (temperature, then tanh constant), and their slope."""
        temperature, tanh_const = self.settings.temperature, self.settings.tanh_const
        logits = raw / temperature if temperature is not None else raw
        scale = 1.0 / temperature if temperature is not None else 1.0
        if tanh_const is None:
            return logits, np.full_like(raw, scale)
        t = np.tanh(logits)
        return tanh_const * t, (scale * tanh_const) * (1.0 - t * t)

    def _lstm(self, x: np.ndarray, c: np.ndarray, h: np.ndarray) -> _Step:
        hidden = self.settings.hidden_size
        # i, f, o = sigmoid(z) = (1 + tanh(z / 2)) / 2 and g = tanh(z): one tanh for all four
        gates = np.tanh(np.concatenate((x, h)) @ self.params["w_lstm"] * self._gate_scale)
        gates *= self._gate_scale
        gates += self._gate_shift
        i, f, o, g = gates[:hidden], gates[hidden : 2 * hidden], gates[2 * hidden : 3 * hidden], gates[3 * hidden :]
        c_next = i * g + f * c
        tanh_c = np.tanh(c_next)
        return _Step(x, h, c, gates, c_next, tanh_c, o * tanh_c)

    def run(self, decisions: Sequence[int] | None = None, rng: np.random.Generator | None = None) -> tuple[list[int], Pass]:
        """One pass of the policy: scoring the given decisions (Katib's order: per layer the
        operation, then its skip bits), or sampling them with ``rng`` when none are given."""
        p = self.params
        hidden = self.settings.hidden_size
        c, h = np.zeros(hidden, self.dtype), np.zeros(hidden, self.dtype)
        x = p["g_emb"]
        chosen: list[int] = []
        layers: list[_Layer] = []
        outputs = np.empty((self.num_layers, hidden), self.dtype)  # each layer's h after its operation's embedding step
        keys = np.empty((self.num_layers, hidden), self.dtype)  # those, times attn_w_1
        neg_log_prob = entropy = penalty = 0.0
        skip_count = 0
        for layer_id in range(self.num_layers):
            op_step = self._lstm(x, c, h)
            c, h = op_step.c, op_step.h
            logits, slope = self._transform(h @ p["w_soft"])
            shifted = logits - logits.max()
            weights = np.exp(shifted)
            total = float(weights.sum())
            probs = weights / total
            if decisions is None:
                assert rng is not None
                op = min(int(np.searchsorted(np.cumsum(probs), rng.random() * probs.sum(), side="right")), self.num_operations - 1)
            else:
                op = int(decisions[len(chosen)])
            chosen.append(op)
            nll = float(np.log(total) - shifted[op])
            neg_log_prob += nll
            entropy += nll * np.exp(-nll)
            emb_step = self._lstm(p["w_emb"][op], c, h)
            c, h = emb_step.c, emb_step.h
            layer = _Layer(op_step, probs, slope, op, emb_step)
            if layer_id > 0:
                attention = np.tanh(keys[:layer_id] + h @ p["attn_w_2"])
                r, skip_slope = self._transform(attention @ p["attn_v"])
                if decisions is None:
                    assert rng is not None
                    bits = (rng.random(layer_id) < _sigmoid(2.0 * r)).astype(self.dtype)
                else:
                    bits = np.asarray(decisions[len(chosen) : len(chosen) + layer_id], dtype=self.dtype)
                chosen.extend(int(b) for b in bits)
                signed = (2.0 * bits - 1.0) * 2.0 * r  # the chosen logit minus the other one
                nlls = np.logaddexp(0.0, -signed)
                neg_log_prob += float(nlls.sum())
                entropy += float((nlls * np.exp(-nlls)).sum())
                log_on, log_off = -np.logaddexp(0.0, -r), -np.logaddexp(0.0, r)  # log sigmoid(q), log sigmoid(-q)
                kl_on, kl_off = log_on - self.log_targets[1], log_off - self.log_targets[0]
                penalty += float((np.exp(log_off) * kl_off + np.exp(log_on) * kl_on).sum())
                skip_count += int(bits.sum())
                layer.skips, layer.attention, layer.skip_r, layer.skip_slope = bits, attention, r, skip_slope
                layer.skip_kl_slope = np.exp(log_on + log_off) * (kl_on - kl_off)
                x = (bits @ outputs[:layer_id]) / (1.0 + bits.sum())
            else:
                x = p["g_emb"]
            outputs[layer_id] = h
            keys[layer_id] = h @ p["attn_w_1"]
            layers.append(layer)
        if self.num_layers > 1:
            penalty /= self.num_layers - 1
        return chosen, Pass(neg_log_prob, float(entropy), penalty, skip_count, layers)

    def sample(self, rng: np.random.Generator) -> list[int]:
        """An architecture's decisions drawn from the policy."""
        return self.run(rng=rng)[0]

    def loss(self, forward: Pass, advantage: float) -> float:
        """Katib's controller loss for a pass, given reward minus baseline."""
        weight = self.settings.skip_weight
        return forward.neg_log_prob * advantage + (weight * forward.skip_penalty if weight is not None else 0.0)

    # --- the gradient -------------------------------------------------------------------------
    def gradient(self, forward: Pass, advantage: float) -> np.ndarray:
        """d loss / d weights (flat, in the weights' layout), by backpropagation through the
        pass: the advantage is a constant, as the reward and baseline are in Katib's graph. The
        LSTM's and the softmax's weight gradients are gathered into one product each."""
        p = self.params
        hidden = self.settings.hidden_size
        grad = np.zeros_like(self.theta)
        g = self._views(grad)
        layers = forward.layers
        count = len(layers)
        outputs = np.stack([layer.emb_step.h for layer in layers])
        extra = np.zeros((count, hidden), self.dtype)  # into each layer's output, from later layers
        skip_weight = self.settings.skip_weight
        penalty_scale = skip_weight / (count - 1) if skip_weight is not None and count > 1 else 0.0
        steps: list[_Step] = []  # the LSTM steps, last first, and their d z
        d_zs: list[np.ndarray] = []
        d_raws = np.empty((count, self.num_operations), self.dtype)
        dh_next, dc_next = np.zeros(hidden, self.dtype), np.zeros(hidden, self.dtype)
        dx_next: np.ndarray | None = None  # into the input of the step after this layer
        for layer_id in range(count - 1, -1, -1):
            layer = layers[layer_id]
            dh = dh_next + extra[layer_id]
            if layer_id > 0:
                assert layer.skips is not None and layer.attention is not None and layer.skip_r is not None
                assert layer.skip_slope is not None and layer.skip_kl_slope is not None
                bits = layer.skips
                if dx_next is not None:
                    extra[:layer_id] += np.outer(bits / (1.0 + bits.sum()), dx_next)
                d_r = advantage * 2.0 * (_sigmoid(2.0 * layer.skip_r) - bits)
                if penalty_scale:
                    d_r += penalty_scale * layer.skip_kl_slope
                d_q = d_r * layer.skip_slope
                g["attn_v"] += layer.attention.T @ d_q
                d_pre = np.outer(d_q, p["attn_v"]) * (1.0 - layer.attention**2)
                d_u = d_pre.sum(axis=0)
                g["attn_w_2"] += np.outer(layer.emb_step.h, d_u)
                dh += p["attn_w_2"] @ d_u
                g["attn_w_1"] += outputs[:layer_id].T @ d_pre
                extra[:layer_id] += d_pre @ p["attn_w_1"].T
            elif dx_next is not None:
                g["g_emb"] += dx_next
            d_z, dc_prev = self._lstm_backward(layer.emb_step, dh, dc_next)
            steps.append(layer.emb_step)
            d_zs.append(d_z)
            d_in = p["w_lstm"] @ d_z
            g["w_emb"][layer.op] += d_in[:hidden]
            d_logits = advantage * layer.op_probs
            d_logits[layer.op] -= advantage
            d_raw = d_logits * layer.op_slope
            d_raws[layer_id] = d_raw
            d_z, dc_next = self._lstm_backward(layer.op_step, d_in[hidden:] + p["w_soft"] @ d_raw, dc_prev)
            steps.append(layer.op_step)
            d_zs.append(d_z)
            d_in = p["w_lstm"] @ d_z
            dx_next, dh_next = d_in[:hidden], d_in[hidden:]
        if dx_next is not None:
            g["g_emb"] += dx_next
        inputs = np.stack([np.concatenate((step.x, step.h_prev)) for step in steps])
        g["w_lstm"] += inputs.T @ np.stack(d_zs)
        g["w_soft"] += np.stack([layer.op_step.h for layer in layers]).T @ d_raws
        return grad

    def _lstm_backward(self, step: _Step, dh: np.ndarray, dc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(d gates before their activations, d previous c) of one LSTM step."""
        hidden = self.settings.hidden_size
        gates = step.gates
        i, f, o, gg = gates[:hidden], gates[hidden : 2 * hidden], gates[2 * hidden : 3 * hidden], gates[3 * hidden :]
        dc = dc + dh * o * (1.0 - step.tanh_c**2)
        d_z = np.concatenate((dc * gg * i * (1.0 - i), dc * step.c_prev * f * (1.0 - f), dh * step.tanh_c * o * (1.0 - o), dc * i * (1.0 - gg * gg)))
        return d_z, dc * f

    # --- training -----------------------------------------------------------------------------
    def train(self, decisions: Sequence[int], result: float) -> float:
        """One of Katib's controller train steps on an architecture and its reward (the
        objective, negated for minimize); returns the loss."""
        s = self.settings
        _, forward = self.run(decisions)
        reward = result + (s.entropy_weight * forward.entropy if s.entropy_weight is not None else 0.0)
        self.baseline -= (1.0 - s.baseline_decay) * (self.baseline - reward)
        advantage = reward - self.baseline
        grad = self.gradient(forward, advantage)
        self.train_step_count += 1
        t = self.train_step_count
        loss = self.loss(forward, advantage)
        norm = float(np.sqrt(grad @ grad)) if t % s.log_every_steps == 0 and log.isEnabledFor(logging.DEBUG) else None
        self._adam(grad, t)
        if norm is not None:
            pairs = self.num_layers * (self.num_layers - 1) / 2
            log.debug(
                "Controller Step: %d - Loss: %.4f - Entropy: %.9g - Gradient Norm: %.7f - Baseline=%.4f - Skip Rate=%s",
                t, loss, forward.entropy, norm, self.baseline, f"{forward.skip_count / pairs:.4f}" if pairs else "n/a",
            )
        return loss

    def _adam(self, grad: np.ndarray, t: int) -> None:
        """TensorFlow 1's Adam update at step ``t`` (consumes ``grad``), in place."""
        m, v = self.adam_m, self.adam_v
        m *= ADAM_BETA1
        m += (1.0 - ADAM_BETA1) * grad
        np.multiply(grad, grad, out=grad)
        grad *= 1.0 - ADAM_BETA2
        v *= ADAM_BETA2
        v += grad
        rate = self.settings.learning_rate * np.sqrt(1.0 - ADAM_BETA2**t) / (1.0 - ADAM_BETA1**t)
        step = np.sqrt(v, out=grad)
        step += ADAM_EPSILON
        np.divide(m, step, out=step)
        step *= rate
        self.theta -= step


def reward_of(problem: Problem, trial: FinishedTrial) -> float:
    """What the controller is rewarded with: the objective, negated for minimize (Katib's)."""
    assert trial.objective is not None
    return -trial.objective if problem.objective_type == ObjectiveType.MINIMIZE else trial.objective


def replay(space: NasSpace, problem: Problem, history: Sequence[FinishedTrial]) -> Controller:
    """The controller after training on the finished trials, in trial order, from weights
    drawn from ``problem.seed``: ``controller_train_steps`` steps after each Succeeded trial
    whose architecture is one of the space's."""
    settings = ControllerSettings.from_settings(problem.settings)
    controller = Controller(space.num_layers, space.num_operations, settings, problem.seed)
    for trial in history:
        if not succeeded(trial):
            continue
        architecture = space.architecture_of(trial.assignment)
        if architecture is None:
            continue
        decisions = space.decisions(architecture)
        reward = reward_of(problem, trial)
        for _ in range(settings.train_steps):
            controller.train(decisions, reward)
    return controller


class ENAS:
    """Katib's ``enas``: architectures sampled from the controller after replaying its training."""

    name: ClassVar[str] = "enas"

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings

    def suggest(
        self,
        problem: Problem,
        history: Sequence[FinishedTrial],
        pending: Sequence[dict[str, Value]],
        n: int,
        rng: np.random.Generator,
    ) -> Suggestions:
        if n <= 0:
            return Suggestions([])
        space = NasSpace.from_config(problem.nas_config)
        used = used_architectures(space, history, pending)  # a given-back trial's architecture is free again
        last = last_architectures(space, used, n, rng)
        if last is not None:
            return marked_architecture_repeats(space, last, history)
        controller = replay(space, problem, history)
        out = []
        for _ in range(n):
            architecture = unused_architecture(space, used, rng, lambda: space.from_decisions(controller.sample(rng)))
            out.append(space.assignment(architecture))
        return marked_architecture_repeats(space, Suggestions(out), history)
