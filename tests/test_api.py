"""kfp_tune.tune and the search helpers."""

from __future__ import annotations

import functools
import math
import pathlib
import warnings

import pytest

from conftest import tune_interrupted_after_prepare
from kfp_tune import Client, SpecError, search, tune
from kfp_tune.algorithms import registry
from kfp_tune.core.plugin_failures import NO_PLUGIN_HINT
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.report_views import format_number
from kfp_tune.stores import LocalStore

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_tune_finds_a_good_point_and_returns_typed_values(tmp_path):
    def objective(p):
        assert isinstance(p["lr"], float) and isinstance(p["layers"], int) and p["opt"] in ("sgd", "adam")
        return {"loss": (math.log10(p["lr"]) + 2) ** 2 + 0.1 * p["layers"] + (0 if p["opt"] == "adam" else 1), "other": 1.0}

    result = tune(
        objective,
        {"lr": search.double(1e-4, 1, distribution="logUniform"), "layers": search.int(1, 4), "opt": search.categorical(["sgd", "adam"])},
        objective_metric_name="loss",
        additional_metric_names=["other"],
        max_trial_count=30,
        parallel_trial_count=3,
        algorithm_settings={"random_state": 0},
        store=str(tmp_path),
    )
    assert (result.status, result.reason, len(result.trials)) == ("Succeeded", "ExperimentMaxTrialsReached", 30)
    best = result.best_trial
    assert best.metrics["loss"] == min(t.metrics["loss"] for t in result.trials)
    assert best.metrics["loss"] < 1.0 and best.metrics["other"] == 1.0
    assert isinstance(best.parameters["layers"], int)
    # the same records as a pipeline run
    state = load_state(ExperimentRecords(LocalStore(tmp_path), result.experiment))
    assert state.experiment.spec.metrics_collector_spec.collector.kind == "Push"


def test_tune_without_an_algorithm_uses_bayesianoptimization(tmp_path):
    """The default (DEFAULT_ALGORITHM, chosen on the BBOB benchmark): 10 random trials, then the
    Gaussian process closes in on the minimum at 0.3 (one of its five picks may explore; a
    random draw lands within 0.01 of 0.3 with chance 0.02)."""
    result = tune(lambda p: (p["x"] - 0.3) ** 2, {"x": search.double(0, 1)}, max_trial_count=15, algorithm_settings={"random_state": 1}, store=str(tmp_path))
    state = load_state(ExperimentRecords(LocalStore(tmp_path), result.experiment))
    assert state.experiment.spec.algorithm.algorithm_name == "bayesianoptimization"
    model_based = [abs(t.parameters["x"] - 0.3) for t in result.trials[10:]]
    assert len(model_based) == 5 and sum(d < 0.01 for d in model_based) >= 4


def test_tune_with_a_float_objective_maximize_and_goal(tmp_path):
    """Grid over 0.1, 0.3, 0.5, 0.2, one at a time in the grid's random order: only 0.5 meets the
    goal 0.5 (exactly: Katib's value >= goal when maximizing), so the run stops right after it,
    starting no other point."""
    result = tune(
        lambda p: p["x"], {"x": search.discrete([0.1, 0.3, 0.5, 0.2])}, objective_type="maximize", goal=0.5,
        algorithm="grid", max_trial_count=4, store=str(tmp_path),
    )
    assert (result.status, result.reason) == ("Succeeded", "ExperimentGoalReached")
    ran = [t.parameters["x"] for t in result.trials]
    assert ran[-1] == 0.5 and 0.5 not in ran[:-1] and len(set(ran)) == len(ran)
    assert result.best_trial is not None and result.best_trial.parameters == {"x": 0.5}


