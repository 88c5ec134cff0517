"""A round record's assignments, and the experiment record's spec, are checked when they are
read, as the algorithm's suggestions and a given spec are checked: the store is shared (any
namespace of a multi-user KFP can write the bucket's ``shared/``), and a trial's values reach its
command line. A record that breaks them is damage, reported with its key: a run refuses it before
any trial is claimed or started; a reader leaves it out and lists it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import QUADRATIC, quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.catalogue import searched_space
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import DamagedRecord, ExperimentRecords
from kfp_tune.core.space import search_space_of
from kfp_tune.core.spec import parse_experiment
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import RecordKind
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

INJECTED = "a; touch {marker} #"


def _experiment(**overrides: Any) -> dict[str, Any]:
    """quadratic_experiment with a categorical ``c`` [a, b], handed to the trial through ``sh -c``."""
    doc = quadratic_experiment(**{"spec.parallelTrialCount": 1, "spec.resumePolicy": "LongRunning", **overrides})
    doc["spec"]["parameters"].append({"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}})
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "c", "reference": "c"})
    container = template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["sh", "-c", f"{sys.executable} {QUADRATIC} x=${{trialParameters.x}} y=${{trialParameters.y}} c=${{trialParameters.c}}"]
    container.pop("args")
    return doc


def _space() -> Any:
    return searched_space(load_experiment(_experiment()).spec)


@pytest.mark.parametrize(
    ("assignment", "words"),
    [
        pytest.param({"x": "0.5", "y": "0.5", "c": "a; touch /tmp/x #"}, "parameter 'c' is 'a; touch /tmp/x #'; expected one of ['a', 'b']", id="categorical-not-in-list"),
        pytest.param({"x": "<script>", "y": "0.5", "c": "a"}, "parameter 'x' is '<script>'; expected double from 0.0 to 1.0", id="double-not-a-number"),
        pytest.param({"x": "NaN", "y": "0.5", "c": "a"}, "parameter 'x' is 'NaN'", id="double-nan"),
        pytest.param({"x": "1e999", "y": "0.5", "c": "a"}, "parameter 'x' is '1e999'", id="double-inf"),
        pytest.param({"x": "1.5", "y": "0.5", "c": "a"}, "parameter 'x' is 1.5 (float); expected double from 0.0 to 1.0", id="double-out-of-bounds"),
        pytest.param({"x": "0.5", "c": "a"}, "parameter 'y' is missing", id="missing"),
        pytest.param({"x": "0.5", "y": "0.5", "c": "a", "z": "1"}, "'z' is not a parameter of the search space (x, y, c)", id="unknown"),
    ],
)
def test_a_stored_assignment_off_the_space_is_named_with_what_was_expected(assignment: dict[str, str], words: str) -> None:
    problem = _space().stored_problem(assignment)
    assert problem is not None and problem.startswith(words), problem


def test_a_stored_assignment_of_the_space_passes_and_the_algorithms_own_check_agrees() -> None:
    space = _space()
    assert space.stored_problem({"c": "b", "y": "0", "x": "1.0"}) is None
    assert space.contains({"x": 0.5, "y": 0.5, "c": "a"}) and space.problem({"x": 0.5, "y": 0.5, "c": "a"}) is None
    assert not space.contains({"x": 0.5, "y": 0.5, "c": "z"})


def test_int_and_discrete_values_are_checked_as_their_type() -> None:
    space = search_space_of(load_experiment(quadratic_experiment(**{"spec.parameters": [
        {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "8", "step": "1"}},
        {"name": "d", "parameterType": "discrete", "feasibleSpace": {"list": ["0.1", "1"]}},
    ], "spec.trialTemplate.trialParameters": [{"name": "x", "reference": "n"}, {"name": "y", "reference": "d"}]})).spec.parameters)
    assert space.stored_problem({"n": "8", "d": "1"}) is None
    assert space.stored_problem({"n": "2.5", "d": "1"}) == "parameter 'n' is '2.5'; expected int from 1 to 8 in steps of 1 from 1"
    assert space.stored_problem({"n": "9", "d": "1"}) is not None
    assert space.stored_problem({"n": "2", "d": "0.10"}) == "parameter 'd' is '0.10'; expected one of ['0.1', '1']"


def test_hyperbands_resource_is_checked_against_the_range_hyperband_gives_it() -> None:
    """Hyperband owns its resource parameter's range (its feasibleSpace is ignored, as in Katib):
    the stored assignments are those of the space the algorithm searches, not the spec's."""
    doc = quadratic_experiment(**{
        "spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [
            {"name": "resource_name", "value": "y"}, {"name": "r_l", "value": "9"}, {"name": "eta", "value": "3"}]},
        "spec.parallelTrialCount": 9, "spec.maxTrialCount": 20,
    })
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "2"}}
    space = searched_space(load_experiment(doc).spec)
    assert space.stored_problem({"x": "0.5", "y": "9"}) is None  # outside the spec's 1..2, inside hyperband's
    assert space.stored_problem({"x": "0.5", "y": "a; touch x"}) is not None


