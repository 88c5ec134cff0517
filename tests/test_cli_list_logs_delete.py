"""``kfp-tune list``, ``logs`` and ``delete`` on stores that real runs wrote (``kfp-tune run
--engine inline`` and ``tune()``), on a local folder and on a real S3 server: what they print,
their exit codes, and that delete asks first and never touches another experiment."""

from __future__ import annotations

import io
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune import cli, search, tune
from kfp_tune.cli import main
from kfp_tune.core.records import ExperimentRecords, TrialStarted, utc_now
from kfp_tune.core.state import ExperimentView
from kfp_tune.stores import LocalStore


def _loss(parameters: dict[str, str]) -> float:
    """What tests/trials/quadratic.py reports last for these parameters, worked out here."""
    return (float(parameters["x"]) - 0.3) ** 2 + (float(parameters["y"]) - 0.7) ** 2


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with ``quad`` (3 trials) and ``quad-2`` (2 trials), both Succeeded, run by
    ``kfp-tune run --engine inline``; tests that change it use a copy."""
    folder = tmp_path_factory.mktemp("finished")
    store = folder / "store"
    for name, count in (("quad", 3), ("quad-2", 2)):
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": count, "spec.parallelTrialCount": 1})))
        assert main(["run", str(path), "--engine", "inline", "--store", str(store), "--name", name]) == 0
    return store


@pytest.fixture
def store(finished: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "store"))


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _records(store: Path, name: str) -> dict[str, bytes]:
    root = store / "experiments" / name
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _answer(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


# --- list ---------------------------------------------------------------------------------------


def test_list_shows_every_experiment_with_its_status_and_best(finished, capsys):
    rows = _json(capsys, ["list", "--store", str(finished), "--json"])
    assert [r["name"] for r in rows] == ["quad", "quad-2"]
    for row in rows:
        status = _json(capsys, ["status", row["name"], "--store", str(finished), "--json"])
        trials = _json(capsys, ["trials", row["name"], "--store", str(finished), "--json"])
        assert (row["status"], row["reason"]) == ("Succeeded", "ExperimentMaxTrialsReached")
        assert (row["trials"], row["succeeded"], row["failed"]) == (status["trials"], status["trialsSucceeded"], 0) == (len(trials), len(trials), 0)
        best = min(trials, key=lambda t: _loss(t["parameters"]))
        assert row["best_trial"] == best["name"] and row["best"] == pytest.approx(_loss(best["parameters"]), abs=1e-6)
        assert row["created"].endswith("Z")
    capsys.readouterr()
    assert main(["list", "--store", str(finished)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "status", "reason", "trials", "succeeded", "failed", "metrics-unavailable", "killed", "early-stopped",
                                "running", "best", "best", "trial", "created"]
    assert [line.split()[:10] for line in lines[1:]] == [["quad", "Succeeded", "ExperimentMaxTrialsReached", "3", "3", "0", "0", "0", "0", "0"],
                                                        ["quad-2", "Succeeded", "ExperimentMaxTrialsReached", "2", "2", "0", "0", "0", "0", "0"]]
    assert lines[1].split()[10:12] == [f"{rows[0]['best']:.6g}", rows[0]["best_trial"]]


def test_list_counts_a_failed_experiment_and_warns_about_a_damaged_one(store, capsys):
    def broken(params: dict[str, Any]) -> float:
        raise RuntimeError("no GPU")

    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"):
        tune(broken, {"x": search.double(0, 1)}, objective_metric_name="loss", max_trial_count=2, max_failed_trial_count=1, store=str(store), name="broken")
    (store / "experiments" / "damaged").mkdir()
    (store / "experiments" / "damaged" / "experiment.json").write_text("[]")
    capsys.readouterr()
    assert main(["list", "--store", str(store), "--json"]) == 0
    out, err = capsys.readouterr()
    rows = {r["name"]: r for r in json.loads(out)}
    assert list(rows) == ["broken", "quad", "quad-2"]
    assert (rows["broken"]["status"], rows["broken"]["reason"], rows["broken"]["failed"], rows["broken"]["best_trial"]) == ("Failed", "ExperimentFailed", 1, None)
    assert "warning: experiment damaged cannot be read: record experiments/damaged/experiment.json is damaged" in err and "left out" in err


def test_list_of_an_empty_store_and_of_an_s3_store(tmp_path, capsys, s3_env, s3_bucket):
    (tmp_path / "empty").mkdir()
    assert main(["list", "--store", str(tmp_path / "empty")]) == 0
    assert capsys.readouterr().out == f"no experiments in {(tmp_path / 'empty').as_uri()}\n"
    uri = f"s3://{s3_bucket}/tuning"
    for name in ("exp-2", "exp"):
        tune(lambda p: p["x"], {"x": search.discrete([0.5, 0.25])}, objective_metric_name="loss", algorithm="grid", max_trial_count=2, store=uri, name=name)
    rows = _json(capsys, ["list", "--store", uri, "--json"])
    assert [(r["name"], r["status"], r["trials"], r["best"]) for r in rows] == [("exp", "Succeeded", 2, 0.25), ("exp-2", "Succeeded", 2, 0.25)]


def test_list_of_a_store_folder_that_is_not_there_is_exit_2_naming_it(tmp_path, capsys, monkeypatch):
    """A mistyped --store must not read as an empty store (the guide: a store that is not there
    is exit 2); the default folder before anything ran is only empty."""
    missing = tmp_path / "mistyped"
    assert main(["list", "--store", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --store ") and ": no such folder (" in err and f"{missing})" in err  # the value as given may be cut short, the folder not
    monkeypatch.setenv("KFP_TUNE_STORE", str(missing))
    assert main(["list"]) == 2
    assert "$KFP_TUNE_STORE" in capsys.readouterr().err
    monkeypatch.delenv("KFP_TUNE_STORE")
    monkeypatch.chdir(tmp_path)
    assert main(["list"]) == 0
    assert capsys.readouterr().out.startswith("no experiments in ")
    assert not missing.exists()


def test_list_refuses_a_bad_store_naming_it(capsys):
    assert main(["list", "--store", "ftp://host/x"]) == 2
    assert "--store: store URI 'ftp://host/x': the 'ftp' scheme is not supported" in capsys.readouterr().err


# --- logs ---------------------------------------------------------------------------------------


def test_logs_of_one_trial_are_what_it_printed(finished, capsys):
    (first, *_) = _json(capsys, ["trials", "quad", "--store", str(finished), "--json"])
    capsys.readouterr()
    assert main(["logs", "quad", first["name"], "--store", str(finished)]) == 0
    out = capsys.readouterr().out
    assert out == (finished / "experiments" / "quad" / "trials" / first["name"] / "logs" / "main.log").read_text()
    assert f"loss={_loss(first['parameters']):.6f}" in out.splitlines()[-1]


def test_logs_of_every_trial_in_the_order_created(finished, capsys):
    trials = _json(capsys, ["trials", "quad", "--store", str(finished), "--json"])
    capsys.readouterr()
    assert main(["logs", "quad", "--store", str(finished)]) == 0
    expected = "".join(
        f"==> {t['name']} (Succeeded) <==\n" + (finished / "experiments" / "quad" / "trials" / t["name"] / "logs" / "main.log").read_text() for t in trials
    )
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["logs", "quad", "quad-nope"], "error: experiment 'quad' has no trial 'quad-nope'; its trials: quad-"),
        (["logs", "quad", "Bad_Trial"], "error: TRIAL: expected a Kubernetes name"),
        (["logs", "nope"], "error: no experiment 'nope' in file://"),
        (["logs", "Nope"], "error: NAME: expected lower case letters"),
        (["logs", "quad", "--namespace", "Team A"], "error: --namespace: expected a Kubernetes name"),
    ],
)
def test_logs_refuses_what_is_not_there_with_exit_2_naming_it(finished, capsys, argv, words):
    assert main([*argv, "--store", str(finished)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(words) and "Traceback" not in err


def test_logs_warns_once_about_a_damaged_record(store, caplog):
    """Every trial's log reads the experiment again: a damaged record is still named once,
    not once per trial (it was 4 times for 3 trials)."""
    damaged = next((store / "experiments" / "quad" / "trials").glob("*/result.json"))
    damaged.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        assert main(["logs", "quad", "--store", str(store)]) == 0
    warnings = [r.getMessage() for r in caplog.records if "is damaged" in r.getMessage()]
    assert len(warnings) == 1 and damaged.parent.name in warnings[0], warnings


def test_logs_of_a_running_trial_says_it_has_none_yet(tmp_path, capsys, monkeypatch):
    """A trial started and not ended (a run in progress on another machine), with no cluster
    configured to read its pod from: exit 1 saying so; listed among all, it says the same."""
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.steps.suggest import suggest

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    (name,) = suggest(records, "run-1-r000", 1, load_experiment(quadratic_experiment()), n=1)
    ExperimentView(records).record_trial(name, TrialStarted(trial=name, time=utc_now(), at=time.time(), run="run-1", attempt="a1", owner="elsewhere/1"))
    assert main(["logs", "quad", name, "--store", str(tmp_path / "store")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: trial '{name}' is running; its log is stored when it ends") and "no Kubernetes cluster is configured" in err
    assert main(["logs", "quad", "--store", str(tmp_path / "store")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"==> {name} (Running) <==" and out[1].startswith(f"(no log: trial '{name}' is running")


def test_logs_of_a_trial_whose_launch_died_says_none_was_kept(tmp_path, capsys):
    """A trial ended TrialStale (the launch-trial that followed it died, so nothing stored its
    output): exit 1 saying it has no log and why. It printed nothing with exit 0."""
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.core.records import TrialEnded
    from kfp_tune.core.vocabulary import LaunchPhase
    from kfp_tune.steps.suggest import suggest

    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    (name,) = suggest(records, "run-1-r000", 1, load_experiment(quadratic_experiment()), n=1)
    view = ExperimentView(records)
    view.record_trial(name, TrialStarted(trial=name, time=utc_now(), at=time.time(), run="run-1", attempt="a1"))
    view.record_trial(name, TrialEnded.now(name, LaunchPhase.FAILED, "TrialStale", "launch-trial ended without recording how the trial ended", None))
    assert main(["logs", "quad", name, "--store", str(tmp_path / "store")]) == 1
    assert capsys.readouterr().err.startswith(f"error: trial '{name}' has no log: it ended TrialStale: launch-trial ended without")
    assert main(["logs", "quad", "--store", str(tmp_path / "store")]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"(no log: trial '{name}' has no log: it ended TrialStale")


def test_logs_of_every_trial_look_at_the_experiment_once(finished, capsys, monkeypatch):
    """kfp-tune logs NAME looked the whole experiment up again for each trial's log (listed and
    folded it): 127 s for 1,000 trials, 6 million keys listed, and on S3 a full listing a trial.
    One look now, as kfp-tune trials takes, then one read per log."""
    counts = {"list": 0, "get": 0}
    for method in counts:
        inner = getattr(LocalStore, method)
        monkeypatch.setattr(LocalStore, method, lambda self, key, _inner=inner, _method=method: counts.__setitem__(_method, counts[_method] + 1) or _inner(self, key))
    look = {}
    for argv in (["trials", "quad", "--json"], ["logs", "quad"]):
        counts.update(list=0, get=0)
        assert main([*argv, "--store", str(finished)]) == 0
        look[argv[0]] = dict(counts)
    trials = json.loads(capsys.readouterr().out.split("\n", 1)[0])
    assert look["logs"] == {"list": look["trials"]["list"], "get": look["trials"]["get"] + len(trials)} and look["trials"]["list"] == 1, look


def test_logs_chosen_by_status_and_limit(tmp_path, capsys):
    """--status picks the trials whose logs are printed (a failed trial's, say), --limit the
    first N of those; with TRIAL neither is taken."""
    def objective(params: dict[str, Any]) -> float:
        print(f"trying x={params['x']}")
        if params["x"] == 0.25:
            raise RuntimeError("no luck")
        return params["x"]

    store = str(tmp_path / "store")
    tune(objective, {"x": search.discrete([0.5, 0.25, 0.75])}, objective_metric_name="loss", algorithm="grid", max_trial_count=3,
         max_failed_trial_count=2, store=store, name="mixed")
    trials = _json(capsys, ["trials", "mixed", "--store", store, "--json"])
    assert sorted(t["status"] for t in trials) == ["Failed", "Succeeded", "Succeeded"]
    capsys.readouterr()
    assert main(["logs", "mixed", "--store", store, "--status", "failed"]) == 0
    out = capsys.readouterr().out
    (failed,) = [t["name"] for t in trials if t["status"] == "Failed"]
    assert out.startswith(f"==> {failed} (Failed) <==\ntrying x=0.25\n") and "RuntimeError: no luck" in out and out.count("==> ") == 1
    assert main(["logs", "mixed", "--store", store, "--status", "Succeeded", "--limit", "1"]) == 0
    first = next(t for t in trials if t["status"] == "Succeeded")
    assert capsys.readouterr().out == f"==> {first['name']} (Succeeded) <==\n" + _stored_log(Path(store), "mixed", first["name"])
    assert main(["logs", "mixed", "--store", store, "--status", "Killed"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == "experiment mixed has no Killed trials yet\n"
    for argv, words in (
        ([failed, "--status", "Failed"], "error: --status: it chooses among every trial's logs, and TRIAL names one"),
        (["--limit", "0"], "error: --limit: expected a whole number of trials, at least 1, got 0"),
        (["--status", "Done"], "error: --status: expected a trial status, one of Created, Running, Succeeded, Failed, MetricsUnavailable, EarlyStopped, Killed; got 'Done'"),
    ):
        assert main(["logs", "mixed", *argv, "--store", store]) == 2
        assert capsys.readouterr().err.startswith(words)


def _stored_log(store: Path, experiment: str, trial: str) -> str:
    """The one log the store keeps for the trial (its primary container's)."""
    (log,) = (store / "experiments" / experiment / "trials" / trial / "logs").glob("*.log")
    return log.read_text()


# --- delete -------------------------------------------------------------------------------------


def test_delete_asks_and_does_nothing_unless_told_yes(store, capsys, monkeypatch):
    kept = _records(store, "quad")
    closed = io.StringIO()
    closed.close()
    # no, no answer (end of input), not a yes, stdin closed, and none at all (`kfp-tune delete ... <&-`: Python's sys.stdin is None)
    for answer in ("n\n", "", "yes please\n", closed, None):
        if isinstance(answer, str):
            _answer(monkeypatch, answer)
        else:
            monkeypatch.setattr("sys.stdin", answer)
        assert main(["delete", "quad", "--store", str(store)]) == 1
        err = capsys.readouterr().err
        assert f"delete experiment 'quad' (3 trial(s) run, {len(kept)} record(s) and 0 artifact file(s)) from {store.as_uri()}? It cannot be undone. [y/N]" in err
        assert err.rstrip().splitlines()[-1].startswith("not deleted")  # with why, where no answer could be read
        assert _records(store, "quad") == kept


def test_delete_on_yes_removes_that_experiment_only(store, capsys, monkeypatch):
    """quad-2's name starts with quad's: every record of it is left as it was."""
    other = _records(store, "quad-2")
    count = len(_records(store, "quad"))
    _answer(monkeypatch, "y\n")
    assert main(["delete", "quad", "--store", str(store)]) == 0
    assert capsys.readouterr().out == f"deleted experiment 'quad': {count} record(s) and 0 artifact file(s) from {store.as_uri()}\n"
    assert not (store / "experiments" / "quad").exists() and _records(store, "quad-2") == other
    assert [r["name"] for r in _json(capsys, ["list", "--store", str(store), "--json"])] == ["quad-2"]
    _answer(monkeypatch, "")  # --yes does not ask
    assert main(["delete", "quad-2", "--store", str(store), "--yes"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("deleted experiment 'quad-2'") and "[y/N]" not in err
    assert _json(capsys, ["list", "--store", str(store), "--json"]) == []


@pytest.mark.parametrize(
    ("argv", "words"),
    [(["delete", "nope"], "error: no experiment 'nope' in file://"), (["delete", "Quad"], "error: NAME: expected lower case letters")],
)
def test_delete_refuses_a_name_that_is_not_there_with_exit_2(store, capsys, argv, words):
    assert main([*argv, "--store", str(store), "--yes"]) == 2
    assert capsys.readouterr().err.startswith(words)


def test_delete_is_refused_before_asking_while_a_run_drives_the_experiment(tmp_path, capsys, monkeypatch):
    import threading

    release, started = threading.Event(), threading.Event()

    def objective(params: dict[str, Any]) -> float:
        started.set()
        assert release.wait(120)
        return 0.5

    thread = threading.Thread(target=lambda: tune(objective, {"x": search.double(0, 1)}, objective_metric_name="loss", max_trial_count=1, store=str(tmp_path), name="held"))
    thread.start()
    try:
        assert started.wait(120)
        _answer(monkeypatch, "y\n")
        assert main(["delete", "held", "--store", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: experiment 'held' is being run by run 'run-") and "[y/N]" not in err
        # the run is this very process (a thread): wait for it; not a TTL, not taking it over (what a refused run may do)
        assert err.rstrip("\n").endswith(", this process: wait for it to end") and "--take-over" not in err
        assert (tmp_path / "experiments" / "held" / "experiment.json").exists()
    finally:
        release.set()
        thread.join(120)
    assert main(["delete", "held", "--store", str(tmp_path), "--yes"]) == 0


def test_delete_on_s3_keeps_the_experiment_whose_name_it_prefixes(capsys, s3_env, s3_bucket):
    from kfp_tune.stores import open_store

    uri = f"s3://{s3_bucket}/tuning"
    for name in ("exp", "exp-2"):
        tune(lambda p: p["x"], {"x": search.discrete([0.5, 0.25])}, objective_metric_name="loss", algorithm="grid", max_trial_count=2, store=uri, name=name)
    s3 = open_store(uri)
    other = {key: s3.get(key) for key in s3.list("experiments/exp-2/")}
    assert main(["delete", "exp", "--store", uri, "--yes"]) == 0
    assert capsys.readouterr().out.startswith("deleted experiment 'exp': ")
    assert s3.list("experiments/exp/") == [] and {key: s3.get(key) for key in s3.list("experiments/exp-2/")} == other
    assert [r["name"] for r in _json(capsys, ["list", "--store", uri, "--json"])] == ["exp-2"]


def test_list_counts_add_up_to_the_trials_with_killed_early_stopped_and_running(finished, capsys, monkeypatch):
    """An interrupted run's experiment showed ``2 0 0`` (trials, succeeded, failed) with its 2
    trials Killed; Katib's status counts each condition (status_util.go updateTrialsSummary)."""
    from kfp_tune.client import Client

    experiment = Client(str(finished)).list_experiments_and_problems()[0][0]
    counts = {"trials": 7, "trialsSucceeded": 1, "trialsFailed": 1, "trialMetricsUnavailable": 1, "trialsKilled": 2,
              "trialsEarlyStopped": 1, "trialsRunning": 1, "trialsPending": 0}
    shown = {**experiment, "status": {**experiment["status"], **counts}}
    monkeypatch.setattr(cli, "_listed_experiments", lambda client: ([shown], {}))  # list's reading
    (row,) = _json(capsys, ["list", "--store", str(finished), "--json"])
    assert (row["failed"], row["metrics_unavailable"], row["killed"], row["early_stopped"], row["running"]) == (1, 1, 2, 1, 1)
    assert row["trials"] == row["succeeded"] + row["failed"] + row["metrics_unavailable"] + row["killed"] + row["early_stopped"] + row["running"]
    assert main(["list", "--store", str(finished)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[3:10] == ["7", "1", "1", "1", "2", "1", "1"]


@pytest.mark.parametrize("command", [["list"], ["status", "quad"], ["trials", "quad"]])
def test_an_empty_store_flag_is_refused_not_taken_as_the_default(finished, capsys, monkeypatch, tmp_path, command):
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--store", ""]) == 2
    assert capsys.readouterr().err == "error: --store: expected a URI or folder, got an empty string\n"
    assert not (tmp_path / "kfp-tune-runs").exists()


def test_report_of_an_experiment_not_there_creates_no_folder(finished, capsys, tmp_path):
    assert main(["report", "nosuch", "--store", str(finished), "-o", str(tmp_path / "new" / "sub")]) == 2
    assert "no experiment 'nosuch'" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_logs_of_a_trial_named_alone_says_the_command_that_shows_it(finished, capsys):
    """``kfp-tune logs TRIAL`` (a trial's name alone, as ``kubectl logs POD``) said "no
    experiment ...; did you mean: quad?"; it now names the command, with the experiment whose
    trial it is (``quad-2``'s, not ``quad``'s, for a name both start), only where that trial exists."""
    for name in ("quad", "quad-2"):
        trial = _json(capsys, ["trials", name, "--store", str(finished), "--json"])[0]["name"]
        capsys.readouterr()
        assert main(["logs", trial, "--store", str(finished)]) == 2
        err = capsys.readouterr().err
        assert err == f"error: no experiment {trial!r} in {LocalStore(finished).uri}; did you mean: kfp-tune logs {name} {trial}?\n", err
    assert main(["logs", "quad-2-nope", "--store", str(finished)]) == 2
    assert "did you mean: kfp-tune logs" not in capsys.readouterr().err
