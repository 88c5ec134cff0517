"""A population based training trial: a small neural network on scikit-learn's digits data (it
ships with scikit-learn), trained by stochastic gradient descent a few epochs at a time.

It resumes from its checkpoint folder (``--checkpoint``: the folder kfp-tune, like Katib, gives
each trial at ``suggestion_trial_dir``, a copy of its parent's): the network and how many epochs
it has had. It trains ``--epochs`` more at the learning rate it is given, saves the checkpoint,
and prints Katib-style ``name=value`` metrics that the StdOut collector reads::

    step=6 resumed-from=4 Validation-accuracy=0.9407

The learning rate matters a great deal here (too small and the network barely moves in a few
epochs, too large and it diverges), so a population gains from copying its best members.
"""

from __future__ import annotations

import argparse
import os
import pickle
import warnings
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

CHECKPOINT_FILE = "model.pkl"


def new_model(seed: int) -> MLPClassifier:
    """The network every lineage starts from. ``warm_start``: each ``fit`` carries on from the
    weights it has, for ``max_iter`` epochs at the learning rate set then (a public way to go on
    training with a new learning rate; early stopping is off: every trial trains its epochs)."""
    return MLPClassifier(
        hidden_layer_sizes=(32,), solver="sgd", momentum=0.9, batch_size=128, random_state=seed, warm_start=True, tol=0.0, n_iter_no_change=1_000_000,
    )


def train(lr: float, epochs: int, checkpoint: str | Path, seed: int = 0) -> tuple[int, int, float]:
    """``epochs`` more epochs at ``lr`` on top of the checkpoint in the folder ``checkpoint`` (a
    new network if it holds none), saved back there. Returns (step, resumed-from step, accuracy)."""
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)

    folder = Path(checkpoint)
    saved = folder / CHECKPOINT_FILE
    if saved.exists():
        with saved.open("rb") as handle:
            state = pickle.load(handle)
        model, step = state["model"], int(state["step"])
    else:
        model, step = new_model(seed), 0
    resumed_from = step
    model.set_params(learning_rate_init=lr, max_iter=epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    step += epochs
    accuracy = float(model.score(x_test, y_test))

    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{CHECKPOINT_FILE}.partial"
    with partial.open("wb") as handle:
        pickle.dump({"model": model, "step": step}, handle)
    os.replace(partial, saved)  # a trial killed while saving leaves the previous checkpoint whole
    return step, resumed_from, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, required=True, help="the learning rate for this trial's epochs")
    parser.add_argument("--epochs", type=int, default=2, help="epochs to train on top of the checkpoint")
    parser.add_argument("--checkpoint", required=True, help="the trial's checkpoint folder (resumed from, then saved to)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    step, resumed_from, accuracy = train(args.lr, args.epochs, args.checkpoint, args.seed)
    print(f"step={step} resumed-from={resumed_from} Validation-accuracy={accuracy:.4f}", flush=True)


if __name__ == "__main__":
    main()
