"""Trials as Kubernetes resources: the kinds (:mod:`.kinds`), the manifest created for a trial
(:mod:`.manifests`), the launcher that creates, follows, reads and deletes it and sweeps what a
killed run left (:mod:`.launcher`), and ``kfp-tune render`` (:mod:`.render`)."""

from kfp_tune.launchers.kubernetes.kinds import KINDS, TrialKind, trial_kind
from kfp_tune.launchers.kubernetes.launcher import KubernetesConfig, KubernetesLauncher, TrialInterrupted, launcher_env
from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, prepare_manifest
from kfp_tune.launchers.kubernetes.render import render_manifest

__all__ = [
    "KINDS",
    "ClusterSettings",
    "KubernetesConfig",
    "KubernetesLauncher",
    "TrialInterrupted",
    "TrialKind",
    "launcher_env",
    "prepare_manifest",
    "render_manifest",
    "trial_kind",
]
