"""Notes on what Katib itself would refuse in an experiment kfp-tune runs (core.portability),
each rule read from Katib's source (its webhook and its default suggestion services)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import KATIB_EXAMPLES, KATIB_REFUSES, load_katib_example, quadratic_experiment
from kfp_tune import search, tune
from kfp_tune.algorithms import darts
from kfp_tune.cli import main
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment, read_experiment_source
from kfp_tune.core.portability import katib_notes
from kfp_tune.steps.designer import problem_of

KATIB_FAILS = {
    "nas_darts-gpu.yaml": ["spec.nasConfig.operations[4].parameters"],
    "metrics-collector_custom-metrics-collector.yaml": ["spec.metricsCollectorSpec.collector.customCollector.args[3]"],
}
"""Katib's examples its own suggestion service refuses: darts-gpu's skip_connection has no
parameters, which nas/common/validation.py's validate_operations refuses ("Missing ParameterConfigs").
And the one kfp-tune cannot serve: the Custom collector's image reports to Katib's DB manager."""
KATIB_RANDOM_SEARCHES = {"hp-tuning_hyperband.yaml": ["spec.maxTrialCount"]}
"""Katib's examples Katib runs as written but not as their algorithm promises: hyperband.yaml's
maxTrialCount 2 ends the run within its first rung of 2, before any promotion (QA earlystop,
finding 2): a random search."""


@pytest.mark.parametrize("path", [p for p in KATIB_EXAMPLES if p.name not in KATIB_REFUSES], ids=lambda p: p.name)
def test_katibs_own_examples_have_no_notes(path: Path) -> None:
    """Every example Katib admits and runs: nothing to say (a note there would be a false alarm)."""
    assert [note.path for note in katib_notes(load_experiment(path), read_experiment_source(path))] == {**KATIB_FAILS, **KATIB_RANDOM_SEARCHES}.get(path.name, [])


def _notes(**overrides: object) -> dict[str, str]:
    return {note.path: note.message for note in katib_notes(load_experiment(quadratic_experiment(**overrides)))}


def test_a_name_katib_refuses_as_too_long() -> None:
    assert _notes(**{"metadata.name": "a" * 40}) == {}
    (message,) = _notes(**{"metadata.name": "a" * 41}).values()
    assert message == "Katib refuses names longer than 40 characters (this one has 41)"


@pytest.mark.parametrize(
    "algorithm, setting, service",
    [("tpe", "n_startup_trials", "hyperopt"), ("tpe", "n_ei_candidates", "hyperopt"), ("multivariate-tpe", "gamma", "optuna"),
     ("multivariate-tpe", "prior_weight", "optuna"), ("bayesianoptimization", "kappa", "skopt"), ("bayesianoptimization", "xi", "skopt")],
)
def test_settings_katibs_default_service_refuses(algorithm: str, setting: str, service: str) -> None:
    notes = _notes(**{"spec.algorithm": {"algorithmName": algorithm, "algorithmSettings": [{"name": "random_state", "value": "1"}, {"name": setting, "value": "5" if "n_" in setting else "0.5"}]}})
    assert list(notes) == ["spec.algorithm.algorithmSettings[1].name"]  # random_state is Katib's too
    assert f"Katib's {service} service, which runs {algorithm} in its default configuration, refuses {setting!r}" in notes["spec.algorithm.algorithmSettings[1].name"]


def test_settings_katib_requires_and_kfp_tune_defaults() -> None:
    hyperband = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [{"name": "resource_name", "value": "y"}]},
                                        "spec.maxTrialCount": 23})  # r_l 9, eta 3: the whole schedule
    hyperband["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}
    (note,) = katib_notes(load_experiment(hyperband))
    assert note.message == "Katib's hyperband service requires 'r_l'; kfp-tune gives it a default: the max of the resource parameter 'y', 9, a schedule of 23 trials"
    pbt = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "pbt", "algorithmSettings": [PBT_DIR, {"name": "n_population", "value": "5"}]},
                                  "spec.resumePolicy": "FromVolume"})
    pbt["spec"]["parameters"] = STEPPED
    assert [note.message for note in katib_notes(load_experiment(pbt))] == ["Katib's pbt service requires 'truncation_threshold'; kfp-tune gives it a default"]


PBT_DIR = {"name": "suggestion_trial_dir", "value": "/var/log/katib/checkpoints/"}
STEPPED = [{"name": name, "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.01"}} for name in ("x", "y")]


def _pbt(*settings: dict[str, str], parameters: list[dict[str, object]] = STEPPED) -> dict[str, object]:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "pbt", "algorithmSettings": [*settings, {"name": "n_population", "value": "5"},
                                                                                                   {"name": "truncation_threshold", "value": "0.2"}]},
                                  "spec.resumePolicy": "FromVolume"})  # as Katib runs pbt (tests/core/test_portability_pbt_resume_policy.py)
    doc["spec"]["parameters"] = parameters  # type: ignore[index]
    return doc


def test_pbt_without_suggestion_trial_dir_is_refused_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Katib's pbt service requires it (ValidateAlgorithmSettings); no default would do: it is the
    path the trial's own command uses, so without it every trial shared one folder."""
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_pbt()))
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.startswith("spec.algorithm.algorithmSettings: pbt needs the setting suggestion_trial_dir")
    doc = _pbt(PBT_DIR)
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append(f"--checkpoint={PBT_DIR['value']}")  # type: ignore[index]
    path.write_text(yaml.safe_dump(doc))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err == ""


