"""An OSError while ``kfp-tune compile`` builds the pipeline is said of the file it was about:
the output when it was the output, else the file the build read (before: every OSError read as
"-o/--output ...: cannot write it", pointing at a path that was fine)."""

from __future__ import annotations

import errno

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.pipelines import builder


@pytest.mark.parametrize("about", ["the output", "its temporary file", "another file"])
def test_the_error_names_the_file_it_was_about(tmp_path, monkeypatch, capsys, about):
    spec = tmp_path / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment()))
    output = tmp_path / "quad-pipeline.yaml"
    other = tmp_path / "templates" / "trial.yaml"

    written = {"the output": output, "its temporary file": tmp_path / ".quad-pipeline.yaml.93ce43d1.tmp", "another file": other}[about]

    def fails(*args, **kwargs):  # the output is written through a temporary file beside it (core.output_file)
        raise PermissionError(errno.EACCES, "Permission denied", str(written))

    monkeypatch.setattr(builder, "compile_pipeline", fails)
    assert main(["compile", str(spec), "-o", str(output), "--store", "s3://team-bucket/tuning"]) == 2
    err = capsys.readouterr().err
    if about != "another file":
        assert f"error: -o/--output {output}: cannot write it: Permission denied" in err
    else:
        assert f"error: cannot compile the pipeline: {other}: Permission denied" in err and "--output" not in err
    assert "Traceback" not in err
