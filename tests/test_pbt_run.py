"""Population based training end to end with ``kfp-tune run``: Katib's simple-pbt example (its
``maxFailedTrialCount`` fixed, as Katib's own webhook refuses it as shipped, and its trial swapped
for tests/trials/pbt_stand_in.py, which takes the same arguments) and images/pbt-digits (the real
trial: a network on scikit-learn's digits), with the inline engine and with kfp.local.

Each run: every trial carries Katib's labels; a trial of a later generation names a parent of the
generation before, and resumed from that parent's checkpoint (its step count carried over); and
the checkpoint folders are where the guide says (the store's folder, or the S3 store). And the
population improves across generations, more than the same trials without exploit."""

from __future__ import annotations

import json
import pickle
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import DATA, REPO, TESTS, folder_module
from kfp_tune.algorithms.pbt import POOL_LABEL
from kfp_tune.cli import main
from kfp_tune.core.checkpoints import GENERATION_LABEL, PARENT_LABEL
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.reports import trial_rows
from kfp_tune.stores import open_store

MOUNT = "/opt/kfp-tune-tests"
SIMPLE_PBT = DATA / "katib-examples" / "hp-tuning_simple-pbt.yaml"
PBT_DIGITS = REPO / "images" / "pbt-digits"


def _settings(doc: dict[str, Any], **values: str) -> dict[str, Any]:
    settings = doc["spec"]["algorithm"]["algorithmSettings"]
    for name, value in values.items():
        settings[:] = [s for s in settings if s["name"] != name] + [{"name": name, "value": value}]
    return doc


