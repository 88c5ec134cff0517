"""benchmarks/bbob_variant.py: a change to bayesianoptimization is measured against the reference
runs it pairs with, and the code the reference was made with gives every run again."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from conftest import folder_module

pytest.importorskip("cocoex", reason="the BBOB harness needs COCO's suite: pip install coco-experiment")

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
FOCUS = "ours: bayesianoptimization"


@pytest.fixture(scope="module")
def variant() -> Any:
    return folder_module(BENCHMARKS, "bbob_variant")


def test_the_code_the_reference_was_made_with_gives_every_run_again(variant: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Reference runs made by benchmarks/bbob.py (past the initial random trials, so the model
    decides), made again by ``run`` from the reference alone: the same regret to the last digit,
    to the same budgets, and ``compare`` says so. Only the slice asked for is run."""
    bbob = variant._load_bbob()
    reference = tmp_path / "reference.json"
    runs = [bbob.Run(noise, 2, function, 1, 0, FOCUS) for noise in ("none", "gauss:0.01") for function in (1, 21)]
    bbob.execute(runs, (4, 8), reference, 1)
    bbob.execute([bbob.Run("none", 2, 1, 1, 0, "ours: random")], (4, 8), reference, 1)  # another solver: never rerun
    made = tmp_path / "variant.json"
    variant.main(["run", str(made), "--reference", str(reference), "--noise", "gauss:0.01", "--functions", "21"])
    again = json.loads(made.read_text())["results"]
    key = f"gauss:0.01|d2|f21|i1|s0|{FOCUS}"
    assert list(again) == [key]
    assert again[key]["evaluations"] == 16
    assert again[key]["regret"] == json.loads(reference.read_text())["results"][key]["regret"]
    variant.main(["compare", str(made), "--reference", str(reference)])
    table = capsys.readouterr().out
    assert "| 2 | 16 | all | 1 | +0.000 ± 0.000 | 0 | 0 | 1 |" in table
    assert "| 2 | 16 | weak structure | 1 | +0.000 ± 0.000 | 0 | 0 | 1 |" in table
    assert "no reference run" not in table
    # a run the reference does not hold is named, not silently dropped
    data = json.loads(made.read_text())
    data["results"][f"gauss:0.01|d2|f22|i1|s0|{FOCUS}"] = again[key]
    made.write_text(json.dumps(data))
    variant.main(["compare", str(made), "--reference", str(reference)])
    assert f"1 of the variant's runs have no reference run and are not compared, e.g. gauss:0.01|d2|f22|i1|s0|{FOCUS}" in capsys.readouterr().out


def test_run_names_the_options_when_the_slice_holds_no_run(variant: Any, tmp_path: Path) -> None:
    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps({"results": {f"none|d2|f1|i1|s0|{FOCUS}": {"regret": {"20": 0.1}}}}))
    with pytest.raises(SystemExit, match=r"no reference run of bayesianoptimization in that slice.*--functions"):
        variant.main(["run", str(tmp_path / "v.json"), "--reference", str(reference), "--dims", "5"])
    with pytest.raises(SystemExit, match=r"missing\.json does not exist"):
        variant.main(["compare", str(tmp_path / "v.json"), "--reference", str(tmp_path / "missing.json")])
    assert not (tmp_path / "v.json").exists()


def test_later_reference_checkpoints_replace_earlier_runs_and_ratios_pair_by_run(variant: Any, tmp_path: Path) -> None:
    """The variant against the newest reference copy of each run: 10x better on f1, the same on
    f2, 100x worse on f15 (the optimum reached, 0, counted at the floor); a run the reference
    lacks is not paired."""
    first, second = tmp_path / "rerun.json", tmp_path / "repeat.json"
    first.write_text(json.dumps({"results": {"none|d2|f1|i1|s0|x": {"regret": {"20": 1.0}}, "none|d2|f2|i1|s0|x": {"regret": {"20": 0.5}}, "none|d2|f15|i1|s0|x": {"regret": {"20": 0.0}}}}))
    second.write_text(json.dumps({"results": {"none|d2|f1|i1|s0|x": {"regret": {"20": 0.1}}}}))
    reference = variant.reference_results([first, second])
    runs = {
        "none|d2|f1|i1|s0|x": {"regret": {"20": 0.01}},
        "none|d2|f2|i1|s0|x": {"regret": {"20": 0.5}},
        "none|d2|f15|i1|s0|x": {"regret": {"20": variant.REGRET_FLOOR * 100}},
        "none|d2|f3|i1|s0|x": {"regret": {"20": 9.0}},
    }
    ratios = variant.paired_log_ratios(runs, reference)
    assert ratios[(2, 20, "separable")] == pytest.approx([-1.0, 0.0])
    assert ratios[(2, 20, "multimodal")] == pytest.approx([2.0])
    assert sorted(ratios[(2, 20, "all")]) == pytest.approx([-1.0, 0.0, 2.0])
    lines = variant.ratio_lines(ratios)
    error = math.sqrt(((-1 - 1 / 3) ** 2 + (1 / 3) ** 2 + (2 - 1 / 3) ** 2) / 2) / math.sqrt(3)
    assert lines[2] == f"| 2 | 40 | all | 3 | +0.333 ± {error:.3f} | 1 | 1 | 1 |"


def test_places_on_a_report_with_the_reference_s_and_the_variant_s_runs(variant: Any) -> None:
    """Three solvers on two separable problems and one multimodal one. The report's own
    bayesianoptimization runs are replaced by the reference's, and those by the variant's: in
    separable it is third on the report's own runs, second on the reference's, first on the
    variant's; multimodal, where neither replaces its run, stays second."""
    def result(value: float) -> dict[str, Any]:
        return {"regret": {"20": value}}

    report = {}
    for function, (a, b, ours) in {1: (0.1, 0.2, 0.9), 2: (0.1, 0.2, 0.9), 15: (0.1, 0.3, 0.2)}.items():
        report.update({f"none|d2|f{function}|i1|s0|a": result(a), f"none|d2|f{function}|i1|s0|b": result(b), f"none|d2|f{function}|i1|s0|{FOCUS}": result(ours)})
    reference = {f"none|d2|f1|i1|s0|{FOCUS}": result(0.15), f"none|d2|f2|i1|s0|{FOCUS}": result(0.15), f"none|d2|f9|i1|s0|{FOCUS}": result(0.0)}
    runs = {f"none|d2|f1|i1|s0|{FOCUS}": result(0.05), f"none|d2|f2|i1|s0|{FOCUS}": result(0.05)}
    assert variant.places(report, 20, "none", 2)[0]["separable"] == (3, 3.0)
    groups, overall = variant.places({**report, **reference}, 20, "none", 2)
    assert groups == {"separable": (2, 2.0), "multimodal": (2, 2.0)}
    assert overall == (2, 2.0)
    # a report without bayesianoptimization's runs in that setting has no place to give
    assert variant.places({k: v for k, v in report.items() if FOCUS not in k}, 20, "none", 2) == ({}, (0, pytest.approx(math.nan, nan_ok=True)))
    rows = variant.place_lines(report, reference, runs)
    assert rows[2:] == [
        "| none | 2 | 40 | reference | 2 (2.00) |  |  | 2 (2.00) |  | 2 (2.00) |",
        "| none | 2 | 40 | variant | 1 (1.00) |  |  | 2 (2.00) |  | 1 (1.33) |",
    ]
