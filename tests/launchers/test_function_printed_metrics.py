"""A function tuned in-process may print its metrics in Katib's ``name=value`` format and return
None, as a Katib trial does, instead of returning them: read by the StdOut collector's parser,
each print a step, and each trial's prints told apart from the others' (trials run on threads)."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from kfp_tune import Client, search, tune
from kfp_tune.collectors.stdout import parse_metric_lines
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.function import FunctionLauncher

EARLY_WARNING = r"no '(loss|accuracy)' \(objective_metric_name is"
"""tune()'s warning at the first trial that gives no objective (e3e43fe, 1052d01), beside the end's."""

SPACE = SearchSpace((Parameter("x", "double", low=0.0, high=1.0),))


def _run(objective: Any, metric_names: tuple[str, ...] = ()) -> Any:
    trial = TrialRun(experiment="exp", trial="exp-t1", manifest={}, assignment={"x": "0.25"}, primary_container="main")
    return FunctionLauncher(objective, SPACE, "loss", metric_names).run(trial)


def test_printed_metrics_are_every_step_of_a_tuned_function_and_its_log(tmp_path):
    """Three epochs printed per trial: the trial's metric is the objective's strategy (min, as
    it is minimized; the last value is not the least) over what it printed, every printed value
    is a step, and the log is exactly what it printed."""

    def objective(params: dict[str, Any]) -> None:
        for epoch, base in enumerate([1.0, 0.1, 0.5]):
            print(f"epoch={epoch} loss={params['x'] + base:.4f}")

    result = tune(objective, {"x": search.discrete([0.5, 0.25])}, objective_metric_name="loss", algorithm="grid", max_trial_count=2, store=str(tmp_path))
    assert (result.status, [t.status for t in result.trials]) == ("Succeeded", ["Succeeded", "Succeeded"])
    by_x = {t.parameters["x"]: t for t in result.trials}
    assert {x: t.metrics["loss"] for x, t in by_x.items()} == {0.5: 0.6, 0.25: 0.35}
    client = Client(str(tmp_path))
    trial = by_x[0.25].name
    assert client.get_trial_metrics(trial) == [{"name": "loss", "value": v, "step": s} for s, v in enumerate([1.25, 0.35, 0.75])]
    assert client.get_trial_logs((result.experiment, trial)) == "epoch=0 loss=1.2500\nepoch=1 loss=0.3500\nepoch=2 loss=0.7500\n"
    assert result.best_trial is not None and result.best_trial.name == trial


def test_several_metrics_on_one_line_and_the_same_parser_as_the_stdout_collector():
    """What the launcher reports is what the StdOut collector's parser reads from the same text
    (values the collector drops, such as 1e999 or 0x1A, are dropped here too)."""
    text = "loss=0.25 accuracy=0.75\nloss=1e999 accuracy=0x1A\nnoise loss = 0.125, accuracy=0.875\n"
    outcome = _run(lambda params: print(text, end=""), ("accuracy",))
    assert outcome.phase == LaunchPhase.SUCCEEDED
    assert outcome.pushed == parse_metric_lines(text.splitlines(), ["loss", "accuracy"])
    assert outcome.pushed == [MetricLog("loss", 0.25, 0), MetricLog("accuracy", 0.75, 0), MetricLog("loss", 0.125, 1), MetricLog("accuracy", 0.875, 1)]
    assert outcome.logs == {"main": text}


def test_a_function_that_returns_nothing_and_prints_no_metric_is_metrics_unavailable_saying_what_to_do(tmp_path):
    """As a container that exits 0 without printing the metric, on Kubeflow and in Katib (a Job
    that succeeds without it: MarkTrialStatusMetricsUnavailable): MetricsUnavailable, where it
    was Failed (InvalidResult) in process only."""
    def silent(params: dict[str, Any]) -> None:
        print("training done")

    with pytest.warns(UserWarning, match="ended with MetricsUnavailable: the trial did not report the objective metric 'loss'"):
        result = tune(silent, {"x": search.double(0, 1)}, objective_metric_name="loss", max_trial_count=1, store=str(tmp_path))
    (trial,) = result.trials
    assert trial.status == "MetricsUnavailable" and trial.metrics == {} and "neither returned, reported (kfp_tune.report_metrics) nor printed as loss=<number>" in trial.message
    (row,) = Client(str(tmp_path)).list_trials(result.experiment)
    unavailable = row.status.conditions[-1]
    assert (unavailable.type, unavailable.reason) == ("MetricsUnavailable", "MetricsUnavailable")
    assert unavailable.message == (
        "the trial did not report the objective metric 'loss': the function gave no finite value for it, neither returned, reported "
        "(kfp_tune.report_metrics) nor printed as loss=<number>. Job message: the objective returned NoneType; expected a number, a dict of "
        "metric name -> number, the metrics reported as it runs (kfp_tune.report_metrics({'loss': value})), or printed in Katib's name=value format (print(f\"loss={value}\")); it printed 'training done' first")
    outcome = _run(lambda params: None)  # nothing printed at all: no log, the same outcome
    assert (outcome.phase, outcome.reason, outcome.logs, outcome.pushed) == (LaunchPhase.SUCCEEDED, "", {}, [])


def test_a_returned_value_wins_over_printed_ones_and_the_prints_stay_in_the_log():
    outcome = _run(lambda params: print("loss=9.0") or 0.5)
    assert outcome.pushed == [MetricLog("loss", 0.5, 0)]
    assert outcome.logs == {"main": "loss=9.0\nloss=0.5\n"}


def test_an_exception_keeps_what_was_printed_before_the_traceback():
    def crashes(params: dict[str, Any]) -> None:
        print("loss=0.75")
        raise RuntimeError("diverged")

    outcome = _run(crashes)
    assert (outcome.phase, outcome.reason, outcome.message) == (LaunchPhase.FAILED, "Error", "RuntimeError: diverged")
    log = outcome.logs["main"]
    assert log.startswith("loss=0.75\nTraceback (most recent call last)") and log.rstrip().endswith("RuntimeError: diverged")


def test_trials_running_at_once_each_get_only_their_own_prints(tmp_path, capsys):
    """Four trials on four threads, held at a barrier so that all print while the others do:
    each trial's metric is its own x, never another's. The prints still reach the terminal,
    and sys.stdout / sys.stderr are what they were once the run is over."""
    barrier = threading.Barrier(4, timeout=60)
    before = (sys.stdout, sys.stderr)

    def objective(params: dict[str, Any]) -> None:
        barrier.wait()
        print(f"loss={params['x']}")
        barrier.wait()
        print(f"loss={params['x']}", file=sys.stderr)  # stderr is the trial's output too

    values = [0.125, 0.25, 0.375, 0.5]
    result = tune(objective, {"x": search.discrete(values)}, objective_metric_name="loss", algorithm="grid",
                  max_trial_count=4, parallel_trial_count=4, store=str(tmp_path))
    assert (sys.stdout, sys.stderr) == before
    assert sorted((t.parameters["x"], t.metrics.get("loss")) for t in result.trials) == [(v, v) for v in values]
    client = Client(str(tmp_path))
    for trial in result.trials:
        assert client.get_trial_logs(trial.name) == f"loss={trial.parameters['x']}\n" * 2
    seen = capsys.readouterr()
    assert sorted(seen.out.split()) == sorted(f"loss={v}" for v in values)
    assert sorted(seen.err.split()) == sorted(f"loss={v}" for v in values)


def test_a_returned_dict_without_the_objective_names_what_it_returned(tmp_path):
    """A notebook user's QA pass: `return {"acc": 0.5}` for objective 'accuracy' ended every
    trial MetricsUnavailable with a message that named nothing it returned (the close-name hint
    ran for StdOut experiments only, and 'acc' is not close to 'accuracy' by its rule)."""
    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"), pytest.warns(UserWarning, match=EARLY_WARNING):
        result = tune(lambda p: {"acc": 0.5, "loss": 0.1}, {"x": search.double(0, 1)}, objective_metric_name="accuracy", max_trial_count=1, store=str(tmp_path))
    (trial,) = result.trials
    assert trial.status == "MetricsUnavailable"
    assert trial.message.endswith("; its output has 'acc', 'loss': pass objective_metric_name='acc' to optimize 'acc'")  # tune()'s words
