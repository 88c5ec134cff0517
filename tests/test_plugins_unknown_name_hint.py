"""An unknown algorithm or early-stopping rule in a process where no plug-in failed to load said
only "unknown algorithm 'x'; expected one of [...]" (QA of session 37): nothing told a user that
a plug-in may bring the name, how one registers, or that a compiled pipeline's steps need it in
their image. The refusal now says so in one clause; ``kfp-tune compile`` of an experiment whose
algorithm or rule a plug-in brings says the pipeline image must hold that plug-in."""

from __future__ import annotations

import warnings
from importlib import metadata
from pathlib import Path

import pytest
from test_plugins import MARKERS_PLUGIN, NEW_NAMES, environment, experiment_file, install
from test_plugins import kfp_tune as kfp_tune_command

import kfp_tune
from conftest import quadratic_experiment
from kfp_tune import plugins
from kfp_tune.api import TuneArgumentError
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.search import double

LOADED = metadata.EntryPoint("a-json", "json", plugins.GROUP)
HINT = ("no installed kfp-tune plug-in registers it (a plug-in declares its module in the 'kfp_tune.plugins' entry-point group; "
        "a compiled pipeline's steps need it installed in their image, the one KFP_TUNE_IMAGE names)")


def _load(monkeypatch: pytest.MonkeyPatch, *found: metadata.EntryPoint) -> None:
    monkeypatch.setattr(plugins, "_loaded", None)
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: list(found))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", plugins.PluginWarning)
        plugins.load_plugins()


def test_validation_of_an_unknown_name_says_how_a_plugin_registers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _load(monkeypatch, LOADED)
    try:
        load_experiment(quadratic_experiment(**NEW_NAMES))
    except SpecError as exc:
        errors = {e.path: e.message for e in exc.errors}
    algorithm, rule = errors["spec.algorithm.algorithmName"], errors["spec.earlyStopping.algorithmName"]
    assert algorithm.startswith("unknown algorithm 'marker-random'; expected one of [") and algorithm.endswith("]; " + HINT), algorithm
    assert rule.startswith("unknown early stopping algorithm 'marker-stop'; expected one of [") and rule.endswith("]; " + HINT), rule


def test_tune_says_it_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _load(monkeypatch, LOADED)
    with pytest.raises(TuneArgumentError) as refused:
        kfp_tune.tune(lambda p: p["x"], {"x": double(0, 1)}, algorithm="marker-random", store=str(tmp_path / "store"))
    assert HINT in str(refused.value), str(refused.value)


def test_katib_client_says_it_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from kfp_tune.katib_client import KatibClient

    _load(monkeypatch, LOADED)
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    with pytest.raises(RuntimeError) as refused:
        KatibClient(store=str(tmp_path)).tune(name="quad", objective=lambda p: p["lr"], parameters={"lr": double(0.1, 0.2)},
                                              objective_metric_name="acc", max_trial_count=4, algorithm_name="marker-random")
    assert "unknown algorithm 'marker-random': Katib has no Suggestion for it" in str(refused.value) and HINT in str(refused.value), str(refused.value)


def test_compile_says_the_image_must_hold_the_plugin(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install(site, "kfp-tune-markers", {"kfp_tune_markers.py": MARKERS_PLUGIN}, {"markers": "kfp_tune_markers"})
    env = environment(site, tmp_path / "markers") | {"KFP_TUNE_IMAGE": "registry.example/kfp-tune-python:1"}
    _, code, _, err = kfp_tune_command(["compile", str(experiment_file(tmp_path, **NEW_NAMES)), "-o", str(tmp_path / "p.yaml")], env, tmp_path)
    assert code == 0, err
    said = " ".join(err.split())
    for kind, name in (("algorithm", "marker-random"), ("early-stopping rule", "marker-stop")):
        assert (f"note: the {kind} '{name}' comes from kfp-tune plug-in 'markers' (distribution 'kfp-tune-markers'): the pipeline "
                f"image (registry.example/kfp-tune-python:1) must have it installed, or its steps refuse '{name}'") in said, err


def test_compile_of_a_takeover_says_the_steps_would_run_the_built_in(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install(site, "kfp-tune-markers", {"kfp_tune_markers.py": MARKERS_PLUGIN}, {"markers": "kfp_tune_markers"})
    env = environment(site, tmp_path / "markers") | {"KFP_TUNE_IMAGE": "registry.example/kfp-tune-python:1"}
    _, code, _, err = kfp_tune_command(["compile", str(experiment_file(tmp_path)), "-o", str(tmp_path / "p.yaml")], env, tmp_path)
    assert code == 0, err
    said = " ".join(err.split())
    assert ("note: the algorithm 'random' comes from kfp-tune plug-in 'markers' (distribution 'kfp-tune-markers'), which takes over "
            "kfp-tune's own: the pipeline image (registry.example/kfp-tune-python:1) must have it installed, or its steps run the "
            "built-in 'random' in its place") in said, err


def test_compile_of_built_in_names_says_nothing_of_plugins(tmp_path: Path) -> None:
    env = environment(None, tmp_path / "markers") | {"KFP_TUNE_IMAGE": "registry.example/kfp-tune-python:1"}
    _, code, _, err = kfp_tune_command(["compile", str(experiment_file(tmp_path)), "-o", str(tmp_path / "p.yaml")], env, tmp_path)
    assert code == 0 and "plug-in" not in err, err
