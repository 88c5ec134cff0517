"""kfp-tune schedule's "already scheduled" refusal (QA "schedule", session 32, finding 6): its
delete hint said kfp.Client() with no host, and a second schedule of the same continued tuning
experiment under another recurring-run name, or in another KFP experiment, was created beside
the first. Through the real kfp.Client against the fake KFP API (tests/support/fake_kfp.py)."""

from __future__ import annotations

import pytest

from conftest import REPO
from fake_kfp import serve
from kfp_tune.cli import main

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")


@pytest.fixture
def kfp_host():
    fake, server = serve(multi_user=True)
    yield fake
    server.shutdown()


def test_the_delete_hint_names_the_host_and_the_namespace(kfp_host, capsys):
    schedule = ["schedule", DIGITS, "--host", kfp_host.url, "--namespace", "team-a", "--cron", "@daily"]
    assert main(schedule) == 0, capsys.readouterr().err
    (first,) = kfp_host.recurring_runs
    capsys.readouterr()
    assert main(schedule) == 2
    err = capsys.readouterr().err
    assert f"kfp.Client(host='{kfp_host.url}', namespace='team-a').delete_recurring_run('{first}')" in err, err


@pytest.mark.parametrize("other", [["--name", "digits-weekly"], ["--experiment-name", "nightly-tuning"]], ids=["name", "kfp-experiment"])
def test_a_second_schedule_of_the_same_continued_experiment_is_refused(kfp_host, capsys, other):
    base = ["schedule", DIGITS, "--host", kfp_host.url, "--namespace", "team-a", "--cron", "0 0 2 * * *"]
    assert main(base) == 0, capsys.readouterr().err
    (first,) = kfp_host.recurring_runs
    capsys.readouterr()
    assert main([*base, *other]) == 2
    err = capsys.readouterr().err
    assert (f"\nerror: recurring run 'digits-random-scheduled' ({first}) already continues experiment 'digits-random' in "
            "s3://mlpipeline/private/team-a/kfp-tune: ") in err, err
    assert len(kfp_host.posted("recurringruns")) == 1
    # what keeps them apart is let through: a fresh experiment per run, another experiment, another store,
    # another namespace, --allow-duplicate
    apart = [["--fresh-experiment"], ["--param", "experiment_name=digits-other"], ["--store", "s3://mlpipeline/private/team-a/other"]]
    for number, flags in enumerate(apart):
        assert main([*base, *other, *flags, "--name", f"apart-{number}"]) == 0, capsys.readouterr().err
    assert main([*base[:5], "team-b", *base[6:], *other]) == 0
    assert main([*base, *other, "--allow-duplicate"]) == 0
    assert len(kfp_host.posted("recurringruns")) == 6


def test_a_disabled_schedule_of_the_experiment_does_not_count(kfp_host, capsys):
    base = ["schedule", DIGITS, "--host", kfp_host.url, "--namespace", "team-a", "--cron", "0 0 2 * * *"]
    assert main(base) == 0
    for recurring in kfp_host.recurring_runs.values():
        recurring["status"] = "DISABLED"
    assert main([*base, "--name", "digits-weekly"]) == 0, capsys.readouterr().err
