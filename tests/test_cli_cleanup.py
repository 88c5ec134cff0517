"""kfp-tune cleanup against a cluster that cannot be reached: one clear error naming the API
server, after the short wait of a command a person waits on, never the token."""

from __future__ import annotations

import random

import pytest
import yaml

from cli_cleanup import run_cleanup
from clock import FakeClock
from conftest import quadratic_experiment
from kfp_tune.cli import LOOK_RETRY_SECONDS, main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

TOKEN = "kfptune-kube-token-5e1f"
UNREACHABLE = "https://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture
def unreachable_cluster(tmp_path, monkeypatch):
    """A kubeconfig whose server refuses connections; the launcher's clock is fake, so its
    retries take no time, and what it waited is kept in ``clock.sleeps``."""
    from kubernetes.client import Configuration
    from kubernetes.config import kube_config

    import kfp_tune.launchers.kubernetes as kubernetes_launchers
    from kfp_tune.launchers.kubernetes import launcher as launcher_module

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "lab", "cluster": {"server": UNREACHABLE, "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "me"}}],
        "users": [{"name": "me", "user": {"token": TOKEN}}],
    }))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))  # read once, at import
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    clock = FakeClock()
    monkeypatch.setattr(launcher_module, "time", clock)
    monkeypatch.setattr(launcher_module, "random", random.Random(0))  # the retries' jitter, the same every run

    class ClockedLauncher(kubernetes_launchers.KubernetesLauncher):
        def __init__(self, config, api_client=None, env=None, sleep=None):
            super().__init__(config, api_client, env, sleep=clock.sleep)

    monkeypatch.setattr(kubernetes_launchers, "KubernetesLauncher", ClockedLauncher)
    saved = Configuration.get_default_copy()  # load_kube_config sets the process's default
    yield clock
    Configuration.set_default(saved)


def test_cleanup_of_an_unreachable_cluster_names_the_server_after_the_short_wait(unreachable_cluster, tmp_path):
    store = tmp_path / "store"
    init_experiment(ExperimentRecords(LocalStore(store), "quad"), load_experiment(quadratic_experiment()))
    code, out, text = run_cleanup("quad", "--namespace", "team-a", "--store", str(store))
    assert code == 1, text
    assert f"error: the Kubernetes API server at {UNREACHABLE} cannot be reached (connection refused" in text
    assert "defect" not in text and "MaxRetryError" not in text and "nothing was deleted" in text
    assert TOKEN not in text + out
    # retried, for the 30 s of a command a person waits on, not a run's 120 s apiRetrySeconds
    # (the last wait ends at the deadline: the sum is 30 s but for the rounding of the sum itself)
    assert LOOK_RETRY_SECONDS - 1 < sum(unreachable_cluster.sleeps) <= LOOK_RETRY_SECONDS + 1e-6


# --- against the fake API server (tests/support/fake_kube.py) --------------------------------


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    """A fake API server (built-in kinds only) that the CLI reaches through a kubeconfig, as a
    user's; the launcher's clock is real (nothing here waits on a retry)."""
    from fake_kube import reached_through_kubeconfig

    with reached_through_kubeconfig(tmp_path, monkeypatch, TOKEN) as kube:
        yield kube


def _retained_trials(kube, store, namespace: str = "team-a", recorded_namespace: str | None = None) -> tuple[str, str, int]:
    """Experiment quad (retain: true) in ``store``: one trial run to its end (its Job kept), one
    whose Job was created but has not ended. (ended, running, trials the store has not seen end)."""
    from kfp_tune.core.state import load_state
    from kfp_tune.core.trials import trial_run
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
    from kfp_tune.steps import launch_trial, suggest

    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["retain"] = True
    if recorded_namespace is not None:
        doc["metadata"]["namespace"] = recorded_namespace
    experiment = load_experiment(doc)
    records = ExperimentRecords(LocalStore(store), "quad")
    init_experiment(records, experiment)
    ended, running = suggest(records, "run-1-r000", 2)[:2]
    launcher = KubernetesLauncher(KubernetesConfig(namespace=namespace, poll_seconds=0.05), api_client=kube.api_client(), env={})
    launch_trial(records, launcher, ended)
    trial = load_state(records).trial(running)
    launcher.create_or_adopt(launcher.prepare(trial_run(experiment, trial), launcher._owner(launcher.anchor("quad"))))
    return ended, running, sum(t.ended is None for t in load_state(records).trials)


