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


@pytest.mark.parametrize("cron, offered", [("0 2 * * 1-5", "0 0 2 * * 1-5"), ("*/15 * * * *", "0 */15 * * * *"), ("  30 4 1 * *", "0 30 4 1 * *")])
def test_a_five_field_cron_is_refused_offering_its_six_field_form(fake_kfp_host, capsys, cron, offered):
    """The crontab / Kubernetes CronJob form most operators type was refused with only the daily
    example: the refusal now says why (KFP's robfig/cron reads five fields seconds first) and
    offers the six-field form, a 0 seconds field in front."""
    from kfp_tune.cli import main

    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", cron]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error: --cron: "), err
    assert f"write it with a seconds field in front: '{offered}'" in err, err
    assert "reads five fields as seconds, minutes, hours, day of month and month" in err, err
    assert fake_kfp_host.requests == []
    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", offered]) == 0, capsys.readouterr().err


def test_a_five_field_cron_whose_six_field_form_is_refused_offers_nothing():
    with pytest.raises(SubmitArgumentError) as raised:
        from kfp_tune.pipelines.submit import check_cron

        check_cron("0 25 * * *")
    (error,) = raised.value.errors
    assert "reads five fields as seconds" in error.message and "a seconds field in front" in error.message, error.message
    assert "'0 0 25 * * *'" not in error.message, error.message


@pytest.mark.parametrize(
    "param, macro",
    [
        ("experiment_name=digits-[[ScheduledTime.20060102]]", "[[ScheduledTime.20060102]]"),
        ("store_uri=s3://mlpipeline/kfp-tune/[[ScheduledTime.20060102]]", "[[ScheduledTime.20060102]]"),
        ("store_uri=s3://mlpipeline/kfp-tune/[[Index]]", "[[Index]]"),
        ("experiment_name=d-{{$.scheduledTime.strftime('%Y%m%d')}}", "{{$.scheduledTime.strftime('%Y%m%d')}}"),
    ],
)
def test_kfp_s_run_macros_in_kfp_tune_s_parameters_are_refused(fake_kfp_host, capsys, param, macro):
    """KFP fills [[ScheduledTime]], [[Index]], [[RunUUID]], {{$.scheduledTime.strftime(...)}} ...
    into a recurring run's parameters at each firing: in experiment_name it was refused as no
    name without a word of why; in store_uri it was accepted, said 'every run continues the same
    experiment', and each firing tuned a fresh experiment in a store of its own. Refused, naming
    the parameter and the macro, pointing to --fresh-experiment. (store_secret, s3_endpoint and
    launcher_config are told to be literal: tests/pipelines/test_s3_endpoint_macro.py.)"""
    from kfp_tune.cli import main

    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", "0 0 2 * * *", "--param", param]) == 2
    err = " ".join(capsys.readouterr().err.split())
    name = param.partition("=")[0]
    assert err.startswith(f"error: --param {name}: "), err
    assert f"holds {macro!r}, KFP's run macro" in err and "KFP fills it in at each firing" in err, err
    assert "--fresh-experiment" in err and "kfp-tune takes no KFP macros in its parameters" in err, err
    assert fake_kfp_host.requests == []
    assert main(["submit", DIGITS, "--host", fake_kfp_host.url, "--param", param]) == 2  # a one-off run's too (RunUUID, CurrentTime)
    assert f"--param {name}: " in capsys.readouterr().err


def test_text_kfp_leaves_alone_is_no_macro(fake_kfp_host, capsys):
    """Only what KFP's ParameterFormatter fills in is refused: a store path with [[other]] is
    sent as it is, as KFP leaves it."""
    from kfp_tune.cli import main

    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", "0 0 2 * * *", "--param", "store_uri=s3://mlpipeline/[[x]]"]) == 0, capsys.readouterr().err


def test_a_compiled_package_gets_the_names_its_yaml_would(fake_kfp_host, tmp_path, capsys):
    """A package kfp-tune compile wrote was scheduled in KFP experiment 'kfp-tune-digits-random'
    as 'kfp-tune-digits-random-scheduled' (submit: '...-run'), where its YAML goes to
    'digits-random' as 'digits-random-scheduled' ('digits-random-tuning'), as the docs say for
    both: moving from the YAML to a package put tonight's runs beside last month's in another
    KFP experiment. The package's experiment_name default names them now."""
    from kfp_tune.cli import main

    package = tmp_path / "pkg.yaml"
    assert main(["compile", DIGITS, "-o", str(package), "--store", "s3://mlpipeline/kfp-tune"]) == 0
    assert main(["schedule", str(package), "--host", fake_kfp_host.url, "--cron", "0 0 2 * * *", "--name", "from-package",
                 "--allow-duplicate"]) == 0, capsys.readouterr().err
    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", "0 0 3 * * *", "--name", "from-yaml", "--allow-duplicate"]) == 0
    assert main(["schedule", str(package), "--host", fake_kfp_host.url, "--cron", "0 0 4 * * *", "--allow-duplicate"]) == 0
    assert main(["submit", str(package), "--host", fake_kfp_host.url]) == 0, capsys.readouterr().err
    assert [e["display_name"] for e in fake_kfp_host.experiments.values()] == ["digits-random"]
    assert [r["display_name"] for r in fake_kfp_host.recurring_runs.values()] == ["from-package", "from-yaml", "digits-random-scheduled"]
    assert [r["display_name"] for r in fake_kfp_host.runs.values()] == ["digits-random-tuning"]
    capsys.readouterr()
    # the refusal beside the first names the KFP experiment both share
    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", "0 0 3 * * *", "--name", "from-package"]) == 2
    assert "recurring run 'from-package' is already in KFP experiment 'digits-random'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["schedule", "submit"])
def test_multi_user_kfp_without_a_namespace_is_told_to_give_one(multi_user_kfp_host, capsys, command):
    """Multi-user KFP refuses a call without a namespace in its own words ('... cannot have an
    empty namespace in multi-user mode'), which the guide explains: the error now says the flag."""
    from kfp_tune.cli import main

    flags = ["--cron", "@daily"] if command == "schedule" else []
    assert main([command, DIGITS, "--host", multi_user_kfp_host.url, *flags]) == 1
    err = capsys.readouterr().err
    assert "empty namespace in multi-user mode; give --namespace PROFILE (namespace= in Python)" in err, err
    assert multi_user_kfp_host.experiments == {}
