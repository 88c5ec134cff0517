"""A changed re-run of a categorical parameter names what the user gave as they gave it:
``search.categorical([True, False, None])``, not its stored text ``['True', 'False', 'None']``
(review B of the QA notebook fixes, finding 6); the stored side is the text the store keeps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kfp_tune import search, tune
from kfp_tune.core.errors import ExperimentConflict


def test_the_given_side_shows_the_values_given(tmp_path: Path) -> None:
    tune(lambda p: 0.0, {"flag": search.categorical([True, False])}, max_trial_count=1, algorithm="grid", store=str(tmp_path), name="f")
    with pytest.raises(ExperimentConflict) as refused:
        tune(lambda p: 0.0, {"flag": search.categorical([True, False, None])}, max_trial_count=1, algorithm="grid", store=str(tmp_path), name="f")
    said = re.sub(r"\s+", " ", str(refused.value))
    assert "parameters['flag'] (search.categorical(['True', 'False']) stored, search.categorical([True, False, None]) given)" in said, said
