"""Two ``kfp-tune run``s of one experiment under the kfp-local engine, started together (two CI
jobs; QA automation, session 37, finding 2): both passed the pre-flight, as no claim existed yet
(the pipeline's first step claims it, some 30 s later), the second showed the first's trials as
its own progress, and was refused only when its pipeline's suggest step met the first's claim.
The CLI now claims the experiment before it starts the pipeline, whose first step takes that
claim over (the run's own, under its KFP_TUNE_RUN_OWNER): the second run is refused at once,
before it starts anything, as the inline engine refuses it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

import kfp_tune.cli
from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core import claims
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.pipelines import local_run
from kfp_tune.stores.local import LocalStore


@pytest.fixture
def experiment_file(tmp_path: Path) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})))
    return str(path)


def test_a_second_run_started_while_the_first_starts_its_pipeline_is_refused_at_once(tmp_path, experiment_file, capsys, monkeypatch):
    store = LocalStore(tmp_path / "store")
    starting, go_on = threading.Event(), threading.Event()
    children: list[dict[str, Any]] = []

    def child(experiment: Any, store_uri: str, launcher_config: Any, rounds: Any, take_over: bool, *args: Any, **kwargs: Any) -> None:
        children.append({"take_over": take_over})
        if starting.is_set():  # the second run's pipeline (the old code started it): nothing to hold
            return
        starting.set()  # the first run's pipeline starts: kfp.local, some 30 s before its first step claims
        assert go_on.wait(30)

    monkeypatch.setattr(local_run, "local_pipeline", lambda *args, **kwargs: None)
    monkeypatch.setattr(local_run, "run_in_child", child)
    monkeypatch.setattr(kfp_tune.cli, "_open_store", lambda uri, look=False: store)
    first_code: list[int] = []
    first = threading.Thread(target=lambda: first_code.append(main(["run", experiment_file, "--engine", "kfp-local", "--json"])))
    first.start()
    try:
        assert starting.wait(30)
        second = main(["run", experiment_file, "--engine", "kfp-local", "--json"])
    finally:
        go_on.set()
        first.join(30)

    err = capsys.readouterr().err
    assert second == 1
    assert "experiment 'quad' is being run by run" in err
    assert len(children) == 1, "the second run started a pipeline"
    assert children[0]["take_over"] is True  # its first step takes over the CLI's claim


def test_the_pipelines_first_step_continues_the_claim_and_the_claim_is_released_if_it_never_came(tmp_path, experiment_file, capsys, monkeypatch):
    """A pipeline that failed before its first step claimed (kfp.local did not start) leaves the
    experiment free at once, not held by the CLI's claim."""
    store = LocalStore(tmp_path / "store")

    def child_fails_at_start(*args: Any, **kwargs: Any) -> None:
        raise kfp_tune.core.errors.KfpTuneError("the kfp.local pipeline run failed in step suggest: boom")

    monkeypatch.setattr(local_run, "local_pipeline", lambda *args, **kwargs: None)
    monkeypatch.setattr(local_run, "run_in_child", child_fails_at_start)
    monkeypatch.setattr(kfp_tune.cli, "_open_store", lambda uri, look=False: store)

    assert main(["run", experiment_file, "--engine", "kfp-local"]) == 1

    current = claims.latest_claim(ExperimentRecords(store, "quad"))
    assert current is not None and current.ended
