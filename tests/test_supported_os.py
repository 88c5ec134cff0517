"""kfp-tune runs on Linux and macOS: on Windows its entry points refuse to start, before anything
is written, and point to WSL2; what a plug-in may still import there (claims, store URIs) does
nothing Windows-only harmful."""

from __future__ import annotations

import nturl2path
import os
import sys

import pytest

import kfp_tune
from kfp_tune.cli import main
from kfp_tune.core import claims
from kfp_tune.core.supported_os import UnsupportedPlatform, unsupported_platform
from kfp_tune.stores import LocalStore, file_uri_path, open_store


def windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Python says on native Windows (the check's one input)."""
    monkeypatch.setattr(sys, "platform", "win32")


@pytest.mark.parametrize("platform", ["linux", "darwin", "cygwin"])
def test_posix_systems_are_supported(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    assert unsupported_platform() is None


def test_the_cli_refuses_windows_before_anything_is_written(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text("not read")
    windows(monkeypatch)
    code = main(["run", str(experiment), "--store", str(tmp_path / "store")])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and "Windows" in err and "WSL2" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["experiment.yaml"]


def test_tune_refuses_windows_before_anything_is_written(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    called = []
    windows(monkeypatch)
    with pytest.raises(UnsupportedPlatform) as raised:
        kfp_tune.tune(called.append, {"x": kfp_tune.search.double(0, 1)}, store=str(tmp_path / "store"), max_trial_count=1)
    monkeypatch.undo()
    assert "Windows" in str(raised.value) and "WSL2" in str(raised.value)
    assert isinstance(raised.value, kfp_tune.KfpTuneError)
    assert not called and not list(tmp_path.iterdir())


def test_a_claims_owner_is_never_signalled_on_windows(monkeypatch) -> None:
    """os.kill(pid, 0) sends CTRL_C_EVENT on Windows: there the owner is taken to be alive (its
    claim waited out for the TTL), and nothing is sent."""
    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    windows(monkeypatch)
    alive = claims.process_alive(os.getpid() + 10_000_000)
    monkeypatch.undo()
    assert alive and not sent
    assert not claims.process_alive(2**22 + 1)  # above Linux's pid_max: gone, as before, off Windows


def test_a_file_uri_round_trips_a_path_with_a_space_and_an_accent(tmp_path) -> None:
    folder = tmp_path / "my store" / "é"
    store = LocalStore(folder)
    assert "%20" in store.uri and "%C3%A9" in store.uri
    assert open_store(store.uri).root == folder
    assert file_uri_path(store.uri) == str(folder)


def test_a_windows_file_uri_keeps_its_drive(monkeypatch) -> None:
    """What Windows' url2pathname does with file:///C:/... (nturl2path is that module)."""
    import urllib.request

    monkeypatch.setattr(urllib.request, "url2pathname", nturl2path.url2pathname)
    assert file_uri_path("file:///C:/Users/me/kfp%20runs") == r"C:\Users\me\kfp runs"
