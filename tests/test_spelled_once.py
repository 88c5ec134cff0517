"""A vocabulary value is written where it is defined, and imported everywhere else: two copies
drift apart (a setting's name in one message and not in another, two default stores)."""

from __future__ import annotations

import pytest

from kfp_tune.core.checkpoints import TRIAL_DIR_SETTING
from kfp_tune.stores import DEFAULT_CLUSTER_STORE
from source_scan import literal_uses

SPELLED_ONCE = {
    TRIAL_DIR_SETTING: "src/kfp_tune/core/checkpoints.py",
    DEFAULT_CLUSTER_STORE: "src/kfp_tune/stores/__init__.py",
}
"""Value -> the one module that spells it."""


@pytest.mark.parametrize(("value", "home"), SPELLED_ONCE.items(), ids=list(SPELLED_ONCE))
def test_a_value_is_spelled_in_its_own_module_only(value: str, home: str) -> None:
    elsewhere = [use for use in literal_uses({value}) if not use.startswith(f"{home}:")]
    assert not elsewhere, f"{value!r} is defined in {home}: import it from there, not {elsewhere}"
    assert any(use.startswith(f"{home}:") for use in literal_uses({value})), f"{home} no longer defines {value!r}"


def test_the_pipelines_default_store_is_the_stores_one() -> None:
    from kfp_tune import remote
    from kfp_tune.pipelines import builder

    assert remote.DEFAULT_CLUSTER_STORE is builder.DEFAULT_CLUSTER_STORE is DEFAULT_CLUSTER_STORE