@pytest.mark.parametrize("objective_type", ["minimize", "maximize"])
def test_tune_follows_the_objective_type_with_an_adaptive_algorithm(tmp_path, objective_type):
    """TPE on (x - 0.8)^2, minimized, or its negative, maximized: the same problem either way.
    After 5 random startup trials, its points gather near 0.8 (for uniform draws the median
    distance would be 0.3; a sign mix-up would drive them to the far end, near 0)."""
    sign = 1.0 if objective_type == "minimize" else -1.0
    result = tune(
        lambda p: sign * (p["x"] - 0.8) ** 2, {"x": search.double(0, 1)}, objective_type=objective_type, algorithm="tpe",
        algorithm_settings={"random_state": 0, "n_startup_trials": 5}, max_trial_count=25, store=str(tmp_path),
    )
    distances = sorted(abs(t.parameters["x"] - 0.8) for t in result.trials[5:])
    assert distances[len(distances) // 2] < 0.15, distances
    assert result.best_trial is not None and abs(result.best_trial.parameters["x"] - 0.8) < 0.05


def test_a_non_finite_objective_beside_another_metric_is_named_as_such(tmp_path):
    """NaN or inf for the objective is left out, as a missing value: the message says the function
    returned no finite value for it, whether or not it reported another metric (with one, the
    message said only which other metric it reported)."""
    result = tune(
        lambda p: {"loss": {1: float("nan"), 2: float("inf")}.get(p["k"], 0.5), "acc": 1.0}, {"k": search.discrete([1, 2, 3])},
        algorithm="grid", max_trial_count=3, max_failed_trial_count=3, store=str(tmp_path),
        objective_metric_name="loss", additional_metric_names=["acc"],
    )
    expected = ("MetricsUnavailable: the trial did not report the objective metric 'loss': the function gave no finite value"
                " for it, neither returned, reported (kfp_tune.report_metrics) nor printed as loss=<number> (it reported 'acc')")
    assert {t.parameters["k"]: t.message for t in result.trials} == {1: expected, 2: expected, 3: ""}


def test_exceptions_and_bad_returns_fail_trials(tmp_path):
    def objective(p):
        if p["k"] == 1:
            raise RuntimeError("boom")
        if p["k"] == 2:
            return "not a number"
        if p["k"] == 3:
            return float("nan")
        return float(p["k"])

    result = tune(objective, {"k": search.discrete([1, 2, 3, 4])}, algorithm="grid", max_trial_count=4, max_failed_trial_count=4, store=str(tmp_path))
    by_value = {t.parameters["k"]: t.status for t in result.trials}
    assert by_value == {1: "Failed", 2: "Failed", 3: "MetricsUnavailable", 4: "Succeeded"}
    assert result.status == "Succeeded" and result.best_trial.parameters == {"k": 4}
    messages = {t.parameters["k"]: t.message for t in result.trials}  # why each ended so, without opening the store
    assert messages[1] == "TrialFailed. Job reason: Error: Trial has failed. Job message: RuntimeError: boom"
    assert messages[2].startswith("TrialFailed. Job reason: InvalidResult: Trial has failed. Job message: ") and messages[4] == ""
    assert messages[3] == "MetricsUnavailable: the trial did not report the objective metric 'objective': the function gave no finite value for it, neither returned, reported (kfp_tune.report_metrics) nor printed as objective=<number>"
    # Katib: failed (MetricsUnavailable included) >= maxFailedTrialCount fails the experiment,
    # and no trial starts after that: the fourth point is never run; with no trial succeeded,
    # tune() says why the last one failed and where its output is (every point fails here, so
    # the grid's random order cannot put a success among the first three)
    with pytest.warns(UserWarning, match=r"none of the 3 trials succeeded; the last failed trial, .*, ended with MetricsUnavailable: .*get_trial_logs"):
        result = tune(lambda p: float("nan"), {"k": search.discrete([1, 2, 3, 4])}, algorithm="grid", max_trial_count=4, max_failed_trial_count=3, store=str(tmp_path))
    assert (result.status, result.reason, len(result.trials)) == ("Failed", "ExperimentFailed", 3)


def test_the_guide_and_the_docstring_quote_a_failed_trials_message_as_it_reads(tmp_path):
    """Both said a function raising KeyError: 'lr' left "Error: KeyError: 'lr'"; the message is
    the trial's condition, reason and message, as Katib words a failed job's."""
    def objective(params):
        return {}["lr"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # none succeeded: tune() warns so
        result = tune(objective, {"x": search.double(0, 1)}, max_trial_count=1, store=str(tmp_path), name="no-lr")
    message = result.trials[0].message
    assert message == "TrialFailed. Job reason: Error: Trial has failed. Job message: KeyError: 'lr'"
    for text in (REPO / "docs" / "guide.md", REPO / "src" / "kfp_tune" / "api.py"):
        assert f'"{message}"' in " ".join(text.read_text().split()), text  # as quoted, lines joined


def test_tune_validates_before_running(tmp_path, monkeypatch):
    monkeypatch.delitem(registry._FACTORIES, "sobol")  # an algorithm this build lacks
    calls = []
    with pytest.raises(SpecError) as info:
        tune(lambda p: calls.append(p) or 0.0, {"x": search.double(1, 0)}, store=str(tmp_path))
    assert info.value.errors[0].path == "spec.parameters[0].feasibleSpace.min"
    with pytest.raises(SpecError, match="does not implement"):
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, algorithm="sobol", store=str(tmp_path))
    with pytest.raises(ValueError, match=r"parameters \(spec\.parameters\): expected at least one to search \(kfp_tune\.search\.double.*every value is fixed: \{'x': \(0, 1\)\}"):
        tune(lambda p: 0.0, {"x": (0, 1)}, store=str(tmp_path))  # a range written as a tuple: a fixed value, and nothing to search
    assert calls == []


async def _coroutine(params):
    return 1.0


def _generator(params):
    yield 1.0


def _no_argument():
    return 1.0


class _AsyncCallable:
    async def __call__(self, params):
        return 1.0


class _GeneratorCallable:
    def __call__(self, params):
        yield 1.0


@pytest.mark.parametrize(("objective", "words"), [
    (_coroutine, "objective _coroutine must be a plain function \\(not async, not a generator\\)"),
    (_AsyncCallable(), "objective _AsyncCallable.__call__ must be a plain function \\(not async, not a generator\\)"),
    (functools.partial(_AsyncCallable()), "objective _AsyncCallable.__call__ must be a plain function \\(not async, not a generator\\)"),
    (_GeneratorCallable(), "objective _GeneratorCallable.__call__ must be a plain function \\(not async, not a generator\\)"),
    (_generator, "objective _generator must be a plain function \\(not async, not a generator\\)"),
    (_no_argument, r"objective _no_argument\(\) must take one argument, the parameters dict"),
    (lambda **kwargs: 1.0, r"objective <lambda>\(\*\*kwargs\) must take one argument, the parameters dict"),
])
def test_an_objective_that_cannot_be_called_with_the_parameters_is_refused_before_any_trial(tmp_path, objective, words):
    """Each trial failed for it ('takes 0 positional arguments', 'returned coroutine'), as Katib's
    SDK (validate_objective_function) and tune(host=) refuse it first."""
    with pytest.raises(TypeError, match="tune\\(\\): " + words):
        tune(objective, {"x": search.double(0, 1)}, store=str(tmp_path))
    assert not (tmp_path / "experiments").exists()


def test_a_name_the_store_holds_says_it_resumes_or_reports_that_experiment(tmp_path):
    """The function is not part of the experiment: run again after a fix with the same name=,
    tune() returned the old result without a word."""
    parameters = {"x": search.double(0, 1)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a new name: no warning
        first = tune(lambda p: p["x"], parameters, algorithm="random", max_trial_count=2, store=str(tmp_path), name="again")
    with pytest.warns(UserWarning, match=r"tune\(\): experiment again has already completed: Succeeded \(ExperimentMaxTrialsReached\), 2 trial\(s\) "
                      r"done .*; nothing to run, reporting it; to start a new experiment, pass another name="):
        second = tune(lambda p: -p["x"], parameters, algorithm="random", max_trial_count=2, store=str(tmp_path), name="again")
    assert second.trials == first.trials


def test_a_changed_budget_on_a_completed_experiment_is_refused_without_a_warning_first(tmp_path):
    """Notebook 01 run again with max_trial_count raised: tune() warned that it would only report
    the completed experiment, then raised that a completed experiment's spec may not change (its
    resumePolicy Never; Katib's webhook refuses it too). The refusal alone now, nothing run."""
    from kfp_tune import Client, ExperimentConflict

    parameters = {"x": search.double(0, 1)}
    tune(lambda p: p["x"], parameters, algorithm="random", algorithm_settings={"random_state": 1}, max_trial_count=2, store=str(tmp_path), name="done")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ExperimentConflict, match=r"experiment 'done' in .* has completed \(Succeeded, ExperimentMaxTrialsReached\) and is not run again "
                                                      r"with other budgets: max_trial_count \(2 stored, 3 given\)"):
            tune(lambda p: p["x"], parameters, algorithm="random", algorithm_settings={"random_state": 1}, max_trial_count=3, store=str(tmp_path), name="done")
    assert len(Client(str(tmp_path)).list_trials("done")) == 2  # nothing ran


def test_a_tune_experiment_from_before_the_default_algorithm_changed_is_refused_saying_which_to_pass(tmp_path):
    """Upgrade QA: an experiment tune() made before 2026-12-01 (its default algorithm random,
    bayesianoptimization since) was refused by the same call with "already exists with another
    spec.algorithm", naming neither. The refusal names both, and says what to pass; a call that
    names another algorithm itself is told no such thing, nor one that the algorithm given would
    not resume (review of ff8aedf: a completed Never experiment with a raised budget, another
    objective). The record is the shape c29dbdb wrote."""
    import json

    from kfp_tune import ExperimentConflict

    parameters = {"a": search.double(0, 1)}

    def objective(p):
        return (p["a"] - 0.3) ** 2

    tune(objective, parameters, objective_metric_name="loss", algorithm="random", max_trial_count=3, store=str(tmp_path), name="py")
    records = ExperimentRecords(LocalStore(tmp_path), "py")
    record = json.loads(LocalStore(tmp_path).get(records.experiment_key()))
    assert record["spec"]["spec"]["algorithm"] == {"algorithmName": "random", "algorithmSettings": []}  # as c29dbdb's tune() stored it
    LocalStore(tmp_path).put(records.experiment_key(), json.dumps({key: record[key] for key in (
        "created", "kind", "name", "searchSpaceHash", "spec", "uid", "version")}).encode())
    with pytest.raises(ExperimentConflict) as refused:
        tune(objective, parameters, objective_metric_name="loss", max_trial_count=3, store=str(tmp_path), name="py")
    assert "was made with other arguments: algorithm ('random' stored, 'bayesianoptimization' given)" in str(refused.value)
    assert str(refused.value).endswith(
        "tune()'s default algorithm is bayesianoptimization since 2026-12-01: pass algorithm='random' to resume it")
    for changed in ({"max_trial_count": 5}, {"objective_type": "maximize"}):  # the algorithm given, it would still be refused
        with pytest.raises(ExperimentConflict) as refused:
            tune(objective, parameters, objective_metric_name="loss", store=str(tmp_path), name="py", **{"max_trial_count": 3, **changed})
        assert "default algorithm" not in str(refused.value)
    with pytest.raises(ExperimentConflict) as refused:
        tune(objective, parameters, objective_metric_name="loss", algorithm="tpe", max_trial_count=3, store=str(tmp_path), name="py")
    assert "'random' stored, 'tpe' given" in str(refused.value) and "default algorithm" not in str(refused.value)
    with pytest.warns(UserWarning, match="has already completed"):
        result = tune(objective, parameters, objective_metric_name="loss", algorithm="random", max_trial_count=3, store=str(tmp_path), name="py")
    assert len(result.trials) == 3


def test_take_over_claims_an_experiment_another_run_looks_to_drive(tmp_path, monkeypatch):
    """A refused tune() named --take-over and the pipeline parameter, neither of which a notebook
    has: it takes take_over=True, as kfp-tune run takes --take-over. Its error is caught by the
    name the guide gives it, ``kfp_tune.ExperimentBusy`` (QA: only the core module had it)."""
    from kfp_tune import ExperimentBusy
    from kfp_tune.core import claims

    parameters = {"x": search.double(0, 1)}
    settings = {"random_state": 3}
    records = ExperimentRecords(LocalStore(tmp_path), "held")
    monkeypatch.setenv(claims.OWNER_VARIABLE, "another-host/1")  # a run on another machine, heard from just now
    claims.claim(records, "run-elsewhere")
    monkeypatch.delenv(claims.OWNER_VARIABLE)
    with pytest.raises(ExperimentBusy, match=r"run-elsewhere.*tune\(\.\.\., take_over=True\)"):
        tune(lambda p: p["x"], parameters, algorithm="random", algorithm_settings=settings, max_trial_count=1, store=str(tmp_path), name="held")
    with pytest.raises(TypeError, match=r"take_over: expected True or False, got 'yes'"):
        tune(lambda p: p["x"], parameters, store=str(tmp_path), name="held", take_over="yes")
    result = tune(lambda p: p["x"], parameters, algorithm="random", algorithm_settings=settings, max_trial_count=2, store=str(tmp_path), name="held",
                  take_over=True)
    assert result.status == "Succeeded" and len(result.trials) == 2
    assert claims.latest_claim(records).run != "run-elsewhere"  # type: ignore[union-attr]


@pytest.mark.parametrize(("algorithm", "words"), [
    ("pbt", "keeps each trial's checkpoint and starts a child from its parent's"),
    ("enas", "searches neural architectures"),
    ("regularized-evolution", "searches neural architectures"),
    ("nope", "unknown algorithm 'nope'"),
])
def test_an_algorithm_a_functions_trials_cannot_use_is_refused_naming_those_they_can(tmp_path, algorithm, words):
    """pbt ran, its function never given a checkpoint folder; the architecture searches were
    listed as choices and then refused for a field tune() has no argument for."""
    with pytest.raises(ValueError, match=words) as info:
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, algorithm=algorithm, store=str(tmp_path))
    usable = "['bayesianoptimization', 'cmaes', 'grid', 'hyperband', 'multivariate-tpe', 'random', 'sobol', 'tpe']"
    assert str(info.value).removesuffix(f"; {NO_PLUGIN_HINT}").endswith(usable)  # an unknown name: how a plug-in would bring it, after
    assert not (tmp_path / "experiments").exists()


