"""Shared fixtures: experiments built from a template, stores (a local folder and a real
SeaweedFS S3 server on loopback), and a fast trial script."""

from __future__ import annotations

import builtins
import contextlib
import copy
import importlib.util
import os
import signal
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from kfp_tune.core.errors import FieldError
    from kfp_tune.core.records import ExperimentRecords

TESTS = Path(__file__).parent
REPO = TESTS.parent
DATA = TESTS / "data"
KATIB_EXAMPLES = sorted((DATA / "katib-examples").glob("*.yaml"))
KATIB_REFUSES = {
    # validator.go: maxFailedTrialCount "should be less than or equal to spec.maxTrialCount"
    "hp-tuning_simple-pbt.yaml": "spec.maxFailedTrialCount: expected at most spec.maxTrialCount (2), got 3",
    # validator.go: "parameter name: learningRate in spec.trialParameters not found in spec.trialTemplate"
    "tekton_pipeline-run.yaml": "spec.trialTemplate.trialParameters[0].name: ${trialParameters.learningRate} does not appear",
}
"""Katib's examples that Katib's own admission webhook refuses, and the line kfp-tune refuses them with."""
KATIB_NAS = {"nas_darts-cpu.yaml", "nas_darts-gpu.yaml", "nas_enas-cpu.yaml", "nas_enas-gpu.yaml"}
"""Katib's neural architecture search examples (enas, darts): a trial gets the values the
algorithm makes (architecture and nn_config; algorithm-settings, search-space and num-layers),
so ``render`` needs them given with ``--assign``."""
QUADRATIC = TESTS / "trials" / "quadratic.py"
S3_ACCESS_KEY = "kfptune-test-access"
S3_SECRET_KEY = "kfptune-test-secret-9f3a7c1e"

# Tests import the shared fixtures (conftest) and the test doubles in support/ by module name.
sys.path[:0] = [str(TESTS), str(TESTS / "support")]



def _text_kubectl_reads_back(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    from kfp_tune.core.template import go_yaml_scalar

    if not isinstance(go_yaml_scalar(text), str):  # y, n, 1e3, 0o17: a boolean or a number to kubectl
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="'")
    return dumper.represent_str(text)


# Tests write the experiments they build with yaml.safe_dump, which leaves a string such as y (a
# parameter's name in quadratic_experiment), n or 1e3 unquoted: kubectl's go-yaml, and so kfp-tune
# (core.loading), reads that as a boolean or a number. Such strings are quoted, as kfp-tune's own
# writer quotes them (core.template.kubernetes_yaml), so a dumped dict reads back as itself.
yaml.SafeDumper.add_representer(str, _text_kubectl_reads_back)

# Property tests draw the same examples on every run and every machine: no seed from the clock,
# no example database carried over from an earlier run (.hypothesis/ is not in git), and no
# per-example deadline or speed health check that a loaded machine can trip.
settings.register_profile(
    "kfp-tune", derandomize=True, database=None, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("kfp-tune")


def quad_run_to_its_end(folder: Path, trials: int) -> Path:
    """``quad`` with ``trials`` trials, one at a time, run to its end by ``kfp-tune run --engine
    inline`` (seeded) into ``folder``: ``folder / "quad.yaml"`` and ``folder / "store"``, for tests
    that damage or age its records. Returns ``folder``."""
    from kfp_tune.cli import main

    spec = folder / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": trials, "spec.parallelTrialCount": 1})))
    assert main(["run", str(spec), "--engine", "inline", "--store", str(folder / "store")]) == 0
    return folder


def tune_interrupted_after_prepare(folder: Path, monkeypatch: pytest.MonkeyPatch, signal_name: str, name: str = "stopped") -> ExperimentRecords:
    """``tune()`` into the folder store ``folder``, interrupted by ``signal_name`` right after
    prepare claimed experiment ``name``, before any slot ran (RunInterrupted raised there, as the
    run's signal handler raises it): the records an interrupted, undriven experiment leaves."""
    import kfp_tune.inline_runner as inline_runner
    from kfp_tune import search, tune
    from kfp_tune.core.errors import RunInterrupted
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.stores.local import LocalStore

    prepare = inline_runner.prepare

    def prepare_then_interrupted(*args: Any, **kwargs: Any) -> Any:
        prepare(*args, **kwargs)
        raise RunInterrupted(signal_name)

    monkeypatch.setattr(inline_runner, "prepare", prepare_then_interrupted)
    with pytest.raises(RunInterrupted):
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, store=str(folder), name=name)
    return ExperimentRecords(LocalStore(folder), name)


