"""What the KFP components run: build the store and launcher from their inputs, call one step.

Kept free of kfp imports so it can be tested directly. Component bodies are the entry points
here, so these functions configure logging; the library never does.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

from kfp_tune import steps
from kfp_tune.core import claims
from kfp_tune.core.errors import ExperimentConflict, ExperimentNotFound, InputError, KfpTuneError, RunInterrupted, StoreError, shown
from kfp_tune.core.interfaces import Launcher
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import per_run_experiment_name
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment, parse_experiment
from kfp_tune.core.state import ExperimentView, read_experiment_record
from kfp_tune.core.template_source import needs_config_map, resolve_trial_template
from kfp_tune.core.vocabulary import DEBUG_VARIABLE, ExperimentPhase, LaunchPhase, TrialStatus
from kfp_tune.launchers import LocalLauncher, check_experiment, launcher_from_config
from kfp_tune.steps.best_result import best_trial_metrics
from kfp_tune.steps.decide_stop import DRIVEN_BY_ANOTHER_RUN, EXPERIMENT_UNREADABLE, experiment_failed_error
from kfp_tune.steps.launch_trial import wait_for_place
from kfp_tune.steps.schedule import check_round, round_id
from kfp_tune.steps.slots import Checkpoint, run_slots
from kfp_tune.stores import open_store

UNRECORDED_NOTE_VARIABLE = "KFP_TUNE_UNRECORDED_NOTE"
"""Set by ``kfp-tune run --engine kfp-local`` for its kfp.local steps: a file where a slots step
interrupted with its store down writes what it could not record (RunInterrupted's
``unrecorded``), for the CLI to say once the child has ended (kfp.local's output may be cut off
by then)."""


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if os.environ.get(DEBUG_VARIABLE):  # kfp-tune's own debug lines, not every library's (matplotlib's are hundreds)
        logging.getLogger("kfp_tune").setLevel(logging.DEBUG)
    elif sys.excepthook is sys.__excepthook__:  # a KFP component's process (an IDE's or a test runner's own hook stays)
        sys.excepthook = _explained_failure_hook


def _explained_failure_hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    """A step that ends on an error kfp-tune raises on purpose (a refused input, a busy
    experiment, a store that cannot be reached) says it in one line, its class and message, as
    the last line of a traceback reads: the step's log in the KFP UI shows no kfp-tune frames to
    read through, and ``kfp-tune run --engine kfp-local`` finds the line as before. Any other
    exception is a defect: its traceback, in full (``KFP_TUNE_DEBUG`` keeps them all), and so is
    the cause of one of kfp-tune's that wraps an unexpected error (a plug-in's, a trial that could
    not be created for a KeyError), printed before the line."""
    if not isinstance(error, KfpTuneError):
        sys.__excepthook__(kind, error, trace)
        return
    cause = error.__cause__
    if cause is not None and not isinstance(cause, KfpTuneError) and type(cause).__name__ != "ApiException":  # an API refusal is its message
        traceback.print_exception(cause, file=sys.stderr)
        print("\nThe above exception was the direct cause of the following exception:\n", file=sys.stderr)  # Python's words
    print(f"{kind.__module__}.{kind.__qualname__}: {error}", file=sys.stderr, flush=True)


def json_input(name: str, text: str, expected: str) -> Any:
    """A component input that holds JSON, read; InputError naming the input when it is not."""
    try:
        return json.loads(text)
    except ValueError:
        raise InputError(f"{name}: expected {expected}, got {shown(text)}") from None


def _experiment_input(text: str) -> dict[str, Any]:
    """suggest's ``experiment_spec``: a JSON object whose ``metadata``, when given, is an object
    (its name is set to the run's experiment); InputError naming the input otherwise."""
    expected = "the experiment as JSON (json.dumps of the Katib Experiment)"
    data = json_input("experiment_spec", text, expected)
    if not isinstance(data, dict):
        raise InputError(f"experiment_spec: expected {expected}: a JSON object, got {shown(text)}")
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):  # null is no metadata, as Kubernetes decodes it
        raise InputError(f"experiment_spec: metadata: expected an object (the experiment's name, namespace, ...), got {shown(metadata)}")
    return data


def _records(store_uri: str, experiment_name: str, s3_endpoint: str, run_id: str = "", fresh_experiment: bool = False) -> ExperimentRecords:
    """The records of the experiment this run tunes: ``experiment_name``, or with
    ``fresh_experiment`` a new one per run (every step of the run derives the same name)."""
    if not store_uri:  # named as the pipeline's parameter (open_store refuses "" too: the default folder is each pod's own disk)
        raise InputError("store_uri: required: the store every step of the run shares (s3://bucket/prefix, or a folder)")
    if fresh_experiment:
        experiment_name = per_run_experiment_name(experiment_name, run_id)
    store = open_store(store_uri, s3_endpoint or None)
    try:
        return ExperimentRecords(store, experiment_name)
    except StoreError as exc:  # a name no store key can hold (a/b, a space): the run's input, refused as one
        raise InputError(f"experiment_name: {exc}") from None


