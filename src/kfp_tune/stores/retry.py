"""Retries with backoff around a store, for failures that go away on their own.

A store says which failures are transient (``StoreError.transient``): a dropped connection, a
5xx, a slow-down. Those are retried with exponential backoff and jitter; anything else is raised
at once, so a wrong credential or a missing bucket stops the step with its own message instead
of hanging.

``deadline`` is how long the store may fail before it is given up on, counted from the first
failure of the outage, not from each operation's start: operations that fail one after another
(a step's reads and writes, a run's shutdown) share one window. Once the store has failed for
the whole window (its last wait is cut to end with the window, where a last attempt is made),
each later operation tries once and, failing, is raised at once. So a store that is down
stops a run about ``deadline`` seconds after it went down, however many operations are left. As
Katib's db-manager waits for its database: one connect window, not one per query
(pkg/db/v1beta1/common/connection.go, OpenSQLConn).

The outage is counted per kind of operation (read, write or create, listing, delete): a kind's
failures end with a success of the same kind, and the outage ends, and the next failure starts
a new window, once no kind is failing. A store that answers reads but refuses every write with a
5xx (a full disk: MinIO's 507, SeaweedFS's 500) is an outage of its writes, which the run's
listings do not end: the run stops with the window, saying that the store answered other
requests meanwhile, and the writes after it try once. A kind is refused only when one of its
operations fails again after the store answered another since its previous failure (said once,
"the store answers other requests"): an operation still retrying when another succeeds (a store
back up, a single 503) is taken at its next try, with no such word. A success of another kind
ends a kind's failures only where no operation of that kind is retrying and the kind was not
refused (a store down then up again, whose given-up read is ended by a write), or where that
kind has not been tried for a whole window.

Each operation also has a window of its own, from its own first failure: one that the store
keeps failing while it takes others of the same kind (a write of one key to a MinIO erasure set
without quorum, a SeaweedFS volume gone read-only, while writes of other keys land) is given up
about ``deadline`` seconds after it began failing, naming it, though each success of another
write restarted the writes' window.

An outage is said twice, as warnings: when it begins (what failed, that it is retried, for at
most how long) and when the store answers again (after how long); each attempt is an info line
(``-v``). A 20 s outage of an inline run was 24 warnings of one attempt each.

A run told to stop at once (a second Ctrl-C) cuts the window (:meth:`RetryingStore.cut_window`):
what its shutdown cannot record in a few seconds is left for the next run, instead of holding
the user's terminal for the rest of a five-minute window. A best-effort read cuts it only while
it lasts (:meth:`RetryingStore.window_cut`): a later outage of the same store gets its whole window.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Store, Streaming
from kfp_tune.core.vocabulary import STORE_RETRY_VARIABLE

T = TypeVar("T")
SECOND_SIGNAL_CUT = "what a second signal left of the retry window"
"""What a give-up message calls the window :meth:`RetryingStore.cut_window` cut."""
log = logging.getLogger(__name__)

DEFAULT_DEADLINE = 300.0
"""Seconds a store may fail before it is given up on: long enough for an object store to restart."""


def deadline_from_env() -> float:
    raw = os.environ.get(STORE_RETRY_VARIABLE)
    return float(raw) if raw else DEFAULT_DEADLINE


REFUSED_HINTS = {"write": "a full disk? a read-only volume?", "read": "a damaged volume? a proxy in between?", "listing": "a damaged volume? a proxy in between?"}
"""Why a store may refuse one kind of operation while it answers others, by kind."""


@dataclass(eq=False)
class _Operation:
    """One operation in its retry loop: its own window, and what the store did meanwhile."""

    kind: str
    what: str
    since: float | None = None  # its first failed attempt's start: its own window, whatever others do
    last_failed: float | None = None  # when its last attempt failed
    answered: str | None = None  # an operation of its kind the store took after one of its failures: it refuses this one
    said: bool = False  # its failing after the store answered is said


class RetryingStore:
    """A store whose transient failures are retried: same interface, same URI."""

    def __init__(
        self,
        inner: Store,
        deadline: float | None = None,
        first_delay: float = 0.2,
        max_delay: float = 10.0,
        sleep: Callable[[float], None] | None = None,
    ):
        self.inner = inner
        self.uri = inner.uri
        self.deadline = deadline_from_env() if deadline is None else deadline
        self.first_delay, self.max_delay = first_delay, max_delay
        # reentrant: cut_window is called from a signal handler, which may run while its thread holds it
        self._lock = threading.RLock()  # one outage, whichever thread's operations meet it
        self._woken = threading.Condition(self._lock)  # a wait between attempts, ended early by cut_window
        self._sleep = sleep or self._wait
        self._failing: dict[str, float] = {}  # kind of operation -> the start of its first failed attempt; empty while the store answers
        self._last_failed: dict[str, float] = {}  # kind of operation -> when its last attempt failed
        self._failing_operations: set[_Operation] = set()  # operations in their retry loop that have failed
        self._answered_meanwhile: str | None = None  # an operation that succeeded while another kind kept failing
        self._refused_kinds: set[str] = set()  # failing kinds the store refused while it answered others: ended only by their own success
        self._given_up: set[str] = set()  # kinds an operation gave up at the end of the window: their later operations try once
        self._last_answer: tuple[float, str, str] | None = None  # (when, what, kind): the last operation that succeeded
        self._cut: tuple[float, float] | None = None  # (when, seconds): cut_window's limit, for this outage and later ones
        self._scoped_cut: tuple[float, float, str] | None = None  # (when, seconds, why): window_cut's limit, while it lasts
        self.on_outage: Callable[[float], None] | None = None
        """Called with the seconds left of its window when an outage begins (a run being stopped says so)."""

    def __repr__(self) -> str:
        return f"RetryingStore({self.inner!r})"

    def cut_window(self, seconds: float) -> None:
        """From now on the store may fail for at most ``seconds`` more, in this outage or a
        later one, and an operation waiting to retry tries again at once: the run was told to
        stop at once. Safe to call from a signal handler."""
        with self._lock:
            self._cut = (time.monotonic(), seconds)
            self._woken.notify_all()

    @contextlib.contextmanager
    def window_cut(self, seconds: float, why: str) -> Iterator[None]:
        """While the block runs, the store may fail for at most ``seconds`` more (a best-effort
        read that must not wait out the window); after it, the window is as it was, so a later
        outage gets its whole window. ``why`` is what a give-up message calls the cut window. A
        :meth:`cut_window` made meanwhile holds on after the block."""
        with self._lock:
            previous, self._scoped_cut = self._scoped_cut, (time.monotonic(), seconds, why)
            self._woken.notify_all()
        try:
            yield
        finally:
            with self._lock:
                self._scoped_cut = previous

    def outage_left(self) -> float | None:
        """How many seconds of this outage's window are left (0 once given up); None while the
        store answers."""
        with self._lock:
            if not self._failing:
                return None
            return max(0.0, self._window_ends() - time.monotonic())

    def _failing_since(self, kind: str | None = None) -> float | None:
        """When this outage began (its lock held): the first failure of the kinds still
        failing; None while the store answers. For ``kind``, kinds the store refuses while it
        answers others (writes on a full disk) are left out, but for ``kind`` itself: a read
        failing after them has a window of its own."""
        if kind is None:
            return min(self._failing.values(), default=None)
        return min((since for other, since in self._failing.items() if other == kind or other not in self._refused_kinds), default=None)

    def _wait(self, seconds: float) -> None:
        """Sleep between attempts; a cut window wakes it, and a cut made just before it began
        still ends it with the window."""
        with self._woken:
            now = time.monotonic()
            unrefused = [since for kind, since in self._failing.items() if kind not in self._refused_kinds]  # a read's wait, not cut by refused writes' window
            ends = min(now + seconds, self._window(min(unrefused) if unrefused else None)[0])
            self._woken.wait(max(0.0, ends - now))

    def _window_ends(self) -> float:
        """When this outage's window ends (its lock held): ``deadline`` after it began, or
        earlier once cut; infinity while the store answers."""
        return self._window()[0]

    def _window(self, since: float | None = None, kind: str | None = None) -> tuple[float, str | None]:
        """When this outage's window ends (its lock held), for ``kind`` (see
        :meth:`_failing_since`), or the window of an operation failing ``since`` then, and what
        cut it there (None: no cut ends it before ``deadline``)."""
        failing_since = self._failing_since(kind) if since is None else since
        if failing_since is None:
            return float("inf"), None
        ends, why = failing_since + self.deadline, None
        cuts = [] if self._cut is None else [(*self._cut, SECOND_SIGNAL_CUT)]
        cuts += [] if self._scoped_cut is None else [self._scoped_cut]
        for cut_at, seconds, cut_why in cuts:
            if (cut_ends := max(failing_since, cut_at) + seconds) < ends:
                ends, why = cut_ends, cut_why
        return ends, why

    def _gives_up(self, operation: _Operation, attempt_started: float) -> tuple[str | None, float, float, bool, str | None]:
        """After a transient failure of ``operation``: whether to give up ("outage": this
        outage's window is spent or cut, or was by an earlier operation, which then gave up;
        "operation": the operation's own window is, others having succeeded meanwhile; None:
        retry), for how many seconds the store or the operation has been failing, how many are
        left of its window, whether this failure began the outage, and a warning to give: the
        operation failed again after the store answered another since its previous failure
        (refused, not down), said once."""
        with self._lock:
            began = not self._failing
            kind = operation.kind
            self._failing.setdefault(kind, attempt_started)
            self._failing_operations.add(operation)
            now = time.monotonic()
            self._last_failed[kind] = now
            operation.since = attempt_started if operation.since is None else operation.since
            warning = None
            answer = self._last_answer
            if answer is not None and operation.last_failed is not None and operation.last_failed <= answer[0] <= attempt_started:
                if answer[2] != kind:  # the store takes other kinds: it refuses this one (a full disk refuses writes)
                    self._refused_kinds.add(kind)
                    if self._answered_meanwhile is None:
                        self._answered_meanwhile, warning = answer[1], f"its {kind}s still fail; retrying them"
                else:  # it takes others of its kind: it refuses this one operation
                    operation.answered = answer[1]
                    if not operation.said and self._answered_meanwhile is None:
                        warning = f"{operation.what} still fails; retrying it"
                operation.said = operation.said or warning is not None
            operation.last_failed = now
            ends, own_ends = self._window(kind=kind)[0], self._window(operation.since)[0]
            kind_failing_since = self._failing_since(kind)
            failing = 0.0 if kind_failing_since is None else now - kind_failing_since  # never None: this kind fails
            down = any(other not in self._refused_kinds for other in self._given_up)  # given up as a store down: every kind tries once
            if kind in self._given_up or down or (operation.answered is None and now >= ends):
                self._given_up.add(kind)
                return "outage", failing, 0.0, began, None
            if now >= min(ends, own_ends):
                return "operation", now - operation.since, 0.0, began, None
            left = min(ends, own_ends) - now
            if warning is not None:
                warning = f"the store answers other requests ({answer[1] if answer else ''} succeeded) but {warning} for at most {left:.0f} s more ({STORE_RETRY_VARIABLE})"
            return None, failing, left, began, warning

    def _retry(self, kind: str, what: str, call: Callable[[], T]) -> T:
        operation = _Operation(kind, what)
        try:
            return self._retried(operation, call)
        finally:
            with self._lock:
                self._failing_operations.discard(operation)

    def _retried(self, operation: _Operation, call: Callable[[], T]) -> T:
        kind, what = operation.kind, operation.what
        delay = self.first_delay
        attempt = 1
        while True:
            attempt_started = time.monotonic()
            try:
                result = call()
            except StoreError as exc:
                if not exc.transient:  # an answer, if a refusal: an outage it ends is said to end
                    self._answered(operation, refused=exc)
                    raise
                given_up, failing, left, began, warning = self._gives_up(operation, attempt_started)
                if given_up == "operation":
                    raise self._operation_given_up_error(operation, exc, failing) from exc
                if given_up:
                    raise self._given_up_error(kind, exc, failing) from exc
                if began and (on_outage := self.on_outage) is not None:
                    on_outage(left)
                # the last wait ends with the window, where one last attempt is made
                wait = min(delay * random.uniform(0.5, 1.0), left)
                if began:  # one line for the outage, whichever operations meet it; each attempt with -v
                    log.warning("the store stopped answering: %s failed: %s; retrying in %.1f s, and for at most %.0f s (%s)",
                                what, exc, wait, left, STORE_RETRY_VARIABLE)
                elif warning is not None:
                    log.warning("%s", warning)
                log.info("%s failed (attempt %d, the store failing for %.0f s), retrying in %.1f s: %s", what, attempt, failing, wait, exc)
                self._sleep(wait)
                delay = min(self.max_delay, delay * 2)
                attempt += 1
            else:
                self._answered(operation)
                return result

    def _answered(self, operation: _Operation, refused: StoreError | None = None) -> None:
        """The store answered ``operation``: its kind's failures end unless another operation
        of that kind is still failing (one key's writes refused while others land), and the
        outage with them when no other kind is failing, said once by the operation that ended
        it, even with a refusal (a server restarted with the key rotated): every "stopped
        answering" line has its "answers again". An operation still retrying goes on: it is
        said to be refused only if it fails again after this answer (a store back up takes it
        at its next try). A kind refused while the store answered others (writes refused by a
        full disk) goes on failing until its own success, or until it is not tried for a
        whole window."""
        with self._lock:
            failing_since = self._failing_since()
            self._failing_operations.discard(operation)
            retrying = {other.kind for other in self._failing_operations}
            now = time.monotonic()
            for kind, last_failed in list(self._last_failed.items()):
                ended = kind == operation.kind or kind not in self._refused_kinds or now - last_failed > self.deadline
                if ended and kind not in retrying:  # a kind still retrying is refused only if it fails again after this answer
                    del self._failing[kind], self._last_failed[kind]
                    self._refused_kinds.discard(kind)
                    self._given_up.discard(kind)
            if refused is None:
                self._last_answer = (now, operation.what, operation.kind)
            still_failing = bool(self._failing)
            if not still_failing:
                self._given_up.clear()
                self._answered_meanwhile = None
        if failing_since is None or still_failing:
            return
        if refused is not None:
            log.warning("the store answers again after %.0f s, refusing: %s failed: %s", time.monotonic() - failing_since, operation.what, refused)
        else:
            log.warning("the store answers again after %.0f s (%s succeeded)", time.monotonic() - failing_since, operation.what)

    def _given_up_error(self, kind: str, exc: StoreError, failing: float) -> StoreError:
        """The last failure, saying that the store failed for its whole window and that running
        again resumes: "(transient)" alone reads as if it had not been given up on. A store
        that answered other requests meanwhile refuses this kind (a full disk)."""
        with self._lock:
            why = self._window(kind=kind)[1]
            meanwhile = self._answered_meanwhile if kind in self._refused_kinds else None
        window = why or f"the retry window, {STORE_RETRY_VARIABLE}={self.deadline:g}"
        text = str(exc).removesuffix(" (transient)")
        seconds = f"{failing:.0f}" if failing >= 10 else f"{failing:.1f}"
        if meanwhile is not None:
            return StoreError(f"{text}, the store failing for {seconds} s ({window}) while it answered other requests ({meanwhile} succeeded): "
                              f"it refuses {kind}s ({REFUSED_HINTS.get(kind, 'a read-only volume?')}); once it takes them again, run the same command again (a run resumes where it stopped)",
                              transient=True)
        return StoreError(f"{text}, the store failing for {seconds} s ({window}): once it answers, run the same command again (a run resumes where it stopped)", transient=True)

    def _operation_given_up_error(self, operation: _Operation, exc: StoreError, failing: float) -> StoreError:
        """The last failure of one operation the store kept failing for its own window while
        it took others (those of its kind too, which restart the outage's window): the store
        refuses this one, not the request's kind."""
        with self._lock:
            why = self._window(time.monotonic() - failing)[1]
            answered = operation.answered or (self._last_answer[1] if self._last_answer else None)
        window = why or f"the retry window, {STORE_RETRY_VARIABLE}={self.deadline:g}"
        text = str(exc).removesuffix(" (transient)")
        seconds = f"{failing:.0f}" if failing >= 10 else f"{failing:.1f}"
        meanwhile = f" ({answered} succeeded)" if answered else ""
        kind = operation.kind
        hint = "its volume read-only or without quorum?" if kind in ("write", "delete") else "its volume damaged or without quorum?"
        return StoreError(f"{text}, the {operation.what} failing for {seconds} s ({window}) while the store answered other requests{meanwhile}: "
                          f"it refuses this {kind} ({hint}); once it takes it again, run the same command again (a run resumes where it stopped)",
                          transient=True)

    def get(self, key: str) -> bytes | None:
        return self._retry("read", f"read of {key}", lambda: self.inner.get(key))

    def put(self, key: str, data: bytes) -> None:
        self._retry("write", f"write of {key}", lambda: self.inner.put(key, data))

    def list(self, prefix: str) -> list[str]:
        return self._retry("listing", f"listing of {prefix}", lambda: self.inner.list(prefix))

    def delete(self, keys: Sequence[str]) -> None:
        self._retry("delete", f"delete of {len(keys)} key(s)", lambda: self.inner.delete(keys))

    def create(self, key: str, data: bytes) -> bool:
        """A create whose first attempt failed may have written the object before the failure;
        a retry then finds the key taken. It is ours if it holds our bytes."""
        failed_once = False

        def attempt() -> bool:
            nonlocal failed_once
            try:
                created = self.inner.create(key, data)
            except StoreError as exc:
                failed_once = failed_once or exc.transient
                raise
            if not created and failed_once:
                return self.inner.get(key) == data
            return created

        return self._retry("write", f"create of {key}", attempt)  # a write as a put is: a full disk refuses both

    def upload_file(self, key: str, path: Path) -> None:
        """The inner store's streamed upload when it has one (:class:`~kfp_tune.core.interfaces.Streaming`),
        retried as a write; else the file's bytes through ``put``."""
        inner = self.inner
        if isinstance(inner, Streaming):
            self._retry("write", f"write of {key}", lambda: inner.upload_file(key, path))
            return
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror}") from None
        self.put(key, data)

    def download_file(self, key: str, path: Path) -> bool:
        """The inner store's streamed download when it has one, retried as a read (each attempt
        writes the file afresh); else the object's bytes through ``get``."""
        inner = self.inner
        if isinstance(inner, Streaming):
            return self._retry("read", f"read of {key}", lambda: inner.download_file(key, path))
        data = self.get(key)
        if data is None:
            return False
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror}") from None
        return True


def unretried(store: Store) -> Store:
    """The store under ``store``'s retries, or ``store`` when it has none: for a look that must
    not wait out a retry window (a hint, a check made just after the store answered)."""
    return store.inner if isinstance(store, RetryingStore) else store
