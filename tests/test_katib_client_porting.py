"""What a notebook ported from Katib's SDK (``kubeflow.katib``) to ``kfp_tune`` meets when it runs
here without a host: the calls it makes, with Katib's arguments, behave as they do on Katib or
say why not before anything runs."""

from __future__ import annotations

import pytest

from kfp_tune import search


def never_called(parameters):
    raise AssertionError("no trial runs: the call is refused first")


def test_katibs_tune_without_max_trial_count_is_refused_here_when_the_search_would_never_end(katib):
    """Katib's tune() returns once the Experiment exists; here, without a host, the trials run in
    this process until the experiment ends: with no budget and a space random search never runs
    out of, the notebook was blocked for good (thousands of trials, no word). Refused before
    anything runs, naming max_trial_count; nothing is written. (max_failed_trial_count=1 bounds
    nothing a trial that succeeds does: it only ends this test's run at once where the call is
    not refused.)"""
    with pytest.raises(ValueError, match="max_trial_count is required without a host") as caught:
        katib.tune(name="endless", objective=never_called, parameters={"x": search.double(min=1, max=2)}, objective_metric_name="a",
                   max_failed_trial_count=1)
    assert not isinstance(caught.value, RuntimeError)
    assert katib.list_experiments() == []


def test_katibs_tune_without_max_trial_count_on_a_finite_space_too_large_to_hand_over_says_so(katib):
    """An int range of 200001 points is finite, but more than the built-in samplers hand over
    whole: refused as before, but saying so with the number, not that it never runs out of points."""
    with pytest.raises(ValueError, match="max_trial_count is required without a host") as caught:
        katib.tune(name="large", objective=never_called, parameters={"x": search.int(min=0, max=200000)}, objective_metric_name="a")
    message = str(caught.value)
    assert "too large (200001 points)" in message and "up to 100000 points" in message
    assert "never runs out of points" not in message
    assert "(200001 points) and is never reported as used up, so with no budget it would not end" in message, message
    assert katib.list_experiments() == []


def prints_a(parameters):
    print(f"a={parameters['x']}")


@pytest.mark.parametrize("algorithm, parameters, trials", [
    ("grid", {"x": search.int(min=1, max=3)}, 3),
    ("random", {"x": search.categorical(["1", "2"])}, 2),
    ("random", {"x": search.double(min=1, max=2, step=0.5)}, 3),
])
def test_katibs_tune_without_max_trial_count_runs_a_search_that_ends_on_its_own(katib, algorithm, parameters, trials):
    """A finite space ends the search by itself (SuggestionEndReached): grid always, the built-in
    samplers once they have handed over every point of a finite space."""
    katib.tune(name="ends", objective=prints_a, parameters=parameters, objective_metric_name="a", algorithm_name=algorithm,
               parallel_trial_count=1, algorithm_settings={"random_state": "3"})
    experiment = katib.get_experiment("ends")
    assert experiment.status.trials_succeeded == trials
    assert experiment.status.conditions[-1].reason == "ExperimentSuggestionEndReached"


def reports_as_katibs_push_example(parameters):
    import kfp_tune as katib  # the example's `import kubeflow.katib as katib`, swapped inside the objective too

    katib.report_metrics({"a": 1}, db_manager_address="katib-db-manager.kubeflow:6789", timeout=10)
    katib.report_metrics({"a": 2}, "katib-db-manager.kubeflow:6789")
    katib.report_metrics({"a": 3}, "katib-db-manager.kubeflow:6789", 10)
    katib.report_metrics({"a": 4}, step=7)


def test_katibs_report_metrics_arguments_are_taken_and_unused(katib):
    """Katib's ``report_metrics(metrics, db_manager_address=..., timeout=...)``, by name or by
    position, failed every ported Push trial (TypeError; "step must be an integer or None"):
    taken and unused, as the client's timeouts are; kfp-tune's own step still works."""
    katib.tune(name="push", objective=reports_as_katibs_push_example, parameters={"x": search.int(min=1, max=2)}, objective_metric_name="a",
               max_trial_count=1, parallel_trial_count=1, metrics_collector_config={"kind": "Push"})
    trial = katib.list_trials("push")[0]
    assert trial.status.conditions[-1].type == "Succeeded", trial.status.conditions[-1].message
    assert [float(m.metric.value) for m in katib.get_trial_metrics(trial.metadata.name)] == [1, 2, 3, 4]


