"""``kfp-tune``: validate, run, compile and inspect Katib experiments.

Exit codes: 0 success (for ``run``: the experiment Succeeded), 1 the experiment failed or did not
finish, or a runtime error, 2 invalid input (the experiment, a flag, a conflicting resume).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfp_tune.core.errors import ExperimentConflict, KfpTuneError, SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import Experiment
from kfp_tune.stores import DEFAULT_LOCAL_STORE

if TYPE_CHECKING:
    from kfp_tune.core.interfaces import Store

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


class UsageError(Exception):
    """A bad command-line value (exit 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args))
    except SpecError as exc:
        for error in exc.errors:
            print(f"{error.path}: {error.message}", file=sys.stderr)
        return EXIT_INVALID
    except (ExperimentConflict, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KfpTuneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kfp-tune", description="Katib-class hyperparameter tuning on Kubeflow Pipelines.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check an experiment; one 'path: message' line per error")
    p.add_argument("experiment", help="Katib Experiment YAML")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("run", help="run an experiment on this machine, end to end")
    p.add_argument("experiment", help="Katib Experiment YAML")
    p.add_argument("--store", help=f"store URI: a folder, file:///path or s3://bucket/prefix (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
    p.add_argument("--engine", choices=("kfp-local", "inline"), default="kfp-local", help="kfp-local: the compiled pipeline under kfp.local (default); inline: the same steps in this process")
    p.add_argument("--rounds", type=int, help="kfp-local: checkpoints compiled into the run (default 10; the last one runs to the end)")
    p.add_argument("--mount", action="append", default=[], metavar="CONTAINER_PATH=LOCAL_PATH", help="make a container path a local folder for the trial's command (repeatable)")
    p.add_argument("--name", help="experiment name to use instead of metadata.name (start a fresh experiment)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome")
    p.add_argument("--take-over", action="store_true", help="run even if another run seems to drive the experiment (it was killed and its claim has not lapsed yet)")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("compile", help="compile the experiment's pipeline to KFP IR YAML, ready to upload")
    p.add_argument("experiment")
    p.add_argument("-o", "--output", required=True, help="where to write the pipeline YAML")
    p.add_argument("--rounds", type=int, help="checkpoints compiled into one run, where the KFP UI's reports refresh (default 10; the last one runs to the end)")
    p.add_argument("--store", default=None, help="default store URI of the pipeline (default s3://mlpipeline/kfp-tune)")
    p.add_argument("--object-store", choices=("seaweedfs", "minio"), default="seaweedfs", help="KFP's object store: seaweedfs (KFP 2.16+, default) or minio (before)")
    p.add_argument("--launcher-config", default="", help='default of the launcher_config run parameter, e.g. \'{"kind": "kubernetes", "namespace": "my-profile"}\'')
    p.set_defaults(handler=cmd_compile)

    for name, handler, text in (("status", cmd_status, "the experiment's status"), ("trials", cmd_trials, "the experiment's trials")):
        p = sub.add_parser(name, help=text + " from the store")
        p.add_argument("name", help="experiment name")
        p.add_argument("--store", help=f"store URI (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=handler)
    for name, handler, text in (
        ("submit", cmd_submit, "start one run of the experiment's pipeline on a Kubeflow Pipelines host"),
        ("schedule", cmd_schedule, "create a recurring run of the experiment's pipeline on a Kubeflow Pipelines host"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("experiment", help="Katib Experiment YAML")
        p.add_argument("--host", help="the KFP API, e.g. http://ml-pipeline-ui.kubeflow (default: $KF_PIPELINES_ENDPOINT, or in-cluster)")
        p.add_argument("--namespace", help="the Kubeflow profile namespace (multi-user KFP)")
        p.add_argument("--experiment-name", help="the KFP experiment that groups the runs (default: the experiment's name)")
        p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a pipeline parameter (repeatable): store_uri, experiment_name, s3_endpoint, store_secret, ...")
        p.add_argument("--store", default=None, help="the store URI the pipeline uses (default s3://mlpipeline/kfp-tune)")
        p.add_argument("--object-store", choices=("seaweedfs", "minio"), default="seaweedfs", help="KFP's object store: seaweedfs (KFP 2.16+, default) or minio (before)")
        p.add_argument("--rounds", type=int, help="checkpoints compiled into one run (default 10)")
        p.add_argument("--service-account", help="the run's service account (with the Kubernetes launcher: one bound to manifests/rbac.yaml)")
        if name == "submit":
            p.add_argument("--run-name", help="the run's name (default: NAME-tuning)")
        else:
            p.add_argument("--cron", required=True, help="KFP's six-field cron, seconds first: '0 0 2 * * *' is 02:00 daily")
            p.add_argument("--max-concurrency", type=int, default=1, help="runs at a time (default 1)")
            p.add_argument("--fresh-experiment", action="store_true", help="each run tunes a new experiment (default: every run continues the same one)")
            p.add_argument("--name", help="the recurring run's name (default: NAME-scheduled)")
        p.set_defaults(handler=handler)

    p = sub.add_parser("render", help="print the trial resource the Kubernetes launcher would create, as YAML")
    p.add_argument("experiment", help="Katib Experiment YAML")
    p.add_argument("--assign", action="append", default=[], metavar="NAME=VALUE", help="a parameter's value (repeatable); the others take their first value")
    p.add_argument("--trial-name", default="", help="the trial's name (default: as the experiment's first trial would be named)")
    p.add_argument("--namespace", default="default", help="the namespace trials are created in (default: default)")
    p.add_argument("--launcher-config", default="", help='the Kubernetes launcher config JSON, e.g. \'{"serviceAccounts": ["trainer"], "gpus": 1}\'')
    p.set_defaults(handler=cmd_render)

    p = sub.add_parser("cleanup", help="delete the trial resources a killed run left on the cluster (only what kfp-tune owns)")
    p.add_argument("name", help="experiment name")
    p.add_argument("--namespace", required=True, help="the namespace the trials ran in")
    p.add_argument("--store", help=f"store URI, to keep trials that are still running (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
    p.set_defaults(handler=cmd_cleanup)

    p = sub.add_parser("report", help="write the trial table (Markdown) and the HTML report with plots")
    p.add_argument("name", help="experiment name")
    p.add_argument("--store", help=f"store URI (default {DEFAULT_LOCAL_STORE}, or $KFP_TUNE_STORE)")
    p.add_argument("-o", "--output", default=".", help="folder for NAME.md and NAME.html (default: here)")
    p.set_defaults(handler=cmd_report)
    return parser


def _load(path: str, name: str | None = None) -> Experiment:
    if not Path(path).is_file():
        raise UsageError(f"no such experiment file: {path}")
    if name is None:
        return load_experiment(Path(path))
    from kfp_tune.core.loading import read_experiment_source

    data = read_experiment_source(Path(path))
    if isinstance(data, dict):
        data.setdefault("metadata", {})["name"] = name
    return load_experiment(data)


def _check_runnable(experiment: Experiment) -> None:
    from kfp_tune.steps import runnable_problems

    problems = runnable_problems(experiment)
    if problems:
        raise SpecError(problems)


def cmd_validate(args: argparse.Namespace) -> int:
    from kfp_tune.steps import runnable_problems

    experiment = _load(args.experiment)
    for problem in runnable_problems(experiment):
        print(f"warning: {problem.path}: {problem.message}", file=sys.stderr)
    print(f"{args.experiment}: valid experiment {experiment.name!r}")
    return EXIT_OK


def _mounts(values: list[str]) -> dict[str, str]:
    mounts = {}
    for value in values:
        container_path, sep, local_path = value.partition("=")
        if not sep or not container_path.startswith("/") or not local_path:
            raise UsageError(f"--mount {value!r}: expected /container/path=local/path")
        if not Path(local_path).exists():
            raise UsageError(f"--mount {value!r}: {local_path} does not exist")
        mounts[container_path] = str(Path(local_path).resolve())
    return mounts


def cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.inline_runner import run_inline
    from kfp_tune.launchers import launcher_from_config
    from kfp_tune.progress import ProgressWatcher
    from kfp_tune.reports import summarize
    from kfp_tune.steps import prepare
    from kfp_tune.stores import open_store

    experiment = _load(args.experiment, args.name)
    if args.rounds is not None and args.rounds < 1:
        raise UsageError(f"--rounds: expected 1 or more, got {args.rounds}")
    launcher_config = {"kind": "local", "mounts": _mounts(args.mount)}
    store = open_store(args.store)
    store_uri = store.uri
    rounds = args.rounds
    total = experiment.spec.max_trial_count
    # The pre-flight before anything runs: a busy experiment or a changed search space is
    # refused here, not mid-run.
    prepare(ExperimentRecords(store, experiment.name), experiment, take_over=args.take_over)

    bar = tqdm(total=total, unit="trial", desc=experiment.name, disable=None, file=sys.stderr, dynamic_ncols=True)

    def update(done: int, info: dict[str, Any]) -> None:
        bar.update(done - bar.n)
        objective = experiment.spec.objective.objective_metric_name  # type: ignore[union-attr]
        best = info["best"].get(objective)
        if best is not None:
            bar.set_postfix_str(f"best {objective}={best:.6g}")

    with ProgressWatcher(store, experiment, update):
        if args.engine == "inline":
            run_inline(store, experiment, launcher_from_config(launcher_config, store_uri), take_over=args.take_over)
        else:
            _run_kfp_local(experiment, store_uri, launcher_config, rounds, args.take_over)
    bar.close()
    summary = summarize(store, experiment.name)
    _print_summary(summary, args.json)
    return EXIT_OK if summary["status"] == "Succeeded" else EXIT_FAILED


def _run_kfp_local(experiment: Experiment, store_uri: str, launcher_config: dict[str, Any], rounds: int | None, take_over: bool) -> None:
    """Run the compiled pipeline under kfp.local in a child process, its output in a log file."""
    from kfp_tune.core.claims import OWNER_VARIABLE, run_owner

    work = Path(tempfile.mkdtemp(prefix="kfp-tune-local-"))
    log_path = work / "kfp-local.log"
    argv = [
        sys.executable, "-m", "kfp_tune.pipelines.local_run",
        json.dumps(experiment.to_dict()), store_uri, json.dumps(launcher_config), str(rounds or 0), str(work / "pipeline-root"),
    ] + (["take-over"] if take_over else [])
    with open(log_path, "wb") as log_file:
        # this process owns the run: if it is killed, the next run here sees the claim is dead
        env = {**os.environ, OWNER_VARIABLE: run_owner()}
        code = subprocess.run(argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env).returncode
    if code != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-25:]
        raise KfpTuneError("the kfp.local pipeline run failed; last lines of its log (" + str(log_path) + "):\n" + "\n".join(tail))


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps({k: summary[k] for k in ("experiment", "status", "reason", "trials", "succeeded", "failed", "best_trial")}, sort_keys=True))
        return
    print(f"experiment {summary['experiment']}: {summary['status']} ({summary['reason']})")
    print(f"  {summary['message']}")
    print(f"  trials: {summary['trials']} ({summary['succeeded']} succeeded, {summary['failed']} failed, {summary['running']} not finished)")
    best = summary["best_trial"]
    if best:
        params = ", ".join(f"{k}={v}" for k, v in best["parameters"].items())
        metrics = ", ".join(f"{k}={v:.6g}" for k, v in best["metrics"].items())
        print(f"  best trial: {best['name']}  {metrics}")
        print(f"    parameters: {params}")
    print(f"  store: {summary['store']}")


def cmd_compile(args: argparse.Namespace) -> int:
    from kfp_tune.pipelines.builder import DEFAULT_CLUSTER_STORE, compile_pipeline

    experiment = _load(args.experiment)
    _check_runnable(experiment)
    if args.rounds is not None and args.rounds < 1:
        raise UsageError(f"--rounds: expected 1 or more, got {args.rounds}")
    launcher_config = None
    if args.launcher_config:
        from kfp_tune.launchers import launcher_from_config

        try:
            launcher_config = json.loads(args.launcher_config)
            launcher_from_config(launcher_config)  # refuse a bad config now, not in the cluster
        except ValueError as exc:
            raise UsageError(f"--launcher-config: {exc}") from None
    path = compile_pipeline(
        experiment, args.output, rounds=args.rounds, store_uri=args.store or DEFAULT_CLUSTER_STORE, object_store=args.object_store, launcher_config=launcher_config
    )
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return EXIT_OK


def _open(args: argparse.Namespace) -> Store:
    from kfp_tune.stores import open_store

    return open_store(args.store)


def cmd_status(args: argparse.Namespace) -> int:
    from kfp_tune.reports import summarize

    summary = summarize(_open(args), args.name)
    _print_summary(summary, args.json)
    return EXIT_OK


def cmd_trials(args: argparse.Namespace) -> int:
    from kfp_tune.reports import trial_rows

    rows = trial_rows(_open(args), args.name)
    if args.json:
        print(json.dumps(rows, sort_keys=True))
        return EXIT_OK
    params = sorted({k for r in rows for k in r["parameters"]})
    metrics = sorted({k for r in rows for k in r["metrics"]})
    header = ["name", "status", *params, *metrics]
    table = [header] + [
        [r["name"], r["status"], *(r["parameters"].get(p, "") for p in params), *(f"{r['metrics'][m]:.6g}" if m in r["metrics"] else "" for m in metrics)]
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def _params(values: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for value in values:
        name, sep, raw = value.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {value!r}: expected NAME=VALUE")
        params[name] = {"true": True, "false": False}.get(raw.lower(), raw)
    return params


def _submit_options(args: argparse.Namespace) -> dict[str, Any]:
    import warnings

    from kfp_tune.pipelines.builder import DEFAULT_CLUSTER_STORE

    # kfp.Client warns on every construction that it needs KFP 2.x; we compile for KFP 2.x.
    warnings.filterwarnings("ignore", message="This client only works with Kubeflow Pipeline", category=FutureWarning)
    if args.rounds is not None and args.rounds < 1:
        raise UsageError(f"--rounds: expected 1 or more, got {args.rounds}")
    return dict(
        host=args.host,
        namespace=args.namespace,
        kfp_experiment=args.experiment_name,
        arguments=_params(args.param),
        rounds=args.rounds,
        store_uri=args.store or DEFAULT_CLUSTER_STORE,
        object_store=args.object_store,
        service_account=args.service_account,
    )


def cmd_submit(args: argparse.Namespace) -> int:
    from kfp_tune.pipelines.submit import submit

    options = _submit_options(args)
    submitted = submit(_load(args.experiment), run_name=args.run_name, **options)
    print(f"run {submitted.id} started: {submitted.url}")
    return EXIT_OK


def cmd_schedule(args: argparse.Namespace) -> int:
    from kfp_tune.pipelines.submit import schedule

    options = _submit_options(args)
    submitted = schedule(
        _load(args.experiment), args.cron, name=args.name, max_concurrency=args.max_concurrency, fresh_experiment=args.fresh_experiment, **options
    )
    mode = "a fresh experiment per run" if args.fresh_experiment else "every run continues the same experiment"
    print(f"recurring run {submitted.id} created ({args.cron!r}, {mode}): {submitted.url}")
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    import yaml

    from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest

    experiment = _load(args.experiment)
    assignment = {}
    for value in args.assign:
        name, sep, raw = value.partition("=")
        if not sep or not name:
            raise UsageError(f"--assign {value!r}: expected NAME=VALUE")
        assignment[name] = raw
    try:
        data = json.loads(args.launcher_config) if args.launcher_config else {}
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        config = KubernetesConfig.from_dict({"namespace": args.namespace, **data})
        manifest = render_manifest(experiment, assignment, args.trial_name, config)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    head: dict[str, Any] = {key: manifest[key] for key in ("apiVersion", "kind", "metadata") if key in manifest}
    print(yaml.safe_dump({**head, **manifest}, sort_keys=False), end="")
    return EXIT_OK


def cmd_cleanup(args: argparse.Namespace) -> int:
    """Sweep by label selector; trials the store has not seen end are kept (a run may be
    following them)."""
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import load_state
    from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

    state = load_state(ExperimentRecords(_open(args), args.name))
    running = {t.name for t in state.trials if t.ended is None}
    launcher = KubernetesLauncher(KubernetesConfig(namespace=args.namespace))
    deleted = launcher.sweep(args.name, keep=running)
    print(f"deleted {len(deleted)} trial resource(s) of {args.name!r} in {args.namespace!r}" + (f": {', '.join(deleted)}" if deleted else ""))
    if running:
        print(f"kept those of {len(running)} trial(s) not ended yet")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from kfp_tune.reports import html_report, load_report, markdown_table

    report = load_report(_open(args), args.name)
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, text in (("md", markdown_table(report)), ("html", html_report(report))):
        path = folder / f"{report.state.name}.{suffix}"
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
