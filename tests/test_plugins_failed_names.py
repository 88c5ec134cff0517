"""An experiment naming an algorithm or early-stopping rule that nothing registered, in a process
where a plug-in failed to load, is refused with a message that says which plug-in failed (it may
be the one that registers the name): the refusal only said "unknown algorithm", and the warning
that said why was a screen away, or in another process's log (a pipeline step's)."""

from __future__ import annotations

import warnings
from importlib import metadata
from pathlib import Path

import pytest
from test_plugins import NEW_NAMES, environment, experiment_file, install
from test_plugins import kfp_tune as kfp_tune_command

import kfp_tune
from conftest import quadratic_experiment
from kfp_tune import plugins
from kfp_tune.api import TuneArgumentError
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.plugin_failures import NO_PLUGIN_HINT
from kfp_tune.search import double

MISSING = metadata.EntryPoint("my-tuner", "kfp_tune_no_such_plugin_module", plugins.GROUP)
LOADED = metadata.EntryPoint("a-json", "json", plugins.GROUP)
NOTE = "kfp-tune plug-in 'my-tuner' could not be loaded (see its warning above) and may be what registers it"


def load(monkeypatch: pytest.MonkeyPatch, *found: metadata.EntryPoint) -> dict[str, str]:
    """load_plugins run again in this process, over the entry points ``found``."""
    monkeypatch.setattr(plugins, "_loaded", None)
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: list(found))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", plugins.PluginWarning)
        return plugins.load_plugins()


def errors_of(**overrides: object) -> dict[str, str]:
    """Validation's message for each field of the experiment, by its path."""
    try:
        load_experiment(quadratic_experiment(**overrides))
    except SpecError as exc:
        return {e.path: e.message for e in exc.errors}
    return {}


def test_an_unknown_algorithm_and_rule_name_the_plugin_that_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch, LOADED, MISSING)["my-tuner"].startswith("ModuleNotFoundError")
    errors = errors_of(**NEW_NAMES)
    algorithm, rule = errors["spec.algorithm.algorithmName"], errors["spec.earlyStopping.algorithmName"]
    assert algorithm.startswith("unknown algorithm 'marker-random'; expected one of [") and algorithm.endswith("; " + NOTE), algorithm
    assert rule.startswith("unknown early stopping algorithm 'marker-stop'; expected one of [") and rule.endswith("; " + NOTE), rule
    assert "a-json" not in algorithm + rule  # it loaded


def test_two_plugins_that_failed_are_both_named(monkeypatch: pytest.MonkeyPatch) -> None:
    other = metadata.EntryPoint("b-tuner", "kfp_tune_no_such_plugin_module_either", plugins.GROUP)
    load(monkeypatch, MISSING, other)
    message = errors_of(**NEW_NAMES)["spec.algorithm.algorithmName"]
    assert message.endswith("; kfp-tune plug-ins 'b-tuner', 'my-tuner' could not be loaded (see their warnings above) and one may be what registers it"), message


def test_without_a_failed_plugin_the_message_names_no_plugin_and_says_how_one_registers(monkeypatch: pytest.MonkeyPatch) -> None:
    load(monkeypatch, LOADED)
    errors = errors_of(**NEW_NAMES)
    for path in ("spec.algorithm.algorithmName", "spec.earlyStopping.algorithmName"):
        assert errors[path].endswith("]; " + NO_PLUGIN_HINT) and "could not be loaded" not in errors[path], errors[path]


def test_the_note_goes_when_the_failed_load_is_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The record is what load_plugins' result says now: a test that loads again and restores
    the first result (monkeypatch's undo) leaves no failure behind for the next test."""
    with monkeypatch.context() as patched:
        load(patched, MISSING)
        assert NOTE in errors_of(**NEW_NAMES)["spec.algorithm.algorithmName"]
    assert "could not be loaded" not in errors_of(**NEW_NAMES)["spec.algorithm.algorithmName"]


def test_a_known_name_gets_no_note(monkeypatch: pytest.MonkeyPatch) -> None:
    load(monkeypatch, MISSING)
    assert errors_of() == {}


def test_tune_names_the_plugin_that_failed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    load(monkeypatch, MISSING)
    with pytest.raises(TuneArgumentError) as refused:
        kfp_tune.tune(lambda p: p["x"], {"x": double(0, 1)}, algorithm="marker-random", store=str(tmp_path / "store"))
    message = str(refused.value)
    assert "unknown algorithm 'marker-random'; expected one of [" in message and message.rstrip(".").endswith(NOTE), message
    assert not (tmp_path / "store").exists()


def test_the_command_names_the_broken_plugin_in_its_refusal(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install(site, "broken-plugin", {"broken_plugin.py": "raise RuntimeError('boom')\n"}, {"broken": "broken_plugin"})
    _, code, _, err = kfp_tune_command(["validate", str(experiment_file(tmp_path, **NEW_NAMES))], environment(site, tmp_path / "markers"), tmp_path)
    assert code == 2 and "Traceback" not in err, err
    lines = err.splitlines()
    assert lines[0].startswith("warning: kfp-tune plug-in 'broken' ") and "RuntimeError: boom" in lines[0], err
    note = "kfp-tune plug-in 'broken' could not be loaded (see its warning above) and may be what registers it"
    assert sum(1 for line in lines if "unknown algorithm 'marker-random'" in line and note in line) == 1, err
    assert sum(1 for line in lines if "unknown early stopping algorithm 'marker-stop'" in line and note in line) == 1, err
