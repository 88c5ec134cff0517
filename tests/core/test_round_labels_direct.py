"""``records.round_labels``: the labels an algorithm gave each trial of a round (Katib's pbt puts
``pbt.suggestion.katib.kubeflow.org/generation`` and ``.../parent`` on its trials), read from the
round record in the order of its trials, and a damaged ``labels`` refused with the round's key.

Called as the state's fold calls it: on a round record that ``round_entries`` has already checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, round_entries, round_labels
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.vocabulary import RecordKind
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

KEY = "experiments/quad/rounds/run-1-t000000.json"
# Katib's pbt labels (pkg/suggestion/v1beta1/pbt/service.py), written out rather than imported.
GENERATION = "pbt.suggestion.katib.kubeflow.org/generation"
PARENT = "pbt.suggestion.katib.kubeflow.org/parent"


def _round(*trials: dict[str, Any]) -> dict[str, Any]:
    """A round record as the tuning step writes it, with these trial entries."""
    return {"kind": RecordKind.ROUND, "version": 1, "round": "run-1-t000000", "seq": 0, "created": "2026-01-01T00:00:00Z",
            "requested": len(trials), "exhausted": False, "trials": list(trials), "adopted": []}


def _trial(index: int, **extra: Any) -> dict[str, Any]:
    return {"name": f"quad-t{index:04d}", "index": index, "assignment": {"x": "0.5", "y": "0.5"}, **extra}


def test_a_round_without_labels_gives_each_trial_none() -> None:
    """Most algorithms label nothing: their rounds have no ``labels``, one empty mapping per trial."""
    record = _round(_trial(0), _trial(1), _trial(2))
    assert round_labels(record, KEY) == [{}, {}, {}]


def test_each_trial_gets_its_own_labels_in_the_rounds_order() -> None:
    record = _round(_trial(0, labels={GENERATION: "0"}), _trial(1), _trial(2, labels={GENERATION: "1", PARENT: "quad-t0000"}))
    labels = round_labels(record, KEY)
    assert labels == [{GENERATION: "0"}, {}, {GENERATION: "1", PARENT: "quad-t0000"}]
    assert len(labels) == len(round_entries(record, KEY)), "one label mapping per trial entry, zipped with them"


def test_the_labels_returned_are_a_copy_not_the_records_own() -> None:
    """The state keeps the labels on each trial; changing them must not change the stored round."""
    record = _round(_trial(0, labels={GENERATION: "0"}))
    round_labels(record, KEY)[0][PARENT] = "someone"
    assert record["trials"][0]["labels"] == {GENERATION: "0"}


def test_an_empty_labels_mapping_is_accepted() -> None:
    assert round_labels(_round(_trial(0, labels={})), KEY) == [{}]


@pytest.mark.parametrize(
    "labels",
    [
        pytest.param({GENERATION: 1}, id="a-number-value"),
        pytest.param({GENERATION: None}, id="a-null-value"),
        pytest.param([GENERATION, "1"], id="a-list"),
        pytest.param("generation=1", id="a-string"),
        pytest.param(None, id="null"),
    ],
)
def test_damaged_labels_are_refused_naming_the_round_the_trial_and_the_value(labels: Any) -> None:
    record = _round(_trial(0), _trial(1, labels=labels))
    with pytest.raises(DamagedRecord) as info:
        round_labels(record, KEY)
    assert info.value.key == KEY
    problem = info.value.problem
    assert problem.startswith("trials[1].labels"), problem
    assert "strings" in problem, "says what is expected: label names mapped to strings"
    assert repr(labels) in problem, "shows what was found"
    assert KEY in str(info.value)


def test_folding_a_round_puts_its_labels_on_its_trials(tmp_path: Path) -> None:
    """The user's view: a pbt trial's generation and parent, read back from the store by a fresh
    process, are on the trial's state."""
    store = LocalStore(tmp_path)
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(store, experiment.name)
    init_experiment(records, experiment)
    ExperimentView(records).record_round(
        "run-1-t000000", {k: v for k, v in _round(_trial(0, labels={GENERATION: "0"}), _trial(1)).items() if k not in ("kind", "version")}
    )
    state = ExperimentView(ExperimentRecords(LocalStore(tmp_path), experiment.name)).state
    assert {t.name: t.labels for t in state.trials} == {"quad-t0000": {GENERATION: "0"}, "quad-t0001": {}}


def test_a_round_with_damaged_labels_stops_a_run_and_is_listed_by_a_reader(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(store, experiment.name)
    init_experiment(records, experiment)
    key = records.round_key("run-1-t000000")
    records.write(key, RecordKind.ROUND, {k: v for k, v in _round(_trial(0, labels={GENERATION: 0})).items() if k not in ("kind", "version")})
    with pytest.raises(DamagedRecord) as info:
        ExperimentView(ExperimentRecords(store, experiment.name)).state  # noqa: B018
    assert info.value.key == key and "trials[0].labels" in info.value.problem
    reader = ExperimentView(ExperimentRecords(store, experiment.name), lenient=True)
    assert reader.state.trials == []
    assert list(reader.damaged) == [key] and "trials[0].labels" in reader.damaged[key]
