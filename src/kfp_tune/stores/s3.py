"""A store in an S3 bucket, through the ``minio`` client (MinIO, SeaweedFS, AWS S3, ...).

Endpoint and credentials come from the environment, never from the URI or a pipeline parameter:

- ``KFP_TUNE_S3_ENDPOINT`` (or ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``): ``http://host:port``
  or ``https://host``; plain ``host:port`` means https. Without one, AWS S3 itself, which needs
  ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``) or AWS credentials in the environment: with none of
  them the store is refused at once, instead of retrying a name lookup against AWS for minutes.
- ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, optionally ``AWS_SESSION_TOKEN``. AWS
  profiles (``AWS_PROFILE``, ``~/.aws/credentials``, ``~/.aws/config``) are not read; a refusal without credentials
  says so when one is there.
- ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, optional.

In a cluster they come from a Kubernetes Secret mounted as env. The credentials are kept only
inside the minio client; this class's repr and every error name the endpoint and bucket only.
"""

from __future__ import annotations

import copy
import io
import itertools
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from kfp_tune.core.errors import StoreError, StoreInputError, masked_url, shown
from kfp_tune.core.vocabulary import S3_ENDPOINT_VARIABLE
from kfp_tune.stores.keys import prefix_problem, unsafe_part

if TYPE_CHECKING:
    import urllib3

log = logging.getLogger(__name__)

ENDPOINT_VARIABLES = (S3_ENDPOINT_VARIABLE, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
AWS_ENDPOINT = "https://s3.amazonaws.com"
AWS_HINTS = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID")
"""Any of these says the store is meant to be AWS S3 itself when no endpoint is given."""
DOWNLOAD_CHUNK_BYTES = 1 << 20
"""How much of an object :meth:`S3Store.download_file` holds at a time."""
TRANSIENT_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "RequestTimeTooSkewed", "ConditionalRequestConflict", "OperationAborted"}
)


def is_transient(exc: Exception) -> bool:
    """Whether an S3 failure may go away on its own: the connection, a 5xx, a slow-down.

    Access denied, bad credentials, a missing bucket are permanent."""
    from minio.error import InvalidResponseError, S3Error, ServerError

    if isinstance(exc, S3Error):
        status = getattr(exc.response, "status", 0) or 0
        return exc.code in TRANSIENT_CODES or status >= 500 or status == 429
    if isinstance(exc, ServerError):
        return True  # a 5xx without an S3 error body (a proxy, a restarting server)
    if isinstance(exc, InvalidResponseError):
        # A status with a body that is not S3's XML: an ingress or load balancer in front of the
        # store answering 502/503 text/html while the store restarts, or throttling with 429.
        status = _invalid_response_status(exc)
        return status >= 500 or status == 429
    import urllib3.exceptions

    if _tls_refusal(exc) is not None:
        return False  # an untrusted certificate, or https to a plain-HTTP server: waiting mends neither
    return isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError, OSError))


def _invalid_response_status(exc: BaseException) -> int:
    """The HTTP status of minio's InvalidResponseError (kept only in its private ``_code``)."""
    status = getattr(exc, "_code", 0)
    return status if isinstance(status, int) else 0


def _failure_code(exc: Exception) -> str:
    """What failed, for an error message: S3's error code, else the HTTP status and content type
    of an answer that is not S3's (``HTTP 503 (text/html)``: never its body), else the kind of
    failure (``ProtocolError``)."""
    from minio.error import InvalidResponseError

    if isinstance(exc, InvalidResponseError):
        content_type = (getattr(exc, "_content_type", None) or "").split(";")[0].strip()
        return f"HTTP {_invalid_response_status(exc)} ({content_type or 'no content type'})"
    return getattr(exc, "code", None) or type(exc).__name__


def _cause(exc: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...]) -> BaseException | None:
    """The failure of one of ``kinds`` that ``exc`` comes from, looking through urllib3's
    wrappers (MaxRetryError's ``reason``, an exception) and Python's exception chain; or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kinds):
            return current
        reason = getattr(current, "reason", None)  # ssl.SSLError's reason is a str, not a cause
        current = reason if isinstance(reason, BaseException) else current.__cause__ or current.__context__
    return None


def _caused_by(exc: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    return _cause(exc, kinds) is not None


NOT_TLS_REASONS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL", "HTTP_REQUEST"})
"""OpenSSL's reasons when the other end does not speak TLS (its first bytes are plain HTTP)."""


