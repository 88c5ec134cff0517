"""Plug-ins installed as distributions (the ``kfp_tune.plugins`` entry-point group) are loaded by
every process that runs kfp-tune: the CLI, and each pipeline step under kfp.local (a subprocess
each, as each is a container on a cluster). Each test installs a tiny distribution the way pip
would leave it, a ``*.dist-info`` folder beside its module on PYTHONPATH, and runs the
``kfp-tune`` command on it; the plug-in leaves a marker file per call, named with its process id."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, quadratic_experiment
from kfp_tune import plugins
from kfp_tune.algorithms.testing import AlgorithmContract

KFP_TUNE = Path(sys.executable).parent / "kfp-tune"

MARKERS_PLUGIN = '''
"""A test plug-in: takes over random, adds marker-random (with a setting) and the marker-stop
early-stopping rule, and the plugfs:// store scheme. Each call leaves a marker file."""
import os
import pathlib
from urllib.parse import urlsplit

from kfp_tune.algorithms import Suggestions, early_stopping, register
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.core.catalogue import int_setting
from kfp_tune.stores import LocalStore, register_scheme


def mark(kind):
    folder = pathlib.Path(os.environ["PLUGIN_MARKERS"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{kind}.{os.getpid()}.{os.urandom(4).hex()}").touch()


class Marked(RandomSearch):
    """Random search, each suggestion labelled as the plug-in's."""

    def __init__(self, settings, kind):
        super().__init__(settings)
        self.kind = kind

    def suggest(self, problem, history, pending, n, rng):
        mark(self.kind)
        result = RandomSearch.suggest(self, problem, history, pending, n, rng)
        return Suggestions(result.assignments, result.exhausted, labels=[{"made-by": self.kind} for _ in result.assignments])


class MarkerStop:
    name = "marker-stop"

    def __init__(self, settings):
        mark("rule")

    def should_stop(self, objective_type, completed, current):
        return False


class PlugStore(LocalStore):
    def __init__(self, uri):
        mark("store")
        super().__init__(urlsplit(uri).path)
        self.uri = uri


register("random", lambda settings: Marked(settings, "takeover"))
register("marker-random", lambda settings: Marked(settings, "new"), settings=[int_setting("offset", 0, minimum=0)])
early_stopping.register("marker-stop", MarkerStop, settings=())
register_scheme("plugfs", PlugStore)
'''


def install(site: Path, distribution: str, files: dict[str, str], entry_points: dict[str, str]) -> None:
    """What ``pip install`` leaves: the files (path under site -> text), and its distribution's
    metadata with its entry points (importlib.metadata finds ``*.dist-info`` folders on sys.path)."""
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(textwrap.dedent(text))
    info = site / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{plugins.GROUP}]\n{lines}")


def environment(site: Path | None, markers: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KFP_TUNE_STORE", "PYTHONPATH")}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    env["PLUGIN_MARKERS"] = str(markers)
    return env


def kfp_tune(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> tuple[int, int, str, str]:
    """(the command's process id, exit code, stdout, stderr)."""
    process = subprocess.Popen([str(KFP_TUNE), *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=timeout)
    return process.pid, process.returncode, out, err


def markers(folder: Path) -> list[tuple[str, int]]:
    """(kind, process id) of each call the plug-in marked."""
    return sorted((path.name.split(".")[0], int(path.name.split(".")[1])) for path in folder.iterdir()) if folder.exists() else []


def experiment_file(tmp_path: Path, **overrides: Any) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, **overrides})))
    return path


@pytest.fixture
def markers_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    install(site, "kfp-tune-markers", {"kfp_tune_markers.py": MARKERS_PLUGIN}, {"markers": "kfp_tune_markers"})
    return site


NEW_NAMES = {
    "spec.algorithm": {"algorithmName": "marker-random", "algorithmSettings": [{"name": "offset", "value": "2"}]},
    "spec.earlyStopping": {"algorithmName": "marker-stop"},
}


def test_validate_knows_a_plugins_new_names_and_their_settings(tmp_path: Path, markers_site: Path):
    env = environment(markers_site, tmp_path / "markers")
    _, code, out, err = kfp_tune(["validate", str(experiment_file(tmp_path, **NEW_NAMES))], env, tmp_path)
    assert code == 0 and "valid experiment 'quad'" in out
    assert err.splitlines() == [  # valid, and noted: Katib's own katib-config serves neither name
        f"note: {field}.algorithmName: Katib's webhook refuses '{name}' unless the cluster's katib-config names a service for it (its default one "
        f"does not: validator.go, 'unable to get {kind} config data for algorithm {name}'); kfp-tune runs it"
        for field, name, kind in (("spec.earlyStopping", "marker-stop", "EarlyStopping"), ("spec.algorithm", "marker-random", "Suggestion"))
    ]
    bad = experiment_file(tmp_path, **{**NEW_NAMES, "spec.algorithm": {"algorithmName": "marker-random", "algorithmSettings": [{"name": "offset", "value": "-1"}]}})
    _, code, _, err = kfp_tune(["validate", str(bad)], env, tmp_path)
    assert code == 2 and err.strip() == "spec.algorithm.algorithmSettings[0].value: offset: expected an integer >= 0, got -1"
    _, code, _, err = kfp_tune(["validate", str(experiment_file(tmp_path, **NEW_NAMES))], environment(None, tmp_path / "markers"), tmp_path)
    assert code == 2 and "spec.algorithm.algorithmName: unknown algorithm 'marker-random'" in err, "without the plug-in the name is unknown"


def test_an_inline_run_uses_the_plugins_algorithm_rule_and_store(tmp_path: Path, markers_site: Path):
    store = f"plugfs://{tmp_path / 'store'}"
    pid, code, out, err = kfp_tune(["run", str(experiment_file(tmp_path, **NEW_NAMES)), "--engine", "inline", "--store", store, "--json"], environment(markers_site, tmp_path / "markers"), tmp_path)
    assert code == 0, err
    assert json.loads(out)["succeeded"] == 2
    calls = markers(tmp_path / "markers")
    assert {kind for kind, _ in calls} == {"new", "rule", "store"} and {p for _, p in calls} == {pid}, calls
    _, code, out, _ = kfp_tune(["trials", "quad", "--store", store, "--json"], environment(markers_site, tmp_path / "markers"), tmp_path)
    assert code == 0 and [row["labels"] for row in json.loads(out)] == [{"made-by": "new"}] * 2


@pytest.mark.long
@pytest.mark.kfp_local
def test_kfp_local_steps_load_the_plugin_that_took_over_a_katib_name(tmp_path: Path, markers_site: Path):
    """Each kfp.local step is a subprocess that imports kfp_tune afresh: the takeover of random is
    the plug-in's there too (each trial labelled by it), not the built-in's."""
    store = f"plugfs://{tmp_path / 'store'}"
    env = environment(markers_site, tmp_path / "markers")
    pid, code, out, err = kfp_tune(["run", str(experiment_file(tmp_path)), "--engine", "kfp-local", "--store", store, "--json"], env, tmp_path)
    assert code == 0, err[-3000:]
    assert json.loads(out)["succeeded"] == 2
    calls = markers(tmp_path / "markers")
    steps = {p for kind, p in calls if kind == "takeover"}
    assert steps and pid not in steps, f"the takeover suggested in the steps' processes, not the CLI's ({pid}): {calls}"
    assert {p for kind, p in calls if kind == "store"} - {pid}, "the steps opened the plug-in's store"
    _, code, out, _ = kfp_tune(["trials", "quad", "--store", store, "--json"], env, tmp_path)
    assert code == 0 and [row["labels"] for row in json.loads(out)] == [{"made-by": "takeover"}] * 2


def test_a_plugin_that_fails_to_import_is_a_warning_naming_it_not_a_traceback(tmp_path: Path):
    site = tmp_path / "site"
    install(site, "broken-plugin", {"broken_plugin.py": "raise RuntimeError('boom')\n"}, {"broken": "broken_plugin"})
    env = environment(site, tmp_path / "markers")
    result = subprocess.run([sys.executable, "-c", "import kfp_tune; print(kfp_tune.plugins.load_plugins())"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert (
        "PluginWarning: kfp-tune plug-in 'broken' (kfp_tune.plugins entry point 'broken_plugin' of distribution 'broken-plugin') "
        "could not be loaded and is left out: RuntimeError: boom"
    ) in result.stderr
    assert result.stdout.strip() == "{'broken': 'RuntimeError: boom'}"
    _, code, _, err = kfp_tune(["validate", str(experiment_file(tmp_path, **NEW_NAMES))], env, tmp_path)
    assert code == 2 and "could not be loaded" in err and "unknown algorithm 'marker-random'" in err and "Traceback" not in err


def test_plugins_load_once_per_process_in_entry_point_order(monkeypatch):
    found = [
        metadata.EntryPoint("b-missing", "kfp_tune_no_such_plugin_module", plugins.GROUP),
        metadata.EntryPoint("a-json", "json", plugins.GROUP),
    ]
    calls: list[str] = []

    def entry_points(group: str) -> list[metadata.EntryPoint]:
        calls.append(group)
        return found

    monkeypatch.setattr(plugins, "_loaded", None)
    monkeypatch.setattr(plugins.metadata, "entry_points", entry_points)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = plugins.load_plugins()
        assert plugins.load_plugins() is loaded
    assert calls == [plugins.GROUP]
    assert list(loaded) == ["a-json", "b-missing"] and loaded["a-json"] == ""
    assert loaded["b-missing"].startswith("ModuleNotFoundError: No module named 'kfp_tune_no_such_plugin_module'")
    assert [str(w.message) for w in caught] == [
        "kfp-tune plug-in 'b-missing' (kfp_tune.plugins entry point 'kfp_tune_no_such_plugin_module') could not be loaded and is left out: " + loaded["b-missing"]
    ]
    assert all(w.category is plugins.PluginWarning for w in caught)


def guide_plugin_blocks() -> list[tuple[str, str]]:
    """(language, code) of each code block in docs/guide.md's "Plug-ins" section."""
    text = (REPO / "docs" / "guide.md").read_text()
    section = text[text.index("### Plug-ins\n") + len("### Plug-ins\n") :]
    end = re.search(r"^##+ ", section, re.M)
    return re.findall(r"^```(\w+)\n(.*?)^```", section[: end.start() if end else None], re.S | re.M)


def test_the_guides_plugin_example_installs_validates_runs_and_keeps_its_contract(tmp_path: Path):
    """Every code block of the guide's "Plug-ins": the module, its entry point and its contract
    test, each used as the guide says."""
    tomllib = pytest.importorskip("tomllib")
    blocks = guide_plugin_blocks()
    assert [language for language, _ in blocks] == ["python", "toml", "python"], "a code block added to the guide's Plug-ins needs this test to run it"
    module, pyproject, contract = (code for _, code in blocks)
    entry_points = tomllib.loads(pyproject)["project"]["entry-points"][plugins.GROUP]
    assert entry_points == {"my-tuner": "my_tuner.plugin"}
    site = tmp_path / "site"
    install(site, "my-tuner", {"my_tuner/__init__.py": "", "my_tuner/plugin.py": module}, entry_points)
    env = environment(site, tmp_path / "markers")
    path = experiment_file(tmp_path, **{"spec.algorithm": {"algorithmName": "random-then-tpe", "algorithmSettings": [{"name": "warmup", "value": "1"}]}})
    _, code, out, err = kfp_tune(["validate", str(path)], env, tmp_path)
    assert code == 0 and err.startswith("note: spec.algorithm.algorithmName: Katib's webhook refuses 'random-then-tpe'") and err.count("\n") == 1, err
    _, code, out, err = kfp_tune(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store"), "--json"], env, tmp_path)
    assert code == 0 and json.loads(out)["succeeded"] == 2, err
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_my_tuner.py").write_text(contract)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", str(tests)], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    checks = sum(name.startswith("test_") for name in dir(AlgorithmContract))  # every check of the suite, each passed
    assert result.returncode == 0 and re.search(rf"\b{checks} passed\b", result.stdout), result.stdout[-3000:]