def test_report_metrics_refuses_an_address_given_twice():
    from kfp_tune import report_metrics

    with pytest.raises(TypeError, match="db_manager_address given twice"):
        report_metrics({"a": 1}, "katib-db-manager.kubeflow:6789", db_manager_address="katib-db-manager.kubeflow:6789")


@pytest.mark.parametrize("step", ["3", "-1", " 12 ", "3.0", "-0.5", "1e3"])
def test_report_metrics_refuses_a_step_given_as_text_rather_than_take_it_for_an_address(step):
    """A str second argument is Katib's db_manager_address, but one that reads as a number ("3",
    "3.0") is a step given as text by mistake: it was taken for an address and the step dropped unsaid."""
    from kfp_tune import report_metrics

    with pytest.raises(TypeError, match=f"report_metrics: step must be an integer or None, got {step!r}"):
        report_metrics({"a": 1}, step)


def test_waiting_without_a_host_on_an_experiment_that_is_not_there_is_a_runtime_error_at_once(katib, monkeypatch):
    """Katib's wait calls get_experiment, which raises RuntimeError for a name that is not there;
    here it slept through the whole timeout (600 s by default). Without a host nothing in this
    process writes the experiment while the call waits (tune and create_experiment return once it
    is written): refused at once, before any sleep."""
    import time

    from kfp_tune.core.errors import ExperimentNotFound

    monkeypatch.setattr(time, "sleep", lambda seconds: pytest.fail(f"slept {seconds} s"))
    with pytest.raises(RuntimeError, match="mistyped") as caught:
        katib.wait_for_experiment_condition("mistyped")
    assert isinstance(caught.value, ExperimentNotFound)


def test_wait_polls_as_katibs_loop_does_and_prints_the_status_at_each_poll(katib, capsys):
    """Katib's wait polls ``round(timeout / polling_interval)`` times: ``timeout=0`` is a
    TimeoutError at once, where the experiment was returned here; each poll prints the status as
    Katib's ``utils.print_experiment_status`` does."""
    katib.tune(name="done", objective=prints_a, parameters={"x": search.int(min=1, max=2)}, objective_metric_name="a", max_trial_count=2,
               parallel_trial_count=1, algorithm_settings={"random_state": "3"})
    capsys.readouterr()
    with pytest.raises(TimeoutError, match="Timeout waiting for Experiment: default/done to reach Succeeded condition"):
        katib.wait_for_experiment_condition("done", timeout=0)
    with pytest.raises(TimeoutError):
        katib.wait_for_experiment_condition("done", timeout=7, polling_interval=15)  # round(0.47) = 0 polls
    assert capsys.readouterr().out == ""
    experiment = katib.wait_for_experiment_condition("done", timeout=10, polling_interval=15)  # one poll
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("Experiment Trials status: 2 Trials, 0 Pending Trials, 0 Running Trials, 2 Succeeded Trials, 0 Failed Trials, "
                        "0 EarlyStopped Trials, 0 MetricsUnavailable Trials")
    assert lines[1] == "Current Optimal Trial:"
    assert experiment.status.current_optimal_trial.best_trial_name in lines[2]
    assert "Experiment conditions:" in lines


