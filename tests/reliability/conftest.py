import importlib
from collections.abc import Iterator

import pytest

import faults
from kfp_tune.core import claims

# the module (kfp_tune.steps.launch_trial as an attribute is the step function it defines)
launch_trial_module = importlib.import_module("kfp_tune.steps.launch_trial")


@pytest.fixture(autouse=True)
def step_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[faults.StepProcesses]:
    """Steps run here as calls in this process: their records name a stand-in child process as
    their owner, which dies when a CountingLauncher kills the step. A retry then sees the dead
    attempt gone at once, as it sees a killed process on a real machine, and a live attempt is
    never taken for dead: the trial and run TTLs are the defaults (minutes), so no test races
    them on a loaded machine."""
    for name in ("KFP_TUNE_TRIAL_TTL_SECONDS", "KFP_TUNE_RUN_TTL_SECONDS", "KFP_TUNE_RUN_OWNER"):
        monkeypatch.delenv(name, raising=False)
    stand_ins = faults.StepProcesses()
    monkeypatch.setattr(claims, "this_process", stand_ins.owner)
    monkeypatch.setattr(launch_trial_module, "this_process", stand_ins.owner)
    monkeypatch.setattr(faults, "STEP_PROCESSES", stand_ins)
    yield stand_ins
    stand_ins.close()