@pytest.mark.parametrize("name", ["a b", "x\ny", "q'", "x}y", "$x"])
def test_a_parameter_name_that_would_break_placeholders_or_tables_is_refused(tmp_path, name):
    """A newline split kfp-tune trials' header row; 'x}y' failed for kfp-tune's own template."""
    with pytest.raises(ValueError, match=r"tune\(\): parameters \(spec\.parameters\): the name .* cannot be used"):
        tune(lambda p: 0.0, {name: search.double(0, 1)}, store=str(tmp_path))
    assert not (tmp_path / "experiments").exists()


@pytest.mark.parametrize(("arguments", "was_type_error", "told"), [
    ({"max_trial_count": "3"}, True, "tune(): max_trial_count (spec.maxTrialCount): expected an integer or None, got '3'"),
    ({"parallel_trial_count": 1.5}, True, "tune(): parallel_trial_count (spec.parallelTrialCount): expected an integer, got 1.5"),
    ({"additional_metric_names": "loss"}, True, "tune(): additional_metric_names (spec.objective.additionalMetricNames): expected a list of strings"),
    ({"algorithm_settings": [("random_state", 1)]}, True, "tune(): algorithm_settings (spec.algorithm.algorithmSettings): expected a dict"),
    ({"objective_type": ""}, True, "tune(): objective_type (spec.objective.type): expected a non-empty string, got ''"),
    ({"store": 42}, True, "tune(): store: expected a URI, a folder"),
    ({"take_over": "yes"}, True, "tune(): take_over: expected True or False, got 'yes'"),
    ({"goal": "0.1"}, False, "tune(): goal (spec.objective.goal): expected a finite number or None, got '0.1'"),
    ({"algorithm": "nope"}, False, "tune(): algorithm (spec.algorithm.algorithmName): unknown algorithm 'nope'; expected one of"),
    ({"parallel_trial_count": 10**6}, False, "tune(): parallel_trial_count (spec.parallelTrialCount): expected at most 256"),
])
def test_every_refused_argument_is_a_tune_argument_error_naming_it(tmp_path, arguments, was_type_error, told):
    """QA: max_trial_count="3" raised a plain TypeError and goal="0.1" or an unknown algorithm a
    plain ValueError, where every other refused argument is a TuneArgumentError naming the
    argument and its field. All are now; a wrong type is still the TypeError it was."""
    from kfp_tune.api import TuneArgumentError

    with pytest.raises(TuneArgumentError) as info:
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, **{"store": str(tmp_path), "max_trial_count": 1, **arguments})
    assert str(info.value).startswith(told), str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError) is was_type_error
    assert not (tmp_path / "experiments").exists()


