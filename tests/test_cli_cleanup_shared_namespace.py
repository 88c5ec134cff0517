"""kfp-tune cleanup where two stores hold an experiment of the same name whose trials run in one
namespace (a multi-user cluster's profile shared by its contributors, each with their own
--store; QA multiuser finding 1). The anchor ConfigMap ``kfp-tune-<experiment>`` is shared by
both, so "owned by the anchor" does not say whose a resource is; a trial name hashes its
experiment's uid, so a resource labelled with a trial this store never recorded is another
experiment's. Cleanup deletes only what this store's experiment accounts for, keeps and names the
rest, and keeps the anchor while it owns anything it did not delete."""

from __future__ import annotations

from cli_cleanup import config_map_names, experiment_in, job_names, run_cleanup


def test_cleanup_on_one_store_keeps_another_stores_running_trial_and_names_it(kubeconfig_cluster, tmp_path):
    """QA's reproduction: Alice's ended trial goes; Bob's running Job, which her store never
    recorded, stays and is named in a warning; the anchor that owns it stays; and what was kept
    is said as it is (none of Alice's trials not ended has a resource)."""
    alice = experiment_in(kubeconfig_cluster, tmp_path / "alice-store", ended=1, pending=1)
    bob = experiment_in(kubeconfig_cluster, tmp_path / "bob-store", running=1)
    assert job_names(kubeconfig_cluster) == sorted(alice["ended"] + bob["running"])
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "alice-store"))
    assert code == 0, err
    assert job_names(kubeconfig_cluster) == bob["running"] and config_map_names(kubeconfig_cluster) == ["kfp-tune-quad"]
    assert out.startswith(f"deleted 1 trial resource(s) of 'quad' in 'team-a': {alice['ended'][0]}\n")
    assert "kept those of" not in out and "kept the anchor configmap 'kfp-tune-quad'" in out
    assert "1 trial(s) of 'quad' in this store have not ended (none has a resource in 'team-a')" in out
    assert f"warning: kept 1 trial resource(s) in 'team-a' that are no trial of experiment 'quad' in {(tmp_path / 'alice-store').as_uri()}" in err
    assert f"jobs.batch/{bob['running'][0]}" in err and "another experiment named 'quad'" in err


def test_cleanup_keeps_the_shared_anchor_while_it_owns_another_stores_trial(kubeconfig_cluster, tmp_path):
    """Alice's experiment has no trial open and no run: before, cleanup deleted the anchor as
    well, and the garbage collector would take Bob's running Job with it."""
    alice = experiment_in(kubeconfig_cluster, tmp_path / "alice-store", ended=2)
    bob = experiment_in(kubeconfig_cluster, tmp_path / "bob-store", running=1)
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "alice-store"))
    assert code == 0, err
    assert out.startswith(f"deleted 2 trial resource(s) of 'quad' in 'team-a': {', '.join(sorted(alice['ended']))}\n")
    assert ", and its anchor configmap" not in out
    assert "kept the anchor configmap 'kfp-tune-quad': it owns 1 resource(s) of another experiment named 'quad'" in out
    assert job_names(kubeconfig_cluster) == bob["running"] and config_map_names(kubeconfig_cluster) == ["kfp-tune-quad"]
    assert f"kubectl delete -n team-a jobs.batch/{bob['running'][0]}" in err


def test_cleanup_dry_run_names_another_stores_trial_as_kept(kubeconfig_cluster, tmp_path):
    alice = experiment_in(kubeconfig_cluster, tmp_path / "alice-store", ended=1)
    bob = experiment_in(kubeconfig_cluster, tmp_path / "bob-store", ended=1, running=1)
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "alice-store"), "--dry-run")
    assert code == 0, err
    assert out.startswith(f"would delete 1 trial resource(s) of 'quad' in 'team-a': {alice['ended'][0]} (--dry-run: nothing deleted)\n")
    assert "warning: kept 2 trial resource(s)" in err and all(f"jobs.batch/{name}" in err for name in bob["ended"] + bob["running"])
    assert job_names(kubeconfig_cluster) == sorted(alice["ended"] + bob["ended"] + bob["running"])