_Step = TypeVar("_Step", bound=Callable[..., Any])


def _names_forgotten_fresh_experiment(step: _Step) -> _Step:
    """A step whose ``fresh_experiment`` is not its suggest's, its experiment missing: the "no
    experiment" error names the experiment the store holds and the fix. Forgetting it on one of a
    pipeline's five tasks is the likeliest wiring mistake (giving it to one task alone, the
    reverse), and the bare message sent the author to the name or the store, or named a per-run
    name never written. The step's own inputs say which experiment to look for."""
    signature = inspect.signature(step)

    @functools.wraps(step)
    def explained(*args: Any, **kwargs: Any) -> Any:
        try:
            return step(*args, **kwargs)
        except ExperimentNotFound as exc:
            given = signature.bind(*args, **kwargs)
            given.apply_defaults()
            hint = _fresh_experiment_hint(given.arguments)
            if not hint:
                raise
            raise ExperimentNotFound(f"{exc}; {hint}") from None

    return cast(_Step, explained)


def _fresh_experiment_hint(inputs: dict[str, Any]) -> str:
    """"this run's fresh experiment ... is in the store: ..." where a step given no
    ``fresh_experiment`` misses its experiment and the run's per-run one exists; "experiment ...
    is in the store, not this run's fresh one: ..." where a step given ``fresh_experiment`` misses
    the per-run one and the plain one exists; "" otherwise, or when the store cannot say (the
    step's own error stands)."""
    run_id, name = inputs.get("run_id"), inputs.get("experiment_name")
    if not run_id or not name:
        return ""
    fresh = bool(inputs.get("fresh_experiment"))
    other = name if fresh else per_run_experiment_name(name, run_id)  # the name the run's suggest would have used
    try:
        found = read_experiment_record(_records(inputs["store_uri"], other, inputs.get("s3_endpoint") or "")) is not None
    except KfpTuneError:
        return ""
    if not found:
        return ""
    if fresh:
        return f"experiment {other!r} is in the store, not this run's fresh one: give this step fresh_experiment=False, as its suggest had"
    return f"this run's fresh experiment {other!r} is in the store: give this step fresh_experiment=True, as its suggest had"


def with_store_secret(launcher_config: str, store_secret: str) -> str | dict[str, Any]:
    """A Kubernetes launcher config with no ``storeSecret`` given the run's ``store_secret``, the
    Secret the steps get their store credentials from: a trial's pods use the store too (the
    metrics collector sidecar, report_metrics, save_model, input_path), and without it had no
    credentials. A ``storeSecret`` the config names, ``""`` included, wins; any other config is
    returned as it is (launcher_from_config refuses a wrong one, naming launcher_config)."""
    if not store_secret:
        return launcher_config
    try:
        data = json.loads(launcher_config)
    except ValueError:
        return launcher_config
    if not isinstance(data, dict) or data.get("kind") != "kubernetes" or "storeSecret" in data:
        return launcher_config
    return {**data, "storeSecret": store_secret}


def unmounted_metrics_volume(launcher: Launcher) -> str:
    """Why launch-trial cannot read the trials' metrics files ("" when it can): the launcher
    config names a ``metricsVolume`` whose ``mountPath`` is no folder in this pod, as when the
    config was given at run time to a pipeline compiled without it (only a compiled-in one is
    mounted: :func:`kfp_tune.pipelines.builder.mount_metrics_volume`). The collector sidecar
    still stores the metrics it reads; the files are not kept with the trial."""
    if isinstance(launcher, LocalLauncher):
        return ""
    from kfp_tune.launchers.kubernetes import KubernetesLauncher

    if not isinstance(launcher, KubernetesLauncher) or not launcher.config.metrics_claim or not launcher.config.metrics_mount:
        return ""
    if Path(launcher.config.metrics_mount).is_dir():
        return ""
    return (
        f"launcher_config metricsVolume: claim {launcher.config.metrics_claim!r} is not mounted in launch-trial at "
        f"{launcher.config.metrics_mount!r}, so the trials' metrics files are not kept (the collector sidecar still stores their "
        "metrics): KFP mounts it only where the pipeline was compiled with this metricsVolume (kfp-tune compile --launcher-config)"
    )


