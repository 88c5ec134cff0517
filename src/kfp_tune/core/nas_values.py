"""The two values an enas (or regularized-evolution) trial gets, as Katib names and writes them,
and how a person reads them.

Katib's enas service gives every trial ``architecture`` (one list per layer, layer ``i`` from 0
being ``[op, s_0, ..., s_{i-1}]``) and ``nn_config`` (the graph's sizes and an ``embedding`` that
describes each operation the architecture uses), both JSON with every ``"`` turned into ``'``.
The trial parses them; a table shows them. Written as they are, they are some 800 characters a
row at four layers, most of it the same embedding again, and the architecture a list of ids and
bits. :func:`shown_assignment` is what every table shows instead: one ``architecture`` column
with each layer's operation in words and where its skip connections come from, as Katib's
example trial builds the network (examples/v1beta1/trial-images/enas-cnn-cifar10,
ModelConstructor.py: layer ``l`` takes the layer before it, and node ``j`` where its skip bit
``j`` is 1, node 0 being the input). The stored values and every ``--json`` keep Katib's strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

ARCHITECTURE = "architecture"
NN_CONFIG = "nn_config"
ENAS_TRIAL_VALUES = (ARCHITECTURE, NN_CONFIG)
"""What an enas trial is given, in the order Katib's trial templates reference them."""


def katib_json_value(text: str) -> Any:
    """A value Katib's enas service wrote (JSON with ``'`` for ``"``); ValueError when it is not one."""
    return json.loads(text.replace("'", '"'))


def architecture_words(architecture: str, nn_config: str) -> str | None:
    """The network in words, layer after layer: ``1: convolution (filter_size 3, num_filter 8,
    stride 1); 2: reduction (reduction_type max_pooling, pool_size 2) + input; ...``, where
    ``+ input, 1`` names the skip connections' sources (the input, layer 1). None when the two
    values are not Katib's forms or do not fit together (the table then shows them as they are)."""
    try:
        layers, config = katib_json_value(architecture), katib_json_value(nn_config)
    except ValueError:
        return None
    embedding = config.get("embedding") if isinstance(config, dict) else None
    if not isinstance(layers, list) or not layers or not isinstance(embedding, dict):
        return None
    words = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, list) or len(layer) != index + 1:
            return None
        operation = embedding.get(str(layer[0]))
        if not isinstance(operation, dict) or not isinstance(operation.get("opt_type"), str):
            return None
        params = operation.get("opt_params")
        settings = ", ".join(f"{name} {value}" for name, value in params.items()) if isinstance(params, dict) else ""
        sources = ", ".join("input" if node == 0 else str(node) for node, bit in enumerate(layer[1:]) if bit == 1)
        words.append(f"{index + 1}: {operation['opt_type']}" + (f" ({settings})" if settings else "") + (f" + {sources}" if sources else ""))
    return "; ".join(words)


def shown_assignment(assignment: Mapping[str, str]) -> dict[str, str]:
    """A trial's values as a table shows them: an enas trial's ``architecture`` in words
    (:func:`architecture_words`) and its ``nn_config``, which the words hold, left out; any other
    trial's values as they are."""
    shown = dict(assignment)
    if ARCHITECTURE in shown and NN_CONFIG in shown:
        words = architecture_words(shown[ARCHITECTURE], shown[NN_CONFIG])
        if words is not None:
            shown[ARCHITECTURE] = words
            del shown[NN_CONFIG]
    return shown