def test_pbt_notes_what_katibs_service_fails_on() -> None:
    """Any resample_probability (Katib's check compares its text with numbers) and a double
    without step (its sampler reads the step): Katib fails; kfp-tune runs them."""
    resample = {n.path: n.message for n in katib_notes(load_experiment(_pbt(PBT_DIR, {"name": "resample_probability", "value": "0.5"})))}
    assert list(resample) == ["spec.algorithm.algorithmSettings[1].name"]
    assert resample["spec.algorithm.algorithmSettings[1].name"].startswith("Katib's pbt service fails on any resample_probability")
    unstepped = [STEPPED[0], {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
                 {"name": "z", "parameterType": "int", "feasibleSpace": {"min": "0", "max": "4"}}]  # an int's step defaults to 1 in Katib
    doc = _pbt(PBT_DIR, parameters=unstepped)
    doc["spec"]["trialTemplate"]["trialParameters"].append({"name": "z", "reference": "z"})  # type: ignore[index]
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("z=${trialParameters.z}")  # type: ignore[index]
    notes = {n.path: n.message for n in katib_notes(load_experiment(doc))}
    assert list(notes) == ["spec.parameters[1].feasibleSpace.step"]
    assert notes["spec.parameters[1].feasibleSpace.step"].startswith("Katib's pbt service fails the experiment at its first suggestion on a double without step")


def test_a_reference_to_a_label_kfp_tune_puts_on_trials_is_noted_as_kfp_tune_only() -> None:
    """QA's pbt-lbl.yaml: ``${trialSpec.Labels[pbt.suggestion.katib.kubeflow.org/parent]}`` works
    here, but Katib resolves trialSpec.Labels from the template's own metadata only
    (experiment/manifest/generator.go) and fails every trial; a label the template sets works on both."""
    doc = _pbt(PBT_DIR)
    template = doc["spec"]["trialTemplate"]  # type: ignore[index]
    template["trialParameters"] += [
        {"name": "parent", "reference": "${trialSpec.Labels[pbt.suggestion.katib.kubeflow.org/parent]}"},
        {"name": "trial", "reference": "${trialSpec.Labels[kfp-tune.kubeflow.org/trial]}"},
        {"name": "team", "reference": "${trialSpec.Labels[team]}"},
    ]
    template["trialSpec"]["metadata"] = {"labels": {"team": "a", "kfp-tune.kubeflow.org/trial": "set-by-the-template"}}
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"] += ["p=${trialParameters.parent}", "t=${trialParameters.trial}", "w=${trialParameters.team}"]
    notes = {n.path: n.message for n in katib_notes(load_experiment(doc))}
    assert list(notes) == ["spec.trialTemplate.trialParameters[2].reference"]
    assert notes["spec.trialTemplate.trialParameters[2].reference"] == (
        "'${trialSpec.Labels[pbt.suggestion.katib.kubeflow.org/parent]}' names a label kfp-tune puts on each trial, which Katib does not "
        "fill in: it reads ${trialSpec.Labels[k]} from trialSpec.metadata.labels only (the suggestion's labels go on the Trial object), "
        "so every trial fails to be created; kfp-tune fills it in"
    )


def _hyperband(parallel: int, *settings: tuple[str, str]) -> dict[str, str]:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [
        {"name": "resource_name", "value": "y"}, *({"name": k, "value": v} for k, v in settings)]}, "spec.parallelTrialCount": parallel, "spec.maxTrialCount": 40})
    del doc["spec"]["maxTrialCount"]  # the schedule's length against it: test_hyperband_schedule_notes.py
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "27"}}  # type: ignore[index]
    return {note.path: note.message for note in katib_notes(load_experiment(doc))}


