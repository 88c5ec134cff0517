"""Names and labels kfp-tune gives what it creates (``kfp_tune.core.naming``), at their limits.

Kubernetes refuses a name longer than a DNS label (63 characters) and a label value that does not
start and end with a letter or digit; a user reads the names, so the readable part is kept."""

from __future__ import annotations

import re

import pytest

from kfp_tune.core.naming import MAX_TRIAL_NAME, SUFFIX_LENGTH, dns_label, labels_for, per_run_experiment_name, trial_name

DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
KUBERNETES_MAX = 63  # Kubernetes' limit for a DNS label and a label value


def test_a_valid_name_of_the_longest_length_is_kept_as_it_is() -> None:
    name = "a" * KUBERNETES_MAX
    assert dns_label(name) == name


def test_a_name_one_too_long_is_shortened_to_fit() -> None:
    label = dns_label("a" * (KUBERNETES_MAX + 1))
    assert len(label) <= KUBERNETES_MAX and DNS_LABEL.fullmatch(label)
    assert label.startswith("a" * 40)


@pytest.mark.parametrize(
    ("text", "readable"),
    [("--Train  Run--", "train-run-"), ("My_Experiment", "my-experiment-"), ("2024-sweep", "x-2024-sweep-"), ("a...b", "a-b-"), ("Train-_-Run", "train-run-")],
)
def test_a_changed_name_keeps_its_readable_part_with_single_dashes(text: str, readable: str) -> None:
    label = dns_label(text)
    assert DNS_LABEL.fullmatch(label)
    assert label.startswith(readable)
    assert "--" not in label


def test_a_cut_never_leaves_a_dash_before_the_hash() -> None:
    """Cut where a dash falls: the name must not show ``--`` before its hash."""
    for cut in range(1, 30):
        text = "b" * cut + "-" + "c" * 80
        for limit in range(max(cut + 4, 16), cut + 12):
            label = dns_label(text, limit)
            assert len(label) <= limit and DNS_LABEL.fullmatch(label), (text, limit, label)
            assert "--" not in label, (text, limit, label)


def test_per_run_experiment_names_fit_a_dns_label() -> None:
    name = per_run_experiment_name("e" * 100, "run-1234")
    assert len(name) <= KUBERNETES_MAX and DNS_LABEL.fullmatch(name)
    assert name == per_run_experiment_name("e" * 100, "run-1234")
    assert name != per_run_experiment_name("e" * 100, "run-1235")


def test_trial_names_of_long_experiments_fit() -> None:
    name = trial_name("e" * 100, "uid-1", 3)
    assert len(name) <= MAX_TRIAL_NAME and DNS_LABEL.fullmatch(name)
    assert name.startswith("e" * 20)


def test_labels_name_the_experiment_trial_and_round() -> None:
    labels = labels_for("exp", "exp-abc", "round-1")
    assert set(labels.values()) >= {"exp", "exp-abc", "round-1"}
    without = labels_for("exp", "exp-abc")
    assert "round-1" not in without.values()
    assert len(without) == len(labels) - 1


@pytest.mark.parametrize(
    "round_id",
    ["r" * 70, "-" * 5 + "r" * 58, "x" * 10 + "." + "r" * 62, "x" * 7 + "_-." + "r" * 60, "r1"],
)
def test_a_round_label_is_a_valid_label_value_from_the_rounds_end(round_id: str) -> None:
    labels = labels_for("exp", "exp-abc", round_id)
    values = [v for v in labels.values() if v not in ("exp", "exp-abc")]
    round_value = [v for v in values if round_id.endswith(v) and v]
    assert len(round_value) == 1, labels
    value = round_value[0]
    assert len(value) <= KUBERNETES_MAX and LABEL_VALUE.fullmatch(value), value
    longest = next(round_id[i:] for i in range(len(round_id)) if len(round_id) - i <= KUBERNETES_MAX and LABEL_VALUE.fullmatch(round_id[i:]))
    assert value == longest, "the longest end of the round id that is a valid label value"


def test_an_experiment_name_that_fits_is_kept_whole_in_its_trial_names() -> None:
    """Katib's shape, ``<experiment>-<suffix>``: the longest experiment name that fits beside the
    suffix within MAX_TRIAL_NAME is not cut or hashed."""
    experiment = "e" * (MAX_TRIAL_NAME - SUFFIX_LENGTH - 1)
    name = trial_name(experiment, "uid-1", 0)
    assert name.startswith(experiment + "-") and len(name) == MAX_TRIAL_NAME
