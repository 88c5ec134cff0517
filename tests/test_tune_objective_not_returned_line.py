"""The early "returned no 'objective'" warning (e3e43fe) names the line that called tune(), as
tune()'s other warnings do, not kfp-tune's own line on the trial's thread (review B of the QA
notebook fixes, finding 4)."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

from kfp_tune import search, tune


def test_the_warning_points_at_the_line_that_called_tune(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
        tune(lambda p: {"loss": p["x"]}, {"x": search.double(0, 1)}, max_trial_count=2, parallel_trial_count=2, store=str(tmp_path))
    (said,) = [w for w in caught if "returned no 'objective'" in str(w.message)]
    assert (said.filename, said.lineno) == (__file__, line)
