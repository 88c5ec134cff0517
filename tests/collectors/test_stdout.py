"""The StdOut collector: Katib's default and custom metric formats, strict number parsing."""

from __future__ import annotations

from conftest import quadratic_experiment
from kfp_tune.collectors.files import collect_file
from kfp_tune.collectors.stdout import collect_stdout, parse_metric_lines
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.observation import MetricLog, Observation
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import TrialState


def test_katib_default_regex_reads_name_value_pairs():
    lines = [
        "epoch=1 loss=0.52 accuracy=0.81",
        "Validation-accuracy=0.9 irrelevant=3",
        "epoch=2 loss=4.2e-1 accuracy=+0.85",
        "no metrics here",
        "loss = 0.30",
    ]
    logs = parse_metric_lines(lines, ["loss", "accuracy", "Validation-accuracy"])
    assert [(m.name, m.value) for m in logs] == [
        ("loss", 0.52), ("accuracy", 0.81), ("Validation-accuracy", 0.9), ("loss", 0.42), ("accuracy", 0.85), ("loss", 0.30),
    ]
    assert [m.step for m in logs if m.name == "loss"] == [0, 1, 2]


def test_non_finite_and_garbage_values_never_become_metrics():
    logs = parse_metric_lines(["loss=nan", "loss=inf", "loss=1e309", "loss=", "loss=abc", "loss=0x1A", "loss=1.5abc", "loss=0.5"], ["loss"])
    assert [(m.name, m.value) for m in logs] == [("loss", 0.5)]


def test_custom_metrics_format_from_katibs_file_example():
    fmt = r"{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}"
    logs = parse_metric_lines(["{metricName: accuracy, metricValue: 0.9123}", "{metricName: loss, metricValue: -1.5}"], ["accuracy", "loss"], [fmt])
    assert [(m.name, m.value) for m in logs] == [("accuracy", 0.9123), ("loss", -1.5)]


def test_a_series_keeps_its_report_order_so_min_max_and_latest_differ():
    """What metricStrategies choose from: the latest is the last line printed, not the last by
    size (0.2, 0.9, 0.5: min 0.2, max 0.9, latest 0.5)."""
    logs = parse_metric_lines(["loss=0.2 accuracy=0.6", "loss=0.9", "accuracy=0.4", "loss=0.5 accuracy=0.5"], ["loss", "accuracy"])
    observation = Observation.from_logs(logs, ["loss", "accuracy"])
    assert observation.to_dict() == {
        "loss": {"min": 0.2, "max": 0.9, "latest": 0.5, "count": 3},
        "accuracy": {"min": 0.4, "max": 0.6, "latest": 0.5, "count": 3},
    }
    assert observation.values({"loss": "min", "accuracy": "max"}) == {"loss": 0.2, "accuracy": 0.6}
    assert observation.values({"loss": "max", "accuracy": "min"}) == {"loss": 0.9, "accuracy": 0.4}
    assert observation.values({"loss": "latest", "accuracy": "latest"}) == {"loss": 0.5, "accuracy": 0.5}


def test_punctuation_after_a_value_ends_it_as_in_katib():
    """Katib's parseLogsInTextFormat records the number its regex captured whatever follows it;
    these lines, from trials that succeed in Katib, must give the same values here."""
    lines = ["Validation loss=0.5.", "loss=0.35: done", "loss=12%", "loss=0.75/1", "(loss=0.125)"]
    assert [(m.name, m.value) for m in parse_metric_lines(lines, ["loss"])] == [
        ("loss", 0.5), ("loss", 0.35), ("loss", 12.0), ("loss", 0.75), ("loss", 0.125),
    ]


def test_a_pipe_after_a_value_ends_it_and_belongs_to_the_next_name_as_in_katib():
    """Katib's default name class ``[\\w|-]`` holds ``|``: its FindAllStringSubmatch on
    ``loss=0.25|accuracy=0.9`` gives ``loss`` = 0.25 and ``|accuracy`` = 0.9, and ``|accuracy``
    is not the metric ``accuracy``."""
    logs = parse_metric_lines(["loss=0.25|accuracy=0.9"], ["loss", "accuracy"])
    assert [(m.name, m.value) for m in logs] == [("loss", 0.25)]
    assert [(m.name, m.value) for m in parse_metric_lines(["loss=0.25|accuracy=0.9"], ["|accuracy"])] == [("|accuracy", 0.9)]


