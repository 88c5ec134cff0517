"""An S3 server that ignores conditional writes, for tests: an HTTP proxy on loopback in front
of a real one (SeaweedFS) that drops the ``If-None-Match`` header of every request, so that a
create over an object that exists overwrites it, as MinIO before RELEASE.2024-05-07 does (KFP
before 2.16 bundles RELEASE.2019-08-14).

The header is signed (SigV4 signs every header minio sends), so a request without it would be
refused SignatureDoesNotMatch: the proxy signs such a request again, with the same keys,
through minio's own signer. Every other request passes as it came. ``requests`` records each
one's method and path; ``drop=False`` passes the header on too (a server that honours it)."""

from __future__ import annotations

import http.client
import re
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"})
_SIGNED = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/s3/aws4_request,\s*SignedHeaders=(?P<headers>[^,]+),")


class NoConditionalWrites:
    """A loopback endpoint (``endpoint``, ``http://127.0.0.1:PORT``) in front of ``target``."""

    def __init__(self, target: str, access_key: str, secret_key: str, drop: bool = True):
        self.target = urlsplit(target).netloc
        self.access_key, self.secret_key, self.drop = access_key, secret_key, drop
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
                with proxy._lock:
                    proxy.requests.append((self.command, self.path))
                if proxy.drop and any(name.lower() == "if-none-match" for name in headers):
                    headers = proxy._signed_without_condition(self.command, self.path, headers)
                upstream = http.client.HTTPConnection(proxy.target, timeout=30)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="no-conditional-writes", daemon=True)
        self._thread.start()

    def _signed_without_condition(self, method: str, path: str, headers: dict[str, str]) -> dict[str, str]:
        """The request's headers less ``If-None-Match``, signed again (SigV4) for the target."""
        from minio.credentials import Credentials
        from minio.signer import sign_v4_s3

        authorization = headers.get("Authorization", "")
        signed = _SIGNED.search(authorization)
        assert signed is not None, f"not a SigV4 request: {authorization[:40]!r}"
        names = [name for name in signed["headers"].split(";") if name != "if-none-match"]
        lower = {name.lower(): value for name, value in headers.items()}
        to_sign = {name: lower[name] for name in names if name != "host"}
        to_sign["Host"] = lower["host"]
        date = datetime.strptime(lower["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        resigned = sign_v4_s3(
            method=method, url=urlsplit(f"http://{lower['host']}{path}"), region=signed["region"], headers=to_sign,
            credentials=Credentials(self.access_key, self.secret_key), content_sha256=lower["x-amz-content-sha256"], date=date,
        )
        kept = {name: value for name, value in headers.items() if name.lower() not in ("if-none-match", "authorization")}
        return {**kept, "Authorization": resigned["Authorization"]}

    def puts_of(self, suffix: str) -> int:
        """How many PUTs the proxy passed on to an object whose path ends with ``suffix``."""
        with self._lock:
            return sum(1 for method, path in self.requests if method == "PUT" and path.split("?")[0].endswith(suffix))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
