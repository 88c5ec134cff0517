"""Every script under benchmarks/ answers ``--help`` with what it measures, and measures nothing:
some run for hours, so asking how to call one must not start it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCHMARKS.glob("*.py")))
def test_a_benchmark_script_describes_itself_on_help(script: str) -> None:
    path = BENCHMARKS / script
    summary = (ast.get_docstring(ast.parse(path.read_text())) or "").splitlines()[0]
    done = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=120, cwd=BENCHMARKS)
    assert done.returncode == 0, done.stderr
    text = "".join(done.stdout.split())  # argparse wraps the description anew, also after a hyphen
    assert done.stdout.startswith("usage:") and summary and "".join(summary.split()) in text, done.stdout[:300]


def test_the_algorithms_benchmark_refuses_too_few_trials_before_measuring(tmp_path: Path) -> None:
    """Below the minimum it ran for minutes, then ended in scikit-optimize's raw ValueError
    (n_calls >= 10): a usage error names --trials and the minimum first, and writes nothing."""
    out = tmp_path / "bench.md"
    done = subprocess.run([sys.executable, str(BENCHMARKS / "algorithms.py"), "--seeds", "1", "--trials", "5", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=BENCHMARKS)
    assert done.returncode == 2, done.stderr[-2000:]
    minimum = re.search(r"--trials must be at least (\d+), got 5: ", done.stderr)
    assert minimum and int(minimum[1]) > 5 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert not out.exists()
