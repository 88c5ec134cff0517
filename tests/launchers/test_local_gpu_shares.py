"""With the local launcher (trials as subprocesses, e.g. inside a launch-trial pod that asks for
``nvidia.com/gpu`` times parallelTrialCount) every trial saw every GPU of the pod: two trials
asking for one GPU each both ran on GPU 0 while GPU 1 sat idle. Each running trial now gets its
own share of the GPUs the process may use (CUDA_VISIBLE_DEVICES, else NVIDIA_VISIBLE_DEVICES),
a trial asking for none gets none, and a trial waits while the others hold its share. No GPU is
needed: the lists are fake and the trials print what they were given."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.local import GpuList, GpuPool, LocalLauncher, visible_gpus

WAIT_FOR_PEERS = """\
import os, pathlib, sys, time
here = pathlib.Path(sys.argv[1])
(here / sys.argv[2]).write_text(os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>") + "|" + os.environ.get("NVIDIA_VISIBLE_DEVICES", "<unset>"))
for _ in range(6000):  # until every trial of the run is running: they hold their GPUs together
    if len(list(here.iterdir())) >= int(sys.argv[3]):
        break
    time.sleep(0.01)
else:
    sys.exit("the other trials never started")
print("loss=0.5")
"""


@pytest.fixture(autouse=True)
def no_gpu_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the lists it means; this machine's own are not part of it."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("NVIDIA_VISIBLE_DEVICES", raising=False)


def _manifest(command: list[str], gpus: Any = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "x", "command": command}
    if gpus is not None:
        container["resources"] = {"limits": {"nvidia.com/gpu": gpus}}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"}, "spec": {"template": {"spec": {"containers": [container]}}}}


def _run_together(tmp_path: Path, gpus: list[Any]) -> list[str]:
    """What each of ``len(gpus)`` trials, run at once (trial i asking for gpus[i]), was given:
    "CUDA_VISIBLE_DEVICES|NVIDIA_VISIBLE_DEVICES"."""
    script, seen = tmp_path / "trial.py", tmp_path / "seen"
    script.write_text(WAIT_FOR_PEERS)
    seen.mkdir()
    launcher = LocalLauncher()
    outcomes: list[Any] = [None] * len(gpus)

    def one(index: int) -> None:
        manifest = _manifest(["python3", str(script), str(seen), f"t{index}", str(len(gpus))], gpus[index])
        outcomes[index] = launcher.run(TrialRun("e", f"t{index}", manifest, {}, "main"))

    threads = [threading.Thread(target=one, args=(index,)) for index in range(len(gpus))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [outcome.phase.value for outcome in outcomes] == ["Succeeded"] * len(gpus), [outcome.message for outcome in outcomes]
    return [(seen / f"t{index}").read_text() for index in range(len(gpus))]


def test_two_trials_running_at_once_each_get_their_own_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    given = _run_together(tmp_path, [1, 1])
    assert sorted(given) == ["0|<unset>", "1|<unset>"]


def test_the_uuids_a_pod_is_given_are_shared_out_and_a_trial_asking_for_none_sees_no_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pod given GPUs by the device plugin lists them in NVIDIA_VISIBLE_DEVICES; CUDA takes the
    UUIDs too. The trial asking for 2 gets two, the one asking for none gets none."""
    monkeypatch.setenv("NVIDIA_VISIBLE_DEVICES", "GPU-aaa,GPU-bbb,GPU-ccc")
    given = _run_together(tmp_path, [2, 0, 1])
    assert given[1] == "|void"
    shares = [set(given[0].split("|")[0].split(",")), set(given[2].split("|")[0].split(","))]
    assert [len(share) for share in shares] == [2, 1] and shares[0] | shares[1] == {"GPU-aaa", "GPU-bbb", "GPU-ccc"}
    assert all(text.split("|")[0] == text.split("|")[1] for text in (given[0], given[2]))


@pytest.mark.parametrize("nvidia", [None, "all", "none", "void", ""])
def test_with_no_list_of_gpus_the_trial_s_env_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                                                           nvidia: str | None) -> None:
    if nvidia is not None:
        monkeypatch.setenv("NVIDIA_VISIBLE_DEVICES", nvidia)
    assert visible_gpus({} if nvidia is None else {"NVIDIA_VISIBLE_DEVICES": nvidia}) is None
    caplog.set_level("INFO", logger="kfp_tune.launchers.local")
    given = _run_together(tmp_path, [1, 1])
    assert given == ["<unset>|" + ("<unset>" if nvidia is None else nvidia)] * 2
    told = [record.getMessage() for record in caplog.records if "lists the GPUs" in record.getMessage()]
    assert len(told) == 1 and "no trial gets a share of its own" in told[0]  # once, not per trial


def test_a_trial_waits_while_the_others_hold_its_share_and_gets_it_when_they_end(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="kfp_tune.launchers.local")
    pool = GpuPool(GpuList("CUDA_VISIBLE_DEVICES", ("0", "1")))
    interrupted = threading.Event()
    got: list[dict[str, str]] = []
    running = threading.Event()

    def second() -> None:
        with pool.held("t2", 2, interrupted) as env:
            got.append(env)
            running.set()

    with pool.held("t1", 1, interrupted) as first:
        assert first == {"CUDA_VISIBLE_DEVICES": "0"}
        thread = threading.Thread(target=second)
        thread.start()
        for _ in range(10_000):  # until it says it waits (bounded)
            if any("t2 waits for 2" in record.getMessage() for record in caplog.records):
                break
            running.wait(0.01)
        assert not running.is_set() and not got
    thread.join()
    assert got == [{"CUDA_VISIBLE_DEVICES": "0,1"}]
    with pool.held("t3", 1, interrupted) as third:  # all returned
        assert third == {"CUDA_VISIBLE_DEVICES": "0"}


