"""A correct store in a dict, as a plug-in might write one: the reference the store contract's
own tests break one defect at a time, and the store a plug-in's URI scheme opens in the tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from kfp_tune.core.errors import StoreError


def unsafe_key(key: str) -> bool:
    """Whether a key is not a relative '/'-separated path (the contract refuses those)."""
    return not key or key.startswith("/") or any(part in ("", ".", "..") for part in key.split("/"))


class MemoryStore:
    """Every object in a dict, behind one lock: atomic create, sorted recursive listing."""

    def __init__(self, uri: str = "memory://test") -> None:
        self.uri = uri
        self.objects: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def check(self, key: str) -> None:
        if unsafe_key(key):
            raise StoreError(f"invalid store key {key!r}")

    def get(self, key: str) -> bytes | None:
        self.check(key)
        with self.lock:
            return self.objects.get(key)

    def put(self, key: str, data: bytes) -> None:
        self.check(key)
        with self.lock:
            self.objects[key] = bytes(data)

    def create(self, key: str, data: bytes) -> bool:
        self.check(key)
        with self.lock:
            if key in self.objects:
                return False
            self.objects[key] = bytes(data)
            return True

    def list(self, prefix: str) -> list[str]:
        with self.lock:
            return sorted(k for k in self.objects if k.startswith(prefix))

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.check(key)
        with self.lock:
            for key in keys:
                self.objects.pop(key, None)