def test_a_dict_of_algorithm_settings_is_told_by_the_settings_names(tmp_path):
    """QA: a bad value in algorithm_settings={...} was told as algorithm_settings[0].value, the
    list Katib's spec holds, not the dict the caller wrote."""
    from kfp_tune.api import TuneArgumentError

    with pytest.raises(TuneArgumentError) as info:
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, algorithm="bayesianoptimization", max_trial_count=1, store=str(tmp_path),
             algorithm_settings={"random_state": 7, "n_initial_points": [1]})
    assert str(info.value).startswith("tune(): algorithm_settings['n_initial_points'] (spec.algorithm.algorithmSettings[1].value): "), str(info.value)


@pytest.mark.parametrize("name", [pathlib.PurePosixPath("exp-path"), b"exp-bytes", 5])
def test_a_name_that_is_not_a_string_is_refused_naming_name(tmp_path, name):
    """A name is the experiment's metadata.name, not a path: a PurePosixPath passed the argument
    check (which took os.PathLike for store and name alike) and then crashed building the
    Experiment with pydantic's ValidationError, where tune(host=) took its text. Refused on both paths."""
    with pytest.raises(TypeError, match=r"tune\(\): name \(metadata\.name\): expected the experiment's name, a string \(e.g. 'lr-search'\), or None, got "):
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, max_trial_count=1, store=str(tmp_path), name=name)
    assert not (tmp_path / "experiments").exists()  # tune(host=) refuses it too (test_bad_arguments_are_refused_before_anything_is_sent)


