"""An S3 server that ignores ``If-None-Match: *`` (MinIO before RELEASE.2024-05-07, the one KFP
before 2.16 bundles) lets every create overwrite: two runs racing for an experiment would both
claim it and nothing said so. The store now learns it at its first create (a probe object
created twice) and warns once, naming the endpoint, what is lost and what to do; the run goes
on. On a server that honours the header (SeaweedFS itself) the probe says nothing."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from no_conditional_writes import NoConditionalWrites

from kfp_tune.stores import s3
from kfp_tune.stores.s3 import PROBE_KEY, S3Settings, S3Store

pytestmark = pytest.mark.s3

WARNING = "ignores conditional writes"


@pytest.fixture(autouse=True)
def _fresh_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test probes anew, as a new process would."""
    monkeypatch.setattr(s3, "_probed", {})


@pytest.fixture
def ignoring(seaweed) -> Iterator[NoConditionalWrites]:
    proxy = NoConditionalWrites(seaweed.endpoint, seaweed.access_key, seaweed.secret_key)
    yield proxy
    proxy.close()


def _store(endpoint: str, seaweed, bucket: str, prefix: str = "team") -> S3Store:
    return S3Store(bucket, prefix, S3Settings.from_env({**seaweed.env(), "KFP_TUNE_S3_ENDPOINT": endpoint}))


def test_a_server_that_ignores_conditional_writes_is_named_once_and_the_store_still_works(ignoring, seaweed, s3_bucket, caplog):
    caplog.set_level(logging.WARNING, logger="kfp_tune.stores.s3")
    store = _store(ignoring.endpoint, seaweed, s3_bucket)
    assert store.create("runs/1.json", b"first") is True
    warnings = [r.getMessage() for r in caplog.records if WARNING in r.getMessage()]
    assert len(warnings) == 1, caplog.text
    said = warnings[0]
    assert f"the S3 server at {ignoring.endpoint} (bucket {s3_bucket!r}) ignores conditional writes" in said
    assert "cannot stop two runs of one experiment started at the same moment from both claiming it" in said
    assert "start one run of an experiment at a time" in said and "RELEASE.2024-05-07T06-41-25Z" in said
    assert "Upgrade MinIO, move to KFP 2.16 or later (SeaweedFS)" in said
    assert seaweed.secret_key not in said and seaweed.access_key not in said

    # what it warned about: through this server a create overwrites
    assert store.create("runs/1.json", b"second") is True and store.get("runs/1.json") == b"second"
    other = _store(ignoring.endpoint, seaweed, s3_bucket, "elsewhere")
    assert other.create("k.json", b"x") is True
    assert len([r for r in caplog.records if WARNING in r.getMessage()]) == 1, "told once per process, endpoint and bucket"
    assert ignoring.puts_of(PROBE_KEY) == 2, "probed once: created, then created again"
    assert store.list("") == ["runs/1.json"], "the probe object is never listed"


def test_on_a_server_that_honours_them_the_probe_says_nothing_and_costs_one_request_once_there(seaweed, s3_bucket, caplog):
    caplog.set_level(logging.DEBUG, logger="kfp_tune.stores.s3")
    counting = NoConditionalWrites(seaweed.endpoint, seaweed.access_key, seaweed.secret_key, drop=False)
    try:
        store = _store(counting.endpoint, seaweed, s3_bucket)
        assert store.create("runs/1.json", b"first") is True
        assert store.create("runs/1.json", b"second") is False and store.get("runs/1.json") == b"first"
        assert counting.puts_of(PROBE_KEY) == 2, "the first probe: created, then refused"
        s3._probed.clear()  # as the next process (the next pipeline step) finds it
        assert store.create("runs/2.json", b"x") is True
        assert counting.puts_of(PROBE_KEY) == 3, "a later probe: one refused request"
    finally:
        counting.close()
    assert caplog.records == [], caplog.text
    assert store.list("") == ["runs/1.json", "runs/2.json"]
    assert S3Store(s3_bucket, "", S3Settings.from_env(seaweed.env())).list("team/") == ["team/runs/1.json", "team/runs/2.json"]


def test_a_run_on_a_server_that_ignores_conditional_writes_completes(ignoring, seaweed, s3_bucket, monkeypatch, caplog):
    from conftest import quadratic_experiment
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.inline_runner import run_inline
    from kfp_tune.launchers.local import LocalLauncher
    from kfp_tune.stores import open_store

    caplog.set_level(logging.WARNING, logger="kfp_tune.stores.s3")
    for name, value in {**seaweed.env(), "KFP_TUNE_S3_ENDPOINT": ignoring.endpoint}.items():
        monkeypatch.setenv(name, value)
    doc = quadratic_experiment(metadata={"name": f"quad-{uuid.uuid4().hex[:6]}"})
    doc["spec"]["maxTrialCount"] = 3
    experiment = load_experiment(doc)
    decision = run_inline(open_store(f"s3://{s3_bucket}/runs"), experiment, LocalLauncher())
    assert decision.finished and decision.reason == "ExperimentMaxTrialsReached", decision
    assert len([r for r in caplog.records if WARNING in r.getMessage()]) == 1, caplog.text
