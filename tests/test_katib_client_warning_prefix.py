"""Every warning ``KatibClient.tune`` shows begins with the client's prefix, ``KatibClient.tune:``
(the resume note of a cell run twice, an algorithm setting it runs without reading, no trial
succeeded), as its errors do; ``kfp_tune.tune`` keeps ``tune():``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from kfp_tune import search, tune


def fails(params: dict[str, Any]) -> None:
    raise RuntimeError("diverged")


def scores(params: dict[str, Any]) -> float:
    return float(params["x"])


def warned(call: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught]


def test_katib_client_tune_run_twice_warns_in_the_clients_words(katib: Any) -> None:
    def run() -> None:
        katib.tune(name="rr", objective=fails, parameters={"x": search.double(min=0, max=1)}, objective_metric_name="acc",
                   max_trial_count=1, parallel_trial_count=1)

    first, again = warned(run), warned(run)
    assert len(first) == 1 and first[0].startswith("KatibClient.tune: none of the 1 trials succeeded"), first
    assert any("has already completed" in message for message in again), again
    assert all(message.startswith("KatibClient.tune: ") for message in again), again


def test_katib_client_tune_warns_an_unread_algorithm_setting_in_the_clients_words(katib: Any) -> None:
    messages = warned(lambda: katib.tune(name="sob", objective=scores, parameters={"x": search.double(min=0, max=1)},
                                         objective_metric_name="acc", algorithm_name="sobol", algorithm_settings={"random_stat": "1"},
                                         max_trial_count=1, parallel_trial_count=1))
    assert any("algorithm_settings" in message and "random_stat" in message for message in messages), messages
    assert all(message.startswith("KatibClient.tune: ") for message in messages), messages


def test_kfp_tune_tune_keeps_its_own_prefix(tmp_path: Path) -> None:
    def run() -> None:
        tune(fails, parameters={"x": search.double(min=0, max=1)}, objective_metric_name="acc", name="rr", max_trial_count=1,
             parallel_trial_count=1, store=str(tmp_path / "store"), algorithm="sobol", algorithm_settings={"random_stat": "1"})

    first, again = warned(run), warned(run)
    assert any(message.startswith("tune(): algorithm_settings: ") for message in first), first
    assert any(message.startswith("tune(): none of the 1 trials succeeded") for message in first), first
    assert any(message.startswith("tune(): ") and "has already completed" in message for message in again), again