def test_a_results_status_is_the_plain_word(tmp_path):
    result = tune(lambda p: 0.0, {"x": search.double(0, 1)}, max_trial_count=1, store=str(tmp_path), algorithm="random")
    assert "status='Succeeded'" in repr(result.trials[0])  # it showed <TrialStatus.SUCCEEDED: 'Succeeded'>


def test_a_result_shows_in_a_notebook_as_the_experiment_its_best_trial_and_counts(tmp_path):
    """Its repr was one long line of every Trial; a notebook had no table (no _repr_html_)."""
    def objective(params):
        if params["opt"] == "sgd":
            raise ValueError("sgd diverged")
        return {"loss": (params["lr"] - 0.3) ** 2, "acc": 1 - params["lr"]}

    result = tune(objective, {"lr": search.double(0.1, 0.9), "opt": search.categorical(["adam", "sgd", "<script>alert(1)</script>"])},
                  objective_metric_name="loss", additional_metric_names=["acc"], algorithm="random", algorithm_settings={"random_state": 7}, max_trial_count=8,
                  name="shown", store=str(tmp_path))
    best = result.best_trial
    assert best is not None
    failed = sum(t.status == "Failed" for t in result.trials)
    succeeded = sum(t.status == "Succeeded" for t in result.trials)
    assert failed and succeeded == 8 - failed  # both kinds are counted below
    text = repr(result)
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "<TuneResult shown" and text.endswith(">") and all(len(line) < 200 for line in lines)
    assert f"status: {result.status} ({result.reason})" in lines
    assert f"trials: 8 ({succeeded} succeeded, {failed} failed, 0 not finished)" in lines
    assert f"best trial: {best.name}" in lines and f"store: {result.store}>" in lines
    shown = {name: format_number(value) for name, value in best.metrics.items()}  # the HTML report's precision
    metrics_line = next(line for line in lines if line.startswith("metrics: "))
    assert sorted(metrics_line.removeprefix("metrics: ").split(", ")) == [f"acc={shown['acc']}", f"loss={shown['loss']}"]
    assert f"parameters: lr={format_number(best.parameters['lr'])}, opt={best.parameters['opt']}" in lines
    assert "Trial(" not in text

    page = result._repr_html_()
    assert page.startswith("<table>") and page.endswith("</table>") and "<script" not in page.lower()
    assert f"<td style=\"text-align:left\">{best.name}</td>" in page and metrics_line.removeprefix("metrics: ") in page
    assert f"8 ({succeeded} succeeded, {failed} failed, 0 not finished)" in page


