"""A store that refuses a run's credentials after the run started (a key revoked or rotated
mid-run, as three teams sharing one SeaweedFS bucket met): a runtime failure, exit 1 with what
resumes the run and what frees its claim from another machine, as an outage's error says. The
same refusal at the first store access is the user's settings: exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import kfp_tune.cli
from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores.local import LocalStore

SECRET = "teamAsecretVALUE0001"
REFUSAL = ("S3 write of s3://shared/teamA/{key} at http://127.0.0.1:18333 failed: InvalidAccessKeyId (the server refused the "
           "credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (in a pipeline, the store Secret))")


class RevokedStore(LocalStore):
    """A store whose server refuses every request once ``revoked`` is set: from the start, or
    once the first trial has started."""

    def __init__(self, root: Path, revoked: bool) -> None:
        super().__init__(root)
        self.revoked = revoked

    def _check(self, key: str) -> None:
        if self.revoked:
            raise StoreInputError(REFUSAL.format(key=key))

    def get(self, key: str) -> bytes | None:
        self._check(key)
        return super().get(key)

    def put(self, key: str, data: bytes) -> None:
        self._check(key)
        super().put(key, data)
        self._written(key)

    def create(self, key: str, data: bytes) -> bool:
        self._check(key)
        created = super().create(key, data)
        self._written(key)
        return created

    def _written(self, key: str) -> None:
        self.revoked = self.revoked or key.endswith("/started.json")  # the key is revoked as the first trial runs

    def list(self, prefix: str) -> list[str]:
        self._check(prefix)
        return super().list(prefix)

    def delete(self, keys) -> None:
        self._check(keys[0] if keys else "")
        super().delete(keys)


def run_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: RevokedStore) -> int:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 1})))
    monkeypatch.setattr(kfp_tune.cli, "_open_store", lambda uri, look=False: store)
    return main(["run", str(path), "--engine", "inline", "--store", "s3://shared/teamA"])


def test_credentials_refused_after_the_run_started_are_a_runtime_failure_that_says_how_to_resume(tmp_path, monkeypatch, capsys):
    assert run_on(tmp_path, monkeypatch, RevokedStore(tmp_path / "store", revoked=False)) == 1
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: S3 ") and "failed: InvalidAccessKeyId (the server refused the credentials" in last, err
    assert last.endswith(
        "; the store refused this run after it had started (its credentials revoked or replaced, or what they may do changed): "
        "once it accepts them, run the same command again (a run resumes where it stopped); from another machine, add --take-over, "
        "as the claim this run could not release holds the experiment until 15 minutes after its last beat"
    ), last
    assert SECRET not in err


def test_credentials_refused_at_the_first_store_access_stay_the_users_settings_exit_2(tmp_path, monkeypatch, capsys):
    assert run_on(tmp_path, monkeypatch, RevokedStore(tmp_path / "store", revoked=True)) == 2
    err = capsys.readouterr().err
    assert "failed: InvalidAccessKeyId (the server refused the credentials" in err and "after it had started" not in err


class ReadOnlyStore(LocalStore):
    """A store whose key may read but not write (a read-only policy), from the start."""

    def put(self, key: str, data: bytes) -> None:
        raise StoreInputError(DENIED.format(key=key))

    def create(self, key: str, data: bytes) -> bool:
        raise StoreInputError(DENIED.format(key=key))

    def delete(self, keys) -> None:
        raise StoreInputError(DENIED.format(key=keys[0] if keys else ""))


DENIED = "S3 write of s3://shared/teamA/{key} failed: AccessDenied (check what the bucket's policy grants them on 'shared')"


def test_a_read_only_key_refused_the_runs_claim_on_an_existing_experiment_is_the_users_settings_exit_2(tmp_path, monkeypatch, capsys):
    """The pre-flight only read (the experiment was there): the refused write was the claim
    itself, so nothing started and no claim holds the experiment, for --take-over or its TTL."""
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.steps import prepare

    experiment = quadratic_experiment(**{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 1})
    prepare(ExperimentRecords(LocalStore(tmp_path / "store"), "quad"), load_experiment(experiment))
    assert run_on(tmp_path, monkeypatch, ReadOnlyStore(tmp_path / "store")) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == "error: " + DENIED.format(key="experiments/quad/runs/000001.json"), err
    assert "--take-over" not in err and "after it had started" not in err


def test_an_outage_that_ends_in_a_refusal_says_the_store_answers_again(tmp_path, caplog):
    """A server restarted with the key rotated: "the store stopped answering" while it was
    down, then a refusal, which is an answer: the outage's end is said, not left open."""
    import logging

    from kfp_tune.core.errors import StoreError
    from kfp_tune.stores import retry
    from kfp_tune.stores.retry import RetryingStore

    class RestartedRotated(LocalStore):
        down = 2

        def get(self, key: str) -> bytes | None:
            if self.down:
                self.down -= 1
                raise StoreError(f"S3 read of {key} failed: connection refused", transient=True)
            raise StoreInputError(REFUSAL.format(key=key))

    store = RetryingStore(RestartedRotated(tmp_path), deadline=300, sleep=lambda seconds: None)
    with caplog.at_level(logging.WARNING, logger=retry.__name__), pytest.raises(StoreInputError):
        store.get("experiments/quad/experiment.json")
    said = [r.getMessage() for r in caplog.records if r.name == retry.__name__ and r.levelno == logging.WARNING]
    assert [line.split(":")[0] for line in said] == ["the store stopped answering", "the store answers again after 0 s, refusing"], said
    assert said[1].endswith("read of experiments/quad/experiment.json failed: " + REFUSAL.format(key="experiments/quad/experiment.json")), said


