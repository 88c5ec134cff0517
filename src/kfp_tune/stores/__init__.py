"""Stores: where everything an experiment knows lives. A local folder, or S3 (MinIO, SeaweedFS,
AWS). Both implement :class:`kfp_tune.core.interfaces.Store`; a plug-in adds a URI scheme of its
own with :func:`register_scheme` (from the module its ``kfp_tune.plugins`` entry point names, so
that every step of a pipeline can open it: :mod:`kfp_tune.plugins`)."""

from __future__ import annotations

import math
import os
import re
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

from kfp_tune.core.errors import KfpTuneError, StoreError, StoreInputError, masked_url, shown
from kfp_tune.core.interfaces import Browsable, Store
from kfp_tune.core.records import EXPERIMENTS_PREFIX, ExperimentRecords
from kfp_tune.core.vocabulary import (
    EXPERIMENT_VARIABLE,
    MAX_TTL_SECONDS,
    PLACE_VARIABLES,
    RUN_TTL_VARIABLE,
    S3_ENDPOINT_VARIABLE,
    STORE_RETRY_VARIABLE,
    STORE_VARIABLE,
    TRIAL_TTL_VARIABLE,
    TRIAL_VARIABLE,
)
from kfp_tune.stores.keys import prefix_problem
from kfp_tune.stores.local import LocalStore

DEFAULT_LOCAL_STORE = "./kfp-tune-runs"
"""The store used when none is given: a folder in the current directory."""
DEFAULT_CLUSTER_STORE = "s3://mlpipeline/kfp-tune"
"""The store a compiled pipeline's steps use when none is given: under KFP's own bucket. Here,
not in ``pipelines.builder``, so that what builds an experiment for a cluster (``remote``)
names it without importing kfp."""

