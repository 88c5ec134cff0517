"""Katib's default metricsFormat filter runs on Go's regexp, whose ``\\w`` is ASCII
(``[0-9A-Za-z_]``, common/const.go ``DefaultFilter``): a metric named ``précision`` is never
read from ``précision=0.91``, by Katib or by kfp-tune's parser. The check that warns of a name
the filter cannot read, the MetricsUnavailable message and a function trial's hint say so too,
rather than pass the name and then repeat the line the trial printed."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune import search, steps, tune
from kfp_tune.cli import main
from kfp_tune.collectors.stdout import DEFAULT_FORMAT_NAME, NAME_RULE, missing_metric_hints, parse_metric_lines, unreadable_additional_names, unreadable_names
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.launchers import LocalLauncher


@pytest.mark.parametrize("name", ["précision", "loss_é", "ß", "损失", "ｌｏｓｓ", "loss٣"])
def test_a_name_with_a_letter_or_digit_outside_ascii_cannot_be_read(name: str):
    assert parse_metric_lines([f"{name}=0.91"], [name]) == [], "as Katib's Go filter"
    assert DEFAULT_FORMAT_NAME.fullmatch(name) is None
    experiment = load_experiment(quadratic_experiment(**{"spec.objective": {"type": "maximize", "objectiveMetricName": name, "additionalMetricNames": [name + "2"]}}))
    assert (unreadable_names(experiment), unreadable_additional_names(experiment)) == ([name], [name + "2"])


def test_ascii_names_stay_readable():
    for name in ("loss", "val_acc", "a-b|c", "Loss9"):
        assert DEFAULT_FORMAT_NAME.fullmatch(name) is not None
        assert [m.name for m in parse_metric_lines([f"{name}=0.5"], [name])] == [name]
    assert NAME_RULE == "ASCII letters, digits, '_', '-' and '|'"


def test_validate_warns_of_it_at_its_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.objective": {"type": "maximize", "objectiveMetricName": "précision"}})), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert ("warning: spec.objective: the metric 'précision' cannot be read with the StdOut collector's default metricsFormat, which "
            "takes names of ASCII letters, digits, '_', '-' and '|' (nor can Katib read it)") in capsys.readouterr().err


def test_the_close_names_of_the_output_are_read_as_katib_reads_them():
    """What Katib's filter takes from ``précision=0.91`` is the name ``cision``: that, not the
    unreadable whole, is the name the output has."""
    assert missing_metric_hints("acc", "précision=0.91 acd=1", every_name=True)[1] == ["acd", "cision"]


def test_a_trial_that_printed_it_is_told_the_name_cannot_be_read(local_store):
    """The message no longer says it reads lines of the form précision=<number>, which is what
    the trial printed, nor suggests the misspelt name 'cision'."""
    script = "print('précision=0.91 val.acc=0.5')"
    experiment = load_experiment(quadratic_experiment(**{
        "spec.objective": {"type": "maximize", "objectiveMetricName": "précision"},
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.command": ["python3", "-c", shlex.quote(script)],  # Katib's shell form joins the words
        "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.args": ["x=${trialParameters.x}", "y=${trialParameters.y}"],
    }))
    records = ExperimentRecords(local_store, experiment.name)
    name = steps.suggest(records, "r0", 1, experiment)[0]
    steps.launch_trial(records, LocalLauncher(), name)
    result = steps.collect_metrics(records, name)
    assert result.status == TrialStatus.METRICS_UNAVAILABLE
    assert result.message == (
        "the trial did not report the objective metric 'précision': the StdOut collector found none in the trial's output; "
        "its default metricsFormat (Katib's default filter) takes names of ASCII letters, digits, '_', '-' and '|', and cannot read "
        "'précision' (nor can Katib): rename it, or give metricsCollectorSpec.source.filter.metricsFormat"
    )


def test_a_function_that_printed_it_is_told_to_return_it(tmp_path: Path):
    def printing(params: dict) -> None:
        print(f"précision={params['x']}")

    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"):
        result = tune(printing, {"x": search.discrete([1, 2, 3])}, objective_metric_name="précision", objective_type="maximize", algorithm="grid", max_trial_count=1, store=str(tmp_path))
    message = result.trials[0].message
    assert "a printed précision=<number> cannot be read: Katib's name=value format takes metric names of ASCII letters" in message
    assert "print(f\"précision={value}\")" not in message