def _jobs(kube) -> list[str]:
    return sorted(o["metadata"]["name"] for o in kube.stored("jobs"))


def test_cleanup_takes_the_namespace_from_the_stored_experiment_and_deletes_a_retained_ended_trials_job(cluster, tmp_path):
    """No --namespace: the experiment's metadata.namespace, as logs and render take it. The
    ended trial's Job that retain kept goes (as Katib's goes with its Trial); the running one stays."""
    ended, running, not_ended = _retained_trials(cluster, tmp_path / "store", namespace="team-b", recorded_namespace="team-b")
    assert _jobs(cluster) == sorted([ended, running])
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"))
    assert code == 0, err
    assert f"deleted 1 trial resource(s) of 'quad' in 'team-b': {ended}" in out and f"kept 1 resource(s) of its {not_ended} trial(s) not ended yet" in out
    assert _jobs(cluster) == [running]


def test_cleanup_dry_run_lists_what_it_would_delete_and_deletes_nothing(cluster, tmp_path):
    ended, running, _ = _retained_trials(cluster, tmp_path / "store")
    calls = len(cluster.calls)
    code, out, err = run_cleanup("quad", "--namespace", "team-a", "--store", str(tmp_path / "store"), "--dry-run")
    assert code == 0, err
    assert f"would delete 1 trial resource(s) of 'quad' in 'team-a': {ended} (--dry-run: nothing deleted)" in out
    assert _jobs(cluster) == sorted([ended, running])
    assert not [c for c in cluster.calls[calls:] if c.method == "DELETE"]


def test_cleanup_after_delete_sweeps_by_label_with_a_warning_and_needs_the_namespace(cluster, tmp_path):
    """kfp-tune delete removed the records: no trial of it is followed by a run on this store,
    so every resource it owns is left over (the running trial's too), with a warning naming
    the risk of a run on another store; the namespace is then not known, so it is asked for."""
    store = tmp_path / "store"
    ended, running, _ = _retained_trials(cluster, store)
    assert main(["delete", "quad", "--store", str(store), "--yes"]) == 0
    code, out, err = run_cleanup("quad", "--store", str(store))
    assert code == 2 and "error: no experiment 'quad' in" in err and "give --namespace" in err and _jobs(cluster) == sorted([ended, running])
    code, out, err = run_cleanup("quad", "--namespace", "team-a", "--store", str(store))
    assert code == 0, err
    assert "warning: no experiment 'quad' in" in err and "another store" in err
    assert out.startswith("deleted 2 trial resource(s) of 'quad' in 'team-a'") and "kept" not in out
    assert out.endswith(", and its anchor configmap 'kfp-tune-quad'\n")  # no store, no run of it there: the anchor is left over too
    assert _jobs(cluster) == [] and _config_maps(cluster) == []


def test_cleanup_keeps_a_trial_started_between_its_read_of_the_store_and_its_listing(cluster, tmp_path, monkeypatch):
    """A run goes on while cleanup works: a trial suggested and created after cleanup first read
    the store, before it listed the cluster, is running, and its Job stays. (The interleaving is
    forced: the trial starts inside the listing's first call.)"""
    from kfp_tune.core.state import load_state
    from kfp_tune.core.trials import trial_run
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
    from kfp_tune.steps import suggest

    store = tmp_path / "store"
    ended, running, _ = _retained_trials(cluster, store)
    records = ExperimentRecords(LocalStore(store), "quad")
    run_launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05), api_client=cluster.api_client(), env={})
    started: list[str] = []
    listing = KubernetesLauncher.owned_resources

    def start_a_trial_then_list(self, experiment):
        if not started:  # as the run would: the trial's record first, then its Job
            started.extend(suggest(records, "run-1-r001", 1)[:1])
            state = load_state(records)
            run = trial_run(state.experiment, state.trial(started[0]))
            run_launcher.create_or_adopt(run_launcher.prepare(run, run_launcher._owner(run_launcher.anchor("quad"))))
        return listing(self, experiment)

    monkeypatch.setattr(KubernetesLauncher, "owned_resources", start_a_trial_then_list)
    code, out, err = run_cleanup("quad", "--namespace", "team-a", "--store", str(store))
    assert code == 0, err
    assert started and started[0] not in (ended, running)
    not_ended = sum(t.ended is None for t in load_state(records).trials)
    assert f"deleted 1 trial resource(s) of 'quad' in 'team-a': {ended}" in out and f"kept 2 resource(s) of its {not_ended} trial(s) not ended yet" in out
    assert _jobs(cluster) == sorted([running, started[0]])


