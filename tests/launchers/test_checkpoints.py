"""Each trial's checkpoint folder (``suggestion_trial_dir``): on this machine in the store (a
folder store in place; an S3 store synced before and after), on a cluster a ReadWriteMany claim
mounted at ``<experiment>/<trial>`` with the parent's folder copied by an init container, its
manifest checked against the schemas and the fake API server; and a missing or bad volume
setting refused, naming the field, before anything runs."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, quadratic_experiment
from fake_kube import TRAINING_OPERATOR, FakeKube, validate
from kfp_tune.cli import main
from kfp_tune.collectors.sidecar import CONTAINER_NAME
from kfp_tune.core.checkpoints import PARENT_LABEL
from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.space import search_space_of
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers import LocalLauncher, check_experiment, launcher_from_config
from kfp_tune.launchers.checkpoints import TrialFolder, copy_parent, store_prefix
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.launchers.kubernetes.kinds import trial_kind
from kfp_tune.launchers.kubernetes.manifests import CHECKPOINT_COPIER, CHECKPOINT_VOLUME
from kfp_tune.stores import LocalStore

PBT_DIGITS = REPO / "images" / "pbt-digits" / "experiment.yaml"
CLAIM = "pbt-checkpoints"
FIELD = "launcher_config checkpointVolume.claimName"


# --- on this machine ----------------------------------------------------------------------------


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


PARENT_FILES = {"model.pkl": b"weights", "logs/steps.txt": b"12"}


def test_a_folder_store_keeps_the_folder_in_place_as_a_copy_of_the_parents(tmp_path):
    store = LocalStore(tmp_path / "store")
    records = ExperimentRecords(store, "exp")
    _write_tree(store.root / store_prefix(records, "parent"), PARENT_FILES)
    stale = store.root / store_prefix(records, "child")
    _write_tree(stale, {"left-by-an-earlier-attempt": b"x"})
    folder = TrialFolder(records, "child", "parent", tmp_path / "scratch")
    path = folder.open()
    assert path == stale and _tree(path) == PARENT_FILES, "the parent's files, and nothing an earlier attempt left"
    (path / "model.pkl").write_bytes(b"better weights")
    assert folder.save() == 0  # nothing to upload: the store is this folder
    assert store.get("experiments/exp/trials/child/checkpoint/model.pkl") == b"better weights"
    assert store.get("experiments/exp/trials/parent/checkpoint/model.pkl") == b"weights", "the parent's folder is left as it was"


def test_without_a_parent_the_trial_starts_with_an_empty_folder(tmp_path):
    """A parent whose folder is gone fails the child instead (test_checkpoint_parent_copies.py)."""
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "exp")
    path = TrialFolder(records, "child", "", tmp_path / "scratch").open()
    assert path.is_dir() and _tree(path) == {}


@pytest.mark.s3
def test_an_s3_store_is_synced_before_and_after_the_trial(s3_store, tmp_path):
    records = ExperimentRecords(s3_store, "exp")
    for relative, data in PARENT_FILES.items():
        s3_store.put(store_prefix(records, "parent") + relative, data)
    folder = TrialFolder(records, "child", "parent", tmp_path / "scratch")
    path = folder.open()
    assert path.is_relative_to(tmp_path / "scratch") and _tree(path) == PARENT_FILES
    (path / "model.pkl").write_bytes(b"better weights")
    (path / "new" / "state.json").parent.mkdir()
    (path / "new" / "state.json").write_bytes(b"{}")
    assert folder.save() == 3
    prefix = store_prefix(records, "child")
    assert {key[len(prefix):]: s3_store.get(key) for key in s3_store.list(prefix)} == {"logs/steps.txt": b"12", "model.pkl": b"better weights", "new/state.json": b"{}"}


@pytest.mark.s3
def test_folder_markers_in_the_parents_s3_folder_are_no_files(s3_store, seaweed, tmp_path):
    """Zero-byte keys ending in '/' (the S3 console's "Create folder", some sync tools) are listed
    with the files; copying one as a file failed the trial (SeaweedFS refuses to read it, AWS S3
    gives b'' for a path that is the folder: IsADirectoryError). They are skipped."""
    from minio import Minio

    records = ExperimentRecords(s3_store, "exp")
    parent = store_prefix(records, "parent")
    for relative, data in PARENT_FILES.items():
        s3_store.put(parent + relative, data)
    bucket = Minio(seaweed.endpoint.split("://")[1], access_key=seaweed.access_key, secret_key=seaweed.secret_key, secure=False)
    for marker in (parent, parent + "logs/"):
        bucket.put_object(s3_store.bucket, f"{s3_store.prefix}/{marker}", io.BytesIO(b""), 0)
    assert {parent, parent + "logs/"} <= set(s3_store.list(parent))
    path = TrialFolder(records, "child", "parent", tmp_path / "scratch").open()
    assert _tree(path) == PARENT_FILES


def test_a_checkpoint_that_cannot_be_kept_fails_the_trial(tmp_path, monkeypatch):
    """The next generation would start from nothing: the trial did not do its job."""
    experiment = load_experiment(_pbt_quadratic(tmp_path))
    store = LocalStore(tmp_path / "store")
    from kfp_tune.steps.prepare import prepare

    prepare(ExperimentRecords(store, experiment.name), experiment)

    def refuse(self) -> int:
        raise StoreError("the store is full")

    monkeypatch.setattr(TrialFolder, "save", refuse)
    run = trial_run(experiment, TrialState("quad-t", 0, "r0", {"x": "0.5", "y": "0.5"}, ""))
    outcome = LocalLauncher(env={"KFP_TUNE_STORE": store.uri}).run(run)
    assert (outcome.phase, outcome.reason) == ("Failed", "CheckpointNotSaved") and "the store is full" in outcome.message


def test_a_local_launcher_without_the_store_refuses_a_trial_with_a_checkpoint_folder():
    run = TrialRun(
        experiment="exp", trial="t", assignment={}, primary_container="main", checkpoint_path="/ckpt",
        manifest={"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "main", "command": ["true"]}]}}}},
    )
    outcome = LocalLauncher().run(run)
    assert (outcome.phase, outcome.reason) == ("Failed", "InvalidTrial")
    assert "suggestion_trial_dir" in outcome.message and "KFP_TUNE_STORE" in outcome.message


def test_a_succeeded_trial_that_left_its_checkpoint_folder_empty_is_warned_of_once(tmp_path, caplog):
    """A script that writes its checkpoint elsewhere (a default path of its own) leaves every
    folder empty, and its children start from nothing: told once per experiment, from the local
    folder (no store listing)."""
    experiment = load_experiment(_pbt_quadratic(tmp_path))
    store = LocalStore(tmp_path / "store")
    from kfp_tune.steps.prepare import prepare

    prepare(ExperimentRecords(store, experiment.name), experiment)
    launcher = LocalLauncher(env={"KFP_TUNE_STORE": store.uri})
    caplog.set_level("WARNING")
    for index in range(2):
        outcome = launcher.run(trial_run(experiment, TrialState(f"quad-t{index}", index, "r0", {"x": "0.5", "y": "0.5"}, "")))
        assert outcome.phase == "Succeeded", outcome.logs
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"trial quad-t0 succeeded and left its checkpoint folder (suggestion_trial_dir {tmp_path / 'ckpt'}) empty: the trials that carry on "
        "from it start with nothing; does the trial write its checkpoint where its command names that path?"
    ]


def _trial_container(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]


def test_a_trial_dir_no_word_of_the_command_names_is_noted_by_validate_and_run(tmp_path, capsys):
    """Katib's pbt_test.py takes /var/log/katib/checkpoints/ as its own default, which works on a
    cluster (the folder is mounted there); here each trial's folder is mapped only where a word
    names the path, so every trial would share one folder of this machine: validate and run say so."""
    doc = _pbt_quadratic(tmp_path)
    trial_dir = str(tmp_path / "ckpt")
    assert LocalLauncher().unnamed_trial_dir(load_experiment(doc)) == trial_dir
    path = tmp_path / "pbt.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["validate", str(path)]) == 0
    note = f"note: spec.algorithm.algorithmSettings: suggestion_trial_dir {trial_dir} is named by no word of the trial's command, args or env;"
    assert note in capsys.readouterr().err
    doc["spec"].update(maxTrialCount=1, parallelTrialCount=1, maxFailedTrialCount=1)
    path.write_text(yaml.safe_dump(doc))
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0
    assert note in capsys.readouterr().err
    container = _trial_container(doc)
    named = [
        {"args": [*container.get("args", []), f"--checkpoint={trial_dir}/"]},
        {"env": [{"name": "CHECKPOINT_DIR", "value": f"{trial_dir}/model.pt"}]},
        {"command": ["sh", "-c", f"python3 train.py ${{trialParameters.x}} ${{trialParameters.y}} --out {trial_dir} && ls '{trial_dir}/x'"], "args": []},
        {"workingDir": trial_dir},
    ]
    for change in named:
        named_doc = _pbt_quadratic(tmp_path)
        _trial_container(named_doc).update(change)
        assert LocalLauncher().unnamed_trial_dir(load_experiment(named_doc)) == "", change
    lookalike = _pbt_quadratic(tmp_path)
    _trial_container(lookalike).update({"command": ["sh", "-c", f"python3 train.py ${{trialParameters.x}} ${{trialParameters.y}} --out {trial_dir}x"], "args": []})
    assert LocalLauncher().unnamed_trial_dir(load_experiment(lookalike)) == trial_dir
    assert LocalLauncher().unnamed_trial_dir(load_experiment(quadratic_experiment())) == "", "no pbt, no checkpoint folders"


def _pbt_quadratic(tmp_path: Path) -> dict[str, Any]:
    """The quadratic trial (it ignores the folder) with pbt's checkpoint setting."""
    settings = [{"name": "suggestion_trial_dir", "value": str(tmp_path / "ckpt")}, {"name": "n_population", "value": "5"}]
    return quadratic_experiment(**{"spec.algorithm": {"algorithmName": "pbt", "algorithmSettings": settings}})


# --- the cluster's copier (an init container) ---------------------------------------------------


def test_the_copier_copies_the_parents_folder(tmp_path):
    _write_tree(tmp_path / "parent", PARENT_FILES)
    assert "copied" in copy_parent(tmp_path, "parent", "child")
    assert _tree(tmp_path / "child") == PARENT_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child", "parent"], "no staging folder left behind"


def test_the_copier_leaves_a_folder_in_use_alone_and_refuses_a_missing_parent(tmp_path):
    _write_tree(tmp_path / "parent", PARENT_FILES)
    _write_tree(tmp_path / "child", {"written-by-the-trial": b"1"})
    assert "left as it is" in copy_parent(tmp_path, "parent", "child")
    assert _tree(tmp_path / "child") == {"written-by-the-trial": b"1"}
    (tmp_path / "empty").mkdir()  # made by kubelet for another pod's mount: filled
    copy_parent(tmp_path, "parent", "empty")
    assert _tree(tmp_path / "empty") == PARENT_FILES
    with pytest.raises(StoreError, match=r"the checkpoint of the parent trial 'gone' is missing \(no folder .*gone\)"):  # as Katib's pbt service refuses it
        copy_parent(tmp_path, "gone", "orphan")
    assert not (tmp_path / "orphan").exists()


def test_the_copier_runs_as_the_init_container_runs_it(tmp_path):
    _write_tree(tmp_path / "exp" / "parent", PARENT_FILES)
    done = subprocess.run([sys.executable, "-m", "kfp_tune.launchers.checkpoints", str(tmp_path / "exp"), "parent", "child"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _tree(tmp_path / "exp" / "child") == PARENT_FILES
    refused = subprocess.run([sys.executable, "-m", "kfp_tune.launchers.checkpoints", str(tmp_path), "../etc", "child"], capture_output=True, text=True)
    assert refused.returncode == 2 and "folder names" in refused.stderr


# --- on a cluster -------------------------------------------------------------------------------


def _cluster_run(path: Path, parent: str, claim: str = CLAIM) -> tuple[dict[str, Any], str, Any]:
    """The manifest for a trial of the experiment at ``path`` whose parent is ``parent``."""
    experiment = load_experiment(path)
    config = KubernetesConfig(namespace="team-a", checkpoint_claim=claim)
    state = TrialState("pbt-digits-child", 3, "r2", {"lr": "0.1"}, "", labels={PARENT_LABEL: parent} if parent else {})
    manifest = KubernetesLauncher(config, env={"KFP_TUNE_STORE": "s3://mlpipeline/kfp-tune"}).prepare(trial_run(experiment, state, "team-a"))
    return manifest, state.name, experiment


def _pod(manifest: dict[str, Any]) -> dict[str, Any]:
    return manifest["spec"]["template"]["spec"]


def test_a_trial_with_a_parent_mounts_its_folder_and_copies_the_parents_first():
    manifest, trial, _ = _cluster_run(PBT_DIGITS, parent="pbt-digits-parent")
    validate(manifest)  # batch/v1 Job, strict
    pod = _pod(manifest)
    assert {"name": CHECKPOINT_VOLUME, "persistentVolumeClaim": {"claimName": CLAIM}} in pod["volumes"]
    container = next(c for c in pod["containers"] if c["name"] == "training-container")
    assert {"name": CHECKPOINT_VOLUME, "mountPath": "/var/log/katib/checkpoints/", "subPath": f"pbt-digits/{trial}"} in container["volumeMounts"]
    copier = pod["initContainers"][0]
    assert copier["name"] == CHECKPOINT_COPIER and copier["command"][-2:] == ["pbt-digits-parent", trial]
    root = copier["command"][-3]
    assert copier["volumeMounts"] == [{"name": CHECKPOINT_VOLUME, "mountPath": root, "subPath": "pbt-digits"}]
    assert "--checkpoint=/var/log/katib/checkpoints/" in shlex.split(container["args"][0]), "the command names the path as written: the volume is there"
    assert manifest["metadata"]["labels"][PARENT_LABEL] == "pbt-digits-parent"
    assert manifest["spec"]["template"]["metadata"]["labels"][PARENT_LABEL] == "pbt-digits-parent"
    fake = FakeKube()
    status, answer, _ = fake.handle("POST", "/apis/batch/v1/namespaces/team-a/jobs", manifest)
    assert status == 201, answer


def test_a_first_generation_trial_gets_its_folder_and_no_copier():
    manifest, trial, _ = _cluster_run(PBT_DIGITS, parent="")
    validate(manifest)
    pod = _pod(manifest)
    assert not any(c["name"] == CHECKPOINT_COPIER for c in pod.get("initContainers") or [])
    container = pod["containers"][0]
    assert {"name": CHECKPOINT_VOLUME, "mountPath": "/var/log/katib/checkpoints/", "subPath": f"pbt-digits/{trial}"} in container["volumeMounts"]


def test_the_copier_comes_before_a_collector_sidecar_and_every_pod_template_gets_the_folder():
    """A PyTorchJob (master and workers run the primary container) with a File collector: every
    pod gets the copier, first; the primary pod's (the Master's) the collector's native sidecar
    after it."""
    pytorch = REPO / "tests" / "data" / "katib-examples" / "kubeflow-training-operator_pytorchjob-mnist.yaml"
    doc = yaml.safe_load(pytorch.read_text())
    doc["spec"]["algorithm"] = {"algorithmName": "pbt", "algorithmSettings": [{"name": "suggestion_trial_dir", "value": "/ckpt"}, {"name": "n_population", "value": "5"}]}
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/logs/metrics.log", "kind": "File"}}}
    experiment = load_experiment(doc)
    space = search_space_of(experiment.spec.parameters)
    state = TrialState("mnist-child", 3, "r2", {p.name: p.format(p.value_at(0)) for p in space}, "", labels={PARENT_LABEL: "mnist-parent"})
    config = KubernetesConfig(namespace="team-a", checkpoint_claim=CLAIM)
    manifest = KubernetesLauncher(config).prepare(trial_run(experiment, state, "team-a"))
    validate(manifest)
    replicas = manifest["spec"]["pytorchReplicaSpecs"]
    for role in replicas:
        pod = replicas[role]["template"]["spec"]
        names = [c["name"] for c in pod["initContainers"]]
        assert names == [CHECKPOINT_COPIER, *([CONTAINER_NAME] if role == "Master" else [])], role  # the copier, then the collector
        primary = next(c for c in pod["containers"] if c["name"] == experiment.spec.trial_template.primary_container_name)  # type: ignore[union-attr]
        assert any(m["name"] == CHECKPOINT_VOLUME and m["subPath"] == f"{experiment.name}/mnist-child" for m in primary["volumeMounts"]), role
    fake = FakeKube(TRAINING_OPERATOR)
    status, answer, _ = fake.handle("POST", f"/apis/kubeflow.org/v1/namespaces/team-a/{trial_kind(manifest).plural}", manifest)
    assert status == 201, answer


def test_without_a_volume_a_cluster_run_is_refused_naming_the_field(tmp_path, capsys):
    experiment = load_experiment(PBT_DIGITS)
    with pytest.raises(ValueError, match=FIELD):
        _cluster_run(PBT_DIGITS, parent="p", claim="")
    with pytest.raises(ValueError, match=FIELD):
        check_experiment(launcher_from_config({"kind": "kubernetes", "namespace": "team-a"}), experiment)
    check_experiment(launcher_from_config({"kind": "kubernetes", "namespace": "team-a", "checkpointVolume": {"claimName": CLAIM}}), experiment)
    check_experiment(launcher_from_config({"kind": "local"}), experiment)  # the store keeps them
    # compile, with the cluster's launcher config, refuses before writing anything
    output = tmp_path / "pipeline.yaml"
    assert main(["compile", str(PBT_DIGITS), "-o", str(output), "--launcher-config", json.dumps({"kind": "kubernetes", "namespace": "team-a"})]) == 2
    assert FIELD in capsys.readouterr().err and not output.exists()
    assert main(["render", str(PBT_DIGITS)]) == 2
    assert FIELD in capsys.readouterr().err
    assert main(["render", str(PBT_DIGITS), "--launcher-config", json.dumps({"checkpointVolume": {"claimName": CLAIM}})]) == 0
    assert CLAIM in capsys.readouterr().out


def test_a_cluster_launch_step_refuses_before_making_a_trial(tmp_path):
    from kfp_tune.steps.entrypoints import launch_trials_step
    from kfp_tune.steps.prepare import prepare

    store = LocalStore(tmp_path / "store")
    experiment = load_experiment(PBT_DIGITS)
    records = ExperimentRecords(store, experiment.name)
    prepare(records, experiment, "run-1")
    with pytest.raises(ValueError, match=FIELD):
        launch_trials_step(store.uri, experiment.name, json.dumps({"kind": "kubernetes", "namespace": "team-a"}), "run-1", 0, 1)
    assert store.list(f"{records.root}/rounds/") == [], "no trial was made"


@pytest.mark.parametrize(
    "volume",
    [{"claimName": ""}, {"claimName": "Not_A_Name"}, {"claim": CLAIM}, {"claimName": CLAIM, "mountPath": "/x"}, "pbt-checkpoints", {"claimName": 5}],
    ids=["empty", "not-a-name", "misspelt", "unknown-key", "a-string", "a-number"],
)
def test_a_bad_volume_setting_is_refused_naming_the_field(volume: Any):
    with pytest.raises(ValueError, match=FIELD):
        KubernetesConfig.from_dict({"kind": "kubernetes", "namespace": "team-a", "checkpointVolume": volume})
