"""Search space values, DNS-safe names, template substitution and the StdOut collector."""

from __future__ import annotations

import re

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kfp_tune.collectors.stdout import parse_metric_lines
from kfp_tune.core.naming import MAX_TRIAL_NAME, dns_label, trial_name
from kfp_tune.core.observation import MetricLog, Observation
from kfp_tune.core.space import Parameter
from kfp_tune.core.template import placeholders_in, resolve_meta_reference, substitute

DNS_1123 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


# --- space -------------------------------------------------------------------------------------

def test_stepped_double_prints_without_float_noise():
    p = Parameter("m", "double", 0.1, 0.9, step=0.1, decimals=1)
    assert [p.format(v) for v in p.grid()] == ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"]
    assert p.parse("0.3") == 0.3 and p.contains(0.3) and not p.contains(0.35)


def test_int_and_choice_parsing_refuses_what_is_not_theirs():
    k = Parameter("k", "int", 1, 5)
    assert k.parse("3") == 3 and k.format(3) == "3"
    for bad in ("3.5", "x", "nan"):
        try:
            k.parse(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} parsed as an int")
    c = Parameter("c", "categorical", choices=("a", "b"))
    assert c.parse("a") == "a" and not c.contains("z")


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.floats(min_value=1e-3, max_value=1e6))
def test_unstepped_double_round_trips_exactly(low, width):
    p = Parameter("x", "double", low, low + width)
    value = low + width / 3
    assert p.parse(p.format(value)) == value


# --- names -------------------------------------------------------------------------------------

@given(st.text(min_size=0, max_size=200))
@settings(max_examples=300)
def test_dns_label_is_always_valid_and_deterministic(text):
    label = dns_label(text)
    assert DNS_1123.match(label) and len(label) <= 63
    assert dns_label(text) == label


@given(st.text(min_size=1, max_size=200), st.text(min_size=1, max_size=200))
@settings(max_examples=300)
def test_different_names_never_collide(a, b):
    if a != b:
        assert dns_label(a) != dns_label(b)


@given(st.text(min_size=1, max_size=200), st.integers(min_value=0, max_value=10**6))
@settings(max_examples=200)
def test_trial_names_fit_operator_pod_names(experiment, index):
    name = trial_name(experiment, "uid123", index)
    assert DNS_1123.match(name) and len(name) <= MAX_TRIAL_NAME
    assert name == trial_name(experiment, "uid123", index)
    assert name != trial_name(experiment, "uid123", index + 1)
    assert name != trial_name(experiment, "other-uid", index)


def test_hostile_experiment_names():
    for hostile in ("MyExperiment", "under_score", "9lives", "x" * 200, "🚀 rocket", "-dash-", ""):
        assert DNS_1123.match(dns_label(hostile)), hostile


# --- templates ---------------------------------------------------------------------------------

HOSTILE_VALUES = ['a"\nserviceAccountName: admin', "x: y", "$(rm -rf /)", "no", "off", "1e3", "0x1A", "~", "#c", "héllo ✓", "{a: 1}"]


def test_substitution_keeps_values_as_exact_strings_and_adds_no_field():
    template = {
        "spec": {
            "containers": [
                {"name": "main", "command": ["python3", "train.py", "--v=${trialParameters.v}"], "args": ["${trialParameters.v}"],
                 "env": [{"name": "V", "value": "${trialParameters.v}"}]}
            ]
        }
    }
    for value in HOSTILE_VALUES:
        out = substitute(template, {"v": value})
        container = out["spec"]["containers"][0]
        assert container["args"] == [value]
        assert container["command"][2] == f"--v={value}"
        assert container["env"][0]["value"] == value
        assert set(container) == {"name", "command", "args", "env"}
        # and it survives a YAML round trip unchanged (what a Kubernetes launcher would send)
        assert yaml.safe_load(yaml.safe_dump(out)) == out


def test_substitution_does_not_recurse_into_values():
    out = substitute({"a": "${trialParameters.x}"}, {"x": "${trialParameters.y}", "y": "boom"})
    assert out == {"a": "${trialParameters.y}"}


def test_non_string_leaves_are_kept():
    out = substitute({"replicas": 2, "flag": True, "none": None, "s": "${trialParameters.x}"}, {"x": "1"})
    assert out == {"replicas": 2, "flag": True, "none": None, "s": "1"}


def test_placeholders_and_meta_references():
    assert placeholders_in({"a": ["--x=${trialParameters.x}", "${trialParameters.y}${trialParameters.x}"]}) == {"x", "y"}
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t1", "namespace": "ns", "labels": {"k": "v"}, "annotations": {"a": "b"}}}
    assert resolve_meta_reference("${trialSpec.Name}", manifest) == "t1"
    assert resolve_meta_reference("${trialSpec.Namespace}", manifest) == "ns"
    assert resolve_meta_reference("${trialSpec.Kind}", manifest) == "Job"
    assert resolve_meta_reference("${trialSpec.APIVersion}", manifest) == "batch/v1"
    assert resolve_meta_reference("${trialSpec.Labels[k]}", manifest) == "v"
    assert resolve_meta_reference("${trialSpec.Annotations[a]}", manifest) == "b"


# --- StdOut collector --------------------------------------------------------------------------

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
    logs = parse_metric_lines(["loss=nan", "loss=inf", "loss=1e309", "loss=", "loss=abc", "loss=0.5"], ["loss"])
    assert [(m.name, m.value) for m in logs] == [("loss", 0.5)]


def test_custom_metrics_format_from_katibs_file_example():
    fmt = r"{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}"
    logs = parse_metric_lines(["{metricName: accuracy, metricValue: 0.9123}", "{metricName: loss, metricValue: -1.5}"], ["accuracy", "loss"], [fmt])
    assert [(m.name, m.value) for m in logs] == [("accuracy", 0.9123), ("loss", -1.5)]


def test_observation_strategies():
    obs = Observation.from_logs([MetricLog("loss", v) for v in (0.5, 0.2, 0.4)] + [MetricLog("acc", 0.7)], ["loss", "acc"])
    assert obs.values({"loss": "min", "acc": "max"}) == {"loss": 0.2, "acc": 0.7}
    assert obs.values({"loss": "max"})["loss"] == 0.5
    assert obs.values({"loss": "latest"})["loss"] == 0.4
    assert Observation.from_dict(obs.to_dict()) == obs
