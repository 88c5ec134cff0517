"""The store requests a step makes, counted on the folder store: for tests that pin what a step
costs (a request count is the cost a user pays on S3)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from kfp_tune.stores.local import LocalStore

STORE_METHODS = ("get", "put", "create", "list", "delete")
"""The store's request methods (core.interfaces.Store)."""


def count_local_store_requests(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """A Counter of every LocalStore request by method from now on (the patch ends with the test)."""
    requests: Counter[str] = Counter()

    def counted(method: str, inner: Any) -> Any:
        def request(self: LocalStore, *args: Any, **kwargs: Any) -> Any:
            requests[method] += 1
            return inner(self, *args, **kwargs)
        return request

    for method in STORE_METHODS:
        monkeypatch.setattr(LocalStore, method, counted(method, getattr(LocalStore, method)))
    return requests