def test_a_value_that_runs_on_into_a_word_or_a_longer_number_is_dropped():
    """What the guide promises beyond Katib (which records 1.5, 0, 1.2, 1, 0.5): the regex
    matched only the start of what was written."""
    lines = ["loss=1.5abc", "loss=0x1A", "loss=1.2.3", "loss=1,234", "loss=0.5_b", "loss=2e", "loss=0.25, accuracy=1"]
    assert [(m.name, m.value) for m in parse_metric_lines(lines, ["loss", "accuracy"])] == [("loss", 0.25), ("accuracy", 1.0)]


def test_a_custom_format_that_captures_part_of_a_number_reads_nothing_of_it():
    assert parse_metric_lines(["loss=12", "loss=3 done"], ["loss"], [r"(\w+)=(\d)"]) == [MetricLog("loss", 3.0, 0)]


def test_stdout_and_text_file_collectors_read_lines_with_punctuation(local_store):
    """The QA reproduction: each trial's only line ends its value with punctuation; both
    collectors find the objective, so the trial is not MetricsUnavailable."""
    experiment = load_experiment(quadratic_experiment())
    file_experiment = load_experiment(quadratic_experiment(**{"spec.metricsCollectorSpec": {
        "collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File"}}}}))
    records = ExperimentRecords(local_store, "quad")
    for index, (line, expected) in enumerate([("Validation loss=0.5.", 0.5), ("loss=0.25|accuracy=0.9", 0.25), ("loss=0.35: done", 0.35)]):
        trial = TrialState(name=f"quad-t{index}", index=index, round="", assignment={}, created="")
        records.write_text(records.log_key(trial.name, "main"), line + "\n")
        local_store.put(records.metrics_file_key(trial.name, "metrics.log"), (line + "\n").encode())
        for logs in (collect_stdout(records, experiment, trial), collect_file(records, file_experiment, trial)):
            assert Observation.from_logs(logs, ["loss", "accuracy"]).values({"loss": "min"}) == {"loss": expected}


def test_a_custom_format_that_reads_on_past_the_value_takes_the_value_it_captured():
    """The QA reproduction (csv1.yaml, lat1.yaml): the user's filter consumed what follows the
    value, so the value is whole, as Katib (parseLogsInTextFormat) takes it; every trial was
    MetricsUnavailable. A filter that ends with the value is still checked."""
    assert parse_metric_lines(["accuracy,0.91,3"], ["accuracy"], [r"(\w+),([\d.]+),\d+"]) == [MetricLog("accuracy", 0.91, 0)]
    assert parse_metric_lines(["latency=12.5ms"], ["latency"], [r"(\w+)=([\d.]+)ms"]) == [MetricLog("latency", 12.5, 0)]
    assert parse_metric_lines(["latency=12.5ms"], ["latency"], [r"(\w+)=([\d.]+)"]) == []


def test_an_unreadable_additional_metric_is_not_said_to_fail_every_trial(tmp_path, capsys):
    """Only the objective decides MetricsUnavailable (Katib's Trial.IsObservationAvailable):
    ``additionalMetricNames: [val/loss]``, which the default filter cannot read, leaves that
    metric missing from every trial; validate said every trial would end MetricsUnavailable."""
    import yaml

    from kfp_tune.cli import main
    from kfp_tune.collectors.stdout import unreadable_additional_names, unreadable_names

    doc = quadratic_experiment(**{"spec.objective": {"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["val/loss", "accuracy"]}})
    experiment = load_experiment(doc)
    assert (unreadable_names(experiment), unreadable_additional_names(experiment)) == ([], ["val/loss"])
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert "MetricsUnavailable" not in err
    assert "warning: spec.objective.additionalMetricNames: the metric 'val/loss' cannot be read" in err and "missing from every trial's metrics" in err
