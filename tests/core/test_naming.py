"""DNS-safe names for experiments, trials and resources."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kfp_tune.core.naming import MAX_TRIAL_NAME, dns_label, trial_name

DNS_1123 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


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


def test_a_dns_subdomain_is_a_string_of_at_most_253_characters():
    from kfp_tune.core.naming import is_dns_subdomain, namespace_problem

    assert not is_dns_subdomain(None) and not is_dns_subdomain(5)
    assert is_dns_subdomain("a" * 253) and not is_dns_subdomain("a" * 254)
    assert is_dns_subdomain("my-sa.team-a") and not is_dns_subdomain("My_SA")
    problem = namespace_problem(5)
    assert problem is not None and problem.startswith("expected a Kubernetes namespace") and problem.endswith("got 5")
