"""Algorithm settings Katib's suggestion services accept, read as they read them: kfp-tune
takes each where its algorithm can run with it (with a note where the value is not used as
written), and where it refuses one, the message says the real bound."""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np
import pytest

from conftest import load_katib_example, quadratic_experiment, validation_errors
from kfp_tune.algorithms import registry
from kfp_tune.algorithms.hyperband import schedule
from kfp_tune.core.catalogue import hyperband_resources
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes
from kfp_tune.steps.designer import problem_of

SETTINGS = "spec.algorithm.algorithmSettings"


def _hyperband(*settings: tuple[str, str], resource: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [
        {"name": "resource_name", "value": "y"}, *({"name": k, "value": v} for k, v in settings)]}, "spec.parallelTrialCount": 9, "spec.maxTrialCount": 40})
    doc["spec"]["parameters"][1] = resource or {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}
    return doc


@pytest.mark.parametrize("r_l", ["0", "-1", "0.5"])
def test_hyperband_r_l_below_1_is_refused_saying_at_least_1(r_l: str) -> None:
    """r_l 0 was refused as "expected a number > 0.0", and 0.5 then as "at least 1": one bound, said once."""
    errors = validation_errors(_hyperband(("r_l", r_l)))
    assert [(e.path, e.message) for e in errors] == [
        (f"{SETTINGS}[1].value", f"hyperband needs r_l of at least 1 (its largest resource: a smaller one leaves no bracket), got {float(r_l):g}")]


def _cmaes(*settings: tuple[str, str]) -> dict[str, Any]:
    return quadratic_experiment(**{"spec.algorithm": {"algorithmName": "cmaes", "algorithmSettings": [{"name": k, "value": v} for k, v in settings]}})


@pytest.mark.parametrize("sigma", ["0", "-1", "-0.5", "nan", "-0x1p-2"])
def test_cmaes_sigma_at_or_below_zero_runs_with_the_default_as_goptuna_does(sigma: str) -> None:
    """goptuna (cmaes/sampler.go, initOptimizer) uses sigma only if > 0; Katib's converter reads
    any number. kfp-tune takes it as unset (None: a sixth of each range) and notes why."""
    experiment = load_experiment(_cmaes(("sigma", sigma)))
    assert problem_of(experiment).settings["sigma"] is None
    notes = {n.path: n.message for n in katib_notes(experiment)}
    assert list(notes) == [f"{SETTINGS}[0].value"]
    assert notes[f"{SETTINGS}[0].value"].startswith(f"sigma {sigma}: Katib's goptuna service uses a sigma only when it is > 0")
    assert problem_of(load_experiment(_cmaes(("sigma", "0.3")))).settings["sigma"] == 0.3
    assert katib_notes(load_experiment(_cmaes(("sigma", "0.3")))) == []
    assert [e.message for e in validation_errors(_cmaes(("sigma", "inf")))] == [
        "sigma: expected a finite number (> 0, or <= 0 for the default), got 'inf'"]


@pytest.mark.parametrize("sigma, used", [("0x1p-2", 0.25), ("2.5e-1", 0.25), ("1_0", 10.0), ("-0x1p-2", None), ("NaN", None)])
def test_cmaes_sigma_is_read_as_gos_strconv_parsefloat_reads_it(sigma: str, used: float | None) -> None:
    """Katib's goptuna converter reads sigma with strconv.ParseFloat: hexadecimal 0x1p-2 is 0.25
    there (Python's float refused it)."""
    assert validation_errors(_cmaes(("sigma", sigma))) == []
    assert problem_of(load_experiment(_cmaes(("sigma", sigma)))).settings["sigma"] == used


@pytest.mark.parametrize("sigma", [" 0.5", "0.5 ", "٣", "0.5_", "1e400", "-inf"])
def test_cmaes_refuses_a_sigma_katibs_goptuna_cannot_read(sigma: str) -> None:
    """strconv.ParseFloat refuses spaces and non-ASCII digits, which Python's float took, and
    Katib's experiment failed; a value beyond a float's range is infinite, refused as before."""
    errors = validation_errors(_cmaes(("sigma", sigma)))
    assert [e.path for e in errors] == [f"{SETTINGS}[0].value"]
    assert errors[0].message.startswith("sigma: expected a ")
    assert errors[0].message.endswith(f"got {sigma!r}")


