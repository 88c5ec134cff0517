"""Fixtures shared by this folder's tests."""

from collections.abc import Iterator
from typing import Any

import pytest

from fake_kfp import serve


@pytest.fixture
def fake_kfp_host() -> Iterator[Any]:
    """The fake KFP API server (tests/support/fake_kfp.py) on loopback: ``.url``, ``.runs``."""
    fake, server = serve()
    yield fake
    server.shutdown()


@pytest.fixture
def multi_user_kfp_host(tmp_path, monkeypatch):
    """Multi-user KFP, met from a machine where kfp.Client knows no namespace: it reads one from
    ~/.config/kfp/context.json (a developer who once ran set_user_namespace) and, on multi-user
    KFP, from the pod's service account (tests run in a pod): neither is read here."""
    import kfp

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "home" / ".config" / "kfp" / "context.json"))
    monkeypatch.setattr(kfp.Client, "_NAMESPACE_PATH", str(tmp_path / "no-service-account" / "namespace"))
    fake, server = serve(multi_user=True)
    yield fake
    server.shutdown()