def simple_pbt(max_trials: int | None = None, population: str | None = None) -> dict[str, Any]:
    """Katib's example with its maxFailedTrialCount fixed (at most maxTrialCount) and its trial's
    script swapped for the stand-in (the rest of its command, Katib's, unchanged); optionally a
    budget and population that reach later generations."""
    doc = yaml.safe_load(SIMPLE_PBT.read_text())
    spec = doc["spec"]
    if max_trials is not None:
        spec["maxTrialCount"] = max_trials
    spec["maxFailedTrialCount"] = min(spec["maxFailedTrialCount"], spec["maxTrialCount"])
    container = spec["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:2] == ["python3", "/opt/pbt/pbt_test.py"]
    container["command"] = ["python3", f"{MOUNT}/pbt_stand_in.py", *container["command"][2:]]
    return _settings(doc, n_population=population) if population else doc


def pbt_digits(**changes: Any) -> dict[str, Any]:
    doc = yaml.safe_load((PBT_DIGITS / "experiment.yaml").read_text())
    doc["spec"].update(changes)
    return doc


def _run(doc: dict[str, Any], tmp_path: Path, engine: str, store: str = "", mounts: tuple[str, ...] = ()) -> tuple[str, list[dict[str, Any]]]:
    """``kfp-tune run`` of the experiment; (the store's URI, its trials in index order)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{doc['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(doc))
    store = store or str(tmp_path / "store")
    arguments = ["run", str(path), "--engine", engine, "--store", store, "--json", *[a for m in mounts for a in ("--mount", m)]]
    assert main(arguments) == 0
    uri = open_store(store).uri
    return uri, sorted(trial_rows(open_store(uri), doc["metadata"]["name"]), key=lambda r: r["index"])


def _checkpoint(uri: str, experiment: str, trial: str, file: str) -> bytes:
    records = ExperimentRecords(open_store(uri), experiment)
    data = records.store.get(f"{records.trials_prefix()}{trial}/checkpoint/{file}")
    assert data is not None, f"trial {trial} left no checkpoint {file}"
    return data


def _resumed_from(uri: str, experiment: str, trial: str, container: str) -> int:
    records = ExperimentRecords(open_store(uri), experiment)
    log = records.read_text(records.log_key(trial, container)) or ""
    found = re.search(r"resumed-from=(\d+)", log)
    assert found, f"trial {trial} printed no resumed-from: {log[-300:]}"
    return int(found.group(1))


def check_lineage(uri: str, doc: dict[str, Any], rows: list[dict[str, Any]], file: str, step_of: Any, epochs: int) -> int:
    """Every trial labelled; a later generation's trial names a parent one generation before,
    which succeeded, and resumed from its checkpoint: it started at the parent's step and saved
    the parent's step plus its own epochs. Returns the highest generation."""
    name = doc["metadata"]["name"]
    container = doc["spec"]["trialTemplate"]["primaryContainerName"]
    by_name = {r["name"]: r for r in rows}
    assert all(r["status"] == "Succeeded" for r in rows), [(r["name"], r["status"], r["message"]) for r in rows]
    assert all(GENERATION_LABEL in r["labels"] for r in rows)
    steps = {r["name"]: step_of(_checkpoint(uri, name, r["name"], file)) for r in rows}
    for row in rows:
        generation = int(row["labels"][GENERATION_LABEL])
        if generation == 0:
            assert PARENT_LABEL not in row["labels"] and steps[row["name"]] == epochs
            assert _resumed_from(uri, name, row["name"], container) == 0
            continue
        parent = by_name[row["labels"][PARENT_LABEL]]
        assert int(parent["labels"][GENERATION_LABEL]) == generation - 1 and parent["index"] < row["index"]
        assert _resumed_from(uri, name, row["name"], container) == steps[parent["name"]]
        assert steps[row["name"]] == steps[parent["name"]] + epochs
    return max(int(r["labels"][GENERATION_LABEL]) for r in rows)


def _json_step(data: bytes) -> int:
    return int(json.loads(data)["step"])


def _pickle_step(data: bytes) -> int:
    return int(pickle.loads(data)["step"])  # the trial's own checkpoint, written in this test


# --- Katib's simple-pbt --------------------------------------------------------------------------


def test_simple_pbt_as_katib_ships_it_runs_its_first_generation(tmp_path):
    doc = simple_pbt()
    uri, rows = _run(doc, tmp_path, "inline", mounts=(f"{MOUNT}={TESTS / 'trials'}",))
    assert len(rows) == doc["spec"]["maxTrialCount"] == 2
    assert check_lineage(uri, doc, rows, "training.ckpt", _json_step, epochs=20) == 0
    folder = Path(uri.removeprefix("file://")) / "experiments" / "simple-pbt" / "trials" / rows[0]["name"] / "checkpoint" / "training.ckpt"
    assert folder.is_file(), "a folder store keeps each trial's checkpoint folder under the trial"


@pytest.mark.parametrize("engine", ["inline", pytest.param("kfp-local", marks=pytest.mark.kfp_local)])
def test_simple_pbt_resumes_each_child_from_its_parents_checkpoint(tmp_path, engine: str):
    doc = simple_pbt(max_trials=14, population="5")  # 2 at a time, as Katib's; it may reach Katib's goal (0.99) first
    uri, rows = _run(doc, tmp_path, engine, mounts=(f"{MOUNT}={TESTS / 'trials'}",))
    assert check_lineage(uri, doc, rows, "training.ckpt", _json_step, epochs=20) >= 1


@pytest.mark.s3
def test_simple_pbt_keeps_its_checkpoints_in_an_s3_store(tmp_path, s3_env, s3_bucket):
    doc = simple_pbt(max_trials=9, population="5")
    uri, rows = _run(doc, tmp_path, "inline", store=f"s3://{s3_bucket}/tuning", mounts=(f"{MOUNT}={TESTS / 'trials'}",))
    assert check_lineage(uri, doc, rows, "training.ckpt", _json_step, epochs=20) >= 1


def test_kfp_tune_trials_shows_the_lineage(tmp_path, capsys):
    doc = simple_pbt(max_trials=8, population="5")
    doc["spec"]["parallelTrialCount"] = 1
    uri, rows = _run(doc, tmp_path, "inline", mounts=(f"{MOUNT}={TESTS / 'trials'}",))
    capsys.readouterr()
    assert main(["trials", "simple-pbt", "--store", uri]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header[:5] == ["name", "status", "pbt-pool", "generation", "parent"] and header[-1] == "lr"  # the metrics between
    child = next(r for r in rows if PARENT_LABEL in r["labels"])
    line = next(line for line in lines if line.startswith(child["name"]))
    assert line.split()[2:5] == [child["labels"][POOL_LABEL], child["labels"][GENERATION_LABEL], child["labels"][PARENT_LABEL]]
    assert main(["trials", "simple-pbt", "--store", uri, "--json"]) == 0
    assert [r["labels"] for r in json.loads(capsys.readouterr().out)] == [r["labels"] for r in rows]


# --- images/pbt-digits ---------------------------------------------------------------------------


@pytest.mark.long
@pytest.mark.parametrize("engine", ["inline", pytest.param("kfp-local", marks=pytest.mark.kfp_local)])
def test_pbt_digits_resumes_each_child_from_its_parents_checkpoint(tmp_path, engine: str):
    doc = pbt_digits(maxTrialCount=8)  # generation 0 (6, to fill the pool of 5), and 2 of generation 1
    uri, rows = _run(doc, tmp_path, engine, mounts=(f"/opt/pbt={PBT_DIGITS}",))
    assert check_lineage(uri, doc, rows, "model.pkl", _pickle_step, epochs=2) == 1


def pbt_digits_population(threshold: str, uid: str, folder: Path) -> list[Any]:
    """images/pbt-digits's experiment with ``truncation_threshold``, its 17 trials one at a time
    as the suggest step makes them (``designer.problem_of``: the seed from the experiment's uid),
    each trained by the example's own train.py in this process, in its own checkpoint folder
    under ``folder``: a copy of its parent's, as the launchers make it. The finished trials."""
    from kfp_tune.algorithms import registry
    from kfp_tune.algorithms.base import FinishedTrial
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.steps.designer import call_rng, problem_of

    train = folder_module(PBT_DIGITS, "train").train
    doc = _settings(pbt_digits(), truncation_threshold=threshold)
    command = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"]
    epochs = int(next(a for a in command if a.startswith("--epochs=")).removeprefix("--epochs="))
    problem = problem_of(load_experiment(doc), uid)
    pbt = registry.create("pbt", problem.settings)
    history: list[FinishedTrial] = []
    for call in range(doc["spec"]["maxTrialCount"]):
        suggestions = pbt.suggest(problem, history, [], 1, call_rng(problem, call))
        (assignment,), (labels,) = suggestions.assignments, suggestions.labels or [{}]
        name = f"trial-{call}"
        if PARENT_LABEL in labels:
            shutil.copytree(folder / labels[PARENT_LABEL], folder / name)
        _, _, accuracy = train(float(assignment["lr"]), epochs, folder / name)
        history.append(FinishedTrial(name, assignment, "Succeeded", accuracy, labels=labels))
    return history


def generation_accuracy(trials: list[Any], generation: int) -> float:
    return float(np.mean([t.objective for t in trials if int(t.labels[GENERATION_LABEL]) == generation]))


def test_pbt_digits_improves_across_generations_more_than_without_exploit(tmp_path):
    """Truncation 0.4 exploits 2 members a generation (int(5 * 0.4)); truncation 0.01 exploits
    none (int(5 * 0.01) = 0): every child explores from its own checkpoint. Each pair of runs
    shares its generation 0 (the same uid); by generation 2 the exploiting population is better,
    and better than its own generation 0. Four uids, 0 to 3: a population of 5 is small and its
    first generation is luck. Measured over the uids 0 to 23: exploit ahead at generation 2 for
    22 of 24, by 0.038 on average (-0.042 to +0.195); generation 2 above generation 0 for all 24,
    by 0.19 on average (0.045 to 0.34). For these four: +0.082, +0.012, +0.024, +0.075 ahead;
    +0.25, +0.16, +0.15, +0.34 above generation 0. That trials resume from their parents
    through the real launchers is checked above, end to end."""
    gains, climbs = [], []
    for uid in "0123":
        exploit = pbt_digits_population("0.4", uid, tmp_path / uid / "exploit")
        explore_only = pbt_digits_population("0.01", uid, tmp_path / uid / "explore")
        assert max(int(t.labels[GENERATION_LABEL]) for t in exploit) == 2
        assert generation_accuracy(exploit, 0) == generation_accuracy(explore_only, 0), "the same seed, the same first generation"
        gains.append(generation_accuracy(exploit, 2) - generation_accuracy(explore_only, 2))
        climbs.append(generation_accuracy(exploit, 2) - generation_accuracy(exploit, 0))
    assert sum(g > 0 for g in gains) >= 3 and float(np.mean(gains)) > 0.02, gains
    assert min(climbs) > 0.05 and float(np.mean(climbs)) > 0.1, climbs
