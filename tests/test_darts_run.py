"""A darts experiment end to end: Katib's darts-cpu example, its training container swapped for
tests/trials/darts_stand_in.py (which reads its three arguments as Katib's DARTS trial does and
prints ``Best-Genotype=Genotype(...)``), run with ``kfp-tune run --engine inline``; the genotype,
a string, is the objective: collected (StdOut and File), stored, shown by ``trials``, ``status``,
``status --json`` (Katib's shape) and the report, and the run's result. Then the pieces on their
own: numbers stay numbers, text is kept only for a text objective, records and collectors keep it.

The stand-in gets the example's own arguments, ``--algorithm-settings="${trialParameters.algorithmSettings}"``
and the like: as under Katib, the command runs through ``sh -c`` (StdOut and File, Katib's
``wrapWorkerContainer``), whose shell takes those double quotes away, so the trial gets each value
as one word without them (it would fail on them: json.loads)."""

from __future__ import annotations

import copy
import html
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import TESTS, load_katib_example, merge, quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.collectors.formats import parse_json_lines, text_log, text_metrics
from kfp_tune.collectors.observe import ObservationWriter, read_collected
from kfp_tune.collectors.stdout import DEFAULT_METRICS_FORMAT, parse_metric_lines, parse_output
from kfp_tune.core.decision import best_trial
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, TrialEnded, TrialResult, TrialStarted, encode_record
from kfp_tune.core.state import ExperimentState, ExperimentView
from kfp_tune.core.vocabulary import LaunchPhase, TrialStatus
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

MOUNT = "/opt/kfp-tune-tests"
GENOTYPE_FORMAT = r"([\w-]+)=(Genotype.*)"
"""The darts examples' metricsFormat."""

# What Katib's DARTS service gives darts-cpu.yaml's trial (see tests/algorithms/test_darts.py).
SETTINGS = (
    "{'num_epochs': '1', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, "
    "'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, "
    "'init_channels': '1', 'print_step': 50, 'num_nodes': '1', 'stem_multiplier': '1'}"
)
ASSIGNMENT = {"algorithm-settings": SETTINGS, "search-space": "['max_pooling_3x3']", "num-layers": "1"}
# The stand-in's rule for one node and one primitive: edges 1 then 0, nodes 2..2 concatenated.
GENOTYPE = (
    "Genotype(normal=[[('max_pooling_3x3',1),('max_pooling_3x3',0)]],normal_concat=range(2,3),"
    "reduce=[[('max_pooling_3x3',1),('max_pooling_3x3',0)]],reduce_concat=range(2,3))"
)
ACCURACY = 0.55
"""The stand-in's Best-Accuracy for one primitive and one layer: 0.5 + 0.1 * 1 / 2."""


def darts_cpu(*extra_args: str, **overrides: Any) -> dict[str, Any]:
    """Katib's darts-cpu example, its training container running the stand-in with the example's
    arguments as written (quotes included)."""
    doc = merge(load_katib_example("nas_darts-cpu.yaml"), overrides)
    [container] = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][:2] == ["python3", "run_trial.py"]
    container["command"] = ["python3", f"{MOUNT}/darts_stand_in.py", *container["command"][2:], *extra_args]
    return doc


def run(doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """``kfp-tune run --engine inline --json`` of the experiment: (exit code, the outcome it printed)."""
    path = tmp_path / "darts.yaml"
    path.write_text(yaml.safe_dump(doc))
    code = main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store"), "--mount", f"{MOUNT}={TESTS / 'trials'}", "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out.strip().splitlines()[-1])


