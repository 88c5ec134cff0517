"""A data-parallel (Horovod-style) trial for MPIJob: every MPI rank computes the gradient of a
softmax regression on its shard of scikit-learn's digits, the gradients are averaged with an
allreduce, and every rank applies the same step. Rank 0 prints the metrics (``accuracy=...``).

Runs under ``mpirun`` with mpi4py; without mpi4py (or MPI) it runs as a world of one, so the
same script can be tried on a laptop: ``python3 train.py --lr=0.5``.
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_digits


class World:
    """MPI's COMM_WORLD when there is one, else a world of one process."""

    def __init__(self) -> None:
        try:
            from mpi4py import MPI

            self.comm = MPI.COMM_WORLD
            self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        except ImportError:
            self.comm, self.rank, self.size = None, 0, 1

    def average(self, array: np.ndarray) -> np.ndarray:
        if self.comm is None:
            return array
        from mpi4py import MPI

        total = np.empty_like(array)
        self.comm.Allreduce(array, total, op=MPI.SUM)
        return total / self.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    args = parser.parse_args()

    world = World()
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    order = np.random.default_rng(0).permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    shard = train[world.rank :: world.size]
    weights, bias = np.zeros((x.shape[1], 10)), np.zeros(10)
    rng = np.random.default_rng(world.rank)
    steps = len(train) // (args.batch_size * world.size)
    for epoch in range(1, args.epochs + 1):
        for _ in range(steps):  # the same number of steps on every rank, so the allreduces pair up
            batch = rng.choice(shard, size=args.batch_size, replace=False)
            logits = x[batch] @ weights + bias
            probabilities = np.exp(logits - logits.max(1, keepdims=True))
            probabilities /= probabilities.sum(1, keepdims=True)
            probabilities[np.arange(len(batch)), y[batch]] -= 1.0
            gradient = world.average(np.concatenate([(x[batch].T @ probabilities).ravel(), probabilities.sum(0)]) / len(batch))
            weights -= args.lr * gradient[: weights.size].reshape(weights.shape)
            bias -= args.lr * gradient[weights.size :]
        if world.rank == 0:
            accuracy = float(((x[test] @ weights + bias).argmax(1) == y[test]).mean())
            print(f"epoch={epoch} accuracy={accuracy:.4f} ranks={world.size}", flush=True)


if __name__ == "__main__":
    main()