@pytest.mark.parametrize("timeout", [1, 2])
def test_wait_times_out_naming_the_timeout_its_user_gave(katib, monkeypatch, capsys, timeout):
    """The wait polls on Katib's schedule (``round(timeout / polling_interval)`` polls, no sleep
    after the last), so it waits less than the timeout given: its TimeoutError named that shorter
    time ('within 0 s' for timeout=1, 'within 1 s' for 2) where the user gave 1 or 2."""
    import types

    import kfp_tune.client as client_module

    katib.tune(name="done", objective=prints_a, parameters={"x": search.int(min=1, max=2)}, objective_metric_name="a", max_trial_count=2,
               parallel_trial_count=1, algorithm_settings={"random_state": "3"})
    clock = [0.0]
    monkeypatch.setattr(client_module, "time", types.SimpleNamespace(
        monotonic=lambda: clock[0], sleep=lambda seconds: clock.__setitem__(0, clock[0] + seconds), time=client_module.time.time))
    with pytest.raises(TimeoutError, match=rf"'done' did not reach Running within {timeout} s: it is Succeeded"):
        katib.wait_for_experiment_condition("done", expected_condition="Running", timeout=timeout, polling_interval=1)
    assert capsys.readouterr().out.count("Experiment Trials status:") == timeout  # Katib's polls, one print each


def prints_values(parameters):
    print("a=92")
    print("b=0.10")
    print("c=1e-3")
    print("d=+5")


def test_collected_values_read_as_katibs_text_with_no_dot_zero_on_a_whole_number(katib, tmp_path, capsys):
    """Katib serves the text the trial wrote (``a=92`` -> '92'), so a notebook's
    ``int(best.observation.metrics[0].latest)`` works there; here it read '92.0' (ValueError).
    kfp-tune keeps the number: its shortest text, no '.0' on a whole number, in get_trial_metrics,
    the trials' and the optimal trial's observation, and the status document."""
    import json

    from kfp_tune.cli import main

    katib.tune(name="vals", objective=prints_values, parameters={"x": search.int(min=1, max=2)}, objective_metric_name="a",
               additional_metric_names=["b", "c", "d"], max_trial_count=1, parallel_trial_count=1)
    expected = [("a", "92"), ("b", "0.1"), ("c", "0.001"), ("d", "5")]
    trial = katib.list_trials("vals")[0]
    assert [(m.metric.name, m.metric.value) for m in katib.get_trial_metrics(trial.metadata.name)] == expected
    assert [(m.name, m.latest) for m in trial.status.observation.metrics] == expected
    assert [(m.name, m.min, m.max) for m in trial.status.observation.metrics] == [(n, v, v) for n, v in expected]
    best = katib.get_optimal_hyperparameters("vals")
    assert int(best.observation.metrics[0].latest) == 92
    capsys.readouterr()
    assert main(["status", "vals", "--store", str(tmp_path / "store"), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    document = json.dumps(status)
    assert '"92"' in document and "92.0" not in document, document[:2000]


def logs_with_times(parameters):
    import logging
    import sys

    print("2026-12-06T10:47:53Z a=1")
    print("2026-12-06T10:47:54.5Z INFO a=2")
    print("a=3")
    handler = logging.StreamHandler(sys.stdout)  # as Katib's tune-train-from-func notebook logs: datefmt="%Y-%m-%dT%H:%M:%SZ"
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(message)s", datefmt="2026-12-06T10:48:51Z"))
    logger = logging.getLogger("ported-trial")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.info("Epoch 1/1. a=4")
    finally:
        logger.removeHandler(handler)


def test_a_function_trials_printed_line_keeps_its_leading_time_as_a_job_trials_does(katib):
    """A TEXT line's leading RFC 3339 time is the value's time_stamp on a YAML/Job trial; a
    function's trial run here (tune()) parsed it and then stored its values without it, so every
    report read Go's zero time."""
    katib.tune(name="ts", objective=logs_with_times, parameters={"x": search.int(min=1, max=2)}, objective_metric_name="a",
               max_trial_count=1, parallel_trial_count=1)
    trial = katib.list_trials("ts")[0]
    assert [(m.time_stamp, m.metric.value) for m in katib.get_trial_metrics(trial.metadata.name)] == [
        ("2026-12-06T10:47:53Z", "1"), ("2026-12-06T10:47:54.5Z", "2"), ("0001-01-01T00:00:00Z", "3"), ("2026-12-06T10:48:51Z", "4"),
    ]