def _first_suggestions(doc: dict[str, Any], n: int = 6) -> list[dict[str, Any]]:
    problem = problem_of(load_experiment(doc))
    algorithm = registry.create(doc["spec"]["algorithm"]["algorithmName"], problem.settings)
    return algorithm.suggest(problem, [], [], n, np.random.default_rng(0)).assignments


def test_cmaes_runs_with_sigma_0_as_without_it() -> None:
    assert _first_suggestions(_cmaes(("sigma", "0"), ("random_state", "5"))) == _first_suggestions(_cmaes(("random_state", "5")))


@pytest.mark.parametrize("seed, used", [("-1", 2**64 - 1), ("-5", 2**64 - 5), ("7", 7)])
def test_cmaes_takes_any_integer_random_state_as_katibs_goptuna_does(seed: str, used: int) -> None:
    """Katib's converter reads random_state with strconv.Atoi (any int); a negative one wraps to
    the unsigned number with its 64 bits, so it seeds every run alike and apart from the others."""
    doc = _cmaes(("random_state", seed))
    assert validation_errors(doc) == []
    assert problem_of(load_experiment(doc)).seed == used
    first = _first_suggestions(doc)
    assert first == _first_suggestions(doc) and first != _first_suggestions(_cmaes(("random_state", "1")))


@pytest.mark.parametrize("seed", ["-1.5", " 5", "5 ", "1_000", "²", "", "9223372036854775808", "-9223372036854775809", "18446744073709551615", "99999999999999999999999999"])
def test_cmaes_refuses_a_random_state_katibs_goptuna_cannot_read(seed: str) -> None:
    """Katib's converter reads random_state with strconv.Atoi: ASCII digits with an optional sign,
    in int64's range; anything else fails Katib's experiment, where Python's int() took spaces,
    "_" and any size (and 2**64 - 1 then seeded as -1 does)."""
    errors = validation_errors(_cmaes(("random_state", seed)))
    assert [(e.path, e.message) for e in errors] == [
        ("spec.algorithm.algorithmSettings[0].value", f"random_state: expected an integer in Go's int64 range (Katib's goptuna service reads it with strconv.Atoi), got {seed!r}")]


@pytest.mark.parametrize("seed, used", [("+5", 5), ("007", 7), ("9223372036854775807", 2**63 - 1), ("-9223372036854775808", 2**63)])
def test_cmaes_takes_every_random_state_atoi_takes(seed: str, used: int) -> None:
    doc = _cmaes(("random_state", seed))
    assert validation_errors(doc) == []
    assert problem_of(load_experiment(doc)).seed == used