def _tls_refusal(exc: BaseException) -> str | None:
    """What to tell the user when TLS with the endpoint cannot work as configured: its
    certificate is not trusted, or it is a plain-HTTP server written without ``http://``
    (an endpoint without a scheme is https, as in minio and boto). None for any other failure,
    and for TLS failures that may pass (a connection dropped in the handshake)."""
    import ssl

    tls = _cause(exc, ssl.SSLError)
    if isinstance(tls, ssl.SSLCertVerificationError):
        return (f"TLS: the endpoint's certificate is not trusted ({tls.verify_message}); for a private CA or a self-signed "
                "certificate, set SSL_CERT_FILE to a file holding the CA's certificate")
    if tls is not None and getattr(tls, "reason", None) in NOT_TLS_REASONS:
        return ("TLS: the endpoint does not speak TLS; for a plain-HTTP endpoint, write http://host:port in KFP_TUNE_S3_ENDPOINT "
                "or the s3_endpoint parameter (without a scheme it is https)")
    return None


def _tls_port_answer(exc: BaseException) -> bool:
    """Whether the endpoint answered a plain-HTTP request as a TLS server does (Go's, which
    SeaweedFS and MinIO use: 400 "Client sent an HTTP request to an HTTPS server")."""
    from minio.error import InvalidResponseError

    body = getattr(exc, "_body", None) if isinstance(exc, InvalidResponseError) else None
    return _invalid_response_status(exc) == 400 and isinstance(body, str) and "HTTP request to an HTTPS server" in body


def _unresolved(exc: BaseException) -> bool:
    """Whether a failure is a name lookup of the endpoint's host that failed (a typo in the
    endpoint, or no endpoint and no network to AWS)."""
    import urllib3.exceptions

    return _caused_by(exc, urllib3.exceptions.NameResolutionError)