def command(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 0
    return capsys.readouterr().out


def test_the_darts_cpu_example_ends_with_its_genotype_collected_stored_and_shown(tmp_path, capsys):
    code, outcome = run(darts_cpu(), tmp_path, capsys)
    assert code == 0, outcome
    assert (outcome["status"], outcome["reason"], outcome["trials"], outcome["succeeded"]) == ("Succeeded", "ExperimentMaxTrialsReached", 1, 1)
    best = outcome["best_trial"]
    assert best["parameters"] == ASSIGNMENT and best["metrics"] == {"Best-Genotype": GENOTYPE}

    # what the trial received, byte for byte, and what is stored of it
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "darts-cpu")
    log = records.read_text(records.log_key(best["name"], "training-container")) or ""
    assert f"received {json.dumps([SETTINGS, ASSIGNMENT['search-space'], '1'])}" in log.splitlines()
    result = records.read(records.trial_key(best["name"], "result"), "TrialResult")
    assert result is not None
    assert (result["status"], result["textMetrics"], result["metrics"], result["curve"]) == ("Succeeded", {"Best-Genotype": GENOTYPE}, {}, [])

    store = ["--store", str(tmp_path / "store")]
    [row] = json.loads(command(["trials", "darts-cpu", *store, "--json"], capsys))
    assert (row["status"], row["metrics"]) == ("Succeeded", {"Best-Genotype": GENOTYPE})
    table = command(["trials", "darts-cpu", *store], capsys).splitlines()
    assert table[0].split()[2] == "Best-Genotype" and table[1].split()[2] == GENOTYPE  # the metrics first, then the parameters
    assert f"best trial: {best['name']}  Best-Genotype={GENOTYPE}" in command(["status", "darts-cpu", *store], capsys)

    status = json.loads(command(["status", "darts-cpu", *store, "--json"], capsys))
    optimal = status["currentOptimalTrial"]
    assert optimal["bestTrialName"] == best["name"]
    assert optimal["observation"]["metrics"] == [{"name": "Best-Genotype", "min": "unavailable", "max": "unavailable", "latest": GENOTYPE}]
    assert {a["name"]: a["value"] for a in optimal["parameterAssignments"]} == ASSIGNMENT

    command(["report", "darts-cpu", *store, "-o", str(tmp_path / "report")], capsys)
    page = (tmp_path / "report" / "darts-cpu.html").read_text()
    assert f"<p>Its Best-Genotype: <code>{html.escape(GENOTYPE)}</code></p>" in page
    markdown = (tmp_path / "report" / "darts-cpu.md").read_text()
    assert re.sub(r"([_()\[\]])", r"\\\1", GENOTYPE) in markdown.splitlines()[-1]  # Markdown's own characters backslash-escaped

    # the tuning step hands a number downstream: for a genotype it says where to read it instead
    from kfp_tune.steps.best_result import NoBestTrial, best_result

    with pytest.raises(NoBestTrial, match=r"is text \(darts's genotype\), not a number") as info:
        best_result(records)
    assert GENOTYPE in str(info.value) and "get_optimal_hyperparameters" in str(info.value)


def test_a_file_collector_gets_the_genotype_and_a_number_and_a_larger_budget_still_runs_one_search(tmp_path, capsys):
    doc = darts_cpu(
        "--metrics-file=/var/log/darts/metrics.log",
        **{
            "spec.maxTrialCount": 3,
            "spec.parallelTrialCount": 2,
            "spec.maxFailedTrialCount": 3,
            "spec.objective.additionalMetricNames": ["Best-Accuracy"],
            "spec.metricsCollectorSpec": {
                "collector": {"kind": "File"},
                "source": {
                    "fileSystemPath": {"path": "/var/log/darts/metrics.log", "kind": "File", "format": "TEXT"},
                    "filter": {"metricsFormat": [GENOTYPE_FORMAT, DEFAULT_METRICS_FORMAT]},
                },
            },
        },
    )
    code, outcome = run(doc, tmp_path, capsys)
    assert code == 0, outcome
    assert (outcome["status"], outcome["reason"], outcome["trials"]) == ("Succeeded", "ExperimentSuggestionEndReached", 1)
    assert outcome["best_trial"]["metrics"] == {"Best-Genotype": GENOTYPE, "Best-Accuracy": ACCURACY}


def test_a_failed_search_is_not_started_again(tmp_path, capsys):
    """Katib's service would hand the same values to a second trial; here the one point is
    never given twice, so the experiment fails on its one failed trial."""
    code, outcome = run(darts_cpu("--fail", **{"spec.maxTrialCount": 2}), tmp_path, capsys)
    assert code != 0
    assert (outcome["status"], outcome["reason"], outcome["trials"], outcome["failed"], outcome["best_trial"]) == ("Failed", "ExperimentFailed", 1, 1, None)


