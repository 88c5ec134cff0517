"""KatibClient's arguments for trials on Kubeflow, from QA pass "sdk" of session 38: Katib's
distributed ``tune()`` (``resources_per_trial=TrainerResources(...)``) is refused up front, with
and without a host (findings 4), and a KFP API that needs a token is reached through
``KatibClient(kfp_client=kfp.Client(...))``, the refusals naming KatibClient's own arguments
(finding 5)."""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import Any

import kfp
import pytest

from fake_kfp import serve
from kfp_tune import KatibClient, search, tune
from kfp_tune.katib_client import InvalidRequestError

TOKEN = "tok-3d1f-not-to-be-shown"


@dataclass
class TrainerResources:  # as kubeflow.katib.types.types.TrainerResources
    num_workers: int
    num_procs_per_worker: int
    resources_per_worker: dict[str, str]


def never_called(parameters: dict[str, Any]) -> None:
    raise AssertionError("no trial runs: the call is refused first")


def prints_accuracy(parameters: dict[str, Any]) -> None:
    print("accuracy=1")


@pytest.fixture
def kfp_host(monkeypatch):
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")  # the store is not read here
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    fake, server = serve()
    yield fake
    server.shutdown()


def job_experiment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": name},
        "spec": {
            "maxTrialCount": 1, "parallelTrialCount": 1, "objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
            "algorithm": {"algorithmName": "random"},
            "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.2"}}],
            "trialTemplate": {
                "primaryContainerName": "c", "trialParameters": [{"name": "lr", "reference": "lr"}],
                "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "python:3.11", "command": ["echo", "accuracy=${trialParameters.lr}"]}]}}}},
            },
        },
    }


# --- 4. TrainerResources -------------------------------------------------------------------------------------


def test_trainer_resources_without_a_host_are_refused_before_anything_runs(katib):
    """Without a host they were 'ignored' with a warning that spoke of resources only, and every
    trial then failed in torch.distributed's rendezvous."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 'ignored' warning either
        with pytest.raises(NotImplementedError) as caught:
            katib.tune(name="pt", objective=never_called, parameters={"a": search.int(10, 20)}, objective_metric_name="result",
                       max_trial_count=3, parallel_trial_count=2, resources_per_trial=TrainerResources(2, 2, {"cpu": "100m"}))
    message = str(caught.value)
    assert message.startswith("KatibClient.tune: resources_per_trial: a TrainerResources"), message
    assert "PyTorchJob" in message and "create_experiment" in message and "not supported" in message, message
    assert katib.list_experiments() == []


def test_trainer_resources_with_a_host_are_refused_as_not_supported_not_as_a_bad_dict(kfp_host):
    """With a host the refusal read 'expected a dict such as ...', as if the user had made a typo."""
    with pytest.raises(NotImplementedError, match=r"^KatibClient.tune: resources_per_trial: a TrainerResources .*PyTorchJob"):
        KatibClient(store="s3://mlpipeline/kfp-tune", host=kfp_host.url).tune(
            name="pt", objective=never_called, parameters={"a": search.int(10, 20)}, objective_metric_name="result",
            max_trial_count=3, resources_per_trial=TrainerResources(1, 1, {"cpu": "100m"}))
    with pytest.raises(NotImplementedError, match=r"^tune\(\): resources_per_trial: a TrainerResources .*PyTorchJob"):
        tune(never_called, {"a": search.int(10, 20)}, objective_metric_name="result", host=kfp_host.url, max_trial_count=3,
             resources_per_trial=TrainerResources(2, 1, {"cpu": "100m"}))
    assert kfp_host.posted("runs") == []


# --- 5. a kfp.Client of one's own ------------------------------------------------------------------------------


def test_katib_client_takes_a_kfp_client_and_sends_through_it_with_its_token(kfp_host):
    """A notebook outside the cluster, on a KFP API that needs a token, had no way to give one:
    KatibClient had no such argument and its tune no client=. The runs go through the kfp.Client
    given, whose requests carry its token; no host is needed besides."""
    assert "kfp_client" in inspect.signature(KatibClient).parameters
    own = kfp.Client(host=kfp_host.url, existing_token=TOKEN)
    katib = KatibClient(store="s3://mlpipeline/kfp-tune", kfp_client=own)
    katib.tune(name="h", objective=prints_accuracy, parameters={"lr": search.double(0.1, 0.2)}, objective_metric_name="accuracy",
               max_trial_count=2, parallel_trial_count=1)
    katib.create_experiment(job_experiment("created"))
    assert len(kfp_host.posted("runs")) == 2
    sent = [r for r in kfp_host.requests if r.method == "POST" and r.path.endswith("/runs")]
    assert all({k.lower(): v for k, v in r.headers.items()}.get("authorization") == f"Bearer {TOKEN}" for r in sent), [dict(r.headers) for r in sent]
    assert TOKEN not in repr(katib)


def test_a_token_in_the_host_is_refused_naming_katib_clients_own_argument(kfp_host):
    """The refusal said 'tune():' and suggested client=, which KatibClient.tune does not take."""
    katib = KatibClient(store="s3://mlpipeline/kfp-tune", host=f"http://alice:{TOKEN}@127.0.0.1:9")
    with pytest.raises(ValueError) as caught:
        katib.tune(name="h", objective=prints_accuracy, parameters={"lr": search.double(0.1, 0.2)}, objective_metric_name="accuracy",
                   max_trial_count=2, parallel_trial_count=1)
    message = str(caught.value)
    assert message.startswith("KatibClient.tune: host: credentials do not belong in the host URL"), message
    assert "KatibClient(kfp_client=kfp.Client(host=URL, existing_token=TOKEN)" in message and " client=kfp.Client" not in message, message
    assert TOKEN not in message
    with pytest.raises(InvalidRequestError) as created:
        katib.create_experiment(job_experiment("created"))
    assert str(created.value).startswith("KatibClient.create_experiment: host: credentials"), created.value
    assert "kfp_client=kfp.Client(" in str(created.value) and TOKEN not in str(created.value)
    assert kfp_host.posted("runs") == []


@pytest.mark.parametrize("given", ["http://ml-pipeline-ui.kubeflow", object()])
def test_a_kfp_client_that_is_not_one_is_refused_when_the_katib_client_is_made(given):
    with pytest.raises(TypeError, match=r"^KatibClient\(\): kfp_client: expected a kfp.Client"):
        KatibClient(store="s3://mlpipeline/kfp-tune", kfp_client=given)
