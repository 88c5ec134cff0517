"""benchmarks/algorithms.py's ``--only ... --quality-only``: one optimizer's quality measured
again and merged in, the speed and budget tables kept as the last full run measured them (a
re-measure while other benchmarks load the cores would otherwise rewrite them slower)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import folder_module

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
EARLIER = {
    "quality": {"branin": {"ours: random": {"10": 99.0}, "ref: random": {"10": 7.0}}, "svm-breast-cancer": {"ref: random": {"10": 0.5}}},
    "optima": {"svm-breast-cancer": 1.0},  # worse than any run finds: the new runs' best replaces it
    "speed": {"random": {"50": 0.001, "200": 0.002}},
    "budget": {"random search": 0.25},
}


def test_quality_only_remeasures_one_row_and_keeps_the_rest(tmp_path: Path) -> None:
    benchmark = folder_module(BENCHMARKS, "algorithms")
    out = tmp_path / "benchmarks.md"
    out.with_suffix(".json").write_text(json.dumps(EARLIER))
    out.write_text("# old\n\n## Quality\n\nold\n\n## Other section\n\nkept by hand\n")
    benchmark.main(["--seeds", "1", "--trials", "10", "--only", "ours: random", "--quality-only", "--out", str(out)])
    results = json.loads(out.with_suffix(".json").read_text())
    assert results["speed"] == EARLIER["speed"] and results["budget"] == EARLIER["budget"]
    assert results["quality"]["branin"]["ref: random"] == {"10": 7.0}
    assert results["quality"]["branin"]["ours: random"]["10"] != 99.0
    assert set(results["quality"]) == {"branin", "hartmann6", "mixed", "svm-breast-cancer"}
    # the SVM has no known optimum: the earlier row is moved to the new best value found
    new_optimum = results["optima"]["svm-breast-cancer"]
    assert new_optimum < 0.2
    assert results["quality"]["svm-breast-cancer"]["ref: random"]["10"] == pytest.approx(0.5 + 1.0 - new_optimum)
    assert results["quality"]["svm-breast-cancer"]["ours: random"]["10"] == 0.0  # one seed: its best is the optimum
    text = out.read_text()
    assert "quality of ours: random only; the other rows and the speed and budget tables are from the run before" in text
    assert "| random | 0.001 | 0.002 |" in text
    assert text.rstrip().endswith("kept by hand")


def test_only_refuses_earlier_results_without_the_optimum_their_rows_are_measured_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benchmark = folder_module(BENCHMARKS, "algorithms")
    out = tmp_path / "benchmarks.md"
    out.with_suffix(".json").write_text(json.dumps({key: value for key, value in EARLIER.items() if key != "optima"}))
    with pytest.raises(SystemExit) as stop:
        benchmark.main(["--seeds", "1", "--trials", "10", "--only", "ours: random", "--out", str(out)])
    assert stop.value.code == 2
    assert "holds no optimum for svm-breast-cancer" in capsys.readouterr().err


def test_quality_only_without_an_earlier_full_run_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benchmark = folder_module(BENCHMARKS, "algorithms")
    with pytest.raises(SystemExit) as stop:
        benchmark.main(["--only", "ours: random", "--quality-only", "--out", str(tmp_path / "benchmarks.md")])
    assert stop.value.code == 2
    assert "--quality-only needs --only and the results of a full run in" in capsys.readouterr().err