def quadratic_experiment(**overrides: Any) -> dict[str, Any]:
    """A small Katib Experiment (dict) whose trial is tests/trials/quadratic.py."""
    doc: dict[str, Any] = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "quad"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["accuracy"]},
            "algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "3"}]},
            "parallelTrialCount": 2,
            "maxTrialCount": 6,
            "maxFailedTrialCount": 2,
            "parameters": [
                {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
                {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
            ],
            "trialTemplate": {
                "primaryContainerName": "main",
                "trialParameters": [
                    {"name": "x", "reference": "x"},
                    {"name": "y", "reference": "y"},
                ],
                "trialSpec": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [
                                    {
                                        "name": "main",
                                        "image": "python:3.11-slim",
                                        "command": ["python3", str(QUADRATIC)],
                                        "args": ["x=${trialParameters.x}", "y=${trialParameters.y}"],
                                    }
                                ],
                                "restartPolicy": "Never",
                            }
                        }
                    },
                },
            },
        },
    }
    return merge(doc, overrides)


def store_with_a_value(folder: Path, value: str, name: str = "wide") -> str:
    """A folder store (its path) holding experiment ``name``, two trials run inline whose first
    parameter, ``size``, is the categorical ``value``: a value the terminal shows oddly (wide,
    escaped) for the tables' tests."""
    from kfp_tune.cli import main

    doc = quadratic_experiment(metadata={"name": name})
    spec = doc["spec"]
    spec["maxTrialCount"], spec["parallelTrialCount"] = 2, 1
    spec["parameters"] = [{"name": "size", "parameterType": "categorical", "feasibleSpace": {"list": [value]}}, *spec["parameters"]]
    spec["trialTemplate"]["trialParameters"].append({"name": "size", "reference": "size"})
    spec["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "SIZE", "value": "${trialParameters.size}"}]
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    store = str(folder / "store")
    assert main(["run", str(path), "--engine", "inline", "--store", store]) == 0
    return store


def config_map_experiment() -> dict[str, Any]:
    """:func:`quadratic_experiment` with its trial template read from ConfigMap ``ns/templates``
    (key ``t.yaml``) when the run starts, and a Job's conditions, as Katib's such templates are written."""
    doc = quadratic_experiment()
    template = doc["spec"]["trialTemplate"]
    del template["trialSpec"]
    template.update({
        "configMap": {"configMapName": "templates", "configMapNamespace": "ns", "templatePath": "t.yaml"},
        "successCondition": 'status.conditions.#(type=="Complete")#|#(status=="True")#',
        "failureCondition": 'status.conditions.#(type=="Failed")#|#(status=="True")#',
    })
    return doc


def validation_errors(doc: dict[str, Any]) -> list[FieldError]:
    """Every FieldError load_experiment reports for doc (path, message); [] when it loads."""
    from kfp_tune.core.errors import SpecError
    from kfp_tune.core.loading import load_experiment

    try:
        load_experiment(doc)
    except SpecError as exc:
        return exc.errors
    return []


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of base with dotted-path overrides applied (``spec.maxTrialCount``)."""
    out = copy.deepcopy(base)
    for path, value in overrides.items():
        node = out
        parts = path.split("__") if "__" in path else path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is _DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    return out


_DELETE = object()
DELETE = _DELETE


def folder_module(folder: Path, module: str) -> ModuleType:
    """``<folder>/<module>.py`` from a folder that is not a package (an example image under
    images/, benchmarks/), imported once under a name of its own."""
    name = f"{folder.name.replace('-', '_')}_{module}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, folder / f"{module}.py")
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded  # before running it: its dataclasses look their module up
        spec.loader.exec_module(loaded)
    return sys.modules[name]


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """torch on one thread, as the example trials train (their ``--threads`` default): on a
    loaded two-core machine more threads only contend. Restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def load_katib_example(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / "katib-examples" / name).read_text())


