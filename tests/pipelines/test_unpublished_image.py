"""QA "airgap" finding 2: with KFP_TUNE_IMAGE unset, compile, submit, schedule and tune(host=)
silently named ghcr.io/kfp-tune/kfp-tune-python:VERSION, an image this project does not publish
(every step would fail to pull it, or run whatever someone else pushed there, with the store's
keys). Compiling to a file warns; sending to a cluster is refused, in one line naming
KFP_TUNE_IMAGE and the guide's paragraph, before anything is sent. kfp.local needs no image.

The suite runs with KFP_TUNE_IMAGE naming the default image (tests/conftest.py's ``_same_environment_for_every_test``):
these tests unset it, as a user's shell has it."""

from __future__ import annotations

import warnings

import pytest

import kfp_tune
from conftest import REPO, quadratic_experiment
from kfp_tune import search
from kfp_tune.cli import main
from kfp_tune.core.errors import InputError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.version import build_stamp, image_tag
from kfp_tune.launchers import runtime_image
from kfp_tune.launchers.runtime_image import DEFAULT_RUNTIME_IMAGE, IMAGE_GUIDE, RuntimeImageWarning, UnpublishedImageWarning
from kfp_tune.pipelines.builder import compile_pipeline

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")
VERSION = kfp_tune.__version__
TAG = image_tag(build_stamp())
"""The tag the guide asks a runtime image built from this checkout to carry: VERSION-BUILD (review B, finding 6)."""
REFUSED = (
    f"error: KFP_TUNE_IMAGE was not set when kfp_tune was imported, so its steps name {DEFAULT_RUNTIME_IMAGE}, which kfp-tune "
    f"does not publish (no cluster can pull it): build the runtime image, push it to a registry the cluster pulls from and set "
    f"it, e.g. KFP_TUNE_IMAGE=REGISTRY/kfp-tune-python:{TAG}, before kfp_tune is imported ({IMAGE_GUIDE})\n"
)


@pytest.fixture
def image_unset(monkeypatch):
    """KFP_TUNE_IMAGE unset now and when kfp_tune was imported: the components run the default."""
    monkeypatch.delenv("KFP_TUNE_IMAGE", raising=False)
    monkeypatch.setattr(runtime_image, "_VARIABLE_AT_IMPORT", "")
    monkeypatch.setattr(runtime_image, "RUNTIME_IMAGE", DEFAULT_RUNTIME_IMAGE)


def quadratic(params):
    return float((params["x"] - 2) ** 2)


@pytest.mark.parametrize("command", [["submit"], ["schedule", "--cron", "@daily"]])
def test_sending_the_default_image_to_a_cluster_is_refused_before_anything_is_sent(image_unset, fake_kfp_host, capsys, command):
    assert main([command[0], DIGITS, "--host", fake_kfp_host.url, *command[1:]]) == 2
    assert capsys.readouterr().err == REFUSED
    assert fake_kfp_host.requests == []


def test_tune_on_a_host_with_the_default_image_is_refused_before_anything_is_created(image_unset, fake_kfp_host):
    with pytest.raises(InputError) as info:
        kfp_tune.tune(quadratic, {"x": search.double(0, 4)}, host=fake_kfp_host.url, store="s3://team-bucket/tuning", max_trial_count=2)
    assert f"{info.value}\n" == REFUSED.removeprefix("error: ")
    assert fake_kfp_host.requests == []  # review B finding 4: refused before the host is asked anything, its health included


def test_katib_client_on_a_host_with_the_default_image_is_refused_before_the_host_is_asked_anything(image_unset, fake_kfp_host):
    from kfp_tune.katib_client import KatibClient

    with pytest.raises(InputError) as info:
        KatibClient(host=fake_kfp_host.url, store="s3://team-bucket/tuning").create_experiment(DIGITS)
    assert f"{info.value}\n" == REFUSED.removeprefix("error: ")
    assert fake_kfp_host.requests == []


def test_the_image_is_named_before_a_host_that_cannot_be_reached(image_unset):
    """Fixing the host (or its TLS, or the token) first, only to learn then that the image cannot
    be used: the image is told first (port 9, discard, refuses on loopback; nothing is waited for)."""
    with pytest.raises(InputError) as info:
        kfp_tune.submit_function(quadratic, {"x": search.double(0, 4)}, host="http://127.0.0.1:9", store="s3://team-bucket/tuning", max_trial_count=2)
    assert f"{info.value}\n" == REFUSED.removeprefix("error: ")


