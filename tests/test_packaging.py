"""The distribution: one import package, every module importable from a built wheel, a pure core,
layers that only import downwards, and no import cycle."""

from __future__ import annotations

import ast
import functools
import hashlib
import itertools
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no tomllib: tomli is the same parser (the test extra installs it there)
    import tomli as tomllib


def pyproject() -> dict:
    """pyproject.toml, parsed."""
    return tomllib.loads((REPO / "pyproject.toml").read_text())

CORE = REPO / "src" / "kfp_tune" / "core"
PURE_FOLDERS = [CORE, REPO / "algorithms", REPO / "src" / "kfp_tune" / "collectors", REPO / "src" / "kfp_tune" / "steps",
                REPO / "src" / "kfp_tune" / "reports.py", REPO / "src" / "kfp_tune" / "progress.py"]
FORBIDDEN = {"kfp", "kubernetes", "minio", "boto3", "botocore"}
"""The platform libraries: the Kubeflow Pipelines SDK, the Kubernetes client and the S3 clients."""


@functools.cache
def _tree(path: Path) -> ast.Module:
    """A source file's syntax tree, parsed once for all the import checks (each walks every
    module; they only read it)."""
    return ast.parse(path.read_text())


def _platform_imports(path: Path) -> list[str]:
    """The modules of a FORBIDDEN library that the file imports, anywhere in it."""
    found = []
    for node in ast.walk(_tree(path)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        found += [name for name in names if name.split(".")[0] in FORBIDDEN]
    return found


@pytest.mark.parametrize("folder", PURE_FOLDERS, ids=lambda p: p.name)
def test_pure_parts_import_no_platform_library(folder):
    for path in [folder] if folder.suffix == ".py" else folder.rglob("*.py"):
        assert not _platform_imports(path), f"{path.relative_to(REPO)} imports {_platform_imports(path)}"


def test_every_platform_library_is_caught(tmp_path):
    module = tmp_path / "scratch.py"
    module.write_text("import boto3\nfrom botocore.config import Config\nimport minio.error\nimport json\n\ndef f():\n    from kfp import dsl\n")
    assert _platform_imports(module) == ["boto3", "botocore.config", "minio.error", "kfp"]


SOURCE_ROOTS = {"kfp_tune": REPO / "src" / "kfp_tune", "kfp_tune.algorithms": REPO / "algorithms",
                "kfp_tune.components": REPO / "components", "kfp_tune.pipelines": REPO / "pipelines"}
LAYERS = [
    ("core",),
    ("algorithms", "stores", "collectors", "launchers"),  # plug-ins: the core's interfaces, implemented
    ("steps", "reports", "report_views", "progress", "search"),
    ("components", "pipelines"),
    ("inline_runner", "api", "client", "katib_client", "remote"),
    ("cli", "cli_start", "__init__", "plugins"),
]
"""Each part of kfp_tune may import its own layer and the layers above it in this list, never
one below: the core imports no plug-in, no plug-in imports a step, nothing imports the CLI."""


def _modules() -> dict[str, Path]:
    found = {}
    for package, root in SOURCE_ROOTS.items():
        for path in root.rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Every kfp_tune module this one imports, at the top or inside a function (a lazy import
    is a dependency all the same). Imports under ``if TYPE_CHECKING:`` are left out: they name
    types for annotations and never run."""
    out = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = _tree(path)
    type_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING") for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("kfp_tune")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if not base.startswith("kfp_tune"):
                continue
            for alias in node.names:
                out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in out if m in known and m != module}


def _layer(module: str) -> int:
    """The module's place in LAYERS; an AssertionError naming it when it has none."""
    part = module.split(".")[1] if "." in module else "__init__"
    found = next((i for i, names in enumerate(LAYERS) if part in names), None)
    assert found is not None, f"{module} is in no layer: add {part!r} to LAYERS in tests/test_packaging.py"
    return found


def test_every_module_has_a_layer():
    assert [_layer(module) for module in _modules()]


def test_a_module_outside_every_layer_is_named():
    with pytest.raises(AssertionError, match=r"kfp_tune\.scratch\.thing is in no layer: add 'scratch' to LAYERS"):
        _layer("kfp_tune.scratch.thing")


PLUGINS = LAYERS[1]
PLUGIN_IMPORTS = {
    ("launchers", "collectors"): "a launcher runs the experiment's collector with its trial: the StdOut parser, the follower, "
    "the sidecar's container, the Custom collector's container",
    ("launchers", "stores"): "the local launcher opens the store it was given, for the collectors it follows and the checkpoint folders",
    ("collectors", "stores"): "the sidecar and report_metrics open the store the trial's environment names",
}
"""Which plug-in package may import which other one, (importer, imported), and why. Plug-ins
share what they need through the core; an import between two of them is declared here, and
never both ways (a cycle between packages: move what both need to the core, or to the package
that owns it, as ``launchers.runtime_image.default_image``)."""


def _plugin(module: str) -> str | None:
    part = module.split(".")[1] if "." in module else ""
    return part if part in PLUGINS else None


def test_plugin_packages_import_each_other_only_as_declared():
    modules = _modules()
    found: dict[tuple[str, str], list[str]] = {}
    for module, path in modules.items():
        importer = _plugin(module)
        for target in _imports(path, module, set(modules)) if importer else ():
            imported = _plugin(target)
            if imported is not None and imported != importer:
                found.setdefault((importer, imported), []).append(f"{module} imports {target}")
    undeclared = [use for pair, uses in sorted(found.items()) if pair not in PLUGIN_IMPORTS for use in uses]
    assert not undeclared, (
        f"{undeclared}: an import between plug-in packages; declare (importer, imported) in PLUGIN_IMPORTS in "
        "tests/test_packaging.py, saying why, or share it through the core"
    )
    both_ways = sorted(pair for pair in PLUGIN_IMPORTS if pair[::-1] in PLUGIN_IMPORTS)
    assert not both_ways, f"PLUGIN_IMPORTS declares {both_ways} both ways: an import cycle between packages"
    unused = sorted(set(PLUGIN_IMPORTS) - set(found))
    assert not unused, f"PLUGIN_IMPORTS declares {unused}, which no module imports any more: remove them"


def test_no_module_imports_another_modules_private_name():
    """A name with a leading underscore is its module's own: a second user makes it public (and
    documented), or it changes under that user unseen."""
    found = []
    for module, path in _modules().items():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and ((node.module or "").startswith("kfp_tune") or node.level):
                found += [f"{module} imports {node.module}.{a.name}" for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    assert not found, f"{found}: give the name a public spelling in its module"


def test_core_imports_only_the_core():
    modules = _modules()
    for module, path in modules.items():
        if module.startswith("kfp_tune.core"):
            outside = {m for m in _imports(path, module, set(modules)) if not m.startswith("kfp_tune.core")}
            assert not outside, f"{module} imports {sorted(outside)}"


def _checks_its_version(module: str, target: str) -> bool:
    """A component's body calls ``kfp_tune.check_compiled_version()`` first: the one name that a
    pipeline compiled by any kfp-tune calls in an image of any other, so it lives at the top of the
    package, where no reorganisation moves it (``kfp_tune.core.version``). Component trials build
    their own components (``kfp_tune.pipelines.component_trials``), which call it too."""
    component_body = (module.startswith("kfp_tune.components.") and module.endswith(".component")) or module == "kfp_tune.pipelines.component_trials"
    return target == "kfp_tune" and component_body


def test_imports_go_down_the_layers_only():
    modules = _modules()
    for module, path in modules.items():
        for target in _imports(path, module, set(modules)):
            if _checks_its_version(module, target):
                continue
            assert _layer(target) <= _layer(module), f"{module} (layer {LAYERS[_layer(module)]}) imports {target} (layer {LAYERS[_layer(target)]})"


def test_no_import_cycles():
    modules = _modules()
    graph = {m: _imports(p, m, set(modules)) for m, p in modules.items()}
    # a package's __init__ re-exporting its own modules is not a cycle with them
    graph = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycle = [*trail[trail.index(target):], target] if target in trail else [node, target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def _package(module: str) -> str:
    """The part of kfp_tune a module belongs to, as LAYERS names them: ``steps`` for
    ``kfp_tune.steps.prepare``, ``reports`` for ``kfp_tune.reports``."""
    return module.split(".")[1] if "." in module else "__init__"


def _package_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle between the parts of kfp_tune that the module graph's imports make, as the
    packages and one import each way; None when there is none. Modules can import each other
    one way only and still tie two packages into one (reports imports steps.prepare,
    steps.entrypoints imports reports): neither can be moved or tested alone."""
    edges: dict[str, dict[str, str]] = {}
    for module, targets in graph.items():
        for target in sorted(targets):
            if _package(module) != _package(target) and target != "kfp_tune":  # the root re-exports: no package's own
                edges.setdefault(_package(module), {}).setdefault(_package(target), f"{module} imports {target}")
    state: dict[str, int] = {}

    def visit(package: str, trail: list[str]) -> list[str] | None:
        state[package] = 1
        for target in sorted(edges.get(package, {})):
            if state.get(target) == 1:
                loop = [*trail[trail.index(target):], target]
                return [edges[a][b] for a, b in itertools.pairwise(loop)]
            if target not in state and (found := visit(target, [*trail, target])):
                return found
        state[package] = 2
        return None

    return next((found for package in sorted(edges) if package not in state and (found := visit(package, [package]))), None)


def test_no_import_cycles_between_packages():
    modules = _modules()
    cycle = _package_cycle({m: _imports(p, m, set(modules)) for m, p in modules.items()})
    assert cycle is None, f"an import cycle between packages: {cycle}; move what both need to the core, or to the package that owns it"


def test_a_cycle_between_packages_is_found_where_each_module_import_goes_one_way():
    graph = {"kfp_tune.reports": {"kfp_tune.steps.prepare", "kfp_tune.core.naming"}, "kfp_tune.steps.entrypoints": {"kfp_tune.reports"},
             "kfp_tune.steps.prepare": {"kfp_tune.core.naming"}, "kfp_tune.core.naming": set()}
    assert _package_cycle(graph) == ["kfp_tune.reports imports kfp_tune.steps.prepare", "kfp_tune.steps.entrypoints imports kfp_tune.reports"]
    del graph["kfp_tune.steps.entrypoints"]
    assert _package_cycle(graph) is None


def test_importing_the_package_loads_no_platform_library():
    code = f"import sys, kfp_tune, kfp_tune.cli, kfp_tune.inline_runner; print(sorted(m for m in {sorted(FORBIDDEN)} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_library_never_configures_logging():
    for path in (REPO / "src").rglob("*.py"):
        if path.name in ("cli.py", "entrypoints.py") or path.relative_to(REPO / "src").as_posix() == "kfp_tune/collectors/sidecar.py":
            continue  # entry points (the sidecar is its container's main)
        assert "basicConfig" not in path.read_text(), path


BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "src", "algorithms", "components", "pipelines")
"""What setuptools reads to build the wheel: copied out, so the build's ``build/`` and
``*.egg-info`` folders land in the test's folder, never in the checkout."""

APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
"""The SHA-256 of https://www.apache.org/licenses/LICENSE-2.0.txt, the licence's standard text."""


def test_the_licence_file_is_the_whole_unmodified_apache_2_text():
    assert pyproject()["project"]["license"] == "Apache-2.0"
    assert hashlib.sha256((REPO / "LICENSE").read_bytes()).hexdigest() == APACHE_2_SHA256


def test_the_python_classifiers_are_the_versions_requires_python_allows():
    project = pyproject()["project"]
    lowest = project["requires-python"].removeprefix(">=")
    assert re.fullmatch(r"3\.\d+", lowest), f"requires-python {project['requires-python']!r}: this check reads only '>=3.N'"
    minors = sorted(int(c.rsplit(".", 1)[1]) for c in project["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    # one classifier a release from the lowest up: none below it and no gap
    assert minors and minors == list(range(int(lowest.split(".")[1]), minors[-1] + 1)), minors


def test_the_os_classifiers_are_linux_and_macos():
    """Not "OS Independent": kfp_tune.core.supported_os refuses Windows (WSL2 is Linux)."""
    systems = {c for c in pyproject()["project"]["classifiers"] if c.startswith("Operating System ::")}
    assert systems == {"Operating System :: POSIX :: Linux", "Operating System :: MacOS"}, systems


def test_built_wheel_holds_every_module_under_one_package(tmp_path):
    source = tmp_path / "source"
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, text=True,
    )
    wheel = next(tmp_path.glob("kfp_tune-*.whl"))
    from kfp_tune import __version__

    assert wheel.name.startswith(f"kfp_tune-{__version__}-"), wheel.name  # the version read from its one literal
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    dist_info = wheel.name.split("-py3")[0] + ".dist-info"
    assert top == {"kfp_tune", dist_info}
    # the licence travels with the wheel, and so into the runtime image that installs it
    assert zipfile.ZipFile(wheel).read(f"{dist_info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode().splitlines()
    assert "License-File: LICENSE" in metadata
    # Linux and macOS, not "OS Independent": kfp_tune.core.supported_os refuses Windows
    systems = {line.removeprefix("Classifier: ") for line in metadata if line.startswith("Classifier: Operating System ::")}
    assert systems == {"Operating System :: POSIX :: Linux", "Operating System :: MacOS"}, systems
    sources = {p.relative_to(REPO / "src").as_posix() for p in (REPO / "src").rglob("*.py")}
    for folder in ("algorithms", "components", "pipelines"):
        sources |= {f"kfp_tune/{p.relative_to(REPO).as_posix()}" for p in (REPO / folder).rglob("*.py")}
    assert sources <= set(names), sorted(sources - set(names))
    folders = ("suggest", "launch_trial", "collect_metrics", "decide_stop", "stage_inputs", "best_trial", "fail_if_experiment_failed")
    shipped = {f"kfp_tune/components/{d}/{f}" for d in folders for f in ("component.yaml", "README.md")}
    shipped.add("kfp_tune/core/job_fields.json")  # the batch/v1 Job fields validation reads
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
    from kfp_tune.components._image import DEFAULT_RUNTIME_IMAGE

    project = pyproject()
    import kfp_tune

    # the version spelled once: pyproject reads kfp_tune.core.version.VERSION, as __version__ is
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "kfp_tune.core.version.VERSION"}
    version = kfp_tune.__version__
    # one pinned reference, tagged with the package version it holds
    assert DEFAULT_RUNTIME_IMAGE.endswith(f":{version}")
    dockerfile = (REPO / "images" / "runtime" / "Dockerfile").read_text()
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    # the image gets every folder the package is built from, and the files the build reads (the licence too)
    for folder in set(project["tool"]["setuptools"]["package-dir"].values()):
        assert f"COPY {folder.split('/')[0]}/ " in dockerfile, folder
    copied = {word for line in dockerfile.splitlines() if line.startswith("COPY ") for word in line.split()[1:-1]}
    assert {name for name in BUILD_INPUTS if (REPO / name).is_file()} <= copied, copied
    for folder in ("suggest", "launch_trial", "collect_metrics", "decide_stop"):
        text = (REPO / "components" / folder / "component.yaml").read_text()
        assert "pip install" not in text and f"image: {DEFAULT_RUNTIME_IMAGE}" in text


def test_the_readme_layout_lists_every_top_level_module_and_package():
    layout = (REPO / "README.md").read_text().split("## Layout", 1)[1]
    root = REPO / "src" / "kfp_tune"
    names = [p.name for p in root.iterdir() if (p.suffix == ".py" or (p / "__init__.py").exists())]
    missing = [n for n in names if f"`{n}`" not in layout and f"`{n.removesuffix('.py')}`" not in layout and f"src/kfp_tune/{n}" not in layout]
    assert not missing, f"README Layout does not mention {missing}"


DESCRIBED_MODULE_BY_MODULE = {
    "src/kfp_tune/core/": CORE,
    "src/kfp_tune/steps/": REPO / "src" / "kfp_tune" / "steps",
    "src/kfp_tune/launchers/": REPO / "src" / "kfp_tune" / "launchers",
    "src/kfp_tune/collectors/": REPO / "src" / "kfp_tune" / "collectors",
    "pipelines/": REPO / "pipelines",
}
"""The README Layout rows that say what each module of their package is for."""


@pytest.mark.parametrize("where", DESCRIBED_MODULE_BY_MODULE)
def test_the_readme_layout_names_every_module_of_a_package_it_describes_module_by_module(where):
    layout = (REPO / "README.md").read_text().split("## Layout", 1)[1]
    row = next((line for line in layout.splitlines() if line.startswith(f"| `{where}` |")), None)
    assert row is not None, f"README Layout has no row for {where}"
    missing = sorted(p.stem for p in DESCRIBED_MODULE_BY_MODULE[where].glob("*.py") if p.stem != "__init__" and f"`{p.stem}`" not in row)
    assert not missing, f"README Layout's {where} row does not say what {missing} are for"


SDIST_LEFT_OUT = ("build", "dist", ".git", ".venv", "kfp-tune-runs", ".hypothesis", ".mypy_cache", ".pytest_cache", ".ruff_cache", "__pycache__", "*.egg-info")
"""What a checkout holds that is not the source: git's and the tools' folders, builds and run records."""


def test_the_sdist_holds_the_whole_source_tree_so_its_tests_collect(tmp_path):
    """The sdist is the source release: a packager runs its tests, which need tests/conftest.py,
    tests/support/ and the docs, examples and images they read (setuptools alone ships only
    tests/test_*.py). Every file git tracks goes in; MANIFEST.in says so. (Files git does not
    track are not asked for: a checkout's own scratch files, a log beside it, are no defect.)"""
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*SDIST_LEFT_OUT))
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, text=True)
    with tarfile.open(next(tmp_path.glob("kfp_tune-*.tar.gz"))) as sdist:
        shipped = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"tests/conftest.py", "LICENSE", "MANIFEST.in"} <= shipped
    assert {p.relative_to(REPO).as_posix() for p in (REPO / "tests" / "support").glob("*.py")} <= shipped
    git = shutil.which("git")
    if git and (REPO / ".git").exists():
        listed = subprocess.run([git, "ls-files", "--cached"], cwd=REPO, capture_output=True, text=True, check=True).stdout.splitlines()
        missing = sorted(name for name in listed if (REPO / name).is_file() and name not in shipped)
        assert not missing, f"the sdist leaves out {missing[:10]}: add them to MANIFEST.in"
