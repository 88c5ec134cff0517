"""kfp-tune's vocabularies, each defined once, with Katib's values on the wire.

Every member is a ``str``, so it compares equal to, serialises as and prints as Katib's own
spelling: ``TrialStatus.SUCCEEDED == "Succeeded"`` and ``json.dumps`` writes ``"Succeeded"``.
Records written before these enums existed read back unchanged.
"""

from __future__ import annotations

import re
from enum import Enum


class WireEnum(str, Enum):
    """A ``str`` enum that prints and formats as its value (Katib's spelling), on every Python."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class TrialStatus(WireEnum):
    """A trial's condition, as Katib names it (``Trial.status.conditions[].type``)."""

    CREATED = "Created"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    METRICS_UNAVAILABLE = "MetricsUnavailable"
    EARLY_STOPPED = "EarlyStopped"
    KILLED = "Killed"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def counts_as_failed(self) -> bool:
        """Failed and MetricsUnavailable both count against maxFailedTrialCount, as in Katib."""
        return self in FAILED_STATUSES

    @property
    def ranked(self) -> bool:
        """Whether a trial that ended so has its objective value ranked (RANKED_STATUSES)."""
        return self in RANKED_STATUSES

    @property
    def observed(self) -> bool:
        """Whether a trial that ended so has Katib's ``status.observation``: its job succeeded or
        stopped early (ranked, or MetricsUnavailable); a Failed or Killed trial has none, whatever
        it reported (trial_controller.go reads metrics only then)."""
        return self.ranked or self is TrialStatus.METRICS_UNAVAILABLE


TERMINAL_STATUSES: frozenset[TrialStatus] = frozenset(
    {TrialStatus.SUCCEEDED, TrialStatus.FAILED, TrialStatus.METRICS_UNAVAILABLE, TrialStatus.EARLY_STOPPED, TrialStatus.KILLED}
)
FAILED_STATUSES: frozenset[TrialStatus] = frozenset({TrialStatus.FAILED, TrialStatus.METRICS_UNAVAILABLE})
RANKED_STATUSES: frozenset[TrialStatus] = frozenset({TrialStatus.SUCCEEDED, TrialStatus.EARLY_STOPPED})
"""The trials whose objective value counts (ranked, the best, an algorithm's history): Katib's
trial controller records a trial's observation only when its job succeeded or it was stopped
early (trial_controller.go, ``UpdateTrialStatusObservation``; a MetricsUnavailable trial's has
no objective). A Failed or Killed trial has none: what it printed is no result."""


class LaunchPhase(WireEnum):
    """How a trial's run ended, before its metrics are looked at (``ended.json``'s ``phase``)."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    EARLY_STOPPED = "EarlyStopped"


EARLY_STOP_REASON = "TrialEarlyStopped"
EARLY_STOP_MESSAGE = "Trial is early stopped"
"""An early-stopped trial's reason and message, whichever launcher stopped it, in its ``ended``
record and its result: Katib's, as its medianstop service sets them on the trial
(pkg/earlystopping/v1beta1/medianstop/service.py, ``SetTrialStatus``), so what matches on
Katib's reasons finds these trials too. ``ended`` records of earlier versions say
``EarlyStopped``; nothing reads that reason (the result is made from the ``phase``)."""

TRIAL_FAILED_REASON = "TrialFailed"
TRIAL_FAILED_MESSAGE = "Trial has failed"
TRIAL_SUCCEEDED_REASON = "TrialSucceeded"
TRIAL_SUCCEEDED_MESSAGE = "Trial has succeeded"
METRICS_UNAVAILABLE_REASON = "MetricsUnavailable"
"""A Failed, Succeeded or MetricsUnavailable trial's condition reason and message, before its
job's (``with_job_condition``); a MetricsUnavailable trial's message says what it lacks."""


def with_job_condition(reason: str, message: str, job_reason: str, job_message: str) -> tuple[str, str]:
    """A trial condition's reason and message with its job's, as Katib's trial controller writes
    them for a Succeeded, MetricsUnavailable or Failed trial (trial_controller_util.go,
    ``UpdateTrialStatusCondition``): ``TrialFailed. Job reason: BackoffLimitExceeded`` and ``Trial
    has failed. Job message: exit code 1: ...``, each as it is where the job gave none. The job's
    are what the launcher saw (a local process's ``Error``, its exit code and log tail; the
    condition a Job met, e.g. ``CompletionsReached``), so the form is the same locally and on a
    cluster; a local trial that succeeds gives none."""
    return (f"{reason}. Job reason: {job_reason}" if job_reason else reason,
            f"{message}. Job message: {job_message}" if job_message else message)


class ExperimentPhase(WireEnum):
    """The experiment's condition, as Katib names it (its ExperimentConditionType). A run's
    decision is one of Created, Running, Succeeded or Failed; Restarting is only ever a
    condition, set on a completed experiment whose budget was raised and kept once set."""

    CREATED = "Created"
    RUNNING = "Running"
    RESTARTING = "Restarting"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class ObjectiveType(WireEnum):
    """``spec.objective.type``."""

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


class Comparison(WireEnum):
    """An early stopping rule's comparison (Katib's ComparisonType,
    pkg/apis/controller/common/v1beta1/common_types.go): the rule is reached when the metric's
    value is equal to, less than or greater than the rule's value."""

    EQUAL = "equal"
    LESS = "less"
    GREATER = "greater"


