"""A folder store several Unix users write (QA shared, finding 4a): the first user's run made
``experiments/`` 0755 under umask 022, and the second user's run of another experiment was told
only "cannot write experiments/beta/experiment.json to file:///...: Permission denied". The
refusal now names the folder that refused the write, its owner and mode, and what a shared store
needs (umask 002, a setgid group folder; docs/guide.md, "Storage and credentials").

The tests run as any user (root included, whom no mode refuses): the refusal is made where the
kernel makes it, at the store's own mkdir or temporary file, from a real folder's owner and mode."""

from __future__ import annotations

import errno
import os
import pwd
import stat
from pathlib import Path

import pytest

from kfp_tune.core.errors import StoreError
from kfp_tune.stores import LocalStore


def _owner(path: Path) -> str:
    uid = os.stat(path).st_uid
    return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"


def _refused(*_args: object, **_kwargs: object) -> None:
    raise PermissionError(errno.EACCES, "Permission denied")


def test_a_folder_made_by_another_user_is_named_with_its_owner_and_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The experiments/ folder exists (made by the first user); the experiment's own folder
    cannot be made in it."""
    store = LocalStore(str(tmp_path))
    store.put("experiments/alpha/experiment.json", b"{}")
    (tmp_path / "experiments").chmod(0o755)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(tmp_path).st_uid + 1)  # another user than the folder's owner, as any user runs it
    monkeypatch.setattr(Path, "mkdir", _refused)
    with pytest.raises(StoreError) as caught:
        store.put("experiments/beta/experiment.json", b"{}")
    message = str(caught.value)
    folder = tmp_path / "experiments"
    assert message.startswith(f"cannot write experiments/beta/experiment.json to {store.uri}: Permission denied: ")
    assert f"folder {folder} (owner {_owner(folder)}, mode {stat.filemode(os.stat(folder).st_mode)}, 0755)" in message
    assert "umask 002" in message and "setgid" in message and "chmod 2775" in message


def test_a_file_refused_in_an_existing_folder_names_that_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The trial's folder exists; its temporary file cannot be made there."""
    store = LocalStore(str(tmp_path))
    store.put("experiments/alpha/trials/t/started.json", b"{}")
    import kfp_tune.stores.local as local

    monkeypatch.setattr(local, "new_file_beside", _refused)
    with pytest.raises(StoreError) as caught:
        store.put("experiments/alpha/trials/t/ended.json", b"{}")
    folder = tmp_path / "experiments" / "alpha" / "trials" / "t"
    assert f": Permission denied: folder {folder} (owner {_owner(folder)}, mode " in str(caught.value)


def test_other_refusals_are_said_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk is no permission matter: no folder owner nor umask advice."""
    store = LocalStore(str(tmp_path))
    import kfp_tune.stores.local as local

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(local, "new_file_beside", full)
    with pytest.raises(StoreError) as caught:
        store.put("experiments/alpha/experiment.json", b"{}")
    assert str(caught.value) == f"cannot write experiments/alpha/experiment.json to {store.uri}: No space left on device"


def test_a_folder_of_this_users_own_is_told_chmod_u_w_not_the_several_users_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's own store folder, mode 0555 (Review B, finding 6): its owner can fix it."""
    store = LocalStore(str(tmp_path))
    store.put("experiments/alpha/experiment.json", b"{}")
    folder = tmp_path / "experiments"
    monkeypatch.setattr(os, "getuid", lambda: os.stat(folder).st_uid)
    monkeypatch.setattr(Path, "mkdir", _refused)
    folder.chmod(0o555)
    try:
        with pytest.raises(StoreError) as caught:
            store.put("experiments/beta/experiment.json", b"{}")
    finally:
        folder.chmod(0o755)
    message = str(caught.value)
    assert message.endswith(
        f": Permission denied: folder {folder} (owner {_owner(folder)}, mode dr-xr-xr-x, 0555) is this user's own and does not let its "
        f"owner write in it: chmod u+w {folder}"
    ), message
    assert "setgid" not in message and "Several users" not in message


def test_a_store_folder_that_does_not_exist_names_the_folder_that_refused_to_make_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--store names a folder not made yet, under one this user cannot write: that parent is
    named with its owner and mode, not the missing folder as one that 'cannot be read either'."""
    parent = tmp_path / "team"
    parent.mkdir()
    store = LocalStore(str(parent / "new"))
    monkeypatch.setattr(Path, "mkdir", _refused)
    with pytest.raises(StoreError) as caught:
        store.put("experiments/beta/experiment.json", b"{}")
    message = str(caught.value)
    assert f": Permission denied: folder {parent} (owner {_owner(parent)}, mode " in message, message
    assert "cannot be read" not in message


def test_a_delete_refused_for_permission_names_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(str(tmp_path))
    store.put("experiments/alpha/outcomes/max-2.json", b"{}")
    monkeypatch.setattr(Path, "unlink", _refused)
    with pytest.raises(StoreError) as caught:
        store.delete(["experiments/alpha/outcomes/max-2.json"])
    folder = tmp_path / "experiments" / "alpha" / "outcomes"
    message = str(caught.value)
    assert message.startswith(f"cannot delete experiments/alpha/outcomes/max-2.json from {store.uri}: Permission denied: folder {folder} (owner ")
    assert "does not let this user" in message or "is this user's own" in message
