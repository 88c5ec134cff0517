"""``validate`` notes where Katib's default suggestion service puts a parameter's values elsewhere
than kfp-tune does, or fails on them (QA parity, session 31): cmaes on a log-scaled parameter
(Katib's goptuna searches its raw value), a stepped parameter under random / tpe (Katib's
hyperopt takes multiples of step counted from 0) and an enas double operation parameter whose
numpy arange passes max (Katib's enas service fails at its first suggestion)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import load_katib_example, quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes


def _notes(doc: dict[str, Any]) -> dict[str, str]:
    return {note.path: note.message for note in katib_notes(load_experiment(doc))}


def _with(algorithm: str, *spaces: tuple[str, dict[str, str]], settings: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The quadratic experiment under ``algorithm`` with parameters x, y of the given (type, feasibleSpace)."""
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": algorithm, "algorithmSettings": settings or []}})
    for index, (parameter_type, space) in enumerate(spaces):
        doc["spec"]["parameters"][index] = {"name": "xy"[index], "parameterType": parameter_type, "feasibleSpace": space}
    return doc


# cmaes: goptuna searches every parameter on its raw value (goptuna/converter.go, toGoptunaSearchSpace)

LOG_D = ("double", {"min": "1e-5", "max": "0.1", "distribution": "logUniform"})
PLAIN = ("double", {"min": "0", "max": "1"})


@pytest.mark.parametrize("distribution", ["logUniform", "logNormal"])
def test_cmaes_notes_a_log_parameter_katib_searches_on_its_raw_value(distribution: str) -> None:
    d = ("double", {"min": "1e-5", "max": "0.1", "distribution": distribution})
    notes = _notes(_with("cmaes", PLAIN, d, settings=[{"name": "sigma", "value": "0.01"}]))
    assert list(notes) == ["spec.parameters[1].feasibleSpace.distribution"], notes
    message = notes["spec.parameters[1].feasibleSpace.distribution"]
    assert message.startswith(f"Katib's goptuna service, which runs cmaes in its default configuration, searches 'y' on its raw value ({distribution} is not read")
    assert "starts it at the middle of its range, 0.05" in message
    assert "kfp-tune searches it on its natural log" in message
    assert "0.001" in message  # the geometric middle, where kfp-tune starts it
    assert "natural-log units" in message  # what a sigma tuned on Katib means here


def test_cmaes_notes_a_log_int_too_and_nothing_for_uniform_parameters() -> None:
    notes = _notes(_with("cmaes", PLAIN, ("int", {"min": "1", "max": "100", "distribution": "logUniform"})))
    assert list(notes) == ["spec.parameters[1].feasibleSpace.distribution"]
    assert "middle of its range, 50.5" in notes["spec.parameters[1].feasibleSpace.distribution"]
    assert _notes(_with("cmaes", PLAIN, ("int", {"min": "1", "max": "100"}))) == {}
    assert _notes(_with("cmaes", PLAIN, ("double", {"min": "0", "max": "1", "distribution": "normal"}))) == {}


@pytest.mark.parametrize("algorithm", ["random", "tpe", "bayesianoptimization", "multivariate-tpe"])
def test_a_log_parameter_gets_no_cmaes_note_under_other_algorithms(algorithm: str) -> None:
    assert not any("goptuna" in message for message in _notes(_with(algorithm, PLAIN, LOG_D)).values())


def test_validate_prints_the_cmaes_note_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """QA's cmaes_log.yaml: d, logUniform 1e-5..0.1, starts at 0.001 here and at 0.05 on Katib."""
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_with("cmaes", PLAIN, LOG_D, settings=[{"name": "sigma", "value": "0.01"}])))
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert "valid experiment 'quad'" in captured.out
    assert captured.err.startswith("note: spec.parameters[1].feasibleSpace.distribution: Katib's goptuna service")


# random / tpe: Katib's hyperopt service maps a stepped int or double to hp.quniform (and
# qloguniform, qnormal, qlognormal): round(x / step) * step, multiples of step from 0

@pytest.mark.parametrize("algorithm", ["random", "tpe"])
def test_a_stepped_int_whose_min_is_no_multiple_of_step_is_noted(algorithm: str) -> None:
    """QA's qstep.yaml: int 3..12 step 4 is 4, 8, 12 on Katib (seen from its own service), 3, 7, 11 here."""
    notes = _notes(_with(algorithm, PLAIN, ("int", {"min": "3", "max": "12", "step": "4"})))
    assert list(notes) == ["spec.parameters[1].feasibleSpace.step"], notes
    message = notes["spec.parameters[1].feasibleSpace.step"]
    assert message.startswith(f"Katib's hyperopt service, which runs {algorithm} in its default configuration, rounds 'y' to a multiple of "
                              "its step counted from 0")
    assert "4 to 12 in steps of 4 there" in message
    assert "kfp-tune takes min + k * step: 3 to 11" in message


def test_a_stepped_double_whose_min_is_no_multiple_of_step_is_noted() -> None:
    """QA's qstep.yaml: double 0.15..1 step 0.1 is 0.2, ..., 1 on Katib, 0.15, ..., 0.95 here."""
    notes = _notes(_with("random", ("double", {"min": "0.15", "max": "1", "step": "0.1"}), PLAIN))
    assert list(notes) == ["spec.parameters[0].feasibleSpace.step"]
    message = notes["spec.parameters[0].feasibleSpace.step"]
    assert "0.2 to 1 in steps of 0.1 there" in message and "3 to 11" not in message
    assert "kfp-tune takes min + k * step: 0.15 to 0.95" in message


