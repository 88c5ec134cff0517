"""A ``tune()`` result says what was searched for and how: its repr and its notebook table show the
direction and the objective (``minimize accuracy``) and the algorithm, and ``help(tune)`` says
that the default algorithm's first 10 trials are random draws, so a 10-trial ``tune()`` with the
defaults is a random search. They said neither, so a minimized accuracy read as an answer (QA
notebook, session 36, finding 5)."""

from __future__ import annotations

from pathlib import Path

from kfp_tune import search, tune
from kfp_tune.api import Trial, TuneResult


def test_the_result_shows_the_direction_the_objective_and_the_algorithm(tmp_path: Path) -> None:
    result = tune(lambda p: 1 - p["x"], {"x": search.double(0, 1)}, objective_metric_name="accuracy", algorithm="random",
                  algorithm_settings={"random_state": 2}, max_trial_count=2, store=str(tmp_path / "store"), name="acc")
    assert (result.objective, result.algorithm) == ("minimize accuracy", "random")
    lines = repr(result).splitlines()
    assert lines[1:4] == ["  status: Succeeded (ExperimentMaxTrialsReached)", "  objective: minimize accuracy (lower is better)",
                          "  algorithm: random"], lines
    page = result._repr_html_()
    assert "<th style=\"text-align:left\">objective</th><td style=\"text-align:left\">minimize accuracy (lower is better)</td>" in page
    assert "<th style=\"text-align:left\">algorithm</th><td style=\"text-align:left\">random</td>" in page


def test_a_maximized_objective_reads_higher_is_better(tmp_path: Path) -> None:
    result = tune(lambda p: p["x"], {"x": search.double(0, 1)}, objective_metric_name="acc", objective_type="maximize",
                  max_trial_count=1, store=str(tmp_path / "store"), name="up")
    assert "  objective: maximize acc (higher is better)\n  algorithm: bayesianoptimization\n" in repr(result)


def test_a_result_made_without_them_shows_neither() -> None:
    best = Trial("e-1", {"x": 0.5}, {"loss": 0.25}, "Succeeded")
    text = repr(TuneResult("e", "Succeeded", "ExperimentMaxTrialsReached", best, [best], "file:///runs"))
    assert "objective:" not in text and "algorithm:" not in text


def test_help_says_the_default_algorithms_first_ten_trials_are_random() -> None:
    doc = " ".join((tune.__doc__ or "").split())
    assert "Its first 10 trials (its n_initial_points setting) are random draws" in doc, doc
    assert "a tune() with the default max_trial_count (10) is a random search" in doc, doc


def test_the_start_is_logged_at_info_with_the_name_the_algorithm_the_budget_and_the_store(tmp_path: Path, caplog) -> None:
    """Shown where the notebook has set up logging, beside the per-trial lines; a library
    configures no logging, so nothing is printed otherwise."""
    import logging

    with caplog.at_level(logging.INFO, logger="kfp_tune"):
        tune(lambda p: p["x"], {"x": search.double(0, 1)}, max_trial_count=1, store=str(tmp_path / "store"), name="said")
    starts = [r.getMessage() for r in caplog.records if r.name == "kfp_tune.api"]
    assert starts[0] == (f"tune(): experiment 'said', algorithm bayesianoptimization, 1 trial(s) (1 at a time), records in "
                         f"{(tmp_path / 'store').as_uri()}"), starts
