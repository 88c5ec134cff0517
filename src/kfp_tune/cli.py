"""``kfp-tune``: validate, run, compile and inspect Katib experiments.

Exit codes: 0 success (for ``run``: the experiment Succeeded), 1 the experiment failed or did not
finish, or a runtime error, 2 invalid input (the experiment, a flag, a conflicting resume).
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import itertools
import json
import logging
import os
import re
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kfp_tune
from kfp_tune import cli_start
from kfp_tune.client import not_found
from kfp_tune.core.errors import ExperimentConflict, ExperimentNotFound, FieldError, InputError, KfpTuneError, SpecError, masked_url, shown, unreachable_reason
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.nas_values import shown_assignment
from kfp_tune.core.spec import EDITABLE_FIELDS, Experiment, ObjectiveSpec
from kfp_tune.core.vocabulary import STORE_RETRY_VARIABLE, ExperimentPhase, ObjectiveType, TrialStatus
from kfp_tune.stores import DEFAULT_LOCAL_STORE

if TYPE_CHECKING:
    from kfp_tune.core.errors import RunInterrupted
    from kfp_tune.core.interfaces import Launcher, Store
    from kfp_tune.core.records import DamagedRecord, NewerRecord
    from kfp_tune.core.state import ExperimentState
    from kfp_tune.launchers.kubernetes import KubernetesLauncher
    from kfp_tune.launchers.local import LocalLauncher
    from kfp_tune.pipelines.submit import PackageReading
    from kfp_tune.progress import PlainProgress

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_NOT_RUNNABLE = 0, 1, 2, 3
"""3: ``validate`` found valid Katib that this kfp-tune cannot run (``run`` and ``compile`` refuse it)."""
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
"""The reader of the output closed it early (``| head``): what a shell reports for a command SIGPIPE ended."""


class UsageError(InputError):
    """A bad command-line value (exit 2): the message starts with the flag or argument."""


TRIAL_TEMPLATES_HELP = (
    "a ConfigMap manifest file (or a folder of them) holding the trial template that spec.trialTemplate.configMap names, "
    "e.g. from kubectl get configmap -n NS NAME -o yaml (repeatable)"
)


MAX_ERROR_LINES = 50
"""Problems printed for one invalid experiment; the rest are counted."""
# Seconds a command that only looks at the store (status, trials, ...) retries an S3 store that
# does not answer: a person is waiting at a terminal (a run's steps wait the stores' default, 300).
LOOK_RETRY_SECONDS = 30.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Every refusal of what the user wrote (the experiment, a flag, an
    argument, the environment) ends here as exit 2 and a message naming it, before anything
    runs; an error nobody expected is one line (exit 1), its traceback only with -vv."""
    from kfp_tune.core.supported_os import unsupported_platform

    _escape_what_streams_cannot_show()
    _show_plugin_failures()
    refusal = unsupported_platform()
    if refusal is not None:  # Windows: before anything is parsed, read or written
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_INVALID
    parser = _parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # refused by the command's own parser, so that the usage shown is the command's
            args.subparser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help (0), or argparse's refusal of a flag (2, its message printed)
        return exc.code if isinstance(exc.code, int) else EXIT_INVALID
    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormat("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING, handlers=[handler])
    if not args.verbose:  # a host that cannot be reached is one error line at the end, not each retry too
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    cli_start.hand_over()  # a Ctrl-C is answered below from here on (until here: cli_start's one line, exit 130)
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # here, not at exit: a reader gone already is then the quiet end below
        return code
    # each line below said if it still can be: a reader gone (`2>&1 | head -1`) changes no exit status
    except SpecError as exc:
        with _unless_gone(sys.stderr):
            for error in exc.errors[:MAX_ERROR_LINES]:
                print(f"{error.path}: {error.message}", file=sys.stderr)
            if len(exc.errors) > MAX_ERROR_LINES:
                print(f"... and {len(exc.errors) - MAX_ERROR_LINES} more problem(s)", file=sys.stderr)
        return EXIT_INVALID
    except (ExperimentConflict, InputError) as exc:
        with _unless_gone(sys.stderr):
            print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KfpTuneError as exc:
        with _unless_gone(sys.stderr):
            print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, cli_start.Terminated)  # SIGTERM before a run answered it (a CI timeout)
        with _unless_gone(sys.stderr):
            print("interrupted (SIGTERM)" if terminated else "interrupted", file=sys.stderr)
        return cli_start.EXIT_TERMINATED if terminated else cli_start.EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`kfp-tune logs ... | head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # a defect, not the user's input: one line, the traceback with -vv
        with _unless_gone(sys.stderr):  # a closed terminal: the exit status still says it
            if args.verbose > 1:
                traceback.print_exc()
            missing = cli_start.missing_module(exc)
            if missing is not None:  # an install without kfp-tune's dependencies (pip install --no-deps), not a defect
                print(f"error: {missing}", file=sys.stderr)
            else:
                print(f"error: unexpected {type(exc).__name__}: {str(exc)[:300]} (a defect in kfp-tune; -vv shows the traceback)", file=sys.stderr)
        return EXIT_FAILED


def _escape_what_streams_cannot_show() -> None:
    """stdout and stderr in an encoding other than UTF-8 (``LANG=C``, Latin-1) write a character
    they have no byte for as its backslash escape (``\\u4e2d``): status, trials and logs of a
    Chinese value ended in "unexpected UnicodeEncodeError". The command's streams only, set here
    (a library never configures streams)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        if not hasattr(stream, "reconfigure") or not encoding:
            continue
        try:
            utf8 = codecs.lookup(encoding).name == "utf-8"
        except LookupError:
            utf8 = False
        if not utf8:
            stream.reconfigure(errors="backslashreplace")


@contextlib.contextmanager
def _unless_gone(stream: Any) -> Iterator[None]:
    """Write to ``stream`` if it can still be written: after SIGHUP its terminal may be gone
    (EIO), and what could not be said must not turn the run's exit status (128 + the signal)
    into 1. The stream then writes to /dev/null, so that its unwritten lines fail no flush at exit
    (Python would exit 120)."""
    try:
        yield
    except OSError:
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


class _LogFormat(logging.Formatter):
    """The CLI's log lines; a record the library marks as a notice to the user (``steps.slots.NOTICE``:
    a stop signal's answer) is its message alone, as the CLI prints its own lines, and kfp-tune's
    own warning (a budget a run's spec lowers) a ``warning:`` line, as the CLI's own warnings
    read; other lines (-v's, a library's, one with a traceback) keep level and logger."""

    def format(self, record: logging.LogRecord) -> str:
        from kfp_tune.steps.slots import NOTICE

        if getattr(record, NOTICE, False):
            return record.getMessage()
        if record.levelno == logging.WARNING and record.name.partition(".")[0] == "kfp_tune" and not record.exc_info:
            return f"warning: {record.getMessage()}"
        return super().format(record)


class _PrintVersion(argparse.Action):
    """``--version``: the version and the build (``kfp-tune 0.1.0 (build 1a2b3c4d5e6f)``), since
    between releases every build says the same version; the build is hashed only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        from kfp_tune.core.version import build_stamp, described

        print(f"kfp-tune {described(build_stamp())}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kfp-tune", description="Katib-class hyperparameter tuning on Kubeflow Pipelines.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output: the run's steps' log lines (-vv: their debug lines too); "
                        "with --engine kfp-local, kfp.local's whole log (kfp-local.log in a kfp-tune-local-* temporary folder) is then kept and its path said")
    parser.add_argument("--version", action=_PrintVersion, help="print kfp-tune's version and build and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check an experiment; one 'path: message' line per error")
    p.add_argument("experiment", help="Katib Experiment YAML")
    p.add_argument("--trial-templates", action="append", default=[], metavar="PATH", help=TRIAL_TEMPLATES_HELP)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("run", help="run an experiment on this machine, end to end")
    p.add_argument("experiment", help="Katib Experiment YAML")
    p.add_argument("--store", help=f"store URI: a folder, file:///path or s3://bucket/prefix (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
    p.add_argument("--engine", choices=("kfp-local", "inline"), default="kfp-local", help="kfp-local: the compiled pipeline under kfp.local (default); inline: the same steps in this process")
    p.add_argument("--rounds", type=int, help="kfp-local: checkpoints compiled into the run (default 10); kfp.local runs with no checkpoint limit, so this only changes the compiled pipeline")
    p.add_argument("--mount", action="append", default=[], metavar="CONTAINER_PATH=LOCAL_PATH", help="make a container path a local folder for the trial's command (repeatable)")
    p.add_argument("--name", help="experiment name to use instead of metadata.name (start a fresh experiment)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome")
    p.add_argument("--take-over", action="store_true", help="run even if another run seems to drive the experiment (it was killed, and has not been silent long enough yet for kfp-tune to take it as gone)")
    p.add_argument("--trial-templates", action="append", default=[], metavar="PATH", help=TRIAL_TEMPLATES_HELP)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("compile", help="compile the experiment's pipeline to KFP IR YAML, ready to upload")
    p.add_argument("experiment", help="Katib Experiment YAML")
    p.add_argument("-o", "--output", required=True, help="where to write the pipeline YAML")
    p.add_argument("--rounds", type=int, help="checkpoints compiled into one run, where the KFP UI's reports refresh (default 10; the last one runs to the end)")
    p.add_argument("--store", default=None, help="default store URI of the pipeline (default s3://mlpipeline/kfp-tune)")
    p.add_argument("--object-store", choices=("seaweedfs", "minio"), default="seaweedfs", help="KFP's object store: seaweedfs (KFP 2.16+, default) or minio (before)")
    p.add_argument("--launcher-config", default="", help='default of the launcher_config run parameter, e.g. \'{"kind": "kubernetes", "namespace": "my-profile"}\'; left out or \'{}\': {"kind": "kubernetes"}, the default')
    p.add_argument("--trial-templates", action="append", default=[], metavar="PATH",
                   help=TRIAL_TEMPLATES_HELP + "; without it, the run's first step reads the ConfigMap on the cluster")
    p.set_defaults(handler=cmd_compile)

    for name, handler, text, json_text in (
        ("status", cmd_status, "the experiment's status", "print Katib's Experiment .status document (as kubectl get experiment -o json shows it)"),
        ("trials", cmd_trials, "the experiment's trials", "print one JSON array, an object per trial"),
    ):
        p = sub.add_parser(name, help=text + " from the store")
        p.add_argument("name", help="experiment name")
        p.add_argument("--store", help=f"store URI (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
        p.add_argument("--json", action="store_true", help=json_text)
        if name == "trials":
            _selection_flags(p, "trials", sort=True)
        p.set_defaults(handler=handler)
    for name, handler, text in (
        ("submit", cmd_submit, "start one run of the experiment's pipeline on a Kubeflow Pipelines host"),
        ("schedule", cmd_schedule, "create a recurring run of the experiment's pipeline on a Kubeflow Pipelines host"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("experiment", help="Katib Experiment YAML, or a pipeline kfp-tune compile wrote (sent as it is)")
        p.add_argument("--host", help="the KFP API, e.g. http://ml-pipeline-ui.kubeflow (default: $KF_PIPELINES_ENDPOINT, or in-cluster)")
        p.add_argument("--namespace", help="the Kubeflow profile namespace (multi-user KFP)")
        p.add_argument("--experiment-name", help="the KFP experiment that groups the runs (default: the experiment's name)")
        p.add_argument(
            "--param", action="append", default=[], metavar="NAME=VALUE",
            help="a pipeline parameter (repeatable): store_uri, experiment_name, s3_endpoint, store_secret, launcher_config, checkpoint_trials, ...; "
                 "converted to the parameter's type (integer, number, true/false, JSON), or refused",
        )
        p.add_argument("--token-file", metavar="PATH", help="a file holding a bearer token for the KFP API (sent as Authorization: Bearer, never printed)")
        p.add_argument("--store", default=None, help="the s3:// store URI the pipeline uses (default s3://mlpipeline/kfp-tune; with --namespace NS, s3://mlpipeline/private/NS/kfp-tune)")
        p.add_argument("--object-store", choices=("seaweedfs", "minio"), default=None, help="KFP's object store: seaweedfs (KFP 2.16+, default) or minio (before)")
        p.add_argument("--rounds", type=int, help="checkpoints compiled into one run (default 10)")
        p.add_argument("--service-account", help="the run's service account (with the Kubernetes launcher: one bound to manifests/rbac.yaml)")
        p.add_argument("--trial-templates", action="append", default=[], metavar="PATH",
                       help=TRIAL_TEMPLATES_HELP + "; without it, the run's first step reads the ConfigMap on the cluster")
        p.add_argument("--json", action="store_true", help="print one JSON object: " + (
            "run_id, kfp_experiment_id, url, store" if name == "submit" else "recurring_run_id, kfp_experiment_id, url, store, cron, fresh_experiment"))
        if name == "submit":
            p.add_argument("--run-name", help="the run's name (default: NAME-tuning)")
        else:
            p.add_argument("--cron", required=True, help="KFP's six-field cron, seconds first: '0 0 2 * * *' is 02:00 daily, in the KFP controller's time zone (UTC unless the cluster sets CRON_SCHEDULE_TIMEZONE); or a descriptor, as KFP takes it: @daily, @hourly, @weekly, @monthly, @yearly, @every 6h ...")
            p.add_argument("--max-concurrency", type=int, default=1, help="runs at a time (default 1)")
            p.add_argument("--fresh-experiment", action="store_true", help="each run tunes a new experiment (default: every run continues the same one)")
            p.add_argument("--name", help="the recurring run's name (default: NAME-scheduled)")
            p.add_argument("--allow-duplicate", action="store_true", help="create it even if an enabled recurring run of that name is in the KFP experiment, "
                           "or one in the namespace continues the same experiment (experiment_name and store) under any name (refused by default: "
                           "the two would run side by side, and on a continued experiment refuse each other's runs)")
        p.set_defaults(handler=handler)

    p = sub.add_parser("render", help="print the trial resource the Kubernetes launcher would create, as YAML")
    p.add_argument("experiment", help="Katib Experiment YAML")
    p.add_argument("--assign", action="append", default=[], metavar="NAME=VALUE", help="a parameter's value (repeatable); the others take their first value")
    p.add_argument("--trial-name", default="", help="the trial's name (default: NAME-<8 characters> derived from the placeholder uid 'render'; a run's trials are named from "
                        "the experiment's uid, which only a run has, so they differ)")
    p.add_argument("--namespace", default=None, help="the namespace trials are created in (default: the experiment's metadata.namespace, else default)")
    p.add_argument("--launcher-config", default="", help='the Kubernetes launcher config JSON, e.g. \'{"serviceAccounts": ["trainer"], "gpus": 1}\'')
    p.add_argument("--trial-templates", action="append", default=[], metavar="PATH", help=TRIAL_TEMPLATES_HELP)
    p.set_defaults(handler=cmd_render)

    p = sub.add_parser("cleanup", help="delete the experiment's trial resources on the cluster but those of trials not ended: what a killed run left, "
                                       "and ended trials' resources that spec.trialTemplate.retain kept (as deleting a Katib experiment does); only what kfp-tune owns")
    p.add_argument("name", help="experiment name")
    p.add_argument("--namespace", help="the namespace the trials ran in (default: the one its trials recorded they ran in, else the experiment's "
                                       "metadata.namespace, else default; required when the experiment is not in the store)")
    p.add_argument("--store", help=f"store URI, to keep trials that are still running (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")
    p.add_argument("--others", action="store_true", help="also delete the resources the experiment's anchor owns that are no trial of it in the store "
                                                          "(asks first): its predecessor's, deleted and made again under the name, or another "
                                                          "store's experiment of the name, whose run loses them")
    p.add_argument("-y", "--yes", action="store_true", help="with --others: delete them without asking, only when none of them still runs "
                                                             "(one still running is deleted only once a person answers yes)")
    p.set_defaults(handler=cmd_cleanup)

    p = sub.add_parser("report", help="write the trial table (Markdown) and the HTML report with plots")
    p.add_argument("name", help="experiment name")
    p.add_argument("--store", help=f"store URI (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
    p.add_argument("-o", "--output", default=".", help="folder for NAME.md and NAME.html (default: here)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("list", help="the experiments in the store, with their status",
                       description="The experiments in the store, with their status and trial counts. killed: every Killed trial, the "
                                   "given-back ones included (interrupted, stale or not created; Katib's trialsKilled; run's summary "
                                   "counts those apart, as given back); running: running and pending.")
    p.add_argument("--store", help=f"store URI (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
    p.add_argument("--json", action="store_true", help="one JSON array, an object per experiment: name, status, reason, trials, succeeded, failed, metrics_unavailable, killed, early_stopped, running, best_trial, best, created")
    p.add_argument("--sort-by", choices=("name", "created"), default="name",
                   help="the order: name (default), or created, the newest first (a fresh experiment per run's NAME-<6 characters>: last night's on top)")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("logs", help="a trial's log from the store (every trial's without TRIAL); a trial running on a cluster: from its pod")
    p.add_argument("name", help="experiment name")
    p.add_argument("trial", nargs="?", help="trial name (default: every trial's log, in the order created)")
    p.add_argument("--store", help=f"store URI (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
    p.add_argument("--container", help="another log the store keeps for the trial (a Custom collector's container; default: the primary container's)")
    p.add_argument("--namespace", help="where a trial still running on a cluster runs (default: the experiment's metadata.namespace, else default)")
    _selection_flags(p, "logs of trials", sort=False)
    p.set_defaults(handler=cmd_logs)

    p = sub.add_parser("edit", help="change an experiment's budget in the store (as Katib's SDK edit_experiment_budget, or kubectl edit experiment); "
                                    "a run that drives it follows the edit")
    p.add_argument("name", help="experiment name")
    p.add_argument("--store", help=f"store URI (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
    for flag, field in zip(BUDGET_FLAGS, EDITABLE_FIELDS, strict=True):
        p.add_argument(flag, type=int, metavar="N", help=f"the new spec.{field}")
    p.set_defaults(handler=cmd_edit)

    p = sub.add_parser("delete", help="delete an experiment's records and artifact files from the store (asks first); never another experiment's")
    p.add_argument("name", help="experiment name")
    p.add_argument("--store", help=f"store URI (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
    p.add_argument("-y", "--yes", action="store_true", help="delete without asking")
    p.set_defaults(handler=cmd_delete)
    for command in sub.choices.values():  # the parser that reports an argument the command does not take
        command.set_defaults(subparser=command)
    return parser


def _selection_flags(p: argparse.ArgumentParser, what: str, sort: bool) -> None:
    """``--status``, ``--sort-by`` and ``--limit``: which trials a command shows, as ``kubectl
    get`` narrows what it lists; none given, every trial in the order created."""
    statuses = ", ".join(status.value for status in TrialStatus)
    p.add_argument("--status", action="append", default=[], metavar="STATUS",
                   help=f"only the {what} in this condition: {statuses} (repeatable, or comma-separated)")
    if sort:
        p.add_argument("--sort-by", choices=SORT_ORDERS, default=SORT_ORDERS[0],
                       help="created: the order the trials were created (default); objective: the best first, as the objective's type says "
                            "(minimize: the lowest value first), trials without a value last, with Failed and Killed ones (no observation in Katib)")
    p.add_argument("--limit", type=int, metavar="N",
                   help=f"at most N {what}, the first after --status" + (" and --sort-by (--sort-by objective --limit 5: the best five)" if sort else ""))


BUDGET_FLAGS = ("--max-trial-count", "--parallel-trial-count", "--max-failed-trial-count")
"""``kfp-tune edit``'s flags, in the order of EDITABLE_FIELDS: Katib's SDK ``edit_experiment_budget``
arguments (sdk/python/v1beta1/kubeflow/katib/api/katib_client.py), as flags."""


SORT_ORDERS = ("created", "objective")
"""``kfp-tune trials --sort-by``: the order created (the default), or the best objective first."""


def _chosen(args: argparse.Namespace) -> tuple[set[TrialStatus] | None, int | None]:
    """(the statuses --status names, or None for all; --limit, or None), refused naming the flag."""
    from kfp_tune.client import trial_statuses

    statuses = trial_statuses("--status", [part.strip() for value in args.status for part in value.split(",")]) if args.status else None
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit: expected a whole number of trials, at least 1, got {args.limit}")
    return statuses, None if args.limit is None else min(args.limit, sys.maxsize)  # more than any store holds: all of them


def _best_first(rows: list[dict[str, Any]], objective: ObjectiveSpec | None, name: str) -> list[dict[str, Any]]:
    """The trial rows by their objective value, the best first as Katib ranks its optimal trial
    (status_util.go ``updateTrialsSummary``: the lowest value for minimize, the highest for
    maximize, the earliest of equals); rows without a numeric value (none reported, a text
    objective) last, with the trials whose value is not ranked (``TrialStatus.ranked``: Failed,
    Killed, which Katib has no observation of) whatever they reported, each group in the order created."""
    from kfp_tune.core.decision import best_first

    if objective is None:
        raise UsageError(f"--sort-by objective: experiment {name!r} has no objective to sort by")
    metric, minimize = objective.objective_metric_name, objective.type == ObjectiveType.MINIMIZE
    return sorted(rows, key=lambda row: best_first(row["metrics"].get(metric) if TrialStatus(row["status"]).ranked else None, minimize))


def _refuse_compiled(path: str, command: str, instead: str) -> None:
    """A compiled pipeline given where an experiment is read (one kept beside the experiments):
    said as one, with what the command takes and ``instead``, what to do with the pipeline; not
    as an experiment missing its apiVersion and kind. A broken package (its ``pipelineInfo`` or
    ``root`` missing or no mapping) is said as submit and schedule say it, with what is wrong
    with it (``read_package``: one rule for every command)."""
    read = _read_package(path)
    takes = f"{command} takes the experiment's YAML (the file kfp-tune compile reads); {instead}"
    if read.broken:
        raise UsageError(f"{path}: {read.broken}; {takes}")
    if read.document is not None:
        raise UsageError(f"{path}: a compiled KFP pipeline, not a Katib Experiment: {takes}")


def _load(path: str, name: str | None = None, templates: Sequence[str] = (), need_template: bool = False) -> Experiment:
    """The experiment file, validated; its trial template read from the ConfigMap files given
    (``--trial-templates``) when it names one. ``need_template``: refuse it unread (a local
    run or render cannot reach the cluster's ConfigMap); else it is left for the cluster."""
    experiment = _load_file(path, name)
    from kfp_tune.core.template_source import config_map_reference, config_maps_from_files, needs_config_map, resolve_trial_template

    paths = [_readable("--trial-templates", value) for value in templates]  # checked before anything runs, used or not
    if needs_config_map(experiment) and paths:
        found = config_maps_from_files(paths)
        experiment = resolve_trial_template(experiment, lambda namespace, cm_name: found.get((namespace, cm_name)), f"in --trial-templates {', '.join(templates)}")
    elif needs_config_map(experiment) and need_template:
        namespace, cm_name, key = config_map_reference(experiment)
        raise UsageError(
            f"spec.trialTemplate.configMap: the trial template is in ConfigMap {namespace}/{cm_name} (key {key!r}), which this command reads "
            f"from a file: pass --trial-templates FILE (e.g. kubectl get configmap -n {namespace} {cm_name} -o yaml > FILE)"
        )
    from kfp_tune.core.quantities import trial_resource_amounts

    # a part of a GPU: Kubernetes never creates the trial's pod; refused by validate, compile and
    # both engines alike (the local pipeline's pod asks for the same amounts, read by this one check)
    trial_resource_amounts(experiment)
    _warn_what_katib_would_take(experiment)
    return experiment


def _readable(flag: str, value: str) -> Path:
    """A file or folder a flag names, refused now if it is missing or cannot be read, whether or
    not the experiment turns out to need it (a mistyped path is never silently ignored), as is an
    empty value (an unset variable: ``Path("")`` would be the working folder)."""
    if not value:
        raise UsageError(f"{flag}: expected a file or a folder, got an empty string")
    path = Path(value)
    try:
        exists, is_dir, is_file = path.exists(), path.is_dir(), path.is_file()
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        raise UsageError(f"{flag} {shown(value)}: not a usable path: {getattr(exc, 'strerror', None) or exc}") from None
    if not exists:
        raise UsageError(f"{flag} {shown(value)}: no such file or folder")
    if not (is_dir or is_file):
        raise UsageError(f"{flag} {shown(value)}: expected a file or a folder")
    if not os.access(path, os.R_OK | (os.X_OK if is_dir else 0)):
        raise UsageError(f"{flag} {shown(value)}: cannot be read (permission denied)")
    return path


def _warn_what_katib_would_take(experiment: Experiment) -> None:
    """A warning line for what Katib takes but should not be so: each credential written out in
    the trial template, and each metric name the collector can never read."""
    from kfp_tune.collectors.stdout import NAME_RULE, unreadable_additional_names, unreadable_names
    from kfp_tune.core.template import written_credentials

    template = experiment.spec.trial_template
    for problem in written_credentials(template.trial_spec if template is not None else None):
        print(f"warning: {problem.path}: {problem.message}", file=sys.stderr)
    for name in unreadable_names(experiment):
        print(
            f"warning: spec.objective: the metric {shown(name)} cannot be read with the {experiment.spec.collector_kind} collector's default "
            f"metricsFormat, which takes names of {NAME_RULE} (nor can Katib read it): every trial would end MetricsUnavailable; "
            "rename it, or give metricsCollectorSpec.source.filter.metricsFormat", file=sys.stderr,
        )
    for name in unreadable_additional_names(experiment):
        print(
            f"warning: spec.objective.additionalMetricNames: the metric {shown(name)} cannot be read with the {experiment.spec.collector_kind} "
            f"collector's default metricsFormat, which takes names of {NAME_RULE} (nor can Katib read it): it will be missing from every "
            "trial's metrics; rename it, or give metricsCollectorSpec.source.filter.metricsFormat", file=sys.stderr,
        )


def _load_file(path: str, name: str | None = None) -> Experiment:
    try:
        exists, is_file = Path(path).exists(), Path(path).is_file()
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        raise UsageError(f"EXPERIMENT {shown(path)}: not a usable path: {getattr(exc, 'strerror', None) or exc}") from None
    if not exists:
        raise UsageError(f"no such experiment file: {path}")
    if not is_file:
        raise UsageError(f"EXPERIMENT {path}: not a file; expected a Katib Experiment YAML file")
    from kfp_tune.core.loading import read_experiment_source
    from kfp_tune.core.validation import name_problem

    if name is not None and (problem := name_problem(name)) is not None:
        raise UsageError(f"--name: {problem}")
    try:
        data = read_experiment_source(Path(path))
    except SpecError as exc:
        raise exc.in_file(path) from None
    if name is not None and isinstance(data, dict):
        metadata = data.get("metadata")
        data["metadata"] = {**metadata, "name": name} if isinstance(metadata, dict) else {"name": name}
    return load_experiment(data)


def _check(flag: str, check: Any, *args: Any) -> Any:
    """``check(*args)``, its refusal (a ValueError or SpecError) as a UsageError naming the flag."""
    try:
        return check(*args)
    except SpecError as exc:
        raise UsageError(f"{flag}: " + "; ".join(e.message for e in exc.errors)) from None
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _rounds(value: int | None) -> None:
    """--rounds, checked before anything runs (the bound is the pipeline builder's)."""
    if value is None:
        return
    from kfp_tune.pipelines.builder import check_rounds

    try:
        check_rounds(value)
    except InputError as exc:
        raise UsageError(f"--rounds: {str(exc).removeprefix('rounds: ')}") from None


def _label(flag: str, value: str, subdomain: bool = False) -> None:
    """A Kubernetes name given on the command line: a DNS-1123 label (namespaces, trial names),
    or a subdomain (service accounts); refused here rather than by the API server mid-run."""

    label = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    pattern = rf"^{label}(\.{label})*$" if subdomain else rf"^{label}$"
    limit = 253 if subdomain else 63
    if len(value) > limit or not re.fullmatch(pattern, value):
        kind = "DNS-1123 subdomain (lower case letters, digits, '-' and '.')" if subdomain else "DNS-1123 label (lower case letters, digits and '-')"
        raise UsageError(f"{flag}: expected a Kubernetes name, a {kind}, starting and ending with a letter or digit, at most {limit} characters; got {shown(value)}")


def _experiment_name(value: str) -> None:
    from kfp_tune.core.validation import name_problem

    problem = name_problem(value)
    if problem is not None:
        raise UsageError(f"NAME: {problem}")


MAX_JSON_FLAG = 64 * 1024


def _json_object(flag: str, text: str) -> dict[str, Any]:
    """A flag's JSON object: bounded in size and depth, so no value can exhaust the parser."""
    if len(text) > MAX_JSON_FLAG:
        raise UsageError(f"{flag}: longer than {MAX_JSON_FLAG:,} characters")
    try:
        data = json.loads(text)
    except RecursionError:
        raise UsageError(f"{flag}: nested too deeply") from None
    except ValueError as exc:
        raise UsageError(f"{flag}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{flag}: expected a JSON object, got {shown(data)}")
    return data


def _output_file(flag: str, output: str, source: str | None = None) -> Path:
    """Where a command will write a file, checked before anything runs: a .yaml name, in an
    existing folder, not a folder itself, not the input it was compiled from."""
    try:
        return _checked_output_file(flag, output, source)
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        if isinstance(exc, UsageError):
            raise
        raise UsageError(f"{flag} {shown(output)}: not a usable path: {getattr(exc, 'strerror', None) or exc}") from None


def _checked_output_file(flag: str, output: str, source: str | None) -> Path:
    from kfp_tune.pipelines.builder import output_file_problem

    path = Path(output)
    problem = output_file_problem(output, Path(source) if source is not None else None)
    if problem:
        raise UsageError(f"{flag} {output}: {problem}")
    return path


def _check_output_name(flag: str, output: str) -> None:
    """The refusals of a local folder a flag names that read nothing (made before the store is
    read): an empty value (an unset variable: ``Path("")`` would be the working folder), a URI
    (``s3://bucket/x`` would be a folder ``s3:`` here, the bucket never written)."""
    from kfp_tune.stores import uri_like

    if not output:
        raise UsageError(f"{flag}: expected a folder, got an empty string")
    if uri_like(output):
        raise UsageError(f"{flag} {shown(output)}: expected a folder on this machine, got a URI; write to a folder, then copy the files (aws s3 cp, mc cp)")


def _output_folder(flag: str, output: str) -> Path:
    """The local folder a flag names, made if missing; refused naming the flag: as
    :func:`_check_output_name` says, a file, one not writable."""
    _check_output_name(flag, output)
    folder = Path(output)
    try:
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"{flag} {output}: is a file; expected a folder")
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        if isinstance(exc, UsageError):
            raise
        raise UsageError(f"{flag} {shown(output)}: cannot create the folder: {getattr(exc, 'strerror', None) or exc}") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{flag} {output}: not writable")
    return folder


def _open_store(uri: str | None, look: bool = False) -> Store:
    """The store of --store (else $KFP_TUNE_STORE, else the default folder); a URI or setting
    that cannot work is refused naming where it came from, before anything is read. A command
    that only looks at the store (``look``: status, trials, report, list, logs, and cleanup and
    delete, run at a terminal) waits ``LOOK_RETRY_SECONDS`` for an S3 store that does not answer,
    not the 300 s a run's step waits for one that restarts, unless $KFP_TUNE_STORE_RETRY_SECONDS
    says otherwise."""
    from kfp_tune.stores import check_environment, check_store_uri, open_store, refuse_empty_store, store_variable

    check_environment()
    refuse_empty_store(uri, "--store")  # else taken as not given: the default store, silently
    given = uri or store_variable(os.environ)
    if given:
        _check("--store" if uri else "$KFP_TUNE_STORE", check_store_uri, given)
    try:
        return open_store(uri, retry_seconds=LOOK_RETRY_SECONDS if look and not os.environ.get(STORE_RETRY_VARIABLE) else None)
    except InputError as exc:
        message = str(exc)
        raise UsageError(message if message.startswith(("$", "S3 endpoint", "an s3://")) else f"{'--store' if uri else '$KFP_TUNE_STORE'}: {message}") from None


def _check_runnable(experiment: Experiment) -> None:
    from kfp_tune.launchers import function_experiment_problems
    from kfp_tune.steps import runnable_problems

    problems = runnable_problems(experiment) + function_experiment_problems(experiment)
    if problems:
        raise SpecError(problems)


def cmd_validate(args: argparse.Namespace) -> int:
    from kfp_tune.core.template_source import config_map_reference, needs_config_map
    from kfp_tune.launchers import function_experiment_problems
    from kfp_tune.steps import runnable_problems

    _refuse_compiled(args.experiment, "validate", "kfp-tune submit checks a compiled pipeline before it starts a run")
    experiment = _load(args.experiment, templates=args.trial_templates)
    problems = runnable_problems(experiment) + function_experiment_problems(experiment)
    if problems:  # a CI gate on validate must not pass what run and compile then refuse
        print(f"{args.experiment}: valid Katib experiment {experiment.name!r}, but kfp-tune cannot run it (run and compile refuse it):", file=sys.stderr)
        for problem in problems:
            print(f"{problem.path}: {problem.message}", file=sys.stderr)
        return EXIT_NOT_RUNNABLE
    if needs_config_map(experiment):
        namespace, cm_name, key = config_map_reference(experiment)
        print(
            f"note: the trial template is read from ConfigMap {namespace}/{cm_name} (key {key!r}) when the run starts on the cluster; "
            f"--trial-templates FILE checks it here", file=sys.stderr,
        )
    print(f"{args.experiment}: valid experiment {experiment.name!r}")
    from kfp_tune.core.loading import read_experiment_source
    from kfp_tune.core.portability import katib_notes

    written = read_experiment_source(Path(args.experiment))
    for note in katib_notes(experiment, written if isinstance(written, dict) else None):  # runs here; would not go back to Katib as it is
        print(f"note: {note.path}: {note.message}", file=sys.stderr)
    _note_hyperband_repeats(experiment)
    from kfp_tune.pipelines.builder import spec_size_problem

    oversize = spec_size_problem(experiment)
    if oversize is not None:  # Katib takes it, and the inline engine runs it; no pipeline can carry it
        print(f"note: {oversize.path}: {oversize.message}; Katib takes an experiment this size", file=sys.stderr)
    _note_local_run(experiment)
    from kfp_tune.core.loading import status_not_carried

    if carried := status_not_carried(experiment):  # an export's trials: a run of it starts from none
        print(f"note: status: {carried}", file=sys.stderr)
    return EXIT_OK


def _note_hyperband_repeats(experiment: Experiment) -> None:
    """A hyperband experiment whose other parameters have fewer configurations than its largest
    bracket starts runs, repeating some, as in Katib: told, so the repeats are no surprise."""
    from kfp_tune.core.catalogue import ALGORITHMS, hyperband_repeat_note, parse_settings
    from kfp_tune.core.space import search_space_of

    algorithm = experiment.spec.algorithm
    if algorithm is None or algorithm.algorithm_name != "hyperband":
        return
    settings, _ = parse_settings(ALGORITHMS["hyperband"], [(s.name, s.value) for s in algorithm.algorithm_settings], "spec.algorithm.algorithmSettings")
    note = hyperband_repeat_note(search_space_of(experiment.spec.parameters), settings)
    if note:
        print(f"note: spec.parameters: {note}", file=sys.stderr)


def _note_local_run(experiment: Experiment) -> None:
    """What only a local run refuses (a container without command: a cluster runs its image's
    entrypoint) is told as a note: validate passes it, as a cluster runs it, but the user
    trying it here first with kfp-tune run hears why that will be refused now."""
    from kfp_tune.launchers import check_experiment
    from kfp_tune.launchers.local import LocalLauncher

    try:
        check_experiment(LocalLauncher(), experiment)
    except ValueError as exc:
        print(f"note: {exc}; kfp-tune run refuses it", file=sys.stderr)
    _note_unnamed_trial_dir(LocalLauncher(), experiment)
    _note_unnamed_metrics_path(experiment)
    _note_not_done_locally(LocalLauncher(), experiment, with_resources=False)


def _note_not_done_locally(launcher: LocalLauncher, experiment: Experiment, with_resources: bool = True) -> None:
    """Replicas that do not run here and (for ``run``) resource limits not applied here: a
    cluster's run and a local one differ there, silently unless told (``LocalLauncher.not_done_here``)."""
    for note in launcher.not_done_here(experiment, with_resources):
        print(f"note: spec.trialTemplate.trialSpec: {note}", file=sys.stderr)


def _note_unnamed_trial_dir(launcher: LocalLauncher, experiment: Experiment) -> None:
    """A pbt trial whose script takes ``suggestion_trial_dir`` as its own default runs on a
    cluster (the folder is mounted there) but here every trial would share that one folder of
    this machine, resuming from each other, with nothing kept in the store: told, before
    anything runs (:meth:`~kfp_tune.launchers.local.LocalLauncher.unnamed_trial_dir`)."""
    trial_dir = launcher.unnamed_trial_dir(experiment)
    if trial_dir:
        print(
            f"note: spec.algorithm.algorithmSettings: suggestion_trial_dir {trial_dir} is named by no word of the trial's command, args or env; "
            f"kfp-tune run maps each trial's checkpoint folder there only where a word names it, so a script that takes the path as its own "
            f"default would share {trial_dir} of this machine with every trial, and the store would keep no checkpoint: pass the path in its "
            "command or args (a cluster mounts the folder there: Katib runs it as it is)",
            file=sys.stderr,
        )


def _note_unnamed_metrics_path(experiment: Experiment) -> None:
    """A File or TensorFlowEvent collector path that no word of the trial's command, args, env or
    workingDir names (Katib's default ``/var/log/katib/metrics.log``, written by the training code
    itself) runs on a cluster, where a volume is mounted there, but here each trial would write
    this machine's file and end MetricsUnavailable: told before the first trial
    (:func:`~kfp_tune.launchers.local.unnamed_metrics_folder`)."""
    from collections.abc import Mapping

    from kfp_tune.collectors.observe import collector_source
    from kfp_tune.core.vocabulary import FUNCTION_TRIAL_KIND, CollectorKind
    from kfp_tune.launchers.local import unnamed_metrics_folder
    from kfp_tune.launchers.replicas import local_container

    spec = experiment.spec
    template = spec.trial_template
    if spec.collector_kind not in (CollectorKind.FILE, CollectorKind.TENSORFLOW_EVENT) or spec.objective is None:
        return
    if template is None or not isinstance(template.trial_spec, Mapping) or template.trial_spec.get("kind") == FUNCTION_TRIAL_KIND:
        return  # a tune() function's trial: what it returns is its metrics, no file's
    source = collector_source(experiment)
    if not source.path:
        return
    folder = unnamed_metrics_folder(local_container(experiment) or {}, source.path, source.path_kind_or_default)
    if folder:
        print(
            f"note: spec.metricsCollectorSpec.source.fileSystemPath.path: the {spec.collector_kind} collector's path {source.path} is named by "
            f"no word of the trial's command, args, env or workingDir; kfp-tune run gives each trial its own folder at {folder} only where a "
            f"word names that folder or a path in it, so training code that writes {source.path} itself writes this machine's file, shared "
            "by every trial, and the trial's metrics are not read: have it write the path $KFP_TUNE_METRICS_PATH names, or pass the path in "
            "its command or args (a cluster mounts a volume there: Katib runs it as it is)",
            file=sys.stderr,
        )


def _mounts(values: list[str]) -> dict[str, str]:
    mounts = {}
    for value in values:
        container_path, sep, local_path = value.partition("=")
        if not sep or not container_path.startswith("/") or not local_path:
            raise UsageError(f"--mount {value!r}: expected /container/path=local/path")
        try:
            exists, resolved = Path(local_path).exists(), Path(local_path).resolve()
        except (OSError, ValueError) as exc:  # a name too long, a NUL byte: as _readable says it
            raise UsageError(f"--mount {shown(value)}: not a usable path: {getattr(exc, 'strerror', None) or exc}") from None
        if not exists:
            raise UsageError(f"--mount {shown(value)}: {shown(local_path)} does not exist")
        mounts[container_path] = str(resolved)
    return mounts


def _note_unread_settings(experiment: Experiment) -> None:
    """validate's notes of the algorithm settings the run never reads (cmaes's ``random_stat``,
    with "did you mean"; a sobol random_state that is no seed), which Katib takes as well, and
    of what the run will do unlike its spec's face (ends before maxTrialCount; a collector that
    reports to Katib's DB manager): the user hears them before the first trial, not after a run
    that was unseeded or ended early."""
    from kfp_tune.core.portability import before_run_notes, unread_setting_notes

    for note in unread_setting_notes(experiment) + before_run_notes(experiment):
        print(f"note: {note.path}: {note.message}", file=sys.stderr)


def _note_run_here(launcher: Launcher, experiment: Experiment) -> None:
    """``run``'s notes, before the first trial, of what a local run does unlike a cluster's."""
    from kfp_tune.launchers.local import LocalLauncher

    if not isinstance(launcher, LocalLauncher):
        return
    _note_unnamed_trial_dir(launcher, experiment)
    _note_unnamed_metrics_path(experiment)
    _note_not_done_locally(launcher, experiment)
    _note_unmounted_paths(launcher, experiment)


def _mount_flag(folder: str) -> str:
    """How ``run`` maps a folder of the trial's image to a local one."""
    return f"--mount {folder}=LOCAL_FOLDER"


def _mounts_key(folder: str) -> str:
    """How a compiled local pipeline maps it: its launcher config's ``mounts``, an absolute local
    path (kfp.local runs its steps elsewhere than where the pipeline was compiled)."""
    return f'--launcher-config \'{{"kind": "local", "mounts": {{"{folder}": "/ABSOLUTE/LOCAL_FOLDER"}}}}\''


_SCRIPT_PROBE = "kfp-tune-script-probe"
"""A relative word with no script ending, put in a path's place: script_words finds it only
where an interpreter would read it as its script."""


def _refuse_missing_script(launcher: Launcher, experiment: Experiment) -> None:
    """A trial whose interpreter's script is an absolute path of the image that is not here,
    nor its folder, nor mounted (``python3 /opt/digits/train.py`` without ``--mount``), fails
    every trial "can't open file", spends the failure budget and leaves the name used up: refused
    before the experiment is created, with the ``--mount`` that gives it. Only where that is
    certain: the local launcher, a command in exec form (no ``sh -c`` line, which may make the
    file first), and the word its interpreter reads as its script, as
    :func:`~kfp_tune.launchers.script_words.script_words` reads it; any other path stays
    :func:`_note_unmounted_paths`' note."""
    from kfp_tune.launchers.local import LocalLauncher
    from kfp_tune.launchers.replicas import local_container
    from kfp_tune.launchers.script_words import script_words, shell_line_at  # one reading of an interpreter's words

    container = local_container(experiment)
    if not isinstance(launcher, LocalLauncher) or container is None:
        return
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    if shell_line_at(words) is not None:
        return
    template = experiment.spec.trial_template
    name = template.primary_container_name if template is not None else ""
    for path, folder in launcher.unmounted_paths(experiment):
        at = words.index(path) if path in words else -1
        if at < 0 or _SCRIPT_PROBE not in script_words([*words[:at], _SCRIPT_PROBE]):
            continue
        interpreter = next(Path(word).name for word in reversed(words[:at]) if script_words([word, _SCRIPT_PROBE]) == [_SCRIPT_PROBE])
        raise UsageError(
            f"spec.trialTemplate.trialSpec (container {name!r}): {path}, the script {interpreter} runs, is not on this machine, nor is {folder}, "
            f"so every trial would fail to open it; give a local copy of that folder: {_mount_flag(folder)}"
        )


def _note_unmounted_paths(launcher: Launcher, experiment: Experiment, mount: Callable[[str], str] = _mount_flag) -> None:
    """A path of the trial's image its command names (``python3 /opt/digits/train.py``) fails
    every trial here with the script's own error, which says nothing of ``--mount``, and a
    ``workingDir`` that is not here fails every trial's start: the user hears it before the
    first trial starts, with the flag that maps it (``mount``: ``run``'s ``--mount``, or the
    launcher config's ``mounts`` of a compiled local pipeline); so with a relative script
    (``python3 run_trial.py``) that is not where each trial starts here (``LocalLauncher.relative_scripts``)."""
    from kfp_tune.launchers.local import LocalLauncher
    from kfp_tune.launchers.replicas import local_container

    if not isinstance(launcher, LocalLauncher):
        return
    template = experiment.spec.trial_template
    container = template.primary_container_name if template is not None else ""
    working_dir = (local_container(experiment) or {}).get("workingDir")  # the container that runs here (a PyTorchJob's Master)
    working_dir_noted = False
    for path, folder in launcher.unmounted_paths(experiment):
        if path == working_dir:  # every trial would fail to start in it
            working_dir_noted = True
            print(
                f"note: spec.trialTemplate.trialSpec (container {container!r}): workingDir {path}: no such folder on this machine, "
                f"where every trial starts; create it, or map it to a local folder: {mount(path)}",
                file=sys.stderr,
            )
            continue
        print(
            f"note: spec.trialTemplate.trialSpec (container {container!r}): {path} is not on this machine, nor is {folder}; "
            f"if the trial's image holds it, give a local copy of that folder: {mount(folder)}",
            file=sys.stderr,
        )
    if working_dir_noted:  # the trial cannot start at all: that note says what to do
        return
    scripts, start_folder = launcher.relative_scripts(experiment)
    for word in scripts:  # relative to the image's working directory, which only the image knows
        if isinstance(working_dir, str) and working_dir and "${" not in working_dir:
            print(
                f"note: spec.trialTemplate.trialSpec (container {container!r}): {word} is a relative path, no file in {start_folder}, where each "
                f"trial starts here (workingDir {working_dir}); give a local copy of the image's {working_dir}: {mount(working_dir)} "
                f"holding {word}",
                file=sys.stderr,
            )
            continue
        print(
            f"note: spec.trialTemplate.trialSpec (container {container!r}): {word} is a relative path, no file in {start_folder}, where each "
            f"trial starts here; in the trial's image it is relative to the image's working directory, which is not known here: set the "
            f"container's workingDir to the image's folder that holds it and give a local copy of that folder: {mount('WORKDIR')}",
            file=sys.stderr,
        )


def cmd_run(args: argparse.Namespace) -> int:
    """Runs the experiment here, under the engine chosen: all that can refuse it refuses it
    before anything is recorded, then the run goes with its progress shown, and ends as its
    summary, an interrupt or a late Ctrl-C says. A reader of its output that goes away (`2>&1 |
    head -1`) stops no run and changes no exit status (:class:`_ReaderMayGo`)."""
    with _reader_may_go():
        return _run_command(args)


class _ReaderMayGo:
    """``run``'s stdout or stderr, whose reader may go away (a CI step capping its log with
    ``| head -1``): a write or flush it refuses (EPIPE) sends the stream to /dev/null, as
    Python's docs advise for SIGPIPE, and the run goes on to its end and exits as it ended (0
    Succeeded, 1 Failed), not 141 whatever the experiment did (QA automation, session 37)."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())
        with contextlib.suppress(OSError, ValueError):  # what was left unwritten goes there too
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _reader_may_go() -> Iterator[None]:
    """stdout and stderr as :class:`_ReaderMayGo` while ``run`` runs, flushed at its end; the
    log handler :func:`main` set writes through them too (and is still the console's, for
    ``logging_redirect_tqdm``, which looks for a handler of ``sys.stderr``)."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ReaderMayGo(streams[0]), _ReaderMayGo(streams[1])
    handlers = [(h, h.stream) for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler) and h.stream in streams]
    for handler, stream in handlers:
        handler.setStream(sys.stdout if stream is streams[0] else sys.stderr)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = streams
        for handler, stream in handlers:
            handler.setStream(stream)


def _run_command(args: argparse.Namespace) -> int:
    """:func:`cmd_run`'s run, its streams those of :func:`_reader_may_go`."""
    _refuse_compiled(args.experiment, "run", "to run a compiled pipeline use kfp.local or kfp-tune submit")
    experiment = _load(args.experiment, args.name, args.trial_templates, need_template=True)
    _check_run_settings(args, experiment)
    launcher_config = {"kind": "local", "mounts": _mounts(args.mount)}
    store = _open_store(args.store)
    launcher = _checked_launcher(experiment, launcher_config, store.uri)
    _refuse_missing_script(launcher, experiment)
    _note_unread_settings(experiment)
    _note_run_here(launcher, experiment)
    if args.engine == "kfp-local":  # what refuses the pipeline (its size, the trials' resources) refuses it before anything is recorded
        from kfp_tune.pipelines.local_run import local_pipeline

        local_pipeline(experiment, store.uri, launcher_config, args.rounds)
    if _preflight(store, experiment, args.take_over):  # completed, and recorded so: reported as status reports it, nothing written
        return _summary_exit(store, experiment.name, None, args.json)
    return _run_with_progress(args, store, experiment, launcher, launcher_config)


def _check_run_settings(args: argparse.Namespace, experiment: Experiment) -> None:
    """``run``'s flags and what a local run cannot do, refused before the store is opened."""
    _rounds(args.rounds)
    if args.rounds is not None and args.engine == "inline":
        raise UsageError("--rounds: for --engine kfp-local, which compiles the pipeline; --engine inline runs the steps without one")
    _local_slots(experiment)


def _checked_launcher(experiment: Experiment, launcher_config: dict[str, Any], store_uri: str) -> Launcher:
    """The launcher of ``launcher_config``, once it has taken the experiment."""
    from kfp_tune.launchers import check_experiment, launcher_from_config

    launcher = launcher_from_config(launcher_config, store_uri)
    try:  # every refusal names its field (the store's, spec.metricsCollectorSpec's, says why the store matters)
        check_experiment(launcher, experiment)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return launcher


def _preflight(store: Store, experiment: Experiment, take_over: bool) -> bool:
    """The pre-flight before anything runs: a busy experiment, a changed search space or a
    damaged record (never skipped, never rewritten) is refused here, not mid-run; a run that
    resumes says what it takes up. True when there is nothing to run
    (:func:`~kfp_tune.steps.decide_stop.only_reported`)."""
    from kfp_tune.core.records import DamagedRecord, ExperimentRecords
    from kfp_tune.reports import run_note
    from kfp_tune.steps import prepare
    from kfp_tune.steps.decide_stop import only_reported

    try:
        prepare(ExperimentRecords(store, experiment.name), experiment, take_over=take_over)
        note, _ = run_note(store, experiment.name, how_to_run_again=True)
    except DamagedRecord as exc:
        others = "" if exc.key == ExperimentRecords(store, experiment.name).experiment_key() else " (kfp-tune status and trials show the other trials)"
        raise UsageError(
            f"{exc}; this run is refused, since kfp-tune never skips nor rewrites a damaged record: repair or remove it{others}"
        ) from None
    if note:
        print(note, file=sys.stderr)
    return only_reported(store, experiment.name, lambda said: print(said, file=sys.stderr), take_over)


def _run_with_progress(args: argparse.Namespace, store: Store, experiment: Experiment, launcher: Launcher, launcher_config: dict[str, Any]) -> int:
    """The run, its progress shown, and its exit status: what stopped it, if anything did,
    said as each ``except`` below says."""
    from tqdm import tqdm

    from kfp_tune.core.errors import RunInterrupted, StoreInputError
    from kfp_tune.core.records import DamagedRecord

    bar = tqdm(total=experiment.spec.max_trial_count, unit="trial", desc=experiment.name, disable=None, file=sys.stderr, dynamic_ncols=True)
    plain, update = _progress_lines(bar, experiment)
    ended: dict[str, Any] | None = None  # the saved status of an experiment that had ended when a late signal came
    began = time.time()  # a claim this process made since is this run's (_claimed_by_this_run)
    try:
        _run_engine(args, store, experiment, launcher, launcher_config, bar, plain, update)
    except RunInterrupted as exc:
        bar.close()
        return _interrupted_exit(exc, store, experiment.name, args.json)
    except DamagedRecord as exc:  # a damaged claim (runs/<seq>.json) holds the experiment for no run: none may claim it
        raise _stopped_by_damage(exc) from None
    except StoreInputError as exc:  # the pre-flight read the store: a refusal since is mid-run once this run's claim was written
        if not _claimed_by_this_run(store, experiment.name, began):
            raise
        raise _refused_mid_run(exc) from None
    except KeyboardInterrupt:  # not the run's RunInterrupted: the signal came once the run had stopped answering it, as it ended
        ended = _ended_before_the_signal(store, experiment.name)
        if ended is None:
            raise
        print(f"the signal came after the run had ended: experiment {experiment.name} {ended['status']} ({ended['reason']}); "
              f"nothing was stopped", file=sys.stderr)
    finally:
        bar.close()
    return _summary_exit(store, experiment.name, ended, args.json)


ProgressUpdate = Callable[[int, dict[str, Any]], None]
"""What :class:`~kfp_tune.progress.ProgressWatcher` calls with each look: (trials done, what it saw)."""


def _progress_lines(bar: Any, experiment: Experiment) -> tuple[PlainProgress | None, ProgressUpdate]:
    """How each look of the watcher is shown: the bar on a terminal, with a line above it for
    each trial that did not succeed; plain lines where there is none."""
    from tqdm import tqdm

    from kfp_tune.progress import FailureNotes, PlainProgress

    assert experiment.spec.objective is not None  # loading refuses an experiment without one
    objective_name = experiment.spec.objective.objective_metric_name
    # no terminal (2>file, nohup, CI): tqdm shows nothing there (disable=None), so plain lines do
    plain = None if _is_terminal(sys.stderr) else PlainProgress(objective_name, lambda line: print(line, file=sys.stderr, flush=True))
    # on a terminal the bar keeps its one line: each trial that did not succeed is told once above
    # it, with why (on stderr, with the bar: tqdm.write's default is stdout, which --json keeps)
    notes = FailureNotes(objective_name, lambda line: tqdm.write(line, file=sys.stderr)) if plain is None else None

    def update(done: int, info: dict[str, Any]) -> None:
        if info.get("total") and info["total"] != bar.total:  # the budget was edited while the run goes
            bar.total = info["total"]
            bar.refresh()
        bar.update(done - bar.n)
        best = info["best"].get(objective_name)
        if best is not None:
            bar.set_postfix_str(f"best {objective_name}={best:.6g}")
        if plain is not None:
            plain.update(done, info)
        if notes is not None:
            notes.update(done, info)

    return plain, update


def _run_engine(args: argparse.Namespace, store: Store, experiment: Experiment, launcher: Launcher, launcher_config: dict[str, Any],
                bar: Any, plain: PlainProgress | None, update: ProgressUpdate) -> None:
    """The run itself, by the engine chosen, watched for its progress until its last look."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    from kfp_tune.inline_runner import run_inline
    from kfp_tune.progress import ProgressWatcher

    # a kfp-local run claims before its pipeline starts, and before the watcher shows any trial as its own
    claimed = _claimed_for_the_pipeline(store, experiment.name, args.take_over) if args.engine != "inline" else contextlib.nullcontext()
    # while the bar shows, log lines (-v) are written above it, not onto its line
    with claimed, plain or contextlib.nullcontext(), logging_redirect_tqdm() if not bar.disable else contextlib.nullcontext(), \
            ProgressWatcher(store, experiment, update) as watcher:  # the watcher's last look, then the lines left
        if args.engine == "inline":
            run_inline(store, experiment, launcher, take_over=args.take_over)
        else:
            from kfp_tune.pipelines.local_run import run_in_child

            # take_over: its first step takes over the claim above, this run's own (its KFP_TUNE_RUN_OWNER)
            run_in_child(experiment, store.uri, launcher_config, args.rounds, True, args.verbose, store=store, progress=watcher)


@contextlib.contextmanager
def _claimed_for_the_pipeline(store: Store, name: str, take_over: bool) -> Iterator[None]:
    """The experiment claimed for a kfp-local run before its pipeline starts, and given back
    when the pipeline never took the claim over. Its first step claims only some 30 s later
    (compile, kfp.local's start): two runs started together both passed the pre-flight, and
    the second showed the first's trials as its own until its step was refused (QA
    automation, session 37). Now the second is refused here (ExperimentBusy, exit 1), before
    it starts anything, as the inline engine refuses it; the claim holds while this process
    lives (:meth:`~kfp_tune.core.claims.Claim.live`), and a stop before the pipeline claimed is
    recorded by ``end_interrupted_run``, whose run this claim is (``run_owner``)."""
    from kfp_tune.core import claims
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.steps.schedule import new_run_id

    records, run_id = ExperimentRecords(store, name), new_run_id()
    claims.claim(records, run_id, take_over)
    reason = "error"
    try:
        yield
        reason = "ended"
    except KeyboardInterrupt:
        reason = claims.INTERRUPTED
        raise
    finally:
        with contextlib.suppress(Exception):  # a no-op once the pipeline took it over; a store down: this process's end frees it
            claims.release(records, run_id, reason)


def _interrupted_exit(exc: RunInterrupted, store: Store, name: str, as_json: bool) -> int:
    """What an interrupted run says, and its exit status: 128 + the signal, unless the
    experiment's status says it had ended (:func:`kfp_tune.api.ended_when_stopped`, the rule
    ``tune()`` says a stop by), which exits as the ended run, naming the trials still running
    that the stop recorded Killed. After SIGHUP the terminal may be gone: each line is said if
    it still can be (:func:`_unless_gone`)."""
    from kfp_tune.api import ended_when_stopped, unstarted_given_back
    from kfp_tune.core.decision import trials_killed_by_interrupt
    from kfp_tune.core.errors import StoreError
    from kfp_tune.reports import summarize

    signal_exit = 128 + int(getattr(signal, exc.signal_name, signal.SIGINT))
    summary: dict[str, Any] = {}
    ended: tuple[str, str] | None = None
    try:
        if not exc.unrecorded:
            ended = ended_when_stopped(store, name)
            summary = summarize(store, name)
            if ended is None and _record_interrupt_before_the_claim(store, name, summary, exc.signal_name):
                summary = summarize(store, name)
    except StoreError as error:  # down since the run stopped
        exc.unrecorded = f"the store could not be read after the interrupt ({error})"
    if exc.unrecorded:  # the trials were stopped, but the store could not say so: the next run does
        with _unless_gone(sys.stderr):
            print(
                f"interrupted ({exc.signal_name}): the running trials were stopped, but {exc.unrecorded}. "
                f"The next run gives the trials left Running back (Killed, TrialStale: no budget used) and resumes: "
                f"run the same command once the store answers.",
                file=sys.stderr,
            )
        return _flushed(signal_exit)
    if ended is not None:  # the experiment had ended (its outcome is final): the run exits as the ended run
        phase, reason = ended
        if exc.killed:
            with _unless_gone(sys.stderr):
                print(f"the signal ({exc.signal_name}) came after experiment {name} had ended: {phase}{f' ({reason})' if reason else ''}; "
                      f"{exc.killed} trial(s) still running were stopped and recorded Killed; the experiment's outcome stands", file=sys.stderr)
        with _unless_gone(sys.stdout):
            _print_summary(summary, as_json)
        return _flushed(_exit_of(phase))
    with _unless_gone(sys.stderr):
        print(
            f"interrupted ({exc.signal_name}): {trials_killed_by_interrupt(exc.killed, unstarted_given_back(store, name))}; "
            f"the experiment is free for another run. Run the same command to resume.",
            file=sys.stderr,
        )
    if as_json:  # where it stands, for a script that reads the output
        with _unless_gone(sys.stdout):
            _print_summary(summary, True)
    return _flushed(signal_exit)


def _record_interrupt_before_the_claim(store: Store, name: str, summary: dict[str, Any], signal_name: str) -> bool:
    """A run stopped after its pre-flight created the experiment but before it claimed it (a
    kfp-local run's pipeline claims in its first step, some 10 s later) recorded nothing: its
    ``--json`` said ``ExperimentRunning`` and the status "Experiment is running" (QA automation,
    session 37). The status now says the run was interrupted, as a run that had claimed records
    it; not where a run drives the experiment now (its status is its own), nor where a status
    says so already (the claimed run's, with its count of trials stopped). True if written."""
    from kfp_tune.core import claims
    from kfp_tune.core.decision import RUNNING, interrupted
    from kfp_tune.core.records import DamagedRecord, ExperimentRecords, utc_now
    from kfp_tune.core.state import load_state
    from kfp_tune.steps.decide_stop import write_status

    if (summary["status"], summary["reason"]) != (ExperimentPhase.RUNNING, RUNNING):
        return False
    records = ExperimentRecords(store, name)
    try:
        current = claims.latest_claim(records)
        if current is not None and current.live(time.time()):
            return False
        state = load_state(records)
    except DamagedRecord:  # the summary names it; the next run refuses it
        return False
    write_status(records, state, interrupted(state, signal_name, 0), utc_now())
    return True


def _stopped_by_damage(exc: DamagedRecord) -> KfpTuneError:
    """A damaged record met mid-run: the run stopped; only a damaged claim keeps the experiment
    from the next run. A runtime failure, exit 1 as the read commands give for a damaged record
    (the pre-flight's refusal before anything runs is exit 2, as a conflict's is)."""
    from kfp_tune.core.records import ExperimentRecords

    free = "" if ExperimentRecords.claim_seq_of(exc.key) is not None else " (the experiment is free for another run)"
    return KfpTuneError(f"{exc}; the run stopped{free}: repair or remove the record")


def _summary_exit(store: Store, name: str, ended: dict[str, Any] | None, as_json: bool) -> int:
    """The ended run's summary printed, and its exit status; ``ended``: what the late look after
    a Ctrl-C read (phase and reason), said alone if the summary cannot be read."""
    from kfp_tune.core.errors import StoreError, StoreInputError
    from kfp_tune.reports import summarize

    try:
        summary = summarize(store, name)
    except StoreInputError as exc:  # the run had claimed the experiment: it ended
        raise _refused_mid_run(exc) from None
    except StoreError as exc:
        if ended is None:
            raise
        _say_unread_summary(exc, store, name, ended, as_json)
        return _exit_of(ended["status"])
    _print_summary(summary, as_json)
    return _exit_of(summary["status"])


def _say_unread_summary(exc: Exception, store: Store, name: str, ended: dict[str, Any], as_json: bool) -> None:
    """A late look that read the status record but not the summary: what it read, and where to
    look (late look: the retry window is cut to its second, a blip is no error)."""
    with _unless_gone(sys.stderr):
        print(f"the summary could not be read ({exc}); kfp-tune status {name} --store {store.uri} shows it", file=sys.stderr)
    if as_json:  # _print_summary's keys, a script reads one shape: null where the look did not read it
        known = {"experiment": name, "trials": None, "succeeded": None, "failed": None, "best_trial": None} | ended
        print(json.dumps({key: known[key] for key in SUMMARY_JSON_KEYS}, sort_keys=True))


def _exit_of(status: str) -> int:
    """An ended experiment's exit status: 0 for Succeeded, 1 for anything else."""
    return EXIT_OK if status == ExperimentPhase.SUCCEEDED else EXIT_FAILED


LATE_SIGNAL_LOOK_SECONDS = 1.0
"""How long a Ctrl-C the run no longer answered waits for the store to say whether the
experiment had ended (:func:`_ended_before_the_signal`): the person wants the terminal back, not
the store's retry window (300 s)."""


def _ended_before_the_signal(store: Store, name: str) -> dict[str, Any] | None:
    """The saved status (phase, reason) of an experiment that had ended (Succeeded or Failed)
    when a Ctrl-C came that the run no longer answered (the progress lines still catching up),
    else None: a run that ended exits as one, not as an interrupted one (130, "interrupted").
    The rule a stop the run answered is said by (:func:`kfp_tune.api.ended_when_stopped`): one
    read of the status record, the one whose phase ``run``'s summary shows, not the whole
    experiment (a summary of 1,100 trials is some 300 requests, more than a second of a store
    answering in 5 ms); with that record absent or unreadable (an older writer's, damaged), the
    phase derived from the trials, as ``status`` does. At most :data:`LATE_SIGNAL_LOOK_SECONDS`
    in all (a store that is not answering is not asked; one that stops gets no retry window,
    and a connection that hangs is not waited for): unknown is None."""
    import threading

    from kfp_tune.api import ended_when_stopped
    from kfp_tune.core.errors import StoreError
    from kfp_tune.stores.retry import RetryingStore

    if isinstance(store, RetryingStore):
        if store.outage_left() is not None:  # down: the run is over all the same, and says it was interrupted at once
            return None
        store.cut_window(LATE_SIGNAL_LOOK_SECONDS)  # nothing reads the store after this look but the summary of an ended run
    looked: list[tuple[str, str]] = []

    def look() -> None:
        with contextlib.suppress(StoreError):  # unread: unknown
            ended = ended_when_stopped(store, name)
            if ended is not None:
                looked.append(ended)

    looking = threading.Thread(target=look, name="late-signal-look", daemon=True)
    looking.start()
    looking.join(LATE_SIGNAL_LOOK_SECONDS)
    return {"status": looked[0][0], "reason": looked[0][1]} if looked else None


def _claimed_by_this_run(store: Store, name: str, since: float) -> bool:
    """Whether this run had claimed the experiment when the store refused it: the newest claim
    is this process's, made ``since`` the run began (its release may have been refused too). A
    refusal before it (a read-only key meeting the claim's own write) started nothing, and stays
    the user's settings, exit 2. A store that now refuses to be read as well, which the
    pre-flight read, changed since: counted as mid-run."""
    from kfp_tune.core import claims
    from kfp_tune.core.errors import StoreError
    from kfp_tune.core.records import DamagedRecord, ExperimentRecords
    from kfp_tune.stores.retry import unretried

    try:  # one look, no retry window: the store has just answered
        return claims.held_by_this_process(ExperimentRecords(unretried(store), name), since)
    except (StoreError, DamagedRecord):
        return True


def _refused_mid_run(exc: KfpTuneError) -> KfpTuneError:
    """A store that refused a run after its pre-flight read and wrote it (a key revoked or
    rotated mid-run, a policy changed): a runtime failure, exit 1 as for an outage, not the
    user's input (exit 2, as a wrong key from the start is), and said as an outage is: the same
    command resumes, and from another machine the claim this run could not release needs
    --take-over or its TTL."""
    from kfp_tune.core.claims import ttl_from_env

    ttl = ttl_from_env()
    stale = f"{ttl / 60:g} minutes" if ttl >= 60 else f"{ttl:g} s"
    return KfpTuneError(
        f"{exc}; the store refused this run after it had started (its credentials revoked or replaced, or what they may do changed): "
        f"once it accepts them, run the same command again (a run resumes where it stopped); from another machine, add --take-over, "
        f"as the claim this run could not release holds the experiment until {stale} after its last beat"
    )


def _flushed(code: int) -> int:
    """``code``, once stdout and stderr are flushed, or found gone (an interrupted run's
    lines, and the stop notice said when the signal came, are all out or dropped)."""
    for stream in (sys.stdout, sys.stderr):
        with _unless_gone(stream):
            stream.flush()
    return code


def _is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal, as tqdm decides whether to show its bar."""
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


SUMMARY_JSON_KEYS = ("experiment", "status", "reason", "trials", "succeeded", "failed", "best_trial")
"""The keys ``run --json`` always prints, whether the summary was read whole or only the status
record was (a late Ctrl-C whose summary read failed: null where unknown)."""


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    from kfp_tune.progress import objective_first, visible
    from kfp_tune.reports import trial_breakdown

    if as_json:
        extra = {k: summary[k] for k in ("metrics_unavailable", "early_stopped", "killed", "given_back", "damaged", "last_failed_trial") if summary.get(k)}  # only when there is something to say
        print(json.dumps({**{k: summary[k] for k in SUMMARY_JSON_KEYS}, **extra}, sort_keys=True))
        return

    def print_visible(line: str) -> None:
        print(visible(line))  # every line here quotes the store's values: a control character in one is shown escaped

    print_visible(f"experiment {summary['experiment']}: {summary['status']} ({summary['reason']})")
    print_visible(f"  {summary['message']}")
    given_back = f", {summary['given_back']} interrupted and given back" if summary.get("given_back") else ""
    ended = trial_breakdown(summary["succeeded"], summary["early_stopped"], summary["failed"], summary["killed"], metrics_unavailable=summary["metrics_unavailable"])
    print_visible(f"  trials: {summary['trials']} ({ended}, {summary['running']} not finished{given_back})")
    best = summary["best_trial"]
    if best:
        params = ", ".join(f"{k}={v}" for k, v in shown_assignment(best["parameters"]).items())  # an enas architecture in words
        metrics = objective_first(best["metrics"], summary["objective"])
        print_visible(f"  best trial: {best['name']}  {metrics}")
        print_visible(f"    parameters: {params}")
    elif summary["status"] == ExperimentPhase.SUCCEEDED:  # Katib's end at maxTrialCount, whatever the trials did
        print_visible("  best trial: none, no trial that succeeded or stopped early reported the objective (a Failed trial's value is not ranked, as in Katib); "
                      "spec.maxFailedTrialCount makes failed trials fail the experiment, as in Katib")
    failed = summary.get("last_failed_trial")
    if failed:
        # why trials fail, without opening the store: a run where every trial failed says nothing else
        print_visible(f"  last failed trial: {failed['name']}  {': '.join(p for p in (failed['reason'], failed['message']) if p)}")
        print_visible(f"    its log: kfp-tune logs {summary['experiment']} {failed['name']} --store {summary['store']}")
    print_visible(f"  store: {summary['store']}")


def _metric_value(value: float | str, digits: int) -> str:
    """A number with its column's digits (report_views.column_digits, as the report's table, at
    least 6); a text metric (darts' genotype) as the trial wrote it."""
    from kfp_tune.report_views import format_number

    return value if isinstance(value, str) else format_number(value, digits)


def _metric_cell(row: dict[str, Any], metric: str, digits: int) -> str:
    """A trial row's value of ``metric`` as ``trials`` shows it: in parentheses for a trial Katib
    has no observation of (not ``TrialStatus.ranked``: Failed, Killed), what it reported, not a result."""
    if metric not in row["metrics"]:
        return ""
    value = _metric_value(row["metrics"][metric], digits)
    return value if TrialStatus(row["status"]).ranked else f"({value})"


def _compile_os_error(exc: OSError, given: str, output: Path) -> str:
    """An OSError while compiling, said of the file it was about: the output (the folder went
    away, a full disk, no permission), which is written through a temporary file beside it
    (core.output_file), or another file the build read, never the output's fault when it was not."""
    about = exc.filename
    folder = os.path.dirname(os.path.abspath(output))
    if about is None or os.path.abspath(os.fsdecode(about)) in (os.path.abspath(output), folder) or os.path.dirname(os.path.abspath(os.fsdecode(about))) == folder:
        return f"-o/--output {given}: cannot write it: {exc.strerror or exc}"
    return f"cannot compile the pipeline: {os.fsdecode(about)}: {exc.strerror or exc}"


def cmd_compile(args: argparse.Namespace) -> int:
    import warnings

    from kfp_tune.launchers.runtime_image import RuntimeImageWarning
    from kfp_tune.pipelines.builder import DEFAULT_CLUSTER_STORE, ClusterStoreWarning, LocalTrialResourcesWarning, compile_pipeline

    told = (RuntimeImageWarning, LocalTrialResourcesWarning)  # the CLI's own warning: lines
    _refuse_compiled(args.experiment, "compile", "it is compiled already: kfp-tune submit sends it as it is")
    experiment = _load(args.experiment, templates=args.trial_templates)
    _check_runnable(experiment)
    _rounds(args.rounds)
    output = _output_file("-o/--output", args.output, args.experiment)
    if args.store is not None:
        from kfp_tune.stores import check_store_uri

        _check("--store", check_store_uri, args.store)
    launcher_config = _json_object("--launcher-config", args.launcher_config) if args.launcher_config else None
    if args.store is not None:
        from kfp_tune.pipelines.builder import compiled_store_problem

        problem = _check("--launcher-config", lambda config: compiled_store_problem(args.store, config), launcher_config)
        if problem:  # kfp.local on this machine can run it so; submit and schedule refuse it
            print(f"warning: --store {problem}", file=sys.stderr)
    if launcher_config:  # {} is none given, as compile_pipeline takes it: the default below
        from kfp_tune.launchers import check_experiment, launcher_from_config

        launcher = _check("--launcher-config", launcher_from_config, launcher_config)  # refuse a bad config now, not in the cluster
        _check("--launcher-config", lambda config: check_experiment(launcher_from_config(config), experiment), launcher_config)
        _note_unmounted_paths(launcher, experiment, _mounts_key)  # a local launcher's trials run on the machine that runs kfp.local
    else:
        _note_default_launcher(experiment)
    try:
        with warnings.catch_warnings(record=True) as caught:  # a folder store: warned above, in the CLI's words
            warnings.simplefilter("ignore", ClusterStoreWarning)
            for category in told:
                warnings.simplefilter("always", category)
            path = compile_pipeline(
                experiment, output, rounds=args.rounds, store_uri=args.store or DEFAULT_CLUSTER_STORE, object_store=args.object_store, launcher_config=launcher_config
            )
    except OSError as exc:
        raise UsageError(_compile_os_error(exc, args.output, output)) from None
    _show_warnings(caught or [], told)
    from kfp_tune.pipelines.submit import compiled_trials_namespace_note

    trials_note = compiled_trials_namespace_note(experiment, launcher_config)
    if trials_note:  # submit and schedule say it for the namespace they send to; an upload in the KFP UI hears it here
        print(f"note: {trials_note}", file=sys.stderr)
    _note_plugins_the_image_needs(experiment, args.store or DEFAULT_CLUSTER_STORE)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return EXIT_OK


def _note_plugins_the_image_needs(source: Any, store_uri: str | None) -> None:
    """compile's, submit's and schedule's note of each plug-in of this process the experiment's
    pipeline needs in its image (:func:`kfp_tune.plugins.plugins_the_image_needs`); a package
    sent as it is names none here."""
    from kfp_tune.launchers.runtime_image import RUNTIME_IMAGE
    from kfp_tune.plugins import plugins_the_image_needs

    if isinstance(source, Experiment):
        for note in plugins_the_image_needs(source, store_uri, RUNTIME_IMAGE):
            print(f"note: {note}", file=sys.stderr)


def _note_default_launcher(experiment: Experiment) -> None:
    """Compiled without --launcher-config, the pipeline's launcher_config parameter defaults to
    the Kubernetes launcher; an experiment that one refuses (pbt's checkpoint folders need a
    volume) still compiles, as the run may pass another config, but the user hears it now."""
    from kfp_tune.launchers import check_experiment, launcher_from_config
    from kfp_tune.pipelines.builder import DEFAULT_LAUNCHER_CONFIG

    try:
        check_experiment(launcher_from_config(dict(DEFAULT_LAUNCHER_CONFIG)), experiment)
    except ValueError as exc:
        print(
            f"note: the run's launch step will refuse this experiment with the pipeline's default launcher_config "
            f"{json.dumps(DEFAULT_LAUNCHER_CONFIG)}: {exc}; give --launcher-config now or launcher_config when the run starts",
            file=sys.stderr,
        )


def _open(args: argparse.Namespace, must_exist: bool = True) -> Store:
    """The store of a command that reads an experiment by NAME, the name checked first; unless
    ``must_exist`` is False, an experiment not in it is refused here, with the close names."""
    _experiment_name(args.name)
    store = _open_store(args.store, look=True)
    if must_exist and not _in_store(store, args.name):
        raise not_found(store, args.name)
    return store


def _in_store(store: Store, name: str) -> bool:
    from kfp_tune.core.records import ExperimentRecords

    return store.get(ExperimentRecords(store, name).experiment_key()) is not None


def _local_slots(experiment: Experiment) -> None:
    """A local run keeps a process for each trial running at once: parallelTrialCount is bounded here, as Katib's
    cluster is not there to queue them."""
    from kfp_tune.api import MAX_LOCAL_SLOTS

    slots = experiment.spec.parallel_trial_count or 1
    if slots > MAX_LOCAL_SLOTS:
        raise SpecError([FieldError("spec.parallelTrialCount", f"a local run keeps a process for each trial running at once; expected at most {MAX_LOCAL_SLOTS} here, got {slots}")])


def cmd_status(args: argparse.Namespace) -> int:
    from kfp_tune.reports import NO_RUN_DRIVES, damaged_lines, driving_run, experiment_status, summarize

    store = _open(args)
    if args.json:  # Katib's Experiment .status, for tools written against Katib
        status, damaged = experiment_status(store, args.name)
        for line in damaged_lines(damaged):  # left out; the rest still shows
            print(line, file=sys.stderr)
        finished = any(c.get("type") in (ExperimentPhase.SUCCEEDED, ExperimentPhase.FAILED) and c.get("status") == "True" for c in status.get("conditions") or [])
        if not finished:  # kfp-tune's own field: whether a run drives it (a killed run leaves its last status, Running)
            status["drivenBy"] = driving_run(store, args.name)
        print(json.dumps(status, sort_keys=True))
        return EXIT_OK
    summary = summarize(store, args.name)
    for line in damaged_lines({item["key"]: item["problem"] for item in summary["damaged"]}):  # left out; the rest still shows
        print(line, file=sys.stderr)
    _print_summary(summary, args.json)
    if summary["status"] not in (ExperimentPhase.SUCCEEDED, ExperimentPhase.FAILED) and driving_run(store, args.name) is None:  # a killed run left it saying Running
        print(f"  {NO_RUN_DRIVES}")
    return EXIT_OK


def cmd_trials(args: argparse.Namespace) -> int:
    """One row per trial; ``--status``, ``--sort-by`` and ``--limit`` choose the rows, in the
    table and in ``--json`` alike (the columns stay those of every trial)."""
    from kfp_tune.progress import table_lines
    from kfp_tune.report_views import TRIALS_DIGITS, column_digits
    from kfp_tune.reports import damaged_lines, load_trials

    statuses, limit = _chosen(args)
    store = _open(args)
    table_of = load_trials(store, args.name)
    rows = [r for r in table_of.rows if statuses is None or r["status"] in statuses]
    if args.sort_by == "objective":
        rows = _best_first(rows, table_of.objective, args.name)
    rows = rows[:limit]
    for line in damaged_lines(table_of.damaged):  # left out; the rest still shows
        print(line, file=sys.stderr)
    if args.json:
        print(json.dumps(rows, sort_keys=True))
        return EXIT_OK
    params, metrics = table_of.parameter_names, table_of.metric_names  # as the report orders them
    numbers = {m: [v for r in rows for v in [r["metrics"].get(m)] if isinstance(v, (int, float)) and not isinstance(v, bool)] for m in metrics}
    digits = {m: column_digits(numbers[m], least=TRIALS_DIGITS) for m in metrics}  # values that 12 digits tell apart never read alike
    labels = sorted({k for r in rows for k in r.get("labels", {})})  # the algorithm's (pbt: generation, parent), by their last part
    # metrics before parameters, as the report's table: with a dozen parameters the objective was
    # the last column of a 330-character line
    header = ["name", "status", *(k.rsplit("/", 1)[-1] for k in labels), *metrics, *params]
    stopped_by = {r["name"]: table_of.stopped_by[r["name"]] for r in rows if r["name"] in table_of.stopped_by}  # EarlyStopped*: its rule
    table = [header] + [
        [r["name"], " ".join([r["status"] + ("*" if r["name"] in stopped_by else ""),
                              *(f"({word})" for field, word in (("damaged", "damaged"), ("newer", "newer record")) if field in r)]),
         *(r.get("labels", {}).get(k, "") for k in labels),
         *(_metric_cell(r, m, digits[m]) for m in metrics), *(shown.get(p, "") for shown in [shown_assignment(r["parameters"])] for p in params)]
        for r in rows
    ]
    for line in table_lines(table, getattr(sys.stdout, "encoding", None)):
        print(line)
    for name, said in stopped_by.items():  # under the table: in the status cell it widened every row
        print(f"* {name}: {said}")
    return EXIT_OK


def _params(values: list[str]) -> dict[str, str]:
    """--param NAME=VALUE pairs as text: submit converts each to the type the pipeline declares
    for it, or refuses it (``_submitting``)."""
    params: dict[str, str] = {}
    for value in values:
        name, sep, raw = value.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {shown(value)}: expected NAME=VALUE")
        params[name] = raw
    return params


@contextlib.contextmanager
def _submitting() -> Any:
    """Around submit and schedule: arguments the pipeline refuses as the CLI's error naming each
    --param (exit 2), kfp's own printed lines in the debug log, and the warnings that trials go to
    another namespace, that the run's namespace may not write its store, or that the steps' image
    names another kfp-tune version, on stderr, once."""
    import warnings

    from kfp_tune.launchers.runtime_image import RuntimeImageWarning
    from kfp_tune.pipelines.submit import ArgumentsRefused, StoreAccessWarning, TrialsNamespaceWarning

    told = (TrialsNamespaceWarning, StoreAccessWarning, RuntimeImageWarning)
    caught: list[warnings.WarningMessage] = []
    printed = io.StringIO()
    try:
        # kfp prints its links ("Experiment details: URL", "Run details: URL") where a library would
        # log: left to -vv's debug log, so that stdout is kfp-tune's own line (the same URL), or its JSON
        with contextlib.redirect_stdout(printed), warnings.catch_warnings(record=True) as recorded:
            caught = recorded if recorded is not None else []
            for category in told:
                warnings.simplefilter("always", category)
            try:
                yield
            except ArgumentsRefused as exc:
                raise UsageError("; ".join(f"--param {e.path.removeprefix('arguments.')}: {e.message}" for e in exc.errors)) from None
    finally:
        for line in printed.getvalue().splitlines():
            logging.getLogger(__name__).debug("kfp: %s", line)
        # shown after recording ended: shown while it records, each would be recorded again,
        # and the loop over them would never end
        _show_warnings(caught, told)


def _show_plugin_failures() -> None:
    """Each plug-in that failed to load as the package loaded, one ``warning:`` line (kept for
    here by ``kfp_tune``: the command's lines are its own only from here); once per process."""
    while kfp_tune.plugin_failures_for_the_command:
        print(f"warning: {kfp_tune.plugin_failures_for_the_command.pop(0)}", file=sys.stderr)


def _show_warnings(caught: list[Any], told: tuple[type[Warning], ...]) -> None:
    """Warnings recorded around a command: those of the ``told`` kinds as the CLI's own
    ``warning:`` lines, any other as Python shows it."""
    import warnings

    for warning in caught:
        if issubclass(warning.category, told):
            print(f"warning: {warning.message}", file=sys.stderr)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)


def _token_client(args: argparse.Namespace) -> Any:
    """A kfp.Client that sends the --token-file's token (None without it); the token is never
    repeated in a message."""
    if args.token_file is None:
        return None
    if not args.token_file:  # an unset variable: Path("") would be the working folder
        raise UsageError("--token-file: expected a file, got an empty string")
    try:
        token = Path(args.token_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"--token-file {shown(args.token_file)}: cannot read it: {getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    if not token or any(c.isspace() for c in token):
        raise UsageError(f"--token-file {shown(args.token_file)}: expected one token on one line (e.g. from kubectl create token), got {'nothing' if not token else 'several words'}")
    from kfp_tune.pipelines.submit import kfp_ca_cert, new_kfp_client

    ca_cert = kfp_ca_cert(args.host)  # SSL_CERT_FILE / REQUESTS_CA_BUNDLE, as without --token-file
    return _FirstUse(lambda: new_kfp_client(args.host, args.namespace, existing_token=token, ssl_ca_cert=ca_cert))


class _FirstUse:
    """A client built at its first use: kfp.Client asks the host for its health when built, so
    built at once it reached out before the experiment and --param were checked, and outside
    submit's handling of a host that cannot be reached (``pipelines.submit.kfp_api_errors``)."""

    def __init__(self, build: Any) -> None:
        self._build = build
        self._built: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and the like look for these: not the client's
            raise AttributeError(name)
        if self._built is None:
            self._built = self._build()
        return getattr(self._built, name)


KFP_HOST_VARIABLE = "KF_PIPELINES_ENDPOINT"
"""Where kfp.Client takes the host from when none is given (kfp/client/client.py ``Client.__init__``)."""


def _check_host(host: str | None) -> None:
    """``--host`` as :func:`~kfp_tune.pipelines.submit.check_host` checks ``host`` (credentials,
    a query, no http:// or https://), named ``--host``; with none, ``$KF_PIPELINES_ENDPOINT``
    without http:// or https://, where kfp.Client takes the host from, naming the variable (its
    value is not repeated: it may hold credentials)."""
    from kfp_tune.pipelines.submit import check_host, host_scheme_problem

    try:
        check_host(host)
    except SpecError as exc:
        raise UsageError("; ".join(f"--{e.path}: {e.message}" for e in exc.errors)) from None
    given = os.environ.get(KFP_HOST_VARIABLE)
    problem = host_scheme_problem(given, example="http://localhost:8080") if host is None and given else ""
    if problem:
        raise UsageError(f"${KFP_HOST_VARIABLE}: {problem}")


def _refuse_kfp_macros(params: Mapping[str, Any]) -> None:
    """A KFP run macro in a ``--param`` refused as one, before the checks of what the text says,
    by the rule submit() applies (:func:`kfp_tune.pipelines.submit.kfp_macro_problems`), which
    words it for each parameter."""
    from kfp_tune.pipelines.submit import kfp_macro_problems

    problems = [f"--param {e.path.removeprefix('arguments.')}: {e.message}" for e in kfp_macro_problems(params)]
    if problems:
        raise UsageError("; ".join(problems))


def _submit_options(args: argparse.Namespace) -> dict[str, Any]:
    import warnings

    from kfp_tune.pipelines.builder import DEFAULT_OBJECT_STORE

    # kfp.Client warns on every construction that it needs KFP 2.x; we compile for KFP 2.x.
    warnings.filterwarnings("ignore", message="This client only works with Kubeflow Pipeline", category=FutureWarning)
    from kfp_tune.pipelines.submit import check_cluster_store, cluster_store_default
    from kfp_tune.stores import check_store_uri

    _rounds(args.rounds)
    _check_host(args.host)
    if args.namespace is not None:
        _label("--namespace", args.namespace)
    if args.service_account is not None:
        _label("--service-account", args.service_account, subdomain=True)
    if args.store is not None:
        _check("--store", check_store_uri, args.store)
        _check("--store", check_cluster_store, args.store)
    params = _params(args.param)
    _refuse_kfp_macros(params)
    if isinstance(params.get("store_uri"), str):
        _check("--param store_uri", check_store_uri, params["store_uri"])
        _check("--param store_uri", check_cluster_store, params["store_uri"])
    if isinstance(params.get("s3_endpoint"), str) and params["s3_endpoint"]:
        from kfp_tune.stores.s3 import check_s3_endpoint

        _check("--param s3_endpoint", check_s3_endpoint, params["s3_endpoint"])
    if isinstance(params.get("launcher_config"), str) and params["launcher_config"]:
        from kfp_tune.launchers import launcher_from_config

        _check("--param launcher_config", launcher_from_config, _json_object("--param launcher_config", params["launcher_config"]))
    if getattr(args, "cron", None) is not None:
        from kfp_tune.pipelines.submit import MAX_CONCURRENCY, check_cron

        try:
            check_cron(args.cron)
        except SpecError as exc:  # each field's problem, named
            raise UsageError("--cron: " + "; ".join(f"{e.path.removeprefix('cron ')}: {e.message}" if e.path != "cron" else e.message for e in exc.errors)) from None
        if not 1 <= args.max_concurrency <= MAX_CONCURRENCY:
            raise UsageError(f"--max-concurrency: expected 1 to {MAX_CONCURRENCY} (the KFP API's range), got {args.max_concurrency}")
    if _is_compiled(args.experiment):  # sent as it is: what only compiling uses has no place
        from kfp_tune.pipelines.submit import declared_parameters

        how = (
            "(its run parameters are set with --param, e.g. --param store_uri=s3://bucket/prefix)" if "store_uri" in declared_parameters(args.experiment)
            else "(its run parameters are set with --param; it has no store_uri parameter, so its store is the one it was built with)"
        )
        for flag, given in (("--rounds", args.rounds), ("--store", args.store), ("--object-store", args.object_store), ("--trial-templates", args.trial_templates)):
            if given:
                raise UsageError(f"{flag}: for an experiment, which is compiled here; {args.experiment} is a compiled pipeline, sent as it is {how}")
    elif args.store is None and "store_uri" not in params and args.namespace:
        store = cluster_store_default(args.namespace)
        print(f"note: --namespace {args.namespace}: the run keeps its records in {store}, where multi-user KFP lets that namespace's "
              f"store credentials write (--store chooses another); read them with --store {store}", file=sys.stderr)
    return dict(
        host=args.host,
        namespace=args.namespace,
        kfp_experiment=args.experiment_name,
        arguments=params,
        rounds=args.rounds,
        store_uri=args.store,
        object_store=args.object_store or DEFAULT_OBJECT_STORE,
        service_account=args.service_account,
        client=_token_client(args),  # built when submit first uses it: after every check, where an unreachable host is one clear error
    )


def _read_package(path: str) -> PackageReading:
    """What EXPERIMENT is (``pipelines.submit.read_package``: a compiled pipeline package, a
    broken one, or an experiment), read once: submit and schedule send a package as it is, as
    their Python forms do; a file that is no YAML is left to the experiment loader, which says
    where."""
    from kfp_tune.pipelines.submit import PackageReading, read_package

    read = read_package(path)
    return PackageReading() if read.unreadable else read


def _is_compiled(path: str) -> bool:
    """Whether EXPERIMENT is a compiled pipeline package, which submit and schedule send as it
    is; a broken one is refused here, as validate, run and compile refuse it."""
    read = _read_package(path)
    if read.broken:
        raise UsageError(f"{path}: {read.broken}")
    return read.document is not None


def _source(args: argparse.Namespace) -> Any:
    """What submit and schedule send: a compiled pipeline's path, or the experiment, loaded
    (with the notes of the settings it never reads, as ``run`` prints them)."""
    if _is_compiled(args.experiment):
        return args.experiment
    from kfp_tune.pipelines.submit import refuse_unreadable_source

    try:
        experiment = _load(args.experiment, templates=args.trial_templates)
    except SpecError:
        refuse_unreadable_source(args.experiment)  # not YAML at all: said as for a package, with what either should be
        raise
    _note_unread_settings(experiment)
    return experiment


def cmd_submit(args: argparse.Namespace) -> int:
    from kfp_tune.pipelines.submit import submit

    options = _submit_options(args)
    with _submitting():
        source = _source(args)
        submitted = submit(source, run_name=args.run_name, **options)
    _note_plugins_the_image_needs(source, submitted.store)
    if args.json:
        print(json.dumps({"run_id": submitted.id, "kfp_experiment_id": submitted.kfp_experiment_id, "url": submitted.url, "store": submitted.store}, sort_keys=True))
    else:
        print(f"run {submitted.id} started: {submitted.url}")
    return EXIT_OK


def cmd_schedule(args: argparse.Namespace) -> int:
    from kfp_tune.pipelines.submit import SubmitArgumentError, fresh_experiment_of, schedule

    options = _submit_options(args)
    fresh_flag = True if args.fresh_experiment else None  # not given: the --param fresh_experiment, if any, decides
    with _submitting():
        source = _source(args)
        try:
            submitted = schedule(
                source, args.cron, name=args.name, max_concurrency=args.max_concurrency, fresh_experiment=fresh_flag,
                allow_duplicate=args.allow_duplicate, **options,
            )
        except SubmitArgumentError as exc:  # max_concurrency with a continued experiment, named as the flag
            if [e.path for e in exc.errors] != ["max_concurrency"]:
                raise
            raise UsageError(f"--max-concurrency {exc.errors[0].message}") from None
        fresh = fresh_experiment_of(fresh_flag, options["arguments"])
    _note_plugins_the_image_needs(source, submitted.store)
    if args.json:
        print(json.dumps({
            "recurring_run_id": submitted.id, "kfp_experiment_id": submitted.kfp_experiment_id, "url": submitted.url, "store": submitted.store,
            "cron": args.cron, "fresh_experiment": fresh,
        }, sort_keys=True))
        return EXIT_OK
    mode = "a fresh experiment per run" if fresh else "every run continues the same experiment"
    print(f"recurring run {submitted.id} created ({args.cron!r}, {mode}): {submitted.url}")
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    from kfp_tune.core.template import kubernetes_yaml
    from kfp_tune.core.trials import trial_namespace
    from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest

    experiment = _load(args.experiment, templates=args.trial_templates, need_template=True)
    namespace = args.namespace if args.namespace is not None else trial_namespace(experiment)  # as a local run's ${trialSpec.Namespace}
    _label("--namespace" if args.namespace is not None else "metadata.namespace", namespace)  # named where the user wrote it
    if args.trial_name:
        _label("--trial-name", args.trial_name)
    assignment = {}
    for value in args.assign:
        name, sep, raw = value.partition("=")
        if not sep or not name:
            raise UsageError(f"--assign {shown(value)}: expected NAME=VALUE")
        assignment[name] = raw
    data = _json_object("--launcher-config", args.launcher_config) if args.launcher_config else {}
    if "namespace" in data:
        if not isinstance(data["namespace"], str):  # null, 7: said as the JSON wrote it, not as Python's None
            raise UsageError(f"--launcher-config namespace: expected a Kubernetes namespace name, a string, got {json.dumps(data['namespace'])[:80]}")
        _label("--launcher-config namespace", data["namespace"])
    try:
        config = KubernetesConfig.from_dict({"namespace": namespace, **data})
        manifest = render_manifest(experiment, assignment, args.trial_name, config)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    head: dict[str, Any] = {key: manifest[key] for key in ("apiVersion", "kind", "metadata") if key in manifest}
    print(kubernetes_yaml({**head, **manifest}), end="")
    return EXIT_OK


KEPT_SHOWN = 10
"""How many kept resources cleanup names in its sentence (the commands after it take them all)."""
KEPT_PER_COMMAND = 20
"""How many names one ``kubectl delete`` line of cleanup's carries, when no label selector selects
exactly the kept resources: hundreds on one line cannot be read or copied."""


CLEANUP_NEEDS = "list and delete on the trial kinds and get and delete on configmaps"
"""The RBAC ``kfp-tune cleanup`` needs of the person who runs it, in the trials' namespace (the
guide's RBAC paragraph says the same)."""


def _kept_delete_commands(namespace: str, kept: list[tuple[str, str]], selectors: dict[str, str]) -> list[str]:
    """The ``kubectl delete`` commands that delete the kept (resource, name) pairs: a kind's
    label selector where ``selectors`` gives one, else their names, a few a line."""
    commands = [f"kubectl delete -n {namespace} {resource} -l {selector}" for resource, selector in sorted(selectors.items())]
    named = [f"{resource}/{name}" for resource, name in kept if resource not in selectors]
    commands += [f"kubectl delete -n {namespace} {' '.join(named[at:at + KEPT_PER_COMMAND])}" for at in range(0, len(named), KEPT_PER_COMMAND)]
    return commands


def _no_run_starts_a_trial(state: ExperimentState) -> bool:
    """Whether no run of the experiment can start another trial: it completed and Katib never
    restarts it (resumePolicy Never). Only then does the experiment's label selector select no
    more than the trials kept now; a resumed run's trials would be selected too."""
    from kfp_tune.steps.prepare import RESTARTABLE_POLICIES

    return state.outcome() is not None and (state.experiment.spec.resume_policy or "Never") not in RESTARTABLE_POLICIES


def cmd_cleanup(args: argparse.Namespace) -> int:
    """Sweep by label selector; trials the store has not seen end are kept (a run may be
    following them), and an ended trial's resource that ``retain`` kept goes too: Katib keeps
    such a resource only as long as its Trial (trial_controller.go ``reconcileJob`` deletes it
    at completion unless retainRun; ``getDesiredJobSpec`` makes the Trial its controller, so
    deleting the experiment deletes it). An experiment no longer in the store (``kfp-tune
    delete``) has no trial a run of this store follows: all its resources are left over. A
    person waits at the terminal: the API server is retried for ``LOOK_RETRY_SECONDS``, not a
    run's ``apiRetrySeconds``."""
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import load_state
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
    from kfp_tune.launchers.kubernetes.launcher import PersonsCall

    if args.namespace is not None:
        _label("--namespace", args.namespace)
    store = _open(args, must_exist=False)
    missing: ExperimentNotFound | None = None
    try:
        state = load_state(ExperimentRecords(store, args.name))
    except ExperimentNotFound:
        state, missing = None, not_found(store, args.name)
    if state is None and args.namespace is None:
        said = str(missing)  # list's and status's words first: most often a mistyped name
        raise UsageError(
            f"{said}{' ' if said.endswith('?') else '. '}To delete the trial resources of an experiment no longer in the store "
            "(kfp-tune delete removed it), give --namespace, the namespace its trials ran in"
        )
    unrecorded, on_a_cluster, local = _where_trials_ran(state) if state is not None else (0, 0, 0)
    if local and not unrecorded and not on_a_cluster:
        print(f"nothing to delete: every trial of experiment {args.name!r} in {masked_url(store.uri)} ran where its launcher makes no "
              "Kubernetes resource (a local process: kfp-tune run, tune(), a launcher_config of kind local), so none is left on a cluster; "
              "no cluster was asked")
        return EXIT_OK
    namespace = args.namespace or (_recorded_namespace(state, store) if state is not None else None) or ""
    config = KubernetesConfig.from_dict({"namespace": namespace, "apiRetrySeconds": LOOK_RETRY_SECONDS})  # as logs: else in-cluster's, else default
    launcher = KubernetesLauncher(config)
    launcher.persons_call = PersonsCall("kfp-tune cleanup", CLEANUP_NEEDS)  # a 403 is the person's, not the run's service account's
    try:
        _ = launcher.api  # the cluster's configuration, before anything is read or deleted
    except Exception as exc:
        raise UsageError(_no_cluster_to_ask(
            "no Kubernetes cluster configured", f"{type(exc).__name__}: {str(exc)[:200]}", "one",
            "set KUBECONFIG or write ~/.kube/config, or run kfp-tune cleanup inside the cluster", args.name, unrecorded, on_a_cluster,
        )) from None
    running: set[str] = set()
    recorded: set[str] = set()

    def not_ended() -> set[str]:
        """Read again once the resources are listed: a trial started since the first read has
        its record by then (the sweep's docstring), and is kept. Every trial recorded is read
        with them: the sweep keeps what is none of them (another store's experiment of the name)."""
        if state is not None:
            trials = load_state(ExperimentRecords(store, args.name)).trials
            running.update(t.name for t in trials if t.ended is None)
            recorded.update(t.name for t in trials)
        return running

    if state is not None and args.namespace:
        note = _ran_elsewhere_note(state, config.namespace)
        if note:
            print(note, file=sys.stderr)
    if state is None:
        print(
            f"warning: {missing}. Every trial resource of experiment {args.name!r} that kfp-tune owns in namespace "
            f"{config.namespace!r} is taken as left over, since no run on this store can be following it; a run of an experiment "
            f"of that name on another store, with its trials in the same namespace, would lose them", file=sys.stderr,
        )
    why_not_taken: list[str] = []

    def take_others(others: list[tuple[str, str]]) -> bool:
        """--others: asked as kfp-tune delete asks, once they are listed (--dry-run: not),
        saying which still run and since when, which is what tells a dead predecessor's from a
        colleague's live run. --yes takes them unasked only when none still runs: a script
        (``cleanup NAME --others --yes`` after each pipeline) must not take another store's
        live trials, which its run then records Failed (TrialDeleted)."""
        if not args.others:
            return False
        if args.dry_run:
            return True
        running_now, ended = _others_by_state(launcher, args.name, others)
        if args.yes and not running_now:
            return True
        if args.yes:
            why_not_taken.append(f"{len(running_now)} of them {'still runs' if len(running_now) == 1 else 'still run'}, and --yes never deletes a running resource of another "
                                 "experiment (a live run of it in another store loses it): run the cleanup without --yes, to be asked, "
                                 "or delete them by name once you know no run follows them")
            return False
        answer = _ask(
            f"delete {len(others)} trial resource(s) in {config.namespace!r} of another experiment named {args.name!r} (no trial of it in "
            f"{masked_url(store.uri)}): " + "; ".join(part for part in (
                f"{len(running_now)} still running: {_shown_resources(running_now)}" if running_now else "",
                f"{len(ended)} ended: {_shown_resources(ended)}" if ended else "") if part)
            + "? A run following them (of an experiment of that name in another store) loses them. [y/N] "
        )
        if answer is None:
            why_not_taken.append(NO_ANSWER + ("; add --yes to delete without asking" if not running_now else
                                              "; answer at a terminal (--yes never deletes one still running)"))
        return bool(answer)

    try:
        swept = launcher.sweep(args.name, keep=not_ended, dry_run=args.dry_run, ours=(lambda: recorded) if state is not None else None,
                               take_others=take_others)
        driven_by = _driving_run(store, args.name) if state is not None else None
        anchor = (not running and not swept.kept and not swept.others and not swept.not_the_anchor and driven_by is None
                  and launcher.delete_anchor(args.name, dry_run=args.dry_run))
    except Exception as exc:
        reason = unreachable_reason(exc, trusted_by="the kubeconfig")
        if reason is None:
            raise
        server = masked_url(str(getattr(launcher.api.configuration, "host", "") or "(no server in the configuration)"))
        raise KfpTuneError(_no_cluster_to_ask(
            f"the Kubernetes API server at {server} cannot be reached", f"{reason}; retried for {LOOK_RETRY_SECONDS:.0f} s", "it",
            "check the current context of KUBECONFIG or ~/.kube/config (kubectl cluster-info), or run kfp-tune cleanup where the "
            "cluster can be reached", args.name, unrecorded, on_a_cluster,
        )) from None
    did = "would delete" if args.dry_run else "deleted"
    print(f"{did} {len(swept.deleted)} trial resource(s) of {args.name!r} in {config.namespace!r}" + (f": {', '.join(swept.deleted)}" if swept.deleted else "")
          + (f", {len(swept.others_taken)} of another experiment named {args.name!r} (--others): {', '.join(name for _, name in swept.others_taken)}"
             if swept.others_taken else "")
          + (f", and its anchor configmap {launcher.anchor_name(args.name)!r}" if anchor else "")
          + (" (--dry-run: nothing deleted)" if args.dry_run else ""))
    anchor_name = launcher.anchor_name(args.name)
    if swept.not_the_anchor:
        print(f"warning: {swept.not_the_anchor} (its labels are not kfp-tune's for it): left alone; no trial resource is owned by it", file=sys.stderr)
    if swept.others:
        print(_others_kept(args.name, config.namespace, store, swept.others, asked=args.others), file=sys.stderr)
    if running and swept.kept:
        print(f"kept {len(swept.kept)} resource(s) of its {len(running)} trial(s) not ended yet, and the anchor configmap {anchor_name!r} that owns them")
    elif running:
        print(f"kept the anchor configmap {anchor_name!r}: {len(running)} trial(s) of {args.name!r} in this store have not ended (none has a "
              f"resource in {config.namespace!r}), and a run may create theirs, owned by it")
    if running:
        if swept.kept:  # a killed run's: nothing ends them but a run that follows them, or a person
            print(f"  {_shown_resources(swept.kept)}: a run of {args.name!r} ends them (the one following them, else run the experiment again on this "
                  f"store: it resumes and follows them to their end); if none will, delete them:")
            selectors = swept.kept_selectors if state is not None and _no_run_starts_a_trial(state) else {}  # else a run resumed later is selected too
            for command in _kept_delete_commands(config.namespace, swept.kept, selectors):
                print(f"    {command}")
    elif driven_by is not None:
        print(f"kept the anchor configmap {anchor_name!r}: {driven_by} drives the experiment and may start a trial")
    elif swept.others:
        print(f"kept the anchor configmap {anchor_name!r}: it owns {len(swept.others)} resource(s) of another experiment named {args.name!r} "
              "(the warning above), which that experiment's cleanup finds through it")
    if args.others and swept.others:
        print(f"not deleted: the {len(swept.others)} trial resource(s) of another experiment named {args.name!r} (the warning above)"
              + "".join(f": {why}" for why in why_not_taken), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _shown_resources(resources: list[tuple[str, str]]) -> str:
    """(resource, name) pairs as kubectl names them, the first :data:`KEPT_SHOWN` of them."""
    named = [f"{resource}/{name}" for resource, name in resources]
    return ", ".join(named[:KEPT_SHOWN]) + (f" (and {len(named) - KEPT_SHOWN} more)" if len(named) > KEPT_SHOWN else "")


NO_ANSWER = "no answer could be read (stdin is not a terminal, or at its end)"
"""Why a question (kfp-tune delete's, cleanup --others') deleted nothing when none was read."""


def _ask(question: str) -> bool | None:
    """Asks on the terminal (kfp-tune delete, cleanup --others): whether the answer was y / yes;
    None when no answer could be read (end of input, stdin closed: a CI step without --yes),
    which the caller says with :data:`NO_ANSWER`."""
    print(question, end="", file=sys.stderr, flush=True)
    try:
        answer: str | None = input()
    except (EOFError, OSError, ValueError, RuntimeError):  # no answer: end of input, stdin closed, or none (<&-: input() lost sys.stdin)
        answer = None
    echoed = False
    with contextlib.suppress(AttributeError, OSError, ValueError):
        echoed = sys.stdin is not None and sys.stdin.isatty()
    if answer is None or not echoed:  # the answer was not echoed: end the question's line
        print(file=sys.stderr)
    return None if answer is None else answer.strip().lower() in ("y", "yes")


def _others_by_state(launcher: KubernetesLauncher, experiment: str, others: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Another experiment's resources (cleanup --others) as (still running, ended), each named
    with its age ('jobs.batch/NAME (made 3 h ago)'), read from a listing of them; one not
    found in it (gone since) or whose end its status does not say is taken as running."""
    listed = {(kind.resource, item["metadata"]["name"]): item for kind, item in launcher.owned_resources(experiment).owned}
    running: list[tuple[str, str]] = []
    ended: list[tuple[str, str]] = []
    for resource, name in others:
        item = listed.get((resource, name)) or {}
        made = str((item.get("metadata") or {}).get("creationTimestamp") or "")
        age = _age(made)
        (ended if _resource_ended(item) else running).append((resource, f"{name} (made {age} ago)" if age else name))
    return running, ended


def _resource_ended(item: dict[str, Any]) -> bool:
    """Whether a trial resource's status says it has ended: a condition Complete / Succeeded /
    Failed that is True (a Job, the Training Operator's kinds), Succeeded False (Tekton), or
    a phase Succeeded / Failed / Error (Argo)."""
    status = item.get("status") or {}
    if str(status.get("phase") or "") in ("Succeeded", "Failed", "Error"):
        return True
    ends = {("Complete", "True"), ("Completed", "True"), ("Succeeded", "True"), ("Failed", "True"), ("Succeeded", "False")}
    return any(isinstance(c, dict) and (c.get("type"), c.get("status")) in ends for c in status.get("conditions") or [])


def _age(timestamp: str) -> str:
    """'3 h', '2 d', '40 s': how long ago an RFC 3339 time was; "" when it cannot be read."""
    import calendar

    try:
        seconds = max(0, int(time.time() - calendar.timegm(time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S"))))
    except ValueError:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _others_kept(name: str, namespace: str, store: Store, others: list[tuple[str, str]], asked: bool = False) -> str:
    """cleanup's warning for the resources its sweep kept as another experiment's: the anchor
    ``kfp-tune-NAME`` is shared by every experiment of that name whose trials run in the
    namespace, and a trial name hashes its experiment's uid, so these are none of this store's.
    ``asked``: --others was given and not answered yes (no word of it then)."""
    commands = "".join(f"\n    {command}" for command in _kept_delete_commands(namespace, others, {}))  # by name: the selector takes this store's too
    flag = "" if asked else "run this cleanup again with --others: it deletes them (it asks first; --yes for a script), or "
    return (
        f"warning: kept {len(others)} trial resource(s) in {namespace!r} that are no trial of experiment {name!r} in {masked_url(store.uri)}: "
        f"{_shown_resources(others)}. They belong to another experiment named {name!r} (its trial names hash its own uid): one kept in another "
        f"store, with its trials in this namespace too, whose run may be following them, or one this store held before kfp-tune delete "
        f"(made again since: a new uid). A cleanup on that experiment's store deletes what it has done with; if you know no run follows "
        f"them, {flag}delete them:{commands}"
    )


def _namespaces_with_resources(state: ExperimentState) -> list[str]:
    """The cluster namespaces where the experiment's trials recorded they ran (each started
    record's ``clusterNamespace``), sorted, leaving out trials ended ``TrialNotCreated``: the
    started record is written before the create, so one whose create was refused (a 403 in a
    Katib example's ``kubeflow``, rerun as the advice says in the run's namespace) names a
    namespace where nothing of it exists."""
    return sorted({t.started.cluster_namespace for t in state.trials if t.made_something and t.started is not None and t.started.cluster_namespace})


def _recorded_namespace(state: ExperimentState, store: Store) -> str | None:
    """Where cleanup looks without --namespace: the namespace the experiment's started trials
    recorded they ran in (``clusterNamespace``: the launcher config's namespace, else
    ``metadata.namespace``, else the run's; a Katib example's ``kubeflow`` is seldom it on
    multi-user KFP), else its ``metadata.namespace``. Trials recorded in several namespaces (the
    launcher config changed between runs) are refused: no one of them is right."""
    recorded = _namespaces_with_resources(state)
    if len(recorded) > 1:
        raise UsageError(
            f"--namespace: the trials of experiment {state.name!r} in {masked_url(store.uri)} ran in {len(recorded)} namespaces: "
            f"{', '.join(repr(n) for n in recorded)}; give --namespace, and run cleanup once for each"
        )
    return recorded[0] if recorded else state.experiment.metadata.namespace


def _ran_elsewhere_note(state: ExperimentState, namespace: str) -> str:
    """A note for a --namespace in which none of the trials that recorded where they ran did."""
    recorded = _namespaces_with_resources(state)
    if not recorded or namespace in recorded:
        return ""
    return (f"note: the trials of experiment {state.name!r} recorded that they ran in {', '.join(repr(n) for n in recorded)}, not {namespace!r}: "
            "cleanup without --namespace looks there")


WHERE_RECORDED_SINCE = "2026-12-06 17:29 UTC"
"""Since when a trial's ``started`` record says where it ran (``clusterNamespace``)."""


def _where_trials_ran(state: ExperimentState) -> tuple[int, int, int]:
    """How many started trials of the experiment did not record where they ran (their ``started``
    record is older than ``clusterNamespace``: a kfp-tune before :data:`WHERE_RECORDED_SINCE`),
    were made on a cluster, and ran where their launcher makes no Kubernetes resource (a local
    process). Only when all ran locally does cleanup know there is nothing on a cluster to ask for."""
    started = [trial.started.cluster_namespace for trial in state.trials if trial.started is not None]
    return sum(where is None for where in started), sum(bool(where) for where in started), sum(where == "" for where in started)


def _no_cluster_to_ask(problem: str, detail: str, asked: str, fix: str, name: str, unrecorded: int, on_a_cluster: int) -> str:
    """cleanup's one line where it has no cluster to ask (none configured; ``asked`` "one") or
    cannot reach it (``asked`` "it"): where only trials that did not record where they ran send
    it to the cluster, why it asks, and that trials that all ran on this machine left nothing to
    clean up; where a trial was made on a cluster, or none started, the cluster is what cleanup
    is for, and only the problem and its ``fix`` are said."""
    if not unrecorded or on_a_cluster:
        return f"{problem} ({detail}): {fix}; nothing was deleted"
    return (
        f"{problem} ({detail}), and cleanup must ask {asked}: {unrecorded} trial(s) of experiment {name!r} were started by a kfp-tune "
        f"from before {WHERE_RECORDED_SINCE}, which did not record where they ran, so they may have left resources on a cluster; if "
        "they all ran on this machine (kfp-tune run, tune(), a launcher of kind local), they left nothing on a cluster and there is "
        f"nothing to clean up; nothing was deleted. Else {fix}"
    )


def _driving_run(store: Store, name: str) -> str | None:
    """The run that drives the experiment now, in words (a damaged claim: unknown, taken as
    one), else None: cleanup keeps the anchor for the trials such a run may start."""
    import time

    from kfp_tune.core import claims
    from kfp_tune.core.records import DamagedRecord, ExperimentRecords

    try:
        current, now = claims.latest_claim(ExperimentRecords(store, name)), time.time()
    except DamagedRecord:
        return "a run (its claim record is damaged)"
    return current.describe(now) if current is not None and current.live(now) else None


def cmd_report(args: argparse.Namespace) -> int:
    from kfp_tune.core.output_file import write_output
    from kfp_tune.reports import damaged_lines, html_report, load_report, markdown_table

    _check_output_name("-o/--output", args.output)
    store = _open(args)
    report = load_report(store, args.name)  # before the folder is made: a name not in the store leaves none behind
    folder = _output_folder("-o/--output", args.output)
    for line in damaged_lines(report.damaged):  # left out; the rest still shows
        print(line, file=sys.stderr)
    outputs = [(folder / f"{report.state.name}.{suffix}", render) for suffix, render in (("md", markdown_table), ("html", html_report))]
    for path, _ in outputs:
        if path.is_dir():
            raise UsageError(f"-o/--output {args.output}: {path} is a folder; expected the report's file name to be free")
    for path, render in outputs:
        text = render(report)
        try:
            write_output(path, text.encode("utf-8"))  # a link at the name is replaced, not written through
        except OSError as exc:
            raise UsageError(f"-o/--output {args.output}: cannot write {path.name}: {exc.strerror or exc}") from None
        print(f"wrote {path}")
    return EXIT_OK


def _listed_experiments(client: kfp_tune.client.Client) -> tuple[list[kfp_tune.client.KatibObject], dict[str, str]]:
    """``list``'s experiments and those left out: a completed one as saved when it completed
    (three reads whatever its size), any other folded from all its records, as ``status`` reads
    it, since its counts move (``Client.list_experiments_and_problems(completed_as_saved=True)``)."""
    return client.list_experiments_and_problems(completed_as_saved=True)


def cmd_list(args: argparse.Namespace) -> int:
    from kfp_tune.client import Client, best_objective, experiment_phase
    from kfp_tune.progress import table_lines
    from kfp_tune.stores import store_variable, stores_beside
    from kfp_tune.stores.local import LocalStore

    store = _open_store(args.store, look=True)
    given = args.store or store_variable(os.environ)
    if given and isinstance(store, LocalStore) and not store.root.is_dir():  # a mistyped folder is not an empty store
        raise UsageError(f"{'--store' if args.store else '$KFP_TUNE_STORE'} {shown(masked_url(given))}: no such folder ({masked_url(str(store.root))}); nothing has run with this store")
    experiments, problems = _listed_experiments(Client(store))
    for name, problem in sorted(problems.items()):  # left out; the rest still shows
        newer = _newer_experiment(store, name)
        if newer is not None:  # nothing wrong with it: this kfp-tune is older than the one that wrote it
            print(f"warning: experiment {name} was {newer.problem}; left out", file=sys.stderr)
        else:
            print(f"warning: experiment {name} cannot be read: {problem}; left out", file=sys.stderr)
    rows = []
    for experiment in experiments:
        status = experiment.get("status") or {}
        phase, reason, _ = experiment_phase(experiment)
        optimal = status.get("currentOptimalTrial") or {}
        rows.append({
            "name": experiment["metadata"]["name"], "status": phase, "reason": reason, "trials": status.get("trials", 0),
            # Katib's counts, each apart (status_util.go updateTrialsSummary), so that the columns add up to trials
            "succeeded": status.get("trialsSucceeded", 0), "failed": status.get("trialsFailed", 0),
            "metrics_unavailable": status.get("trialMetricsUnavailable", 0),
            "killed": status.get("trialsKilled", 0), "early_stopped": status.get("trialsEarlyStopped", 0),
            "running": status.get("trialsRunning", 0) + status.get("trialsPending", 0),
            "best_trial": optimal.get("bestTrialName"), "best": best_objective(experiment), "created": experiment["metadata"].get("creationTimestamp"),
        })
    if args.sort_by == "created":  # newest first; the UTC timestamps sort as text, one without any last
        rows.sort(key=lambda row: row["created"] if isinstance(row["created"], str) else "", reverse=True)
    if args.json:
        print(json.dumps(rows, sort_keys=True))
        return EXIT_OK
    if not rows and problems:  # not "no experiments": those left out are still there
        print(f"no experiments to show in {masked_url(store.uri)}: {len(problems)} left out (above)")
        return EXIT_OK
    if not rows:  # a mistyped prefix or folder is no error (a new one is empty too): the stores beside it that hold experiments
        beside = stores_beside(store)
        print(f"no experiments in {masked_url(store.uri)}" + (f"; did you mean: {', '.join(masked_url(uri) for uri in beside)}?" if beside else ""))
        return EXIT_OK
    header = ["name", "status", "reason", "trials", "succeeded", "failed", "metrics-unavailable", "killed", "early-stopped", "running", "best", "best trial", "created"]
    table = [header] + [
        [r["name"], r["status"], r["reason"], r["trials"], r["succeeded"], r["failed"], r["metrics_unavailable"], r["killed"], r["early_stopped"], r["running"], "" if r["best"] is None else f"{r['best']:.6g}", r["best_trial"] or "", r["created"] or ""]
        for r in rows
    ]
    for line in table_lines(table, getattr(sys.stdout, "encoding", None)):
        print(line)
    return EXIT_OK


def _newer_experiment(store: Store, name: str) -> NewerRecord | None:
    """The NewerRecord of the experiment's record, if a newer kfp-tune wrote it (told apart by
    its type, not by the words of a message)."""
    from kfp_tune.core.records import ExperimentRecords, NewerRecord
    from kfp_tune.core.state import read_experiment_record

    try:
        read_experiment_record(ExperimentRecords(store, name))
    except NewerRecord as exc:
        return exc
    except KfpTuneError:  # damaged, or unreadable for another reason: the caller's problem says why
        pass
    return None


def cmd_logs(args: argparse.Namespace) -> int:
    """One trial's log as it is (exit 1 when it has none yet, or ended and kept none, saying
    why; an empty one is said on stderr, exit 0); without TRIAL, every trial's (or
    those --status and --limit choose) under a ``==> TRIAL (STATUS) <==`` line, from one look at
    the experiment."""
    from kfp_tune.client import Client, NoLogYet, experiment_phase

    statuses, limit = _chosen(args)
    store = _open(args, must_exist=False)
    if not _in_store(store, args.name):
        hint = _logs_of_trial_named_alone(store, args.name) if args.trial is None else ""
        raise ExperimentNotFound(f"no experiment {args.name!r} in {masked_url(store.uri)}; did you mean: {hint}?") if hint else not_found(store, args.name)
    if args.namespace is not None:
        _label("--namespace", args.namespace)
    for flag, value in (("TRIAL", args.trial), ("--container", args.container)):
        if value is not None:
            _label(flag, value)
    client = Client(store)
    if args.trial is not None:
        for flag, chosen in (("--status", statuses), ("--limit", limit)):
            if chosen is not None:
                raise UsageError(f"{flag}: it chooses among every trial's logs, and TRIAL names one; give one or the other")
        text = client.get_trial_logs((args.name, args.trial), container=args.container, namespace=args.namespace)
        if not text:  # kept, and empty: said on stderr, else the silence reads as a command that did nothing
            phase, reason, _ = experiment_phase(client.get_trial((args.name, args.trial)))
            print(f"trial {args.trial!r} ({phase}{': ' + reason if reason else ''}): its log is empty: {_EMPTY_LOG[phase == 'Running']}", file=sys.stderr)
        _write_log(text)
        return EXIT_OK
    shown = 0
    for trial, log in itertools.islice(client.each_trial_log(args.name, statuses, container=args.container, namespace=args.namespace), limit):
        shown += 1
        print(f"==> {trial.metadata.name} ({experiment_phase(trial)[0]}) <==")
        if isinstance(log, NoLogYet):
            print(f"(no log: {log})")
        elif not log:
            print(f"(its log is empty: {_EMPTY_LOG[experiment_phase(trial)[0] == 'Running']})")
        else:
            _write_log(log)
    if not shown:
        which = "" if statuses is None else " " + " or ".join(sorted(statuses))
        print(f"experiment {args.name} has no{which} trials yet", file=sys.stderr)
    return EXIT_OK


_EMPTY_LOG = ("it printed nothing", "it has printed nothing yet")
"""What an empty log means, for a trial that has ended and for one still running."""


def _logs_of_trial_named_alone(store: Store, name: str) -> str:
    """``kfp-tune logs EXPERIMENT TRIAL`` where ``name``, no experiment's, is a trial's name
    given alone (as ``kubectl logs`` takes a pod's): it starts with an experiment's name and a
    ``-``, and that experiment (the longest such name: one listing at most) has the trial. ""
    otherwise, and the error's own suggestions stand."""
    from kfp_tune.client import Client

    client = Client(store)
    owners = [experiment for experiment in client.experiment_names() if name.startswith(experiment + "-")]
    if not owners:
        return ""
    experiment = max(owners, key=len)
    try:
        client.get_trial((experiment, name))
    except KfpTuneError:  # no such trial (or the experiment cannot be read): no hint
        return ""
    return f"kfp-tune logs {experiment} {name}"


def _write_log(text: str) -> None:
    sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")


def cmd_edit(args: argparse.Namespace) -> int:
    """Katib's SDK ``edit_experiment_budget`` (katib_client.py) from a shell, where a Katib user
    runs ``kubectl edit experiment``: the client's rules and errors, with its argument names as
    the flags. A value Katib's webhook refuses is exit 2; an edit the experiment refuses (a
    completed experiment that cannot restart) exit 1."""

    from kfp_tune.client import Client, experiment_phase

    store = _open(args)
    arguments = {flag.removeprefix("--").replace("-", "_"): flag for flag in BUDGET_FLAGS}
    given = {arg: getattr(args, arg) for arg in arguments if getattr(args, arg) is not None}
    if not given:
        raise UsageError(f"expected at least one of {', '.join(BUDGET_FLAGS)}: nothing to change")

    def as_flags(message: str) -> str:
        message = message.removeprefix("edit_experiment_budget: ")
        return re.sub(r"\b(" + "|".join(arguments) + r")\b", lambda m: arguments[m.group(1)], message)

    try:
        experiment = Client(store).edit_experiment_budget(args.name, **given)
    except ExperimentConflict as exc:  # valid values the experiment cannot take now
        raise KfpTuneError(as_flags(str(exc))) from None
    except ExperimentNotFound:  # an InputError too, but no bad flag: said as it is
        raise
    except InputError as exc:
        raise UsageError(as_flags(str(exc))) from None
    spec = experiment["spec"]
    phase, reason, _ = experiment_phase(experiment)
    budget = ", ".join(f"{field} {spec.get(field) if spec.get(field) is not None else '(not set)'}" for field in EDITABLE_FIELDS)
    print(f"experiment {args.name}: {budget}; {phase} ({reason})")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    """Asks on the terminal first (``--yes`` skips it); anything but y / yes, or no answer at
    all (stdin closed), deletes nothing (exit 1)."""
    from kfp_tune.client import Client, experiment_keys
    from kfp_tune.core import claims
    from kfp_tune.core.records import DamagedRecord, ExperimentRecords

    store = _open(args, must_exist=False)  # one with artifacts left and no record is still deleted
    records = ExperimentRecords(store, args.name)
    keys, artifacts = experiment_keys(store, records)
    if not keys and not artifacts:
        raise not_found(store, args.name)
    with contextlib.suppress(DamagedRecord):  # a damaged claim stops every run: none drives it
        claims.refuse_if_busy(records, claims.STOP_FIRST)  # refused before asking, not after
    what = f"{len(keys)} record(s) and {len(artifacts)} artifact file(s)"
    if not args.yes:
        trials = len({trial for key in keys if (trial := records.trial_of(key)) is not None})
        answer = _ask(f"delete experiment {args.name!r} ({trials} trial(s) run, {what}) from {masked_url(store.uri)}? It cannot be undone. [y/N] ")
        if answer is None:  # a CI step or script without --yes (QA automation, session 37): say what it lacks
            print(f"not deleted: {NO_ANSWER}; add --yes to delete without asking", file=sys.stderr)
            return EXIT_FAILED
        if not answer:
            print("not deleted", file=sys.stderr)
            return EXIT_FAILED
    Client(store).delete_experiment(args.name, confirm=True)
    print(f"deleted experiment {args.name!r}: {what} from {masked_url(store.uri)}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
