"""kfp-tune cleanup NAME --others: the resources the anchor owns that are no trial of the store's
experiment (review B of session 37, finding 2). An experiment deleted (kfp-tune delete) and made
again under the same name in the same store has a new uid, so new trial names: its predecessor's
resources (a killed run's Jobs still holding GPUs, retained Jobs) are no trial of it, and cleanup
keeps them as another experiment's, as it keeps another store's live experiment's. Only the
person can tell the two apart: --others deletes them once asked (--yes in a script), and the
store's own trials not ended are kept as ever."""

from __future__ import annotations

import pytest

from cli_cleanup import config_map_names, experiment_in, job_names, run_cleanup
from fake_kube import Script
from kfp_tune.cli import main


def _made_again(kube, store) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The review's reproduction: quad with a retained Job and a killed run's Job still
    running, deleted from the store, and the same YAML run again (a new uid, one trial ended)."""
    old = experiment_in(kube, store, ended=1, running=1)
    assert main(["delete", "quad", "--store", str(store), "--yes"]) == 0
    new = experiment_in(kube, store, ended=1)
    return old, new


def test_cleanup_of_an_experiment_made_again_names_its_predecessors_resources_and_the_flag_that_deletes_them(kubeconfig_cluster, tmp_path):
    old, new = _made_again(kubeconfig_cluster, tmp_path / "s")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "s"))
    assert code == 0, err
    assert out.startswith(f"deleted 1 trial resource(s) of 'quad' in 'team-a': {new['ended'][0]}\n")
    assert job_names(kubeconfig_cluster) == sorted(old["ended"] + old["running"]) and config_map_names(kubeconfig_cluster) == ["kfp-tune-quad"]
    assert "one this store held before kfp-tune delete" in err
    assert "run this cleanup again with --others: it deletes them (it asks first; --yes for a script)" in err


def test_cleanup_others_asked_and_answered_yes_deletes_the_predecessors_resources_and_the_anchor(kubeconfig_cluster, tmp_path):
    old, new = _made_again(kubeconfig_cluster, tmp_path / "s")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "s"), "--others", answer="y\n")
    assert code == 0, err
    gone = sorted(old["ended"] + old["running"])
    assert f"delete 2 trial resource(s) in 'team-a' of another experiment named 'quad' (no trial of it in {(tmp_path / 's').as_uri()}): " in err
    assert all(f"jobs.batch/{name}" in err for name in gone) and "[y/N]" in err
    assert out == (f"deleted 1 trial resource(s) of 'quad' in 'team-a': {new['ended'][0]}, 2 of another experiment named 'quad' (--others): "
                   f"{', '.join(gone)}, and its anchor configmap 'kfp-tune-quad'\n")
    assert job_names(kubeconfig_cluster) == [] and config_map_names(kubeconfig_cluster) == []


@pytest.mark.parametrize("answer", ["n\n", ""])
def test_cleanup_others_not_answered_yes_deletes_none_of_them(kubeconfig_cluster, tmp_path, answer):
    """No, or no answer at all (stdin closed: a script without --yes), as kfp-tune delete."""
    old, new = _made_again(kubeconfig_cluster, tmp_path / "s")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "s"), "--others", answer=answer)
    assert code == 1
    assert out.startswith(f"deleted 1 trial resource(s) of 'quad' in 'team-a': {new['ended'][0]}\n")
    assert "not deleted: the 2 trial resource(s) of another experiment named 'quad'" in err
    assert job_names(kubeconfig_cluster) == sorted(old["ended"] + old["running"]) and config_map_names(kubeconfig_cluster) == ["kfp-tune-quad"]


def _long_running(kube, runs: list[bool]) -> None:
    """The Jobs created next run for good where ``runs`` says so (in the order they are
    created), else end at once: a killed run's or a live run's Job, told from a retained one."""
    made = iter(runs)
    kube.script = lambda manifest: Script(log=[(0.0, "loss=0.5")], run_seconds=1e9 if next(made, False) else 0.2)


def test_cleanup_others_yes_takes_another_experiments_ended_resources_unasked(kubeconfig_cluster, tmp_path):
    alice = experiment_in(kubeconfig_cluster, tmp_path / "alice-store", ended=1, running=1)
    old = experiment_in(kubeconfig_cluster, tmp_path / "bob-store", ended=1)
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "alice-store"), "--others", "--yes", answer="")
    assert code == 0, err
    assert "[y/N]" not in err and "warning: kept" not in err
    assert out.startswith(f"deleted 1 trial resource(s) of 'quad' in 'team-a': {alice['ended'][0]}, 1 of another experiment named 'quad' "
                          f"(--others): {old['ended'][0]}\n")
    assert job_names(kubeconfig_cluster) == alice["running"] and config_map_names(kubeconfig_cluster) == ["kfp-tune-quad"]


def test_cleanup_others_yes_never_takes_another_experiments_running_trials(kubeconfig_cluster, tmp_path):
    """Bob runs quad from another store in the same namespace: alice's CI step 'cleanup quad
    --others --yes' (review E of session 37, finding 5) would have his run lose its Job, and
    record the trial Failed (TrialDeleted): --yes takes none of them while one still runs."""
    _long_running(kubeconfig_cluster, [False, True, True])
    alice = experiment_in(kubeconfig_cluster, tmp_path / "alice-store", ended=1, running=1)
    bob = experiment_in(kubeconfig_cluster, tmp_path / "bob-store", running=1)
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "alice-store"), "--others", "--yes", answer="")
    assert code == 1
    assert "[y/N]" not in err
    assert out.startswith(f"deleted 1 trial resource(s) of 'quad' in 'team-a': {alice['ended'][0]}\n")
    assert ("not deleted: the 1 trial resource(s) of another experiment named 'quad' (the warning above): 1 of them still runs, and --yes "
            "never deletes a running resource of another experiment") in err
    assert job_names(kubeconfig_cluster) == sorted(alice["running"] + bob["running"])


def test_cleanup_others_asks_saying_which_still_run_and_how_old(kubeconfig_cluster, tmp_path):
    _long_running(kubeconfig_cluster, [False, True, False])
    old, _ = _made_again(kubeconfig_cluster, tmp_path / "s")
    code, _, err = run_cleanup("quad", "--store", str(tmp_path / "s"), "--others", answer="n\n")
    assert code == 1
    assert (f"1 still running: jobs.batch/{old['running'][0]} (made " in err and f"1 ended: jobs.batch/{old['ended'][0]} (made " in err
            and " s ago)" in err), err


def test_cleanup_others_with_no_answer_says_to_add_yes_as_delete_does(kubeconfig_cluster, tmp_path):
    """One definition of the question with kfp-tune delete (review E, finding 7): no answer read
    says so, and what to add, where none of them still runs."""
    experiment_in(kubeconfig_cluster, tmp_path / "alice-store", ended=1)
    experiment_in(kubeconfig_cluster, tmp_path / "bob-store", ended=1)
    code, _, err = run_cleanup("quad", "--store", str(tmp_path / "alice-store"), "--others", answer="")
    assert code == 1
    assert ("(the warning above): no answer could be read (stdin is not a terminal, or at its end); add --yes to delete without asking"
            in err), err