def _launcher(records: ExperimentRecords, launcher_config: str, store_uri: str, s3_endpoint: str, store_secret: str = "") -> Launcher:
    """The run's launcher; Kubernetes trials in the experiment's metadata.namespace unless the
    launcher config names one (one read of the experiment record), with the store's Secret
    (:func:`with_store_secret`)."""
    head = read_experiment_record(records) or {}
    metadata = (head.get("spec") or {}).get("metadata") or {}
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    config = with_store_secret(launcher_config, store_secret)
    try:
        launcher = launcher_from_config(config, store_uri, s3_endpoint, experiment_namespace=str(namespace or ""))
    except InputError:
        raise
    except ValueError as exc:  # the run's launcher_config parameter, refused in one line (the step's hook prints no traceback for it)
        raise InputError(str(exc)) from None
    if config is not launcher_config:  # the run's Secret, given a Kubernetes launcher: maybe not where the trials run
        from kfp_tune.launchers.kubernetes import KubernetesLauncher

        assert isinstance(launcher, KubernetesLauncher)
        launcher.config = dataclasses.replace(launcher.config, store_secret_optional=True)
    unmounted = unmounted_metrics_volume(launcher)
    if unmounted:
        logging.getLogger("kfp_tune.launch").warning("%s", unmounted)
    if isinstance(head.get("spec"), dict):  # what the config lacks for this experiment, refused before any trial is made
        try:
            check_experiment(launcher, parse_experiment(head["spec"]))
        except InputError:
            raise
        except ValueError as exc:  # what this launcher config lacks for the experiment: the user's to fix, in one line
            raise InputError(str(exc)) from None
    return launcher


def _check_suggest_inputs(run_id: str, round_index: int, rounds_total: int, experiment_spec: object, trial_count: int) -> None:
    """suggest's inputs that cannot be meant, refused naming the input before anything is
    stored: a run's id is every store key of its rounds and claim, so an empty one stored an
    experiment and a claim by run '' before a store key refused it."""
    if not isinstance(experiment_spec, str):  # a python_func caller's dict: the component's input is text, as KFP passes it
        raise InputError(
            f"experiment_spec: expected the experiment as JSON text (a str), got a {type(experiment_spec).__name__}: pass "
            "json.dumps(experiment) (a YAML file's experiment: json.dumps(yaml.safe_load(text)))"
        )
    if not run_id:
        raise InputError("run_id: required: the pipeline run (dsl.PIPELINE_JOB_ID_PLACEHOLDER), the same for every step of the run")
    check_round(round_index, rounds_total)
    if trial_count < -1:
        raise InputError(
            "trial_count: expected -1 (the round's share of the budget left), 0 (only claim and prepare the run) or a number of "
            f"trials, got {trial_count}"
        )


@_names_forgotten_fresh_experiment
def fail_if_experiment_failed(
    store_uri: str, experiment_name: str, run_id: str, s3_endpoint: str = "", fresh_experiment: bool = False, failed_before_fails: bool = False,
) -> None:
    """The fail-if-experiment-failed step (after the run's checkpoints): raises
    :class:`~kfp_tune.steps.decide_stop.ExperimentFailed` (``experiment_failed_error``) to fail
    the run; returns when the experiment is not Failed. ``fresh_experiment``: as given to suggest."""
    error = experiment_failed_error(_records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment), run_id, failed_before_fails)
    if error is not None:
        raise error

@_names_forgotten_fresh_experiment
def suggest_step(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    round_index: int,
    rounds_total: int,
    experiment_spec: str = "",
    take_over: bool = False,
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    trial_count: int = -1,
) -> list[str]:
    _setup_logging()
    log = logging.getLogger("kfp_tune.suggest")
    _check_suggest_inputs(run_id, round_index, rounds_total, experiment_spec, trial_count)
    records = _records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment)
    if fresh_experiment and round_index == 0:
        log.info("run %s tunes a fresh experiment: %s", run_id, records.experiment)
    experiment = None
    if experiment_spec:
        data = _experiment_input(experiment_spec)
        data["metadata"] = {**(data.get("metadata") or {}), "name": records.experiment}  # a run may start a fresh experiment
        experiment = load_experiment(data)
        if needs_config_map(experiment):  # Katib's trialTemplate.configMap, read once, stored with the experiment
            from kfp_tune.launchers.kubernetes.config_maps import WHERE, read_config_map

            experiment = resolve_trial_template(experiment, read_config_map, WHERE)
    try:
        with claims.one_step_of_a_run():  # its claim outlives this process: the run's later steps are processes of their own
            names = steps.suggest(
                records, round_id(run_id, round_index), rounds_total - round_index, experiment, run_id=run_id, take_over=take_over,
                n=None if trial_count < 0 else trial_count,
            )
    except ExperimentConflict as exc:
        if experiment is None or fresh_experiment:  # no spec of this run's, or one name per run: nothing a firing repeats
            raise
        if not _spec_conflict(records, experiment, exc):  # two calls of one run on one experiment: a wiring mistake, not a changed spec
            raise
        raise ExperimentConflict(f"{str(exc).rstrip('.')}. {RUN_CONFLICT_WAY_OUT}") from None
    ended = _ended_before(records) if experiment is not None else ""
    if ended:  # a recurring run that continues a spent experiment: every later firing ends at once, green
        log.info("%s", ended)
    elif trial_count == 0:  # slots (launch-trial, component trials' claim-trial) suggest each trial when a place frees up
        places = f" (parallelTrialCount {experiment.spec.parallel_trial_count or 1})" if experiment is not None else ""
        log.info("experiment %s prepared; its trials are suggested one at a time, as places free up%s", records.experiment, places)
    else:
        log.info("round %d of %d: %d trial(s) suggested: %s", round_index + 1, rounds_total, len(names), ", ".join(names) or "none")
    return names


