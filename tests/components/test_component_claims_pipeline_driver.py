"""A user's own pipeline under kfp.local whose own step (data preparation, training) between two
kfp-tune steps runs past the hand-over grace: the run is alive while the Python process that
called the pipeline (kfp.local's orchestrator, every step's ancestor) runs, so a second run of
the pipeline is refused however long that step takes (session 36's review C, left over).

The grace is shortened to 0 in every process of both runs (a sitecustomize), so the first run's
claim would lapse as soon as its suggest step ended: no test waits a minute out."""

# No `from __future__ import annotations`: kept like the other component tests.
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import quadratic_experiment
from kfp_tune.core import claims
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.stores import LocalStore

PIPELINE_WITH_A_STEP_OF_ITS_OWN = """
import sys
from kfp import dsl, local
from kfp_tune.components import launch_trial, suggest
store, spec, root, gate = sys.argv[1:5]

@dsl.component(base_image="python:3.11", install_kfp_package=False)
def prepare_data(gate: str) -> str:
    import pathlib, time
    if gate:
        (pathlib.Path(gate).parent / "preparing").touch()
        deadline = time.monotonic() + 120  # a bound on the wait only turns a regression's hang into a failure
        while not pathlib.Path(gate).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    return "ready"

@dsl.pipeline(name="own")
def own(store_uri: str, experiment_spec: str, gate: str):
    run = dsl.PIPELINE_JOB_ID_PLACEHOLDER
    made = suggest(store_uri=store_uri, experiment_name="quad", run_id=run, round_index=0, rounds_total=1, experiment_spec=experiment_spec, trial_count=0)
    data = prepare_data(gate=gate).after(made)
    launch_trial(store_uri=store_uri, experiment_name="quad", launcher_config='{"kind": "local"}', run_id=run).after(data)

local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=root, raise_on_error=True)
own(store_uri=store, experiment_spec=spec, gate=gate)
"""
NO_GRACE = "from kfp_tune.core import claims\nclaims.HAND_OVER_SECONDS = 0.0\n"


@pytest.mark.kfp_local
def test_a_second_run_is_refused_while_the_first_runs_a_step_of_its_own_past_the_grace(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_GRACE)
    trial = tmp_path / "trial.py"
    trial.write_text("print('loss=0.5')\n")
    container = {"name": "main", "image": "python:3.11-slim", "command": [sys.executable, str(trial)],
                 "args": ["${trialParameters.x}", "${trialParameters.y}"]}
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"] = [container]
    spec, store, gate = json.dumps(doc), str(tmp_path / "store"), tmp_path / "gate"
    env = {k: v for k, v in os.environ.items() if k != claims.OWNER_VARIABLE}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    script = tmp_path / "own_pipeline.py"  # a file: kfp reads a component's source
    script.write_text(PIPELINE_WITH_A_STEP_OF_ITS_OWN)
    command = [sys.executable, str(script), store, spec]
    first = subprocess.Popen([*command, str(tmp_path / "root1"), str(gate)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "preparing").exists():  # run 1's own step runs: its suggest step has ended, the grace (0 s) is past
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0][-3000:] if first.poll() is not None else "no step"
            time.sleep(0.2)
        second = subprocess.run([*command, str(tmp_path / "root2"), ""], capture_output=True, text=True, env=env, timeout=240)
        said = second.stdout + second.stderr
        assert second.returncode != 0, said[-3000:]
        assert "ExperimentBusy: experiment 'quad' is being run by run " in said, said[-3000:]
        assert f"process {first.pid} on this machine" in said, "it names the process that runs the first run's pipeline"
    finally:
        gate.touch()
        out = first.communicate(timeout=240)[0]
    assert first.returncode == 0, out[-3000:]
    current = claims.latest_claim(ExperimentRecords(LocalStore(store), "quad"))
    assert current is not None and current.seq == 1, "the second run never claimed"
