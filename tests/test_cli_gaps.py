"""CLI behaviour that no test pinned down (each seen to fail on a hand-made mutant of the line it
covers): a malformed ``--mount`` is refused before anything runs; ``trials`` and ``status`` show a
number to 6 significant digits and a text metric as the trial wrote it; ``logs NAME --namespace NS``
(every trial's log) reads a running trial's pod in NS."""

from __future__ import annotations

import json

import pytest
import test_cli_cleanup
import yaml

from conftest import config_map_experiment, quadratic_experiment
from kfp_tune.cli import main

cluster = test_cli_cleanup.cluster
"""The fake Kubernetes API server (tests/support/fake_kube.py), reached through a kubeconfig as a user's."""

# --- --mount -------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["data", "relative={folder}", "/data=", "=/data"])
def test_a_malformed_mount_is_refused_naming_the_form_expected(tmp_path, capsys, given):
    """``--mount data`` has no ``=`` and ``relative=DIR`` no absolute container path: refused
    with the form, not taken as a mount of the current folder (``data``, ``/data=``) or of a
    folder at a relative container path, with the experiment run."""
    folder = tmp_path / "data"
    folder.mkdir()
    value = given.format(folder=folder)
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.maxFailedTrialCount": 1, "spec.parallelTrialCount": 1})))
    store = tmp_path / "store"
    assert main(["run", str(path), "--engine", "inline", "--store", str(store), "--mount", value]) == 2
    assert capsys.readouterr().err == f"error: --mount {value!r}: expected /container/path=local/path\n"
    assert not store.exists()