def test_a_search_interrupted_while_it_runs_is_searched_again_by_the_next_run(tmp_path, capsys, monkeypatch):
    """Ctrl-C while the one search runs (the local launcher's run raises RunInterrupted, as it
    does for a trial the signal stopped): the run reports the experiment Running, interrupted,
    the trial given back, and the same command runs the search again, as Katib's service gives
    the same values to every request; with a budget of 3 and 2 slots, one search still, then
    the end."""
    from kfp_tune.core.errors import RunInterrupted
    from kfp_tune.core.interfaces import LaunchOutcome, TrialRun
    from kfp_tune.launchers.local import LocalLauncher

    real = LocalLauncher.run
    launched: list[str] = []

    def interrupted_first(self: LocalLauncher, trial: TrialRun) -> LaunchOutcome:
        launched.append(trial.trial)
        if len(launched) == 1:
            raise RunInterrupted("SIGINT")
        return real(self, trial)

    monkeypatch.setattr(LocalLauncher, "run", interrupted_first)
    doc = darts_cpu(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 2})
    code, outcome = run(doc, tmp_path, capsys)
    assert code == 130
    assert (outcome["status"], outcome["reason"], outcome["succeeded"], outcome["given_back"], outcome["best_trial"]) == (
        "Running", "ExperimentRunInterrupted", 0, 1, None,
    )
    code, outcome = run(doc, tmp_path, capsys)
    assert code == 0, outcome
    assert (outcome["status"], outcome["reason"], outcome["trials"], outcome["succeeded"], outcome["given_back"]) == (
        "Succeeded", "ExperimentSuggestionEndReached", 2, 1, 1,
    )
    assert outcome["best_trial"]["metrics"] == {"Best-Genotype": GENOTYPE} and outcome["best_trial"]["parameters"] == ASSIGNMENT
    assert len(launched) == 2


# ---------------------------------------------------------------- the pieces on their own

GENOTYPE_LINE = f"Best-Genotype={GENOTYPE}"


def test_text_is_kept_only_for_a_metric_named_as_text_and_numbers_are_unaffected():
    lines = [GENOTYPE_LINE, "Best-Accuracy=0.55", "Best-Accuracy=0.5abc"]
    formats = [GENOTYPE_FORMAT, DEFAULT_METRICS_FORMAT]
    names = ["Best-Genotype", "Best-Accuracy"]
    # a numeric metric: the genotype is not a number and is dropped, as before; the numbers stay
    assert parse_metric_lines(lines, names, formats) == [MetricLog("Best-Accuracy", 0.55, 0)]
    kept = parse_metric_lines(lines, names, formats, texts={"Best-Genotype"})
    # the numeric regex also matches the genotype line, with an empty value: not a second value
    assert [(m.name, m.text, m.step) for m in kept] == [("Best-Genotype", GENOTYPE, 0), ("Best-Accuracy", None, 0)]
    assert math.isnan(kept[0].value) and kept[1].value == ACCURACY


def test_only_a_darts_objective_is_text():
    darts = load_experiment(load_katib_example("nas_darts-cpu.yaml"))
    assert text_metrics(darts) == {"Best-Genotype"}
    assert [(m.name, m.text) for m in parse_output(darts, f"noise\n{GENOTYPE_LINE}\n")] == [("Best-Genotype", GENOTYPE)]
    numeric = load_experiment(
        quadratic_experiment(**{"spec.objective.objectiveMetricName": "Best-Genotype", "spec.metricsCollectorSpec.source.filter.metricsFormat": [GENOTYPE_FORMAT]})
    )
    assert text_metrics(numeric) == frozenset()
    assert parse_output(numeric, GENOTYPE_LINE) == []


def test_json_lines_keep_a_text_metrics_string_and_skip_what_is_not_one():
    lines = [json.dumps({"Best-Genotype": GENOTYPE, "acc": "0.5"}), json.dumps({"Best-Genotype": 3}), json.dumps({"Best-Genotype": ""})]
    logs = parse_json_lines(lines, ["Best-Genotype", "acc"], texts={"Best-Genotype"})
    assert [(m.name, m.text, m.step) for m in logs] == [("Best-Genotype", GENOTYPE, 0), ("acc", None, 0)]
    assert parse_json_lines(lines[:1], ["Best-Genotype"]) == []  # a numeric metric: not a number, dropped


