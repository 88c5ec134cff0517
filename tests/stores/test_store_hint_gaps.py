"""Store messages a mutation pass found unchecked: the outage warning after a second signal cut
the retry window gives what is left of the cut window, not the whole one; and keys that are
set but refused are not said to be missing because an AWS profile is also set."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from faults import FailsFirst
from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores import retry
from kfp_tune.stores.retry import RetryingStore
from kfp_tune.stores.s3 import S3Settings
from refusing_s3 import refusing_store


def test_the_outage_warning_after_a_cut_window_gives_the_cut_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(retry, "random", random.Random(5))
    store = RetryingStore(FailsFirst(tmp_path, failures=1), deadline=3600, sleep=lambda seconds: None)
    store.cut_window(1)
    with caplog.at_level(logging.WARNING, logger=retry.__name__):
        store.get("exp/a.json")
    stopped = [r.getMessage() for r in caplog.records if r.name == retry.__name__ and "stopped answering" in r.getMessage()]
    assert len(stopped) == 1 and "for at most 1 s" in stopped[0], stopped


def test_keys_set_but_refused_with_a_profile_set_are_not_said_to_be_missing(tmp_path: Path) -> None:
    settings = S3Settings.from_env({
        "KFP_TUNE_S3_ENDPOINT": "http://127.0.0.1:9", "HOME": str(tmp_path), "AWS_PROFILE": "teama",
        "AWS_ACCESS_KEY_ID": "TEAMAKEY", "AWS_SECRET_ACCESS_KEY": "secret-never-shown",
    })
    with pytest.raises(StoreInputError) as info:
        refusing_store("SignatureDoesNotMatch", settings, bucket="shared").get("k")
    assert "no credentials were given" not in str(info.value)
    assert "the server refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in str(info.value)