class CollectorKind(WireEnum):
    """``spec.metricsCollectorSpec.collector.kind``: every kind Katib accepts."""

    STDOUT = "StdOut"
    FILE = "File"
    TENSORFLOW_EVENT = "TensorFlowEvent"
    PROMETHEUS_METRIC = "PrometheusMetric"
    CUSTOM = "Custom"
    PUSH = "Push"
    NONE = "None"


OBJECTIVE_OR_NOTHING: tuple[str, ...] = (CollectorKind.STDOUT, CollectorKind.FILE, CollectorKind.TENSORFLOW_EVENT)
"""The collectors whose Katib sidecar, finding no objective metric, reports nothing else: one
``unavailable`` value of the objective in place of the other metrics it read (file-metricscollector's
``newObservationLog``, tfevent_loader's ``parse_summary``), so such a MetricsUnavailable trial's
observation is every metric ``unavailable``. A Push trial's reports stay (Katib's controller adds
the objective's ``unavailable`` beside them, ``reportUnavailableMetrics``)."""


class RecordKind(WireEnum):
    """The ``kind`` every stored JSON record carries (see :mod:`kfp_tune.core.records`)."""

    EXPERIMENT = "Experiment"
    ROUND = "Round"
    TRIAL_STARTED = "TrialStarted"
    TRIAL_ENDED = "TrialEnded"
    TRIAL_RESULT = "TrialResult"
    TRIAL_HEARTBEAT = "TrialHeartbeat"
    TRIAL_PLACE = "TrialPlace"
    PUSHED_METRICS = "PushedMetrics"
    REPORTED_METRICS = "ReportedMetrics"
    DECISION = "Decision"
    OUTCOME = "Outcome"
    EXPERIMENT_STATUS = "ExperimentStatus"
    RUN_CLAIM = "RunClaim"
    RUN_HEARTBEAT = "RunHeartbeat"
    RUN_ENDED = "RunEnded"
    RUN_CALL = "RunCall"
    SNAPSHOT = "Snapshot"


# The trial kind of an experiment ``tune()`` runs: a Python function in this process (its
# template records the call; no Kubernetes resource is made from it).
FUNCTION_TRIAL_KIND = "PythonFunction"