def test_a_kfp_local_steps_store_refusal_is_said_as_the_inline_engines_with_no_class_name(tmp_path, monkeypatch, capsys):
    """Under --engine kfp-local the refusal ended a child step ("the kfp.local pipeline run failed
    in step launch-trial: StoreInputError: ..."), with none of the hints."""
    import kfp_tune.pipelines.local_run as local_run
    from kfp_tune.core import claims
    from kfp_tune.core.records import ExperimentRecords

    store = LocalStore(tmp_path / "store")
    log = tmp_path / "kfp-local.log"
    log.write_text(
        "08:00:00.000 - INFO - Executing task 'launch-trial'\n"
        f"    kfp_tune.core.errors.StoreInputError: {REFUSAL.format(key='experiments/quad/trials/quad-1/logs/main.log')}\n"
        "08:00:01.000 - ERROR - Task 'launch-trial' finished with status FAILURE\n"
    )

    def child_claimed_then_was_refused(experiment, *args, **kwargs) -> None:
        # the child's first step, for this process (KFP_TUNE_RUN_OWNER), takes over the CLI's own claim
        claims.claim(ExperimentRecords(store, experiment.name), "quad-run-1", take_over=args[3])
        raise local_run.kfp_local_error(log)

    monkeypatch.setattr(local_run, "local_pipeline", lambda *args, **kwargs: None)
    monkeypatch.setattr(local_run, "run_in_child", child_claimed_then_was_refused)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 1})))
    monkeypatch.setattr(kfp_tune.cli, "_open_store", lambda uri, look=False: store)
    assert main(["run", str(path), "--engine", "kfp-local", "--store", "s3://shared/teamA"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (
        "error: " + REFUSAL.format(key="experiments/quad/trials/quad-1/logs/main.log") + f" (in step launch-trial; kfp.local's log: {log})"
        "; the store refused this run after it had started (its credentials revoked or replaced, or what they may do changed): "
        "once it accepts them, run the same command again (a run resumes where it stopped); from another machine, add --take-over, "
        "as the claim this run could not release holds the experiment until 15 minutes after its last beat"
    ), last
