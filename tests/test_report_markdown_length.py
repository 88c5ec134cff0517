"""The Markdown trial table within the KFP UI's limit: the UI renders the first 400,000
characters of a Markdown artifact and cuts the rest mid-row (MarkdownViewer.tsx), some 5,000
trials. Past a limit the table lists the trials best first, as many as fit, and says so above
it; under it the table is the whole one, in the order created. The exit handler writes the
KFP UI's artifact with the UI's limit."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune import reports, search, tune
from kfp_tune.core.loading import load_experiment
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher
from kfp_tune.reports import load_report, markdown_table
from kfp_tune.steps.entrypoints import decide_stop_step
from kfp_tune.stores import LocalStore


def _rows(table: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in table.splitlines()[1:] if line.startswith("| ") and not line.startswith("| trial ")]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    def objective(params):
        if params["x"] > 0.8:
            raise RuntimeError("diverged")  # failed trials: no ranked objective, last when cut
        return {"loss": (params["x"] - 0.3) ** 2}

    store = tmp_path_factory.mktemp("store")
    tune(objective, {"x": search.double(0.0, 1.0)}, objective_metric_name="loss", max_trial_count=30, algorithm="random",
         algorithm_settings={"random_state": 3}, store=str(store), name="long", max_failed_trial_count=30)
    return load_report(LocalStore(store), "long")


def test_a_table_within_the_limit_is_the_whole_table_in_the_order_created(report):
    whole = markdown_table(report)
    assert markdown_table(report, len(whole)) == whole
    assert [row[0].strip("*").split("*")[0] for row in _rows(whole)] == [t.name for t in report.state.trials]


def test_a_longer_table_lists_the_best_trials_first_as_many_as_fit_and_says_so(report):
    whole = markdown_table(report)
    limit = len(whole) // 2
    cut = markdown_table(report, limit)
    assert len(cut) <= limit
    rows = _rows(cut)
    values = [float(row[2]) for row in rows if row[1] == "Succeeded"]
    assert 5 < len(rows) < len(report.state.trials) and values == sorted(values)
    assert rows[0][0] == f"**{report.best_name}** (best)"
    assert f"The {len(rows)} best of {len(report.state.trials)} trials, best first: the KFP UI shows at most 400,000 characters" in cut
    # the header lines and the columns are those of the whole table
    assert cut.splitlines()[:6] == whole.splitlines()[:6]
    assert [line for line in cut.splitlines() if line.startswith("| trial ")] == [line for line in whole.splitlines() if line.startswith("| trial ")]


def test_the_limit_counts_as_javascript_does(report):
    """A character past U+FFFF is two of the KFP UI's (a JavaScript string's length)."""
    assert reports._js_length("a😀b") == 4 and reports._js_length("é") == 1


def test_the_exit_handler_writes_the_kfp_uis_artifact_within_its_limit(local_store, tmp_path, monkeypatch):
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 6}))
    run_inline(local_store, experiment, LocalLauncher())
    whole = markdown_table(load_report(local_store, experiment.name))
    monkeypatch.setattr(reports, "KFP_UI_MARKDOWN_LENGTH", len(whole) - 1)
    table = tmp_path / "table.md"
    decide_stop_step(local_store.uri, experiment.name, "run-1", 0, 1, markdown_path=str(table), final=True)
    written = table.read_text(encoding="utf-8")
    assert len(written) <= len(whole) - 1 and "best of 6 trials, best first" in written