@pytest.mark.parametrize(("local", "words"), [("a" * 300, "not a usable path: File name too long"), ("missing", "'missing' does not exist")])
def test_a_mount_of_an_unusable_or_missing_path_is_refused_naming_it(tmp_path, capsys, monkeypatch, local, words):
    """A local path too long for the file system was 'error: unexpected OSError: [Errno 36] File
    name too long' (exit 1, as a defect); it is refused naming --mount, as _readable refuses one."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.maxFailedTrialCount": 1, "spec.parallelTrialCount": 1})))
    assert main(["run", str(path), "--engine", "inline", "--store", "store", "--mount", f"/data={local}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --mount '/data=") and err.endswith(f": {words}\n") and len(err) < 300
    assert not (tmp_path / "store").exists()


# --- metric values in trials and status ----------------------------------------------------------

LOSS, ACCURACY = "0.12345678912", "0.98765432198"


def test_trials_and_status_show_a_number_to_6_significant_digits(tmp_path, capsys):
    """The stored value keeps every digit the trial printed (``--json``); the table and the
    best trial line round it, as Katib's UI shows a rounded value."""
    script = tmp_path / "digits.py"
    script.write_text(f"print('loss={LOSS}')\nprint('accuracy={ACCURACY}')\n")
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.maxFailedTrialCount": 1, "spec.parallelTrialCount": 1})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"] = ["python3", str(script)]
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(doc))
    store = ["--store", str(tmp_path / "store")]
    assert main(["run", str(path), "--engine", "inline", *store]) == 0
    capsys.readouterr()

    assert main(["trials", "quad", *store, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["metrics"] == {"loss": float(LOSS), "accuracy": float(ACCURACY)}  # every digit kept
    assert main(["trials", "quad", *store]) == 0
    header, line = capsys.readouterr().out.splitlines()[:2]
    assert header.split()[2:4] == ["loss", "accuracy"] and line.split()[2:4] == ["0.123457", "0.987654"]
    assert main(["status", "quad", *store]) == 0
    [best] = [line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("best trial:")]
    assert best == f"best trial: {row['name']}  loss=0.123457, accuracy=0.987654"  # the objective first, as progress lines write it


def test_trials_and_status_show_a_text_metric_as_the_trial_wrote_it(tmp_path, capsys):
    """darts' genotype, the objective: no number to round, the whole text (Katib's UI shows it
    as the trial printed it)."""
    from test_darts_run import GENOTYPE, darts_cpu, run

    code, outcome = run(darts_cpu(), tmp_path, capsys)
    assert code == 0, outcome
    store = ["--store", str(tmp_path / "store")]
    assert main(["trials", "darts-cpu", *store]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[2] == GENOTYPE
    assert main(["status", "darts-cpu", *store]) == 0
    assert f"best trial: {outcome['best_trial']['name']}  Best-Genotype={GENOTYPE}\n" in capsys.readouterr().out


# --- logs --namespace without TRIAL --------------------------------------------------------------


def test_logs_of_every_trial_reads_a_running_trials_pod_in_the_namespace_given(cluster, tmp_path, capsys):
    """The experiment says namespace team-a, the trial's pod runs in team-b (the launcher
    config's namespace): without --namespace its log is looked for in team-a, where no pod of it
    runs; ``--namespace team-b`` reads the pod's log, as ``logs NAME TRIAL --namespace`` does."""
    from test_client import _started_trial

    from fake_kube import Script
    from kfp_tune.core.trials import trial_run
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

    experiment, trial = _started_trial(tmp_path / "store", quadratic_experiment(**{"metadata.namespace": "team-a"}))
    cluster.script = lambda manifest: Script(run_seconds=3600, log=[(0.0, "step=0 loss=0.5 accuracy=0.5")])
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-b"), api_client=cluster.api_client())
    launcher.create_or_adopt(launcher.prepare(trial_run(experiment, trial, "team-b")))
    store = ["--store", str(tmp_path / "store")]
    capsys.readouterr()
    assert main(["logs", "quad", *store, "--namespace", "team-b"]) == 0
    assert capsys.readouterr().out == f"==> {trial.name} (Running) <==\nstep=0 loss=0.5 accuracy=0.5\n"
    assert main(["logs", "quad", *store]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"==> {trial.name} (Running) <==\n(no log: ") and "no pod of it runs in namespace 'team-a'" in out


# --- render's --launcher-config namespace --------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ('{"namespace": null}', "expected a Kubernetes namespace name, a string, got null"),  # was "got 'None'", Python's spelling
        ('{"namespace": 7}', "expected a Kubernetes namespace name, a string, got 7"),
        ('{"namespace": "Bad_NS"}', "expected a Kubernetes name, a DNS-1123 label"),
    ],
)
def test_render_refuses_a_launcher_config_namespace_that_is_no_name(tmp_path, capsys, config, words):
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment()))
    assert main(["render", str(path), "--launcher-config", config]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: --launcher-config namespace: {words}") and captured.out == ""


# --- list --json's help --------------------------------------------------------------------------


def test_list_json_help_names_every_field_of_a_row(tmp_path, capsys):
    """The help left out metrics_unavailable, a field every row has."""
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.maxFailedTrialCount": 1, "spec.parallelTrialCount": 1})))
    store = ["--store", str(tmp_path / "store")]
    assert main(["run", str(path), "--engine", "inline", *store]) == 0
    capsys.readouterr()
    assert main(["list", *store, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert main(["list", "--help"]) == 0
    listed = " ".join(capsys.readouterr().out.split()).split("an object per experiment: ", 1)[1]
    assert set(row) <= {name.strip(" ,") for name in listed.split()}, sorted(set(row) - set(listed.replace(",", " ").split()))


# --- main's catch-all, validate's ConfigMap note, the bounds of two checks -----------------------


def test_an_unexpected_error_is_one_line_exit_1_and_its_traceback_only_with_vv(monkeypatch, capsys):
    import kfp_tune.cli

    def broken(args):
        raise RuntimeError("x")

    monkeypatch.setattr(kfp_tune.cli, "cmd_list", broken)
    for verbosity in ([], ["-v"]):
        assert main([*verbosity, "list"]) == 1
        assert capsys.readouterr().err == "error: unexpected RuntimeError: x (a defect in kfp-tune; -vv shows the traceback)\n"
    assert main(["-vv", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and err.endswith("error: unexpected RuntimeError: x (a defect in kfp-tune; -vv shows the traceback)\n")


def test_validate_notes_that_a_configmap_template_is_read_when_the_run_starts(tmp_path, capsys):
    doc = config_map_experiment()
    path = tmp_path / "cm.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["validate", str(path)]) == 0
    assert ("note: the trial template is read from ConfigMap ns/templates (key 't.yaml') when the run starts on the cluster; "
            "--trial-templates FILE checks it here\n") in capsys.readouterr().err


def test_a_local_run_takes_parallel_trial_count_up_to_the_limit(tmp_path, capsys, monkeypatch):
    """MAX_LOCAL_SLOTS itself is taken (256 trials at once; the limit made 2 here, to run 2)."""
    monkeypatch.setattr("kfp_tune.api.MAX_LOCAL_SLOTS", 2)
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.parallelTrialCount": 2, "spec.maxTrialCount": 2})))
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0
    assert "spec.parallelTrialCount" not in capsys.readouterr().err


def test_a_namespace_of_63_characters_is_taken_and_one_of_64_refused(tmp_path, capsys):
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment()))
    assert main(["render", str(path), "--namespace", "n" * 63]) == 0
    assert f"namespace: {'n' * 63}" in capsys.readouterr().out
    assert main(["render", str(path), "--namespace", "n" * 64]) == 2
    assert capsys.readouterr().err.startswith("error: --namespace: expected a Kubernetes name, a DNS-1123 label")


def test_run_take_over_claims_an_experiment_another_live_run_holds(tmp_path, capsys):
    """--take-over reaches the inline run (the QA's mutant dropped it there and survived): the
    claim of another run id, still live, is taken and the trials run."""
    from kfp_tune.core import claims
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import ExperimentView
    from kfp_tune.stores import LocalStore

    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})))
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    claims.claim(records, "run-elsewhere")  # held by this live process: a run that looks alive
    run = ["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]
    assert main(run) == 1
    assert "is being run by run 'run-elsewhere'" in capsys.readouterr().err
    assert main([*run, "--take-over"]) == 0
    state = ExperimentView(records).refresh()
    assert [t.status for t in state.trials] == ["Succeeded", "Succeeded"]


def test_a_take_over_refused_for_a_damaged_claim_leaves_the_store_as_it_was(tmp_path, capsys):
    """--take-over skipped the pre-flight's read of the claim, so a restart of a completed
    experiment wrote its new spec (experiment.json, a revision) before the claim was read and its
    damage refused the run: after the repair, the spec it had completed with was refused."""
    import time

    from kfp_tune.core import claims
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.vocabulary import RecordKind
    from kfp_tune.stores import LocalStore

    def spec(max_trials: int) -> str:
        path = tmp_path / f"quad{max_trials}.yaml"
        overrides = {"spec.maxTrialCount": max_trials, "spec.parallelTrialCount": 1, "spec.resumePolicy": "LongRunning"}
        path.write_text(yaml.safe_dump(quadratic_experiment(**overrides)))
        return str(path)

    store = tmp_path / "store"
    assert main(["run", spec(2), "--engine", "inline", "--store", str(store)]) == 0
    records = ExperimentRecords(LocalStore(store), "quad")
    ahead = time.time() + 2 * claims.CLOCK_SKEW_SECONDS  # a claim no clock here could have written, its run not ended
    records.write_once(records.claim_key(2), RecordKind.RUN_CLAIM, {"run": "run-ahead", "at": ahead, "ttl": 900.0})
    before = {path: path.read_bytes() for path in store.rglob("*") if path.is_file()}
    capsys.readouterr()
    assert main(["run", spec(3), "--engine", "inline", "--store", str(store), "--take-over"]) == 2
    assert "runs/000002.json is damaged" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in store.rglob("*") if path.is_file()} == before
