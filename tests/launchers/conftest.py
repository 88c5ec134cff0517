"""Fixtures the launcher tests share."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from fake_kube import FakeKube, Resource, serve


@pytest.fixture
def clusters() -> Iterator[Callable[..., FakeKube]]:
    """Start fake API servers running the given operators; all shut down after the test."""
    servers = []

    def start(*operators: tuple[Resource, ...]) -> FakeKube:
        fake, server = serve(*operators)
        servers.append(server)
        return fake

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def kube(clusters: Callable[..., FakeKube]) -> FakeKube:
    """One fake API server that serves the core groups only (no operator installed)."""
    return clusters()
