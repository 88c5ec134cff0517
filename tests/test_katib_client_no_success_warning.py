"""The warning when no trial succeeded, as a ``KatibClient.tune`` caller reads it: the client's
own prefix and Katib's ``get_job_logs`` for the output, which works on the client they hold,
not ``kfp_tune.Client(...).get_trial_logs``; ``kfp_tune.tune``'s own wording unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from kfp_tune import search
from kfp_tune.api import Trial, TuneResult
from kfp_tune.remote import no_trial_succeeded

FAILED = TuneResult(experiment="mf1", status="Succeeded", reason="ExperimentMaxTrialsReached", best_trial=None,
                    trials=[Trial(name="mf1-3nd44zmk", parameters={"x": 1}, metrics={}, status="Failed", message="TrialFailed. Job message: boom")],
                    store="file:///tmp/st")


def test_said_to_a_katib_client_caller_it_names_get_job_logs() -> None:
    warning = no_trial_succeeded(FAILED, katib_client=True)
    assert warning == ("KatibClient.tune: none of the 1 trials succeeded; the last failed trial, mf1-3nd44zmk, ended with "
                       "TrialFailed. Job message: boom; its output: get_job_logs('mf1', 'mf1-3nd44zmk') on this KatibClient")


def test_said_to_a_tune_caller_it_names_client_get_trial_logs() -> None:
    assert no_trial_succeeded(FAILED).startswith("tune(): none of the 1 trials succeeded")
    assert no_trial_succeeded(FAILED).endswith("its output: kfp_tune.Client('file:///tmp/st').get_trial_logs(('mf1', 'mf1-3nd44zmk'))")


def test_the_call_it_names_gives_the_failed_trials_traceback(katib: Any) -> None:
    """What the Katib-worded warning points at works on the client: get_job_logs of that trial."""
    def fails(params: dict[str, Any]) -> None:
        raise RuntimeError("diverged")

    with pytest.warns(UserWarning, match=r"^KatibClient\.tune: none of the 1 trials succeeded.*get_job_logs\('mf1', 'mf1-\w+'\) on this KatibClient$"):
        katib.tune(name="mf1", objective=fails, parameters={"x": search.int(min=1, max=2)}, objective_metric_name="acc",
                   max_trial_count=1, parallel_trial_count=1)
    (trial,) = katib.list_trials("mf1")
    assert any("RuntimeError: diverged" in line for line in katib.get_job_logs("mf1", trial.metadata.name))
