"""An exported experiment's ``status:`` never reaches a compiled pipeline (the pipeline embeds
the spec, ``Experiment.to_dict()``, which leaves status out), so a submitted or scheduled run
has no status to warn of; the guide said the run's first step says it (review D of session 37,
finding 5). The guide now says what happens: only ``validate`` and ``kfp-tune run`` say it."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide.md"


def test_a_compiled_pipeline_carries_no_status_and_the_guide_says_so(tmp_path):
    document = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2})
    document["status"] = {"trials": 8, "trialsSucceeded": 5, "currentOptimalTrial": {"bestTrialName": "quad-bf03873c"}}
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(document))
    assert main(["compile", str(tmp_path / "e.yaml"), "-o", str(tmp_path / "p.yaml")]) == 0
    package = (tmp_path / "p.yaml").read_text()
    assert "quad-bf03873c" not in package and "trialsSucceeded" not in package
    guide = " ".join(GUIDE.read_text().split())
    assert "the run's first step says it" not in guide
    assert "`submit`, `schedule` and `compile` say nothing of it" in guide
