"""The files kfp-tune writes at a name its user chose (``report -o``, ``compile -o``) replace a
link at that name and never write through it, as the store never follows a link: in a shared
folder another user could plant ``NAME.html`` pointing at a file of the victim's (QA "security",
session 31: the file the link pointed to was overwritten)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.output_file import write_output


def _planted(path: Path, victim: Path) -> None:
    victim.write_text("the victim's own file\n")
    path.symlink_to(victim)


def test_report_replaces_a_link_at_its_file_names_and_leaves_what_it_pointed_to(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})))
    store = tmp_path / "store"
    assert main(["run", str(spec), "--engine", "inline", "--store", str(store)]) == 0
    out = tmp_path / "shared"
    out.mkdir()
    for suffix in ("md", "html"):
        _planted(out / f"quad.{suffix}", tmp_path / f"victim.{suffix}")
    capsys.readouterr()
    assert main(["report", "quad", "--store", str(store), "-o", str(out)]) == 0
    for suffix in ("md", "html"):
        assert (tmp_path / f"victim.{suffix}").read_text() == "the victim's own file\n"
        written = out / f"quad.{suffix}"
        assert not written.is_symlink() and "quad" in written.read_text()
    assert sorted(p.name for p in out.iterdir()) == ["quad.html", "quad.md"], "no temporary file left beside them"


def test_compile_replaces_a_link_at_its_output_and_leaves_what_it_pointed_to(tmp_path: Path) -> None:
    spec = tmp_path / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment()))
    output = tmp_path / "pipeline.yaml"
    _planted(output, tmp_path / "victim.yaml")
    assert main(["compile", str(spec), "-o", str(output)]) == 0
    assert (tmp_path / "victim.yaml").read_text() == "the victim's own file\n"
    assert not output.is_symlink() and output.read_text().startswith("# PIPELINE DEFINITION")


def test_an_output_follows_the_umask_as_any_file_a_program_writes(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_output(tmp_path / "out.txt", b"x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o640


def test_a_failed_write_leaves_nothing_beside_the_name(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()  # renaming a file over a folder fails
    with pytest.raises(OSError):
        write_output(tmp_path / "taken", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_a_regular_file_replaced_keeps_its_permissions(tmp_path: Path) -> None:
    """Review A (session 31): a report its user had made private (0600) came back 0644."""
    path = tmp_path / "report.html"
    path.write_text("old")
    path.chmod(0o600)
    write_output(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("output", ["s3://bkt/p.yaml", "s3:/bkt/p.yaml", "s3//bkt/p.yaml", "gs://bkt/p.yaml"])
def test_compile_to_a_uri_is_refused_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], output: str) -> None:
    """It said "the folder 's3:/bkt' does not exist", and wrote there when such a folder existed."""
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment()))
    (tmp_path / "s3:" / "bkt").mkdir(parents=True)
    (tmp_path / "s3" / "bkt").mkdir(parents=True)
    capsys.readouterr()
    assert main(["compile", str(spec), "-o", output]) == 2
    assert "expected a file on this machine, got a URI" in capsys.readouterr().err
    assert not list((tmp_path / "s3:" / "bkt").iterdir()) and not list((tmp_path / "s3" / "bkt").iterdir())


def test_a_windows_style_or_plain_name_is_no_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kfp_tune.stores import uri_like

    assert [uri_like(t) for t in ("C:/x", "reports", "./s3", "user:data/x", "s3://b/x", "s3:/b", "s3//b", "file:/x", "gs://b")] == [
        False, False, False, False, True, True, True, True, True,
    ]


def test_compile_pipeline_to_a_uri_given_as_a_path_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review B (session 31): Path("s3://bkt/p.yaml") is "s3:/bkt/p.yaml" and was written there."""
    from kfp_tune.core.errors import InputError
    from kfp_tune.pipelines.builder import compile_pipeline

    monkeypatch.chdir(tmp_path)
    (tmp_path / "s3:" / "bkt").mkdir(parents=True)
    with pytest.raises(InputError, match="expected a file on this machine, got a URI"):
        compile_pipeline(quadratic_experiment(), Path("s3://bkt/p.yaml"))
    assert not list((tmp_path / "s3:" / "bkt").iterdir())


def test_a_replaced_file_keeps_no_setuid_bit(tmp_path: Path) -> None:
    """Review B (session 31): the permissions kept were all of them, setuid and setgid too."""
    path = tmp_path / "report.html"
    path.write_text("old")
    path.chmod(0o6755)
    write_output(path, b"new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