@pytest.fixture
def no_cluster(tmp_path, monkeypatch):
    """No kubeconfig anywhere and not in a cluster, as on a laptop that never used one."""
    from kubernetes.client import Configuration
    from kubernetes.config import kube_config

    missing = tmp_path / "no-kubeconfig"
    monkeypatch.setenv("KUBECONFIG", str(missing))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(missing))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    saved = Configuration.get_default_copy()
    yield
    Configuration.set_default(saved)


@pytest.fixture
def usual_sigint() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as in a kernel (pytest started as a background job
    inherits it ignored, and a run leaves an ignored signal ignored); the handler found is put
    back after. Used by the stop-button tests (``pytestmark``)."""
    saved = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved if saved is not None else signal.SIG_DFL)


@pytest.fixture
def clean_plugin_registries() -> Iterator[None]:
    """The algorithm, early-stopping and store-scheme registries, the catalogue and the record of
    which plug-in registered what, as they were before the test: a plug-in a test registers must
    not leak into the next one (a plug-in's takeover of 'random' once reached compile's notes in
    later tests of the worker)."""
    from kfp_tune import plugins, stores
    from kfp_tune.algorithms import early_stopping, registry
    from kfp_tune.core import catalogue

    live = (registry._FACTORIES, registry._SPACE_ADJUSTERS, catalogue.ALGORITHMS, catalogue.EARLY_STOPPING, early_stopping.RULES, stores._OPENERS,
            plugins._providers)  # which plug-in registered a name: compile's note on the image reads it
    kept = [dict(d) for d in live]
    yield
    for registry_now, before in zip(live, kept, strict=True):
        registry_now.clear()
        registry_now.update(before)  # type: ignore[attr-defined]


@pytest.fixture
def katib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A ``kfp_tune.KatibClient`` with no KFP host (trials run here) on a folder store of its own."""
    from kfp_tune.katib_client import KatibClient

    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    return KatibClient(store=str(tmp_path / "store"))


@pytest.fixture
def local_store(tmp_path: Path):
    from kfp_tune.stores import LocalStore

    return LocalStore(tmp_path / "store")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory):
    from seaweed import start_seaweed

    server = start_seaweed(tmp_path_factory.mktemp("seaweed"), S3_ACCESS_KEY, S3_SECRET_KEY)
    yield server
    server.stop()


