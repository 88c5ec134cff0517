"""Fixtures the launcher tests share."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fake_kube import TRAINER, TRAINING_OPERATOR, FakeKube, Resource, serve


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


@pytest.fixture
def operator_kube(clusters: Callable[..., FakeKube]) -> FakeKube:
    """One fake API server with the Training Operator's kinds (TFJob, PyTorchJob, MPIJob at
    kubeflow.org/v1, ...) and the Trainer's TrainJob installed."""
    return clusters(TRAINING_OPERATOR, TRAINER)


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """The test's folder; afterwards, whatever a failing local launcher left running is killed:
    the processes whose ids the trials wrote to files named ``pid*`` or ``child*`` there."""
    yield tmp_path
    for pid_file in [*tmp_path.glob("pid*"), *tmp_path.glob("child*")]:
        with contextlib.suppress(OSError, ValueError):  # gone already, or not a process id
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
