"""The four components as users meet them: the committed component.yaml files (loaded with
kfp.components.load_component_from_file and run under kfp.local), and each component's Python
function called through ``.python_func()``."""

# No `from __future__ import annotations`: KFP reads the test pipeline's annotations.
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kfp import components, dsl

from conftest import REPO, quadratic_experiment
from kfp_tune.components import collect_metrics, decide_stop, launch_trial, suggest
from kfp_tune.core.loading import load_experiment
from kfp_tune.stores import LocalStore

FOLDERS = ["suggest", "launch_trial", "collect_metrics", "decide_stop", "stage_inputs", "best_trial", "fail_if_experiment_failed"]


def _without_sdk_version(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "sdkVersion" not in line)


def test_committed_component_yaml_is_what_the_code_compiles_to(tmp_path):
    """Regenerate with: python -m kfp_tune.components.export"""
    env = {k: v for k, v in os.environ.items() if k != "KFP_TUNE_IMAGE"}
    subprocess.run([sys.executable, "-m", "kfp_tune.components.export", str(tmp_path)], check=True, env=env, capture_output=True)
    for folder in FOLDERS:
        fresh = (tmp_path / folder / "component.yaml").read_text()
        committed = (REPO / "components" / folder / "component.yaml").read_text()
        assert _without_sdk_version(committed) == _without_sdk_version(fresh), f"components/{folder}/component.yaml is stale"


def test_export_help_writes_nothing(tmp_path):
    """``--help`` prints the usage; it once wrote every component into a folder named --help."""
    done = subprocess.run([sys.executable, "-m", "kfp_tune.components.export", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m kfp_tune.components.export")
    assert list(tmp_path.iterdir()) == []


def test_export_writes_over_an_earlier_export(tmp_path):
    """Exporting again into the same folder (as regenerating the committed files does) writes
    every component.yaml again, where a second mkdir would fail on the folders already there."""
    from kfp_tune.components.export import export

    first = export(tmp_path)
    assert export(tmp_path) == first and all(path.is_file() for path in first)
    assert sorted(path.parent.name for path in first) == sorted(FOLDERS)


@pytest.mark.parametrize("folder", FOLDERS)
def test_component_yaml_loads_and_its_readme_lists_every_input(folder):
    loaded = components.load_component_from_file(str(REPO / "components" / folder / "component.yaml"))
    from kfp_tune.components._image import DEFAULT_RUNTIME_IMAGE

    assert loaded.component_spec.implementation.container.image == DEFAULT_RUNTIME_IMAGE
    readme = (REPO / "components" / folder / "README.md").read_text()
    for name in loaded.component_spec.inputs:
        assert f"`{name}`" in readme, f"components/{folder}/README.md does not describe input {name}"


def _load(folder: str):
    return components.load_component_from_file(str(REPO / "components" / folder / "component.yaml"))


@pytest.mark.kfp_local
def test_loaded_components_compose_into_a_users_pipeline(tmp_path):
    """A user's own two-round pipeline from the YAML files alone, run under kfp.local."""
    from kfp import local

    suggest_op, launch_op, collect_op, decide_op = (_load(f) for f in FOLDERS[:4])  # the loop's four
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 3, "spec.parallelTrialCount": 2}))
    store = str(tmp_path / "store")

    @dsl.pipeline
    def users_pipeline(spec_json: str) -> bool:
        run = dsl.PIPELINE_JOB_ID_PLACEHOLDER
        first = suggest_op(store_uri=store, experiment_name="quad", run_id=run, round_index=0, rounds_total=2, experiment_spec=spec_json)
        with dsl.ParallelFor(first.output, parallelism=2) as trial:
            launched = launch_op(store_uri=store, experiment_name="quad", trial_name=trial, launcher_config='{"kind": "local"}', run_id=run)
            collected = collect_op(store_uri=store, experiment_name="quad", trial_name=trial, run_id=run).after(launched)
        decided = decide_op(store_uri=store, experiment_name="quad", run_id=run, round_index=0, rounds_total=2).after(collected)
        with dsl.If(decided.outputs["Output"] == True):  # noqa: E712
            second = suggest_op(store_uri=store, experiment_name="quad", run_id=run, round_index=1, rounds_total=2)
            with dsl.ParallelFor(second.output) as trial2:
                launched2 = launch_op(store_uri=store, experiment_name="quad", trial_name=trial2, launcher_config='{"kind": "local"}', run_id=run)
                collected2 = collect_op(store_uri=store, experiment_name="quad", trial_name=trial2, run_id=run).after(launched2)
            decide_op(store_uri=store, experiment_name="quad", run_id=run, round_index=1, rounds_total=2).after(collected2)
        return decided.outputs["Output"]

    import json

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"), raise_on_error=True)
    users_pipeline(spec_json=json.dumps(experiment.to_dict()))
    from kfp_tune.reports import summarize

    summary = summarize(LocalStore(tmp_path / "store"), "quad")
    assert (summary["status"], summary["trials"], summary["succeeded"]) == ("Succeeded", 3, 3)