def test_compiling_to_a_file_with_the_default_image_warns_in_one_line(image_unset, tmp_path, capsys):
    assert main(["compile", DIGITS, "-o", str(tmp_path / "p.yaml"), "--rounds", "1"]) == 0
    lines = capsys.readouterr().err.splitlines()
    told = [line for line in lines if "KFP_TUNE_IMAGE" in line]
    assert told == [f"warning: {REFUSED.removeprefix('error: ').strip()}; until then no cluster can run this pipeline"], lines
    with pytest.warns(UnpublishedImageWarning):
        compile_pipeline(load_experiment(quadratic_experiment()), tmp_path / "q.yaml", rounds=1)


def test_a_package_compiled_with_the_default_image_is_refused_unless_the_variable_names_it(image_unset, fake_kfp_host, tmp_path, capsys, monkeypatch):
    """A package compiled elsewhere with KFP_TUNE_IMAGE unset is refused saying to compile it
    again; a registry mirror that serves the default's very name: KFP_TUNE_IMAGE set to it sends it."""
    package = tmp_path / "p.yaml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnpublishedImageWarning)
        compile_pipeline(load_experiment(quadratic_experiment()), package, rounds=1, store_uri="s3://team-bucket/tuning")
    capsys.readouterr()
    assert main(["submit", str(package), "--host", fake_kfp_host.url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: the package was compiled with KFP_TUNE_IMAGE unset, so its steps name {DEFAULT_RUNTIME_IMAGE}, ")
    assert f"compile it again with KFP_TUNE_IMAGE=REGISTRY/kfp-tune-python:{TAG} ({IMAGE_GUIDE})" in err
    assert fake_kfp_host.requests == []
    monkeypatch.setenv("KFP_TUNE_IMAGE", DEFAULT_RUNTIME_IMAGE)
    assert main(["submit", str(package), "--host", fake_kfp_host.url]) == 0, capsys.readouterr().err
    assert len(fake_kfp_host.runs) == 1


@pytest.mark.parametrize("tag", [":0.0.9", ":9.0.0", f":{VERSION}-1a2b3c4d5e6f", ":latest", "@sha256:" + "ab" * 32])
def test_a_package_naming_another_tag_of_the_unpublished_image_is_refused_unless_the_variable_names_it(
    image_unset, fake_kfp_host, tmp_path, capsys, monkeypatch, tag
):
    """Review B finding 5: a package another kfp-tune compiled with KFP_TUNE_IMAGE unset names
    its own version's tag of the image nobody publishes: refused as this version's is."""
    image = f"ghcr.io/kfp-tune/kfp-tune-python{tag}"
    package = tmp_path / "p.yaml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnpublishedImageWarning)
        compile_pipeline(load_experiment(quadratic_experiment()), package, rounds=1, store_uri="s3://team-bucket/tuning")
    package.write_text(package.read_text().replace(DEFAULT_RUNTIME_IMAGE, image))
    capsys.readouterr()
    assert main(["submit", str(package), "--host", fake_kfp_host.url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: the package was compiled with KFP_TUNE_IMAGE unset, so its steps name {image}, which kfp-tune does not publish"), err
    assert fake_kfp_host.requests == []
    monkeypatch.setenv("KFP_TUNE_IMAGE", image)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeImageWarning)  # another version's tag: told, and sent
        assert main(["submit", str(package), "--host", fake_kfp_host.url]) == 0, capsys.readouterr().err
    assert len(fake_kfp_host.runs) == 1


def test_another_image_and_kfp_local_say_nothing(image_unset, tmp_path, monkeypatch):
    """kfp.local runs the steps in this Python (no image); an image of the user's registry is
    what the warning asks for."""
    from kfp_tune.pipelines.local_run import local_pipeline

    experiment = load_experiment(quadratic_experiment())
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnpublishedImageWarning)
        local_pipeline(experiment, str(tmp_path / "store"), {"kind": "local"}, rounds=1)
        monkeypatch.setattr(runtime_image, "RUNTIME_IMAGE", f"reg.internal:5000/kfp-tune-python:{VERSION}")
        compile_pipeline(experiment, tmp_path / "p.yaml", rounds=1)
