"""kfp-tune cleanup of an experiment whose trials all ran where no Kubernetes resource is made
(a local process: kfp-tune run, tune()), and of a name not in the store (upgrade QA, session 31,
finding 3): the first asked for a kubeconfig and exited 2, though the store shows there is
nothing to delete; the second began its error with ``--namespace:`` for what is most often a
mistyped name."""

from __future__ import annotations

import json

import pytest
import yaml

from cli_cleanup import run_cleanup
from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialStarted
from kfp_tune.core.state import load_state
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.stores import LocalStore


def _ran_locally(store_path) -> ExperimentRecords:
    """Experiment quad, 2 trials run to their end by the local launcher (as kfp-tune run does)."""
    store = LocalStore(store_path)
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1}))
    run_inline(store, experiment, LocalLauncher())
    records = ExperimentRecords(store, "quad")
    assert len(load_state(records).trials) == 2
    return records


def _rewrite_started(records: ExperimentRecords, change) -> None:
    """Each trial's started record, changed by ``change`` (its payload, in place)."""
    store = records.store
    for trial in load_state(records).trials:
        key = records.trial_key(trial.name, TrialStarted.FILE)
        record = json.loads(store.get(key))
        change(record)
        store.put(key, json.dumps(record).encode())
    for key in store.list(records.snapshots_prefix()):  # derived: read again from the records
        store.delete(key)


def test_cleanup_of_trials_that_ran_locally_says_there_is_nothing_to_delete_without_a_cluster(no_cluster, tmp_path, monkeypatch):
    import kfp_tune.launchers.kubernetes as kubernetes_launchers

    class NoKubernetes:
        def __init__(self, *args, **kwargs):
            raise AssertionError("cleanup asked Kubernetes")

    records = _ran_locally(tmp_path / "store")
    started = [json.loads(records.store.get(records.trial_key(t.name, TrialStarted.FILE))) for t in load_state(records).trials]
    assert [record["clusterNamespace"] for record in started] == ["", ""]
    monkeypatch.setattr(kubernetes_launchers, "KubernetesLauncher", NoKubernetes)
    for extra in ([], ["--dry-run"], ["--namespace", "team-a"]):
        code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"), *extra)
        assert (code, err) == (0, ""), err
        assert out.startswith("nothing to delete: every trial of experiment 'quad' in ") and "no cluster was asked" in out


def test_cleanup_of_trials_started_before_the_store_said_where_asks_the_cluster_as_before(no_cluster, tmp_path):
    """A started record written before ``clusterNamespace`` was kept does not say where its trial
    ran, and one trial made on a cluster is enough: the cluster is asked (here none is configured)."""
    records = _ran_locally(tmp_path / "store")
    _rewrite_started(records, lambda record: record.pop("clusterNamespace"))
    code, _, err = run_cleanup("quad", "--store", str(tmp_path / "store"), "--dry-run")
    assert code == 2 and "error: no Kubernetes cluster configured" in err, err
    first = load_state(records).trials[0].name
    _rewrite_started(records, lambda record: record.update(clusterNamespace="team-a" if record["trial"] == first else ""))
    code, _, err = run_cleanup("quad", "--store", str(tmp_path / "store"), "--dry-run")
    assert code == 2 and "error: no Kubernetes cluster configured" in err, err


def test_cleanup_of_a_name_not_in_the_store_says_so_as_list_and_status_do(no_cluster, tmp_path):
    _ran_locally(tmp_path / "store")
    code, out, err = run_cleanup("quadd", "--store", str(tmp_path / "store"))
    assert code == 2 and out == ""
    assert err.startswith("error: no experiment 'quadd' in ") and "; did you mean: quad? To delete the trial resources" in err, err
    assert "give --namespace, the namespace its trials ran in" in err


def test_cleanup_without_a_cluster_says_which_trials_did_not_record_where_they_ran(no_cluster, tmp_path):
    """Upgrade QA, session 35, finding 3: trials a kfp-tune before 2026-12-06 17:29 UTC started
    record no clusterNamespace; with no cluster configured, cleanup and --dry-run asked for a
    kubeconfig without saying why, though the experiment may never have touched a cluster. Both
    still refuse (exit 2: what is on a cluster cannot be told without it), saying why and that
    trials that all ran on this machine left nothing to clean up."""
    records = _ran_locally(tmp_path / "store")
    _rewrite_started(records, lambda record: record.pop("clusterNamespace"))
    for extra in ([], ["--dry-run"]):
        code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"), *extra)
        assert (code, out) == (2, ""), out
        assert err.startswith("error: no Kubernetes cluster configured (ConfigException: "), err
        assert (", and cleanup must ask one: 2 trial(s) of experiment 'quad' were started by a kfp-tune from before 2026-12-06 17:29 UTC, "
                "which did not record where they ran") in err, err
        assert "if they all ran on this machine (kfp-tune run, tune(), a launcher of kind local), they left nothing on a cluster" in err, err
        assert "nothing was deleted" in err and "set KUBECONFIG or write ~/.kube/config" in err, err
        assert err.count("\n") == 1, err  # one line, no traceback


