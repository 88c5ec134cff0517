"""kfp_tune.submit / schedule with a ready pipeline (the component-trial pipeline, the tuning step
inside a pipeline of one's own, a compiled package), through the real kfp.Client against the
fake KFP API server (tests/support/fake_kfp.py): what is sent."""

# No `from __future__ import annotations`: KFP reads the annotations of the components defined here.

from typing import Any

import pytest
from kfp import compiler, dsl

import kfp_tune
from conftest import quadratic_experiment
from kfp_tune.core.errors import SpecError
from kfp_tune.pipelines import component_trials, tuning_step


@dsl.component
def quad(x: float, y: float) -> float:
    return (x - 0.3) ** 2 + (y - 0.6) ** 2


def _spec(body: dict[str, Any]) -> dict[str, Any]:
    return body["pipeline_spec"]["pipeline_spec"]


def test_submit_sends_the_component_trial_pipeline_as_it_was_built(fake_kfp_host):
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1000})
    pipeline = component_trials(doc, quad, store_uri="s3://team/tuning")
    submitted = kfp_tune.submit(pipeline, host=fake_kfp_host.url, arguments={"store_secret": "team-creds"}, service_account="tuner")
    run = fake_kfp_host.runs[submitted.id]
    assert run["display_name"] == "kfp-tune-component-quad-run" and run["service_account"] == "tuner"
    assert run["runtime_config"]["parameters"] == {"store_secret": "team-creds"}
    spec = _spec(run)
    assert spec["pipelineInfo"]["name"] == "kfp-tune-component-quad"
    assert spec["root"]["inputDefinitions"]["parameters"]["store_uri"]["defaultValue"] == "s3://team/tuning"
    assert "comp-quad" in spec["components"]  # the user's component travels in the pipeline
    assert [e["display_name"] for e in fake_kfp_host.experiments.values()] == ["kfp-tune-component-quad"]


def test_schedule_a_pipeline_of_one_s_own_around_the_tuning_step(fake_kfp_host):
    step = tuning_step(quadratic_experiment(), rounds=1, with_dataset=False)

    @dsl.pipeline(name="nightly-quad")
    def nightly(experiment_name: str = "quad") -> float:
        return step(experiment_name=experiment_name).outputs["best_objective"]

    with pytest.raises(SpecError, match="fresh_experiment: not a parameter of this pipeline"):
        kfp_tune.schedule(nightly, "0 0 2 * * *", host=fake_kfp_host.url, fresh_experiment=True)
    assert fake_kfp_host.requests == []
    scheduled = kfp_tune.schedule(nightly, "0 0 2 * * *", host=fake_kfp_host.url, arguments={"experiment_name": "quad-nightly"})
    sent = fake_kfp_host.recurring_runs[scheduled.id]
    assert sent["trigger"] == {"cron_schedule": {"cron": "0 0 2 * * *"}} and sent["display_name"] == "nightly-quad-scheduled"
    assert sent["runtime_config"]["parameters"] == {"experiment_name": "quad-nightly"}
    assert "comp-kfp-tune-step-quad" in _spec(sent)["components"]


def test_a_tuning_step_given_a_folder_store_inside_ones_own_pipeline_is_refused_before_anything_is_sent(fake_kfp_host, tmp_path):
    """A pipeline author's QA pass: a folder store given where the tuning step is called (a task
    constant), or built into the step (its nested pipeline's default), was sent to the cluster,
    whose pods would each write a folder of their own; the step's own pipeline with a folder
    default was refused. Both are refused now, in the same words, before anything is sent."""
    from kfp_tune.core.errors import InputError

    folder = str(tmp_path / "store")
    step = tuning_step(quadratic_experiment(), rounds=1, with_dataset=False)

    @dsl.pipeline(name="own-folder-given")
    def given() -> float:
        return step(experiment_name="quad", store_uri=folder).outputs["best_objective"]

    with pytest.raises(InputError, match=r"^the pipeline's task '[^']+', input store_uri: '.*store' is not an s3:// URI: the run's steps"):
        kfp_tune.submit(given, host=fake_kfp_host.url)
    built = tuning_step(quadratic_experiment(), rounds=1, with_dataset=False, store_uri=folder)

    @dsl.pipeline(name="own-folder-built")
    def defaulted() -> float:
        return built(experiment_name="quad").outputs["best_objective"]

    with pytest.raises(InputError, match=r"^the pipeline's '[^']+', its store_uri default: '.*store' is not an s3:// URI: the run's steps"):
        kfp_tune.schedule(defaulted, "0 0 2 * * *", host=fake_kfp_host.url)
    assert fake_kfp_host.requests == []