SECONDS_VARIABLES = (STORE_RETRY_VARIABLE, RUN_TTL_VARIABLE, TRIAL_TTL_VARIABLE)
"""Tuning knobs of the store's retries and of the run and trial claims kept in it, in seconds."""

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")  # S3's bucket naming rules
_IP_SHAPED = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_MISTYPED_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*(?::/?|//+)(?:[^/]|$)")
"""A folder path that starts as a URI with its ``://`` mistyped (``s3//``, ``s3:/``, ``user:``)."""

StoreOpener = Callable[[str], Store]
"""A plug-in's store for a URI of its scheme (the whole URI, as given)."""
_OPENERS: dict[str, StoreOpener] = {}
BUILTIN_SCHEMES = ("s3", "file")


def register_scheme(scheme: str, opener: StoreOpener) -> None:
    """Let ``scheme://...`` URIs name a plug-in's store: ``opener(uri)`` returns it (a
    :class:`~kfp_tune.core.interfaces.Store`; StoreContract checks one). ``--store``,
    ``$KFP_TUNE_STORE``, ``tune(store=)``, ``Client`` and the pipeline's ``store_uri`` then take
    it. ``s3`` and ``file`` stay kfp-tune's: the records of existing experiments are there."""
    if not isinstance(scheme, str) or not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
        raise ValueError(f"store scheme {shown(scheme)}: expected lower case letters, digits, '+', '.' or '-', starting with a letter (no '://')")
    if scheme in BUILTIN_SCHEMES:
        raise ValueError(f"store scheme {scheme!r} is kfp-tune's own; register a scheme of another name")
    if not callable(opener):
        raise TypeError(f"store scheme {scheme!r}: the opener must be a callable, opener(uri) -> Store")
    _OPENERS[scheme] = opener


def is_store(value: object) -> bool:
    """Whether ``value`` is a store object (it has :class:`~kfp_tune.core.interfaces.Store`'s
    methods and a string ``uri``), as ``tune(store=)`` and ``Client`` take one in place of a URI."""
    return isinstance(getattr(value, "uri", None), str) and all(callable(getattr(value, m, None)) for m in ("get", "put", "create", "list", "delete"))


def as_store(value: Store | str | os.PathLike[str] | None) -> Store:
    """A store object as it is (:func:`is_store`), else the store its URI or folder names
    (:func:`open_store`; None: ``$KFP_TUNE_STORE``, else ``./kfp-tune-runs``)."""
    if is_store(value):
        return cast(Store, value)
    return open_store(None if value is None else os.fspath(cast("str | os.PathLike[str]", value)))


def registered_schemes() -> list[str]:
    """The plug-ins' store schemes, sorted."""
    return sorted(_OPENERS)


def uri_like(text: str) -> bool:
    """Whether a name given for a file on this machine reads as a URI (``s3://bucket/x``), or as
    one of a scheme kfp-tune opens with its ``://`` mistyped (``s3:/bucket``, ``s3//bucket``), as
    :func:`check_store_uri` reads a store's: the file would land in a local folder ``s3:``, the
    bucket never written. A Windows-style ``C:/x`` is none."""
    return bool(_SCHEME.match(text)) or _mistyped_scheme(text) is not None


def _mistyped_scheme(text: str) -> str | None:
    """The scheme (as written) of a URI of a scheme kfp-tune opens whose ``://`` is mistyped
    (``s3:/bucket``, ``s3//bucket``, ``file:/x``), else None: a folder path, as a user may name one."""
    scheme = re.split(r"[:/]", text, maxsplit=1)[0]
    return scheme if _MISTYPED_SCHEME.match(text) and scheme.lower() in ("s3", "file", *_OPENERS) else None


def check_store_uri(uri: str) -> str:
    """The URI itself if it names a store kfp-tune can open (``s3://bucket/prefix``,
    ``file:///path``, or a folder path); StoreInputError saying what was expected otherwise.
    Only the form is checked: nothing is opened. Credentials written into the URI are refused
    and never repeated in the message."""
    expected = "expected s3://bucket/prefix, file:///path or a folder path" + "".join(f", {scheme}://..." for scheme in sorted(_OPENERS))
    # a URI is repeated with its credentials, query and fragment masked (a token may be there)
    quoted = shown(masked_url(uri))
    if uri and uri.strip() != uri:  # a CI variable set with a line break, a value pasted with a space: the form may be right
        raise StoreInputError(
            f"store URI {quoted}: it has white space at its start or end (a line break or space set or pasted with it?); "
            f"{expected}, as it is: a URI is never stripped"
        )
    if not uri or "\x00" in uri:
        raise StoreInputError(f"store URI {quoted}: {expected}")
    if not _SCHEME.match(uri):
        mistyped = _MISTYPED_SCHEME.match(uri)
        if mistyped and "@" in uri:  # s3//user:pass@bucket: not a folder to make, a secret to keep out of its path
            raise StoreInputError(
                f"store URI {quoted}: {expected}; this reads as a URI whose '://' is mistyped, with credentials in it, which "
                "do not belong in the URI: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the pipeline's store_secret) instead"
            )
        scheme = _mistyped_scheme(uri)
        if scheme is not None:  # s3:/bucket/x would be a folder 's3:' here, its records never in S3
            rest = uri[len(scheme):].lstrip(":/")
            meant = f"this reads as {shown(scheme + '://' + ('/' if scheme.lower() == 'file' else '') + rest)} with its '://' mistyped" if rest else (
                f"this reads as a {scheme}:// URI with nothing after the scheme (an empty variable, as in s3:/$BUCKET?)")
            raise StoreInputError(f"store URI {quoted}: {meant}; {expected} (a folder whose name starts so: ./{uri})")
        return uri
    try:
        parts = urlsplit(uri)
    except ValueError:  # a '[' or ']' that opens or closes no IPv6 address ("Invalid IPv6 URL")
        raise StoreInputError(f"store URI {quoted}: '[' and ']' may only enclose an IPv6 address, which no store URI holds; {expected}") from None
    scheme = parts.scheme.lower()
    if "@" in parts.netloc:
        raise StoreInputError(
            f"store URI {masked_url(uri)}: credentials do not belong in the URI (it is shown in logs and the KFP UI); "
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the pipeline's store_secret) instead"
        )
    if scheme == "s3":
        if (problem := bucket_problem(parts.netloc)) is not None:
            raise StoreInputError(f"store URI {quoted}: {shown(parts.netloc)} is not an S3 bucket name ({problem}); {expected}")
        if parts.query or parts.fragment:
            raise StoreInputError(f"store URI {quoted}: no '?' or '#' part is allowed; {expected}")
        if (problem := prefix_problem(parts.path)) is not None:
            raise StoreInputError(f"store URI {quoted}: {problem}")
        return uri
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise StoreInputError(
                f"store URI {quoted}: a file URI names a path on this machine, file:///absolute/path (three slashes); "
                f"{shown(parts.netloc)} is read as a host name"
            )
        if not parts.path:
            raise StoreInputError(f"store URI {quoted}: no path; {expected}")
        return uri
    if scheme in _OPENERS:
        return uri
    raise StoreInputError(f"store URI {quoted}: the {shown(scheme)} scheme is not supported; {expected} (a plug-in's scheme needs its plug-in installed)")


def bucket_problem(bucket: str) -> str | None:
    """What breaks S3's bucket naming rules in ``bucket`` (as minio's ``check_bucket_name`` and
    AWS apply them), else None: a server or the client refuses such a bucket at the first request."""
    if not _BUCKET.match(bucket) or ".." in bucket:
        return "3-63 lower case letters, digits, '.' or '-'"
    if _IP_SHAPED.match(bucket):
        return "it is shaped as an IP address, which S3 does not allow"
    if ".-" in bucket or "-." in bucket:
        return "'.-' or '-.' in it, which S3 does not allow: a '.' and a '-' may not stand side by side"
    if bucket.startswith("xn--"):
        return "it starts with 'xn--', which S3 keeps for itself"
    if bucket.endswith(("-s3alias", "--ol-s3")):
        return "it ends with '-s3alias' or '--ol-s3', which S3 keeps for access point aliases"
    return None


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Refuse a store setting in the environment that would fail later, mid-run."""
    env = os.environ if environ is None else environ
    for name in SECONDS_VARIABLES:
        raw = env.get(name)
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if name in (RUN_TTL_VARIABLE, TRIAL_TTL_VARIABLE) and not 0 <= value <= MAX_TTL_SECONDS:  # NaN too
            raise StoreInputError(f"${name}: expected a number of seconds, 0 to {MAX_TTL_SECONDS} (a year), got {shown(raw)}")
        if not math.isfinite(value) or value < 0:
            raise StoreInputError(f"${name}: expected a number of seconds, 0 or more, got {shown(raw)}")


def file_uri_path(uri: str) -> str:
    """The path a ``file://`` URI names, as this system writes paths: ``url2pathname`` is
    ``unquote`` on POSIX, and on Windows keeps the drive of ``file:///C:/runs`` (C:\\runs)."""
    return urllib.request.url2pathname(urlsplit(uri).path)


def store_variable(env: Mapping[str, str]) -> str | None:
    """The store ``$KFP_TUNE_STORE`` names in ``env``; None when it is unset or empty: an empty
    one is unset, as a shell's ``KFP_TUNE_STORE=`` means, for every reader (the CLI, the API, a
    trial's own calls)."""
    return env.get(STORE_VARIABLE) or None


def refuse_empty_store(uri: object, field: str = "store") -> None:
    """An empty store given (``--store ''``, ``tune(store='')``, ``Client('')``) is refused, not
    taken for the default: a setting that came out empty is a mistake. ``field`` names it."""
    if uri == "":
        raise StoreInputError(f"{field}: expected a URI or folder, got an empty string")


def open_store(uri: str | None = None, s3_endpoint: str | None = None, retry_seconds: float | None = None) -> Store:
    """The store a URI names: ``s3://bucket/prefix`` or ``file:///path`` (or a plain path), or a
    plug-in's scheme (:func:`register_scheme`), opened by its opener; None: ``$KFP_TUNE_STORE``
    (unset or empty: ``./kfp-tune-runs``). An empty URI is refused, as ``kfp-tune --store ''`` is.

    S3 credentials come from the environment (see :mod:`kfp_tune.stores.s3`), never from the URI;
    so does the endpoint unless ``s3_endpoint`` names one (a pipeline parameter: it is no secret).
    Transient S3 failures are retried (:mod:`kfp_tune.stores.retry`) for ``retry_seconds``
    (default: ``$KFP_TUNE_STORE_RETRY_SECONDS``, else 300). A URI or setting that
    cannot work raises StoreInputError (a ValueError) before anything is read or written."""
    refuse_empty_store(uri)
    uri = check_store_uri(uri if uri is not None else store_variable(os.environ) or DEFAULT_LOCAL_STORE)
    check_environment()
    opener = _OPENERS.get(urlsplit(uri).scheme.lower()) if _SCHEME.match(uri) else None
    if opener is not None:
        return opener(uri)
    if uri.lower().startswith("s3://"):
        from kfp_tune.stores.retry import RetryingStore
        from kfp_tune.stores.s3 import S3Settings, S3Store

        return RetryingStore(S3Store.from_uri(uri, S3Settings.from_env(endpoint=s3_endpoint or None)), deadline=retry_seconds)
    if uri.lower().startswith("file://"):
        uri = file_uri_path(uri)
    folder = Path(uri).expanduser()
    try:
        for place in (folder, *folder.parents):
            if place.exists():
                if not place.is_dir():
                    raise StoreInputError(f"store {shown(str(folder))}: {shown(str(place))} is a file; expected a folder for the store")
                break
    except OSError as exc:  # a name too long, a loop of links: the path cannot be used at all
        raise StoreInputError(f"store {shown(str(folder))}: not a usable path: {exc.strerror or exc}") from None
    return LocalStore(folder)


STORES_BESIDE_CHECKED = 5
"""How many of the stores beside an empty prefix or folder :func:`stores_beside` looks into (the
closest names): one small look each."""
STORES_UNDER_CHECKED = 1000
"""How many of the prefixes under a bucket's root, or of the folders under an empty folder store,
:func:`stores_beside` looks into (in name order; a bucket's root has no name to be close to, nor
a folder of team folders that it is the parent of): a bucket of 1,000 prefixes is looked through
whole, at one small look each, a few at a time (:data:`STORES_BESIDE_LOOKERS`), through the
store's own client; a folder's look is a local listing (1,000 in well under a second)."""
PREFIXES_UNDER_CHECKED = 20
"""How many of the prefixes under an empty prefix that is not a bucket's root
:func:`stores_beside` looks into, and only when nothing beside it with a close name holds an
experiment (a close name alone, an empty ``teams-old/`` beside ``teams/``, is no answer): a prefix of
data (``s3://data/raw`` with thousands of ``raw/p00001/``...) is no bucket's root, and a look
into each of 1,000 would cost a thousand requests a ``list``."""
STORES_BESIDE_LOOKERS = 8
"""How many of those looks :func:`stores_beside` makes at once."""
STORES_BESIDE_NAMED = 5
"""How many stores that hold experiments the hint names at most."""
EXPERIMENT_FOLDERS_LOOKED = 3
"""In how many folders of a bucket's ``experiments/`` :func:`holds_experiment` reads the
experiment record (one request each): a hint's look, not a listing of every experiment. A folder
store's is read in every folder listed: a local read."""


def holds_experiment(store: Browsable) -> bool:
    """Whether ``store`` holds an experiment, what ``list`` lists (an ``experiments/<name>/``
    with its experiment record; a README or notes there are none), from a small look: the first
    1,000 folders of ``experiments/`` (one request of a delimiter listing), then the experiment
    record of at most :data:`EXPERIMENT_FOLDERS_LOOKED` of them (of each, in a folder store). A
    record that cannot be read (a link, damaged, refused) is no experiment for the hint."""
    folders = store.folders(EXPERIMENTS_PREFIX)
    for name in folders if isinstance(store, LocalStore) else folders[:EXPERIMENT_FOLDERS_LOOKED]:
        try:
            if store.get(ExperimentRecords(store, name).experiment_key()) is not None:
                return True
        except StoreError:  # no experiment's name, or its record unreadable (DamagedRecord too): none there
            continue
    return False


def stores_beside(store: Store) -> list[str]:
    """The URIs of the stores next to ``store`` that hold experiments (:func:`holds_experiment`),
    at most :data:`STORES_BESIDE_NAMED`: for a store that holds none, a mistyped prefix
    (``teamAA``, ``teama`` for ``teamA``), as ``status`` suggests close experiment names, or the
    parent of the stores that do (a bucket's root, a folder of team folders). Those beside it
    (prefixes or folders under the same parent: a delimiter listing, one request per 1,000
    prefixes) whose names are close to its own, at most :data:`STORES_BESIDE_CHECKED`, closest
    first, and those under it in name order: under a bucket's root or a folder store the first
    :data:`STORES_UNDER_CHECKED`, under another prefix the first :data:`PREFIXES_UNDER_CHECKED`
    and only when none close beside it holds an experiment. One small look into each; one that fails is a "no"
    for that store only. Empty for a store that cannot name what is next to it (a plug-in's, not
    :class:`~kfp_tune.core.interfaces.Browsable`), and when a listing of what is next to it
    fails: it is only a hint."""
    import difflib
    from concurrent.futures import ThreadPoolExecutor

    from kfp_tune.stores.retry import unretried

    inner = unretried(store)  # a hint is not retried
    if not isinstance(inner, Browsable):
        return []

    def name_of(uri: str) -> str:
        return uri.rstrip("/").rpartition("/")[2].lower()

    def holds(uri: str) -> bool:
        try:
            return holds_experiment(inner.open_beside(uri))
        except KfpTuneError:  # that store's listing refused or failed: not the others'
            return False

    def holding(candidates: list[str]) -> list[str]:
        with ThreadPoolExecutor(STORES_BESIDE_LOOKERS, thread_name_prefix="stores-beside") as looking:
            found = list(looking.map(holds, candidates))
        return [uri for uri, holds_one in zip(candidates, found, strict=True) if holds_one][:STORES_BESIDE_NAMED]

    local = isinstance(inner, LocalStore)  # a look is a local listing
    at_root = not local and not urlsplit(inner.uri).path.strip("/")  # a bucket's root
    try:
        beside = [] if at_root else inner.prefixes_beside()
        close = difflib.get_close_matches(name_of(inner.uri), sorted({name_of(uri) for uri in beside}), n=STORES_BESIDE_CHECKED, cutoff=0.6)
        close_uris = [uri for name in close for uri in beside if name_of(uri) == name][:STORES_BESIDE_CHECKED]
        under = inner.prefixes_under()[:STORES_UNDER_CHECKED] if local or at_root else []
    except KfpTuneError:
        return []
    found = holding(under + close_uris)
    if found or local or at_root:
        return found
    # another prefix whose close names hold none (or that has none: an empty teams-old/ beside
    # teams/ is no answer): the first few under it, as a prefix of team prefixes
    try:
        return holding(inner.prefixes_under()[:PREFIXES_UNDER_CHECKED])
    except KfpTuneError:
        return []


__all__ = ["DEFAULT_LOCAL_STORE", "LocalStore", "StoreOpener", "check_environment", "check_store_uri", "holds_experiment", "is_store", "open_store", "refuse_empty_store", "register_scheme",
           "registered_schemes", "store_variable", "stores_beside"]


def open_experiment_records(env: Mapping[str, str], experiment: str) -> ExperimentRecords:
    """An experiment's records in the store ``env`` names (``KFP_TUNE_STORE``, and
    ``KFP_TUNE_S3_ENDPOINT`` when set): the store as a launcher passes it on to its trials; none
    named (unset or empty, :func:`store_variable`), the default store."""
    return ExperimentRecords(open_store(store_variable(env) or DEFAULT_LOCAL_STORE, env.get(S3_ENDPOINT_VARIABLE) or None), experiment)


class TrialPlaceMissing(KfpTuneError):
    """Code meant to run in a trial that kfp-tune launched runs where the launcher's variables
    (:data:`~kfp_tune.core.vocabulary.PLACE_VARIABLES`) are not set; names the missing ones."""

    def __init__(self, missing: list[str]):
        super().__init__(f"{', '.join(missing)} not set")
        self.missing = missing


def open_trial_place(env: Mapping[str, str] | None = None) -> tuple[ExperimentRecords, str]:
    """(the experiment's records, the trial's name) of the trial this process runs in, from the
    variables its launcher set (:func:`kfp_tune.core.vocabulary.trial_place_env`);
    TrialPlaceMissing naming those not set, checked before any store is opened."""
    env = os.environ if env is None else env
    missing = [name for name in PLACE_VARIABLES if not env.get(name)]
    if missing:
        raise TrialPlaceMissing(missing)
    return open_experiment_records(env, env[EXPERIMENT_VARIABLE]), env[TRIAL_VARIABLE]