def test_a_collector_sidecar_stores_text_and_reads_it_back(tmp_path):
    """On a cluster with no shared metrics volume the File collector's sidecar stores what it
    reads; a text value goes as ``text`` (a record holds no NaN) and comes back as text."""
    records = ExperimentRecords(LocalStore(tmp_path), "darts-cpu")
    ObservationWriter(records, "t-1").write({"metrics.log": [text_log("Best-Genotype", GENOTYPE, 0), MetricLog("Best-Accuracy", 0.55, 0)]})
    back = read_collected(records, "t-1")
    assert [(m.name, m.text, m.step) for m in back] == [("Best-Genotype", GENOTYPE, 0), ("Best-Accuracy", None, 0)]
    assert math.isnan(back[0].value) and back[1].value == ACCURACY


def test_a_result_record_keeps_text_metrics_and_leaves_the_field_out_without_them(tmp_path):
    records = ExperimentRecords(LocalStore(tmp_path), "darts-cpu")
    with_text = TrialResult("t-1", TrialStatus.SUCCEEDED, text_metrics={"Best-Genotype": GENOTYPE})
    key = records.trial_key("t-1", "result")
    assert records.create_typed(key, with_text) == with_text
    assert json.loads(records.store.get(key) or b"")["textMetrics"] == {"Best-Genotype": GENOTYPE}
    assert "textMetrics" not in TrialResult("t-2", TrialStatus.SUCCEEDED, metrics={"loss": 1.0}).to_payload()  # older records' fields, unchanged
    damaged = records.trial_key("t-3", "result")
    records.store.put(damaged, encode_record({"kind": "TrialResult", "version": 1, "trial": "t-3", "status": "Succeeded", "textMetrics": {"Best-Genotype": 3}}))
    with pytest.raises(DamagedRecord, match="textMetrics must map names to strings"):
        records.read_typed(damaged, TrialResult)


def test_the_latest_trial_with_a_text_objective_is_the_best_whatever_order_its_records_come_in(tmp_path):
    """Text cannot be compared: as Katib, the latest trial (here: the highest index) that
    reported it and succeeded is the best; the same from a view that wrote the results in
    reverse order, a fresh view reading them back, and a state built by hand."""
    experiment = load_experiment(darts_cpu(**{"spec.maxTrialCount": 3}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    init_experiment(records, experiment)
    view = ExperimentView(records)
    trials = [{"name": f"darts-t{i}", "index": i, "assignment": {**ASSIGNMENT, "num-layers": str(i + 1)}} for i in range(3)]
    view.record_round("r1", {"round": "r1", "seq": 0, "created": "now", "requested": 3, "exhausted": False, "trials": trials, "adopted": []})
    outcomes = {0: TrialStatus.SUCCEEDED, 1: TrialStatus.SUCCEEDED, 2: TrialStatus.FAILED}
    for i in (2, 1, 0):
        name = f"darts-t{i}"
        view.record_trial(name, TrialStarted(name, "now", 0.0, "run-1", "a"))
        view.record_trial(name, TrialEnded(name, LaunchPhase.SUCCEEDED if i < 2 else LaunchPhase.FAILED))
        view.record_trial(name, TrialResult(name, outcomes[i], text_metrics={"Best-Genotype": f"{GENOTYPE}-{i}"}))
    fresh = ExperimentView(ExperimentRecords(LocalStore(tmp_path), experiment.name)).state
    by_hand = ExperimentState(experiment=experiment, uid="u", created="now", trials=[copy.copy(t) for t in fresh.trials])
    for state in (view.state, fresh, by_hand):
        best = best_trial(state)
        assert best is not None and best.name == "darts-t1"


def test_the_client_gives_a_darts_trials_genotype_as_its_metric_and_observation(tmp_path, capsys):
    """Katib's DB manager keeps a report's value as text, and its controller sets a text value as
    the observation's latest with min and max unavailable (getMetrics): get_trial_metrics gave
    the genotype's value, NaN, and the Trial's observation had no entry for it."""
    from kfp_tune import Client

    code, outcome = run(darts_cpu(), tmp_path, capsys)
    assert code == 0, outcome
    client = Client(tmp_path / "store")
    [trial] = client.list_trials("darts-cpu")
    assert client.get_trial_metrics(trial.metadata.name) == [{"name": "Best-Genotype", "value": GENOTYPE, "step": 0}]
    assert trial.status.observation.metrics == [{"name": "Best-Genotype", "min": "unavailable", "max": "unavailable", "latest": GENOTYPE}]
