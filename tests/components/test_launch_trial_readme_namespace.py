"""components/launch_trial/README.md says where Kubernetes trials are created as the code picks it
(QA gpu, finding 8): it said "in the run's namespace", where ``launcher_from_config`` takes the
launcher config's ``namespace``, else the experiment's ``metadata.namespace`` (``kubeflow`` in
every one of Katib's GPU examples), and only then the run's."""

from __future__ import annotations

import re

from conftest import REPO
from kfp_tune.launchers import launcher_from_config
from kfp_tune.launchers.kubernetes import KubernetesLauncher

README = REPO / "components" / "launch_trial" / "README.md"


def test_the_readme_names_the_namespaces_the_launcher_takes_in_its_order():
    chosen = launcher_from_config({"kind": "kubernetes", "namespace": "team-a"}, experiment_namespace="kubeflow")
    from_experiment = launcher_from_config({"kind": "kubernetes"}, experiment_namespace="kubeflow")
    assert isinstance(chosen, KubernetesLauncher) and isinstance(from_experiment, KubernetesLauncher)
    assert (chosen.namespace, from_experiment.namespace) == ("team-a", "kubeflow")
    text = " ".join(README.read_text().split())
    said = re.search(r"in the launcher config's `namespace`, else the experiment's `metadata.namespace`[^.]*, else the run's namespace", text)
    assert said, "the README does not say the order launcher_from_config takes the namespace in"
    assert "own resource (Job, TFJob, PyTorchJob, MPIJob, XGBoostJob, TrainJob) in the run's namespace" not in text
