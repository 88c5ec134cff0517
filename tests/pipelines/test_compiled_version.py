"""A compiled pipeline names the kfp-tune that compiled it, and each component refuses, first and in
one line, to run it in an image that holds another kfp-tune (the upgrade QA pass: a pipeline
compiled by one version failed in another's image with a raw ModuleNotFoundError, and one run's
steps could come from two versions)."""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import kfp_tune
from conftest import quadratic_experiment
from kfp_tune.components.export import COMPONENTS
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.version import COMPILED_BY_VARIABLE, build_stamp, described, image_version, version_mismatch
from kfp_tune.launchers.runtime_image import DEFAULT_RUNTIME_IMAGE
from kfp_tune.pipelines import compile_pipeline

OTHER = "0.0.1"
"""A version this checkout is not: what an older pipeline or image says."""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != COMPILED_BY_VARIABLE}
    return {**env, **extra}


def test_the_version_is_spelled_once_and_tags_the_default_image():
    assert kfp_tune.__version__ and kfp_tune.__version__ != OTHER
    assert f"ghcr.io/kfp-tune/kfp-tune-python:{kfp_tune.__version__}" == DEFAULT_RUNTIME_IMAGE


def test_every_task_and_the_description_name_the_compiling_version(tmp_path):
    path = compile_pipeline(load_experiment(quadratic_experiment()), tmp_path / "p.yaml", rounds=2)
    ir = next(yaml.safe_load_all(path.read_text()))
    assert ir["pipelineInfo"]["description"].endswith(f"compiled by kfp-tune {described(build_stamp())}")  # the version and the build
    executors = ir["deploymentSpec"]["executors"]
    assert len(executors) >= 5  # suggest, two checkpoints of launch-trial and decide-stop, the release
    for name, executor in executors.items():
        env = {e["name"]: e["value"] for e in executor["container"].get("env", [])}
        assert env.get(COMPILED_BY_VARIABLE) == build_stamp() == f"{kfp_tune.__version__}+{build_stamp().partition('+')[2]}", name
        assert "kfp_tune.check_compiled_version()" in " ".join(executor["container"]["command"]), name


@pytest.mark.parametrize("folder", sorted(COMPONENTS))
def test_each_component_checks_the_version_before_anything_else(folder):
    """First: before any import of kfp-tune's own modules, which another version may not have."""
    function = ast.parse(inspect.getsource(COMPONENTS[folder].python_func)).body[0]
    assert isinstance(function, ast.FunctionDef)
    body = function.body[1:] if isinstance(function.body[0], ast.Expr) and isinstance(function.body[0].value, ast.Constant) else function.body
    assert [ast.unparse(statement) for statement in body[:2]] == ["import kfp_tune", "kfp_tune.check_compiled_version()"]


def test_a_pipeline_of_another_version_stops_at_its_first_step_in_one_line(tmp_path):
    """suggest's own function, as its pod runs it: it stops before the store is touched."""
    store = tmp_path / "store"
    store.mkdir()
    spec = json.dumps(load_experiment(quadratic_experiment()).to_dict())
    code = (
        "import sys\nfrom kfp_tune.components import suggest\n"
        "suggest.python_func(store_uri=sys.argv[1], experiment_name='e', run_id='r', round_index=0, rounds_total=1, experiment_spec=sys.argv[2])"
    )
    done = subprocess.run([sys.executable, "-c", code, str(store), spec], env=_env(**{COMPILED_BY_VARIABLE: OTHER}), capture_output=True, text=True, timeout=120)
    version = kfp_tune.__version__
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: this pipeline was compiled by kfp-tune {OTHER} and this image holds kfp-tune {version}: recompile it "
        f"(and recreate its recurring run) with kfp-tune {version}, or run it with the image for {OTHER}"
    ]
    assert list(store.iterdir()) == []


