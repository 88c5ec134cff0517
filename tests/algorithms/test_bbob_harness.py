"""benchmarks/bbob.py: the BBOB harness measures what its report says, on real COCO problems
with tiny budgets (seconds), and a stopped run resumes from its checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import folder_module

pytest.importorskip("cocoex", reason="the BBOB harness needs COCO's suite: pip install coco-experiment")

BBOB_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bbob.py"


@pytest.fixture(scope="module")
def bbob() -> Any:
    return folder_module(BBOB_PATH.parent, "bbob")


def test_the_optimum_is_below_every_random_point_and_reached_at_coco_s_optimum(bbob: Any) -> None:
    """Regret is measured against f_opt: no point of the box may score below it (else regrets
    would go negative), and it is attained (else no solver could reach regret 0)."""
    for function in (1, 15, 21):
        problem = bbob.coco_problem(function, 2, 1)
        f_opt = bbob.optimum(function, 2, 1)
        points = np.random.default_rng(function).uniform(-5, 5, (2000, 2))
        assert min(problem(x) for x in points) > f_opt
        # the sphere (f1) is f_opt + |x - x_opt|^2: a point 0.1 away from the optimum costs 0.02 in all
        if function == 1:
            with bbob.tempfile.TemporaryDirectory() as folder, bbob._inside(folder):
                problem._best_parameter("print")
                x_opt = np.loadtxt("._bbob_problem_best_parameter.txt")
            assert problem(x_opt + np.array([0.1, 0.1])) - f_opt == pytest.approx(0.02, rel=1e-6)


def test_a_run_reports_the_noiseless_regret_of_the_trial_with_the_best_observed_value(bbob: Any) -> None:
    """Random search draws the same points whatever the values, so with noise it sees the same
    points: its pick by noisy value can only be as good as the best noiseless point, and with
    large noise it is worse; without noise the regret never grows with the budget."""
    quiet = bbob.run_one(bbob.Run("none", 2, 15, 1, 0, "ours: random"), (5, 20))
    noisy = bbob.run_one(bbob.Run("gauss:1.0", 2, 15, 1, 0, "ours: random"), (5, 20))
    assert quiet["evaluations"] == noisy["evaluations"] == 40
    assert 0 < quiet["regret"]["20"] <= quiet["regret"]["5"]
    assert noisy["regret"]["20"] > quiet["regret"]["20"]
    assert noisy["regret"]["5"] >= quiet["regret"]["5"]
    # normalised: a typical random point's regret is 1, the best of 40 well below it
    assert quiet["regret"]["20"] < 0.5


def test_ranks_average_ties(bbob: Any) -> None:
    assert bbob.ranks([0.3, 0.1, 0.3, 0.0]) == [3.5, 2.0, 3.5, 1.0]


def test_group_ranks_and_medians_from_results(bbob: Any) -> None:
    """Two solvers on two separable and one multimodal problem run: ranks per run, averaged per
    group; a run one solver has not finished is left out of both."""
    results = {
        "none|d2|f1|i1|s0|a": {"regret": {"50": 0.1}},
        "none|d2|f1|i1|s0|b": {"regret": {"50": 0.2}},
        "none|d2|f2|i1|s0|a": {"regret": {"50": 0.5}},
        "none|d2|f2|i1|s0|b": {"regret": {"50": 0.4}},
        "none|d2|f3|i1|s0|a": {"regret": {"50": 0.9}},
        "none|d2|f15|i1|s0|a": {"regret": {"50": 0.3}},
        "none|d2|f15|i1|s0|b": {"regret": {"50": 0.3}},
        "gauss:0.01|d2|f15|i1|s0|a": {"regret": {"50": 0.0}},
    }
    summary = bbob.summarise(results, ["a", "b"], 50, "none", 2)
    assert summary["problems"] == 3
    assert summary["rank"]["separable"] == {"a": 1.5, "b": 1.5}
    assert summary["rank"]["multimodal"] == {"a": 1.5, "b": 1.5}
    assert summary["regret"]["separable"] == {"a": pytest.approx(0.3), "b": pytest.approx(0.3)}
    assert summary["function"][2] == {"a": 0.5, "b": 0.4}


def test_the_command_writes_a_report_and_resumes_from_its_checkpoint(bbob: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "bbob.md"
    argv = ["--functions", "1", "21", "--dims", "2", "--instances", "1", "--noise", "none", "--budget-multipliers", "3", "6", "--solvers", "random", "bayesianoptimization", "--out", str(out)]
    bbob.main(argv)
    data = json.loads(out.with_suffix(".json").read_text())
    assert sorted(data["results"]) == sorted(f"none|d2|f{f}|i1|s0|ours: {s}" for f in (1, 21) for s in ("random", "bayesianoptimization"))
    assert all(r["evaluations"] == 12 for r in data["results"].values())
    text = out.read_text()
    assert "### noiseless, d=2, budget 6·d = 12" in text and "| ours: bayesianoptimization |" in text
    assert "| 21 |" in text  # the per-function table against random search

    def must_not_run(*_: Any) -> None:
        raise AssertionError("a run already in the checkpoint was run again")

    monkeypatch.setattr(bbob, "run_one", must_not_run)
    bbob.main(argv)
    assert json.loads(out.with_suffix(".json").read_text())["results"] == data["results"]
    # a larger budget than the checkpoint's runs reached: those runs are redone, not skipped
    with pytest.raises(AssertionError, match="run again"):
        bbob.main([*argv[: argv.index("--budget-multipliers") + 1], "3", "9", *argv[argv.index("--budget-multipliers") + 3 :]])


def test_a_run_given_only_a_checkpoint_writes_its_report_beside_it_not_over_the_docs(bbob: Any, tmp_path: Path) -> None:
    """A resumed partial run (Ax's columns, made apart) must not replace docs/bbob-results.md."""
    docs_report = BBOB_PATH.parents[1] / "docs" / "bbob-results.md"
    before = docs_report.read_bytes()
    checkpoint = tmp_path / "part.json"
    bbob.main(["--functions", "1", "--dims", "2", "--instances", "1", "--noise", "none", "--budget-multipliers", "2", "--solvers", "random", "--checkpoint", str(checkpoint)])
    assert "| ours: random |" in (tmp_path / "part.md").read_text()
    assert docs_report.read_bytes() == before


def test_merge_folds_runs_made_apart_into_the_checkpoint(bbob: Any, tmp_path: Path) -> None:
    """Parts of the run made with their own checkpoints come together; the merged file's copy of
    a run wins (a solver rerun after a change replaces its old result)."""
    mine, theirs = tmp_path / "mine.json", tmp_path / "theirs.json"
    bbob.save(mine, {"multipliers": [20, 50], "results": {"a": {"regret": {"50": 1.0}}, "b": {"regret": {"50": 2.0}}}})
    bbob.save(theirs, {"multipliers": [20, 50], "results": {"b": {"regret": {"50": 3.0}}, "c": {"regret": {"50": 4.0}}}})
    assert bbob.merge(mine, [theirs]) == 2
    merged = json.loads(mine.read_text())
    assert merged["results"] == {"a": {"regret": {"50": 1.0}}, "b": {"regret": {"50": 3.0}}, "c": {"regret": {"50": 4.0}}}
    assert merged["multipliers"] == [20, 50]
    with pytest.raises(SystemExit, match=r"missing\.json does not exist"):
        bbob.merge(mine, [tmp_path / "missing.json"])
    assert json.loads(mine.read_text()) == merged  # a failed merge leaves the checkpoint as it was


def test_per_function_ratios_under_the_noise_are_marked_not_bold(bbob: Any) -> None:
    """Above random search's regret is bold, unless the solver's regret is under the noise's sd;
    no noise (floor 0) never marks."""
    assert bbob._ratio_cell(0.05, 0.1) == "0.5"
    assert bbob._ratio_cell(0.2, 0.1) == "**2**"
    assert bbob._ratio_cell(0.005, 0.001, 0.01) == "5 ≈"
    assert bbob._ratio_cell(0.02, 0.001, 0.01) == "**20**"
    assert bbob._ratio_cell(0.0, 0.0) == "="
    assert bbob._ratio_cell(0.005, 0.0, 0.01) == "≈"
    assert bbob._ratio_cell(0.005, 0.0) == "**worse**"


def test_the_focus_solver_s_place_and_how_often_resampling_keeps_it_in_the_top_two(bbob: Any) -> None:
    """Three solvers on three separable runs: ``a`` wins every run (place 1, top two in every
    resample); ``b`` is second in two runs and last in one, ``c`` the other way round: ``b``'s
    place is 2, and a resample keeps it in the top two unless it draws the run ``b`` lost two or
    three times of three: 7/27 of resamples, so its share is 20/27 (seeded: the same every
    call); ``c``'s is 7/27."""
    results = {}
    for run, (a, b, c) in enumerate([(0.1, 0.2, 0.3), (0.1, 0.2, 0.3), (0.1, 0.4, 0.3)]):
        for solver, value in zip("abc", (a, b, c), strict=True):
            results[f"none|d2|f{run + 1}|i1|s0|{solver}"] = {"regret": {"50": value}}
    first = bbob.place_and_top_two_share(results, list("abc"), 50, "none", 2, focus="a")
    assert first == {"separable": (1, 1.0)}
    (place, share), = bbob.place_and_top_two_share(results, list("abc"), 50, "none", 2, focus="b").values()
    assert place == 2 and share == pytest.approx(20 / 27, abs=0.03)
    assert bbob.place_and_top_two_share(results, list("abc"), 50, "none", 2, focus="b")["separable"] == (place, share)
    (place_c, share_c), = bbob.place_and_top_two_share(results, list("abc"), 50, "none", 2, focus="c").values()
    assert place_c == 3 and share_c == pytest.approx(7 / 27, abs=0.03)
