"""The base of the tests' store wrappers: every request handed to ``inner``, so that a wrapper
writes only what it changes (a count, an injected failure, another process's step at one point),
not five pass-through methods. It keeps the name ``inner``, which the library looks through to
find a folder store under a wrapper."""

from __future__ import annotations

from collections.abc import Sequence

from kfp_tune.core.interfaces import Store


class PassThroughStore:
    """A store handing every request to ``inner``; :meth:`before` is called first with the
    operation's name (``get``, ``put``, ``create``, ``list``, ``delete``) and what it is about
    (the key, the prefix, or the keys joined by commas)."""

    def __init__(self, inner: Store, uri: str | None = None) -> None:
        self.inner = inner
        self.uri = inner.uri if uri is None else uri

    def before(self, operation: str, subject: str) -> None:
        """Called before each request reaches ``inner``: a wrapper counts or fails it here."""

    def get(self, key: str) -> bytes | None:
        self.before("get", key)
        return self.inner.get(key)

    def put(self, key: str, data: bytes) -> None:
        self.before("put", key)
        self.inner.put(key, data)

    def create(self, key: str, data: bytes) -> bool:
        self.before("create", key)
        return self.inner.create(key, data)

    def list(self, prefix: str) -> list[str]:
        self.before("list", prefix)
        return self.inner.list(prefix)

    def delete(self, keys: Sequence[str]) -> None:
        self.before("delete", ", ".join(keys))
        self.inner.delete(keys)
