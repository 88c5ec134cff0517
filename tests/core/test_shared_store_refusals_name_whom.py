"""On a store several people share (QA shared, findings 2 and 4b), a refusal says whose process it
is and what is likely going on: a delete's mark no longer asserts that the delete "stopped before
it ended" (the usual reason to see it is a delete still under way), and a busy experiment held by
another user's process says whom to ask, not only "kill N", which that user cannot."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence

import pytest

from kfp_tune.client import Client
from kfp_tune.core import claims
from kfp_tune.core.errors import ExperimentPartlyDeleted, StoreError
from kfp_tune.core.records import ExperimentRecords, RecordKind
from kfp_tune.core.state import DELETING, DELETING_BY, read_experiment_record
from kfp_tune.stores import LocalStore

BEGAN = "2026-12-07T01:59:44Z"


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A process of this machine that runs until its stdin closes (no timing)."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def _marked(tmp_path: os.PathLike[str], **mark: object) -> ExperimentRecords:
    records = ExperimentRecords(LocalStore(str(tmp_path)), "quad")
    records.write(records.experiment_key(), RecordKind.EXPERIMENT, {"name": "quad", "uid": "u", "created": BEGAN, DELETING: BEGAN, **mark})
    return records


def _refusal(records: ExperimentRecords) -> str:
    with pytest.raises(ExperimentPartlyDeleted) as caught:
        read_experiment_record(records)
    return str(caught.value)


def test_an_older_mark_says_both_what_may_be_so(tmp_path) -> None:
    """A mark with the time only (an older kfp-tune's, or a delete on another machine)."""
    message = _refusal(_marked(tmp_path))
    assert message == (
        f"experiment 'quad' in {LocalStore(str(tmp_path)).uri} is partly deleted: a delete of it began at {BEGAN} and has not finished: it "
        "may still be under way (wait for it to end: then kfp-tune list no longer shows it), or it stopped (a store error, a killed process): then run "
        "kfp-tune delete quad --yes (Client.delete_experiment(name, confirm=True)) again to finish it"
    )


def test_a_mark_of_another_machine_says_both(tmp_path) -> None:
    assert "it may still be under way" in _refusal(_marked(tmp_path, **{DELETING_BY: "another-host/42"}))


def test_a_live_deleting_process_here_is_named(tmp_path, child) -> None:
    message = _refusal(_marked(tmp_path, **{DELETING_BY: claims.process_identity(child.pid)}))
    assert f"has not finished: process {child.pid} on this machine began it and still runs, so the delete is likely under way" in message


def test_a_gone_deleting_process_here_is_said_to_have_stopped(tmp_path, child) -> None:
    owner = claims.process_identity(child.pid)
    child.kill()
    child.wait()
    message = _refusal(_marked(tmp_path, **{DELETING_BY: owner}))
    assert f"has not finished: the process that deleted it ({owner.split(' ')[0]}) is gone, so the delete stopped; run kfp-tune delete" in message


class RefusingDeletes(LocalStore):
    """A store whose deletes fail: the delete stops after its mark."""

    def delete(self, keys: Sequence[str]) -> None:
        raise StoreError("Read-only file system")


def test_a_delete_marks_who_deletes(tmp_path) -> None:
    store = LocalStore(str(tmp_path))
    records = ExperimentRecords(store, "quad")
    records.write(records.experiment_key(), RecordKind.EXPERIMENT, {"name": "quad", "uid": "u", "created": BEGAN})
    with pytest.raises(StoreError):
        Client(RefusingDeletes(str(tmp_path))).delete_experiment("quad", confirm=True)
    head = records.read(records.experiment_key(), RecordKind.EXPERIMENT)
    assert head is not None and head[DELETING_BY] == claims.this_process() and isinstance(head[DELETING], str)
    assert "a delete by this process stopped before it ended; run kfp-tune delete quad --yes" in _refusal(records)


def test_a_busy_experiment_held_by_another_users_process_says_whom_to_ask(tmp_path, child, monkeypatch) -> None:
    """The child runs as this user; this process is made to read as another uid."""
    mine = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: mine + 1)
    try:
        name = f"{pwd.getpwuid(mine).pw_name} (uid {mine})"
    except KeyError:
        name = f"uid {mine}"
    now = time.time()
    holder = claims.Claim(seq=1, run="run-x", created=now, last_seen=now, ended=False, ttl=900.0, owner=claims.process_identity(child.pid))
    message = str(claims.busy(ExperimentRecords(LocalStore(str(tmp_path)), "quad"), holder, now))
    assert message.endswith(
        f", process {child.pid} of user {name} on this machine: wait for it to end, or ask user {name} to stop it (Ctrl-C where it "
        f"runs, or kill {child.pid}: its running trials are given back) and run again"
    ), message


def test_a_busy_experiment_held_by_ones_own_process_is_said_as_before(tmp_path, child) -> None:
    now = time.time()
    holder = claims.Claim(seq=1, run="run-x", created=now, last_seen=now, ended=False, ttl=900.0, owner=claims.process_identity(child.pid))
    message = str(claims.busy(ExperimentRecords(LocalStore(str(tmp_path)), "quad"), holder, now))
    assert message.endswith(f", process {child.pid} on this machine: wait for it to end, or stop it (Ctrl-C where it runs, or kill {child.pid}: "
                            "its running trials are given back) and run again")