RUN_CONFLICT_WAY_OUT = (
    "In a KFP run (kfp-tune submit or schedule) the spec is the one compiled into its pipeline: start a new experiment with "
    "--param experiment_name=NEW, or schedule it with a fresh experiment per run (--fresh-experiment, fresh_experiment=True). If a "
    "recurring run starts these runs, every firing fails the same way until the recurring run is replaced: disable it (the KFP "
    "UI's Disable, or kfp.Client(host=...).disable_recurring_run(ID)), and once its active run has ended delete it and schedule "
    "the new one"
)
"""What a run's first step adds to an ExperimentConflict (its spec cannot resume the stored
experiment): the advice of the core names kfp-tune run and tune(), not a KFP run's parameters,
and a recurring run repeats the failure every night."""


def _spec_conflict(records: ExperimentRecords, experiment: Experiment, raised: ExperimentConflict) -> bool:
    """Whether ``raised`` is the stored experiment's refusal of this run's spec (a changed
    experiment, a completed one's budget), the conflict :data:`RUN_CONFLICT_WAY_OUT` is about,
    and not another one the step meets (two calls of one pipeline run on one experiment)."""
    from kfp_tune.steps.prepare import resume_refusal

    refusal = resume_refusal(records, experiment)
    return refusal is not None and str(refusal) == str(raised)


def _ended_before(records: ExperimentRecords) -> str:
    """What the first step of a run says ("" when nothing) when the experiment it continues had
    already ended: a recurring run's later firings would otherwise log "prepared; its trials are
    suggested ..." and end Succeeded at once, every night, looking healthy in the KFP UI. What to
    do follows why it ended; the run may be a one-off submit, a recurring run's or a step of a
    user's pipeline, so the advice says each."""
    from kfp_tune.core.decision import GOAL_REACHED, MAX_FAILED_REACHED, MAX_TRIALS_REACHED, SUGGESTION_END_REACHED, decide

    decision = decide(ExperimentView(records).state, rounds_left=1)
    if not decision.finished:
        return ""
    why = {
        MAX_TRIALS_REACHED: "To tune on, raise maxTrialCount in its YAML (a completed experiment restarts only under resumePolicy "
                            "LongRunning or FromVolume) and submit or schedule that again",
        SUGGESTION_END_REACHED: "Its search space is spent: every point of it was tried, so a larger maxTrialCount adds nothing",
        GOAL_REACHED: "Its objective goal was reached, which ends it for good",
        MAX_FAILED_REACHED: "Too many of its trials failed (maxFailedTrialCount), which ends it for good: fix what makes them fail",
    }.get(decision.reason, "It will not run again")
    return (
        f"experiment {records.experiment} already ended {decision.phase} ({decision.reason}): this run has nothing to do and ends at "
        f"once. {why}. To tune a new experiment{' instead' if decision.reason == MAX_TRIALS_REACHED else ''}, submit or schedule it "
        "under another name (metadata.name, --param experiment_name=NEW), or schedule it with a fresh experiment per run "
        "(--fresh-experiment, fresh_experiment=True). If a recurring run starts these runs, disable it (the KFP UI's Disable, or "
        "kfp.Client(host=...).disable_recurring_run(ID)) so that it stops starting runs, and delete the recurring run once no run of "
        "it is active: deleting it deletes the Workflow of a run still running"
    )


