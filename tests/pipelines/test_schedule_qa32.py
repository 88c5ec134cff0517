"""kfp-tune schedule: what QA "schedule" (session 32) found, through the real kfp.Client against
the fake KFP API (tests/support/fake_kfp.py): a cron that can never fire, take_over baked into a
recurring run that continues one experiment, and a fake that now refuses what the real API
refuses (per namespace on multi-user KFP)."""

from __future__ import annotations

import pytest

from conftest import REPO
from fake_kfp import serve
from kfp_tune.cli import main
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.pipelines.submit import ArgumentsRefused, SubmitArgumentError, check_cron

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")


@pytest.mark.parametrize(
    "cron, day, months",
    [
        ("0 0 0 30 2 *", "30", "2"),
        ("0 0 0 31 2 *", "31", "2"),
        ("0 0 3 31 4,6,9,11 ?", "31", "4,6,9,11"),
        ("0 0 0 30,31 feb ?", "30,31", "feb"),
        ("0 0 0 31 apr-apr,jun *", "31", "apr-apr,jun"),
        ("0 0 0 31 2 */2", "31", "2"),  # robfig v1.2.0 keeps the star of */2: day of month AND day of week
    ],
)
def test_a_cron_whose_day_no_month_holds_is_refused_naming_the_field(fake_kfp_host, capsys, cron, day, months):
    """robfig/cron's Next returns the zero time for a day no month holds, which KFP's controller
    loops on under no_catchup: refused before anything is sent, at the day-of-month field."""
    with pytest.raises(SubmitArgumentError) as raised:
        check_cron(cron)
    (error,) = raised.value.errors
    assert error.path == "cron field 4 (day of month)"
    assert f"day {day} never falls in month {months}" in error.message and "never fires" in error.message, error.message
    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", cron]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --cron: field 4 (day of month): "), err
    assert fake_kfp_host.requests == []


@pytest.mark.parametrize(
    "cron",
    [
        "0 0 0 29 2 *",  # leap years
        "0 0 0 30 2 mon",  # day of month OR day of week: Mondays in February
        "0 0 0 31 * *",
        "0 0 0 31 1-12 ?",
        "0 0 0 30,31 2,3 *",
        "0 0 0 */31 2 *",  # */31 is day 1
        "0 0 0 31 */2 *",  # months 1, 3, 5, 7, 9, 11
        "0 0 0 30 2 sun-sat",
    ],
)
def test_a_cron_that_fires_is_accepted(cron):
    check_cron(cron)


def test_take_over_is_refused_in_a_recurring_run_that_continues_one_experiment(fake_kfp_host, capsys):
    """--param take_over=true was baked into every firing without a word: each would take the
    experiment from whatever run drives it. Refused, as --max-concurrency above 1 is; a fresh
    experiment per run may carry it."""
    import kfp_tune

    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", "@daily", "--param", "take_over=true"]) == 2
    err = capsys.readouterr().err
    assert "take_over" in err and "every run continues the same experiment" in err, err
    assert "--fresh-experiment" in err
    with pytest.raises(ArgumentsRefused) as raised:
        kfp_tune.schedule(DIGITS, "@daily", host=fake_kfp_host.url, arguments={"take_over": True})
    (error,) = raised.value.errors
    assert error.path == "arguments.take_over"
    assert fake_kfp_host.requests == []
    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", "@daily", "--param", "take_over=false"]) == 0
    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", "@daily", "--param", "take_over=true",
                 "--fresh-experiment", "--name", "fresh-nightly"]) == 0, capsys.readouterr().err
    assert [r["runtime_config"]["parameters"].get("take_over") for r in fake_kfp_host.posted("recurringruns")] == [False, True]


def test_the_fake_keys_experiments_and_recurring_runs_by_namespace_on_multi_user_kfp(multi_user_kfp_host):
    """The fake filed a team-a recurring run under the default namespace's KFP experiment of the
    same name; on multi-user KFP each namespace has its own."""
    import kfp_tune

    fake = multi_user_kfp_host
    other = kfp_tune.schedule(DIGITS, "@daily", host=fake.url, namespace="team-b", name="team-b-nightly")
    team = kfp_tune.schedule(DIGITS, "@daily", host=fake.url, namespace="team-a", name="team-a-nightly")
    assert other.kfp_experiment_id != team.kfp_experiment_id
    assert sorted((e["display_name"], e["namespace"]) for e in fake.experiments.values()) == [
        ("digits-random", "team-a"), ("digits-random", "team-b"),
    ]
    assert fake.recurring_runs[team.id]["namespace"] == "team-a"
    assert fake.recurring_runs[other.id]["namespace"] == "team-b"


