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