@_names_forgotten_fresh_experiment
def launch_trial_step(
    store_uri: str,
    experiment_name: str,
    trial_name: str,
    launcher_config: str,
    run_id: str,
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    store_secret: str = "",
) -> str:
    """One-trial mode: take a place among the experiment's ``parallelTrialCount``, waiting for
    one (:func:`kfp_tune.steps.launch_trial.wait_for_place`; a trial of an experiment that has
    ended is given back instead), run the trial to its end, and record its result as collect-metrics does (a collect-metrics task after this one returns that result):
    a trial ended with no result holds the experiment Running, and decide-stop and best-trial
    would find it so however many runs follow. Returns the trial's status as the store records
    it, as collect-metrics does (``MetricsUnavailable`` for a job that succeeded with no
    objective value, as Katib marks it; ``Killed`` for one given back), not the job's phase: a
    pipeline that gates a step on ``"Succeeded"`` must not take a trial counted as failed for one."""
    _setup_logging()
    records = _records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment)
    view = ExperimentView(records)
    launcher = _launcher(records, launcher_config, store_uri, s3_endpoint, store_secret)
    if wait_for_place(view, trial_name, run_id):
        phase = steps.launch_trial(records, launcher, trial_name, run_id=run_id, view=view)
        assert phase is not None  # only a slots checkpoint hands a trial over
    else:  # closed before it started (its experiment had ended), or by an earlier attempt: nothing to run
        ended = view.state.trial(trial_name).ended
        phase = ended.phase if ended is not None else LaunchPhase.FAILED  # its result, recorded first, says the rest
    result = steps.collect_metrics(records, trial_name, view=view)  # the trial this step followed, whatever became of the run's claim since
    log = logging.getLogger("kfp_tune.launch")
    if result.status == TrialStatus.KILLED:  # the output says what the store says (a given-back trial is no failure), as collect-metrics does
        given_back = view.state.trial(trial_name).given_back
        counted = "; given back: it counts towards neither maxTrialCount nor maxFailedTrialCount" if given_back else ""
        log.info("trial %s recorded Killed (%s)%s", trial_name, result.reason, counted)
        return str(TrialStatus.KILLED)
    log.info("trial %s ended %s; recorded %s (%s)", trial_name, phase, result.status, result.reason)
    return str(result.status)  # MetricsUnavailable, not the job's Succeeded: a pipeline gating on "Succeeded" is told no failure


@_names_forgotten_fresh_experiment
def launch_trials_step(
    store_uri: str,
    experiment_name: str,
    launcher_config: str,
    run_id: str,
    checkpoint_index: int,
    checkpoints_total: int,
    checkpoint_trials: int = 0,
    checkpoint_seconds: float = 0.0,
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    store_secret: str = "",
) -> str:
    """Slots mode: keep the experiment's parallel slots busy until it ends or this checkpoint is
    due: ``checkpoint_trials * 2**checkpoint_index`` trials ended, or ``checkpoint_seconds``
    passed (0: no limit). The last checkpoint of a run has no limit, so one run finishes any
    budget. Returns the experiment's phase. ``store_secret``: the run's, for Kubernetes trials
    whose launcher config names none (:func:`with_store_secret`)."""
    _setup_logging()
    records = _records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment)
    last = checkpoint_index >= checkpoints_total - 1
    # the limit doubles at every checkpoint: frequent refreshes early, few hand-backs in a long run
    checkpoint = None if last else Checkpoint(trials=checkpoint_trials * 2**checkpoint_index or None, seconds=checkpoint_seconds or None)
    view = ExperimentView(records)
    slots = view.state.experiment.spec.parallel_trial_count or 1  # for the whole step: an edit applies from the next checkpoint, as the guide says
    try:
        result = run_slots(view, _launcher(records, launcher_config, store_uri, s3_endpoint, store_secret), run_id, checkpoint=checkpoint, adopt=True, slots=slots)
    except RunInterrupted as exc:
        note = os.environ.get(UNRECORDED_NOTE_VARIABLE)
        if exc.unrecorded and note:
            Path(note).write_text(exc.unrecorded, encoding="utf-8")
        raise
    if result.checkpoint_due:  # the limit above: decide-stop refreshes the status and reports, the next checkpoint goes on
        went = f"checkpoint {checkpoint_index + 1} of {checkpoints_total} reached ({checkpoint.described() if checkpoint else 'no limit'}); the experiment goes on after decide-stop"
    else:
        went = f"experiment {result.decision.phase} ({result.decision.reason})"
    logging.getLogger("kfp_tune.launch").info("%d trial(s) ended in this step; %s", result.trials_ended, went)
    return str(result.decision.phase)


@_names_forgotten_fresh_experiment
def collect_metrics_step(
    store_uri: str, experiment_name: str, trial_name: str, run_id: str, s3_endpoint: str = "", fresh_experiment: bool = False
) -> dict[str, Any]:
    """The trial's result record as JSON-ready data (``status``, ``metrics``, ...)."""
    _setup_logging()
    payload = steps.collect_metrics(_records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment), trial_name, run_id=run_id).to_payload()
    return {**payload, "status": str(payload["status"])}  # the component's str output: the word, not the vocabulary's enum


