"""A stand-in for Katib's DARTS trial (``examples/v1beta1/trial-images/darts-cnn-cifar10/run_trial.py``)
for tests/test_darts_run.py. It reads its three arguments as that trial does (argparse strings;
``'`` turned back into ``"`` and JSON for the settings and the search space, each setting through
``int()`` or ``float()``, ``int()`` for the layers), so a value that trial could not read fails
here too. It trains nothing: it prints what it received, then what Katib's trial prints at the
end, ``Best-Genotype=`` and the genotype without spaces, and a number, ``Best-Accuracy=``.

The genotype follows a fixed rule, so a test can write it down by hand: in each of the two cells
(normal, reduce) node i of ``num_nodes`` keeps its two newest edges, i + 1 then i, and edge j
carries primitive number (i + j) modulo the number of primitives (Katib's list, before the trial
adds "none"); both cells concatenate nodes 2 to num_nodes + 1. Best-Accuracy is
0.5 + 0.1 * primitives / (num_layers + 1).

Not Katib's: ``--metrics-file PATH`` writes the two metric lines there too (a File collector),
and ``--fail`` exits 1 before printing any metric.
"""

import argparse
import json
import sys
from collections import namedtuple

INT_SETTINGS = ("num_epochs", "batch_size", "num_workers", "init_channels", "print_step", "num_nodes", "stem_multiplier")
FLOAT_SETTINGS = ("w_lr", "w_lr_min", "w_momentum", "w_weight_decay", "w_grad_clip", "alpha_lr", "alpha_weight_decay")

parser = argparse.ArgumentParser()
parser.add_argument("--algorithm-settings", type=str, default="")
parser.add_argument("--search-space", type=str, default="")
parser.add_argument("--num-layers", type=str, default="")
parser.add_argument("--metrics-file", type=str, default="")
parser.add_argument("--fail", action="store_true")
args = parser.parse_args()
print("received " + json.dumps([args.algorithm_settings, args.search_space, args.num_layers]), flush=True)

settings = json.loads(args.algorithm_settings.replace("'", '"'))
parsed = {name: int(settings[name]) for name in INT_SETTINGS} | {name: float(settings[name]) for name in FLOAT_SETTINGS}
primitives = json.loads(args.search_space.replace("'", '"'))
num_layers = int(args.num_layers)
if args.fail:
    sys.exit(1)

Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
nodes = parsed["num_nodes"]
cell = [[(primitives[(i + j) % len(primitives)], j) for j in (i + 1, i)] for i in range(nodes)]
genotype = Genotype(normal=cell, normal_concat=range(2, 2 + nodes), reduce=cell, reduce_concat=range(2, 2 + nodes))
lines = [f"Best-Accuracy={0.5 + 0.1 * len(primitives) / (num_layers + 1):.4f}", "Best-Genotype={}".format(str(genotype).replace(" ", ""))]
print("\n".join(lines), flush=True)
if args.metrics_file:
    with open(args.metrics_file, "w") as out:
        out.write("\n".join(lines) + "\n")