def test_katib_can_go_below_min_or_past_max() -> None:
    """min 0.12 step 0.1: hyperopt gives 0.1, below min; int 0..7 step 4: 8, past max (both seen
    from hyperopt's quniform)."""
    below = _notes(_with("random", ("double", {"min": "0.12", "max": "1", "step": "0.1"}), PLAIN))
    assert "0.1 to 1 in steps of 0.1 there" in below["spec.parameters[0].feasibleSpace.step"]
    assert "0.12 to 0.92" in below["spec.parameters[0].feasibleSpace.step"]
    past = _notes(_with("tpe", PLAIN, ("int", {"min": "0", "max": "7", "step": "4"})))
    assert "0 to 8 in steps of 4 there" in past["spec.parameters[1].feasibleSpace.step"]
    assert "kfp-tune takes min + k * step: 0 to 4" in past["spec.parameters[1].feasibleSpace.step"]


@pytest.mark.parametrize(
    "space",
    [
        {"min": "0", "max": "12", "step": "4"},
        {"min": "4", "max": "13", "step": "4"},  # 13 rounds to 12, kfp-tune's last value too
        {"min": "-8", "max": "8", "step": "4"},
        {"min": "1", "max": "9"},  # no step: hyperopt's uniformint
        {"min": "1", "max": "9", "step": "1"},
    ],
)
def test_a_stepped_int_on_katibs_multiples_has_no_note(space: dict[str, str]) -> None:
    assert _notes(_with("random", PLAIN, ("int", space))) == {}


@pytest.mark.parametrize(
    "space",
    [
        {"min": "0.3", "max": "1", "step": "0.1"},  # 0.3 / 0.1 is 2.9999999999999996 in floats: a multiple all the same
        {"min": "0.1", "max": "1.04", "step": "0.1"},
        {"min": "1e-3", "max": "0.01", "step": "0.001"},
        {"min": "0.01", "max": "0.05", "step": "0.01", "distribution": "normal"},  # Katib's hyperopt-distribution example
    ],
)
def test_a_stepped_double_on_katibs_multiples_has_no_note(space: dict[str, str]) -> None:
    assert _notes(_with("tpe", ("double", space), PLAIN)) == {}


def test_a_log_or_normal_stepped_parameter_is_noted_too() -> None:
    """qloguniform rounds as quniform does; qnormal has no bounds, so only the multiples are named."""
    log = _notes(_with("random", PLAIN, ("int", {"min": "3", "max": "12", "step": "4", "distribution": "logUniform"})))
    assert "4 to 12 in steps of 4 there" in log["spec.parameters[1].feasibleSpace.step"]
    normal = _notes(_with("random", PLAIN, ("int", {"min": "3", "max": "12", "step": "4", "distribution": "normal"})))
    message = normal["spec.parameters[1].feasibleSpace.step"]
    assert "multiples of 4 there" in message and "4 to 12" not in message
    assert "kfp-tune takes min + k * step: 3 to 11" in message


@pytest.mark.parametrize("algorithm", ["grid", "multivariate-tpe", "bayesianoptimization", "cmaes", "sobol"])
def test_other_services_get_no_step_note(algorithm: str) -> None:
    """Katib's grid enumerates range(min, max + 1, step), as kfp-tune does; the others are not hyperopt."""
    notes = _notes(_with(algorithm, ("double", {"min": "0", "max": "1", "step": "0.25"}), ("int", {"min": "3", "max": "12", "step": "4"})))
    assert not any("hyperopt" in message for message in notes.values()), notes


# enas: Operation.py's SearchSpace runs `del double_list[-1]` on a numpy array when arange passes max


def _enas(*parameters: dict[str, Any]) -> dict[str, Any]:
    doc = load_katib_example("nas_enas-cpu.yaml")
    doc["spec"]["nasConfig"]["operations"] = [{"operationType": "dropout", "parameters": list(parameters)}]
    return doc


def _double(name: str, low: str, high: str, step: str) -> dict[str, Any]:
    return {"name": name, "parameterType": "double", "feasibleSpace": {"min": low, "max": high, "step": step}}


@pytest.mark.parametrize("space", [("0.1", "0.5", "0.2"), ("0.1", "0.3", "0.1"), ("1", "2", "0.1")])
def test_an_enas_double_whose_arange_passes_max_is_noted(space: tuple[str, str, str]) -> None:
    """QA's enas-dbl.yaml: rate 0.1..0.5 step 0.2 fails Katib's enas service at its first suggestion."""
    k = {"name": "k", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "6", "step": "2"}}
    notes = _notes(_enas(k, _double("rate", *space)))
    assert list(notes) == ["spec.nasConfig.operations[0].parameters[1].feasibleSpace.step"], notes
    message = notes["spec.nasConfig.operations[0].parameters[1].feasibleSpace.step"]
    assert message.startswith("Katib's enas service fails the experiment at its first suggestion on 'rate'")
    assert "del double_list[-1]" in message and "kfp-tune takes the values up to max" in message


@pytest.mark.parametrize("space", [("0", "1", "0.25"), ("0.1", "0.4", "0.1"), ("0.2", "0.8", "0.2")])
def test_an_enas_double_whose_arange_ends_at_max_has_no_note(space: tuple[str, str, str]) -> None:
    assert _notes(_enas(_double("rate", *space))) == {}


def test_a_darts_double_gets_no_enas_note() -> None:
    doc = load_katib_example("nas_darts-cpu.yaml")
    doc["spec"]["nasConfig"]["operations"][0]["parameters"].append(_double("rate", "0.1", "0.5", "0.2"))
    assert not any("enas" in message for message in _notes(doc).values())


def test_validate_prints_the_enas_note_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_enas(_double("rate", "0.1", "0.5", "0.2"))))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err.startswith("note: spec.nasConfig.operations[0].parameters[0].feasibleSpace.step: Katib's enas service")
