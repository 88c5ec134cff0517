"""The launcher-to-trial contract: the variables a launcher sets for every trial
(``core.vocabulary.PLACE_VARIABLES``) and the one function that reads them back
(``stores.open_trial_place``), used by the sidecar, the trial's artifact helpers and the local
launcher's collectors; the names are spelled in ``core.vocabulary`` only."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from kfp_tune.core import vocabulary
from kfp_tune.core.vocabulary import PLACE_VARIABLES, S3_ENDPOINT_VARIABLE, STORE_VARIABLE, trial_place_env
from kfp_tune.launchers import launcher_from_config
from kfp_tune.launchers.kubernetes import launcher_env
from kfp_tune.launchers.local import LocalLauncher
from kfp_tune.stores import DEFAULT_LOCAL_STORE, TrialPlaceMissing, open_experiment_records, open_trial_place, store_variable
from kfp_tune.stores.local import LocalStore
from source_scan import literal_uses

LEFT_FOR_LATER: set[str] = set()
"""Modules allowed to read the variables themselves for now (none left)."""


def test_what_a_launcher_sets_opens_the_trials_place(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    launcher = launcher_from_config('{"kind": "local"}', store.uri)
    assert isinstance(launcher, LocalLauncher)
    records, trial = open_trial_place({**launcher.env, **trial_place_env("exp-1", "exp-1-t3")})
    assert (records.experiment, trial) == ("exp-1", "exp-1-t3")
    assert isinstance(records.store, LocalStore) and records.store.root == store.root


def test_the_kubernetes_launchers_env_names_the_store_and_its_endpoint() -> None:
    env = launcher_env("s3://bucket/tuning", "http://minio:9000")
    assert env == {STORE_VARIABLE: "s3://bucket/tuning", S3_ENDPOINT_VARIABLE: "http://minio:9000"}


@pytest.mark.parametrize("unset", [[0], [1, 2], [0, 1, 2]])
def test_the_variables_not_set_are_named_in_the_contracts_order(tmp_path: Path, unset: list[int]) -> None:
    env = {STORE_VARIABLE: str(tmp_path / "never-made"), **trial_place_env("exp-1", "exp-1-t3")}
    for index in unset:
        env[PLACE_VARIABLES[index]] = ""
    with pytest.raises(TrialPlaceMissing) as info:
        open_trial_place(env)
    assert info.value.missing == [PLACE_VARIABLES[i] for i in unset]
    assert str(info.value) == f"{', '.join(PLACE_VARIABLES[i] for i in unset)} not set"
    assert not (tmp_path / "never-made").exists()  # checked before any store is opened


def test_the_experiments_records_are_opened_from_the_launchers_env(tmp_path: Path) -> None:
    records = open_experiment_records({STORE_VARIABLE: str(tmp_path / "store")}, "exp-2")
    assert records.experiment == "exp-2" and records.store.uri == LocalStore(tmp_path / "store").uri


@pytest.mark.parametrize("env", [{STORE_VARIABLE: ""}, {}], ids=["empty", "unset"])
def test_an_empty_store_variable_is_unset_for_every_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """KFP_TUNE_STORE= in a trial's env raised in open_experiment_records (refused as an empty
    store given), where the CLI, the API and open_store take an empty $KFP_TUNE_STORE as unset:
    one rule (stores.store_variable), the default store; the mapping given, not this process's env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(STORE_VARIABLE, str(tmp_path / "from-this-process"))
    assert store_variable(env) is None and store_variable({STORE_VARIABLE: "s3://b/p"}) == "s3://b/p"
    records = open_experiment_records(env, "exp-4")
    assert records.store.uri == LocalStore(tmp_path / DEFAULT_LOCAL_STORE).uri
    assert list(tmp_path.iterdir()) == []


def test_the_variables_names_are_spelled_once() -> None:
    names = {*PLACE_VARIABLES, S3_ENDPOINT_VARIABLE, vocabulary.RUN_TTL_VARIABLE, vocabulary.TRIAL_TTL_VARIABLE}
    here = Path(vocabulary.__file__).relative_to(REPO).as_posix()
    elsewhere = [use for use in literal_uses(names) if not use.startswith((f"{here}:", *(f"{p}:" for p in LEFT_FOR_LATER)))]
    assert not elsewhere, f"use the names in core/vocabulary.py: {elsewhere}"


def test_the_endpoint_in_the_launchers_env_is_the_one_the_store_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mapping given, not this process's environment, names the endpoint (a launcher opens
    a trial's place from the env it gives the trial)."""
    monkeypatch.setenv(S3_ENDPOINT_VARIABLE, "http://elsewhere.invalid:9000")
    records = open_experiment_records({STORE_VARIABLE: "s3://bucket/tuning", S3_ENDPOINT_VARIABLE: "http://127.0.0.1:9"}, "exp-3")
    assert records.store.inner.endpoint_url == "http://127.0.0.1:9"  # type: ignore[attr-defined]  # RetryingStore(S3Store); nothing is sent