def test_a_result_escapes_a_parameter_value_in_its_notebook_table():
    from kfp_tune.api import Trial, TuneResult

    best = Trial("e-1", {"opt": "<script>alert('x')</script>", "lr": 0.5}, {"loss": 0.25}, "Succeeded")
    page = TuneResult("e", "Succeeded", "ExperimentMaxTrialsReached", best, [best], "file:///runs")._repr_html_()
    assert "<script" not in page and "opt=&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;, lr=0.5" in page
    nothing = TuneResult("e", "Running", "", None, [Trial("e-1", {}, {}, "Running")], "file:///runs")
    assert "best trial: none: no trial reported the objective" in repr(nothing) and "1 (0 succeeded, 0 failed, 1 not finished)" in repr(nothing)


def test_search_helpers_build_katib_parameters():
    assert search.double(0.01, 0.1, step=0.01).to_dict() == {
        "name": "", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1", "step": "0.01", "distribution": "uniform"}
    }
    assert search.int(1, 5).feasible_space.max == "5"
    assert search.categorical(["a", 1]).feasible_space.list == ["a", "1"]
    assert search.discrete([0.5, 1]).parameter_type == "discrete"


def test_fixed_values_go_to_the_function_as_given_beside_the_searched_ones(tmp_path):
    """Katib's SDK passes a value that is not a search space to the function unchanged (its
    notebooks: ``"is_dist": False, "num_workers": 1``); it raised TypeError. Not searched: the
    experiment's parameters and the trials' assignments hold only ``lr``."""
    layers = [64, 32]
    seen: list[dict] = []

    def objective(params: dict) -> float:
        seen.append(params)
        return params["lr"] * params["num_workers"]

    parameters = {"is_dist": False, "lr": search.double(min=0.1, max=0.2), "num_workers": 1, "layers": layers, "note": None}
    with pytest.warns(UserWarning, match=r"parameters\['layers'\] is fixed to \[64, 32\]"):  # a list, which might have been meant as choices
        result = tune(objective, parameters, algorithm="random", algorithm_settings={"random_state": 4}, max_trial_count=2, store=str(tmp_path), name="fixed")
    assert result.status == "Succeeded" and len(seen) == 2
    for params in seen:
        assert list(params) == ["is_dist", "lr", "num_workers", "layers", "note"]  # the caller's order
        assert params["is_dist"] is False and params["num_workers"] == 1 and params["layers"] is layers and params["note"] is None
        assert 0.1 <= params["lr"] <= 0.2
    assert [list(t.parameters) for t in result.trials] == [["lr"], ["lr"]]
    assert [p.name for p in Client(str(tmp_path)).get_experiment("fixed").spec.parameters] == ["lr"]


def test_katibs_own_search_spaces_are_taken(tmp_path):
    """``kubeflow.katib.search.double/int/categorical`` results (V1beta1ParameterSpec), told
    apart by their attributes, not by importing Katib: a notebook that builds its space with
    Katib's helpers runs. Katib's categorical hands its list to V1beta1FeasibleSpace's first
    argument, ``distribution``: it is the list."""
    import katib_models

    katib = katib_models.search
    parameters = {"lr": katib.double(min=0.1, max=0.2), "epochs": katib.int(min=10, max=15, step=5), "opt": katib.categorical(["sgd", "adam"]), "seed": 7}
    seen: list[dict] = []
    result = tune(lambda p: seen.append(p) or p["lr"], parameters, algorithm="random", algorithm_settings={"random_state": 2}, max_trial_count=4,
                  store=str(tmp_path), name="katib-spaces")
    assert result.status == "Succeeded"
    spec = Client(str(tmp_path)).get_experiment("katib-spaces").spec
    assert [(p.name, p.parameter_type, p.feasible_space.to_dict()) for p in spec.parameters] == [
        ("lr", "double", {"min": "0.1", "max": "0.2", "distribution": "uniform"}),
        ("epochs", "int", {"min": "10", "max": "15", "step": "5", "distribution": "uniform"}),
        ("opt", "categorical", {"list": ["sgd", "adam"], "distribution": "uniform"}),
    ]
    assert all(p["epochs"] in (10, 15) and p["opt"] in ("sgd", "adam") and p["seed"] == 7 for p in seen)


