"""kfp-tune run's late Ctrl-C (one the run no longer answered, as it ended), where a mutation
pass found it unchecked: an experiment that ended Failed exits as the finished run, and a store
whose read hangs is not waited for past the late look's bound."""

from __future__ import annotations

import json
import threading

import yaml

from conftest import quadratic_experiment
from late_signal import run_with_a_ctrl_c_after_its_end


def test_a_ctrl_c_after_the_experiment_ended_failed_exits_as_the_finished_run(tmp_path, capsys, monkeypatch):
    """Failed is an end as Succeeded is: exit 1 and the Failed summary, not "interrupted", 130."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 0})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"] = ["python3", "-c", "raise SystemExit(1)"]
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    code = run_with_a_ctrl_c_after_its_end(str(path), tmp_path / "store", monkeypatch)
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert json.loads(captured.out)["status"] == "Failed"
    assert "the signal came after the run had ended: experiment quad Failed (" in captured.err
    assert "interrupted" not in captured.err


def test_the_late_look_at_a_store_whose_read_hangs_is_given_up_at_its_bound(tmp_path, monkeypatch):
    """A read that does not come back (a hung connection) is not waited for: past
    LATE_SIGNAL_LOOK_SECONDS (made short here) the look says unknown, with the read still
    blocked, so the run says "interrupted" at once. The read is released by the test, never by a
    timer, so nothing here depends on how fast the machine is."""
    import kfp_tune.cli
    from kfp_tune.stores.local import LocalStore

    release, returned = threading.Event(), threading.Event()

    class Hangs(LocalStore):
        def get(self, key: str) -> bytes | None:
            release.wait(10)  # at most 10 s, should the look wait for it
            returned.set()
            return super().get(key)

    monkeypatch.setattr(kfp_tune.cli, "LATE_SIGNAL_LOOK_SECONDS", 0.05)
    try:
        assert kfp_tune.cli._ended_before_the_signal(Hangs(tmp_path / "store"), "quad") is None
        assert not returned.is_set()  # given up while the read was still blocked
    finally:
        release.set()
