"""A PyTorch trial: a small CNN on scikit-learn's digits, upsampled to 32x32 and augmented with
random shifts (generated here, nothing downloaded). Uses CUDA when there is a GPU.

Prints Katib-style metrics after every epoch: ``epoch=2 loss=0.1432 accuracy=0.9722``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn


def make_data(samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.images))
    split = int(0.8 * len(order))
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    images = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
    labels = torch.tensor(digits.target)
    train_idx = torch.tensor(order[:split])
    pick = train_idx[torch.tensor(rng.integers(0, len(train_idx), samples))]
    shifts = rng.integers(-3, 4, size=(samples, 2))
    train = torch.stack([torch.roll(images[i], shifts=(int(dy), int(dx)), dims=(1, 2)) for i, (dy, dx) in zip(pick.tolist(), shifts, strict=True)])
    test_idx = torch.tensor(order[split:])
    return train, labels[pick], images[test_idx], labels[test_idx]


class SmallCNN(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Linear(2 * width * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"
    print(f"device: {name}", flush=True)
    x_train, y_train, x_test, y_test = (t.to(device) for t in make_data(args.samples, args.seed))
    model = SmallCNN(args.width).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), device=device)
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            batch = order[i : i + args.batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        print(f"epoch={epoch} loss={total / len(order):.4f} accuracy={accuracy:.4f}", flush=True)
    print(f"train-seconds={time.perf_counter() - start:.2f}", flush=True)


if __name__ == "__main__":
    main()