def test_an_interrupt_ends_the_wait_and_the_trial_never_starts() -> None:
    pool = GpuPool(GpuList("CUDA_VISIBLE_DEVICES", ("0",)))
    interrupted = threading.Event()
    with pool.held("t1", 1, interrupted):
        interrupted.set()
        with pytest.raises(RunInterrupted), pool.held("t2", 1, interrupted):
            pytest.fail("the trial started")


def test_host_indexes_in_nvidia_visible_devices_become_the_containers_cuda_numbers() -> None:
    """A device plugin set to index IDs lists the host's GPUs (``2,3``); the container's CUDA
    numbers them 0 and 1: a trial given host GPU 3 must see CUDA_VISIBLE_DEVICES=1, not 3 (no such
    GPU inside), and UUIDs pass as they are."""
    pool = GpuPool(GpuList("NVIDIA_VISIBLE_DEVICES", ("2", "3:1", "GPU-x")))
    interrupted = threading.Event()
    with pool.held("t1", 1, interrupted) as first, pool.held("t2", 2, interrupted) as second:
        assert first == {"CUDA_VISIBLE_DEVICES": "0", "NVIDIA_VISIBLE_DEVICES": "2"}
        assert second == {"CUDA_VISIBLE_DEVICES": "1,GPU-x", "NVIDIA_VISIBLE_DEVICES": "3:1,GPU-x"}


def test_run_says_a_gpu_count_set_by_a_trial_parameter_is_given_per_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    """``nvidia.com/gpu: ${trialParameters.gpus}`` is known per trial only: the note must not say
    the trials get no GPU (they get as many as their parameter says)."""
    from conftest import quadratic_experiment

    doc = quadratic_experiment()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"limits": {"nvidia.com/gpu": "${trialParameters.x}"}}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    notes = LocalLauncher().not_done_here(load_experiment(doc))
    assert notes == [
        "container 'main' asks for as many nvidia.com/gpu as a trial parameter says: each running trial gets that many of "
        "CUDA_VISIBLE_DEVICES=0,1 as its CUDA_VISIBLE_DEVICES, its own until it ends; a trial waits while the others hold them"
    ]


def test_a_trial_asking_for_more_than_the_list_holds_gets_all_of_it() -> None:
    pool = GpuPool(GpuList("CUDA_VISIBLE_DEVICES", ("3",)))
    with pool.held("t1", 4, threading.Event()) as env:
        assert env == {"CUDA_VISIBLE_DEVICES": "3"}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CUDA_VISIBLE_DEVICES": "0, 1", "NVIDIA_VISIBLE_DEVICES": "GPU-x"}, GpuList("CUDA_VISIBLE_DEVICES", ("0", "1"))),
        ({"CUDA_VISIBLE_DEVICES": ""}, GpuList("CUDA_VISIBLE_DEVICES", ())),
        ({"NVIDIA_VISIBLE_DEVICES": "GPU-x,GPU-y"}, GpuList("NVIDIA_VISIBLE_DEVICES", ("GPU-x", "GPU-y"))),
        ({"NVIDIA_VISIBLE_DEVICES": "ALL"}, None),
        ({"NVIDIA_VISIBLE_DEVICES": "/var/run/nvidia-container-devices"}, None),  # the device plugin's volume-mounts strategy
        ({"NVIDIA_VISIBLE_DEVICES": "0,1:0"}, GpuList("NVIDIA_VISIBLE_DEVICES", ("0", "1:0"))),
    ],
)
def test_the_list_comes_from_cuda_visible_devices_else_a_listing_nvidia_visible_devices(environ: dict[str, str], expected: GpuList | None) -> None:
    assert visible_gpus(environ) == expected


def test_run_says_how_the_gpus_are_shared_out_instead_of_not_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import quadratic_experiment

    doc = quadratic_experiment()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"limits": {"nvidia.com/gpu": 1, "cpu": "1"}}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    notes = LocalLauncher().not_done_here(load_experiment(doc))
    assert notes == [
        "container 'main' resources (cpu) are not applied locally: the trial uses this machine's CPUs, memory and GPUs as its process finds them",
        "container 'main' asks for 1 nvidia.com/gpu: each running trial gets 1 of CUDA_VISIBLE_DEVICES=0,1 as its CUDA_VISIBLE_DEVICES, "
        "its own until it ends; a trial waits while the others hold them",
    ]
    del container["resources"]
    assert LocalLauncher().not_done_here(load_experiment(doc)) == [
        "container 'main' asks for no nvidia.com/gpu: each trial gets CUDA_VISIBLE_DEVICES=\"\" (no GPU), as a pod that asks for none "
        "gets none of its node's GPUs (here CUDA_VISIBLE_DEVICES=0,1)"
    ]
    assert LocalLauncher().not_done_here(load_experiment(doc), with_resources=False) == []
