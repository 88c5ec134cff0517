"""QA "airgap" finding 4: after an install without kfp-tune's dependencies (pip install
--no-deps, an incomplete offline wheelhouse) a command said "unexpected ModuleNotFoundError: No
module named 'minio' (a defect in kfp-tune ...)". It names the package and the pip command that
installs it (the extra, for a package only an extra declares); kfp-tune's own modules missing is
still a defect. Review B found it said so only for modules a command imports later (finding 1:
pydantic, yaml, numpy missing while the command loads printed a traceback) and that a dependency a
built-in algorithm imports (scipy) was blamed on the algorithm (finding 7)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from kfp_tune.cli import main


def _failing_list(monkeypatch, module: str) -> None:
    """``kfp-tune list`` failing on an import of ``module``, as where it is not installed."""
    from kfp_tune import cli

    def command(args):
        raise ModuleNotFoundError(f"No module named {module!r}", name=module)

    monkeypatch.setattr(cli, "cmd_list", command)


@pytest.mark.parametrize(
    "module, said",
    [
        ("minio", "error: kfp-tune's dependency minio is not installed here (kfp-tune installed with --no-deps?): pip install 'minio"),
        ("yaml", "error: kfp-tune's dependency pyyaml (module 'yaml') is not installed here (kfp-tune installed with --no-deps?): pip install 'pyyaml"),
        ("torch", "error: the Python package torch, which kfp-tune's 'nas-examples' extra installs, is not installed here: pip install 'kfp-tune[nas-examples]'"),
        ("no_such_module_kfp_tune_test", "error: the Python module 'no_such_module_kfp_tune_test' is not installed here (pip install the package that provides it"),
    ],
)
def test_a_missing_package_is_named_with_the_command_that_installs_it(monkeypatch, capsys, module, said):
    _failing_list(monkeypatch, module)
    assert main(["list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(said) and err.count("\n") == 1, err
    assert "a defect in kfp-tune" not in err


def test_a_missing_module_of_kfp_tune_itself_is_still_a_defect(monkeypatch, capsys):
    _failing_list(monkeypatch, "kfp_tune.gone")
    assert main(["list"]) == 1
    assert capsys.readouterr().err == "error: unexpected ModuleNotFoundError: No module named 'kfp_tune.gone' (a defect in kfp-tune; -vv shows the traceback)\n"


def test_a_store_whose_client_is_not_installed_says_so(monkeypatch, capsys, tmp_path):
    """As QA met it: minio uninstalled, ``kfp-tune list --store s3://...``."""
    monkeypatch.setitem(sys.modules, "minio", None)  # importing it raises ModuleNotFoundError, name 'minio'
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-never-shown")
    assert main(["list", "--store", "s3://bkt/x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: kfp-tune's dependency minio is not installed here") and "secret-never-shown" not in err, err


# While the command loads (review B, finding 1): after pip install --no-deps, pydantic, yaml and
# numpy are missing when ``kfp_tune.cli`` imports the package, before ``main`` runs; that printed a
# traceback. These run the command itself in a process where the module cannot be imported.

REPO = Path(__file__).resolve().parents[1]
EXPERIMENT = REPO / "images" / "sklearn-digits" / "experiment.yaml"
BLOCKER = textwrap.dedent("""
    import sys

    class NotInstalled:
        def find_spec(self, name, path=None, target=None):
            if name in BLOCKED or name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
""")


def _without(tmp_path: Path, *modules: str) -> dict[str, str]:
    """An environment whose Python cannot import ``modules`` (a sitecustomize, which runs before
    anything the command imports)."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(f"BLOCKED = {set(modules)!r}\n{BLOCKER}")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(shim), *filter(None, [os.environ.get("PYTHONPATH")])])}


def _dependency_line(package: str, module: str, requirement: str) -> str:
    named = package if package == module else f"{package} (module {module!r})"
    return (f"error: kfp-tune's dependency {named} is not installed here (kfp-tune installed with --no-deps?): pip install '{requirement}', "
            "or reinstall kfp-tune with its dependencies (pip check lists what else is missing)\n")


def _requirement(package: str) -> str:
    declared = [line for line in metadata.requires("kfp-tune") or [] if line.lower().startswith(package) and "extra" not in line]
    assert len(declared) == 1, declared
    return declared[0].split(";")[0].strip()


@pytest.mark.parametrize("module, package", [("pydantic", "pydantic"), ("yaml", "pyyaml"), ("numpy", "numpy")])
@pytest.mark.parametrize("started_as", ["console script", "python -m"])
def test_a_dependency_missing_while_the_command_loads_is_one_line(tmp_path: Path, module: str, package: str, started_as: str) -> None:
    console_script = Path(sys.executable).parent / "kfp-tune"
    command = [str(console_script)] if started_as == "console script" else [sys.executable, "-m", "kfp_tune.cli"]
    if started_as == "console script" and not console_script.exists():
        pytest.skip("kfp-tune is not installed as a console script beside this Python")
    done = subprocess.run([*command, "validate", str(EXPERIMENT)], capture_output=True, text=True, timeout=120, env=_without(tmp_path, module))
    assert (done.returncode, done.stderr, done.stdout) == (1, _dependency_line(package, module, _requirement(package)), "")


def test_with_vv_the_traceback_comes_too(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "kfp_tune.cli", "-vv", "--version"], capture_output=True, text=True, timeout=120,
                          env=_without(tmp_path, "pydantic"))
    assert done.returncode == 1 and done.stderr.startswith("Traceback") and done.stderr.endswith(_dependency_line("pydantic", "pydantic", _requirement("pydantic")))


def test_every_dependency_missing_as_after_a_no_deps_install(tmp_path: Path) -> None:
    """A venv holding nothing but kfp-tune's code and metadata (what ``pip install --no-deps`` of
    the wheel leaves): the first dependency the package imports is named."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True, timeout=120)
    site = tmp_path / "site"
    (site / "kfp_tune-0.dist-info").mkdir(parents=True)
    requires = "".join(f"Requires-Dist: {line}\n" for line in metadata.requires("kfp-tune") or [])
    (site / "kfp_tune-0.dist-info" / "METADATA").write_text(f"Metadata-Version: 2.1\nName: kfp-tune\nVersion: 0\n{requires}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO / "src")]), "PYTHONNOUSERSITE": "1"}
    python = tmp_path / "venv" / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import pydantic"], capture_output=True, text=True, env=env, timeout=120)
    assert probe.returncode == 1 and "No module named 'pydantic'" in probe.stderr  # nothing but kfp-tune there
    done = subprocess.run([str(python), "-m", "kfp_tune.cli", "validate", str(EXPERIMENT)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and done.stdout == "", done.stderr
    assert re.fullmatch(r"error: kfp-tune's dependency \S+( \(module '\w+'\))? is not installed here \(kfp-tune installed with --no-deps\?\): "
                        r"pip install '[^']+', or reinstall kfp-tune with its dependencies \(pip check lists what else is missing\)\n", done.stderr), done.stderr


def test_a_library_user_s_process_keeps_python_s_own_excepthook() -> None:
    done = subprocess.run([sys.executable, "-c", "import sys, kfp_tune; print(sys.excepthook is sys.__excepthook__)"], capture_output=True, text=True, timeout=120)
    assert done.stdout == "True\n", done.stderr[-2000:]


# During a run (review B, finding 7): a dependency of kfp-tune that a built-in algorithm imports
# was blamed on "that algorithm, not kfp-tune".

def test_a_dependency_a_built_in_algorithm_imports_is_named_as_kfp_tune_s(tmp_path: Path) -> None:
    experiment = yaml.safe_load(EXPERIMENT.read_text())
    assert experiment["spec"]["algorithm"]["algorithmName"] == "random"
    command = [sys.executable, "-m", "kfp_tune.cli", "run", str(EXPERIMENT), "--engine", "inline", "--store", str(tmp_path / "store"),
               "--mount", f"/opt/digits={EXPERIMENT.parent}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=_without(tmp_path, "scipy"))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] + "\n" == _dependency_line("scipy", "scipy", _requirement("scipy")), done.stderr[-2000:]
    assert "not in kfp-tune" not in done.stderr


class ImportsWhatIsNotInstalled:
    name = "random"

    def __init__(self, settings):
        pass

    def suggest(self, problem, history, pending, n, rng):
        import no_such_module_of_a_plugin  # type: ignore[import-not-found]  # noqa: F401


def test_a_module_a_plug_in_algorithm_imports_is_still_the_algorithm_s(tmp_path: Path, capsys, clean_plugin_registries) -> None:
    from conftest import quadratic_experiment
    from kfp_tune.algorithms import registry

    registry.register("random", ImportsWhatIsNotInstalled)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment()))
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 1
    err = capsys.readouterr().err
    assert re.search(r"error: algorithm 'random' \(\S*ImportsWhatIsNotInstalled\) raised ModuleNotFoundError: No module named 'no_such_module_of_a_plugin' "
                     r"\(at .*test_cli_missing_dependency\.py:\d+, in suggest\): the error is in that algorithm, not in kfp-tune", err), err
