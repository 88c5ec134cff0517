"""A real trial: a small neural network on scikit-learn's digits data (ships with scikit-learn).

Prints Katib-style ``name=value`` lines after every epoch, which Katib's StdOut collector (and
kfp-tune's) reads: ``epoch=3 loss=0.2104 accuracy=0.9611``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, required=True, help="initial learning rate (adam)")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty")
    parser.add_argument("--hidden", type=int, default=64, help="units in the hidden layer")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=args.seed, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    model = MLPClassifier(
        hidden_layer_sizes=(args.hidden,),
        alpha=args.alpha,
        learning_rate_init=args.lr,
        batch_size=64,
        random_state=args.seed,
    )
    classes = np.unique(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in range(1, args.epochs + 1):
            model.partial_fit(x_train, y_train, classes=classes)
            accuracy = model.score(x_test, y_test)
            print(f"epoch={epoch} loss={model.loss_:.4f} accuracy={accuracy:.4f}", flush=True)


if __name__ == "__main__":
    main()
