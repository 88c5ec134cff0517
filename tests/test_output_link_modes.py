"""The mode of a file kfp-tune writes over a link planted at its name (``report -o``,
``compile -o``): a new file's, under the umask, never the link's own 0777 (world-writable) nor
the mode of the file the link pointed to (another user's choice). Mutation pass, session 31:
of-01, of-05."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.output_file import write_output


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _planted(path: Path, victim: Path) -> None:
    """A link at ``path`` to ``victim``, a file of mode 0640 (neither the link's 0777 nor what the umask gives)."""
    victim.write_text("the victim's own file\n")
    victim.chmod(0o640)
    path.symlink_to(victim)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_file_written_over_a_link_has_a_new_files_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "out.txt"
    _planted(path, tmp_path / "victim.txt")
    write_output(path, b"x")
    assert not path.is_symlink() and path.read_bytes() == b"x"
    assert _mode(path) == 0o644
    assert _mode(tmp_path / "victim.txt") == 0o640


def test_compile_over_a_link_writes_a_pipeline_no_other_user_can_change(tmp_path: Path, umask_022: None) -> None:
    spec = tmp_path / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment()))
    output = tmp_path / "pipeline.yaml"
    _planted(output, tmp_path / "victim.yaml")
    assert main(["compile", str(spec), "-o", str(output)]) == 0
    assert not output.is_symlink() and _mode(output) == 0o644
