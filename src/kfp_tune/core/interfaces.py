"""The small interfaces the core talks through: a store, a launcher, a metrics collector.

Implementations live outside the core (:mod:`kfp_tune.stores`, :mod:`kfp_tune.launchers`,
:mod:`kfp_tune.collectors`) so the core never imports kfp, kubernetes or minio.

Of these, only the store is a plug-in family. Where each plug-in family is declared,
registered and checked (docs/guide.md, "Plug-ins"):

- stores: :class:`Store`, here; :func:`kfp_tune.stores.register_scheme`;
  :class:`kfp_tune.stores.testing.StoreContract`.
- suggestion algorithms: ``Algorithm`` in :mod:`kfp_tune.algorithms.base`;
  :func:`kfp_tune.algorithms.register`; :class:`kfp_tune.algorithms.testing.AlgorithmContract`.
- early-stopping rules: ``EarlyStoppingRule`` in :mod:`kfp_tune.algorithms.early_stopping`;
  :func:`kfp_tune.algorithms.register_early_stopping`;
  :class:`kfp_tune.algorithms.testing.EarlyStoppingContract`.

The algorithm families are declared beside the built-ins in :mod:`kfp_tune.algorithms`: the
steps call them, the core never does. :class:`Launcher` and :class:`Collector` are not plug-in
points: they are declared here so the core can run the shipped ones (:mod:`kfp_tune.launchers`;
Katib's collector kinds, :data:`kfp_tune.collectors.COLLECTORS`), and nothing registers another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from kfp_tune.core.observation import MetricLog
from kfp_tune.core.vocabulary import LaunchPhase

if TYPE_CHECKING:  # records and state are built on these interfaces; only their types are needed
    from pathlib import Path

    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.spec import Experiment
    from kfp_tune.core.state import TrialState


class Store(Protocol):
    """A flat key -> bytes object store (a local folder, or an S3 bucket and prefix; a plug-in's
    through :func:`kfp_tune.stores.register_scheme`).

    Keys are '/'-separated relative paths. An unsafe key (empty, absolute, with an empty, ``.``
    or ``..`` part, or ending in '/') must raise :class:`~kfp_tune.core.errors.StoreError` from
    ``get``, ``put``, ``create`` and ``delete``, writing nothing: nothing may escape or alias the
    store's root. A failure to reach the store raises StoreError too. ``put`` replaces an object
    whole: a reader sees the old bytes or the new ones, never a mix.
    :class:`kfp_tune.stores.testing.StoreContract` checks all of this."""

    uri: str

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such key."""
        ...

    def put(self, key: str, data: bytes) -> None: ...

    def create(self, key: str, data: bytes) -> bool:
        """Write the object only if there is none, atomically: of two writers racing, exactly
        one gets True. False when the key already exists (its bytes are left as they are)."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Every key that starts with prefix, sorted."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        """Remove these keys; a key that is not there is no error. Only deleting an experiment
        (``kfp-tune delete``) removes records: nothing in a run does."""
        ...


@runtime_checkable
class Streaming(Store, Protocol):
    """A store that moves a file's bytes to or from an object a part at a time, never holding the
    whole file in memory: what a checkpoint folder of gigabytes is kept and copied through
    (:mod:`kfp_tune.launchers.checkpoints`). Optional: any other store is given each file's bytes
    whole through ``get`` / ``put``."""

    def upload_file(self, key: str, path: Path) -> None:
        """Write the file at ``path`` to ``key`` (as ``put`` would, whole or not at all)."""
        ...

    def download_file(self, key: str, path: Path) -> bool:
        """Write the object at ``key`` to the file ``path``; False when there is no such key."""
        ...


@runtime_checkable
class Browsable(Store, Protocol):
    """A store that can name the stores next to it (prefixes or folders) and open one through its
    own client: what ``kfp-tune list`` of an empty store looks through for a mistyped prefix or
    folder (:func:`kfp_tune.stores.stores_beside`). Optional: a store that is not one (a
    plug-in's) gets no such hint."""

    def prefixes_beside(self) -> list[str]:
        """The URIs of the stores beside this one, under the same parent (none for a bucket's root)."""
        ...

    def prefixes_under(self) -> list[str]:
        """The URIs of the stores under this one (its prefixes or folders)."""
        ...

    def folders(self, prefix: str) -> list[str]:
        """The names of the folders right under ``prefix`` (a key prefix ending in '/'), sorted;
        at most 1,000 (one request of a delimiter listing)."""
        ...

    def open_beside(self, uri: str) -> Browsable:
        """The store at one of :meth:`prefixes_beside`'s or :meth:`prefixes_under`'s URIs."""
        ...


@dataclass(frozen=True)
class TrialRun:
    """Everything a launcher needs to run one trial."""

    experiment: str
    trial: str
    manifest: dict[str, Any]
    assignment: dict[str, str]
    primary_container: str
    success_condition: str = ""
    failure_condition: str = ""
    primary_pod_labels: dict[str, str] = field(default_factory=dict)
    pod_labels: dict[str, str] = field(default_factory=dict)
    """The labels every pod of the trial gets over its template's own: the Experiment's
    ``metadata.labels``, the algorithm's (``TrialState.labels``), then kfp-tune's, each winning
    over those before, as Katib's webhook gives every pod the Trial's labels (mutatePodMetadata):
    the Experiment's and the suggestion's (TrialLabels, getTrialInstance). Empty: kfp-tune's own
    from the manifest."""
    retain: bool = False
    should_stop: Callable[[str], bool] | None = field(default=None, compare=False)
    """Early stopping: given the primary container's output so far, whether to stop the trial
    now (it then ends EarlyStopped). A launcher asks while the trial runs, and once more, with
    all it printed, when it has ended by itself: True then ends it EarlyStopped all the same, as
    Katib's collector, which judges each report as it is written, would have stopped it. None
    when the experiment has no early stopping."""
    metrics_path: str = ""
    """File and TensorFlowEvent collectors: the path in the container the trial writes its
    metrics to (``fileSystemPath.path``); the launcher gives it a per-trial place and returns
    what the trial wrote there as ``LaunchOutcome.files``."""
    metrics_path_kind: str = ""
    """``File`` or ``Directory``."""
    metric_names: tuple[str, ...] = ()
    """The metrics a StdOut trial's output is read for (the objective's, then the additional
    ones; none for another collector): a launcher that cuts a long log keeps every line naming
    one (:mod:`kfp_tune.launchers.kept_log`)."""
    metrics_collector: dict[str, Any] = field(default_factory=dict)
    """The experiment's ``metricsCollectorSpec`` as Katib writes it (``{}``: none): what the
    Kubernetes launcher adds beside the trial (a collector sidecar, or the Custom container)."""
    handover: threading.Event | None = field(default=None, compare=False)
    """Set when the run hands its trials over to the next step (a checkpoint): a launcher that
    :attr:`~Launcher.hands_over` then stops following the trial, which goes on running, by
    raising :class:`TrialHandedOver`; the next step re-attaches to it."""
    checkpoint_path: str = ""
    """The trial's checkpoint folder as the trial sees it (Katib's ``suggestion_trial_dir``;
    :mod:`kfp_tune.core.checkpoints`): the launcher gives the trial a folder of its own there,
    kept after it ends. Empty: none."""
    checkpoint_parent: str = ""
    """The trial whose checkpoint folder the trial's starts as a copy of (pbt's parent); empty
    for a trial that starts with an empty folder."""


class TrialHandedOver(BaseException):
    """The launcher stopped following a trial that goes on running, for the next step to
    re-attach to (not an error: a BaseException so that no ``except Exception`` swallows it)."""


@dataclass(frozen=True)
class LaunchOutcome:
    """How a trial's run ended, before metrics are looked at.

    ``logs`` maps a log name (the primary container's name) to its text; ``pushed`` holds
    metrics the trial reported directly (the Push collector)."""

    phase: LaunchPhase
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    logs: dict[str, str] = field(default_factory=dict)
    pushed: list[MetricLog] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    """Metrics files the trial wrote (File, TensorFlowEvent), by path under ``metrics_path``
    (a File collector's file is under its base name)."""


class Launcher:
    """Starts a trial and waits for it to end. Must be safe to call again for the same trial.
    Not a plug-in point: the shipped launchers are the ones a run uses (module docstring).

    Subclasses implement :meth:`run`; the rest are optional capabilities with safe defaults,
    declared here so callers never probe for them."""

    @property
    def namespace(self) -> str:
        """The Kubernetes namespace trials run in (``${trialSpec.Namespace}``); empty off-cluster."""
        return ""

    hands_over: bool = False
    """Whether :meth:`run` stops following a trial, leaving it running, when ``trial.handover``
    is set, and :meth:`reattach` can follow it again from another process (a Kubernetes
    resource can; a local subprocess cannot: a checkpoint then waits for it to end)."""

    def run(self, trial: TrialRun) -> LaunchOutcome:
        """Run the trial to its end and say how it ended (never None): a trial that ran and
        failed is a LaunchOutcome with a failed phase. A trial that could not be created at all
        (the launcher's configuration, permissions or API server at fault, nothing ran) must
        raise :class:`~kfp_tune.core.errors.TrialNotCreated`: the trial then gives its budget
        back and the run stops with that error, so a run after the fix goes on. Any other
        exception stops the run too, but the trial, started and never ended, then ends Failed
        (``TrialStale``) unless :meth:`reattach` can follow it."""
        raise NotImplementedError

    def reattach(self, trial: TrialRun) -> LaunchOutcome | None:
        """Follow a trial that an attempt which has since died started, to its end; None when
        this launcher cannot (the trial then ends Failed, ``TrialStale``, and is not re-run)."""
        return None

    can_interrupt: bool = False
    """Whether :meth:`interrupt` stops this launcher's running trials when the user stops the
    run (SIGINT, SIGTERM): a local process group can be stopped; a Kubernetes resource is left
    to run (the next run re-attaches to it)."""

    def interrupt(self, force: bool = False) -> None:
        """Start no more trials and stop the running ones; :meth:`run` of a trial stopped for
        this raises :class:`~kfp_tune.core.errors.RunInterrupted`. Returns at once. ``force``:
        the user asked again, so no grace period. Called from a signal handler."""


class Collector(Protocol):
    """Reads the metrics a trial reported, from what launch-trial stored (Katib's
    ``metricsCollectorSpec.collector.kind`` picks one of the shipped ones; not a plug-in point)."""

    def __call__(self, records: ExperimentRecords, experiment: Experiment, trial: TrialState) -> list[MetricLog]: ...
