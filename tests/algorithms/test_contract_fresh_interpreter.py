"""``AlgorithmContract.test_same_suggestions_in_a_fresh_interpreter``: the contract a plug-in runs
compares its answer with a new interpreter's, started with another PYTHONHASHSEED (as each
pipeline step is a new process), importing the plug-in as the suite's module does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

PLUGIN = """
from kfp_tune.algorithms import Suggestions, register
from kfp_tune.algorithms.random_search import RandomSearch

CHOICES = ("sgd", "adam", "ftrl")


class HashOrderRandom(RandomSearch):
    '''Random search, its optimizer looked up in a set of strings: the same in one process, not
    from one PYTHONHASHSEED to another (the QA's plug-in).'''

    def suggest(self, problem, history, pending, n, rng):
        result = super().suggest(problem, history, pending, n, rng)
        order = list(set(CHOICES))
        return Suggestions([{**a, "optimizer": order[CHOICES.index(a["optimizer"])]} for a in result.assignments], exhausted=result.exhausted)


class Reversed(RandomSearch):
    '''A sound takeover of random: its points in the other order.'''

    def suggest(self, problem, history, pending, n, rng):
        result = super().suggest(problem, history, pending, n, rng)
        return Suggestions(result.assignments[::-1], exhausted=result.exhausted)


def register_later():
    register("registered-in-a-function", RandomSearch, settings=())


register("hash-order-random", HashOrderRandom, settings=())
register("{takeover}", Reversed)
"""

SUITES = """
import {plugin}  # noqa: F401  (registers the plug-in, as the guide's contract test does)
from kfp_tune.algorithms.testing import AlgorithmContract


class TestHashOrder(AlgorithmContract):
    algorithm_name = "hash-order-random"
    adaptive = False


class TestTakeover(AlgorithmContract):
    algorithm_name = "random"
    adaptive = False


class TestRegisteredInAFunction(AlgorithmContract):
    algorithm_name = "registered-in-a-function"
    adaptive = False
"""


@pytest.fixture
def suites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_plugin_registries: None, request: pytest.FixtureRequest) -> Iterator[str]:
    """A plug-in module imported by hand (not installed) and a suite module importing it, under
    names of this test's own, on sys.path; their name prefix. Registered in this process; the
    modules are forgotten after the test."""
    prefix = f"fresh_{request.node.name.split('[')[0][-40:]}"
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / f"{prefix}_plugin.py").write_text(textwrap.dedent(PLUGIN.replace("{takeover}", "random")))
    (folder / f"{prefix}_suites.py").write_text(textwrap.dedent(SUITES.replace("{plugin}", f"{prefix}_plugin")))
    monkeypatch.syspath_prepend(str(folder))
    yield prefix
    for name in (f"{prefix}_plugin", f"{prefix}_suites"):
        sys.modules.pop(name, None)


def test_a_plugin_imported_by_hand_is_imported_by_the_fresh_interpreter_as_the_suite_imports_it(suites: str) -> None:
    """A takeover of random, imported by the suite's module: the fresh interpreter has the
    built-in random after import kfp_tune, so it imports the suite's module, and agrees."""
    module = __import__(f"{suites}_suites")
    module.TestTakeover().test_same_suggestions_in_a_fresh_interpreter()


def test_a_plugin_the_suites_module_does_not_register_is_said_to_be_missing(suites: str) -> None:
    module = __import__(f"{suites}_suites")
    sys.modules[f"{suites}_plugin"].register_later()  # registered here only, as a step would not have it
    with pytest.raises(AssertionError, match=r"TestRegisteredInAFunction: in a fresh interpreter, as each pipeline step is, 'registered-in-a-function' is not registered"):
        module.TestRegisteredInAFunction().test_same_suggestions_in_a_fresh_interpreter()


def test_an_algorithm_whose_answer_depends_on_the_hash_seed_fails_the_contract(tmp_path: Path) -> None:
    """The QA's plug-in passed every check of the contract. Seeded: this process runs with
    PYTHONHASHSEED=0, so the fresh interpreter gets 1; the two orders of the set differ for two
    of its three optimizers."""
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / "hash_plugin.py").write_text(textwrap.dedent(PLUGIN.replace("{takeover}", "random")))
    (folder / "hash_suites.py").write_text(textwrap.dedent(SUITES.replace("{plugin}", "hash_plugin")))
    code = (
        "import json, sys\n"
        "import hash_suites\n"
        "suite = hash_suites.TestHashOrder()\n"
        "suite.test_same_seed_same_suggestions()  # one process: the same\n"
        "try:\n"
        "    suite.test_same_suggestions_in_a_fresh_interpreter()\n"
        "    print(json.dumps('passed'))\n"
        "except AssertionError as exc:\n"
        "    print(json.dumps(str(exc)))\n"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": os.pathsep.join([str(folder), *sys.path])}
    done = subprocess.run([sys.executable, "-c", code], env=environment, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    message = json.loads(done.stdout.splitlines()[-1])
    assert message.startswith("'hash-order-random' suggested other points in a fresh interpreter (PYTHONHASHSEED=1) for the same history and seed"), message
    assert "Every pipeline step is a fresh process" in message