def test_cleanup_without_a_cluster_counts_only_the_unrecorded_trials_and_keeps_the_old_line_where_one_was_made_on_a_cluster(no_cluster, tmp_path):
    records = _ran_locally(tmp_path / "store")
    first = []

    def one_unrecorded(record: dict) -> None:
        if not first:
            first.append(record["trial"])
            record.pop("clusterNamespace")

    _rewrite_started(records, one_unrecorded)
    code, _, err = run_cleanup("quad", "--store", str(tmp_path / "store"), "--dry-run")
    assert code == 2 and "1 trial(s) of experiment 'quad' were started by a kfp-tune from before" in err, err
    _rewrite_started(records, lambda record: record.update(clusterNamespace="team-a"))
    code, _, err = run_cleanup("quad", "--store", str(tmp_path / "store"), "--dry-run")
    assert code == 2 and err.startswith("error: no Kubernetes cluster configured (") and "did not record" not in err, err
    assert json.loads(records.store.get(records.trial_key(first[0], TrialStarted.FILE)))["clusterNamespace"] == "team-a"


UNREACHABLE = "https://127.0.0.1:1"  # nothing listens on port 1: connection refused


@pytest.fixture
def unreachable_cluster(tmp_path, monkeypatch):
    """A kubeconfig whose server cannot be reached (a stale context, a VPN that is off, a kind
    cluster that is stopped), and a short retry window (cleanup's ``LOOK_RETRY_SECONDS``)."""
    from kubernetes.client import Configuration
    from kubernetes.config import kube_config

    from kfp_tune import cli

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "stopped",
        "clusters": [{"name": "stopped", "cluster": {"server": UNREACHABLE, "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "stopped", "context": {"cluster": "stopped", "user": "me"}}],
        "users": [{"name": "me", "user": {"token": "kfptune-kube-token-77c1"}}],
    }))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr(cli, "LOOK_RETRY_SECONDS", 1.0)
    saved = Configuration.get_default_copy()
    yield
    Configuration.set_default(saved)


def test_cleanup_of_an_unreachable_cluster_says_which_trials_did_not_record_where_they_ran(unreachable_cluster, tmp_path):
    """Review B of the s35 upgrade fixes, finding 1: with a kubeconfig whose cluster cannot be
    reached, cleanup of an old laptop-only experiment gave the unreachable server and the old
    advice, and nothing said that a cluster is asked only because its trials recorded nowhere
    where they ran. It says the same reason as without a cluster (exit 1, as an unreachable
    server is); where a trial says it was made on a cluster, the old line stays."""
    records = _ran_locally(tmp_path / "store")
    _rewrite_started(records, lambda record: record.pop("clusterNamespace"))
    for extra in ([], ["--dry-run"]):
        code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"), *extra)
        assert (code, out) == (1, ""), out
        *retries, error = err.splitlines()  # the retries' warnings, where logging reaches this stream, then one line
        assert all(line.startswith("warning: Kubernetes ") for line in retries) and "kfptune-kube-token-77c1" not in err, err
        assert error.startswith(f"error: the Kubernetes API server at {UNREACHABLE} cannot be reached (connection refused"), err
        assert ("retried for 1 s), and cleanup must ask it: 2 trial(s) of experiment 'quad' were started by a kfp-tune from before "
                "2026-12-06 17:29 UTC, which did not record where they ran") in error, err
        assert "if they all ran on this machine (kfp-tune run, tune(), a launcher of kind local), they left nothing on a cluster" in error, err
        assert "nothing was deleted. Else check the current context of KUBECONFIG or ~/.kube/config" in error, err
    first = load_state(records).trials[0].name
    _rewrite_started(records, lambda record: record.update(clusterNamespace="team-a" if record["trial"] == first else ""))
    code, _, err = run_cleanup("quad", "--store", str(tmp_path / "store"), "--dry-run")
    error = err.splitlines()[-1]
    assert code == 1 and error.startswith(f"error: the Kubernetes API server at {UNREACHABLE} cannot be reached (") and "did not record" not in err, err
    assert "retried for 1 s): check the current context of KUBECONFIG" in error and error.endswith("nothing was deleted"), err
