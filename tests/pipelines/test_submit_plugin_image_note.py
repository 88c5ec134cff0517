"""Review A of session 38, finding 3 (of a56c8fe): ``kfp-tune compile`` said that the pipeline
image must have the plug-in an experiment's algorithm or early-stopping rule comes from, but
``submit`` and ``schedule``, which compile and send the same pipeline, said nothing: there every
step refuses the name, or runs the built-in a plug-in took over. They now say it too, from the
one rule compile uses (:func:`kfp_tune.plugins.plugins_the_image_needs`), which also names a
store scheme a plug-in brings."""

from __future__ import annotations

import pytest

from conftest import REPO
from kfp_tune import plugins
from kfp_tune.launchers import runtime_image

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")
PROVIDER = plugins.PluginProvider("markers", "kfp-tune-markers", takes_over=True)


def _taken_over(kind: str, name: str, image: str, does: str) -> str:
    return (f"note: the {kind} '{name}' comes from kfp-tune plug-in 'markers' (distribution 'kfp-tune-markers'), which takes over "
            f"kfp-tune's own: the pipeline image ({image}) must have it installed, or its steps {does} in its place")


@pytest.mark.parametrize("command", ["submit", "schedule"])
def test_submit_and_schedule_say_the_image_needs_the_plugin(fake_kfp_host, monkeypatch, capsys, command):
    from kfp_tune.cli import main

    monkeypatch.setattr(plugins, "_providers", {("algorithm", "random"): PROVIDER, ("store scheme", "s3"): PROVIDER})
    cron = ["--cron", "0 0 2 * * *"] if command == "schedule" else []
    assert main([command, DIGITS, "--host", fake_kfp_host.url, *cron, "--param", "store_uri=s3://team-bucket/kfp-tune"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    image = runtime_image.RUNTIME_IMAGE
    assert _taken_over("algorithm", "random", image, "run the built-in 'random'") in err, err
    assert _taken_over("store scheme", "s3", image, "open the store s3://team-bucket/kfp-tune with the built-in 's3'") in err, err


def test_a_rule_a_plugin_brings_is_said_as_refused_without_it(monkeypatch):
    from conftest import quadratic_experiment
    from kfp_tune.core.loading import load_experiment

    monkeypatch.setattr(plugins, "_providers", {("early-stopping rule", "medianstop"): plugins.PluginProvider("stops", None, takes_over=False)})
    experiment = load_experiment(quadratic_experiment(**{"spec.earlyStopping": {"algorithmName": "medianstop"}}))
    notes = plugins.plugins_the_image_needs(experiment, "/a/folder", "r/x:1")
    assert notes == ["the early-stopping rule 'medianstop' comes from kfp-tune plug-in 'stops': the pipeline image (r/x:1) must have it "
                     "installed, or its steps refuse 'medianstop'"], notes


@pytest.mark.parametrize("command", ["submit", "schedule"])
def test_built_in_names_say_nothing_of_plugins(fake_kfp_host, monkeypatch, capsys, command):
    from kfp_tune.cli import main

    monkeypatch.setattr(plugins, "_providers", {})
    cron = ["--cron", "0 0 2 * * *"] if command == "schedule" else []
    assert main([command, DIGITS, "--host", fake_kfp_host.url, *cron]) == 0
    assert "plug-in" not in capsys.readouterr().err