def test_hyperband_notes_what_katibs_check_refuses() -> None:
    """hyperband/service.py, ValidateAlgorithmSettings: parallelTrialCount at least
    ceil(eta ** int(log(r_l) / log(eta))) with eta as int(float(eta)); an eta below 2 is 1 there,
    and log(1) divides by zero."""
    assert _hyperband(9, ("r_l", "9"), ("eta", "3")) == {}
    assert _hyperband(8, ("r_l", "9"), ("eta", "3")) == {
        "spec.parallelTrialCount": "Katib's hyperband service refuses a parallelTrialCount below 9 (eta ** s_max, with eta 3 and r_l 9; got 8); "
                                   "kfp-tune runs each rung's trials as slots free up"}
    assert list(_hyperband(3, ("r_l", "27"), ("eta", "3.9"))) == ["spec.parallelTrialCount"]  # 3 ** 3 = 27: eta read as 3
    with pytest.raises(SpecError, match=r"algorithmSettings\[2\]\.value: eta: expected a number >= 2 .*log\(1\)"):
        _hyperband(9, ("r_l", "9"), ("eta", "1.5"))  # refused by kfp-tune too (test_hyperband_eta_below_2.py)


@pytest.mark.parametrize("eta", ["0", "-2", "-0.5"])
def test_hyperband_takes_an_eta_at_or_below_zero_as_katibs_default_3(eta: str) -> None:
    """HyperBandParam.convert and ValidateAlgorithmSettings replace an eta <= 0 with 3."""
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [
        {"name": "resource_name", "value": "y"}, {"name": "r_l", "value": "9"}, {"name": "eta", "value": eta}]}, "spec.parallelTrialCount": 9, "spec.maxTrialCount": 23})
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}
    experiment = load_experiment(doc)
    assert problem_of(experiment).settings["eta"] == 3.0
    assert [n.message for n in katib_notes(experiment)] == ["Katib's hyperband service replaces an eta <= 0 with its default 3, and so does kfp-tune"]
    doc["spec"]["algorithm"]["algorithmSettings"][2]["value"] = "0.5"
    with pytest.raises(SpecError, match=r"eta: expected a number >= 2 \(or <= 0 for Katib's default 3\), got 0.5"):
        load_experiment(doc)


