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
from kfp_tune.cli import main


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    """A fake API server reached through a kubeconfig, as a person's."""
    from fake_kube import reached_through_kubeconfig

    with reached_through_kubeconfig(tmp_path, monkeypatch) as kube:
        yield kube


def _made_again(kube, store) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The review's reproduction: quad with a retained Job and a killed run's Job still
    running, deleted from the store, and the same YAML run again (a new uid, one trial ended)."""
    old = experiment_in(kube, store, ended=1, running=1)
    assert main(["delete", "quad", "--store", str(store), "--yes"]) == 0
    new = experiment_in(kube, store, ended=1)
    return old, new


def test_cleanup_of_an_experiment_made_again_names_its_predecessors_resources_and_the_flag_that_deletes_them(cluster, tmp_path):
    old, new = _made_again(cluster, tmp_path / "s")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "s"))
    assert code == 0, err
    assert out.startswith(f"deleted 1 trial resource(s) of 'quad' in 'team-a': {new['ended'][0]}\n")
    assert job_names(cluster) == sorted(old["ended"] + old["running"]) and config_map_names(cluster) == ["kfp-tune-quad"]
    assert "one this store held before kfp-tune delete" in err
    assert "run this cleanup again with --others: it deletes them (it asks first; --yes for a script)" in err


def test_cleanup_others_asked_and_answered_yes_deletes_the_predecessors_resources_and_the_anchor(cluster, tmp_path):
    old, new = _made_again(cluster, tmp_path / "s")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "s"), "--others", answer="y\n")
    assert code == 0, err
    gone = sorted(old["ended"] + old["running"])
    assert f"delete 2 trial resource(s) in 'team-a' of another experiment named 'quad' (no trial of it in {(tmp_path / 's').as_uri()}): " in err
    assert all(f"jobs.batch/{name}" in err for name in gone) and "[y/N]" in err
    assert out == (f"deleted 1 trial resource(s) of 'quad' in 'team-a': {new['ended'][0]}, 2 of another experiment named 'quad' (--others): "
                   f"{', '.join(gone)}, and its anchor configmap 'kfp-tune-quad'\n")
    assert job_names(cluster) == [] and config_map_names(cluster) == []


@pytest.mark.parametrize("answer", ["n\n", ""])
def test_cleanup_others_not_answered_yes_deletes_none_of_them(cluster, tmp_path, answer):
    """No, or no answer at all (stdin closed: a script without --yes), as kfp-tune delete."""
    old, new = _made_again(cluster, tmp_path / "s")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "s"), "--others", answer=answer)
    assert code == 1
    assert out.startswith(f"deleted 1 trial resource(s) of 'quad' in 'team-a': {new['ended'][0]}\n")
    assert "not deleted: the 2 trial resource(s) of another experiment named 'quad'" in err
    assert job_names(cluster) == sorted(old["ended"] + old["running"]) and config_map_names(cluster) == ["kfp-tune-quad"]


def test_cleanup_others_yes_asks_nothing_and_keeps_the_stores_own_trials_not_ended(cluster, tmp_path):
    """Another store's experiment of the name (bob) is what --others takes too, once told; this
    store's trial not ended keeps its Job, and the anchor that owns it stays."""
    alice = experiment_in(cluster, tmp_path / "alice-store", ended=1, running=1)
    bob = experiment_in(cluster, tmp_path / "bob-store", running=1)
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "alice-store"), "--others", "--yes", answer="")
    assert code == 0, err
    assert "[y/N]" not in err and "warning: kept" not in err
    assert out.startswith(f"deleted 1 trial resource(s) of 'quad' in 'team-a': {alice['ended'][0]}, 1 of another experiment named 'quad' "
                          f"(--others): {bob['running'][0]}\n")
    assert job_names(cluster) == alice["running"] and config_map_names(cluster) == ["kfp-tune-quad"]


def test_cleanup_others_dry_run_asks_nothing_and_deletes_nothing(cluster, tmp_path):
    old, new = _made_again(cluster, tmp_path / "s")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "s"), "--others", "--dry-run", answer="")
    assert code == 0, err
    assert "[y/N]" not in err
    assert out == (f"would delete 1 trial resource(s) of 'quad' in 'team-a': {new['ended'][0]}, 2 of another experiment named 'quad' (--others): "
                   f"{', '.join(sorted(old['ended'] + old['running']))}, and its anchor configmap 'kfp-tune-quad' (--dry-run: nothing deleted)\n")
    assert job_names(cluster) == sorted(old["ended"] + old["running"] + new["ended"])
