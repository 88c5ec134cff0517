"""The shipped algorithms are imported when first built: every KFP task imports kfp_tune, and a
task that launches a trial or reads its metrics should not load scipy and cmaes to do it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("scipy.optimize", "cmaes")


def _loaded_after(code: str) -> dict[str, bool]:
    """Which of HEAVY a fresh interpreter has imported after running ``code``."""
    probe = f"import sys, json\n{code}\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def test_a_tasks_entry_points_do_not_import_the_algorithms_libraries():
    assert _loaded_after("import kfp_tune, kfp_tune.steps.entrypoints, kfp_tune.algorithms") == {m: False for m in HEAVY}


@pytest.mark.parametrize(("name", "loads"), [("cmaes", "cmaes"), ("bayesianoptimization", "scipy.optimize")])
def test_building_an_algorithm_imports_what_it_needs(name, loads):
    loaded = _loaded_after(
        f"from kfp_tune.algorithms import create\nalgorithm = create({name!r}, {{}})\nassert type(algorithm).__module__.startswith('kfp_tune.algorithms.')"
    )
    assert loaded[loads]


def test_the_registry_still_names_every_shipped_algorithm():
    from kfp_tune.algorithms import implemented
    from kfp_tune.core.catalogue import ALGORITHMS

    assert set(implemented()) == set(ALGORITHMS)
