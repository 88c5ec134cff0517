"""``tuning_step(..., launcher_config={"kind": "local"})`` for trials asking for an extended
resource the launch-trial pod cannot ask for on their behalf (RDMA beside a MIG slice) said
nothing, while ``compile_pipeline`` of the same experiment gave a LocalTrialResourcesWarning (QA
review A, finding 4): the pipeline-component API now says it too, from the same check, naming
the caller's line; ``kfp-tune run``'s kfp.local pipeline (trials on this machine) still does not."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.pipelines import tuning_step
from kfp_tune.pipelines.builder import LocalTrialResourcesWarning
from kfp_tune.pipelines.local_run import local_pipeline


def experiment_asking(limits: dict[str, Any]) -> Any:
    doc = quadratic_experiment(**{"spec.parallelTrialCount": 2, "spec.maxTrialCount": 2, "spec.maxFailedTrialCount": 1})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": dict(limits)}
    return load_experiment(doc)


RDMA_BESIDE_MIG = {"nvidia.com/mig-1g.10gb": 1, "rdma/hca_shared_devices_a": 1}


def test_a_tuning_step_for_the_local_launcher_warns_of_what_its_pod_cannot_ask_for() -> None:
    with pytest.warns(LocalTrialResourcesWarning) as told:
        tuning_step(experiment_asking(RDMA_BESIDE_MIG), launcher_config={"kind": "local"})
    [warning] = [w for w in told if issubclass(w.category, LocalTrialResourcesWarning)]
    assert "rdma/hca_shared_devices_a" in str(warning.message) and "here nvidia.com/mig-1g.10gb" in str(warning.message)
    assert Path(warning.filename).resolve() == Path(__file__).resolve()  # the caller's line, not the library's


@pytest.mark.parametrize("launcher_config", [{"kind": "kubernetes"}, {"kind": "local"}])
def test_nothing_is_said_where_the_pod_asks_for_all_or_the_trials_get_pods_of_their_own(launcher_config: dict[str, Any]) -> None:
    asked = experiment_asking(RDMA_BESIDE_MIG if launcher_config["kind"] == "kubernetes" else {"nvidia.com/mig-1g.10gb": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalTrialResourcesWarning)
        tuning_step(asked, launcher_config=launcher_config)


def test_kfp_tune_run_s_local_pipeline_says_nothing_its_trials_run_on_this_machine(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalTrialResourcesWarning)
        local_pipeline(experiment_asking(RDMA_BESIDE_MIG), str(tmp_path / "store"), {"kind": "local"}, rounds=1)
