"""The two waits on a process group, told apart by name: the local launcher's only waits
(``_group_gone_within``: its caller sends the signals), the CLI's kills what is left of a
killed kfp.local run's steps once its time is up (``kill_group_after``)."""

from __future__ import annotations

import subprocess
import threading
import time

from kfp_tune.launchers.local import _group_gone_within
from kfp_tune.pipelines.local_run import kill_group_after


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen(["sleep", "30"], start_new_session=True)


def test_the_launchers_wait_never_kills_and_says_whether_the_group_is_gone() -> None:
    process = _sleeper()
    try:
        assert _group_gone_within(process, 0.2) is False
        assert process.poll() is None, "waiting sent no signal"
    finally:
        process.kill()
    assert _group_gone_within(process, 5.0) is True
    assert process.returncode is not None  # reaped by the wait


def test_the_clis_wait_kills_what_is_left_once_its_time_is_up() -> None:
    process = _sleeper()
    reaper = threading.Thread(target=process.wait, daemon=True)  # as the CLI has reaped the kfp.local process it waits after
    reaper.start()
    started = time.monotonic()
    kill_group_after(process.pid, 0.3)
    reaper.join(5.0)
    assert process.returncode == -9 and 0.3 <= time.monotonic() - started < 10
