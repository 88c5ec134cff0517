"""The contract's fresh-interpreter check gives the same verdict whatever this process's
PYTHONHASHSEED (review B, finding 3): it compared this process with one child at this seed + 1,
and for a set of three strings about one pair of seeds in five orders them alike (4 and 5, 19 and
20), so the QA's hash-order-dependent plug-in passed about one run in five. Now two children run
at fixed seeds under which every set of the problem's strings (parameter names, choices) iterates
in another order at every place, so such a plug-in fails every time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kfp_tune.algorithms.testing import fresh_hash_seeds, mixed_space

HASH_ORDER_PLUGIN = """
from kfp_tune.algorithms import Suggestions, register
from kfp_tune.algorithms.random_search import RandomSearch

CHOICES = ("sgd", "adam", "ftrl")


class HashOrderRandom(RandomSearch):
    '''The QA's plug-in: its optimizer looked up in a set of strings.'''

    def suggest(self, problem, history, pending, n, rng):
        result = super().suggest(problem, history, pending, n, rng)
        order = list(set(CHOICES))
        return Suggestions([{**a, "optimizer": order[CHOICES.index(a["optimizer"])]} for a in result.assignments], exhausted=result.exhausted)


register("hash-order-random", HashOrderRandom, settings=())
"""

SUITE = """
import hash_order_plugin  # noqa: F401
from kfp_tune.algorithms.testing import AlgorithmContract


class TestHashOrder(AlgorithmContract):
    algorithm_name = "hash-order-random"
    adaptive = False
"""

RUN_THE_CHECK = """
import json
import hash_order_suite
try:
    hash_order_suite.TestHashOrder().test_same_suggestions_in_a_fresh_interpreter()
    print(json.dumps("passed"))
except AssertionError as exc:
    print(json.dumps(str(exc)))
"""


@pytest.mark.parametrize("this_seed", ["4", "19", "0"])
def test_a_hash_order_dependent_plugin_fails_whatever_this_processs_hash_seed(tmp_path: Path, this_seed: str) -> None:
    """4 and 19: the seeds whose + 1 ordered the QA's set alike, so the old check passed it."""
    (tmp_path / "hash_order_plugin.py").write_text(textwrap.dedent(HASH_ORDER_PLUGIN))
    (tmp_path / "hash_order_suite.py").write_text(textwrap.dedent(SUITE))
    environment = {**os.environ, "PYTHONHASHSEED": this_seed, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run([sys.executable, "-c", RUN_THE_CHECK], env=environment, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    message = json.loads(done.stdout.splitlines()[-1])
    assert message.startswith("'hash-order-random' suggested other points in a fresh interpreter (PYTHONHASHSEED="), message


def test_the_two_seeds_order_every_set_of_the_problems_strings_apart() -> None:
    """Checked in two interpreters of their own: each set of the contract problem's strings, made
    in either order, iterates in another order at every place under one seed than the other."""
    space = mixed_space()
    sets = [[p.name for p in space], *[list(p.choices) for p in space if len(p.choices) > 1]]
    seeds = fresh_hash_seeds(space)
    assert len(set(seeds)) == 2, seeds
    code = "import json, sys; sets = json.loads(sys.argv[1]); print(json.dumps([[list(set(s)), list(set(s[::-1]))] for s in sets]))"
    orders = [
        json.loads(subprocess.run([sys.executable, "-c", code, json.dumps(sets)], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True).stdout)
        for seed in seeds
    ]
    for strings, one, other in zip(sets, *orders, strict=True):
        for built_one, built_other in zip(one, other, strict=True):
            assert sorted(built_one) == sorted(strings)
            assert all(a != b for a, b in zip(built_one, built_other, strict=True)), (strings, seeds, built_one, built_other)
