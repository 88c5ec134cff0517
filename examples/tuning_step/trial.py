"""The example's trial: a support vector classifier on the digits split the pipeline's
preprocess step wrote, read through the tuning step (``input_path``).

Fits on the training part of the split, prints the validation accuracy Katib-style
(``accuracy=0.9861``: the StdOut collector reads it), and saves the fitted model
(``save_model``): the tuning step hands the best trial's copy downstream as ``best_model``.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from kfp_tune.steps.trial_artifacts import input_path, save_model

VALIDATION_SEED = 0
"""The same validation split in every trial, so their accuracies compare."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--C", type=float, required=True, help="SVC regularization")
    parser.add_argument("--gamma", type=float, required=True, help="RBF kernel width")
    args = parser.parse_args()

    with np.load(input_path("dataset")) as data:
        x, y = data["x_train"], data["y_train"]
    x_fit, x_val, y_fit, y_val = train_test_split(x, y, test_size=0.3, random_state=VALIDATION_SEED, stratify=y)
    model = SVC(C=args.C, gamma=args.gamma).fit(x_fit, y_fit)
    print(f"accuracy={model.score(x_val, y_val):.6f}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.pkl"
        path.write_bytes(pickle.dumps(model))
        save_model(path)


if __name__ == "__main__":
    main()
