"""The guide says what the report does (QA "report", session 35, finding 10: it said the why
column is cut to 160 characters; the code cuts it at 224)."""

from __future__ import annotations

from pathlib import Path

from kfp_tune.reports import WHY_CHARS

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide.md"


def test_the_guide_gives_the_why_columns_cut_as_the_code_makes_it() -> None:
    text = " ".join(GUIDE.read_text(encoding="utf-8").split())
    assert f"why each that did not succeed ended, cut to {WHY_CHARS} characters" in text
