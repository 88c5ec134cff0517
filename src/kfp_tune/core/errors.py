"""Errors that carry what a user needs to fix the input: a field path and what was expected."""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass
from typing import Any, ClassVar

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 80
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 4
_SHOWN.maxlevel = 2
SHOWN_LIMIT = 160


def shown(value: Any) -> str:
    """A user's value as an error message quotes it: its repr, cut short. A message must not
    grow with the input (a megabyte name, a YAML alias chain that expands to millions of items)."""
    return clipped(_SHOWN.repr(value), SHOWN_LIMIT)


def clipped(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and "..." in ``limit``."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


_URL_LEAD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*(?::/+|/{2,})")
"""A URL's scheme and the slashes after it, typed right (``s3://``) or not (``s3//``, ``http:/``)."""
_AT = re.compile(r"@|%40", re.IGNORECASE)
_USER_PASSWORD = re.compile(r"(?::|%3A).*(?:@|%40)", re.IGNORECASE)
_HOST_PORT = re.compile(r"(?:\[[^\]]*\]|[^:\[\]]*)(?::\d*)?")


def masked_url(url: str) -> str:
    """A URL as a message may show it: what could be a credential (``user:pass@``, a query
    string, a fragment) replaced by ``***``. Every URL a message repeats goes through it: the
    KFP host, a store URI, an S3 endpoint (a presigned ``?X-Amz-Security-Token=`` is a secret),
    a pip index. A mistyped one too: ``http//user:pass@host`` (no colon) or ``user:pass@host``
    (no scheme) is masked as ``http://user:pass@host`` is, and so is a password with a ``/`` in
    it (an AWS secret key often has one), and a ``user:pass@`` (``%3A``, ``%40``) in a path, as
    a folder named after such a URI has in its ``file://`` URI. An ``@`` elsewhere in a path
    (``/pkg@1.0``) is shown."""
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    body, rest = url[:cut], url[cut:]
    lead = _URL_LEAD.match(body)
    start = lead.end() if lead else 0
    segments = body[start:].split("/")
    authority = segments[0]
    later = next((i for i, segment in enumerate(segments) if _AT.search(segment)), None)
    if later is not None and later > 0 and not _HOST_PORT.fullmatch(authority):
        # user:pa/ss@host: a '/' in the password ended the authority early; all of it is the authority's
        segments[: later + 1] = [segments[later]]
    for i, segment in enumerate(segments):
        ends = [m.end() for m in _AT.finditer(segment)]
        if ends and (i == 0 or _USER_PASSWORD.search(segment)):
            segments[i] = "***@" + segment[ends[-1]:]
    shown_url = body[:start] + "/".join(segments)
    if rest.startswith("?"):
        shown_url += "?***"
    if "#" in rest:
        shown_url += "#***"
    return url if shown_url == body and not rest else shown_url


def unreachable_reason(exc: BaseException, trusted_by: str) -> str | None:
    """Why a host could not be reached, in words ("connection refused: ..."), or None when
    ``exc`` is no connection failure (a defect, or an answer the caller deals with). One
    wording for every host kfp-tune calls (the KFP API, the Kubernetes API server), never the
    request itself, which may carry a token. ``trusted_by``: what holds the certificates that
    should trust the server (the kubeconfig, this machine)."""
    import socket
    import ssl

    import urllib3.exceptions

    if not isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError, OSError)):
        return None
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:  # the cause, wherever urllib3 keeps it (reason, __cause__, __context__)
        item = pending.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        pending += [getattr(item, "reason", None) if isinstance(getattr(item, "reason", None), BaseException) else None, item.__cause__, item.__context__]
    text = " ".join(str(item) for item in seen)
    if any(isinstance(item, ConnectionRefusedError) for item in seen) or "Connection refused" in text:
        return "connection refused: nothing listens at that address and port, or the cluster is down"
    if any(isinstance(item, (socket.gaierror, urllib3.exceptions.NameResolutionError)) for item in seen):
        return "its host name does not resolve"
    if any(isinstance(item, (ssl.SSLError, urllib3.exceptions.SSLError)) for item in seen):
        return f"the TLS handshake failed: the server's certificate is not one {trusted_by} trusts, or it does not speak TLS"
    if any(isinstance(item, (TimeoutError, socket.timeout, urllib3.exceptions.TimeoutError)) for item in seen):
        return "the connection timed out"
    if isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)):
        return f"{type(exc).__name__}: the connection failed"
    return None


WHOLE_FILE = "(file)"
"""The path of a FieldError about a file as a whole (its size, encoding or YAML) rather than
one field in it; a caller that knows the file's name puts it there (``SpecError.in_file``)."""