def test_report_metrics_inside_a_function_trial_is_that_trials_push_collector(tmp_path):
    """Katib's Push example reports from inside the objective; tune() runs it in a thread of this
    process, which has no KFP_TUNE_* environment: every trial failed (KFP_TUNE_EXPERIMENT,
    KFP_TUNE_TRIAL not set). Each report counts, in order, before what the function returns."""
    import kfp_tune

    def objective(params: dict) -> None:
        for step in range(3):
            kfp_tune.report_metrics({"loss": params["x"] + 1 - step, "accuracy": step / 2}, step=step)

    result = tune(objective, {"x": search.discrete([1, 2])}, objective_metric_name="loss", additional_metric_names=["accuracy"], algorithm="grid",
                  max_trial_count=2, parallel_trial_count=2, store=str(tmp_path), name="pushed")
    assert (result.status, [t.status for t in result.trials]) == ("Succeeded", ["Succeeded", "Succeeded"])
    assert sorted((t.parameters["x"], t.metrics["loss"], t.metrics["accuracy"]) for t in result.trials) == [(1, 0.0, 0.0), (2, 1.0, 0.0)]  # min of each, as minimize sets
    best = result.best_trial
    assert best is not None and [(m["name"], m["value"], m["step"]) for m in Client(str(tmp_path)).get_trial_metrics(("pushed", best.name))] == [
        ("loss", 2.0, 0), ("accuracy", 0.0, 0), ("loss", 1.0, 1), ("accuracy", 0.5, 1), ("loss", 0.0, 2), ("accuracy", 1.0, 2)]

    def reports_then_returns(params: dict) -> float:
        kfp_tune.report_metrics({"loss": 5.0})
        return 4.0

    def reports_a_word(params: dict) -> None:
        kfp_tune.report_metrics({"loss": "low"})

    mixed = tune(reports_then_returns, {"x": search.discrete([1])}, objective_metric_name="loss", algorithm="grid", max_trial_count=1, store=str(tmp_path))
    assert mixed.trials[0].metrics == {"loss": 4.0}  # min of the report and the return
    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"):
        bad = tune(reports_a_word, {"x": search.discrete([1])}, objective_metric_name="loss", algorithm="grid", max_trial_count=1, store=str(tmp_path))
    assert (bad.trials[0].status, bad.trials[0].message) == ("Failed", "TrialFailed. Job reason: Error: Trial has failed. Job message: ValueError: report_metrics: loss='low' is not a number")


@pytest.mark.parametrize("goal", [10**400, -(10**400)], ids=["above", "below"])
def test_a_goal_beyond_a_floats_range_is_refused_as_not_finite(tmp_path, goal):
    """float(10**400) raises OverflowError: tune() and submit_function() showed it raw."""
    from kfp_tune import submit_function

    with pytest.raises(ValueError, match=r"^tune\(\): goal \(spec\.objective\.goal\): expected a finite number or None, got "):
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, goal=goal, store=str(tmp_path))
    with pytest.raises(ValueError, match=r"^tune\(\): goal \(spec\.objective\.goal\): expected a finite number or None, got "):
        submit_function(lambda p: 0.0, {"x": search.double(0, 1)}, host="http://127.0.0.1:9", goal=goal)  # refused before anything is sent
    assert list(tmp_path.iterdir()) == []


