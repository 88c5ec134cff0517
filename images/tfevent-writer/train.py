"""A trial that writes TensorFlow event files, for the TensorFlowEvent collector.

Softmax regression on scikit-learn's digits (packaged, nothing downloaded), trained with
mini-batch SGD in numpy. After every epoch it writes ``loss`` and ``accuracy`` scalars for the
held-out set as TensorFlow events under ``<log-dir>/eval`` with the ``tensorboard`` package (no
TensorFlow), the layout TensorBoard and Katib's collector read. It prints nothing to collect.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter


def scalar_event(step: int, **values: float) -> event_pb2.Event:
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value) for tag, value in values.items()])
    return event_pb2.Event(wall_time=time.time(), step=step, summary=summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    weights = np.zeros((x.shape[1], 10))
    bias = np.zeros(10)
    writer = EventFileWriter(str(Path(args.log_dir) / "eval"))
    for epoch in range(1, args.epochs + 1):
        shuffled = train[rng.permutation(len(train))]
        for start in range(0, len(shuffled), args.batch_size):
            batch = shuffled[start : start + args.batch_size]
            logits = x[batch] @ weights + bias
            probabilities = np.exp(logits - logits.max(1, keepdims=True))
            probabilities /= probabilities.sum(1, keepdims=True)
            probabilities[np.arange(len(batch)), y[batch]] -= 1.0
            weights -= args.lr * (x[batch].T @ probabilities / len(batch) + args.l2 * weights)
            bias -= args.lr * probabilities.mean(0)
        logits = x[test] @ weights + bias
        logits -= logits.max(1, keepdims=True)
        log_probabilities = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        loss = float(-log_probabilities[np.arange(len(test)), y[test]].mean())
        accuracy = float((logits.argmax(1) == y[test]).mean())
        writer.add_event(scalar_event(epoch, loss=loss, accuracy=accuracy))
    writer.close()
    print(f"wrote {args.epochs} epochs of events to {Path(args.log_dir) / 'eval'}")


if __name__ == "__main__":
    main()
