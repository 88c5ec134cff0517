"""``kfp-tune run ... 2>&1 | head -1`` (a CI step capping its log; QA automation, session 37,
finding 3): the run went on to its end, but exited 141 (the reader went away) whatever the
experiment did, so a ``set -o pipefail`` job could not tell Succeeded from Failed. A run whose
output's reader is gone now exits as it would have (0 Succeeded, 1 Failed), as Python's docs
advise (its output sent to /dev/null, no traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment

KFP_TUNE = str(Path(sys.executable).parent / "kfp-tune")


def run_with_the_reader_gone(tmp_path: Path, experiment: dict, *flags: str) -> int:
    """The exit status of ``kfp-tune run`` whose stdout and stderr are one pipe, closed before it
    writes a line."""
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(experiment))
    child = subprocess.Popen(
        [KFP_TUNE, "run", str(path), "--engine", "inline", "--store", str(tmp_path / "store"), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    assert child.stdout is not None
    child.stdout.close()  # `| head -0`: the reader is gone before the first line
    return child.wait(timeout=300)


@pytest.mark.parametrize("flags", [(), ("--json",)])
def test_a_succeeded_run_whose_reader_went_away_exits_0(tmp_path, flags):
    code = run_with_the_reader_gone(tmp_path, quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1}), *flags)

    assert code == 0


def test_a_failed_run_whose_reader_went_away_exits_1(tmp_path):
    failing = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 0})
    failing["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"] = ["python3", "-c", "raise SystemExit(3)"]

    code = run_with_the_reader_gone(tmp_path, failing, "--json")

    assert code == 1
    done = subprocess.run([KFP_TUNE, "status", "quad", "--store", str(tmp_path / "store")], capture_output=True, text=True, timeout=120)
    assert "Failed" in done.stdout.splitlines()[0]