def _refused(exc: BaseException) -> bool:
    """Whether the endpoint refused the connection: nothing listens there (a wrong port, or an
    object store that is down or restarting, hence still transient)."""
    return _caused_by(exc, ConnectionRefusedError)


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    secure: bool
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    unread_profile: str | None = None
    """What says the user keeps credentials in an AWS profile, which kfp-tune does not read
    (``AWS_PROFILE is set``): a hint when a request goes without credentials."""
    endpoint_source: str = ""
    """Where the endpoint came from, as a failing endpoint's message says it (empty: the AWS
    default, or settings made by hand): the ``s3_endpoint`` parameter wins over the endpoint
    variables (a step cannot tell a parameter left at its compiled-in default from one given,
    and a given one must win), so a variable it overrides is named with how to use it instead
    (``s3_endpoint=""``)."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, endpoint: str | None = None) -> S3Settings:
        """Settings from the environment; ``endpoint``, when given, wins over its variables."""
        env = os.environ if environ is None else environ
        variable = next((v for v in ENDPOINT_VARIABLES if env.get(v)), None)
        source = "the s3_endpoint parameter" if endpoint else f"${variable}" if variable else ""
        failing_source = source
        if endpoint and variable is not None and env[variable].rstrip("/") != endpoint.rstrip("/"):
            failing_source = f"the s3_endpoint parameter, which wins over ${variable} ({shown(masked_url(env[variable]))}): give s3_endpoint=\"\" to use that"
        raw = endpoint or (env[variable] if variable else "")
        if not raw:
            if not any(env.get(v) for v in AWS_HINTS):
                raise StoreInputError(
                    "an s3:// store needs an S3 endpoint: set KFP_TUNE_S3_ENDPOINT (e.g. http://minio-service.kubeflow:9000); "
                    "for AWS S3 itself, set AWS_REGION and the AWS credentials"
                )
            raw, source = AWS_ENDPOINT, "the AWS default"
        if any(character.isspace() for character in raw.strip()):  # urlparse drops a tab or newline, minio refuses a space blaming nothing
            raise StoreInputError(f"S3 endpoint {shown(masked_url(raw))} from {source}: it has white space in it (pasted with it?); expected http://host:port or https://host")
        spaced = "; it ends with white space (a space or newline pasted with it?)" if raw != raw.rstrip() else ""
        try:
            parsed = urlparse(raw if "://" in raw else f"https://{raw}")
        except ValueError:  # a '[' or ']' that opens or closes no IPv6 address ("Invalid IPv6 URL")
            raise StoreInputError(
                f"S3 endpoint {shown(masked_url(raw))} from {source}: expected http://host:port or https://host ('[' and ']' only around an IPv6 address: http://[::1]:9000)"
            ) from None
        if "@" in parsed.netloc:
            raise StoreInputError(
                f"S3 endpoint from {source}: credentials do not belong in the endpoint URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead"
            )
        try:
            port_ok = parsed.port is None or parsed.port > 0
        except ValueError:
            port_ok = False
        if parsed.scheme not in ("http", "https") or not parsed.hostname or not port_ok:
            raise StoreInputError(f"S3 endpoint {shown(masked_url(raw))} from {source}: expected http://host:port or https://host{spaced}")
        if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
            what = spaced.removeprefix("; ") if spaced else "with no path (the bucket goes in the s3:// store URI)"
            raise StoreInputError(f"S3 endpoint {shown(masked_url(raw))} from {source}: expected http://host:port or https://host, {what}")
        for name in CREDENTIAL_VARIABLES:
            _check_credential(name, env.get(name) or "")
        region_variable = next((v for v in ("AWS_REGION", "AWS_DEFAULT_REGION") if env.get(v)), None)
        if region_variable is not None:
            _check_region(region_variable, env[region_variable])
        return cls(
            endpoint=parsed.netloc,
            secure=parsed.scheme == "https",
            access_key=env.get("AWS_ACCESS_KEY_ID") or None,
            secret_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            session_token=env.get("AWS_SESSION_TOKEN") or None,
            region=env[region_variable] if region_variable else None,
            unread_profile=unread_profile(env),
            endpoint_source=failing_source,
        )


CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_REGION = re.compile(r"^(?![-_])[a-z0-9_-]{1,63}(?<![-_])$", re.IGNORECASE)
"""A region name as minio takes one (its ``_REGION_REGEX``)."""
_ECHO_HINT = "a Secret made with `echo`? use `echo -n`, or kubectl create secret generic --from-literal"


def _check_credential(name: str, value: str) -> None:
    """StoreInputError naming the variable, never its value, when a credential holds white
    space: no access key or token does, and the client sends it as it is in a header (botocore's
    EnvProvider takes the environment's value unstripped too), so the server refuses it, or
    minio before it. The secret key is never sent, only signed with: MinIO and SeaweedFS take one
    with a space inside, so only white space at its ends or a line break is refused."""
    if value.endswith("\n") and not any(character.isspace() for character in value.rstrip("\r\n")):
        raise StoreInputError(f"{name} ends with a newline ({_ECHO_HINT}); it is used as it is, never stripped")
    if name == "AWS_SECRET_ACCESS_KEY":
        if value != value.strip():
            raise StoreInputError(f"{name} begins or ends with white space (pasted with it?); it is used as it is, never stripped")
        if "\n" in value or "\r" in value:
            raise StoreInputError(f"{name} has a line break in it (pasted with it?); it is used as it is, never stripped")
        return
    if any(character.isspace() for character in value):
        raise StoreInputError(f"{name} has white space in it (a space or line break pasted with it?): no key or token holds any; it is used as it is, never stripped")


def _check_region(name: str, value: str) -> None:
    """StoreInputError naming the variable when its value is not a region name (minio would
    raise a bare ValueError when the store is made)."""
    if value.endswith("\n") and not any(character.isspace() for character in value.rstrip("\r\n")):
        raise StoreInputError(f"{name} {value!r} is not a region name: it ends with a newline ({_ECHO_HINT})")
    if any(character.isspace() for character in value):
        raise StoreInputError(f"{name} {value!r} is not a region name: it has white space in it (pasted with it?)")
    if not _REGION.match(value):
        raise StoreInputError(f"{name} {value!r} is not a region name (letters, digits, '-' or '_', such as us-east-1)")


def unread_profile(env: Mapping[str, str]) -> str | None:
    """What in ``env`` points at an AWS profile or shared credentials file (never a value read
    from one), or None. kfp-tune reads credentials from the environment only: reading profiles
    is a new place credentials come from, which a pipeline's steps would not share. Each
    variable set is named (a profile and the config file that holds it, both set); each file
    under ``~/.aws`` only when none is."""
    variables = [v for v in ("AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE") if env.get(v)]  # the config file: SSO and config-only profiles
    if variables:
        return f"{_listed(variables)} {'is' if len(variables) == 1 else 'are'} set"
    home = env.get("HOME")
    files = [f"~/.aws/{file}" for file in ("credentials", "config") if home and os.path.isfile(os.path.join(home, ".aws", file))]
    return f"{_listed(files)} {'exists' if len(files) == 1 else 'exist'}" if files else None


def _listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def check_s3_endpoint(endpoint: str) -> str:
    """``endpoint`` as the ``s3_endpoint`` parameter may carry it: a run parameter's default
    and a run argument are both public (the KFP UI shows them, the compiled YAML holds them), so
    one with credentials in it is refused, as one the steps could not use, with the message
    :meth:`S3Settings.from_env` gives them (StoreInputError; the secret never repeated). Empty
    is no endpoint: the steps take ``$KFP_TUNE_S3_ENDPOINT``. One rule for ``kfp-tune submit
    --param s3_endpoint``, ``submit()``/``schedule()``'s arguments and an ObjectStore compiled in."""
    if endpoint:
        S3Settings.from_env({}, endpoint=endpoint)
    return endpoint


REFUSED_CREDENTIALS = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "InvalidTokenId", "ExpiredToken", "TokenRefreshRequired"})
"""S3's codes for credentials it does not accept (AccessDenied is for valid ones that may not);
InvalidTokenId is MinIO's for a session token it does not know."""