def decide_stop_step(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    round_index: int,
    rounds_total: int,
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    markdown_path: str | None = None,
    html_path: str | None = None,
    final: bool = False,
    releases_claim: bool = False,
) -> bool:
    """True when the next round should run. Writes the trial table (Markdown) and the HTML
    report where asked, after the status, so a report that fails cannot lose a decision.
    ``final``: the run's exit handler (see :func:`kfp_tune.steps.decide_stop.close_run`, and its
    ``releases_claim``). It ends cleanly when the run never made the experiment (an input the
    first step refused, a run stopped before it): there is no claim to give back, and a second
    failed step would only hide the first; not when it was given another ``fresh_experiment``
    than its suggest, whose experiment is there: it then closes the run on that experiment (its
    status written, its claim given back, so the next run wired right is not refused) and fails as
    the other steps do, saying so (ending quietly left the mistake unsaid). Its
    parameters stay as they are: a package compiled before decide-stop had a ``metrics`` output
    calls it by position."""
    return decide_stop_metrics_step(
        store_uri, experiment_name, run_id, round_index, rounds_total, s3_endpoint, fresh_experiment, markdown_path, html_path, final,
        releases_claim=releases_claim,
    )[0]


@_names_forgotten_fresh_experiment
def decide_stop_metrics_step(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    round_index: int,
    rounds_total: int,
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    markdown_path: str | None = None,
    html_path: str | None = None,
    final: bool = False,
    releases_claim: bool = False,
) -> tuple[bool, dict[str, float]]:
    """:func:`decide_stop_step`, and decide-stop's ``metrics`` output: the best trial so far by
    the experiment's metric names, each after its strategy, as best-trial's
    (:func:`kfp_tune.steps.best_result.best_trial_metrics`), so the KFP UI's run comparison shows
    a run of the compiled loop. Taken from the state the decision was made from: no store read of
    its own. Empty, never a failure, where decide-stop had no best trial to decide with (none yet,
    no experiment, records the exit handler could not read: its log names the record)."""
    _setup_logging()
    log = logging.getLogger("kfp_tune.decide")
    if not final:  # a round past the run's last would end the run as "rounds used up"; the exit handler closes it whatever
        check_round(round_index, rounds_total)
    try:
        records = _records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment)
    except InputError as exc:
        if not final:
            raise
        log.info("nothing to close: %s (the run could not claim an experiment)", exc)
        _write_no_report(markdown_path, html_path, f"The run made no experiment: {exc}.")
        return False, {}
    view = ExperimentView(records)
    if final:
        inputs = {"store_uri": store_uri, "experiment_name": experiment_name, "run_id": run_id, "s3_endpoint": s3_endpoint, "fresh_experiment": fresh_experiment}
        # its experiment missing while the one its suggest made with the other fresh_experiment is there: it fails as the
        # run's other steps do, named by _names_forgotten_fresh_experiment, not quietly "ended before it was created"
        try:
            decision = steps.close_run(records, run_id, releases_claim=releases_claim, view=view, made_elsewhere=lambda: bool(_fresh_experiment_hint(inputs)))
        except ExperimentNotFound as exc:  # the wiring mistake: the run's experiment is the other one; close the run there too
            raise ExperimentNotFound(f"{exc}; {_close_in_its_place(inputs, releases_claim)}") from None
    else:
        decision = steps.decide_stop(records, round_id(run_id, round_index), rounds_total - round_index - 1, run_id=run_id, view=view)
    # a decision with a best trial was made from the view's state, read whole: nothing is read again
    metrics = {} if decision.best_trial is None else best_trial_metrics(view.state, decision.best_trial)
    if decision.reason == EXPERIMENT_UNREADABLE:
        log.warning("decide-stop's metrics output is left empty: the experiment's records could not be read (%s)", decision.message)
    if markdown_path or html_path:  # (the step logged its decision: steps.decide_stop)
        from kfp_tune.reports import KFP_UI_MARKDOWN_LENGTH, html_report, load_report, markdown_table

        try:
            report = load_report(records.store, records.experiment)
        except ExperimentNotFound:
            if not final:
                raise
            _write_no_report(markdown_path, html_path, f"No experiment {records.experiment!r} in {records.store.uri}: the run ended before it was created; the step that failed first says why.")
            return False, metrics
        if markdown_path:
            Path(markdown_path).write_text(markdown_table(report, KFP_UI_MARKDOWN_LENGTH), encoding="utf-8")  # whole in the KFP UI
        if html_path:
            Path(html_path).write_text(html_report(report), encoding="utf-8")
    return decision.phase == ExperimentPhase.RUNNING, metrics


