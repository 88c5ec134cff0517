"""The distribution: one import package, every module importable from a built wheel, and a core
free of kfp, kubernetes and minio imports."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

CORE = REPO / "src" / "kfp_tune" / "core"
PURE_FOLDERS = [CORE, REPO / "algorithms", REPO / "src" / "kfp_tune" / "collectors"]
FORBIDDEN = {"kfp", "kubernetes", "minio"}


@pytest.mark.parametrize("folder", PURE_FOLDERS, ids=lambda p: p.name)
def test_pure_parts_import_no_platform_library(folder):
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.relative_to(REPO)} imports {name}"


def test_importing_the_package_loads_no_platform_library():
    code = "import sys, kfp_tune, kfp_tune.cli, kfp_tune.inline_runner; print(sorted(m for m in ('kfp','kubernetes','minio') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_library_never_configures_logging():
    for path in (REPO / "src").rglob("*.py"):
        if path.name in ("cli.py", "entrypoints.py"):
            continue  # entry points
        assert "basicConfig" not in path.read_text(), path


def test_built_wheel_holds_every_module_under_one_package(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(REPO)],
        check=True, capture_output=True, text=True,
    )
    wheel = next(tmp_path.glob("kfp_tune-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"kfp_tune", wheel.name.split("-py3")[0] + ".dist-info"}
    sources = {p.relative_to(REPO / "src").as_posix() for p in (REPO / "src").rglob("*.py")}
    for folder in ("algorithms", "components", "pipelines"):
        sources |= {f"kfp_tune/{p.relative_to(REPO).as_posix()}" for p in (REPO / folder).rglob("*.py")}
    assert sources <= set(names), sorted(sources - set(names))
    shipped = {f"kfp_tune/components/{d}/{f}" for d in ("suggest", "launch_trial", "collect_metrics", "decide_stop") for f in ("component.yaml", "README.md")}
    assert shipped <= set(names), sorted(shipped - set(names))
    # import every module from the unpacked wheel, not from this checkout
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    modules = [n[:-3].replace("/", ".").removesuffix(".__init__") for n in names if n.endswith(".py")]
    code = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(target)!r})\n"
        "for m in sys.argv[1:]:\n"
        f"    assert importlib.import_module(m).__file__.startswith({str(target)!r}), m\n"
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code, *modules], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_editable_install_imports_every_module():
    sources = [p.relative_to(REPO / "src").as_posix() for p in (REPO / "src").rglob("*.py")]
    for folder in ("algorithms", "components", "pipelines"):
        sources += [f"kfp_tune/{p.relative_to(REPO).as_posix()}" for p in (REPO / folder).rglob("*.py")]
    modules = sorted(s[:-3].replace("/", ".").removesuffix(".__init__") for s in sources)
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\nprint(len(sys.argv) - 1)"
    result = subprocess.run([sys.executable, "-c", code, *modules], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) == len(modules) > 30


def test_runtime_image_is_pinned_non_root_and_installs_nothing_at_run_time():
    import tomllib

    from kfp_tune.components._image import DEFAULT_RUNTIME_IMAGE

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    version = project["project"]["version"]
    # one pinned reference, tagged with the package version it holds
    assert DEFAULT_RUNTIME_IMAGE.endswith(f":{version}")
    import kfp_tune

    assert kfp_tune.__version__ == version
    dockerfile = (REPO / "images" / "runtime" / "Dockerfile").read_text()
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    # the image gets every folder the package is built from
    for folder in set(project["tool"]["setuptools"]["package-dir"].values()):
        assert f"COPY {folder.split('/')[0]}/ " in dockerfile, folder
    for folder in ("suggest", "launch_trial", "collect_metrics", "decide_stop"):
        text = (REPO / "components" / folder / "component.yaml").read_text()
        assert "pip install" not in text and f"image: {DEFAULT_RUNTIME_IMAGE}" in text