@pytest.mark.parametrize(
    "algorithm, name, message",
    [
        ("cmaes", "sigmaa", "Katib's goptuna service ignores 'sigmaa', a setting it does not know, and so does kfp-tune; did you mean 'sigma'?"),
        ("sobol", "random_state", "Katib's goptuna service ignores 'random_state' (it reads no settings for sobol); kfp-tune uses it"),
        ("hyperband", "s_max", "Katib's hyperband service reads 's_max' as part of the progress it keeps and starts from it; kfp-tune ignores it"),
        ("hyperband", "etaa", "Katib's hyperband service ignores 'etaa', a setting it does not know, and so does kfp-tune; did you mean 'eta'?"),
        ("pbt", "n_populaton", "Katib's pbt service ignores 'n_populaton', a setting it does not know, and so does kfp-tune; did you mean 'n_population'?"),
    ],
)
def test_a_setting_katibs_service_ignores_is_taken_with_a_note(algorithm: str, name: str, message: str) -> None:
    """goptuna (toGoptunaSampler), hyperband (HyperBandParam.convert) and pbt (its check reads its
    own keys) go on past a name they do not read; kfp-tune does too, and says so."""
    doc = _pbt(PBT_DIR) if algorithm == "pbt" else quadratic_experiment(**{"spec.algorithm": {"algorithmName": algorithm, "algorithmSettings": []}})
    settings = doc["spec"]["algorithm"]["algorithmSettings"]  # type: ignore[index]
    if algorithm == "hyperband":
        settings += [{"name": "resource_name", "value": "y"}, {"name": "r_l", "value": "4"}]  # eta 3: 3 at 1, 1 at 3; 2 at 4 (6 trials, maxTrialCount 6)
        doc["spec"]["parallelTrialCount"] = 3  # type: ignore[index]  # 3 ** s_max, as Katib's check asks
        doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}  # type: ignore[index]
    settings.append({"name": name, "value": "2"})
    experiment = load_experiment(doc)
    path = f"spec.algorithm.algorithmSettings[{len(settings) - 1}].name"
    assert {n.path: n.message for n in katib_notes(experiment)} == {path: message}
    assert name not in problem_of(experiment).settings or name == "random_state"


@pytest.mark.parametrize("algorithm", ["random", "tpe", "multivariate-tpe", "bayesianoptimization", "grid"])
def test_a_setting_katibs_service_refuses_is_refused(algorithm: str) -> None:
    """hyperopt, optuna and skopt answer an unknown name with "unknown setting": so does kfp-tune."""
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": algorithm, "algorithmSettings": [{"name": "random_stat", "value": "1"}]}})
    doc["spec"]["parameters"] = STEPPED
    with pytest.raises(SpecError, match=r"unknown setting 'random_stat' for [a-z-]+; did you mean 'random_state'\?"):
        load_experiment(doc)


def test_a_darts_setting_katib_does_not_know_goes_on_to_the_trial_with_a_note() -> None:
    doc = load_katib_example("nas_darts-cpu.yaml")
    doc["spec"]["algorithm"]["algorithmSettings"] = [{"name": "num_epochz", "value": "3"}]
    experiment = load_experiment(doc)
    assert {n.path: n.message for n in katib_notes(experiment)} == {
        "spec.algorithm.algorithmSettings[0].name": "Katib's darts service passes 'num_epochz', a setting it does not know, on to the trial in "
                                                   "algorithm-settings unchecked, and so does kfp-tune; did you mean 'num_epochs'?"}
    assert "'num_epochz': '3'" in darts.assignment(problem_of(experiment).nas_config, problem_of(experiment).algorithm_settings)["algorithm-settings"]


def test_a_setting_given_twice_takes_the_last_value_with_a_note() -> None:
    settings = [{"name": "random_state", "value": "1"}, {"name": "random_state", "value": "7"}]
    experiment = load_experiment(quadratic_experiment(**{"spec.algorithm": {"algorithmName": "random", "algorithmSettings": settings}}))
    assert problem_of(experiment).settings["random_state"] == 7
    assert {n.path: n.message for n in katib_notes(experiment)} == {
        "spec.algorithm.algorithmSettings[0].name": "'random_state' is given again below: Katib's random service takes the last value, and so does kfp-tune"}


def test_bayesianoptimization_with_no_initial_points_is_noted() -> None:
    """Katib's skopt service hands n_initial_points to scikit-optimize, whose first ask fails
    with no result to fit; kfp-tune's first suggestion is random. 1 is not noted."""
    def with_initial(value: str) -> dict[str, str]:
        settings = [{"name": "random_state", "value": "1"}, {"name": "n_initial_points", "value": value}]
        return {n.path: n.message for n in katib_notes(load_experiment(quadratic_experiment(
            **{"spec.algorithm": {"algorithmName": "bayesianoptimization", "algorithmSettings": settings}})))}

    assert with_initial("1") == {}
    notes = with_initial("0")
    assert list(notes) == ["spec.algorithm.algorithmSettings[1].value"]
    assert "fails its first suggestion with n_initial_points 0" in notes["spec.algorithm.algorithmSettings[1].value"]


