"""search.categorical's values reach a tune() function as the objects given (as Optuna's
suggest_categorical returns them), in this process and in a Kubeflow trial's script; the records
and Katib's spec keep them as text (QA notebook, session 36, finding 2: ``categorical([True,
False])`` reached the function as 'True' / 'False', so ``if p["flag"]`` was always true)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kfp_tune import Client, search, tune
from kfp_tune.core.template import substitute
from kfp_tune.remote import RemoteArgumentError, function_job_experiment


class Kernel:
    """An object no text names: only the helper's list can give it back."""

    def __repr__(self) -> str:
        return "Kernel()"


RBF = Kernel()


def test_an_in_process_trial_gets_the_very_objects_given(tmp_path):
    seen = []

    def objective(p):
        seen.append((p["flag"], p["penalty"], p["lr"], p["kernel"]))
        return 1.0 if p["flag"] else 0.0

    space = {"flag": search.categorical([True, False]), "penalty": search.categorical([None, "l2"]),
             "lr": search.categorical([0.1, 0.01]), "kernel": search.categorical([RBF, "linear"])}
    result = tune(objective, space, max_trial_count=8, algorithm="random", algorithm_settings={"random_state": 3}, store=str(tmp_path))
    assert len(seen) == 8
    for flag, penalty, lr, kernel in seen:
        assert flag is True or flag is False
        assert penalty is None or penalty == "l2"
        assert type(lr) is float and lr in (0.1, 0.01)
        assert kernel is RBF or kernel == "linear"
    assert {flag for flag, *_ in seen} == {True, False}  # seeded: both drawn
    # a False flag's trial reports 0.0: the function saw False, not the true string 'False'
    objective_by_flag = {t.parameters["flag"]: t.metrics["objective"] for t in result.trials}
    assert objective_by_flag == {True: 1.0, False: 0.0}  # the result shows the objects too
    # the records keep Katib's text, as a Katib trial's assignment holds it
    stored = {t.spec.parameter_assignments[0]["value"] for t in Client(str(tmp_path)).list_trials(result.experiment)}
    assert stored <= {"True", "False"}


@pytest.mark.parametrize("values", [[1, "1"], [True, "True"], [None, "None"], [0.5, "0.5"]])
def test_values_that_read_alike_as_text_are_refused_at_the_helper(values):
    with pytest.raises(ValueError, match=r"search\.categorical: .* read alike as text .*could not say which was meant"):
        search.categorical(values)


def test_an_experiment_stored_with_text_values_resumes_and_its_new_trials_get_the_objects(tmp_path):
    """A run before this change stored the list's text, as now: the same spec, so it resumes."""
    seen = []

    def stops_at_the_second_trial(p):
        seen.append(p["flag"])
        if len(seen) == 2:
            raise KeyboardInterrupt  # the stop button, during the second trial
        return 0.0

    with pytest.raises(KeyboardInterrupt):
        tune(stops_at_the_second_trial, {"flag": search.categorical(["True", "False"])}, max_trial_count=2, name="old",
             algorithm="random", algorithm_settings={"random_state": 1}, store=str(tmp_path))
    assert all(isinstance(v, str) for v in seen)
    seen.clear()
    with pytest.warns(UserWarning):  # resuming is said
        result = tune(lambda p: seen.append(p["flag"]) or 0.0, {"flag": search.categorical([True, False])}, max_trial_count=2, name="old",
                      algorithm="random", algorithm_settings={"random_state": 1}, store=str(tmp_path))
    assert result.status == "Succeeded" and seen and all(v is True or v is False for v in seen)


def typed_categoricals(params):
    assert params["flag"] is False, params
    assert params["penalty"] is None, params
    assert params["lr"] == 0.01 and type(params["lr"]) is float, params
    assert params["name"] == "l2", params
    return {"loss": 1.0}


def test_a_kubeflow_trial_gets_the_objects_too():
    parameters = {"flag": search.categorical([True, False]), "penalty": search.categorical([None, "l1"]),
                  "lr": search.categorical([0.1, 0.01]), "name": search.categorical(["l1", "l2"])}
    experiment = function_job_experiment(typed_categoricals, parameters, name="cat", objective_metric_name="loss")
    assert [p.feasible_space.list for p in experiment.spec.parameters] == [["True", "False"], ["None", "l1"], ["0.1", "0.01"], ["l1", "l2"]]
    job = substitute(experiment.spec.trial_template.trial_spec, {"flag": "False", "penalty": "None", "lr": "0.01", "name": "l2"})
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]))
    done = subprocess.run(["sh", "-c", container["args"][0]], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "loss=1.0"


def test_a_value_a_kubeflow_trial_cannot_get_back_is_refused_naming_the_parameter():
    with pytest.raises(RemoteArgumentError, match=r"parameters\['kernel'\].*Kernel\(\)"):
        function_job_experiment(typed_categoricals, {"kernel": search.categorical([RBF, "linear"])}, name="cat", objective_metric_name="loss")


def test_a_result_shows_the_objects_the_function_got(tmp_path):
    """What ``train(**result.best.parameters)`` is given must be what the trials were given."""
    result = tune(lambda p: 0.0 if p["flag"] else 1.0, {"flag": search.categorical([True, False]), "penalty": search.categorical([None, "l2"])},
                  max_trial_count=4, algorithm="grid", store=str(tmp_path))
    assert {(t.parameters["flag"], t.parameters["penalty"]) for t in result.trials} == {(True, None), (True, "l2"), (False, None), (False, "l2")}
    assert result.best_trial is not None and result.best_trial.parameters["flag"] is True


def test_a_kubeflow_runs_result_shows_the_objects_too(tmp_path):
    """tune(host=)'s handle reads its result with the objects given (here: records a run in this process wrote)."""
    from kfp_tune.api import read_result

    tune(lambda p: 0.0, {"flag": search.categorical([True, False])}, max_trial_count=2, algorithm="grid", name="remote-read", store=str(tmp_path))
    read = read_result(str(tmp_path), "remote-read", {"flag": {"True": True, "False": False}})
    assert sorted(t.parameters["flag"] for t in read.trials) == [False, True]