def _ended_trial(kube, store) -> str:
    """Experiment quad (retain: true) in ``store`` with one trial, run to its end: its Job kept,
    owned by the anchor ConfigMap the launcher made for the experiment."""
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
    from kfp_tune.steps import launch_trial, suggest

    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["retain"] = True
    doc["metadata"]["namespace"] = "team-a"
    records = ExperimentRecords(LocalStore(store), "quad")
    init_experiment(records, load_experiment(doc))
    (ended,) = suggest(records, "run-1-r000", 1, n=1)
    launch_trial(records, KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05), api_client=kube.api_client(), env={}), ended)
    return ended


def _config_maps(kube) -> list[str]:
    return sorted(o["metadata"]["name"] for o in kube.stored("configmaps"))


def test_cleanup_of_an_experiment_with_no_trial_running_deletes_its_anchor_too(cluster, tmp_path):
    """The anchor ConfigMap that owns the trials was never deleted: each experiment left one (a
    --fresh-experiment schedule, one a run). With no trial running and no run driving the
    experiment, cleanup deletes it with the trials' resources, as deleting a Katib Experiment
    deletes what it owns; --dry-run names it and deletes nothing."""
    ended = _ended_trial(cluster, tmp_path / "store")
    assert _jobs(cluster) == [ended] and _config_maps(cluster) == ["kfp-tune-quad"]
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"), "--dry-run")
    assert code == 0, err
    assert out == f"would delete 1 trial resource(s) of 'quad' in 'team-a': {ended}, and its anchor configmap 'kfp-tune-quad' (--dry-run: nothing deleted)\n"
    assert _jobs(cluster) == [ended] and _config_maps(cluster) == ["kfp-tune-quad"]
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"))
    assert code == 0, err
    assert out == f"deleted 1 trial resource(s) of 'quad' in 'team-a': {ended}, and its anchor configmap 'kfp-tune-quad'\n"
    assert _jobs(cluster) == [] and _config_maps(cluster) == []
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"))  # again: nothing left, nothing said of an anchor
    assert (code, out) == (0, "deleted 0 trial resource(s) of 'quad' in 'team-a'\n"), err


def test_cleanup_keeps_the_anchor_while_a_trial_runs(cluster, tmp_path):
    """Deleting the anchor would collect the running trial's resource with it."""
    store = tmp_path / "store"
    _, running, not_ended = _retained_trials(cluster, store)
    code, out, err = run_cleanup("quad", "--store", str(store), "--namespace", "team-a")
    assert code == 0, err
    assert f"kept 1 resource(s) of its {not_ended} trial(s) not ended yet, and the anchor configmap 'kfp-tune-quad' that owns them" in out
    assert ", and its anchor configmap" not in out
    assert _jobs(cluster) == [running] and _config_maps(cluster) == ["kfp-tune-quad"]


def test_cleanup_keeps_the_anchor_while_a_run_drives_the_experiment(cluster, tmp_path):
    """A run between its trials would create the next one owned by the anchor it read before,
    which the garbage collector would then take: the anchor stays while a run holds the claim."""
    from kfp_tune.core import claims

    store = tmp_path / "store"
    ended = _ended_trial(cluster, store)
    claims.claim(ExperimentRecords(LocalStore(store), "quad"), "run-2")  # a run of this process holds it, between its trials
    code, out, err = run_cleanup("quad", "--store", str(store))
    assert code == 0, err
    assert out.startswith(f"deleted 1 trial resource(s) of 'quad' in 'team-a': {ended}\nkept the anchor configmap 'kfp-tune-quad': run 'run-2' (claimed ")
    assert out.endswith(" drives the experiment and may start a trial\n") and _config_maps(cluster) == ["kfp-tune-quad"]


def test_cleanup_keeps_the_anchor_while_the_experiments_claim_cannot_be_read(cluster, tmp_path):
    """Mutation QA (Q02): a claim record that cannot be read leaves which run drives the
    experiment unknown, and such a run may still create its next trial owned by the anchor:
    cleanup keeps the anchor, saying why, as it does for a run it can name."""
    store = tmp_path / "store"
    ended = _ended_trial(cluster, store)
    records = ExperimentRecords(LocalStore(store), "quad")
    records.store.put(records.claim_key(1), b"{not json")
    code, out, err = run_cleanup("quad", "--store", str(store))
    assert code == 0, err
    assert out == (f"deleted 1 trial resource(s) of 'quad' in 'team-a': {ended}\n"
                   "kept the anchor configmap 'kfp-tune-quad': a run (its claim record is damaged) drives the experiment and may start a trial\n")
    assert _config_maps(cluster) == ["kfp-tune-quad"]


