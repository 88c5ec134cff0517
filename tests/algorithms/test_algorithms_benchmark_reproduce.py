"""benchmarks/algorithms.py writes docs/benchmarks.md's "Reproduce:" line itself: a new run
must write the command and the torch install the docs give (``--seeds 10 --trials 50``, torch's
CPU wheel), not the ``pip install torch==2.13.0`` (the multi-GB CUDA build) and the 5-seed default
that a run wrote back over the corrected page (QA docs, session 32, finding 4's follow-up)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from test_docs_agree import CPU_WHEEL, benchmark_commands

from conftest import REPO, folder_module

BENCHMARKS = REPO / "benchmarks"
QUALITY = {"branin": {"ours: random": {10: 1.0, 25: 0.5, 50: 0.25}}}
SPEED = {"random": {50: 0.001}}
BUDGET = {"random search": 0.25}


def test_a_run_writes_the_reproduce_line_docs_benchmarks_gives() -> None:
    benchmark = folder_module(BENCHMARKS, "algorithms")
    written = benchmark.report(QUALITY, SPEED, BUDGET, seeds=10, trials=50, seconds=60.0).splitlines()
    page = (REPO / "docs" / "benchmarks.md").read_text().splitlines()
    (reproduce,) = [line for line in written if line.startswith("Reproduce:")]
    assert reproduce in page, reproduce
    assert benchmark_commands(reproduce) == [" --seeds 10 --trials 50"]
    assert CPU_WHEEL in reproduce and "torch==" not in reproduce


def test_the_default_seeds_are_the_docs_tables_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python benchmarks/algorithms.py`` with no --seeds measures as the docs' table did."""
    benchmark = folder_module(BENCHMARKS, "algorithms")
    asked: dict[str, Any] = {}

    class Measured(Exception):
        pass

    def quality(seeds: int, trials: int, *_: object) -> None:
        asked.update(seeds=seeds, trials=trials)
        raise Measured

    monkeypatch.setattr(benchmark, "optimizers", dict)
    monkeypatch.setattr(benchmark, "quality", quality)
    with pytest.raises(Measured):
        benchmark.main(["--out", str(tmp_path / "benchmarks.md")])
    page = (REPO / "docs" / "benchmarks.md").read_text()
    assert f"Median over {asked['seeds']} seeds" in page and asked == {"seeds": 10, "trials": 50}


def test_without_torch_the_script_says_to_install_its_cpu_wheel(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    benchmark = folder_module(BENCHMARKS, "algorithms")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    selected = benchmark.optimizers()
    assert "ref: optuna GPSampler" not in selected
    said = capsys.readouterr().err
    assert "skipping Optuna's GPSampler" in said and CPU_WHEEL in said, said
