"""kfp-tune schedule: what QA "schedule" (session 37) found, through the real kfp.Client against
the fake KFP API (tests/support/fake_kfp.py)."""

from __future__ import annotations

import pytest

from conftest import REPO
from kfp_tune.pipelines.submit import SubmitArgumentError

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")


@pytest.mark.parametrize("keyword", ["fresh_experiment", "allow_duplicate"])
@pytest.mark.parametrize("value", ["false", "true", "0", 0, 1, "no"])
def test_a_keyword_of_schedule_that_is_no_bool_is_refused_naming_it(fake_kfp_host, keyword, value):
    """fresh_experiment="false" went through bool() and made a fresh experiment per run (the run
    argument of that name reads the same text as false); allow_duplicate="false" let a duplicate
    through. Both now take True or False (fresh_experiment None too), else are refused, naming the
    keyword, before anything is sent."""
    import kfp_tune

    with pytest.raises(SubmitArgumentError) as raised:
        kfp_tune.schedule(DIGITS, "@daily", host=fake_kfp_host.url, **{keyword: value})
    (error,) = raised.value.errors
    assert error.path == keyword
    assert f"got {value!r}" in error.message and "True or False" in error.message, error.message
    assert fake_kfp_host.requests == []


def test_bool_keywords_of_schedule_are_taken_as_they_were(fake_kfp_host):
    import kfp_tune

    kfp_tune.schedule(DIGITS, "@daily", host=fake_kfp_host.url, fresh_experiment=False, name="continued")
    kfp_tune.schedule(DIGITS, "@daily", host=fake_kfp_host.url, fresh_experiment=True, name="fresh", allow_duplicate=False)
    kfp_tune.schedule(DIGITS, "@daily", host=fake_kfp_host.url, fresh_experiment=None, name="continued", allow_duplicate=True)
    assert [r["runtime_config"]["parameters"]["fresh_experiment"] for r in fake_kfp_host.posted("recurringruns")] == [False, True, False]


def test_the_replace_advice_says_to_disable_first_and_let_the_active_run_end(fake_kfp_host, capsys):
    """"Delete it and schedule again" deleted a firing still running: KFP deletes the recurring
    run's ScheduledWorkflow with no propagation policy, and the garbage collector takes the
    Workflows it owns (read from KFP's source, not run). Both refusals now say to disable it
    first and delete it once its active run has ended."""
    from kfp_tune.cli import main

    base = ["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", "0 0 2 * * *"]
    assert main(base) == 0, capsys.readouterr().err
    (first,) = fake_kfp_host.recurring_runs
    for again in ([], ["--name", "digits-weekly"]):  # the same name; the same continued experiment
        capsys.readouterr()
        assert main([*base, *again]) == 2
        err = " ".join(capsys.readouterr().err.split())
        disable = f"kfp.Client(host='{fake_kfp_host.url}').disable_recurring_run('{first}')"
        delete = f"kfp.Client(host='{fake_kfp_host.url}').delete_recurring_run('{first}')"
        assert disable in err and delete in err and err.index(disable) < err.index(delete), err
        assert "its active run has ended" in err and "deletes the Workflow of a run still running" in err, err
    assert len(fake_kfp_host.posted("recurringruns")) == 1
