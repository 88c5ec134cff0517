"""A compiled KFP package over the experiment file's 3 MiB was refused as if it were an
experiment ("big.yaml is larger than 3,145,728 bytes (Kubernetes' request limit)", review B of
session 38, finding 3): read_package read any package-named file by the experiment's bound and
left a larger one to the experiment loader, where before ab7ac29 it was told as a package and
refused by the 1 MiB a KFP run can carry. A package now has a bound of its own, KFP's API
server's on a pipeline file (MAX_PACKAGE_BYTES, 32 MiB): one within it is read as a package, so
submit says what a package is told (the run's 1 MiB); past it, the file is refused unread, in
words about a package as well as an experiment (whichever it was meant to be). Memory is
measured with tracemalloc, not time."""

import tracemalloc
from pathlib import Path

import pytest

import kfp_tune
from kfp_tune.cli import main
from kfp_tune.core.loading import MAX_DOCUMENT_BYTES
from kfp_tune.pipelines.submit import MAX_PACKAGE_BYTES, PackageReading, package_document, read_package
from own_pipeline import own_package

PADDED = MAX_DOCUMENT_BYTES + 1024 * 1024


def _padded_package(tmp_path: Path, name: str = "big.yaml") -> Path:
    """The user's own compiled pipeline, padded with a comment to past the experiment's bound."""
    path = own_package(tmp_path, name)
    text = path.read_text()
    path.write_text(text + "#" * (PADDED - len(text.encode())) + "\n")
    assert path.stat().st_size > MAX_DOCUMENT_BYTES
    return path


def _sparse(tmp_path: Path, name: str, size: int) -> Path:
    file = tmp_path / name
    with file.open("wb") as handle:
        handle.truncate(size)
    return file


def test_the_package_bound_is_kfps_and_above_the_experiments():
    assert MAX_PACKAGE_BYTES == 32 * 1024 * 1024 > MAX_DOCUMENT_BYTES


def test_a_package_past_the_experiment_bound_is_read_as_a_package(tmp_path):
    path = _padded_package(tmp_path)
    reading = read_package(path)
    assert reading.document is not None and reading.document["pipelineInfo"]["name"] == "own-pipeline"
    assert package_document(path)["pipelineInfo"]["name"] == "own-pipeline"


def _run_budget_words(path: Path) -> str:
    return f"the compiled pipeline is {path.stat().st_size:,} bytes, over the 1,048,576 bytes (1 MiB) a KFP run can carry"


def test_the_cli_tells_it_as_a_package(fake_kfp_host, tmp_path, capsys):
    path = _padded_package(tmp_path)
    assert main(["submit", str(path), "--host", fake_kfp_host.url]) == 2
    err = capsys.readouterr().err
    assert _run_budget_words(path) in err, err
    assert "Kubernetes' request limit" not in err and "an experiment is a few KB" not in err, err
    assert not fake_kfp_host.posted("runs")


def test_the_python_submit_tells_it_as_a_package(fake_kfp_host, tmp_path):
    from kfp_tune.core.errors import InputError

    path = _padded_package(tmp_path)
    with pytest.raises(InputError) as refused:
        kfp_tune.submit(str(path), host=fake_kfp_host.url)
    assert _run_budget_words(path) in str(refused.value)
    assert not fake_kfp_host.posted("runs")


def test_an_experiment_like_file_past_the_experiment_bound_is_still_the_loaders(tmp_path, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text("apiVersion: kubeflow.org/v1beta1\nkind: Experiment\n" + "#" * PADDED + "\n")
    assert read_package(path) == PackageReading()
    assert main(["submit", str(path), "--host", "http://127.0.0.1:9"]) == 2
    assert f"{path} is larger than {MAX_DOCUMENT_BYTES:,} bytes (Kubernetes' request limit)" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["huge.yaml", "huge.json"])
def test_a_file_past_the_package_bound_is_refused_unread_in_words_about_a_package(tmp_path, capsys, name):
    path = _sparse(tmp_path, name, MAX_PACKAGE_BYTES + 1)
    tracemalloc.start()
    try:
        reading = read_package(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, peak
    assert f"larger than {MAX_PACKAGE_BYTES:,} bytes" in reading.broken and "pipeline package" in reading.broken, reading
    assert main(["submit", str(path), "--host", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert f"larger than {MAX_PACKAGE_BYTES:,} bytes" in err and "KFP's API server" in err, err
