"""The notebooks run top to bottom (nbclient, a real kernel) and are committed without outputs."""

from __future__ import annotations

import ast
import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from conftest import REPO
from fake_kfp import serve

NOTEBOOKS = REPO / "notebooks"


def _execute(name: str, cwd: Path = NOTEBOOKS) -> nbformat.NotebookNode:
    """Run the notebook in a fresh kernel, in ``cwd`` (Jupyter runs one in its own folder). The
    kernel talks over unix sockets in a folder of its own: the TCP ports jupyter_client would
    pick are released before the kernel binds them, and another process of this machine may
    take one in between."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    with tempfile.TemporaryDirectory(prefix="kfp-tune-kernel-") as sockets:
        kernel = KernelManager(kernel_name="python3", transport="ipc", ip=f"{sockets}/channel")
        NotebookClient(notebook, km=kernel, timeout=600, resources={"metadata": {"path": str(cwd)}}).execute()
    return notebook


def _text(notebook: nbformat.NotebookNode) -> str:
    out = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            out.append(output.get("text", "") + json.dumps(output.get("data", {})))
    return "\n".join(out)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs before committing"


@pytest.mark.long
def test_quickstart_runs_tunes_and_plots(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.setenv("KFP_TUNE_STORE", str(tmp_path / "store"))
    notebook = _execute("01-quickstart.ipynb")
    text = _text(notebook)
    assert "Succeeded" in text and "best: digits-svm-quickstart-" in text
    assert f"records in: {(tmp_path / 'store').as_uri()}" in text  # where its records went, said
    assert "image/png" in text  # the plot cell drew a figure
    assert (tmp_path / "store" / "experiments" / "digits-svm-quickstart" / "status.json").is_file()
    # the report's views, shown inline as the KFP UI shows the page: each title, and images
    from kfp_tune.report_views import TIMELINE_TITLE, views
    from kfp_tune.reports import load_report
    from kfp_tune.stores import open_store

    report = load_report(open_store(str(tmp_path / "store")), "digits-svm-quickstart")
    titles = [view.title for view in views(report)]
    assert {"Parallel coordinates", "Parameter importance", TIMELINE_TITLE} <= set(titles) and len(titles) == 4
    shown = [json.dumps(o["data"]["text/html"]) for c in notebook.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    (page,) = [h for h in shown if "Parallel coordinates" in h]
    for title in titles:
        assert f"<h2>{html.escape(title)}</h2>" in page
    drawn = [v.title for v in views(report) if v.figure is not None]
    assert {"Parallel coordinates", "Parameter importance", TIMELINE_TITLE} <= set(drawn)
    assert page.count("data:image/png;base64,") >= len(drawn)


def test_kubeflow_notebook_skips_cluster_cells_without_a_host(monkeypatch):
    monkeypatch.delenv("KFP_HOST", raising=False)
    monkeypatch.delenv("KFP_NAMESPACE", raising=False)
    text = _text(_execute("02-kubeflow.ipynb"))
    assert "KFP_HOST is not set: skipping submit" in text and "KFP_HOST is not set: skipping schedule" in text
    assert "store_secret" in text and "bytes" in text  # compiled anyway
    assert "store_uri          STRING   default 's3://mlpipeline/kfp-tune'" in text
    assert re.search(r"NUMBER_INTEGER default \d+\n", text) and not re.search(r"NUMBER_INTEGER default \d+\.0\n", text), "an integer's default as the integer, not 6.0"
    assert "trial image: ghcr.io/kfp-tune/digits-trial:0.1.0" in text


def test_kubeflow_notebook_names_every_run_parameter_of_the_compiled_pipeline(tmp_path):
    """The compile section lists the run parameters: all of them, as the compiler declares them."""
    import yaml

    from kfp_tune.core.loading import load_experiment, read_experiment_source
    from kfp_tune.pipelines import compile_pipeline

    experiment = load_experiment(read_experiment_source(REPO / "images" / "sklearn-digits" / "experiment.yaml"))
    pipeline_spec, _ = yaml.safe_load_all(compile_pipeline(experiment, tmp_path / "p.yaml").read_text())
    declared = set(pipeline_spec["root"]["inputDefinitions"]["parameters"])
    notebook = nbformat.read(NOTEBOOKS / "02-kubeflow.ipynb", as_version=4)
    (section,) = [c.source for c in notebook.cells if c.cell_type == "markdown" and c.source.startswith("## 1. Compile")]
    assert declared and {name for name in declared if f"`{name}`" not in section} == set()


def test_kubeflow_notebook_puts_the_pushed_trial_image_in_the_experiment(monkeypatch):
    """The project publishes no image: the notebook says to build and push them, and takes the
    pushed trial image from TRIAL_IMAGE."""
    monkeypatch.delenv("KFP_HOST", raising=False)
    monkeypatch.setenv("TRIAL_IMAGE", "registry.example/team/digits-trial:0.1.0")
    notebook = _execute("02-kubeflow.ipynb")
    assert "trial image: registry.example/team/digits-trial:0.1.0" in _text(notebook)
    intro = notebook.cells[0].source
    assert "docker build -f images/runtime/Dockerfile" in intro and "does not publish" in intro and "KFP_TUNE_IMAGE" in intro


@pytest.mark.parametrize("namespace", [None, "team-a"])
def test_kubeflow_notebook_submits_and_schedules_on_a_host(monkeypatch, namespace):
    """The store the runs keep their records in is the one the notebook prints and tells the
    reader to read: on a multi-user KFP (KFP_NAMESPACE) the namespace's own prefix, where
    section 4 said s3://mlpipeline/kfp-tune whatever the namespace."""
    from kfp_tune.pipelines.submit import cluster_store_default

    fake, server = serve()
    try:
        monkeypatch.setenv("KFP_HOST", fake.url)
        if namespace:
            monkeypatch.setenv("KFP_NAMESPACE", namespace)
        else:
            monkeypatch.delenv("KFP_NAMESPACE", raising=False)
        text = _text(_execute("02-kubeflow.ipynb"))
    finally:
        server.shutdown()
    (run,) = fake.runs.values()
    (recurring,) = fake.recurring_runs.values()
    assert recurring["trigger"]["cron_schedule"]["cron"] == "0 0 2 * * *" and recurring["display_name"] == "digits-nightly"
    assert [e["display_name"] for e in fake.experiments.values()] == ["kfp-tune-examples"]
    assert run["run_id"] in text and recurring["recurring_run_id"] in text
    # as manifests/rbac.yaml's ServiceAccount, which the notebook tells the reader to apply
    assert run["service_account"] == "kfp-tune-launcher" and recurring["service_account"] == "kfp-tune-launcher"
    store = cluster_store_default(namespace)
    for sent in (run, recurring):
        parameters = sent["pipeline_spec"]["pipeline_spec"]["root"]["inputDefinitions"]["parameters"] if "pipeline_spec" in sent["pipeline_spec"] else sent["pipeline_spec"]["root"]["inputDefinitions"]["parameters"]
        given = sent.get("runtime_config", {}).get("parameters", {}).get("store_uri", parameters["store_uri"].get("defaultValue"))
        assert given == store
    assert f"its records: {store}" in text and f"kfp-tune trials digits-random --store {store}" in text


