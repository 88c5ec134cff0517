"""A user's own pipeline of the components under kfp.local: each step a short-lived process of
one machine, the run's claim held by the process of the suggest step that took it, gone when the
step ends. The later steps' heartbeats, not that process, say the run is alive: a second run of
the same pipeline is refused while the first is heard from (QA pipeline, session 36, finding 1).
Each step runs through the component's ``python_func`` in a process of its own.Once more under kfp.local itself, two runs of one pipeline, each a process of its own."""

# No `from __future__ import annotations`: kept like the other component tests.
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import quadratic_experiment
from kfp_tune.components import suggest
from kfp_tune.core import claims
from kfp_tune.core.errors import ExperimentBusy
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.stores import LocalStore

SUGGEST_STEP = """
import sys
from kfp_tune.components import suggest
store, run, spec = sys.argv[1:4]
print(suggest.python_func(store_uri=store, experiment_name="quad", run_id=run, round_index=0, rounds_total=2, experiment_spec=spec, trial_count=0))
"""
DECIDE_STEP = """
import sys
from kfp import dsl
from kfp_tune.components import decide_stop
store, run, folder = sys.argv[1:4]
table = dsl.Markdown(name="trials_table", uri=folder + "/table.md")
report = dsl.HTML(name="report", uri=folder + "/report.html")
table.path, report.path = folder + "/table.md", folder + "/report.html"
print(decide_stop.python_func(store_uri=store, experiment_name="quad", run_id=run, round_index=0, rounds_total=2, trials_table=table, report=report))
"""


def _step(code: str, *args: str) -> str:
    """One pipeline step as kfp.local runs it: a process of its own, no ``kfp-tune run`` owning the run."""
    env = {k: v for k, v in os.environ.items() if k != claims.OWNER_VARIABLE}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def spec() -> str:
    return json.dumps(load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 4})).to_dict())


def test_a_run_whose_later_steps_beat_keeps_its_claim_after_its_suggest_step_ended(tmp_path, spec, monkeypatch):
    store = str(tmp_path / "store")
    _step(SUGGEST_STEP, store, "run-1", spec)  # claims, then its process ends
    records = ExperimentRecords(LocalStore(store), "quad")
    holder = claims.latest_claim(records)
    assert holder is not None and holder.run == "run-1" and claims.owner_is_gone(holder.owner), "the claiming step's process has ended"
    assert _step(DECIDE_STEP, store, "run-1", str(tmp_path)).strip() == "True"  # a later step of run-1, another process: it beats
    monkeypatch.delenv(claims.OWNER_VARIABLE, raising=False)
    with pytest.raises(ExperimentBusy, match=r"experiment 'quad' is being run by run 'run-1' \(claimed .*, last seen \d+ s ago\)") as info:
        suggest.python_func(store_uri=store, experiment_name="quad", run_id="run-2", round_index=0, rounds_total=2, experiment_spec=spec, trial_count=0)
    assert "take_over=True" in str(info.value)
    current = claims.latest_claim(records)
    assert current is not None and (current.seq, current.run, current.ended) == (1, "run-1", False), "run-2 took nothing"
    assert claims.check(records, "run-1").run == "run-1", "run-1's next step goes on"



OWN_PIPELINE = """
import sys
from kfp import dsl, local
from kfp_tune.components import launch_trial, suggest
store, spec, root = sys.argv[1:4]

@dsl.pipeline(name="own")
def own(store_uri: str, experiment_spec: str):
    run = dsl.PIPELINE_JOB_ID_PLACEHOLDER
    made = suggest(store_uri=store_uri, experiment_name="quad", run_id=run, round_index=0, rounds_total=1, experiment_spec=experiment_spec, trial_count=0)
    launch_trial(store_uri=store_uri, experiment_name="quad", launcher_config='{"kind": "local"}', run_id=run).after(made)

local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=root, raise_on_error=True)
own(store_uri=store, experiment_spec=spec)
"""
GATED_TRIAL = """
import pathlib, sys, time
folder = pathlib.Path(sys.argv[1])
(folder / "started").touch()
deadline = time.monotonic() + 120  # a bound on the wait only turns a regression's hang into a failure
while not (folder / "gate").exists() and time.monotonic() < deadline:
    time.sleep(0.1)
print("loss=0.5")
"""


def test_a_second_kfp_local_run_of_ones_own_pipeline_is_refused_while_the_first_runs(tmp_path):
    trial = tmp_path / "gated_trial.py"
    trial.write_text(GATED_TRIAL)
    container = {"name": "main", "image": "python:3.11-slim", "command": ["python3", str(trial), str(tmp_path)]}
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"] = [{**container, "args": ["${trialParameters.x}", "${trialParameters.y}"]}]
    spec, store = json.dumps(doc), str(tmp_path / "store")
    env = {k: v for k, v in os.environ.items() if k != claims.OWNER_VARIABLE}
    command = [sys.executable, "-c", OWN_PIPELINE, store, spec]
    first = subprocess.Popen([*command, str(tmp_path / "root1")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "started").exists():  # run 1's launch-trial runs its trial: its suggest step has ended
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0][-3000:] if first.poll() is not None else "no trial"
            time.sleep(0.2)
        second = subprocess.run([*command, str(tmp_path / "root2")], capture_output=True, text=True, env=env, timeout=240)
        assert second.returncode != 0
        assert "ExperimentBusy: experiment 'quad' is being run by run " in second.stdout + second.stderr
    finally:
        (tmp_path / "gate").touch()
        out = first.communicate(timeout=240)[0]
    assert first.returncode == 0, out[-3000:]
    records = ExperimentRecords(LocalStore(store), "quad")
    current = claims.latest_claim(records)
    assert current is not None and current.seq == 1, "the second run never claimed"


def test_a_second_run_is_refused_in_the_gap_after_the_first_runs_suggest_step(tmp_path, spec, monkeypatch):
    """No later step of run-1 has beaten yet (the next step is starting, 3 s under kfp.local):
    the suggest step's own claim, its process gone, still keeps run-2 out (review C, finding 2)."""
    store = str(tmp_path / "store")
    _step(SUGGEST_STEP, store, "run-1", spec)  # claims and beats, then its process ends
    records = ExperimentRecords(LocalStore(store), "quad")
    holder = claims.latest_claim(records)
    assert holder is not None and claims.owner_is_gone(holder.owner) and holder.beaten_by == holder.owner
    assert holder.holder_is_one_step, "the suggest component's claim says its holder is one step of the run"
    monkeypatch.delenv(claims.OWNER_VARIABLE, raising=False)
    with pytest.raises(ExperimentBusy, match=r"experiment 'quad' is being run by run 'run-1' .*whose steps' processes on this machine have all ended"):
        suggest.python_func(store_uri=store, experiment_name="quad", run_id="run-2", round_index=0, rounds_total=2, experiment_spec=spec, trial_count=0)
    current = claims.latest_claim(records)
    assert current is not None and (current.seq, current.run) == (1, "run-1"), "run-2 took nothing"