def test_a_darts_operation_without_parameters_is_noted() -> None:
    doc = load_katib_example("nas_darts-cpu.yaml")
    doc["spec"]["nasConfig"]["operations"].append({"operationType": "skip_connection"})
    notes = {n.path: n.message for n in katib_notes(load_experiment(doc))}
    assert list(notes) == [f"spec.nasConfig.operations[{len(doc['spec']['nasConfig']['operations']) - 1}].parameters"]
    assert next(iter(notes.values())).startswith("Katib's darts service refuses an operation without parameters")


def test_a_grid_smaller_than_max_trial_count() -> None:
    grid = {"algorithmName": "grid"}
    space = [{"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}},
             {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}}]
    assert _notes(**{"spec.algorithm": grid, "spec.parameters": space, "spec.maxTrialCount": 6}) == {}
    notes = _notes(**{"spec.algorithm": grid, "spec.parameters": space, "spec.maxTrialCount": 7})
    assert notes == {"spec.maxTrialCount": "Katib's grid refuses a maxTrialCount above the grid's 6 points (got 7); kfp-tune runs every point and ends with ExperimentSuggestionEndReached"}


def test_a_grid_whose_max_katibs_enumeration_loses() -> None:
    """Katib's grid steps a double with numpy's arange, which from 1 to 2 by 0.1 passes 2 by a
    rounding error and drops it: 10 points, and a maxTrialCount of 11 refused; kfp-tune's 11."""
    space = [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "1", "max": "2", "step": "0.1"}},
             {"name": "y", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}}]
    assert len(load_experiment(quadratic_experiment(**{"spec.parameters": space})).spec.parameters) == 2
    notes = _notes(**{"spec.algorithm": {"algorithmName": "grid"}, "spec.parameters": space, "spec.maxTrialCount": 21})
    assert notes == {
        "spec.parameters[0].feasibleSpace.step": "Katib's grid enumerates 10 values of 'x' (numpy's arange, whose floating-point steps can pass max and lose it); "
                                                 "kfp-tune enumerates 11, from min to max on the step",
        "spec.maxTrialCount": "Katib's grid refuses a maxTrialCount above the grid's 20 points as Katib counts them (got 21); "
                              "kfp-tune's grid has 22 points, and it runs 21 of them",
    }
    assert list(_notes(**{"spec.algorithm": {"algorithmName": "grid"}, "spec.parameters": space, "spec.maxTrialCount": 20})) == ["spec.parameters[0].feasibleSpace.step"]


def test_validate_prints_the_notes_and_still_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.algorithm": {"algorithmName": "tpe", "algorithmSettings": [{"name": "n_startup_trials", "value": "5"}]}})))
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert "valid experiment 'quad'" in captured.out
    assert captured.err.startswith("note: spec.algorithm.algorithmSettings[0].name: Katib's hyperopt service")


def test_grid_takes_katibs_random_state_as_the_seed_of_its_order(tmp_path: Path) -> None:
    """Katib's grid takes random_state (its Optuna service checks it is >= 0) as the seed of
    GridSampler, which draws each point among those left: every point once, the same order for
    the same seed, another for another."""
    space = {"a": search.categorical(["p", "q"]), "b": search.int(1, 3)}
    runs = [
        tune(lambda p: {"loss": 1.0}, space, objective_metric_name="loss", algorithm="grid", algorithm_settings={"random_state": seed},
             max_trial_count=6, parallel_trial_count=1, store=str(tmp_path / str(i)), name="g")
        for i, seed in enumerate((7, 7, 8))
    ]
    orders = [[(t.parameters["a"], t.parameters["b"]) for t in run.trials] for run in runs]
    assert orders[0] == orders[1] != orders[2] and len(set(orders[0])) == len(set(orders[2])) == 6


