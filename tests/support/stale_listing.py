"""A store whose first listing of one prefix is stale: what an iteration that listed before
another wrote there sees, for the races a listing decides (a place taken, a generation made)."""

from __future__ import annotations

from typing import Any


class StaleOnce:
    """The store, with a first listing of ``prefix`` from before anything was written there."""

    def __init__(self, store: Any, prefix: str) -> None:
        self.store, self.prefix, self.stale = store, prefix, True

    def list(self, prefix: str) -> list[str]:
        if prefix == self.prefix and self.stale:
            self.stale = False
            return []
        result: list[str] = self.store.list(prefix)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)