CONNECT_TIMEOUT = 10.0
"""Seconds a connection to the endpoint may take to open (minio's own is 300): an endpoint whose
packets are dropped (a firewall, a host gone) is then a transient failure the retry window counts,
not five minutes of one attempt."""
READ_TIMEOUT = 300.0
"""Seconds to wait for an answer on an open connection: minio's own."""


def http_client(secure: bool = True) -> urllib3.PoolManager:
    """minio's HTTP client as minio builds it (pool size, certificates from ``SSL_CERT_FILE``,
    else certifi's), but with no retries of its own: minio's default retries a refused or dropped
    connection and a 5xx five times with backoff (about 6 s) inside each attempt, which
    :class:`kfp_tune.stores.retry.RetryingStore` cannot see or count in its window. Redirects
    are followed as minio follows them. For a TLS endpoint (``secure``), an ``SSL_CERT_FILE``
    that cannot be read is refused here, before any request: each request would fail with it,
    and it is the user's setting, not an outage to wait out."""
    import certifi
    import urllib3

    ca_certs = os.environ.get("SSL_CERT_FILE")
    if secure and ca_certs:
        _check_readable_ca(ca_certs)
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=ca_certs or certifi.where(),
        retries=urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=5),
    )


def _check_readable_ca(path: str) -> None:
    """StoreInputError naming ``SSL_CERT_FILE``, its path and why, when the file cannot be read
    or holds no PEM certificate (an empty file, the key, a DER file): each connection would
    fail loading it, retried as an outage."""
    import ssl

    cure = ("set it to a file holding the CA's certificate of the S3 endpoint in PEM (a private CA or a self-signed "
            "certificate), or unset it for a public one")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise StoreInputError(f"SSL_CERT_FILE={path} cannot be read ({exc.strerror or type(exc).__name__}): {cure}") from None
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError) as exc:
        why = getattr(exc, "reason", None) or str(exc)
        raise StoreInputError(f"SSL_CERT_FILE={path} holds no PEM certificate ({why}): {cure}") from None