# --- what cleanup says of the resources it keeps -------------------------------------------------

SELECTOR = "kfp-tune.kubeflow.org/managed-by=kfp-tune,kfp-tune.kubeflow.org/experiment=quad"


def _killed_run(kube, store, trials: int = 1, **overrides) -> list[str]:
    """Experiment quad in ``store`` whose run was killed: ``trials`` trials suggested, their
    Jobs created, none ended in the store."""
    from kfp_tune.core.state import load_state
    from kfp_tune.core.trials import trial_run
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
    from kfp_tune.steps import suggest

    experiment = load_experiment(quadratic_experiment(**{"metadata.namespace": "team-a", "spec.maxTrialCount": max(trials, 6), **overrides}))
    records = ExperimentRecords(LocalStore(store), "quad")
    init_experiment(records, experiment)
    names = suggest(records, "run-1-r000", 1, n=trials)
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a"), api_client=kube.api_client(), env={})
    state = load_state(records)
    for name in names:
        launcher.create_or_adopt(launcher.prepare(trial_run(experiment, state.trial(name)), launcher._owner(launcher.anchor("quad"))))
    return names


def test_cleanup_names_the_kept_resources_a_run_resumed_later_would_not_be_deleted_with(cluster, tmp_path):
    """A killed run left a trial's Job, its trial not ended: cleanup keeps it, says what ends it
    (a run of the experiment, resumed) and the kubectl command that deletes it by its name. Not
    the experiment's label selector, even where it selects the kept Job alone: a user who runs
    the experiment again, as the sentence before says, and then pastes the line would delete the
    new run's trials too (the old cleanup printed the selector)."""
    (name,) = _killed_run(cluster, tmp_path / "store")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"))
    assert code == 0, err
    assert "trial(s) not ended yet" in out
    assert f"jobs.batch/{name}: a run of 'quad' ends them" in out and "run the experiment again on this store" in out
    assert out.endswith(f"\n    kubectl delete -n team-a jobs.batch/{name}\n") and " -l " not in out
    assert _jobs(cluster) == [name]


def test_cleanup_of_a_completed_experiment_that_cannot_restart_deletes_its_kept_resources_by_selector(cluster, tmp_path):
    """resumePolicy Never and an outcome recorded: no run of the experiment starts a trial
    again, so the label selector selects the kept Jobs and nothing a later run makes: one line."""
    from kfp_tune.core.decision import Decision
    from kfp_tune.core.state import load_state
    from kfp_tune.core.vocabulary import ExperimentPhase
    from kfp_tune.steps.decide_stop import record_outcome

    store = tmp_path / "store"
    names = _killed_run(cluster, store, trials=2, **{"spec.resumePolicy": "Never"})
    records = ExperimentRecords(LocalStore(store), "quad")
    record_outcome(records, load_state(records), Decision(ExperimentPhase.SUCCEEDED, "GoalReached", "the goal was reached"), "2026-01-01T00:00:00Z")
    code, out, err = run_cleanup("quad", "--store", str(store))
    assert code == 0, err
    assert out.endswith(f"delete them:\n    kubectl delete -n team-a jobs.batch -l {SELECTOR}\n")
    assert _jobs(cluster) == sorted(names)


def test_cleanup_prints_the_names_of_many_kept_resources_a_few_a_line(cluster, tmp_path):
    """Many kept Jobs: 20 names a kubectl line, not one line of all (the old cleanup printed
    every name on one line), and the sentence names the first 10 of them."""
    from kfp_tune.cli import KEPT_PER_COMMAND, KEPT_SHOWN

    names = _killed_run(cluster, tmp_path / "store", trials=45)
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"))
    assert code == 0, err
    commands = [line.strip() for line in out.splitlines() if line.startswith("    kubectl delete")]
    kept = [f"jobs.batch/{name}" for name in sorted(names)]  # as the API server lists them
    assert len(commands) == 3 and commands[0] == "kubectl delete -n team-a " + " ".join(kept[:KEPT_PER_COMMAND])
    assert " ".join(c.removeprefix("kubectl delete -n team-a ") for c in commands) == " ".join(kept)
    assert f"  {', '.join(kept[:KEPT_SHOWN])} (and {45 - KEPT_SHOWN} more): a run of 'quad' ends them" in out
