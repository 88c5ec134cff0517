"""A ``.yaml`` / ``.json`` file larger than an experiment file may be (a dataset or a model saved
under that name, given by mistake) is refused by its size before any of it is read (QA
"security", session 38, finding 3): ``read_package``, which every command asks first ("is it a
compiled package?"), read it whole and parsed it (500 MB: 1.1 GB of memory; 1.5 GB: "unexpected
MemoryError (a defect in kfp-tune)"); it now looks at the size first. Past a package's own bound
(pipelines.submit.MAX_PACKAGE_BYTES, KFP's 32 MiB; review B of session 38, finding 3: a package
is no experiment) a package-named file is refused unread, naming both bounds; any other suffix
is the experiment loader's, naming its limit. Memory is measured with tracemalloc, not time."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from kfp_tune.cli import main
from kfp_tune.core.loading import MAX_DOCUMENT_BYTES
from kfp_tune.core.yaml_bounds import bounded_file_bytes
from kfp_tune.pipelines.submit import MAX_PACKAGE_BYTES, read_package

SPARSE = 64 * 1024 * 1024
"""The size of the sparse files (no disk taken): well past the limit, small enough that the old
whole read stayed harmless here."""


def sparse(tmp_path: Path, name: str, size: int = SPARSE) -> Path:
    file = tmp_path / name
    with file.open("wb") as handle:
        handle.truncate(size)
    return file


@pytest.mark.parametrize("name", ["big.yaml", "big.yml", "big.json"])
def test_a_package_named_file_past_the_limit_is_refused_unread(tmp_path, name):
    file = sparse(tmp_path, name)
    assert SPARSE > MAX_PACKAGE_BYTES
    tracemalloc.start()
    try:
        reading = read_package(file)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reading.document is None and f"larger than {MAX_PACKAGE_BYTES:,} bytes" in reading.broken, reading
    assert peak < 1024 * 1024, peak


@pytest.mark.parametrize("command", [["validate"], ["compile", "-o", "out"], ["submit"]])
@pytest.mark.parametrize("name", ["big.yaml", "big.json", "big.exp"])
def test_every_command_refuses_it_naming_the_limit_as_for_any_suffix(tmp_path, capsys, monkeypatch, command, name):
    monkeypatch.chdir(tmp_path)
    file = sparse(tmp_path, name)
    assert main([command[0], str(file), *command[1:]]) == 2
    err = capsys.readouterr().err
    if file.suffix == ".exp":
        assert f"{file} is larger than {MAX_DOCUMENT_BYTES:,} bytes (Kubernetes' request limit)" in err, err
    else:
        assert f"{file}: larger than {MAX_PACKAGE_BYTES:,} bytes, the most KFP's API server takes in a compiled pipeline package" in err, err
        assert f"an experiment file may have {MAX_DOCUMENT_BYTES:,}, Kubernetes' request limit" in err, err
    assert "MemoryError" not in err and "defect" not in err


def test_the_bound_holds_at_the_limit_exactly(tmp_path):
    at = tmp_path / "at.yaml"
    at.write_bytes(b"#" * MAX_DOCUMENT_BYTES)
    assert bounded_file_bytes(at, MAX_DOCUMENT_BYTES) == b"#" * MAX_DOCUMENT_BYTES
    past = tmp_path / "past.yaml"
    past.write_bytes(b"#" * (MAX_DOCUMENT_BYTES + 1))
    assert bounded_file_bytes(past, MAX_DOCUMENT_BYTES) is None


def test_a_file_whose_size_says_nothing_is_read_no_further_than_the_limit(tmp_path):
    """A pipe (its size reads 0): at most the limit + 1 bytes are read, and it is refused."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"#" * 64)
    os.close(write_end)
    try:
        assert bounded_file_bytes(Path(f"/dev/fd/{read_end}"), 10) is None
    finally:
        os.close(read_end)