@pytest.mark.parametrize("stamp", ["same", None])
def test_the_same_version_or_an_unstamped_pipeline_runs_as_before(stamp):
    """kfp.local (compiled and run by this kfp-tune), and a pipeline compiled before the stamp."""
    env = _env() if stamp is None else _env(**{COMPILED_BY_VARIABLE: kfp_tune.__version__})
    done = subprocess.run([sys.executable, "-c", "import kfp_tune; kfp_tune.check_compiled_version(); print('ran')"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == "ran\n", done.stderr


def test_the_message_names_both_versions_and_what_to_do():
    assert version_mismatch(None, "2.0") is None and version_mismatch("", "2.0") is None and version_mismatch("2.0", "2.0") is None
    problem = version_mismatch("1.0", "2.0")
    assert problem is not None
    assert problem.startswith("this pipeline was compiled by kfp-tune 1.0 and this image holds kfp-tune 2.0")
    assert "recompile it (and recreate its recurring run) with kfp-tune 2.0, or run it with the image for 1.0" in problem


def test_the_stamp_is_read_from_the_tasks_env_not_the_compilers(tmp_path, monkeypatch):
    """Compiling under a stray KFP_TUNE_COMPILED_BY still stamps this version."""
    monkeypatch.setenv(COMPILED_BY_VARIABLE, OTHER)
    path = compile_pipeline(load_experiment(quadratic_experiment()), tmp_path / "p.yaml", rounds=1)
    assert f"value: {OTHER}" not in Path(path).read_text()


def test_a_tuning_step_and_component_trials_are_stamped_and_checked_too(tmp_path):
    """Their own generated components (claim, record, begin and end of component trials) check the
    version first, as the four components do, and the pipelines name it."""
    from kfp import compiler, dsl

    from kfp_tune.pipelines import component_trials, tuning_step

    def plain(x: float, y: float) -> float:
        return x + y

    plain.__annotations__ = {"x": float, "y": float, "return": float}  # KFP reads types, not this file's string annotations
    component = dsl.component(plain)

    doc = quadratic_experiment()
    for name, pipeline in (("step", tuning_step(doc)), ("components", component_trials(doc, component))):
        path = tmp_path / f"{name}.yaml"
        compiler.Compiler().compile(pipeline, str(path))
        ir = next(yaml.safe_load_all(path.read_text()))
        assert ir["pipelineInfo"]["description"].endswith(f"compiled by kfp-tune {described(build_stamp())}"), name
        for executor_name, executor in ir["deploymentSpec"]["executors"].items():
            if "plain" in executor_name:
                continue  # the user's own component: it need not import kfp-tune
            env = {e["name"]: e["value"] for e in executor["container"].get("env", [])}
            assert env.get(COMPILED_BY_VARIABLE) == build_stamp(), (name, executor_name)
            assert "kfp_tune.check_compiled_version()" in " ".join(executor["container"]["command"]), (name, executor_name)


@pytest.mark.parametrize(("image", "version"), [
    ("ghcr.io/kfp-tune/kfp-tune-python:0.1.0", "0.1.0"), ("reg.io:5000/team/kfp-tune-python:v0.2", "0.2"),
    ("kfp-tune-python:1.0.0rc1", "1.0.0rc1"), ("kfp-tune-python:0.3.0.dev2", "0.3.0.dev2"),
    ("reg.io:5000/kfp-tune-python:0.1.0@sha256:" + "a" * 64, "0.1.0"),
    # tags that say nothing of the version, and no tag at all (the colon is a registry's port)
    ("kfp-tune-python:latest", None), ("kfp-tune-python:2026-12-06", None), ("kfp-tune-python:main-3f0d6e9", None),
    ("kfp-tune-python:2024.06.01", None), ("kfp-tune-python:v2024.6", None),  # a date in dotted CalVer (a review)
    ("reg.io:5000/kfp-tune-python", None), ("kfp-tune-python@sha256:" + "a" * 64, None), ("kfp-tune-python", None),
])
def test_an_images_version_is_read_only_from_a_tag_that_is_one(image, version):
    assert image_version(image) == version


def test_compiling_with_an_image_tagged_another_version_warns_naming_both(tmp_path, monkeypatch):
    """Its steps would stop at once in the cluster (each checks the version first); the compile
    said nothing. A tag that is no version (latest) says nothing of the kfp-tune inside: no warning."""
    import warnings

    from kfp_tune.launchers import runtime_image
    from kfp_tune.launchers.runtime_image import RuntimeImageWarning
    from kfp_tune.pipelines.local_run import local_pipeline

    experiment = load_experiment(quadratic_experiment())
    monkeypatch.setattr(runtime_image, "RUNTIME_IMAGE", f"reg.io:5000/kfp-tune-python:{OTHER}")
    with pytest.warns(RuntimeImageWarning) as told:
        compile_pipeline(experiment, tmp_path / "p.yaml", rounds=1)
    assert [str(w.message) for w in told] == [
        f"KFP_TUNE_IMAGE: the steps' image reg.io:5000/kfp-tune-python:{OTHER} is tagged {OTHER}, and they are compiled by kfp-tune "
        f"{described(build_stamp())}: if that image holds kfp-tune {OTHER}, every step stops at once; use the runtime image built for "
        f"kfp-tune {described(build_stamp())} (KFP_TUNE_IMAGE=REGISTRY/kfp-tune-python:{kfp_tune.__version__}-{build_stamp().partition('+')[2]})"
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeImageWarning)
        local_pipeline(experiment, str(tmp_path / "store"), {"kind": "local"}, rounds=1)  # kfp.local runs its steps here, not in the image
        for image in ("reg.io:5000/kfp-tune-python:latest", f"reg.io:5000/kfp-tune-python:v{kfp_tune.__version__}"):
            monkeypatch.setattr(runtime_image, "RUNTIME_IMAGE", image)
            compile_pipeline(experiment, tmp_path / "p.yaml", rounds=1)


def test_a_short_tag_of_the_same_release_is_no_other_version():
    """A review: ':0.1' for kfp-tune 0.1.0 was warned of as another version (PEP 440: the same)."""
    from kfp_tune.core.version import image_version_problem, same_version

    assert same_version("0.1", "0.1.0") and same_version("1.0.0", "1") and same_version("0.01", "0.1")
    assert not same_version("0.1.1", "0.1.0") and not same_version("0.1.0rc1", "0.1.0") and not same_version("0.2", "0.1.0")
    assert image_version_problem("r/kfp-tune-python:0.1", "0.1.0") is None
    assert image_version_problem("r/kfp-tune-python:v0.1.0", "0.1.0") is None
    assert image_version_problem("r/kfp-tune-python:0.1.1", "0.1.0") is not None


def test_an_image_set_after_kfp_tune_was_imported_is_said_not_silently_ignored(tmp_path, monkeypatch):
    """QA "notebook" (session 31): KFP_TUNE_IMAGE set in a cell after `import kfp_tune` was
    silently ignored (the components are made at the import), and the guide said it was read at
    compile time. Compiling says so, naming both images."""
    from kfp_tune.launchers import runtime_image
    from kfp_tune.launchers.runtime_image import RuntimeImageWarning

    monkeypatch.setenv("KFP_TUNE_IMAGE", f"reg.io/team/kfp-tune-python:{kfp_tune.__version__}")
    with pytest.warns(RuntimeImageWarning) as told:
        compile_pipeline(load_experiment(quadratic_experiment()), tmp_path / "p.yaml", rounds=1)
    assert [str(w.message) for w in told] == [
        f"KFP_TUNE_IMAGE is 'reg.io/team/kfp-tune-python:{kfp_tune.__version__}' now, but kfp-tune read it when it was imported "
        f"and its components run {runtime_image.RUNTIME_IMAGE!r}: set it before kfp_tune is imported (in a notebook, restart the kernel "
        "and set it first)"
    ]
