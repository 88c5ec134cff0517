"""Where a categorical value is read as its text, the docs say so (review B of the QA notebook
fixes, finding 6): a TuneResult and the function hold the objects, but
``Client.get_optimal_hyperparameters``, KatibClient and the reports hold the text Katib's spec
keeps, and help(tune) says the function gets the object given."""

from __future__ import annotations

import re
from pathlib import Path

from kfp_tune import Client, search, tune

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide.md"


def _categorical_paragraph() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("**Categorical values.**")
    return re.sub(r"\s+", " ", text[start:text.index("\n\n", start)])


def test_the_client_gives_the_text_and_the_result_the_object_as_the_guide_says(tmp_path: Path) -> None:
    result = tune(lambda p: 0.0 if p["flag"] is False else 1.0, {"flag": search.categorical([True, False])}, max_trial_count=2,
                  algorithm="grid", store=str(tmp_path), name="flags")
    assert result.best_trial.parameters["flag"] is False
    best = Client(str(tmp_path)).get_optimal_hyperparameters("flags")
    assert best.parameter_assignments[0].value == "False"  # Katib's text, as its DB manager gives it
    said = _categorical_paragraph()
    for where in ("get_optimal_hyperparameters", "KatibClient", "kfp-tune report", "best-trial component"):
        assert where in said, where


def test_help_tune_says_a_categorical_value_arrives_as_the_object_given() -> None:
    doc = re.sub(r"\s+", " ", tune.__doc__ or "")
    assert "a categorical value as the very object given" in doc