# --- environment variables: the launcher-to-trial contract and the run's knobs ----------------------
STORE_VARIABLE = "KFP_TUNE_STORE"
"""The store's URI: the CLI's and the API's default store, and what a launcher tells every trial."""
STORE_RETRY_VARIABLE = "KFP_TUNE_STORE_RETRY_SECONDS"
"""Seconds a store may fail before it is given up on (``stores.retry``; 300 when unset)."""
DEBUG_VARIABLE = "KFP_TUNE_DEBUG"
"""Set by ``kfp-tune -vv run`` for its kfp.local steps: they log their debug lines too."""
S3_ENDPOINT_VARIABLE = "KFP_TUNE_S3_ENDPOINT"
"""The S3 store's endpoint (no secret: a launcher passes it on as a value)."""
EXPERIMENT_VARIABLE = "KFP_TUNE_EXPERIMENT"
TRIAL_VARIABLE = "KFP_TUNE_TRIAL"
KATIB_TRIAL_VARIABLE = "KATIB_TRIAL_NAME"
"""The trial's name, as Katib's pod webhook gives it to the primary container of every pod of a
trial (mutatePodEnv), for Katib's SDK (``report_metrics``) to read: set where the launchers set
:data:`TRIAL_VARIABLE`, in the primary container only, over the container's own entry of that
name (Katib appends its entry after the container's, and Kubernetes takes the last)."""
PLACE_VARIABLES = (STORE_VARIABLE, EXPERIMENT_VARIABLE, TRIAL_VARIABLE)
"""What every launcher tells a trial about where it is, so that the trial (``report_metrics``,
``save_model``, ``input_path``) and what runs beside it (the collector sidecar, a Custom
collector) reach its records: ``kfp_tune.stores.open_trial_place`` reads them back."""
RUN_TTL_VARIABLE = "KFP_TUNE_RUN_TTL_SECONDS"
TRIAL_TTL_VARIABLE = "KFP_TUNE_TRIAL_TTL_SECONDS"
"""Seconds without a sign of life after which a run's claim, or a trial's launch attempt, counts
as dead (``core.claims``)."""
MAX_TTL_SECONDS = 31_536_000
"""The longest of those TTLs, a year: a longer one is a mistake, and one of 1e20 s overflowed the
clock mid-run (the heartbeat's wait, the busy message's date). 0 is allowed: a claim or attempt
then lapses at once (the next run takes over at once; a retry never waits)."""


def trial_place_env(experiment: str, trial: str) -> dict[str, str]:
    """The trial's part of :data:`PLACE_VARIABLES` (the launcher's env already names the store)."""
    return {EXPERIMENT_VARIABLE: experiment, TRIAL_VARIABLE: trial}


CREDENTIAL_VARIABLES = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",  # the last: the session token's older name
    "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",  # ECS / EKS Pod Identity: with the endpoint beside it, it fetches AWS keys
})
"""The store's credentials as the environment holds them: never handed to a local trial."""
CREDENTIAL_VARIABLE_PREFIXES = ("MC_HOST_",)
"""Names that hold an S3 store's credentials in full after this start: MinIO's client's
``MC_HOST_<alias>=https://KEY:SECRET@host``."""


def is_store_credential_variable(name: str) -> bool:
    """Whether environment variable ``name`` holds an S3 store's credentials (:data:`CREDENTIAL_VARIABLES`,
    :data:`CREDENTIAL_VARIABLE_PREFIXES`): left out of a local trial's environment."""
    return name in CREDENTIAL_VARIABLES or name.startswith(CREDENTIAL_VARIABLE_PREFIXES)
CREDENTIAL_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|AUTH(?!OR)", re.I)
"""Parts of an environment variable name that say it holds a credential, wherever they are in it
(``HF_TOKEN``, ``dbPassword``, ``OAUTH_CLIENT``; not ``AUTHOR``)."""
CREDENTIAL_WORDS = frozenset({"PASS", "PWD"})
"""Words of a name that say so only as a whole word (``my_db_pass``, ``DB_PWD``; not ``BYPASS``)."""
CREDENTIAL_LAST_WORD = "KEY"
"""The last word of a name that says so (``WANDB_KEY``, ``stripeKey``; not ``KEY_ID``)."""
NOT_CREDENTIAL_LAST_WORDS = frozenset({"FILE", "PATH", "DIR"})
"""The last word of a name that holds where a credential is, not the credential (``TOKEN_FILE``,
``SSH_KEY_PATH``)."""
NOT_CREDENTIAL_NAMES = frozenset({"PWD", "OLDPWD"})
"""Names the shell sets to directories."""
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def looks_like_credential(name: str) -> bool:
    """Whether an environment variable of this name should be given by reference (a Secret),
    never written out where the experiment, the pipeline and the KFP UI keep it. A guess from the
    name alone (the value is never looked at), by the words of it: split at ``_``, ``-``, ``.``
    and camelCase. Katib has no such check."""
    if name in CREDENTIAL_VARIABLES:
        return True
    words = [word.upper() for word in _NAME_WORDS.findall(name)]
    if not words or words[-1] in NOT_CREDENTIAL_LAST_WORDS or name.upper() in NOT_CREDENTIAL_NAMES:
        return False
    return CREDENTIAL_NAME.search(name) is not None or bool(CREDENTIAL_WORDS.intersection(words)) or words[-1] == CREDENTIAL_LAST_WORD
