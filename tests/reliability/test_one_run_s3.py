"""One run at a time on S3: the claim is an atomic create (``If-None-Match: *``) on a real
SeaweedFS server, raced by processes released at the same instant, as pipeline pods would."""

from __future__ import annotations

import multiprocessing
import uuid
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from kfp_tune.core import claims
from kfp_tune.core.records import ExperimentRecords

pytestmark = pytest.mark.s3

RUNS = 6


def _claim_after_barrier(args: tuple[dict[str, str], str, str, str, Any]) -> str:
    """In a fresh process: its own S3 client, wait until every racer is ready, then claim."""
    from kfp_tune.stores.s3 import S3Settings, S3Store

    env, bucket, prefix, run_id, barrier = args
    store = S3Store(bucket, prefix, S3Settings.from_env(env))
    records = ExperimentRecords(store, "race")
    barrier.wait(timeout=60)
    try:
        claims.claim(records, run_id)
        return "won"
    except Exception as exc:
        return type(exc).__name__


def test_runs_racing_for_an_experiment_on_s3_one_wins(seaweed, s3_bucket):
    env = seaweed.env()
    with multiprocessing.Manager() as manager, ProcessPoolExecutor(RUNS) as pool:
        for attempt in range(5):
            barrier = manager.Barrier(RUNS)
            prefix = f"race-{attempt}-{uuid.uuid4().hex[:8]}"
            outcomes = list(pool.map(_claim_after_barrier, [(env, s3_bucket, prefix, f"run-{i}", barrier) for i in range(RUNS)]))
            assert outcomes.count("won") == 1, outcomes
            assert set(outcomes) == {"won", "ExperimentBusy"}, outcomes
            from kfp_tune.stores.s3 import S3Settings, S3Store

            records = ExperimentRecords(S3Store(s3_bucket, prefix, S3Settings.from_env(env)), "race")
            winner = claims.latest_claim(records)
            assert winner is not None and winner.seq == 1, "the losers created no claim of their own"
            assert f"run-{outcomes.index('won')}" == winner.run
