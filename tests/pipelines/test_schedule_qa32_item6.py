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


def test_a_refused_schedule_creates_nothing(kfp_host, capsys):
    """A refused schedule had already created its KFP experiment (review C, finding 3): each try
    left an empty one in the user's namespace, under the name given. Both refusals now come
    before anything is created; the KFP experiment a same-name refusal needs is looked up."""
    base = ["schedule", DIGITS, "--host", kfp_host.url, "--namespace", "team-a", "--cron", "0 0 2 * * *"]
    assert main(base) == 0, capsys.readouterr().err
    assert main([*base[:-1], "0 0 2 * * 0", "--experiment-name", "weekly-tuning", "--name", "digits-weekly"]) == 2
    assert "already continues experiment 'digits-random'" in capsys.readouterr().err
    assert main(base) == 2  # the same name in the KFP experiment that exists
    assert "recurring run 'digits-random-scheduled' is already in KFP experiment 'digits-random'" in capsys.readouterr().err
    assert sorted((e["display_name"], e["namespace"]) for e in kfp_host.experiments.values()) == [("digits-random", "team-a")]
    assert len(kfp_host.posted("experiments")) == 1 and len(kfp_host.posted("recurringruns")) == 1


def test_the_same_name_refusal_advises_only_what_is_let_through(kfp_host, capsys):
    """The same-name refusal said "give this one another name ... crons that never overlap" keeps
    both, which the same-experiment refusal then refused (review C, finding 2). Each way it now
    gives is let through."""
    at_two = ["schedule", DIGITS, "--host", kfp_host.url, "--namespace", "team-a", "--cron", "0 0 2 * * *"]
    base = [*at_two, "--name", "a1"]
    assert main(base) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(base) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "give this one another name (--name, name=) or pass --allow-duplicate" not in err, err
    assert ("to keep both, give this one another name (--name, name=), and only where the two never drive one experiment at once: "
            "a fresh experiment per run (--fresh-experiment) or another experiment_name (--param experiment_name=...); two that "
            "continue one experiment on crons that never overlap need --allow-duplicate (allow_duplicate=True)") in err, err
    assert main([*at_two, "--name", "a2"]) == 2  # another name alone: the same experiment
    assert "already continues experiment 'digits-random'" in capsys.readouterr().err
    assert main([*at_two, "--name", "a2", "--fresh-experiment"]) == 0, capsys.readouterr().err
    assert main([*at_two, "--name", "a3", "--param", "experiment_name=digits-other"]) == 0, capsys.readouterr().err
    at_two_pm = [*at_two[:-1], "0 0 14 * * *"]
    assert main([*at_two_pm, "--name", "a4"]) == 2  # crons that never overlap: still the same experiment
    assert main([*at_two_pm, "--name", "a4", "--allow-duplicate"]) == 0, capsys.readouterr().err
    assert [r["display_name"] for r in kfp_host.posted("recurringruns")] == ["a1", "a2", "a3", "a4"]


def test_allow_duplicate_says_both_refusals_it_overrides(capsys):
    assert main(["schedule", "--help"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    allow = said[said.rindex("--allow-duplicate"):]
    assert "of that name" in allow and "same experiment" in allow, allow


def test_the_namespace_checked_is_kfp_s_own_when_none_is_given(kfp_host, tmp_path, monkeypatch):
    """With no namespace given, kfp.Client's own (its context.json, or the pod's) is the one
    whose recurring runs are listed, before any KFP experiment exists to say it."""
    import json
    import warnings

    import kfp

    import kfp_tune
    from kfp_tune.pipelines.submit import RecurringRunExists

    context = tmp_path / "context.json"
    context.write_text(json.dumps({"namespace": "team-a"}))
    monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT", str(context))
    monkeypatch.setattr(kfp.Client, "_NAMESPACE_PATH", str(tmp_path / "no-service-account" / "namespace"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kfp_tune.schedule(DIGITS, "0 0 2 * * *", host=kfp_host.url, name="first")
        with pytest.raises(RecurringRunExists, match=r"'first' .* already continues experiment 'digits-random'"):
            kfp_tune.schedule(DIGITS, "0 0 2 * * *", host=kfp_host.url, name="second", kfp_experiment="elsewhere")
    assert [e["display_name"] for e in kfp_host.experiments.values()] == ["digits-random"]
    assert [r["namespace"] for r in kfp_host.recurring_runs.values()] == ["team-a"]