def test_a_normal_distribution_katibs_optuna_service_fails_on() -> None:
    normal = [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "distribution": "normal"}},
              {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "1", "distribution": "logUniform"}}]
    notes = _notes(**{"spec.algorithm": {"algorithmName": "multivariate-tpe"}, "spec.parameters": normal})
    assert list(notes) == ["spec.parameters[0].feasibleSpace.distribution"]
    assert notes["spec.parameters[0].feasibleSpace.distribution"].startswith("Katib's optuna service, which runs multivariate-tpe")
    assert _notes(**{"spec.algorithm": {"algorithmName": "tpe"}, "spec.parameters": normal}) == {}  # hyperopt samples it


def test_conditions_katib_requires_for_a_training_kind_it_does_not_default() -> None:
    """Katib's webhook defaults the conditions of Job, TFJob, PyTorchJob, XGBoostJob, MPIJob and
    TrainJob only; kfp-tune defaults MXJob's too. Told apart by the document as written."""
    doc = quadratic_experiment(**{"spec.trialTemplate.trialSpec": {
        "apiVersion": "kubeflow.org/v1", "kind": "MXJob",
        "spec": {"mxReplicaSpecs": {"Scheduler": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "main", "image": "mxnet:1", "command": ["python3", "t.py", "x=${trialParameters.x}", "y=${trialParameters.y}"]}]}}}}}}})
    notes = {n.path: n.message for n in katib_notes(load_experiment(doc), doc)}
    assert list(notes) == ["spec.trialTemplate.successCondition", "spec.trialTemplate.failureCondition"]
    assert notes["spec.trialTemplate.successCondition"].startswith("Katib's webhook requires it for kind MXJob")
    assert katib_notes(load_experiment(doc)) == []  # without the document as written: not told
    written = quadratic_experiment(**{"spec.trialTemplate.trialSpec": doc["spec"]["trialTemplate"]["trialSpec"],
                                      "spec.trialTemplate.successCondition": "status.done", "spec.trialTemplate.failureCondition": "status.failed"})
    assert katib_notes(load_experiment(written), written) == []