def test_a_plug_ins_trials_are_held_to_types_and_lists_not_to_bounds_it_may_search_past() -> None:
    """A plug-in algorithm (not installed where the shared store is read, or a hyperband-like one
    that owns a parameter's range) gave values past the spec's bounds: they read as damage. An
    algorithm the catalogue cannot ask for its range has its numbers checked as numbers only; a
    categorical value is still one of its list, so no command can be smuggled in."""
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "my-hyperband"}})
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "2"}}
    doc["spec"]["parameters"].append({"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}})
    space = searched_space(parse_experiment(doc).spec)
    assert space.stored_problem({"x": "7.5", "y": "9", "c": "a"}) is None
    assert "expected" in (space.stored_problem({"x": "0.5", "y": "9; touch x", "c": "a"}) or "")
    assert "'a; touch x #'" in (space.stored_problem({"x": "0.5", "y": "1", "c": "a; touch x #"}) or "")
    assert "is missing" in (space.stored_problem({"x": "0.5", "c": "a"}) or "")


def test_a_plug_ins_stepped_int_is_held_to_its_type_not_its_steps() -> None:
    """Mutation QA (A04): a plug-in's experiment with a stepped int parameter (min 1, max 64,
    step 2) read every round as a crash (its step counted from an unbounded low end): its
    values are checked as ints only, in the spec's steps or not."""
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "my-hyperband"}})
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "64", "step": "2"}}
    space = searched_space(parse_experiment(doc).spec)
    assert space.stored_problem({"x": "0.5", "y": "9"}) is None
    assert space.stored_problem({"x": "0.5", "y": "128"}) is None
    assert space.stored_problem({"x": "0.5", "y": "2.5"}) == "parameter 'y' is '2.5'; expected a finite integer"