@dataclass(frozen=True)
class FieldError:
    """One problem in an experiment, at a Katib-style field path such as
    ``spec.parameters[1].feasibleSpace.min``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class KfpTuneError(Exception):
    """Base class of every error kfp-tune raises on purpose."""


class SpecError(KfpTuneError):
    """An experiment is invalid. Holds every problem found, not only the first."""

    subject: ClassVar[str] = "experiment"
    """What is invalid, as the message's first line names it: a subclass for other input (the
    arguments of ``submit()``) says so, so that a refused cron is not called an invalid experiment."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"invalid {self.subject} ({len(self.errors)} error(s)):\n{lines}")

    def in_file(self, name: str) -> SpecError:
        """The same problems, those about the whole file naming ``name``: a user reading
        ``exp.yaml: not valid YAML: line 3 ...`` knows which file to open."""
        return SpecError([FieldError(name, e.message) if e.path == WHOLE_FILE else e for e in self.errors])


class InputError(KfpTuneError, ValueError):
    """A value a user gave (a command-line flag, a ``tune()`` argument, an environment
    variable, a store URI) that cannot be used. The message starts with where the value came
    from and says what was expected; the CLI exits 2 with it, before anything runs."""


class ExperimentConflict(KfpTuneError):
    """The store already holds an experiment of this name that the given spec cannot resume."""


class StoreError(KfpTuneError):
    """The store refused or failed an operation, or holds a record kfp-tune cannot read.

    ``transient`` marks failures worth retrying (connection errors, 5xx, slow-down); a
    permanent one (access denied, no such bucket, a damaged record) is raised at once."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


class StoreInputError(StoreError, InputError):
    """A store URI or S3 endpoint that cannot work (wrong scheme, credentials written into it,
    no endpoint at all): a user's mistake, never retried."""


class ExperimentNotFound(StoreError, InputError, RuntimeError):
    """No experiment of the name asked for in the store: usually a mistyped name or store. A
    RuntimeError too, as Katib's SDK raises for an experiment it cannot get (``except
    RuntimeError`` in a notebook written for Katib still catches it)."""


class ExperimentPartlyDeleted(StoreError):
    """A delete of the experiment stopped before it ended (a store error, a killed process): what
    is left is neither the experiment nor gone, so it is not read, resumed or reported; deleting
    it again finishes the delete."""


class ExperimentBusy(KfpTuneError):
    """Another run is driving this experiment now (or took it over from this run).

    ``reason``: what is so, without what follows for this run; ``stops``: the run that is
    refused stops (said as "; this run stops" after the reason), so that a caller that says
    more (a slots process that recorded a trial's end first) builds on the reason."""

    STOPS = "; this run stops"

    def __init__(self, reason: str, stops: bool = False):
        super().__init__(reason + (self.STOPS if stops else ""))
        self.reason, self.stops = reason, stops


class TrialNotCreated(KfpTuneError):
    """The launcher could not create a trial's resource: the launcher's configuration, its
    permissions or the API server, not the trial, is at fault, and nothing ran. The run stops
    with this error and the trial gives its budget back (``core.state.TRIAL_NOT_CREATED``), so
    a run after the fix goes on with the experiment: as Katib's trial controller, which retries
    a failed create instead of failing the trial."""


class TrialMachineryFailed(KfpTuneError):
    """A trial ended failed while the machine that ran it failed it (the local launcher's
    scratch file system full, so the trial's own output was refused): the trial is not at fault.
    The run stops with this error and the trial gives its budget back
    (``core.state.TRIAL_STALE``), as after any other failure of the run's own. ``logs``: what the
    trial printed, kept with it."""

    def __init__(self, message: str, logs: dict[str, str] | None = None):
        super().__init__(message)
        self.logs = logs or {}


class NotImplementedAlgorithm(KfpTuneError):
    """A Katib algorithm name that this version of kfp-tune does not implement yet."""


class RunInterrupted(KeyboardInterrupt):
    """A run its user stopped with SIGINT or SIGTERM. Raised by a launcher whose trial was
    stopped for it, and by the run once it has ended cleanly (running trials stopped and
    recorded Killed, status written, claim released). A KeyboardInterrupt, so code that handles
    Ctrl-C handles it, and no ``except Exception`` swallows it."""

    def __init__(self, signal_name: str = "SIGINT", killed: int = 0, logs: dict[str, str] | None = None, unrecorded: str = ""):
        super().__init__(signal_name)
        self.signal_name, self.killed = signal_name, killed
        self.logs: dict[str, str] = dict(logs or {})
        """From a launcher: what the stopped trial printed until then, by log name (its primary
        container's), stored with the trial as a finished trial's logs are."""
        self.unrecorded = unrecorded
        """Set when the store failed while the run recorded its end (it was down): what could
        not be recorded, and the store's error. The next run gives the trials left Running back."""