MEDIANSTOP = {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"}]}


@pytest.mark.parametrize(
    "collector, words",
    [
        ({"collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"path": "/logs", "kind": "Directory"}}},
         ["-stop-rule", "parse_options", "'unrecognized arguments' (status 2)", "reports no metrics", "these trials fail"]),
        ({"collector": {"kind": "Push"}}, ["no collector for Push", "Mutate", "every trial runs to its end"]),
        ({"collector": {"kind": "Custom", "customCollector": {"name": "mine", "image": "me/collector:1"}}},
         ["customCollector container as written", "getMetricsCollectorContainer", "unless that container stops it"]),
    ],
    ids=["TensorFlowEvent", "Push", "Custom"],
)
def test_early_stopping_katib_does_not_apply_with_the_collector_is_noted(collector: dict, words: list[str]) -> None:
    """Katib's pod webhook gives the rule to its own StdOut and File collector only: the
    TensorFlowEvent one refuses the arguments, Push has no collector, a Custom one is not told."""
    plain = {**collector, "collector": {"kind": "StdOut"}, "source": None}
    assert _notes(**{"spec.metricsCollectorSpec": collector}) == {}  # without early stopping: nothing to say
    assert _notes(**{"spec.earlyStopping": MEDIANSTOP, "spec.metricsCollectorSpec": {"collector": plain["collector"]}}) == {}
    notes = _notes(**{"spec.earlyStopping": MEDIANSTOP, "spec.metricsCollectorSpec": collector})
    (message,) = notes.values()
    assert list(notes) == ["spec.metricsCollectorSpec.collector.kind"] and message.endswith("kfp-tune applies the rule to " + (
        "the event files' scalars" if collector["collector"]["kind"] == "TensorFlowEvent" else "what the trial reports"))
    for word in words:
        assert word in message


def test_early_stopping_with_hyperband_is_noted() -> None:
    hyperband = {"algorithmName": "hyperband", "algorithmSettings": [{"name": "resource_name", "value": "y"}, {"name": "r_l", "value": "9"}]}
    doc = quadratic_experiment(**{"spec.algorithm": hyperband, "spec.earlyStopping": MEDIANSTOP, "spec.parallelTrialCount": 9, "spec.maxTrialCount": 13})
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}
    notes = {note.path: note.message for note in katib_notes(load_experiment(doc))}
    assert list(notes) == ["spec.earlyStopping"]
    assert "_get_top_trial: 'There are some trials which are not completed yet'" in notes["spec.earlyStopping"]
    assert notes["spec.earlyStopping"].endswith("kfp-tune ranks an early stopped trial by the objective it reported before it was stopped")
    del doc["spec"]["earlyStopping"]
    assert katib_notes(load_experiment(doc)) == []


KATIB_DEFAULT_CONFIG_ALGORITHMS = {"random", "tpe", "grid", "hyperband", "bayesianoptimization", "cmaes", "sobol", "multivariate-tpe", "enas", "darts", "pbt"}
"""The suggestions Katib's default katib-config names (manifests/v1beta1/installs/katib-standalone/katib-config.yaml,
the same in every install); its earlyStoppings: medianstop."""


def test_the_catalogue_knows_which_names_katibs_default_config_serves() -> None:
    from kfp_tune.core.catalogue import ALGORITHMS, EARLY_STOPPING

    assert {name for name, entry in ALGORITHMS.items() if entry.in_katib} == KATIB_DEFAULT_CONFIG_ALGORITHMS
    assert {name for name, entry in EARLY_STOPPING.items() if entry.in_katib} == {"medianstop"}


def test_an_algorithm_katibs_default_config_has_no_service_for_is_noted() -> None:
    """Katib's webhook refuses an algorithmName its katib-config lacks (validator.go, 'unable to get
    Suggestion config data for algorithm'): kfp-tune's regularized-evolution ran with no note."""
    doc = load_katib_example("nas_enas-cpu.yaml")
    assert katib_notes(load_experiment(doc)) == []
    doc["spec"]["algorithm"] = {"algorithmName": "regularized-evolution"}
    notes = {note.path: note.message for note in katib_notes(load_experiment(doc))}
    assert notes == {
        "spec.algorithm.algorithmName": "Katib's webhook refuses 'regularized-evolution' unless the cluster's katib-config names a service for it "
        "(its default one does not: validator.go, 'unable to get Suggestion config data for algorithm regularized-evolution'); kfp-tune runs it"
    }


def test_a_plugins_new_algorithm_or_early_stopping_name_is_noted(clean_plugin_registries: None) -> None:
    from kfp_tune.algorithms import early_stopping, registry

    registry.register("my-search", lambda settings: None, settings=())
    early_stopping.register("my-stop", lambda settings: None, settings=())
    notes = _notes(**{"spec.algorithm": {"algorithmName": "my-search"}, "spec.earlyStopping": {"algorithmName": "my-stop"}})
    assert list(notes) == ["spec.earlyStopping.algorithmName", "spec.algorithm.algorithmName"]
    assert "unable to get EarlyStopping config data for algorithm my-stop" in notes["spec.earlyStopping.algorithmName"]
    assert "unable to get Suggestion config data for algorithm my-search" in notes["spec.algorithm.algorithmName"]


def test_validate_prints_the_early_stopping_note_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = quadratic_experiment(**{"spec.earlyStopping": MEDIANSTOP, "spec.metricsCollectorSpec": {"collector": {"kind": "Push"}}})
    path = tmp_path / "push.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert "note: spec.metricsCollectorSpec.collector.kind: Katib injects no collector for Push" in err


def test_a_yaml_number_where_katib_wants_a_string_is_noted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Katib's AlgorithmSetting.Value and FeasibleSpace's min, max, step and list are Go strings:
    its webhook fails decoding a number there (400), so kubectl apply fails; kfp-tune reads the
    number as its text (test_numbers_may_be_yaml_numbers) and validate notes each one."""
    doc = quadratic_experiment(**{
        "spec.algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": 9}]},
        "spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"},
                                                                                     {"name": "start_step", "value": 4}]},
        "spec.parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": 0, "max": "1", "step": 0.25}},
                            {"name": "y", "parameterType": "discrete", "feasibleSpace": {"list": ["1", 2.5]}}],
    })
    expected = {
        "spec.algorithm.algorithmSettings[0].value": "9",
        "spec.earlyStopping.algorithmSettings[1].value": "4",
        "spec.parameters[0].feasibleSpace.min": "0",
        "spec.parameters[0].feasibleSpace.step": "0.25",
        "spec.parameters[1].feasibleSpace.list[1]": "2.5",
    }
    notes = {n.path: n.message for n in katib_notes(load_experiment(doc), doc)}
    assert notes == {path: f'Katib\'s webhook refuses a number here (a string is expected: "{text}")' for path, text in expected.items()}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err.splitlines() == [f"note: {p}: {m}" for p, m in notes.items()]
    nas = load_katib_example("nas_darts-cpu.yaml")
    nas["spec"]["nasConfig"]["operations"][0]["parameters"][0]["feasibleSpace"]["list"][0] = 3
    assert [n.path for n in katib_notes(load_experiment(nas), nas)] == ["spec.nasConfig.operations[0].parameters[0].feasibleSpace.list[0]"]


def test_a_plain_scalar_kubectl_reads_as_a_number_is_noted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``min: 1e-3`` unquoted is the number 0.001 to go-yaml v2 (kubectl, then Katib's webhook),
    and so to kfp-tune, which reads YAML as kubectl does: Katib's string field refuses it as it
    refuses ``min: 0.001``, and validate notes it. Quoted, the same text is a string to both: no
    note. An unquoted ``y`` there is a boolean, refused as Katib refuses it, saying to quote it."""
    doc = quadratic_experiment(**{
        "spec.parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "MIN", "max": "5e4"}},
                            {"name": "y", "parameterType": "categorical", "feasibleSpace": {"list": ["LISTED", "a"]}}],
    })
    text = yaml.safe_dump(doc).replace("min: MIN", "min: 1e-3").replace("- LISTED", "- 1.5e3")
    assert "min: 1e-3\n" in text and "- 1.5e3\n" in text and "max: '5e4'\n" in text
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        'note: spec.parameters[0].feasibleSpace.min: Katib\'s webhook refuses a number here (a string is expected: "0.001")',
        'note: spec.parameters[1].feasibleSpace.list[0]: Katib\'s webhook refuses a number here (a string is expected: "1500.0")',
    ]
    space = load_experiment(path).spec.parameters[0].feasible_space
    assert (space.min, space.max) == ("0.001", "5e4")  # the number's text, as for min: 0.001; the quoted text as written
    path.write_text(text.replace("- 1.5e3\n", "- y\n"))
    assert main(["validate", str(path)]) == 2
    assert "spec.parameters[1].feasibleSpace.list[0]: expected a string, got True (kubectl reads y, yes, on, n, no and off unquoted as " \
        "booleans, as kfp-tune does: quote the text)" in capsys.readouterr().err.splitlines()


def test_a_medianstop_start_step_above_int32_is_noted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """api.proto's EarlyStoppingRule.start_step is an int32: Katib's medianstop service admits
    2147483648 (its check asks for >= 1) and then fails building its rule with it; kfp-tune took it
    with no word."""

    def stopping(*start_steps: str) -> dict:
        settings = [{"name": "min_trials_required", "value": "2"}] + [{"name": "start_step", "value": v} for v in start_steps]
        return {"spec.earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": settings}}

    assert _notes(**stopping("2147483647")) == {}
    assert _notes(**stopping("2147483648", "4")) == {}  # the last of a name is the one read
    (message,) = _notes(**stopping("4", "2147483648")).values()
    assert message.startswith("start_step 2147483648 is above 2147483647, the most an int32 holds: Katib's medianstop service")
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**stopping("9" * 20))))
    assert main(["validate", str(path)]) == 0
    assert f"note: spec.earlyStopping.algorithmSettings[1].value: start_step {'9' * 20} is above 2147483647" in capsys.readouterr().err