def _close_in_its_place(inputs: dict[str, Any], releases_claim: bool) -> str:
    """An exit handler wired with another ``fresh_experiment`` than its suggest closes the run on
    the experiment the run did make (its status written, its claim given back), so that the next
    run, wired right, is not refused by this one's claim; what it did, or why it could not and
    what the next run must do, for the error that names the mistake."""
    run_id, name = str(inputs["run_id"]), str(inputs["experiment_name"])
    made_name = name if inputs["fresh_experiment"] else per_run_experiment_name(name, run_id)
    try:
        made = _records(inputs["store_uri"], name, inputs["s3_endpoint"] or "", run_id, not inputs["fresh_experiment"])
        decision = steps.close_run(made, run_id, releases_claim=releases_claim)
    except KfpTuneError as exc:
        return (
            f"this exit handler could not close run {run_id!r} of experiment {made_name!r} in its place ({exc}): the next run of it "
            f"is refused until run {run_id!r} has shown no sign of life for {claims.HAND_OVER_SECONDS:g} s under kfp.local (its claim's "
            "TTL on a cluster), or give the next run take_over=True once this one has ended"
        )
    if decision.reason == DRIVEN_BY_ANOTHER_RUN:
        return f"experiment {made_name!r} is driven by another run now ({decision.message}): this exit handler left it as it is"
    return f"this exit handler closed run {run_id!r} of experiment {made_name!r} in its place (its status written, its claim given back)"


def _write_no_report(markdown_path: str | None, html_path: str | None, text: str) -> None:
    """The exit handler's outputs when there is no experiment to report on: KFP uploads each
    declared output, so each says why instead."""
    import html

    if markdown_path:
        Path(markdown_path).write_text(text + "\n", encoding="utf-8")
    if html_path:
        Path(html_path).write_text(f"<!doctype html><meta charset=\"utf-8\"><title>kfp-tune</title><p>{html.escape(text)}</p>\n", encoding="utf-8")


def _opened_call(store_uri: str, experiment_name: str, s3_endpoint: str, run_id: str, fresh_experiment: bool) -> ExperimentRecords:
    """The records a call's first task opens, checked first for what suggest would refuse and
    is cheap to check: the store, the experiment's name (nothing is stored under a name no
    experiment can have), and another call of the same pipeline run on this experiment
    (:func:`kfp_tune.core.claims.mark_call`)."""
    from kfp_tune.core import claims
    from kfp_tune.core.validation import name_problem

    records = _records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment)
    problem = name_problem(records.experiment)
    if problem is not None:
        raise InputError(f"experiment_name: {problem}")
    claims.mark_call(records, run_id)
    return records


def _bring(records: ExperimentRecords, run_id: str, brought: list[Any], stage: bool) -> int:
    """A call's inputs (``trial_artifacts.RunInput``): refused before anything is stored when
    the experiment was measured on other ones, then staged (``stage``) and recorded for suggest
    to bind. Returns the files staged."""
    from kfp_tune.steps.trial_artifacts import inputs_to_bind, record_run_inputs, stage_input

    inputs_to_bind(records, {b.name: b.entry() for b in brought})
    log = logging.getLogger("kfp_tune.stage")
    staged = 0
    for one in brought:
        where = f"input {one.name!r} ({one.uri or one.path or 'a value'}, {one.digest})"
        if stage:
            files = stage_input(records, one)
            log.info("%s: %d file(s) in the store, stored once, for the trials of %s", where, len(files), records.experiment)
            staged += len(files)
        else:
            log.info("%s: checked against the inputs the trials of %s were measured on", where, records.experiment)
    if brought:
        record_run_inputs(records, run_id, brought)
    return staged


def stage_inputs_step(
    store_uri: str, experiment_name: str, run_id: str, inputs: dict[str, tuple[str, str]], s3_endpoint: str = "", fresh_experiment: bool = False
) -> int:
    """The tuning step's first task (``run_id``: the call's own, ``core.claims.call_run_id``):
    after the checks of :func:`_opened_call`, and a refusal when the experiment's trials were
    measured on other inputs (``trial_artifacts.inputs_to_bind``), each upstream artifact
    (name: (local path, URI)) into the store, once per content, for the trials, which read it
    with :func:`kfp_tune.steps.trial_artifacts.input_path`. Returns the files staged."""
    from kfp_tune.steps.trial_artifacts import file_input

    _setup_logging()
    records = _opened_call(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment)
    return _bring(records, run_id, [file_input(name, path, uri) for name, (path, uri) in sorted(inputs.items())], stage=True)