def test_no_namespace_on_multi_user_kfp_is_refused_with_the_api_s_words(multi_user_kfp_host):
    """kfp.Client outside a pod knows no namespace (kubeflow means none to it): multi-user KFP
    refuses its lookup of the KFP experiment, and the error said only "400 Bad Request"; it now
    gives the server's message (KFP 2.x's ``message``), and nothing is created."""
    import kfp_tune

    with pytest.raises(KfpTuneError) as raised:
        kfp_tune.schedule(DIGITS, "@daily", host=multi_user_kfp_host.url)
    assert str(raised.value) == (
        f"KFP API at {multi_user_kfp_host.url} answered 400 Bad Request: List experiments failed: Failed to authorize with API: "
        "Invalid input error: An experiment cannot have an empty namespace in multi-user mode; give --namespace PROFILE "
        "(namespace= in Python): the Kubeflow profile namespace to run in"
    )
    assert multi_user_kfp_host.experiments == {} and multi_user_kfp_host.recurring_runs == {}


def test_no_namespace_is_read_from_the_developer_s_kfp_context(multi_user_kfp_host):
    """The fixture's kfp.Client reads no context.json and no pod namespace, wherever it runs."""
    import kfp

    client = kfp.Client(host=multi_user_kfp_host.url)
    assert client.get_user_namespace() == ""


def test_the_legacy_error_shape_is_read_too(capsys):
    """KFP before 2.x (grpc-gateway v1) put its words in ``error``: kfp_api_errors reads both."""
    from kfp_tune.pipelines.submit import kfp_api_errors

    fake, server = serve(legacy_errors=True)
    try:
        fake.fail_with = 403
        with pytest.raises(KfpTuneError) as raised, kfp_api_errors(fake.url):
            import kfp

            kfp.Client(host=fake.url).list_experiments()
    finally:
        server.shutdown()
    assert str(raised.value).startswith(f"KFP API at {fake.url} answered 403 Forbidden: refused by the fake (no access to this namespace)"), raised.value


def test_the_fake_reads_no_namespace_on_single_user_kfp(fake_kfp_host):
    """Single-user KFP replaces every namespace with none (ReplaceNamespace): one experiment."""
    import kfp_tune

    default = kfp_tune.schedule(DIGITS, "@daily", host=fake_kfp_host.url, name="single")
    team = kfp_tune.schedule(DIGITS, "@daily", host=fake_kfp_host.url, namespace="team-a", name="team-a-nightly")
    assert default.kfp_experiment_id == team.kfp_experiment_id
    assert [e["namespace"] for e in fake_kfp_host.experiments.values()] == [""]


def test_the_fake_refuses_what_the_kfp_api_refuses(multi_user_kfp_host):
    """A second experiment of one name in one namespace (409), an empty namespace on multi-user
    KFP (400, when an experiment is listed or created, when recurring runs are listed), a cron
    robfig/cron cannot parse and a max_concurrency outside 1-10 (400), as the KFP API server
    2.14-2.17 answers them: grpc-gateway v2's {code, message, details}, the message its wrapped
    chain of errors (util.Wrap), the details the innermost words."""
    import kfp

    fake = multi_user_kfp_host
    client = kfp.Client(host=fake.url, namespace="team-a")
    group = client._experiment_api.experiment_service_create_experiment(
        experiment=kfp.client.client.kfp_server_api.V2beta1Experiment(display_name="quad", namespace="team-a"),
    )
    with pytest.raises(kfp.client.client.kfp_server_api.ApiException) as raised:
        client._experiment_api.experiment_service_create_experiment(
            experiment=kfp.client.client.kfp_server_api.V2beta1Experiment(display_name="quad", namespace="team-a"),
        )
    assert raised.value.status == 409 and "The name quad already exists" in raised.value.body
    other = client._experiment_api.experiment_service_create_experiment(
        experiment=kfp.client.client.kfp_server_api.V2beta1Experiment(display_name="quad", namespace="team-b"),
    )
    assert other.experiment_id != group.experiment_id
    with pytest.raises(kfp.client.client.kfp_server_api.ApiException) as raised:
        client._experiment_api.experiment_service_create_experiment(
            experiment=kfp.client.client.kfp_server_api.V2beta1Experiment(display_name="nowhere"),
        )
    assert raised.value.status == 400 and "empty namespace" in raised.value.body

    def refused(answer: dict) -> tuple[object, str, str]:
        (detail,) = answer["details"]
        assert detail["@type"] == "type.googleapis.com/google.rpc.Status" and detail["code"] == answer["code"], answer
        assert set(answer) == {"code", "message", "details"}, answer  # KFP 2.x (grpc-gateway v2): no "error"
        return answer["code"], answer["message"], detail["message"]

    status, answer = fake.handle(_post("experiments", {"display_name": "quad", "namespace": "team-a"}))
    assert status == 409 and refused(answer) == (
        6,
        "Failed to create a experiment: Already exist error: Failed to create a new experiment. The name quad already exists. "
        "Please specify a new name",
        "Failed to create a new experiment. The name quad already exists. Please specify a new name",
    )
    status, answer = fake.handle(_post("experiments", {"display_name": "nowhere"}))
    assert status == 400 and refused(answer)[1] == (
        "Failed to create a experiment: Failed to authorize the request: Invalid input error: "
        "An experiment cannot have an empty namespace in multi-user mode"
    )
    status, answer = fake.handle(_get("experiments", {}))  # kfp.Client looks the name up first: refused there already
    assert status == 400 and refused(answer)[1:] == (
        "List experiments failed: Failed to authorize with API: Invalid input error: An experiment cannot have an empty namespace in "
        "multi-user mode",
        "An experiment cannot have an empty namespace in multi-user mode",
    )
    assert fake.handle(_get("experiments", {"namespace": ["team-a"]}))[0] == 200
    status, answer = fake.handle(_get("recurringruns", {}))
    assert status == 400 and refused(answer)[1] == (
        "Failed to list jobs: Failed to list recurring runs due to authorization error. Check if you have permission to access "
        "namespace : Invalid input error: a recurring run cannot have an empty namespace in multi-user mode"
    )
    assert fake.handle(_get("recurringruns", {"experiment_id": [group.experiment_id]}))[0] == 200  # the experiment's namespace
    converting = "Failed to create a recurring run due to conversion error: Invalid input error: "
    for body, said in [
        ({"trigger": {"cron_schedule": {"cron": "0 0 25 * * *"}}, "max_concurrency": "1"},
         "Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron). Error: End of range (25) above maximum (23): 25"),
        ({"trigger": {"cron_schedule": {"cron": "0 0 2 * *"}}, "max_concurrency": "1"}, None),  # five fields: robfig's Parse takes them
        ({"trigger": {"cron_schedule": {"cron": "0 0 1,,2 * * *"}}, "max_concurrency": "1"}, None),  # robfig's FieldsFunc drops the empty entry
        ({"trigger": {"cron_schedule": {"cron": "@every 1d"}}, "max_concurrency": "1"},
         'Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron). Error: Failed to parse duration @every 1d: '
         'time: unknown unit "d" in duration "1d"'),
        ({"trigger": {"cron_schedule": {"cron": "0 0 2 * * *"}}, "max_concurrency": "11"},
         "Max concurrency of a recurring run must be at least 1 and at most 10. Received 11"),
        ({"trigger": {"cron_schedule": {"cron": "0 0 2 * * *"}}, "max_concurrency": "0"},
         "Max concurrency of a recurring run must be at least 1 and at most 10. Received 0"),
    ]:
        status, answer = fake.handle(_post("recurringruns", dict(body, display_name="r", experiment_id=group.experiment_id)))
        if said is None:
            assert status == 200, answer
        else:
            assert status == 400 and refused(answer) == (3, converting + said, said), (body, answer)