@pytest.fixture
def s3_env(seaweed, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment a component sees in a cluster: endpoint and credentials as env vars."""
    for key, value in seaweed.env().items():
        monkeypatch.setenv(key, value)
    return seaweed.env()


@pytest.fixture
def s3_bucket(seaweed) -> Iterator[str]:
    from minio import Minio

    client = Minio(seaweed.endpoint.split("://")[1], access_key=seaweed.access_key, secret_key=seaweed.secret_key, secure=False)
    name = f"test-{uuid.uuid4().hex[:12]}"
    client.make_bucket(name)
    yield name
    # emptied and removed, so its volumes are freed for the session's later buckets
    with contextlib.suppress(Exception):
        for item in client.list_objects(name, recursive=True):
            client.remove_object(name, item.object_name)
        client.remove_bucket(name)


@pytest.fixture
def s3_store(s3_env, s3_bucket):
    from kfp_tune.stores.s3 import S3Store

    return S3Store.from_uri(f"s3://{s3_bucket}/some/prefix")


@pytest.fixture(autouse=True)
def _restore_print():
    """kfp.local indents ``print`` by swapping ``builtins.print`` per task; two tasks of a
    ParallelFor running at once can restore each other's swap, leaving it indented after an
    in-process run (kfp 2.17). The CLI runs kfp.local in a child process; tests that run it in
    this one must not leak it into the next test's output."""
    original = builtins.print
    yield
    builtins.print = original


LOGGERS_ENTRY_POINTS_SET = ("kfp_tune", "urllib3.connectionpool")
"""The loggers whose level kfp-tune's entry points set: the steps' ``kfp_tune`` (DEBUG under
KFP_TUNE_DEBUG), the CLI's ``urllib3.connectionpool`` (ERROR without -v)."""


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """The root logger's level, handlers and filters, ``logging.disable``'s level, the levels of
    the loggers kfp-tune's entry points set, and ``sys.excepthook`` (the steps' logging set-up
    sets it) as they were before the test. Only entry points configure logging (the CLI's main,
    the steps' functions: ``logging.basicConfig``, which a root logger holding pytest's handlers
    keeps it from doing here), and kfp.local configures the root logger around each task: a run
    of a pipeline in this process whose ParallelFor tasks restore each other's configuration out
    of order leaves it at INFO with a handler of kfp's and without pytest's (kfp 2.17). A later
    test's caplog then saw INFO lines it did not ask for (e7f3cd9).
    Put back only where changed: ``setLevel`` clears every logger's cache."""
    import logging

    root = logging.root
    level, handlers, filters, disabled, hook = root.level, root.handlers[:], root.filters[:], root.manager.disable, sys.excepthook
    named = [(logger, logger.level) for logger in map(logging.getLogger, LOGGERS_ENTRY_POINTS_SET)]
    yield
    if root.handlers != handlers:
        root.handlers[:] = handlers
    if root.filters != filters:
        root.filters[:] = filters
    if root.level != level:
        root.setLevel(level)
    if root.manager.disable != disabled:
        logging.disable(disabled)
    for logger, was in named:
        if logger.level != was:
            logger.setLevel(was)
    sys.excepthook = hook


KFP_CALLER_CHECK_MESSAGE = "can only be used on single-step components, not pipelines used as components, or special components like importers."
"""What kfp 2.17's ``PipelineTask._ensure_container_spec_exists`` says after the name of the method it guards."""
KFP_CALLER_CHECK_SOURCE_SHA256 = "202a7741493c3f7f94d25c4976502c792576b4b84cfcc5b3e719e90de4c9484e"
"""The whole source of that function (kfp 2.17.3) the stand-in below was written against: any
other text (a changed condition, another message) leaves kfp's own check in place."""


@pytest.fixture(scope="session", autouse=True)
def _kfp_task_settings_name_their_caller_from_its_frame() -> Iterator[None]:
    """kfp 2.17 checks every task setting (``set_env_variable``, ``set_cpu_request``...) with
    ``inspect.stack()[1][3]``, for its caller's name in an error: that reads the source line of
    every frame on the stack, and each look-up scans ``sys.modules``. Its cost grows with the
    stack's depth and the modules loaded: under pytest one call took 0.3 s and a tuning step's
    build 20 s (kfp-tune sets a dozen per step); in a plain script about 1.5 ms a call, in a
    Jupyter kernel about 36 ms (a tuning step of 40 checkpoints builds in 14 s there: said in
    docs/guide.md). The same check, naming the same caller (its frame's code name, which
    ``inspect.stack()[1][3]`` is), without the walk; only while kfp's function is, whole, the one
    it was written against (else kfp's check stays, with a warning in pytest's summary)."""
    import hashlib
    import inspect
    import warnings

    from kfp.dsl.pipeline_task import PipelineTask

    original = PipelineTask._ensure_container_spec_exists
    if hashlib.sha256(inspect.getsource(original).encode()).hexdigest() != KFP_CALLER_CHECK_SOURCE_SHA256:
        warnings.warn("kfp's PipelineTask._ensure_container_spec_exists is not the one tests/conftest.py stands in for: "
                      "kfp's own check runs (pipeline builds in tests are slower); update the stand-in and its hash", stacklevel=1)
        yield
        return

    def ensure_container_spec_exists(task: PipelineTask) -> None:
        if task.container_spec is None:
            caller_method_name = sys._getframe(1).f_code.co_name
            raise ValueError(f"{caller_method_name} {KFP_CALLER_CHECK_MESSAGE}")

    ensure_container_spec_exists.kfp_original = original  # type: ignore[attr-defined]  # for test_fixtures_shared
    PipelineTask._ensure_container_spec_exists = ensure_container_spec_exists  # type: ignore[method-assign]
    yield
    PipelineTask._ensure_container_spec_exists = original  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def _temporary_files_under_pytests_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The suite's temporary files go under pytest's own folder, which pytest prunes (it keeps
    the last three runs), not into the machine's: kfp.local's tasks make a temporary folder
    each (``mktemp -d``) and never remove it, hundreds per run of the suite."""
    folder = tmp_path_factory.mktemp("tmp")
    saved = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = str(folder), str(folder)
    yield
    if saved[0] is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = saved[0]
    tempfile.tempdir = saved[1]


HOST_SETTINGS = ("KFP_TUNE_", "AWS_", "KFP_HOST", "KUBECONFIG")
"""Variables that change what kfp-tune, minio or the kubernetes client do: a test sets the ones it
needs (with monkeypatch); none comes from the shell the suite was started in."""


@pytest.fixture(autouse=True)
def _conditions_parsed_afresh() -> Iterator[None]:
    """``conditions.parse`` keeps its results (lru_cache): a condition parsed by an earlier test,
    or by mutmut's run of the unmutated tests before it forks one process per mutant, must not
    answer for this one. (Left filled, it hid 87 mutants of the parser from the core's run.)"""
    from kfp_tune.core import conditions

    conditions.parse.cache_clear()
    yield
    conditions.parse.cache_clear()


@pytest.fixture
def kubeconfig_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fake Kubernetes API server (tests/support/fake_kube.py) reached through a kubeconfig, as
    a person's (kfp-tune cleanup, logs)."""
    from fake_kube import reached_through_kubeconfig

    with reached_through_kubeconfig(tmp_path, monkeypatch) as kube:
        yield kube


@pytest.fixture
def completed_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The quadratic experiment's YAML, run to its end (2 trials, Succeeded) in tmp_path/store."""
    from read_only_store import completed_quad

    path = completed_quad(tmp_path)
    capsys.readouterr()
    return path


@pytest.fixture(autouse=True)
def _same_environment_for_every_test():
    """Every test starts from one environment, whatever the shell set or an earlier test left:
    the host's kfp-tune settings, S3 credentials and cluster config are unset, and whatever a
    test changed in ``os.environ`` (itself or through the code it ran) is put back after it.
    ``KFP_TUNE_IMAGE`` then names the default runtime image, as on a cluster whose registry
    serves that name, so submit, schedule and tune(host=) send pipelines to the fake KFP API (in
    this process and in the CLI processes and notebook kernels a test starts): nobody publishes
    that image, and kfp-tune refuses to send a pipeline naming it otherwise; the tests of that
    refusal unset it (tests/pipelines/test_unpublished_image.py)."""
    from kfp_tune.launchers.runtime_image import DEFAULT_RUNTIME_IMAGE

    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith(HOST_SETTINGS)]:
        del os.environ[name]
    os.environ["KFP_TUNE_IMAGE"] = DEFAULT_RUNTIME_IMAGE
    yield
    for name in [n for n in os.environ if n not in saved]:
        del os.environ[name]
    os.environ.update(saved)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The shuffled order's seed, also under ``-q`` (which hides pytest-randomly's header line),
    so a failure seen once can be run again in the same order."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(f"test order shuffled by pytest-randomly: repeat it with --randomly-seed={seed}")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``long`` (whole experiments, the suite's longest tests) go first, in
    pytest-randomly's order among themselves, then the rest in theirs. pytest-xdist hands the
    first tests out in turn, so the long ones are spread over the workers from the start and the
    short ones fill in behind them; a long test handed out last would leave the other worker
    idle for its whole length (before 8637f3e, the enas example: three minutes of a 15-minute suite)."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