PBT_PARAMETERS = [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.1"}},
                  {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.1"}}]


def _unread_seed(algorithm: str, seed: str) -> dict[str, Any]:
    settings = [{"name": "random_state", "value": seed}]
    if algorithm == "pbt":
        settings = [{"name": "suggestion_trial_dir", "value": "/var/log/katib/checkpoints/"}, {"name": "n_population", "value": "5"},
                    {"name": "truncation_threshold", "value": "0.2"}, *settings]
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": algorithm, "algorithmSettings": settings}})
    if algorithm == "pbt":
        doc["spec"]["parameters"] = PBT_PARAMETERS
        doc["spec"]["resumePolicy"] = "FromVolume"  # as Katib runs pbt: no note of its own
    return doc


@pytest.mark.parametrize("algorithm, service, index", [("sobol", "goptuna", 0), ("pbt", "pbt", 3)])
@pytest.mark.parametrize("seed", ["abc", "-1", "1.5"])
def test_a_random_state_katib_never_reads_is_taken_and_ignored_unless_a_seed(algorithm: str, service: str, index: int, seed: str) -> None:
    """Katib's sobol (goptuna) and pbt services never read random_state, so any text passes
    there; kfp-tune takes it too, seeds from the experiment as without it, and says so."""
    doc = _unread_seed(algorithm, seed)
    assert validation_errors(doc) == []
    experiment = load_experiment(doc)
    without = _unread_seed(algorithm, "0")
    del without["spec"]["algorithm"]["algorithmSettings"][index]
    assert problem_of(experiment).seed == problem_of(load_experiment(without)).seed
    assert {n.path: n.message for n in katib_notes(experiment)} == {
        f"{SETTINGS}[{index}].value": f"random_state {seed!r}: Katib's {service} service never reads random_state for {algorithm}, and kfp-tune "
        "ignores this one too (its seed is an integer >= 0): the experiment is seeded from its uid, as without random_state"}
    kept = load_experiment(_unread_seed(algorithm, "7"))
    assert problem_of(kept).seed == 7
    assert [n.message for n in katib_notes(kept)] == [
        f"Katib's {service} service ignores 'random_state' (it reads {'no settings' if algorithm == 'sobol' else 'n_population, resample_probability, suggestion_trial_dir, truncation_threshold'} for {algorithm}); kfp-tune uses it"]


def _nas(example: str, name: str, value: str) -> dict[str, Any]:
    doc = load_katib_example(example)
    doc["spec"]["algorithm"]["algorithmSettings"] = [{"name": name, "value": value}]
    return doc


def test_darts_takes_an_infinite_w_grad_clip_as_katib_does_and_passes_it_to_the_trial() -> None:
    """Katib's darts check is float(v) >= 0, so "inf" passes; its trial's clip_grad_norm_ with
    an infinite norm clips nothing."""
    doc = _nas("nas_darts-cpu.yaml", "w_grad_clip", "inf")
    assert validation_errors(doc) == []
    (suggestion,) = _first_suggestions(doc, 1)
    assert ast.literal_eval(str(suggestion["algorithm-settings"]))["w_grad_clip"] == "inf"  # Katib's str() of a dict


def test_enas_takes_an_infinite_controller_temperature_as_katib_does() -> None:
    """Katib's enas check for an unbounded float is only > low; an infinite temperature makes
    every logit 0, every choice equally likely, and the controller still suggests."""
    doc = _nas("nas_enas-cpu.yaml", "controller_temperature", "inf")
    assert validation_errors(doc) == []
    assert problem_of(load_experiment(doc)).settings["controller_temperature"] == math.inf
    assert len(_first_suggestions(doc, 2)) == 2


@pytest.mark.parametrize("name", ["controller_tanh_const", "controller_entropy_weight", "controller_skip_weight"])
def test_enas_still_refuses_an_infinite_value_no_controller_can_use(name: str) -> None:
    """Katib admits these (> 0 only), but an infinite one leaves no finite logit or reward:
    kfp-tune's own refusal, listed in docs/guide.md."""
    assert [e.message for e in validation_errors(_nas("nas_enas-cpu.yaml", name, "inf"))] == [f"{name}: expected a finite number, got 'inf'"]


DISCRETE_EPOCHS = {"name": "y", "parameterType": "discrete", "feasibleSpace": {"list": ["1", "3", "9"]}}


@pytest.mark.parametrize("resource", [DISCRETE_EPOCHS, {"name": "y", "parameterType": "categorical", "feasibleSpace": {"list": ["1", "3", "9"]}}],
                         ids=["discrete", "categorical"])
def test_hyperband_takes_a_discrete_or_categorical_resource_as_katib_does(resource: dict[str, Any]) -> None:
    """Katib's ValidateAlgorithmSettings checks only that resource_name is a parameter, and its
    service sets that parameter to str(r) whatever its type: r_l 9 and eta 3 give 1, 3 and 9."""
    doc = _hyperband(("r_l", "9"), ("eta", "3"), resource=resource)
    doc["spec"]["maxTrialCount"] = 23  # the whole schedule (one shorter is noted: test_hyperband_schedule_notes.py)
    assert validation_errors(doc) == []
    experiment = load_experiment(doc)
    assert katib_notes(experiment) == []  # 1, 3 and 9 are all listed
    first = _first_suggestions(doc, 9)
    assert sorted({a["y"] for a in first}) == [1] and len(first) == 9, "the first bracket's rung 0: nine configurations at resource 1"
    assert problem_of(experiment).space.format(first[0])["y"] == "1"


def test_hyperband_notes_the_scheduled_resources_a_discrete_list_lacks() -> None:
    doc = _hyperband(("r_l", "27"), ("eta", "3"), resource={**DISCRETE_EPOCHS, "feasibleSpace": {"list": ["1", "3", "10"]}})
    doc["spec"]["parallelTrialCount"] = 27
    assert [(n.path, n.message) for n in katib_notes(load_experiment(doc))] == [("spec.parameters[1].feasibleSpace.list",
        "hyperband gives its resource 'y' the schedule's values 1, 3, 9, 27 whatever the list holds, as Katib's hyperband service does (str(r)); "
        "9, 27 are not in the list and trials get them all the same")]


@pytest.mark.parametrize("parameter_type, noted", [("discrete", False), ("categorical", True)])
def test_a_resource_list_value_names_a_scheduled_resource_as_its_type_reads(parameter_type: str, noted: bool) -> None:
    """A discrete list's "1.0" is the number 1; a categorical's is the text "1.0", not the "1"
    (str(r)) Katib's service and kfp-tune give the trial, so 1 is noted missing from it."""
    doc = _hyperband(("r_l", "9"), ("eta", "3"), resource={"name": "y", "parameterType": parameter_type, "feasibleSpace": {"list": ["1.0", "3", "9"]}})
    notes = [n.message for n in katib_notes(load_experiment(doc)) if n.message.startswith("hyperband gives its resource")]
    assert notes == ([
        "hyperband gives its resource 'y' the schedule's values 1, 3, 9 whatever the list holds, as Katib's hyperband service does (str(r)); "
        "1 is not in the list and trials get them all the same"] if noted else [])


def test_a_resource_list_is_checked_with_r_l_exactly_1() -> None:
    """r_l 1 is the least hyperband runs with (one bracket, resource 1): a list without 1 is noted."""
    doc = _hyperband(("r_l", "1"), resource={**DISCRETE_EPOCHS, "feasibleSpace": {"list": ["2", "3"]}})
    doc["spec"]["parallelTrialCount"] = 1
    notes = katib_notes(load_experiment(doc))
    assert [n.path for n in notes][:1] == ["spec.maxTrialCount"]  # one trial: a random search (test_hyperband_schedule_notes.py)
    assert [(n.path, n.message) for n in notes[1:]] == [("spec.parameters[1].feasibleSpace.list",
        "hyperband gives its resource 'y' the schedule's values 1 whatever the list holds, as Katib's hyperband service does (str(r)); "
        "1 is not in the list and trials get them all the same")]


def test_hyperband_resources_are_the_schedules() -> None:
    for r_l, eta in [(9, 3.0), (20, 3.0), (49, 7.0), (1000, 10.0), (81, 3.0), (1, 3.0)]:
        assert hyperband_resources(r_l, eta) == sorted({rung.resource for bracket in schedule(r_l, eta) for rung in bracket})


NUMPY_SEED_SERVICES = [("random", "hyperopt"), ("tpe", "hyperopt"), ("grid", "optuna"), ("multivariate-tpe", "optuna"), ("bayesianoptimization", "skopt")]


def _seeded(algorithm: str, seed: str) -> dict[str, Any]:
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": algorithm, "algorithmSettings": [{"name": "random_state", "value": seed}]}})
    if algorithm == "grid":
        doc["spec"]["parameters"] = PBT_PARAMETERS
    return doc


@pytest.mark.parametrize("algorithm, service", NUMPY_SEED_SERVICES)
@pytest.mark.parametrize("seed", ["4294967296", "18446744073709551616"])
def test_a_random_state_numpy_cannot_seed_is_refused_naming_the_range(algorithm: str, service: str, seed: str) -> None:
    """Katib's hyperopt, optuna and skopt services seed numpy's RandomState with random_state,
    which refuses 2**32 and more ("Seed must be between 0 and 2**32 - 1"): the experiment failed
    in Katib and ran in kfp-tune. (Their checks refuse a negative one, as kfp-tune did already.)"""
    errors = validation_errors(_seeded(algorithm, seed))
    assert [(e.path, e.message) for e in errors] == [(f"{SETTINGS}[0].value", (
        f"random_state: expected an integer from 0 to 4294967295 (Katib's service seeds numpy's RandomState with it, which takes no larger), got {seed}"))]


@pytest.mark.parametrize("algorithm", [algorithm for algorithm, _ in NUMPY_SEED_SERVICES])
def test_random_state_2_to_the_32_minus_1_seeds_as_katib_takes_it(algorithm: str) -> None:
    doc = _seeded(algorithm, "4294967295")
    assert validation_errors(doc) == []
    assert problem_of(load_experiment(doc)).seed == 2**32 - 1


def test_regularized_evolution_kfp_tunes_own_takes_any_seed() -> None:
    """Not one of Katib's algorithms: no numpy RandomState, any integer >= 0 seeds it."""
    doc = load_katib_example("nas_enas-cpu.yaml")
    doc["spec"]["algorithm"] = {"algorithmName": "regularized-evolution", "algorithmSettings": [{"name": "random_state", "value": str(2**40)}]}
    assert validation_errors(doc) == []


def _setting(algorithm: str, name: str, value: str) -> dict[str, Any]:
    return quadratic_experiment(**{"spec.algorithm": {"algorithmName": algorithm, "algorithmSettings": [{"name": name, "value": value}]}})


@pytest.mark.parametrize("algorithm", ["tpe", "multivariate-tpe"])
@pytest.mark.parametrize("gamma, refused", [("0.999", False), ("1", True), ("5", True)])
def test_tpe_gamma_is_below_1_as_katibs_hyperopt_check_has_it(algorithm: str, gamma: str, refused: bool) -> None:
    """hyperopt/service.py: 1 > gamma > 0 (a gamma of 1 leaves no bad trials to compare with)."""
    errors = [(e.path, e.message) for e in validation_errors(_setting(algorithm, "gamma", gamma))]
    assert errors == ([(f"{SETTINGS}[0].value", f"gamma: expected a number < 1.0, got {float(gamma)}")] if refused else [])


@pytest.mark.parametrize("name", ["w_weight_decay", "alpha_weight_decay"])
def test_darts_weight_decay_below_0_is_refused_as_katibs_darts_check_has_it(name: str) -> None:
    """darts/service.py: float(v) >= 0 for both weight decays; 0 passes."""
    assert [(e.path, e.message) for e in validation_errors(_nas("nas_darts-cpu.yaml", name, "-0.1"))] == [
        (f"{SETTINGS}[0].value", f"{name}: expected a number >= 0.0, got -0.1")]
    assert validation_errors(_nas("nas_darts-cpu.yaml", name, "0")) == []


@pytest.mark.parametrize("value", ["auto", "sampling", "lbfgs"])
def test_bayesianoptimization_takes_skopts_three_acq_optimizers(value: str) -> None:
    doc = _setting("bayesianoptimization", "acq_optimizer", value)
    assert validation_errors(doc) == []
    assert problem_of(load_experiment(doc)).settings["acq_optimizer"] == value


def test_bayesianoptimization_refuses_another_acq_optimizer_listing_the_three() -> None:
    """skopt/service.py takes exactly these names, case and all."""
    assert [(e.path, e.message) for e in validation_errors(_setting("bayesianoptimization", "acq_optimizer", "LBFGS"))] == [
        (f"{SETTINGS}[0].value", "acq_optimizer: expected one of ['auto', 'sampling', 'lbfgs'], got 'LBFGS'; values are case-sensitive: 'lbfgs'")]
