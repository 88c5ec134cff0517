"""A vocabulary value is written where it is defined, and imported everywhere else: two copies
drift apart (a setting's name in one message and not in another, two default stores)."""

from __future__ import annotations

import pytest

from kfp_tune.core.checkpoints import TRIAL_DIR_SETTING
from kfp_tune.core.vocabulary import DEBUG_VARIABLE, STORE_RETRY_VARIABLE, ExperimentPhase
from kfp_tune.stores import DEFAULT_CLUSTER_STORE
from source_scan import literal_uses

SPELLED_ONCE = {
    TRIAL_DIR_SETTING: "src/kfp_tune/core/checkpoints.py",
    DEFAULT_CLUSTER_STORE: "src/kfp_tune/stores/__init__.py",
    STORE_RETRY_VARIABLE: "src/kfp_tune/core/vocabulary.py",
    DEBUG_VARIABLE: "src/kfp_tune/core/vocabulary.py",
    ExperimentPhase.RESTARTING.value: "src/kfp_tune/core/vocabulary.py",
}
"""Value -> the one module that spells it."""


@pytest.mark.parametrize(("value", "home"), SPELLED_ONCE.items(), ids=list(SPELLED_ONCE))
def test_a_value_is_spelled_in_its_own_module_only(value: str, home: str) -> None:
    elsewhere = [use for use in literal_uses({value}) if not use.startswith(f"{home}:")]
    assert not elsewhere, f"{value!r} is defined in {home}: import it from there, not {elsewhere}"
    assert any(use.startswith(f"{home}:") for use in literal_uses({value})), f"{home} no longer defines {value!r}"


def test_the_pipelines_default_store_is_the_stores_one() -> None:
    from kfp_tune.pipelines import builder

    assert builder.DEFAULT_CLUSTER_STORE is DEFAULT_CLUSTER_STORE


def test_one_function_for_each_job() -> None:
    """What a collector stored while the trial ran is read by one function (PrometheusMetric's
    whole result, File's and TensorFlowEvent's when no file was kept); Katib's JSON form of a
    NAS value is written by one function (enas's and darts' trial values)."""
    from kfp_tune import collectors
    from kfp_tune.algorithms import darts, nas_space
    from kfp_tune.collectors.files import collect_stored
    from kfp_tune.core.vocabulary import CollectorKind

    assert collectors.COLLECTORS[CollectorKind.PROMETHEUS_METRIC] is collectors.collect_prometheus is collect_stored
    assert darts.katib_json is nas_space.katib_json