def test_hyperbands_trials_stay_readable_when_its_stored_settings_no_longer_parse() -> None:
    """Mutation QA (A05): hyperband's stored settings that a later rule refuses (here an ``eta``
    that is not a number) leave the range it searched unknown: its resource values past the
    spec's max read as its trials, not as damage, as a plug-in's do."""
    doc = quadratic_experiment(**{
        "spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [
            {"name": "resource_name", "value": "y"}, {"name": "r_l", "value": "9"}, {"name": "eta", "value": "three"}]},
        "spec.parallelTrialCount": 9, "spec.maxTrialCount": 20,
    })
    doc["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "2"}}
    space = searched_space(parse_experiment(doc).spec)
    assert space.stored_problem({"x": "0.5", "y": "9"}) is None  # past the spec's 1..2
    assert space.stored_problem({"x": "0.5", "y": "a; touch x"}) is not None


def _write_round(records: ExperimentRecords, round_id: str, index: int, assignment: dict[str, str]) -> str:
    key = records.round_key(round_id)
    records.write(key, RecordKind.ROUND, {
        "round": round_id, "seq": index, "created": "2026-01-01T00:00:00Z", "requested": 1, "exhausted": False,
        "trials": [{"name": f"quad-evil{index:04d}", "index": index, "assignment": assignment}], "adopted": [],
    })
    return key


def test_a_round_off_the_space_stops_a_run_and_is_listed_by_a_reader(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    experiment = load_experiment(_experiment())
    records = ExperimentRecords(store, experiment.name)
    init_experiment(records, experiment)
    key = _write_round(records, "run-1-t000000", 0, {"x": "0.5", "y": "0.5", "c": "a; touch /tmp/x #"})
    with pytest.raises(DamagedRecord) as info:
        ExperimentView(ExperimentRecords(store, experiment.name)).state  # noqa: B018
    assert info.value.key == key
    assert info.value.problem.startswith("trials[0].assignment is not a point of the experiment's search space: parameter 'c'")
    reader = ExperimentView(ExperimentRecords(store, experiment.name), lenient=True)
    assert reader.state.trials == []
    assert list(reader.damaged) == [key]


def test_a_resumed_run_refuses_a_round_record_that_would_run_another_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The security QA's case: a trial written by hand into a round of the shared store, whose
    categorical value ends the trial's ``sh -c`` line and starts another command, was started on
    resume (the value was refused only when the trial was rendered, after it had run)."""

    def spec(max_trials: int) -> str:
        path = tmp_path / f"exp{max_trials}.yaml"
        path.write_text(yaml.safe_dump(_experiment(**{"spec.maxTrialCount": max_trials})))
        return str(path)

    store = tmp_path / "store"
    assert main(["run", spec(2), "--engine", "inline", "--store", str(store)]) == 0
    marker = tmp_path / "PWNED"
    records = ExperimentRecords(LocalStore(store), "quad")
    key = _write_round(records, "run-t000002", 2, {"x": "0.5", "y": "0.5", "c": INJECTED.format(marker=marker)})
    capsys.readouterr()
    assert main(["run", spec(4), "--engine", "inline", "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert f"{key} is damaged: trials[0].assignment is not a point of the experiment's search space: parameter 'c'" in err
    assert not marker.exists()
    assert records.store.list(records.trial_prefix("quad-evil0002")) == []


def _run_two_trials(tmp_path: Path) -> tuple[Path, Path]:
    """A store holding experiment quad run to its 2 trials, and its experiment.json."""
    store = tmp_path / "store"
    spec = tmp_path / "exp.yaml"
    spec.write_text(yaml.safe_dump(_experiment(**{"spec.maxTrialCount": 2})))
    assert main(["run", str(spec), "--engine", "inline", "--store", str(store)]) == 0
    return store, store / "experiments" / "quad" / "experiment.json"


def test_a_stored_spec_that_breaks_a_given_specs_rule_is_damage_a_reader_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``max: "1e999"`` edited into experiment.json made report fail with an unexpected
    ValueError (a plot's axis limits) and status say nothing."""
    store, path = _run_two_trials(tmp_path)
    head = json.loads(path.read_text())
    head["spec"]["spec"]["parameters"][0]["feasibleSpace"]["max"] = "1e999"
    path.write_text(json.dumps(head))
    for command in (["status", "quad"], ["trials", "quad"], ["report", "quad", "-o", str(tmp_path / "rep")]):
        capsys.readouterr()
        assert main([*command, "--store", str(store)]) == 1, command
        err = capsys.readouterr().err
        assert "experiments/quad/experiment.json is damaged: its spec is not valid (spec.parameters[0].feasibleSpace.max" in err, err
        assert "unexpected" not in err


def test_a_stored_objective_that_breaks_a_given_specs_rule_is_damage_a_reader_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Mutation QA (A07): ``objective.type: maximise`` edited into experiment.json (it parses,
    but is neither minimize nor maximize) was read as it stood, each reader guessing the
    direction: the objective is checked as the search space is, and the record reported."""
    store, path = _run_two_trials(tmp_path)
    head = json.loads(path.read_text())
    head["spec"]["spec"]["objective"]["type"] = "maximise"
    path.write_text(json.dumps(head))
    for command in (["status", "quad"], ["report", "quad", "-o", str(tmp_path / "rep")]):
        capsys.readouterr()
        assert main([*command, "--store", str(store)]) == 1, command
        err = capsys.readouterr().err
        assert "experiments/quad/experiment.json is damaged: its spec is not valid (spec.objective.type" in err, err


def test_a_stored_spec_is_held_to_the_search_space_and_objective_rules_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A rule added after an older kfp-tune stored a spec (here: random_state within numpy's
    seed range, 2026-12-06) leaves that experiment readable: only the parts readers compute with
    are checked again when it is read."""
    store, path = _run_two_trials(tmp_path)
    head = json.loads(path.read_text())
    head["spec"]["spec"]["algorithm"]["algorithmSettings"] = [{"name": "random_state", "value": str(2**40)}]
    path.write_text(json.dumps(head))
    capsys.readouterr()
    assert main(["status", "quad", "--store", str(store)]) == 0, capsys.readouterr().err
    assert "damaged" not in capsys.readouterr().err
