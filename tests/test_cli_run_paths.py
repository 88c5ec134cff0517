"""kfp-tune run's paths that no other fast test checked word for word (found by deleting or
altering a line of ``cmd_run`` in a scratch copy): a damaged record met by the pre-flight, an
interrupt whose end the store could not record or whose summary it could not give, --json's
summary of an interrupted run, a damaged record met mid-run, and the resume note. Each is
reached in-process with a stand-in for the step that meets it, so each runs in a second."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main


def _write(tmp_path: Path) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment()))
    return str(path)


def _run(tmp_path: Path, *flags: str) -> int:
    return main(["run", _write(tmp_path), "--engine", "inline", "--store", str(tmp_path / "store"), *flags])


@pytest.mark.parametrize("other", [False, True], ids=["experiment-record", "another-record"])
def test_a_damaged_record_met_by_the_pre_flight_refuses_the_run_saying_it_is_never_skipped(tmp_path, capsys, monkeypatch, other):
    """Exit 2, the record named; "the other trials" are pointed to only when the damaged record
    is not the experiment's own (without it nothing can be shown)."""
    import kfp_tune.steps
    from kfp_tune.core.records import DamagedRecord

    def meets_damage(records: Any, *args: Any, **kwargs: Any) -> None:
        key = f"{records.root}/trials/quad-abc/result.json" if other else records.experiment_key()
        raise DamagedRecord(key, "not JSON")

    monkeypatch.setattr(kfp_tune.steps, "prepare", meets_damage)
    assert _run(tmp_path) == 2
    err = capsys.readouterr().err
    said = "; this run is refused, since kfp-tune never skips nor rewrites a damaged record: repair or remove it"
    assert ("is damaged: not JSON" + said + (" (kfp-tune status and trials show the other trials)" if other else "\n")) in err, err


def _interrupted(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> None:
    import kfp_tune.inline_runner
    from kfp_tune.core.errors import RunInterrupted

    def interrupted(*args: Any, **_: Any) -> None:
        raise RunInterrupted("SIGTERM", **kwargs)

    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", interrupted)


def test_an_interrupt_the_store_could_not_record_says_so_and_how_to_resume(tmp_path, capsys, monkeypatch):
    _interrupted(monkeypatch, killed=2, unrecorded="the store could not record the claim's release (down)")
    assert _run(tmp_path, "--json") == 128 + 15
    captured = capsys.readouterr()
    assert captured.out == "", "no summary: the store could not be read"
    assert (
        "interrupted (SIGTERM): the running trials were stopped, but the store could not record the claim's release (down). "
        "The next run gives the trials left Running back (Killed, TrialStale: no budget used) and resumes: "
        "run the same command once the store answers.\n"
    ) in captured.err


def test_an_interrupt_whose_summary_the_store_could_not_give_says_so(tmp_path, capsys, monkeypatch):
    import kfp_tune.reports
    from kfp_tune.core.errors import StoreError

    _interrupted(monkeypatch, killed=1)

    def down(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise StoreError("S3 read failed: connection refused")

    monkeypatch.setattr(kfp_tune.reports, "summarize", down)
    assert _run(tmp_path, "--json") == 128 + 15
    captured = capsys.readouterr()
    assert captured.out == ""
    assert ("interrupted (SIGTERM): the running trials were stopped, but the store could not be read after the interrupt "
            "(S3 read failed: connection refused). The next run gives") in captured.err


def test_an_interrupted_run_with_json_prints_where_it_stands(tmp_path, capsys, monkeypatch):
    _interrupted(monkeypatch, killed=1)
    assert _run(tmp_path, "--json") == 128 + 15
    captured = capsys.readouterr()
    assert "interrupted (SIGTERM): 1 running trial(s) stopped and recorded Killed" in captured.err
    summary = json.loads(captured.out)
    assert (summary["experiment"], summary["status"]) == ("quad", "Running")
    assert _run(tmp_path) == 128 + 15
    assert capsys.readouterr().out == "", "the summary is --json's alone"


def test_a_damaged_record_met_mid_run_stops_it_saying_the_experiment_is_free(tmp_path, capsys, monkeypatch):
    """Not a claim: the run released the experiment, so another run may take it (a damaged claim
    says nothing of the kind: tests/test_cli_messages.py)."""
    import kfp_tune.inline_runner
    from kfp_tune.core.records import DamagedRecord, ExperimentRecords

    def meets_damage(store: Any, experiment: Any, *args: Any, **kwargs: Any) -> None:
        raise DamagedRecord(ExperimentRecords(store, experiment.name).trial_key("quad-abc", "result"), "not JSON")

    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", meets_damage)
    assert _run(tmp_path) == 1, "met mid-run: a runtime failure, as the read commands give for a damaged record (2 is the pre-flight's refusal)"
    assert "is damaged: not JSON; the run stopped (the experiment is free for another run): repair or remove the record" in capsys.readouterr().err


def test_the_resume_note_is_said_before_the_run(tmp_path, capsys, monkeypatch):
    import kfp_tune.inline_runner
    import kfp_tune.reports

    said: list[str] = []
    monkeypatch.setattr(kfp_tune.reports, "run_note", lambda store, name, how_to_run_again=False: (f"resuming {name} ({how_to_run_again})", False))
    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", lambda *args, **kwargs: said.append(capsys.readouterr().err))
    _run(tmp_path)
    assert said and said[0].endswith("resuming quad (True)\n"), said


def test_the_bar_follows_an_edited_budget_and_shows_the_best_value(tmp_path, monkeypatch):
    """Each look of the watcher: a budget edited while the run goes (``kfp-tune edit``) is the
    bar's new total, redrawn; the bar moves to the trials done, and shows the best objective value
    so far; the plain lines (no terminal here) are given the same look."""
    import tqdm

    import kfp_tune.inline_runner
    import kfp_tune.progress

    seen: list[tuple[str, Any]] = []

    class Bar:
        def __init__(self, total: int, **kwargs: Any) -> None:
            self.total, self.n, self.disable = total, 0, False
            seen.append(("total", total))

        def refresh(self) -> None:
            seen.append(("refresh", self.total))

        def update(self, n: int) -> None:
            self.n += n
            seen.append(("update", self.n))

        def set_postfix_str(self, text: str) -> None:
            seen.append(("postfix", text))

        def close(self) -> None:
            pass

    class Plain:
        def __init__(self, objective: str, write: Any) -> None:
            pass

        def __enter__(self) -> Plain:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def update(self, done: int, info: dict[str, Any]) -> None:
            seen.append(("plain", done))

    class Watcher:
        def __init__(self, store: Any, experiment: Any, update: Any) -> None:
            self.update = update

        def __enter__(self) -> Watcher:
            self.update(2, {"total": 6, "best": {}})
            self.update(3, {"total": 9, "best": {"loss": 0.123456789}})
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    monkeypatch.setattr(kfp_tune.progress, "PlainProgress", Plain)
    monkeypatch.setattr(kfp_tune.progress, "ProgressWatcher", Watcher)
    monkeypatch.setattr(kfp_tune.inline_runner, "run_inline", lambda *args, **kwargs: None)
    _run(tmp_path)
    assert seen == [("total", 6), ("update", 2), ("plain", 2), ("refresh", 9), ("update", 3), ("postfix", "best loss=0.123457"), ("plain", 3)]
