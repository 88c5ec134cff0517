"""What the StdOut and File collectors' code promises and no other test noticed breaking
(mutation-testing QA pass): which metric names ``kfp-tune validate`` warns it cannot read, how
many hints a MetricsUnavailable trial's message gives, and the steps of a text metric's values."""

from __future__ import annotations

import copy
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.cli import main
from kfp_tune.collectors.stdout import DEFAULT_FORMAT_NAME, parse_output
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.launchers import LocalLauncher

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "katib-examples"
JSON_FILE_EXAMPLE = EXAMPLES / "metrics-collector_file-metrics-collector-with-json-format.yaml"
DARTS_EXAMPLE = EXAMPLES / "nas_darts-cpu.yaml"
UNREADABLE = {"objective": "val.acc", "additional": "val/loss"}
"""Names Katib's default text filter cannot read (a '.' and a '/' are no name characters)."""


def _validate(doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    doc = copy.deepcopy(doc)
    doc["spec"]["objective"]["objectiveMetricName"] = UNREADABLE["objective"]
    doc["spec"]["objective"]["additionalMetricNames"] = [UNREADABLE["additional"]]
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    capsys.readouterr()
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


def _unreadable_warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: ") and "cannot be read" in line]


def test_the_file_collectors_json_format_reads_any_name(tmp_path, capsys):
    """Katib's JSON parser takes each metric by its key in the line's object
    (pkg/metricscollector/v1beta1/file-metricscollector/file-metricscollector.go,
    ``parseLogsInJsonFormat``): no name is unreadable there."""
    assert all(DEFAULT_FORMAT_NAME.fullmatch(name) is None for name in UNREADABLE.values())
    doc = yaml.safe_load(JSON_FILE_EXAMPLE.read_text())
    assert doc["spec"]["metricsCollectorSpec"]["source"]["fileSystemPath"]["format"] == "JSON"
    code, err = _validate(doc, tmp_path, capsys)
    assert code == 0, err
    assert _unreadable_warnings(err) == []


@pytest.mark.parametrize("fmt", ["TEXT", None], ids=["TEXT", "format left out"])
def test_the_file_collectors_text_format_warns_of_a_name_its_default_filter_cannot_read(tmp_path, capsys, fmt):
    """The same example with a TEXT file (Katib's default format) is read with Katib's default
    filter (``parseLogsInTextFormat``, pkg/metricscollector/v1beta1/common/const.go
    ``DefaultFilter``): each unreadable name is warned of once, at its field."""
    doc = yaml.safe_load(JSON_FILE_EXAMPLE.read_text())
    path_spec = doc["spec"]["metricsCollectorSpec"]["source"]["fileSystemPath"]
    if fmt is None:
        del path_spec["format"]
    else:
        path_spec["format"] = fmt
    code, err = _validate(doc, tmp_path, capsys)
    assert code == 0, err
    warnings = _unreadable_warnings(err)
    assert len(warnings) == 2, err
    assert warnings[0].startswith("warning: spec.objective: the metric 'val.acc' cannot be read with the File collector's default metricsFormat")
    assert warnings[1].startswith("warning: spec.objective.additionalMetricNames: the metric 'val/loss' cannot be read with the File collector")


@pytest.mark.parametrize("kind", ["StdOut", "File"])
def test_a_metrics_format_of_the_users_is_never_second_guessed(tmp_path, capsys, kind):
    """A filter the user wrote may read any name: none is warned of, with either collector."""
    doc = quadratic_experiment()
    source: dict[str, Any] = {"filter": {"metricsFormat": [r"([\w./]+):\s*([-+.\deE]+)"]}}
    if kind == "File":
        source["fileSystemPath"] = {"path": "/katib/metrics.log", "kind": "File", "format": "TEXT"}
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": kind}, "source": source}
    code, err = _validate(doc, tmp_path, capsys)
    assert code == 0, err
    assert _unreadable_warnings(err) == []
    del doc["spec"]["metricsCollectorSpec"]["source"]["filter"]  # the same without it does warn
    assert len(_unreadable_warnings(_validate(doc, tmp_path, capsys)[1])) == 2


NOT_NUMBERS = ["nan", "None", "inf", "null", "NaN"]
CLOSE_NAMES = ["losa", "losb", "losc", "losd", "lose"]


def test_a_metrics_unavailable_message_gives_at_most_three_hints_of_each_kind(local_store):
    """``missing_metric_hints`` promises at most three values that are not numbers (the first
    ones written, in order) and three close names: a trial that wrote five of each is told three."""
    lines = [f"loss={value}" for value in NOT_NUMBERS] + [f"{name}=0.5" for name in CLOSE_NAMES]
    script = "; ".join(f"print({line!r})" for line in lines)
    experiment = load_experiment(quadratic_experiment(**{
        "spec.objective.additionalMetricNames": [],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.command": ["python3", "-c", shlex.quote(script)],
    }))
    records = ExperimentRecords(local_store, experiment.name)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    steps.launch_trial(records, LocalLauncher(), name)
    result = steps.collect_metrics(records, name)
    assert result.status == "MetricsUnavailable", result.message
    values = re.search(r"its loss values were not numbers \(([^)]*)\)", result.message)
    close = re.search(r"its output has ([^:]*): is spec\.objective\.objectiveMetricName misspelt\?", result.message)
    assert values is not None and close is not None, result.message
    assert values.group(1) == ", ".join(repr(v) for v in NOT_NUMBERS[:3])
    shown = close.group(1).split(", ")
    assert len(shown) == 3 and {s.strip("'") for s in shown} <= set(CLOSE_NAMES), result.message


def test_a_text_metrics_values_are_numbered_from_step_0_as_a_number_metrics_are():
    """darts' Best-Genotype, read as text with Katib's example's own metricsFormat: its n-th value
    has step n, counting from 0, as a number metric's has (the order Katib's DB keeps)."""
    experiment = load_experiment(yaml.safe_load(DARTS_EXAMPLE.read_text()))
    assert experiment.spec.objective is not None
    name = experiment.spec.objective.objective_metric_name
    genotypes = [f"Genotype(normal=[[('skip_connect', {i})]])" for i in range(3)]
    text = "\n".join(["epoch 0", *(f"{name}={g}" for g in genotypes)]) + "\n"
    logs = [log for log in parse_output(experiment, text) if log.name == name]
    assert [(log.text, log.step) for log in logs] == [(g, step) for step, g in enumerate(genotypes)]