def begin_component_trials_step(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    artifacts: dict[str, tuple[str, str]],
    values: dict[str, Any],
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
) -> None:
    """Component trials' first task, as stage-inputs checks, with the inputs every trial of the
    component gets (its artifacts, name: (local path, URI), and its other settings): compared
    with those the experiment was measured on, not staged, since KFP hands them to each trial."""
    from kfp_tune.steps.trial_artifacts import file_input, value_input

    _setup_logging()
    records = _opened_call(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment)
    brought = [file_input(name, path, uri) for name, (path, uri) in sorted(artifacts.items())]
    brought += [value_input(name, value) for name, value in sorted(values.items())]
    _bring(records, run_id, brought, stage=False)


def claim_trial_step(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    inputs: dict[str, tuple[str, str]],
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    with_place: bool = False,
) -> list[Any]:
    """A component-trial loop iteration's first task: ``[should_run, trial_name, value, ...]``
    (:func:`kfp_tune.steps.component_trials.claim_trial`); ``with_place`` (the component takes
    ``kfp_tune_trial``): then the trial's place for its TrialReporter (``""`` when skipped)."""
    from kfp_tune.steps.component_trials import claim_trial
    from kfp_tune.steps.trial_reporter import trial_place

    _setup_logging()
    records = _records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment)
    values = claim_trial(records, run_id, inputs)
    if with_place:
        values.append(trial_place(store_uri, s3_endpoint, records.experiment, str(values[1])))
    return values


def record_trial_step(
    store_uri: str,
    experiment_name: str,
    run_id: str,
    trial_name: str,
    values: dict[str, float],
    s3_endpoint: str = "",
    fresh_experiment: bool = False,
    model_path: str = "",
) -> str:
    """After the user's component: its metrics (those it reported while it ran, then
    ``values``) and model recorded, the stop rules applied; the trial's status, EarlyStopped
    when its TrialReporter stopped it (:func:`kfp_tune.steps.component_trials.record_trial`)."""
    from kfp_tune.steps.component_trials import record_trial

    _setup_logging()
    return record_trial(_records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment), run_id, trial_name, values, model_path)


def end_component_trials_step(
    store_uri: str, experiment_name: str, run_id: str, s3_endpoint: str, fresh_experiment: bool, markdown_path: str, html_path: str
) -> bool:
    """A component-trial run's exit handler: this run's trials whose component task never
    reported end Failed (EarlyStopped if their stop was requested), then the status, the reports and the claim as decide-stop's exit
    handler does. True while budget is left for a later run."""
    from kfp_tune.steps.component_trials import close_this_runs_unreported

    _setup_logging()
    close_this_runs_unreported(_records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment), run_id)
    return decide_stop_step(store_uri, experiment_name, run_id, 0, 1, s3_endpoint, fresh_experiment, markdown_path, html_path, final=True, releases_claim=True)


NO_MODEL_FILE = "kfp-tune-no-model.txt"
"""What the best model artifact holds when the best trial saved no model (an artifact must hold
something to be uploaded)."""


@_names_forgotten_fresh_experiment
def best_trial_step(
    store_uri: str, experiment_name: str, run_id: str, model_folder: str, s3_endpoint: str = "", fresh_experiment: bool = False
) -> tuple[dict[str, Any], float, str, dict[str, Any]]:
    """After the tuning loop: (best parameters, best objective value, best trial's name, the
    model artifact's metadata), with the best trial's model written into ``model_folder``.

    No best trial (none has an objective value): SystemExit with the message, so the task fails
    saying why in its log, with no traceback to read through."""
    from kfp_tune.steps.best_result import NoBestTrial, best_result
    from kfp_tune.steps.trial_artifacts import fetch_model

    _setup_logging()
    log = logging.getLogger("kfp_tune.best")
    records = _records(store_uri, experiment_name, s3_endpoint, run_id, fresh_experiment)
    try:
        result = best_result(records)
    except NoBestTrial as exc:
        log.error("%s", exc)
        raise SystemExit(f"kfp-tune: {exc}") from None
    files = fetch_model(records, result.trial, model_folder)
    if not files:
        Path(model_folder).mkdir(parents=True, exist_ok=True)
        Path(model_folder, NO_MODEL_FILE).write_text(
            f"Trial {result.trial} of experiment {result.experiment} saved no model: a trial saves one with "
            "kfp_tune.steps.trial_artifacts.save_model(path).\n",
            encoding="utf-8",
        )
    log.info(
        "best trial of %s: %s, %s=%r, parameters %s; model: %s (experiment %s)",
        result.experiment, result.trial, result.objective_metric, result.objective, result.parameters,
        ", ".join(files) or "none saved", result.phase or "status unknown",
    )
    return result.parameters, result.objective, result.trial, {**result.metadata(), "model_files": files}
