"""KatibClient where it parted from Katib's SDK: tune() without a name, waiting for a condition
on a Failed experiment, the parallel_trial_count default in a refusal, a damaged experiment in
a store-wide trial listing; and what the QA pass found no test pinning."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from kfp_tune import KatibClient, search, tune
from kfp_tune.client import ExperimentFailedError, TrialNotFound
from kfp_tune.core.errors import ExperimentNotFound
from kfp_tune.katib_client import StoreFailedError, TuneRefusedError

PARAMETERS = {"x": search.discrete([0.5, 0.25, 0.75])}


def _katib_objective(parameters: dict[str, Any]) -> None:
    print(f"result={float(parameters['x']) * 2}")


def _tune_arguments(**changes: Any) -> dict[str, Any]:
    return {"objective": _katib_objective, "parameters": {"x": search.double(min=0.1, max=0.2)}, "objective_metric_name": "result",
            "max_trial_count": 1, "parallel_trial_count": 1, **changes}


@pytest.fixture(scope="module")
def failed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding experiment ``broken``: its one trial raised, maxFailedTrialCount 1."""
    def broken(params: dict[str, Any]) -> float:
        raise RuntimeError("no GPU")

    store = tmp_path_factory.mktemp("failed")
    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"):
        tune(broken, PARAMETERS, objective_metric_name="loss", algorithm="grid", max_trial_count=3, max_failed_trial_count=1, store=str(store),
             name="broken")
    return store


@pytest.mark.parametrize("name", [None, ""])
def test_katibs_tune_without_a_name_is_refused_as_katibs_sdk_refuses(katib, name):
    """Katib's tune(): ``if not name: raise ValueError("Please specify name for the Experiment.")``;
    name=None ran here under a generated name the user never saw (name="" was refused already:
    both now alike)."""
    with pytest.raises(ValueError, match=r"^tune\(\): name \(metadata\.name\): required: the experiment's name") as refused:
        katib.tune(name=name, **_tune_arguments())
    assert isinstance(refused.value, TuneRefusedError) and isinstance(refused.value, RuntimeError)
    assert katib.list_experiments() == []


def test_katibs_tune_says_parallel_trial_count_left_out_is_the_default(katib):
    """max_trial_count=2 without parallel_trial_count: Katib's webhook default 3 is refused; the
    message quoted 'got 3' as though the user had passed it."""
    with pytest.raises(TuneRefusedError, match=r"parallel_trial_count \(spec\.parallelTrialCount\): expected at most spec\.maxTrialCount \(2\), "
                                               r"got 3 \(the default\)$"):
        katib.tune(name="two", **_tune_arguments(max_trial_count=2, parallel_trial_count=None))
    with pytest.raises(TuneRefusedError, match=r"got 3$"):  # passed: quoted as passed
        katib.tune(name="two", **_tune_arguments(max_trial_count=2, parallel_trial_count=3))


@pytest.mark.parametrize(("settings", "told"), [
    ({"random_state": "x"}, "algorithm_settings['random_state'] (spec.algorithm.algorithmSettings[0].value): random_state: expected an integer"),
    ({"bogus": "1"}, "algorithm_settings['bogus'] (spec.algorithm.algorithmSettings[0].name): unknown setting 'bogus' for random"),
])
def test_katibs_tune_names_a_refused_setting_as_kfp_tunes_tune_does(katib, tmp_path, settings, told):
    """KatibClient.tune told a bad setting as algorithm_settings[0].value, the list Katib's spec
    holds, where kfp_tune.tune names it by the dict's key; an unknown one as ['bogus'].name."""
    with pytest.raises(TuneRefusedError) as refused:
        katib.tune(name="settings", algorithm_name="random", algorithm_settings=settings, **_tune_arguments())
    assert str(refused.value).startswith(f"tune(): {told}"), str(refused.value)
    with pytest.raises(ValueError) as told_by_tune:
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, algorithm="random", max_trial_count=1, store=str(tmp_path / "tune"),
             algorithm_settings=settings)
    assert str(told_by_tune.value).startswith(f"tune(): {told}"), str(told_by_tune.value)


@pytest.mark.parametrize("condition", ["Created", "Running", "Succeeded", "Restarting"])
def test_waiting_for_another_condition_on_a_failed_experiment_raises_as_katibs_loop_checks_failed_first(failed_store, condition):
    """Katib's wait_for_experiment_condition checks Failed before the expected condition: a
    Failed experiment (which holds Created too) raises RuntimeError; ``Created`` returned it."""
    katib = KatibClient(store=str(failed_store))
    with pytest.raises(ExperimentFailedError, match=rf"'broken' Failed while waiting for {condition}: it is Failed \(ExperimentFailed: ") as raised:
        katib.wait_for_experiment_condition("broken", expected_condition=condition, timeout=15)  # one poll: Katib polls round(timeout / polling_interval) times
    assert isinstance(raised.value, RuntimeError)
    assert katib.wait_for_experiment_condition("broken", expected_condition="Failed", timeout=15).metadata.name == "broken"


def test_every_experiments_trials_skip_a_damaged_experiment_with_a_warning(failed_store, tmp_path, caplog):
    """list_trials() and get_success_trial_details() of the whole store failed on one damaged
    experiment record (StoreFailedError), where list_experiments() leaves it out with a warning."""
    import shutil

    store = Path(shutil.copytree(failed_store, tmp_path / "store"))
    (store / "experiments" / "damaged").mkdir()
    (store / "experiments" / "damaged" / "experiment.json").write_text("{not json")
    katib = KatibClient(store=str(store))
    with caplog.at_level(logging.WARNING):
        trials = katib.list_trials()
    assert {t.metadata.labels["katib.kubeflow.org/experiment"] for t in trials} == {"broken"}
    assert any("experiment damaged left out" in r.getMessage() for r in caplog.records)
    assert katib.get_success_trial_details() == []
    with pytest.raises(StoreFailedError):  # named: its damage is the answer
        katib.list_trials("damaged")


def test_what_the_qa_pass_found_unpinned(failed_store, katib, monkeypatch):
    """Code right, no test: each line below pinned a mutant that lived."""
    reader = KatibClient(store=str(failed_store))
    assert reader.get_optimal_hyperparameters("broken") is None  # no trial reported the objective
    with pytest.raises(ExperimentNotFound):
        reader.get_experiment("absent")
    with pytest.raises(TrialNotFound):
        reader.get_trial("absent-trial")
    assert reader.is_experiment_created("broken") is True and reader.is_experiment_succeeded("broken") is False
    with pytest.raises(ValueError, match="Experiment name is required"):
        next(reader.get_job_logs("", "broken-x"))
    with pytest.raises(NotImplementedError, match="list_suggestions"):
        reader.list_suggestions("broken")
    waits: list[float] = []
    monkeypatch.setattr(reader.client, "wait_for_experiment_condition",
                        lambda name, condition, timeout, polling_interval, each_poll=None, told_timeout=None: waits.append(polling_interval) or reader.client.get_experiment(name))
    reader.wait_for_experiment_condition("broken", expected_condition="Failed", polling_interval=2)
    assert waits == [2]
    with pytest.raises(ValueError, match="objective_metric_name"):
        katib.tune(name="n", **_tune_arguments(objective_metric_name=None))
    with pytest.raises(TypeError, match="algorithm_settings"):
        katib.tune(name="n", **_tune_arguments(algorithm_settings=5))
    for metadata in ({"namespace": "a"}, "quad"):
        with pytest.raises(ValueError, match="Experiment must have a name or generateName"):
            katib.create_experiment({"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": metadata, "spec": {}})