PROBE_KEY = ".kfp-tune/conditional-write-probe"
"""The one object under a store's prefix that :meth:`S3Store.create` writes to learn whether the
server honours ``If-None-Match: *``; kept, so that later probes cost one refused request, and
left out of every listing."""
PROBE_DATA = b"kfp-tune: does this S3 server refuse to create an object that exists (If-None-Match: *)? Safe to delete.\n"
_probed: dict[tuple[str, str], bool | None] = {}
"""(endpoint, bucket) -> whether its server honours conditional writes, as this process found
(None: its probe was refused, not to be tried again)."""
_probing: set[tuple[str, str]] = set()
_probe_lock = threading.Lock()


class S3Store:
    def __init__(self, bucket: str, prefix: str = "", settings: S3Settings | None = None):
        from minio import Minio

        if (problem := prefix_problem(prefix)) is not None:
            raise StoreInputError(f"S3 store {shown('s3://' + bucket + '/' + prefix.lstrip('/'))}: {problem}")
        self.settings = settings or S3Settings.from_env()
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        scheme = "https" if self.settings.secure else "http"
        self.uri = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.endpoint_url = f"{scheme}://{self.settings.endpoint}"
        client = http_client(self.settings.secure)  # its refusal (SSL_CERT_FILE) is said as it is
        try:
            self._client = Minio(
                self.settings.endpoint,
                access_key=self.settings.access_key,
                secret_key=self.settings.secret_key,
                session_token=self.settings.session_token,
                secure=self.settings.secure,
                region=self.settings.region,
                http_client=client,
            )
        except ValueError as exc:  # settings made by hand: from_env checks the environment's (its text holds no credential)
            raise StoreInputError(f"S3 store {self.uri} at {self.endpoint_url}: {exc}") from None

    @classmethod
    def from_uri(cls, uri: str, settings: S3Settings | None = None) -> S3Store:
        try:
            parsed = urlparse(uri)
        except ValueError:  # a '[' or ']': no bucket name holds one
            parsed = urlparse("")
        if parsed.scheme != "s3" or not parsed.netloc or "@" in parsed.netloc:
            raise StoreInputError(f"S3 store URI {shown(masked_url(uri))}: expected s3://bucket/prefix, with no credentials in it")
        return cls(parsed.netloc, parsed.path, settings)

    def __repr__(self) -> str:
        return f"S3Store({self.uri!r}, endpoint={self.endpoint_url!r})"

    def _key(self, key: str) -> str:
        if unsafe_part(key) is not None:
            raise StoreError(f"invalid store key {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _endpoint_named(self) -> str:
        """What to check for a failing endpoint: where it came from, when known."""
        if self.settings.endpoint_source:
            return f"the endpoint, from {self.settings.endpoint_source}"
        return "KFP_TUNE_S3_ENDPOINT or the s3_endpoint parameter"

    def _error(self, action: str, key: str, exc: Exception) -> StoreError:
        if isinstance(exc, ValueError):  # minio refusing what it was given before any request; its text may hold the access key
            return StoreInputError(f"S3 {action} {self.uri}/{key} at {self.endpoint_url} failed: the minio client refused the request as given: "
                                   f"check {self._endpoint_named()}, the bucket name in the s3:// URI, and that AWS_ACCESS_KEY_ID and AWS_SESSION_TOKEN "
                                   "hold no white space and AWS_SECRET_ACCESS_KEY none at its ends")
        code = _failure_code(exc)
        transient = is_transient(exc)
        hint = " (transient)" if transient else ""
        if (tls := _tls_refusal(exc)) is not None:  # the user's setting, said in kfp-tune's words (not urllib3's MaxRetryError): exit 2
            return StoreInputError(f"S3 {action} {self.uri}/{key} at {self.endpoint_url} failed: {tls}")
        if not self.settings.secure and _tls_port_answer(exc):
            return StoreInputError(
                f"S3 {action} {self.uri}/{key} at {self.endpoint_url} failed: the endpoint speaks TLS (it answered plain HTTP: "
                f"'Client sent an HTTP request to an HTTPS server'): write https://host:port in KFP_TUNE_S3_ENDPOINT or the s3_endpoint parameter"
            )
        if _unresolved(exc):
            hint = f" (the endpoint's host {self.settings.endpoint.rsplit(':', 1)[0]!r} does not resolve: check {self._endpoint_named()})"
        elif not self.settings.secure and _invalid_response_status(exc) == 400 and code.startswith("HTTP 400"):
            hint = " (not an S3 answer: if the endpoint speaks TLS, write https://host:port)"
        elif _refused(exc):
            hint = f" (connection refused: nothing listens at the endpoint; check {self._endpoint_named()}, or that the object store is up)"
        elif code in REFUSED_CREDENTIALS or code == "AccessDenied":  # the user's settings, as a missing bucket: exit 2
            return StoreInputError(f"S3 {action} {self.uri}/{key} at {self.endpoint_url} failed: {code} ({self._credentials_hint(code)})")
        elif code == "NoSuchBucket":
            message = f"S3 {action} {self.uri}/{key} at {self.endpoint_url} failed: NoSuchBucket (no bucket {self.bucket!r} there: create it, or check the s3:// store URI)"
            return StoreInputError(message)  # a store that is not there: the user's to fix, as a wrong URI is
        return StoreError(f"S3 {action} {self.uri}/{key} at {self.endpoint_url} failed: {code}{hint}", transient=transient)

    def _credentials_hint(self, code: str) -> str:
        """What to check when the server refuses the request's credentials (never the values)."""
        if self.settings.access_key is None and self.settings.unread_profile is not None:
            return (f"no credentials were given: kfp-tune reads them from the environment only, not from AWS profiles or shared "
                    f"credentials files ({self.settings.unread_profile}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, e.g. "
                    f"eval \"$(aws configure export-credentials --format env)\" for the profile (in a pipeline, the store Secret)")
        if self.settings.access_key is None:
            return "no credentials were given: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (in a pipeline, the store Secret)"
        if code in REFUSED_CREDENTIALS and self.settings.session_token is not None:
            # A token left in the environment by an STS or SSO login is sent with every request,
            # and a server that does not know it refuses keys that are right on their own.
            return ("the server refused the credentials: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, "
                    "which is set: a session token left from another login makes the server refuse good keys, so unset it "
                    "if these keys need none (in a pipeline, the store Secret)")
        if code in REFUSED_CREDENTIALS:
            return "the server refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (in a pipeline, the store Secret)"
        # S3 answers AccessDenied, not NoSuchBucket, for a bucket these credentials may not list (SeaweedFS, AWS): a typo reads so
        return f"the credentials are valid but may not do this: check what the bucket's policy grants them on {self.bucket!r}, or that the bucket {self.bucket!r} exists"

    def get(self, key: str) -> bytes | None:
        from minio.error import S3Error

        try:
            response = self._client.get_object(self.bucket, self._key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return None
            raise self._error("read of", key, exc) from None
        except Exception as exc:  # connection errors after minio's own retries
            raise self._error("read of", key, exc) from None
        try:
            return response.read()
        except Exception as exc:  # the connection dropped or the object ended early while it was read
            raise self._error("read of", key, exc) from None
        finally:
            response.close()
            response.release_conn()

    def put(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(self.bucket, self._key(key), io.BytesIO(data), len(data))
        except Exception as exc:
            raise self._error("write of", key, exc) from None

    def upload_file(self, key: str, path: Path) -> None:
        """Write the file at ``path`` to ``key``, streamed (minio reads it a multipart part at a
        time, 5 MiB, a few parts at once): a checkpoint file of gigabytes is never held whole in
        memory. StoreError naming the file when it cannot be read."""
        try:
            with open(path, "rb") as source:
                try:
                    self._client.put_object(self.bucket, self._key(key), source, os.fstat(source.fileno()).st_size)
                except OSError as exc:
                    if "not enough data" in str(exc):  # minio's words for a file that shrank while it was read
                        raise StoreError(f"cannot read {path}: it changed while it was uploaded") from None
                    raise self._error("write of", key, exc) from None
                except Exception as exc:
                    raise self._error("write of", key, exc) from None
        except StoreError:
            raise
        except OSError as exc:  # opening or closing the file
            raise StoreError(f"cannot read {path}: {exc.strerror}") from None

    def download_file(self, key: str, path: Path) -> bool:
        """Write the object at ``key`` to the file ``path``, streamed a MiB at a time (never held
        whole in memory); False when there is no such object. StoreError naming the file when it
        cannot be written."""
        from minio.error import S3Error

        try:
            response = self._client.get_object(self.bucket, self._key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return False
            raise self._error("read of", key, exc) from None
        except Exception as exc:  # connection errors after minio's own retries
            raise self._error("read of", key, exc) from None
        try:
            with open(path, "wb") as target:
                for chunk in self._chunks(response, key):
                    target.write(chunk)
        except StoreError:
            raise
        except OSError as exc:  # the file: a full disk, a folder in its place
            raise StoreError(f"cannot write {path}: {exc.strerror}") from None
        finally:
            response.close()
            response.release_conn()
        return True

    def _chunks(self, response: urllib3.BaseHTTPResponse, key: str) -> Iterator[bytes]:
        """The object's bytes, :data:`DOWNLOAD_CHUNK_BYTES` at a time; StoreError when the
        connection drops or the object ends early while it is read."""
        chunks = response.stream(DOWNLOAD_CHUNK_BYTES)
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except Exception as exc:
                raise self._error("read of", key, exc) from None
            yield chunk

    def create(self, key: str, data: bytes) -> bool:
        """A conditional PUT (``If-None-Match: *``, honoured by AWS S3, SeaweedFS and MinIO
        since RELEASE.2024-05-07): the server refuses it with 412 when the key exists. Before
        the first create of this process at this endpoint and bucket, :meth:`_check_conditional_writes`
        learns whether the server honours it, and warns once when it does not."""
        name = self._key(key)
        self._check_conditional_writes()
        return self._put_if_absent(key, name, data)

    def _put_if_absent(self, key: str, name: str, data: bytes) -> bool:
        """minio's public put_object cannot send ``If-None-Match``, so this one call uses its
        lower-level _put_object. False when the server refused it because ``name`` exists."""
        from minio.error import S3Error

        headers: dict[str, str | list[str] | tuple[str]] = {"Content-Type": "application/octet-stream", "If-None-Match": "*"}
        try:
            self._client._put_object(self.bucket, name, data, headers)
        except S3Error as exc:
            if exc.code == "PreconditionFailed":
                return False
            raise self._error("write of", key, exc) from None
        except Exception as exc:
            raise self._error("write of", key, exc) from None
        return True

    def _check_conditional_writes(self) -> None:
        """Learn whether the server honours ``If-None-Match: *``, once per process for each
        endpoint and bucket: create :data:`PROBE_KEY` (a fixed object under the prefix, kept
        and never listed), and when that succeeds, create it again. A refusal (412) of either
        says it does; a second success, that the server overwrote the object (MinIO before
        RELEASE.2024-05-07, as KFP before 2.16 bundles it). One request per process once the
        object is there, two the first time. The run goes on either way (one run at a time is
        the usual case), with one warning saying what is lost. A probe that fails (the store
        down) is tried again at the next create; a thread that finds another probing goes on."""
        place = (self.endpoint_url, self.bucket)
        with _probe_lock:
            if place in _probed or place in _probing:
                return
            _probing.add(place)
        honoured: bool | None = None
        settled = True
        try:
            name = self._key(PROBE_KEY)
            honoured = not (self._put_if_absent(PROBE_KEY, name, PROBE_DATA) and self._put_if_absent(PROBE_KEY, name, PROBE_DATA))
        except StoreError as exc:
            log.debug("could not check whether %s honours conditional writes: %s", self.endpoint_url, exc)
            settled = not exc.transient  # the store down: tried again at the next create
        finally:
            with _probe_lock:
                _probing.discard(place)
                if settled:
                    _probed[place] = honoured
        if honoured is False:
            log.warning(
                "the S3 server at %s (bucket %r) ignores conditional writes: a second create of %s with If-None-Match: * "
                "overwrote it instead of being refused (412). kfp-tune goes on, but on this store it cannot stop two runs of "
                "one experiment started at the same moment from both claiming it, nor a record it writes once from being "
                "overwritten by another writer: start one run of an experiment at a time. MinIO honours If-None-Match: * from "
                "RELEASE.2024-05-07T06-41-25Z; the MinIO of KFP before 2.16 (RELEASE.2019-08-14) does not. Upgrade MinIO, "
                "move to KFP 2.16 or later (SeaweedFS), or keep the store on a server that honours it (AWS S3, SeaweedFS)",
                masked_url(self.endpoint_url), self.bucket, f"{self.uri}/{PROBE_KEY}",
            )

    def delete(self, keys: Sequence[str]) -> None:
        """S3's multi-object delete, 1,000 keys a request (its limit); a missing key is no error."""
        from minio.deleteobjects import DeleteObject

        names = [self._key(key) for key in keys]
        for start in range(0, len(names), 1000):
            batch = [DeleteObject(name) for name in names[start:start + 1000]]
            try:
                errors = list(self._client.remove_objects(self.bucket, batch))
            except Exception as exc:  # named by the store's key: _error adds the prefix
                raise self._error("delete in", keys[start], exc) from None
            if errors:
                # S3 answers a multi-object delete 200 with an error per key it did not delete;
                # a slow-down or an internal error there passes as it does for a whole request.
                retried = [error for error in errors if error.code in TRANSIENT_CODES]
                named = (retried or errors)[0]
                hint = "; transient" if retried else ""
                raise StoreError(
                    f"S3 delete of s3://{self.bucket}/{named.name} at {self.endpoint_url} failed: {named.code} ({len(errors)} object(s) not deleted{hint})",
                    transient=bool(retried),
                )

    def prefixes_beside(self) -> list[str]:
        """The prefixes beside this store's, under the same parent, as ``s3://bucket/prefix``, all
        of them (a delimiter listing, one request per 1,000: minio follows the listing's
        continuation token); none beside a bucket's root."""
        if not self.prefix:
            return []
        parent = self.prefix.rpartition("/")[0]
        return [uri for uri in self._prefixes_in(f"{parent}/" if parent else "") if uri != self.uri]

    def prefixes_under(self) -> list[str]:
        """The prefixes under this store's, as ``s3://bucket/prefix``, all of them (as :meth:`prefixes_beside`)."""
        return self._prefixes_in(f"{self.prefix}/" if self.prefix else "")

    def _prefixes_in(self, full: str) -> list[str]:
        try:
            names = [o.object_name for o in self._client.list_objects(self.bucket, prefix=full)]
        except Exception as exc:
            raise self._error("listing of", full or "..", exc) from None
        return sorted(f"s3://{self.bucket}/{name.rstrip('/')}" for name in names if name and name.endswith("/"))

    def folders(self, prefix: str, limit: int | None = 1000) -> list[str]:
        """The names of the folders right under the key prefix ``prefix``, sorted: the first page
        of a delimiter listing (1,000), one request; with ``limit=None`` every page (one request
        per 1,000: minio follows the listing's continuation token), for a caller that needs them all."""
        full = self._key(prefix.rstrip("/")) + "/"
        try:
            names = [o.object_name for o in itertools.islice(self._client.list_objects(self.bucket, prefix=full), limit)]
        except Exception as exc:
            raise self._error("listing of", prefix, exc) from None
        return sorted(name[len(full):].rstrip("/") for name in names if name and name.endswith("/"))

    def open_beside(self, uri: str) -> S3Store:
        """The store at one of :meth:`prefixes_beside`'s or :meth:`prefixes_under`'s URIs, through
        this store's client (no new connection pool for each of a thousand looks)."""
        beside = copy.copy(self)
        beside.prefix = uri.removeprefix(f"s3://{self.bucket}").strip("/")
        beside.uri = f"s3://{self.bucket}/{beside.prefix}".rstrip("/")
        return beside

    def list(self, prefix: str) -> list[str]:
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        try:
            names = [o.object_name for o in self._client.list_objects(self.bucket, prefix=full, recursive=True)]
        except Exception as exc:
            raise self._error("listing of", prefix, exc) from None
        strip = len(self.prefix) + 1 if self.prefix else 0
        return sorted(n[strip:] for n in names if n is not None and not _is_probe(n))


def _is_probe(name: str) -> bool:
    """Whether an object is the conditional-write probe of this store or of one under it."""
    return name == PROBE_KEY or name.endswith(f"/{PROBE_KEY}")