def test_a_second_kfp_experiment_of_one_name_is_refused_by_the_api_and_told_clearly(multi_user_kfp_host):
    """kfp.Client looks the name up before it creates it: a race apart, the 409 is never met
    through schedule; met directly, kfp_api_errors says the status and the server's words."""
    from kfp_tune.pipelines.submit import kfp_api_errors

    fake = multi_user_kfp_host
    assert fake.handle(_post("experiments", {"display_name": "quad", "namespace": "kubeflow"}))[0] == 200
    import kfp

    client = kfp.Client(host=fake.url, namespace="kubeflow")
    with pytest.raises(KfpTuneError) as raised, kfp_api_errors(fake.url):
        client._experiment_api.experiment_service_create_experiment(
            experiment=kfp.client.client.kfp_server_api.V2beta1Experiment(display_name="quad", namespace="kubeflow"),
        )
    assert str(raised.value) == (
        f"KFP API at {fake.url} answered 409 Conflict: Failed to create a experiment: Already exist error: Failed to create a new "
        "experiment. The name quad already exists. Please specify a new name"
    )


def _post(path: str, body: dict) -> object:
    from fake_kfp import API, Request

    return Request("POST", f"{API}/{path}", {}, body, {})


def _get(path: str, query: dict) -> object:
    from fake_kfp import API, Request

    return Request("GET", f"{API}/{path}", query, None, {})


@pytest.mark.parametrize("cron", ["CRON_TZ=America/New_York 0 0 2 * * *", "TZ=UTC 0 0 2 * *", "TZ=Europe/Paris 0 0 2 * * *", "CRON_TZ=UTC @daily"])
def test_a_time_zone_in_the_cron_is_refused_saying_which_zone_kfp_reads(fake_kfp_host, capsys, cron):
    """A TZ= / CRON_TZ= prefix was refused as a wrong field count or 'TZ=UTC is not a number',
    with no word of time zones (review C, finding 8): robfig/cron v1.2.0 takes none, and KFP
    reads the cron in its controller's zone."""
    with pytest.raises(SubmitArgumentError) as raised:
        check_cron(cron)
    (error,) = raised.value.errors
    assert error.path == "cron"
    assert "takes no time zone" in error.message and "UTC unless the cluster sets CRON_SCHEDULE_TIMEZONE" in error.message, error.message
    assert f"got {cron!r}" in error.message, error.message
    assert main(["schedule", DIGITS, "--host", fake_kfp_host.url, "--cron", cron]) == 2
    assert capsys.readouterr().err.startswith("error: --cron: "), cron
    assert fake_kfp_host.requests == []
