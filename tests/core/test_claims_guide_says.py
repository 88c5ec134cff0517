"""The guide's paragraph on runs and claims says what ``Claim.live`` does for a kfp.local run
whose steps are processes of their own (review C of the claim fixes, finding 3): the grace
after its last sign of life, Ctrl-C as well as a kill, the compiled pipeline under plain
kfp.local, the process that runs such a pipeline (held while it runs a step, free once it and the
steps are gone, nothing by itself while it runs none), and the pod's TTL."""

from __future__ import annotations

import re
from pathlib import Path

from kfp_tune.core.claims import DEFAULT_TTL, HAND_OVER_SECONDS

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"


def _sentence_on_killed_runs() -> str:
    text = re.sub(r"\s+", " ", GUIDE.read_text(encoding="utf-8"))
    start = text.index("A run killed on this machine")
    return text[start:text.index("--take-over", start)]


def test_the_guide_states_the_kfp_local_rule_as_the_code_has_it() -> None:
    said = _sentence_on_killed_runs()
    assert f"for {HAND_OVER_SECONDS:g} s after its last sign of life" in said
    assert f"taken as gone {HAND_OVER_SECONDS:g} s after its last sign of life" in said
    assert "Ctrl-C" in said and "kfp-tune compile" in said
    assert f"{DEFAULT_TTL / 60:g} minutes" in said, "a pod's claim: its TTL"
    assert "lapses as a pod's does" not in said, "a killed kfp.local run is not waited out for the TTL"
    assert "while that process runs a step (a child that is a kfp.local step), through a step of your own of any length" in said, "Claim.driver"
    assert "Alive but running no step, that process holds nothing by itself" in said, "an idle driver: the grace and the TTL (review A, finding 1)"
    assert "taken as gone as soon as its steps' processes have ended" in said, "that process gone: grace 0"