def test_cleanup_after_delete_still_takes_every_resource_the_anchor_owns(kubeconfig_cluster, tmp_path):
    """The store holds no experiment (kfp-tune delete): no store accounts for any trial, so, as
    the guide says, every resource it owns is left over, with the warning about other stores."""
    from kfp_tune.cli import main

    alice = experiment_in(kubeconfig_cluster, tmp_path / "alice-store", ended=1, running=1)
    assert main(["delete", "quad", "--store", str(tmp_path / "alice-store"), "--yes"]) == 0
    code, out, err = run_cleanup("quad", "--namespace", "team-a", "--store", str(tmp_path / "alice-store"))
    assert code == 0, err
    assert out.startswith("deleted 2 trial resource(s) of 'quad' in 'team-a'") and out.endswith(", and its anchor configmap 'kfp-tune-quad'\n")
    assert "another store" in err and "no trial of experiment" not in err
    assert job_names(kubeconfig_cluster) == [] and config_map_names(kubeconfig_cluster) == [] and alice["running"]


def test_cleanup_leaves_a_config_map_of_the_anchors_name_that_kfp_tune_never_made_alone(kubeconfig_cluster, tmp_path):
    """QA finding 3: a team's own ConfigMap kfp-tune-quad, no kfp-tune labels; cleanup after
    kfp-tune delete (an empty store) deleted it as the anchor. It is left alone and named."""
    kubeconfig_cluster.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kfp-tune-quad"}, "data": {"mine": "yes"}}, "team-a")
    (tmp_path / "empty-store").mkdir()
    code, out, err = run_cleanup("quad", "--namespace", "team-a", "--store", str(tmp_path / "empty-store"))
    assert code == 0, err
    assert out == "deleted 0 trial resource(s) of 'quad' in 'team-a'\n"
    assert "warning: configmap 'kfp-tune-quad' in namespace 'team-a' exists and is not kfp-tune's anchor for experiment 'quad'" in err
    assert "left alone" in err and config_map_names(kubeconfig_cluster) == ["kfp-tune-quad"]


def test_a_403_in_cleanup_names_the_persons_identity_and_the_rbac_cleanup_needs(kubeconfig_cluster, tmp_path):
    """QA finding 4: cleanup calls the API with a person's kubeconfig, and the 403 blamed 'the
    launch-trial service account' and pointed to manifests/rbac.yaml, whose Role grants neither
    the person nor cleanup's verbs. It names the verb, the resource, the namespace, whom the
    server refused (quoted) and the RBAC cleanup needs."""
    from fake_kube import Fault

    experiment_in(kubeconfig_cluster, tmp_path / "alice-store", ended=1)
    said = 'jobs.batch is forbidden: User "alice@example.com" cannot list resource "jobs" in API group "batch" in the namespace "team-a"'
    kubeconfig_cluster.faults = [Fault("GET", "/jobs$", 403, times=100, message=said, reason="Forbidden")]
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "alice-store"))
    assert code == 1 and out == ""
    assert err.startswith(f"error: Kubernetes refused to list jobs.batch in namespace 'team-a' (403 Forbidden: {said})")
    assert "launch-trial service account" not in err
    assert "kfp-tune cleanup calls the API as your kubeconfig's identity (whom the server names above)" in err
    assert "which needs 'list' on jobs.batch in namespace 'team-a'" in err
    assert "cleanup needs list and delete on the trial kinds and get and delete on configmaps" in err
    assert "manifests/rbac.yaml grants the run's service account, not you" in err
    assert len(job_names(kubeconfig_cluster)) == 1


def test_a_403_in_cleanup_inside_a_cluster_names_the_pods_service_account(kubeconfig_cluster, tmp_path, monkeypatch):
    """Review B of session 37, finding 5: inside a cluster (a Kubeflow notebook's pod) the
    identity refused is the pod's service account, which may be the run's own: 'your
    kubeconfig's identity' and 'not you' were wrong there."""
    from kubernetes import config

    from fake_kube import Fault

    experiment_in(kubeconfig_cluster, tmp_path / "alice-store", ended=1)
    monkeypatch.setattr(config, "load_incluster_config", lambda: config.load_kube_config())  # the pod's config: the fake's
    said = 'jobs.batch is forbidden: User "system:serviceaccount:team-a:default-editor" cannot list resource "jobs" in the namespace "team-a"'
    kubeconfig_cluster.faults = [Fault("GET", "/jobs$", 403, times=100, message=said, reason="Forbidden")]
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "alice-store"))
    assert code == 1 and out == ""
    assert err.startswith(f"error: Kubernetes refused to list jobs.batch in namespace 'team-a' (403 Forbidden: {said})")
    assert "kfp-tune cleanup calls the API as this pod's service account (the server names it above), which needs 'list' on jobs.batch" in err
    assert "which a Role bound to that service account grants" in err
    assert "kubeconfig" not in err and "not you" not in err
    assert len(job_names(kubeconfig_cluster)) == 1