def test_python_funcs_run_one_round(tmp_path):
    """Each component's function, called as KFP would call it, on a local store."""
    import json

    store = str(tmp_path / "store")
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2}))
    names = suggest.python_func(
        store_uri=store, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=1, experiment_spec=json.dumps(experiment.to_dict())
    )
    assert len(names) == 2
    # a retried suggest of the same round returns the same trials
    assert suggest.python_func(store_uri=store, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=1) == names
    for name in names:
        assert launch_trial.python_func(store_uri=store, experiment_name="quad", trial_name=name, launcher_config='{"kind": "local"}', run_id="run-1") == "Succeeded"
        metrics = dsl.Metrics(name="metrics", uri=str(tmp_path / name / "metrics"))
        status = collect_metrics.python_func(store_uri=store, experiment_name="quad", trial_name=name, run_id="run-1", metrics=metrics)
        assert (status, type(status)) == ("Succeeded", str)  # the declared str, not an enum that compares equal
        assert set(metrics.metadata) == {"loss", "accuracy"} and metrics.metadata["loss"] >= 0
    table = dsl.Markdown(name="trials_table", uri=str(tmp_path / "table.md"))
    report = dsl.HTML(name="report", uri=str(tmp_path / "report.html"))
    table.path, report.path = str(tmp_path / "table.md"), str(tmp_path / "report.html")
    assert decide_stop.python_func(store_uri=store, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=1, trials_table=table, report=report) is False
    text = Path(table.path).read_text()
    assert text.startswith("### Experiment quad: Succeeded (ExperimentMaxTrialsReached)") and text.count("| Succeeded |") == 2
    # objective, parameters, parallel coordinates, curves (the trials report several values), slots
    assert Path(report.path).read_text().count("<img") == 5


def test_a_trial_count_past_max_trial_count_makes_only_the_trials_left(tmp_path):
    """trial_count=7 for maxTrialCount 4 made 7 trials (100 made dozens): Katib never goes past
    maxTrialCount, and neither does a pipeline of the user's own that asks for a batch."""
    import json

    store = str(tmp_path / "store")
    spec = json.dumps(load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 4, "spec.parallelTrialCount": 2})).to_dict())
    first = suggest.python_func(store_uri=store, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=2, experiment_spec=spec, trial_count=3)
    second = suggest.python_func(store_uri=store, experiment_name="quad", run_id="run-1", round_index=1, rounds_total=2, trial_count=7)
    assert (len(first), len(second)) == (3, 1)


def test_inputs_that_cannot_work_are_refused_naming_them(tmp_path):
    """A mistyped name said 'is now driven by no run'; an empty store wrote to the step's own
    disk; text that is not JSON raised JSONDecodeError."""
    import json

    from kfp_tune.core.errors import ExperimentNotFound, InputError

    store = str(tmp_path / "store")
    spec = json.dumps(load_experiment(quadratic_experiment()).to_dict())
    with pytest.raises(ExperimentNotFound, match=r"no experiment 'quad-typo' in .*: a run's first step creates it"):
        suggest.python_func(store_uri=store, experiment_name="quad-typo", run_id="run-1", round_index=1, rounds_total=2)
    with pytest.raises(InputError, match="store_uri: required"):
        suggest.python_func(store_uri="", experiment_name="quad", run_id="run-1", round_index=0, rounds_total=1, experiment_spec=spec)
    with pytest.raises(InputError, match=r"experiment_spec: expected the experiment as JSON"):
        suggest.python_func(store_uri=store, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=1, experiment_spec="kind: Experiment")
    names = suggest.python_func(store_uri=store, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=1, experiment_spec=spec)
    with pytest.raises(ValueError, match=r"launcher_config: expected a JSON object"):
        launch_trial.python_func(store_uri=store, experiment_name="quad", trial_name=names[0], launcher_config="{kind: local", run_id="run-1")


def test_experiment_spec_json_that_is_no_experiment_object_is_refused_naming_it(tmp_path):
    """JSON that parses but is not an object, or whose metadata is not one, was an
    AttributeError or TypeError from the step (QA suggest_json.py); metadata null is none, as
    Kubernetes decodes it: the experiment is named by experiment_name either way."""
    import json

    from kfp_tune.core.errors import InputError
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.core.state import ExperimentView

    store = str(tmp_path / "store")
    for text, refused in (
        ("[1]", r"^experiment_spec: expected the experiment as JSON \(json.dumps of the Katib Experiment\): a JSON object, got '\[1\]'$"),
        ('"quad"', r"^experiment_spec: expected .*: a JSON object, got "),
        ('{"metadata": [], "spec": {}}', r"^experiment_spec: metadata: expected an object \(the experiment's name, namespace, ...\), got \[\]$"),
        ('{"metadata": "quad", "spec": {}}', r"^experiment_spec: metadata: expected an object .*, got 'quad'$"),
    ):
        with pytest.raises(InputError, match=refused):
            suggest.python_func(store_uri=store, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=1, experiment_spec=text)
    doc = load_experiment(quadratic_experiment()).to_dict()
    doc["metadata"] = None
    names = suggest.python_func(store_uri=store, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=1, experiment_spec=json.dumps(doc))
    assert names and ExperimentView(ExperimentRecords(LocalStore(Path(store)), "quad")).state.experiment.name == "quad"
