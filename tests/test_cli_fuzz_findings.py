"""What QA "fuzz" (session 31: 8,000 seeded mutants of Katib's examples, 687 CLI argument cases,
800 damaged stores) found at the CLI's edge, each refused or read as the rest of the CLI does."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.client import Client


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``quad`` and ``other``, 2 trials each, Succeeded."""
    folder = tmp_path_factory.mktemp("fuzz")
    spec = folder / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})))
    for name in ("quad", "other"):
        assert main(["run", str(spec), "--engine", "inline", "--store", str(folder / "store"), "--name", name]) == 0
    return folder / "store"


@pytest.fixture
def store(finished: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "store"))


def test_a_status_record_without_its_status_is_left_out_and_the_store_still_lists(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It raised KeyError: 'status' ("a defect in kfp-tune") in list, status, report and
    Client.list_experiments, and list showed no experiment at all."""
    path = store / "experiments" / "quad" / "status.json"
    record = json.loads(path.read_text())
    del record["status"]
    path.write_text(json.dumps(record))
    capsys.readouterr()
    assert main(["list", "--store", str(store), "--json"]) == 0
    captured = capsys.readouterr()
    assert sorted((r["name"], r["status"]) for r in json.loads(captured.out)) == [("other", "Succeeded"), ("quad", "Succeeded")]
    assert main(["status", "quad", "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert "experiments/quad/status.json" in err and "the status is computed from the trials instead" in err
    assert {e["metadata"]["name"] for e in Client(str(store)).list_experiments_and_problems()[0]} == {"quad", "other"}


def test_logs_with_a_limit_past_any_count_prints_every_trials_log(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --limit above sys.maxsize was "unexpected ValueError" from itertools.islice; trials took it."""
    capsys.readouterr()
    assert main(["logs", "quad", "--store", str(store), "--limit", str(10 * sys.maxsize)]) == 0
    everything = capsys.readouterr().out
    assert main(["logs", "quad", "--store", str(store)]) == 0
    assert everything == capsys.readouterr().out and everything


@pytest.mark.parametrize("output", ["s3://my-bucket/reports", "file:///tmp/x", "s3:/my-bucket/reports"])
def test_report_to_a_uri_is_refused_and_makes_no_folder(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], output: str) -> None:
    """It wrote into a local folder named ``s3:`` and said "wrote s3:/my-bucket/reports/quad.md"."""
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["report", "quad", "--store", str(store), "-o", output]) == 2
    assert f"-o/--output '{output}': expected a folder on this machine, got a URI" in capsys.readouterr().err
    assert not any(p.name.endswith(":") for p in tmp_path.iterdir())


def test_an_empty_path_is_refused_naming_the_flag_not_read_as_the_working_folder(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["report", "quad", "--store", str(store), "-o", ""]) == 2
    assert "-o/--output: expected a folder, got an empty string" in capsys.readouterr().err
    assert not list(tmp_path.glob("quad.*"))
    spec = tmp_path / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment()))
    assert main(["validate", str(spec), "--trial-templates", ""]) == 2
    assert "--trial-templates: expected a file or a folder, got an empty string" in capsys.readouterr().err


@pytest.mark.parametrize("status", ["missing", None, {}], ids=["missing", "null", "empty"])
def test_the_python_result_of_a_damaged_status_is_the_one_the_trials_give(store: Path, status: object, caplog: pytest.LogCaptureFixture) -> None:
    """Review A (session 31): tune_result (read_result, a remote tune()'s result() and wait())
    raised KeyError / TypeError where the CLI now reads the status from the trials."""
    from kfp_tune.api import read_result

    path = store / "experiments" / "quad" / "status.json"
    record = json.loads(path.read_text())
    if status == "missing":
        del record["status"]
    else:
        record["status"] = status
    path.write_text(json.dumps(record))
    result = read_result(str(store), "quad")
    assert (result.status, len(result.trials)) == ("Succeeded", 2)
    assert any("experiments/quad/status.json" in r.getMessage() for r in caplog.records)


def test_a_null_status_is_named_as_damaged(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = store / "experiments" / "quad" / "status.json"
    record = json.loads(path.read_text())
    record["status"] = None
    path.write_text(json.dumps(record))
    capsys.readouterr()
    assert main(["status", "quad", "--store", str(store)]) == 0
    assert "experiments/quad/status.json" in capsys.readouterr().err


def test_report_refuses_a_uri_before_it_reads_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The -o refusals that read nothing come first: a missing NAME gave the NAME's error."""
    assert main(["report", "nosuch", "--store", str(tmp_path / "store"), "-o", "s3//bkt/x"]) == 2
    assert "-o/--output 's3//bkt/x': expected a folder on this machine, got a URI" in capsys.readouterr().err


def test_an_empty_token_file_is_refused_naming_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment()))
    assert main(["submit", str(spec), "--host", "http://127.0.0.1:9", "--token-file", ""]) == 2
    assert "--token-file: expected a file, got an empty string" in capsys.readouterr().err
