"""Every script under benchmarks/ answers ``--help`` with what it measures, and measures nothing:
some run for hours, so asking how to call one must not start it."""

from __future__ import annotations

import ast
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
