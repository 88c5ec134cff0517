"""The local stand-in for the trial of Katib's simple-pbt example (its image runs
``examples/v1beta1/trial-images/simple-pbt/pbt_test.py``): the same arguments (``--lr``,
``--epochs``, ``--checkpoint``) and the same idea, written anew and deterministic.

A toy "accuracy" (0 to 100) grows fastest when the learning rate is near an optimum that itself
moves with the accuracy (low at first, highest half way, low again near the end), and barely at
all far from it, so no single learning rate does well all the way and a population that copies
and perturbs does better.
The trial resumes from ``<checkpoint>/training.ckpt`` (its step and accuracy; JSON), runs its
epochs, saves it, and prints ``step=... resumed-from=... Validation-accuracy=...``.
"""

import argparse
import json
import math
import os

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--checkpoint", required=True)
args = parser.parse_args()

path = os.path.join(args.checkpoint, "training.ckpt")
state = {"step": 0, "accuracy": 0.0}
if os.path.exists(path):
    with open(path) as handle:
        state = json.load(handle)
resumed_from = state["step"]
for _ in range(args.epochs):
    accuracy = state["accuracy"]
    optimum = 0.001 + 0.009 * max(0.0, 1.0 - abs(accuracy - 50.0) / 50.0)
    closeness = math.exp(-0.5 * math.log(args.lr / optimum) ** 2)  # 1 at the optimum
    state["accuracy"] = min(100.0, accuracy + 3.0 * closeness)
    state["step"] += 1
os.makedirs(args.checkpoint, exist_ok=True)
with open(path + ".partial", "w") as handle:
    json.dump(state, handle)
os.replace(path + ".partial", path)
print(f"step={state['step']} resumed-from={resumed_from} Validation-accuracy={state['accuracy'] / 100:.6f}", flush=True)
