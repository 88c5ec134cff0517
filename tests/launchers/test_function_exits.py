"""An objective that leaves by sys.exit() or KeyboardInterrupt, as a script written for a Katib
container may: the trial ends as that container would, and the store is never left with a
trial Running (SystemExit and KeyboardInterrupt went straight out of tune())."""

from __future__ import annotations

import sys
import warnings

import pytest

from kfp_tune import Client, search, tune

PARAMETERS = {"x": search.discrete([1, 2, 3])}


def _exits(params: dict) -> float | None:
    if params["x"] == 2:
        sys.exit(3)
    if params["x"] == 3:
        print("objective=0.5")
        sys.exit(0)  # a script that printed its metric and ended
    return 1.0


def test_sys_exit_ends_the_trial_as_a_container_exit_code_does(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # some trials succeed: no "none of the trials succeeded"
        result = tune(_exits, PARAMETERS, algorithm="grid", max_trial_count=3, store=str(tmp_path), name="exits")
    by_x = {t.parameters["x"]: t for t in result.trials}
    assert (by_x[1].status, by_x[1].metrics["objective"]) == ("Succeeded", 1.0)
    assert (by_x[2].status, by_x[2].message) == ("Failed", "TrialFailed. Job reason: Error: Trial has failed. Job message: exit code 3")
    assert (by_x[3].status, by_x[3].metrics["objective"]) == ("Succeeded", 0.5)
    assert result.status == "Succeeded"


def test_keyboard_interrupt_from_the_objective_stops_the_run_as_ctrl_c_does(tmp_path):
    calls: list[int] = []

    def interrupted(params: dict) -> float:
        calls.append(params["x"])
        if len(calls) == 2:  # the second trial, whichever point grid's random order gave it
            raise KeyboardInterrupt
        return float(params["x"])

    with pytest.raises(KeyboardInterrupt):
        tune(interrupted, PARAMETERS, algorithm="grid", max_trial_count=3, store=str(tmp_path), name="stopped")
    assert len(calls) == len(set(calls)) == 2  # no trial starts after it
    experiment = Client(str(tmp_path)).get_experiment("stopped")
    assert experiment.status.conditions[-1].reason == "ExperimentRunInterrupted"
    trials = {t.spec.parameter_assignments[0].value: t for t in Client(str(tmp_path)).list_trials("stopped")}
    assert [c.type for c in trials[str(calls[1])].status.conditions if c.status == "True"][-1] == "Killed"  # not left Running
    assert experiment.status.trials_running in (None, 0)



def test_a_printed_metric_whose_name_katibs_format_cannot_read_says_to_return_it(tmp_path):
    """It printed exactly val.acc=0.5 and was told it printed no val.acc=<number> line."""
    def printing(params: dict) -> None:
        print(f"val.acc={params['x']}")

    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"):
        result = tune(printing, PARAMETERS, objective_metric_name="val.acc", algorithm="grid", max_trial_count=1, store=str(tmp_path))
    assert (result.trials[0].status, result.trials[0].message) == ("MetricsUnavailable", (
        "MetricsUnavailable: the trial did not report the objective metric 'val.acc': the function gave no finite value for it, neither returned nor reported "
        "(kfp_tune.report_metrics). Job message: the objective returned NoneType, and a printed val.acc=<number> cannot be read: Katib's name=value "
        "format takes metric names of ASCII letters, digits, '_', '-' and '|'; return the metrics instead: return {'val.acc': value}, "
        "or report them as it runs: kfp_tune.report_metrics({'val.acc': value})"))
    returning = tune(lambda p: {"val.acc": 0.5}, PARAMETERS, objective_metric_name="val.acc", algorithm="grid", max_trial_count=1, store=str(tmp_path))
    assert returning.trials[0].metrics == {"val.acc": 0.5}


@pytest.mark.parametrize(
    ("code", "message"),
    [(3, "exit code 3"), (True, "exit code 1"), (-1, "exit code 255"), (300, "exit code 44"), ("bad config", "exit code 1: bad config"),
     # beyond a C long CPython exits -1 (PyLong_AsLong overflows): 255, though 2**63's low byte is 0
     (2**63, "exit code 255"), (-(2**63) - 1, "exit code 255"), (2**64 + 3, "exit code 255"), (2**63 - 1, "exit code 255"), (-(2**63) + 3, "exit code 3")],
)
def test_sys_exit_reads_as_the_status_the_process_would_end_with(code, message):
    """A container (and Python itself) ends sys.exit(-1) with 255 and sys.exit(300) with 44:
    the trial said 'exit code -1' / '300' / 'True'."""
    from kfp_tune.core.interfaces import TrialRun
    from kfp_tune.core.space import Parameter, SearchSpace
    from kfp_tune.core.vocabulary import LaunchPhase
    from kfp_tune.launchers.function import FunctionLauncher

    def leaving(params: dict) -> None:
        sys.exit(code)

    trial = TrialRun(experiment="exp", trial="exp-t1", manifest={}, assignment={"x": "1"}, primary_container="main")
    outcome = FunctionLauncher(leaving, SearchSpace((Parameter("x", "double", low=0.0, high=1.0),)), "objective").run(trial)
    assert (outcome.phase, outcome.reason, outcome.message) == (LaunchPhase.FAILED, "Error", message)


def test_sys_exit_0_without_the_metric_is_metrics_unavailable_as_a_container_exiting_0(tmp_path):
    """On Kubeflow and in Katib such a trial's Job succeeds without metrics: MetricsUnavailable,
    not Failed (InvalidResult) as in process before; it still counts as a failed trial."""
    def leaving(params: dict) -> None:
        print("done")
        sys.exit(0)

    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"):
        result = tune(leaving, PARAMETERS, algorithm="grid", max_trial_count=1, max_failed_trial_count=1, store=str(tmp_path), name="quiet")
    (trial,) = result.trials
    assert trial.status == "MetricsUnavailable" and trial.message.endswith(
        "Job message: the objective called sys.exit(0) (exit code 0) without returning; expected the metrics reported "
        "(kfp_tune.report_metrics({'objective': value})) or printed in Katib's name=value format before it exits (print(f\"objective={value}\")), or returned instead: a number or a dict of metric name -> number; "
        "it printed 'done' first")  # it said 'the objective returned NoneType', though it never returned
    assert (result.status, Client(str(tmp_path)).get_experiment("quiet").status.conditions[-1].reason) == ("Failed", "ExperimentFailed")


@pytest.mark.parametrize(("code", "called"), [(None, "sys.exit()"), (256, "sys.exit(256)"), (False, "sys.exit(False)")])
def test_an_exit_with_status_0_and_no_metric_says_how_it_exited(code, called):
    """Not 'the objective returned NoneType': it never returned. A metric name Katib's format
    cannot carry says so after it, as for a return."""
    from kfp_tune.core.interfaces import TrialRun
    from kfp_tune.core.space import Parameter, SearchSpace
    from kfp_tune.core.vocabulary import LaunchPhase
    from kfp_tune.launchers.function import FunctionLauncher

    def leaving(params: dict) -> None:
        sys.exit(code)

    trial = TrialRun(experiment="exp", trial="exp-t1", manifest={}, assignment={"x": "1"}, primary_container="main")
    space = SearchSpace((Parameter("x", "double", low=0.0, high=1.0),))
    outcome = FunctionLauncher(leaving, space, "objective").run(trial)
    assert outcome.phase == LaunchPhase.SUCCEEDED
    assert outcome.message.startswith(
        f"the objective called {called} (exit code 0) without returning; expected the metrics reported "
        "(kfp_tune.report_metrics({'objective': value})) or printed in Katib's name=value format before it exits (print(f\"objective={value}\")), or returned instead: a number or a dict of metric name -> number; "
        "no output was read from its thread: "), outcome.message
    dotted = FunctionLauncher(leaving, space, "val.acc").run(trial)
    assert dotted.message.startswith(f"the objective called {called} (exit code 0) without returning, and a printed val.acc=<number> cannot be read")