def test_a_compiled_package_is_sent_and_its_parameters_checked(fake_kfp_host, tmp_path):
    package = tmp_path / "trials.yaml"
    compiler.Compiler().compile(component_trials(quadratic_experiment(), quad), str(package))
    with pytest.raises(SpecError, match=r"arguments\.aws_secret_access_key: not a parameter of this pipeline"):
        kfp_tune.submit(package, host=fake_kfp_host.url, arguments={"aws_secret_access_key": "x"})
    assert fake_kfp_host.requests == []
    scheduled = kfp_tune.schedule(str(package), "0 30 * * * *", host=fake_kfp_host.url, fresh_experiment=True, max_concurrency=2)
    sent = fake_kfp_host.recurring_runs[scheduled.id]
    assert sent["runtime_config"]["parameters"] == {"fresh_experiment": True} and int(sent["max_concurrency"]) == 2
    assert _spec(sent)["pipelineInfo"]["name"] == "kfp-tune-component-quad"


@dsl.component
def quad_on(data: dsl.Input[dsl.Dataset], x: float, y: float) -> float:
    return (x - 0.3) ** 2 + (y - 0.6) ** 2


def test_a_pipeline_that_needs_an_artifact_is_refused_before_anything_is_sent(fake_kfp_host, tmp_path):
    """A component-trial pipeline whose trial reads a Dataset has that artifact as a required
    input, and a run is given parameters only: submit and schedule refuse it, naming the input,
    as a function and as a compiled package (the guide's kfp_tune.submit(tune, ...) example
    reached the host with it)."""
    pipeline = component_trials(quadratic_experiment(), quad_on)
    package = tmp_path / "trials.yaml"
    compiler.Compiler().compile(pipeline, str(package))
    for ready in (pipeline, package):
        with pytest.raises(SpecError) as caught:
            kfp_tune.submit(ready, host=fake_kfp_host.url)
        (error,) = caught.value.errors
        assert error.path == "pipeline input data" and "a run is given parameters only" in error.message
        with pytest.raises(SpecError, match="pipeline input data"):
            kfp_tune.schedule(ready, "0 0 2 * * *", host=fake_kfp_host.url)
    assert fake_kfp_host.requests == []


@dsl.component(base_image="python:3.11")
def echo(x: int) -> int:
    return x


def test_store_given_for_a_package_without_a_store_uri_parameter_is_not_told_to_use_one(fake_kfp_host, tmp_path, capsys):
    """One's own compiled pipeline that declares no store_uri: the refusal of ``--store`` advised
    ``--param store_uri=...``, which submit then refuses as a parameter the pipeline does not take."""
    from kfp_tune.cli import main

    @dsl.pipeline(name="no-store")
    def no_store(x: int = 1) -> None:
        echo(x=x)

    package = tmp_path / "no-store.yaml"
    compiler.Compiler().compile(no_store, str(package))
    assert main(["submit", str(package), "--host", fake_kfp_host.url, "--store", "s3://team/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --store: for an experiment, which is compiled here") and "it has no store_uri parameter" in err, err
    assert "--param store_uri" not in err, err
    assert fake_kfp_host.requests == []