def test_function_notebook_skips_cluster_cells_without_a_host(monkeypatch):
    monkeypatch.delenv("KFP_HOST", raising=False)
    text = _text(_execute("03-tune-on-kubeflow.ipynb"))
    assert "KFP_HOST is not set: skipping tune on Kubeflow" in text and "skipping wait" in text
    # what would be sent is shown anyway: the Job, its image and the function's source in its command
    assert "Job python:3.11-slim" in text and "def digits_svm(params):" in text and "install" in text


@pytest.mark.parametrize("namespace", [None, "team-a"])
def test_function_notebook_tunes_on_a_host(monkeypatch, namespace):
    from kfp_tune.pipelines.submit import cluster_store_default

    monkeypatch.delenv("KFP_TUNE_S3_ENDPOINT", raising=False)
    fake, server = serve()
    try:
        monkeypatch.setenv("KFP_HOST", fake.url)
        if namespace:
            monkeypatch.setenv("KFP_NAMESPACE", namespace)
        else:
            monkeypatch.delenv("KFP_NAMESPACE", raising=False)
        text = _text(_execute("03-tune-on-kubeflow.ipynb"))
    finally:
        server.shutdown()
    (run,) = fake.runs.values()
    assert run["run_id"] in text and "skipping wait" in text
    assert run["service_account"] == "kfp-tune-launcher"  # the account manifests/rbac.yaml gives the launcher's rights, as notebook 02's runs
    assert f"its records: {cluster_store_default(namespace)}" in text  # the store wait() reads, said
    assert [e["display_name"] for e in fake.experiments.values()] == ["kfp-tune-examples"]
    spec = run["pipeline_spec"]["pipeline_spec"]
    constants = [
        t["inputs"]["parameters"]["experiment_spec"]["runtimeValue"]["constant"]
        for component in [spec["root"], *spec["components"].values()]
        for t in (component.get("dag") or {}).get("tasks", {}).values()
        if "experiment_spec" in t.get("inputs", {}).get("parameters", {})
    ]
    (experiment,) = [json.loads(c) for c in constants]
    assert experiment["metadata"]["name"] == "digits-svm-on-kubeflow"
    job = experiment["spec"]["trialTemplate"]["trialSpec"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "python:3.11-slim" and container["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    script = container["args"][0]
    # the cell's function, shipped as the notebook wrote it, its imports inside; the pip line first
    assert "def digits_svm(params):\n    from sklearn.datasets import load_digits\n" in script
    assert "python3 -m pip install" in script and " scikit-learn\n" in script
    assert "r'''${trialParameters.kernel}'''" in script


@pytest.mark.long
@pytest.mark.kfp_local
def test_tuning_in_your_pipeline_notebook_runs_component_trials_end_to_end(tmp_path):
    """04: preprocess -> tune (each trial a task of the notebook's own component) -> train the
    final model -> evaluate, on kfp.local. Its last cell prints the grid's best (C=10,
    gamma=0.05; categorical values reach the downstream tasks as the experiment's strings) and
    the accuracies scikit-learn gives for it, recomputed here from the same split. Not pinned:
    the dict's key order (KFP passes it as a protobuf Struct, whose order is not defined) and
    the lines' indent (kfp.local swaps builtins.print for an indenting one around each task, from
    several threads under a ParallelFor, so the kernel may keep one)."""
    pytest.importorskip("sklearn")
    import ast

    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score, train_test_split
    from sklearn.svm import SVC

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    scores = {(c, g): float(cross_val_score(SVC(C=float(c), gamma=float(g)), x_train, y_train, cv=3).mean()) for c in ("1", "10") for g in ("0.001", "0.05")}
    ranked = sorted(scores, key=scores.__getitem__)
    assert ranked[-1] == ("10", "0.05") and scores[ranked[-2]] < scores[ranked[-1]]  # one best: no tie for the tuner to break
    test_accuracy = SVC(C=10.0, gamma=0.05).fit(x_train, y_train).score(x_test, y_test)

    notebook = _execute("04-tuning-in-your-pipeline.ipynb", cwd=tmp_path)
    assert "FutureWarning" not in _text(notebook), "a reader copying the cells learns to ignore warnings (QA notebook, session 31)"
    # its records in the folder it names, in its working folder: not a new temporary folder per run
    store = tmp_path / "kfp-tune-nb04" / "store"
    assert f"records in: {store}" in _text(notebook) and (store / "experiments" / "digits-components" / "experiment.json").is_file()
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs if output.get("name") == "stdout")
    lines = [line.strip() for line in printed.splitlines()]
    assert len(lines) == 2 and lines[0].startswith("best parameters: {"), _text(notebook)[-2000:]
    assert ast.literal_eval(lines[0].removeprefix("best parameters: ")) == {"C": "10", "gamma": "0.05"}
    assert lines[1] == f"validation accuracy {scores['10', '0.05']:.4f}, test accuracy {test_accuracy:.4f}"


def _kfp_tune_names(notebook: nbformat.NotebookNode) -> set[str]:
    """Every kfp_tune name the notebook's code uses: ``module.name`` for ``from kfp_tune... import
    name``, ``kfp_tune.name`` for an attribute of the package."""
    names = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kfp_tune":
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "kfp_tune":
                names.add(f"kfp_tune.{node.attr}")
    return names


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_the_notebooks_use_only_the_documented_python_api(path):
    """What a notebook shows a reader to call is public: in ``kfp_tune.__all__``, or named in
    docs/guide.md as ``module.name`` (notebook 01 used kfp_tune.stores.open_store and
    kfp_tune.report_views.views, which no page describes)."""
    import kfp_tune

    guide = (REPO / "docs" / "guide.md").read_text()
    used = _kfp_tune_names(nbformat.read(path, as_version=4))
    public = {f"kfp_tune.{name}" for name in kfp_tune.__all__}
    assert used and {name for name in used if name not in public and f"`{name}" not in guide} == set()


def test_the_stores_the_notebooks_leave_are_ignored_by_git(tmp_path):
    """Notebook 01 keeps its records in kfp-tune-runs/ of its own folder (Jupyter runs it in
    notebooks/), and notebook 04 in kfp-tune-nb04/: neither shows as untracked."""
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["notebooks/kfp-tune-runs/experiments/e/experiment.json", "notebooks/kfp-tune-nb04/store/experiments/e/experiment.json", "kfp-tune-runs/x"]
    checked = subprocess.run([git, "-C", str(REPO), "check-ignore", *paths], capture_output=True, text=True)
    assert checked.stdout.split() == paths