def test_an_empty_store_is_refused_not_taken_for_the_default(tmp_path, monkeypatch):
    """tune(store='') and Client('') opened ./kfp-tune-runs (or $KFP_TUNE_STORE) where
    ``kfp-tune --store ''`` is refused; an empty $KFP_TUNE_STORE is unset, as the CLI reads it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KFP_TUNE_STORE", str(tmp_path / "from-env"))
    with pytest.raises(ValueError, match=r"^tune\(\): store: expected a URI or folder, got an empty string$"):
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, store="", max_trial_count=1)
    with pytest.raises(ValueError, match=r"^store: expected a URI or folder, got an empty string$"):
        Client("")
    from kfp_tune import KatibClient

    with pytest.raises(ValueError, match=r"^store: expected a URI or folder, got an empty string$"):
        KatibClient(store="")
    monkeypatch.setenv("KFP_TUNE_STORE", "s3://bucket/runs")  # with a host, an s3:// store is named, not opened
    with pytest.raises(ValueError, match=r"^store: expected a URI or folder, got an empty string$"):
        KatibClient(store="", host="http://127.0.0.1:9")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    monkeypatch.setenv("KFP_TUNE_STORE", "")
    assert Client().store.uri == LocalStore(tmp_path / "kfp-tune-runs").uri


def test_a_results_repr_counts_the_trials_whose_metrics_were_unavailable():
    from kfp_tune.api import Trial, TuneResult

    trials = [Trial("e-1", {}, {"loss": 1.0}, "Succeeded"), Trial("e-2", {}, {}, "Failed"), Trial("e-3", {}, {}, "MetricsUnavailable")]
    result = TuneResult("e", "Succeeded", "ExperimentMaxTrialsReached", trials[0], trials, "file:///runs")
    assert "  trials: 3 (1 succeeded, 1 failed, 1 metrics unavailable, 0 not finished)\n" in repr(result)


def test_the_default_experiment_name_is_the_functions_name_and_a_timestamp(tmp_path):
    import datetime
    import re

    def quadratic(params):
        return params["x"] ** 2

    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)
    result = tune(quadratic, {"x": search.double(0, 1)}, max_trial_count=1, algorithm="random", store=str(tmp_path))
    after = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    found = re.fullmatch(r"quadratic-(\d{8}-\d{6})-[0-9a-f]{4}", result.experiment)
    assert found, result.experiment
    assert before <= datetime.datetime.strptime(found[1], "%Y%m%d-%H%M%S") <= after  # UTC, to the second


def test_a_run_interrupted_while_it_prepared_says_so_in_its_status(tmp_path, monkeypatch):
    """SIGTERM after prepare claimed the experiment, before any slot ran: the status names the
    signal for the next run to read, not the status prepare wrote."""
    records = tune_interrupted_after_prepare(tmp_path, monkeypatch, "SIGTERM")
    status = records.read(records.status_key(), "ExperimentStatus")["status"]
    held = [c for c in status["conditions"] if c["status"] == "True"][-1]
    assert (status["phase"], held["reason"]) == ("Running", "ExperimentRunInterrupted")
    assert held["message"].startswith("The run was interrupted (SIGTERM): no trial was running, so none was stopped")


def test_a_failed_trials_reported_value_is_no_metric_of_its_result_as_it_is_no_observation(tmp_path):
    """A notebook user's QA pass: a trial that reported accuracy 0.99 and then raised was Failed
    with {'accuracy': 0.99} among TuneResult's metrics, so a notebook's max over trials with the
    metric picked it as best, where Client's get_trial (Katib's shape) gives it no observation."""
    from kfp_tune import Client, report_metrics

    def diverging(params):
        report_metrics({"accuracy": 0.99 if params["m"] == "bad" else 0.8})
        if params["m"] == "bad":
            raise RuntimeError("diverged after reporting")

    result = tune(diverging, {"m": search.categorical(["bad", "good"])}, objective_metric_name="accuracy", objective_type="maximize",
                  algorithm="grid", max_trial_count=2, max_failed_trial_count=2, store=str(tmp_path), name="diverge")
    by_value = {t.parameters["m"]: (t.status, t.metrics) for t in result.trials}
    assert by_value == {"bad": ("Failed", {}), "good": ("Succeeded", {"accuracy": 0.8})}
    failed = next(t for t in result.trials if t.status == "Failed")
    assert Client(str(tmp_path)).get_trial(("diverge", failed.name)).status.observation is None
    assert result.best_trial is not None and result.best_trial.parameters == {"m": "good"}


def test_a_setting_the_algorithm_ignores_is_a_warning_naming_the_closest(tmp_path):
    """A notebook user's QA pass: cmaes with {"random_stat": 3} ran unseeded without a word (tpe
    refuses an unknown setting; cmaes, as Katib's goptuna, ignores it, which only validate
    noted). A setting read as given warns nothing."""
    import warnings

    with pytest.warns(UserWarning, match=r"^tune\(\): algorithm_settings: Katib's goptuna service ignores 'random_stat', a setting it does not know, "
                                         r"and so does kfp-tune; did you mean 'random_state'\?$") as told:
        tune(lambda p: p["x"] + p["y"], {"x": search.double(0, 1), "y": search.double(0, 1)}, algorithm="cmaes", algorithm_settings={"random_stat": 3}, max_trial_count=2, store=str(tmp_path))
    assert [w.filename for w in told] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tune(lambda p: p["x"] + p["y"], {"x": search.double(0, 1), "y": search.double(0, 1)}, algorithm="cmaes", algorithm_settings={"random_state": 3}, max_trial_count=2,
             store=str(tmp_path), name="seeded")
