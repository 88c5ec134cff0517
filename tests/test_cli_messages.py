"""What the CLI says to a user, in a user's words: no internal terms (slots, claims), and a
refusal names the flag or field the user actually wrote."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import shown


def _write(tmp_path: Path, doc: dict, name: str = "exp.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_too_many_trials_at_once_for_a_local_run_is_said_without_slots(tmp_path, capsys):
    from kfp_tune.api import MAX_LOCAL_SLOTS

    over = MAX_LOCAL_SLOTS + 1
    doc = quadratic_experiment(**{"spec.parallelTrialCount": over, "spec.maxTrialCount": over})
    assert main(["run", _write(tmp_path, doc), "--engine", "inline", "--store", str(tmp_path / "store")]) == 2
    err = capsys.readouterr().err
    assert f"spec.parallelTrialCount: a local run keeps a process for each trial running at once; expected at most {MAX_LOCAL_SLOTS} here, got {over}" in err
    assert "slot" not in err


def test_an_interrupted_run_says_the_experiment_is_free_and_how_to_resume(tmp_path, capsys, monkeypatch):
    import kfp_tune.inline_runner
    from kfp_tune.core.errors import RunInterrupted

    def interrupted(*args, **kwargs):
        raise RunInterrupted("SIGINT", 1)

    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", interrupted)
    assert main(["run", _write(tmp_path, quadratic_experiment()), "--engine", "inline", "--store", str(tmp_path / "store")]) == 130
    err = capsys.readouterr().err
    assert "interrupted (SIGINT): 1 running trial(s) stopped" in err
    assert "the experiment is free for another run. Run the same command to resume." in err and "claim" not in err


def test_a_missing_trial_templates_file_is_refused_though_the_experiment_needs_none(tmp_path, capsys):
    """The experiment's template is inline, so --trial-templates was never read: a mistyped path
    ran the experiment (exit 0). Flags are checked before anything runs, used or not."""
    store = tmp_path / "store"
    missing = tmp_path / "nonexist.yaml"
    for command in (["run", "--engine", "inline", "--store", str(store)], ["validate"], ["compile", "-o", str(tmp_path / "p.yaml")]):
        assert main([command[0], _write(tmp_path, quadratic_experiment()), *command[1:], "--trial-templates", str(missing)]) == 2
        assert f"error: --trial-templates {shown(str(missing))}: no such file or folder" in capsys.readouterr().err
    assert not store.exists() and not (tmp_path / "p.yaml").exists()


def test_render_names_metadata_namespace_when_the_bad_namespace_came_from_the_spec(tmp_path, capsys):
    """render checked the spec's namespace under --namespace's name, a flag the user never gave."""
    assert main(["render", _write(tmp_path, quadratic_experiment(**{"metadata.namespace": "Bad NS/x"}))]) == 2
    err = capsys.readouterr().err
    assert "metadata.namespace: expected a Kubernetes name" in err and "--namespace" not in err, err
    assert main(["render", _write(tmp_path, quadratic_experiment(**{"metadata.namespace": "fine"})), "--namespace", "Also Bad"]) == 2
    assert capsys.readouterr().err.startswith("error: --namespace: expected a Kubernetes name")


def test_a_run_stopped_by_a_damaged_claim_does_not_say_the_experiment_is_free(tmp_path, capsys, monkeypatch):
    """Taken over by a run whose claim holds a time no clock here could have written (a node's
    clock hours ahead): the stop said "nothing may run until it is repaired", then "the experiment
    is free for another run". A damaged claim holds it for no run: only the first is said."""
    import time

    import kfp_tune.inline_runner
    from kfp_tune.core import claims
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.vocabulary import RecordKind

    def taken_over_from_hours_ahead(store, experiment, *args, **kwargs):
        records = ExperimentRecords(store, experiment.name)
        current = claims.latest_claim(records)
        seq = (current.seq if current else 0) + 1
        records.write_once(records.claim_key(seq), RecordKind.RUN_CLAIM, {"run": "run-b", "at": time.time() + 2 * claims.CLOCK_SKEW_SECONDS, "ttl": 900})
        claims.check(records, "run-a")

    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", taken_over_from_hours_ahead)
    assert main(["run", _write(tmp_path, quadratic_experiment()), "--engine", "inline", "--store", str(tmp_path / "store")]) == 1  # met mid-run: a runtime failure
    err = capsys.readouterr().err
    assert "no run may claim the experiment until it is repaired" in err and "the run stopped: repair or remove the record" in err
    assert "free for another run" not in err
