"""Every commit was kfp-tune 0.1.0 (QA "airgap", finding 1): a pipeline compiled by one build of
0.1.0 passed the compiled-version check in an image holding another build and crashed inside a
step with a TypeError. The build fingerprint tells two builds of one version apart."""

from __future__ import annotations

import compileall
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import kfp_tune
from kfp_tune.core import version
from kfp_tune.core.version import (
    BUILD_LENGTH,
    COMPILED_BY_VARIABLE,
    PACKAGE_DATA,
    PACKAGE_ROOTS,
    VERSION,
    build_fingerprint,
    build_stamp,
    compiled_by_text,
    image_build,
    image_version,
    image_version_problem,
    installed_sources,
    source_fingerprint,
    version_mismatch,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no tomllib: tomli is the same parser (the test extra installs it there)
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
OTHER_BUILD = "0" * BUILD_LENGTH
"""A build this checkout is not (its fingerprint is a hash: all zeros it is not, but check)."""
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "src", "algorithms", "components", "pipelines")
"""What setuptools reads to build the wheel (as tests/test_packaging.py copies it out)."""


def _roots(tree: Path) -> dict[str, list[Path]]:
    """Each package root of a checkout at ``tree`` by its folder (pyproject.toml's package-dir)."""
    return {package: [tree / folder] for package, folder in SETUPTOOLS["package-dir"].items()}


def _checkout_sources() -> dict[str, bytes]:
    """What a wheel of this checkout ships, read from the checkout's folders."""
    return installed_sources(_roots(REPO))


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k != COMPILED_BY_VARIABLE}, **extra}


def test_the_fingerprint_is_of_every_file_the_wheel_ships():
    """algorithms/, components/ and pipelines/ included (a step function's new argument is in
    components/, the QA case), and the package data: the Job-field rules and the components' specs."""
    assert build_fingerprint() not in (OTHER_BUILD, None)
    sources = version.installed_sources()
    assert sources == _checkout_sources()
    for shipped in ("kfp_tune/components/launch_trial/component.py", "kfp_tune/core/version.py", "kfp_tune/py.typed",
                    "kfp_tune/core/job_fields.json", "kfp_tune/components/launch_trial/component.yaml"):
        assert shipped in sources, shipped
    assert build_fingerprint() == source_fingerprint(sources)
    assert len(build_fingerprint() or "") == 12 and int(build_fingerprint() or "", 16) >= 0


def test_a_components_readme_is_shipped_but_not_part_of_the_build():
    """Review B: editing a component's README (documentation) made a new build, so every image
    needed rebuilding and retagging; its component.yaml, which is a spec, still counts."""
    sources = _checkout_sources()
    assert not [path for path in sources if path.endswith("README.md")]
    assert "kfp_tune/components/launch_trial/component.yaml" in sources
    assert any(p.endswith("README.md") for patterns in SETUPTOOLS["package-data"].values() for p in patterns)


def test_the_package_data_and_roots_are_pyprojects():
    """PACKAGE_DATA spells pyproject.toml's package-data again (an image has no pyproject.toml)."""
    assert {package: list(patterns) for package, patterns in PACKAGE_DATA.items()} == SETUPTOOLS["package-data"]
    assert set(PACKAGE_ROOTS) == set(SETUPTOOLS["package-dir"])


def test_the_packages_the_build_reads_are_the_ones_pyproject_lists():
    """A folder with __init__.py and an identifier name is a package to the build: pyproject.toml's
    explicit list must hold every such folder, or the wheel would leave out what the build reads."""
    packages = {path.removesuffix("/__init__.py").replace("/", ".") for path in _checkout_sources() if path.endswith("/__init__.py")}
    assert packages == set(SETUPTOOLS["packages"])


def test_one_changed_moved_or_added_file_changes_the_fingerprint_and_the_order_does_not():
    sources = {"kfp_tune/a.py": b"x = 1\n", "kfp_tune/b.py": b"y = 2\n"}
    same = source_fingerprint(sources)
    assert source_fingerprint(dict(reversed(sources.items()))) == same
    assert source_fingerprint({**sources, "kfp_tune/a.py": b"x = 2\n"}) != same
    assert source_fingerprint({"kfp_tune/c.py": b"x = 1\n", "kfp_tune/b.py": b"y = 2\n"}) != same
    assert source_fingerprint({**sources, "kfp_tune/c.py": b""}) != same
    # a path and its content are not read across their border
    assert source_fingerprint({"kfp_tune/a.py": b"1"}) != source_fingerprint({"kfp_tune/a.p": b"y1"})
    expected = hashlib.sha256()
    for path in sorted(sources):
        expected.update(f"{path}\0{len(sources[path])}\0".encode() + sources[path])
    assert same == expected.hexdigest()[:12]


def test_what_a_wheel_leaves_out_is_not_part_of_the_build_and_an_unreadable_file_is_skipped(tmp_path):
    """Review A, findings 1 and 2: a dotfile, a folder that is no package, bytecode; a dangling link
    (Emacs's lock file ``.#version.py``, or one with a module's name), a folder named ``*.py``."""
    root = tmp_path / "kfp_tune"
    for folder in ("__pycache__", "sub", "stray", "not-a-package", "hollow.py", "core"):
        (root / folder).mkdir(parents=True)
    files = {
        "__init__.py": "x = 1\n", "py.typed": "", "sub/__init__.py": "", "sub/module.py": "y = 2\n",
        "__pycache__/stale.py": "", "notes.txt": "", ".scratch.py": "", "not-a-module.py": "", "stray/notes.py": "",
        "not-a-package/__init__.py": "", "core/job_fields.json": "{}", "core/other.json": "{}",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    (root / ".#version.py").symlink_to("user@host.1234:1700000000")
    (root / "gone.py").symlink_to(tmp_path / "nowhere.py")
    assert installed_sources({"kfp_tune": [root]}) == {
        "kfp_tune/__init__.py": b"x = 1\n", "kfp_tune/py.typed": b"", "kfp_tune/sub/__init__.py": b"", "kfp_tune/sub/module.py": b"y = 2\n",
    }
    # package data is read by the package's own name: kfp_tune.core's rules, in a root of its own
    assert installed_sources({"kfp_tune.core": [root / "core"]}) == {"kfp_tune/core/job_fields.json": b"{}"}


def test_the_stamp_is_the_version_and_the_build():
    assert build_stamp() == f"{VERSION}+{build_fingerprint()}"
    assert compiled_by_text() == f"compiled by kfp-tune {VERSION} (build {build_fingerprint()})"
    assert compiled_by_text("0.0.9") == "compiled by kfp-tune 0.0.9"  # a version-only stamp, as before


def test_a_pipeline_of_another_build_of_this_version_stops_at_its_first_step_in_one_line(tmp_path):
    """The QA case: both builds say 0.1.0. suggest's own function, as its pod runs it; it stops
    before the store is touched, naming both builds and what to do."""
    import json

    from conftest import quadratic_experiment
    from kfp_tune.core.loading import load_experiment

    store = tmp_path / "store"
    store.mkdir()
    spec = json.dumps(load_experiment(quadratic_experiment()).to_dict())
    code = (
        "import sys\nfrom kfp_tune.components import suggest\n"
        "suggest.python_func(store_uri=sys.argv[1], experiment_name='e', run_id='r', round_index=0, rounds_total=1, experiment_spec=sys.argv[2])"
    )
    stamp = f"{VERSION}+{OTHER_BUILD}"
    done = subprocess.run([sys.executable, "-c", code, str(store), spec], env=_env(**{COMPILED_BY_VARIABLE: stamp}), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: this pipeline was compiled by kfp-tune {VERSION} (build {OTHER_BUILD}) and is run by kfp-tune {VERSION} "
        f"(build {build_fingerprint()}): recompile it with the kfp-tune that runs it (kfp.local: run it again; a cluster: and "
        f"recreate its recurring run, if any), or run it in an image built from the kfp-tune that compiled it (tagged {VERSION}-{OTHER_BUILD})"
    ]
    assert list(store.iterdir()) == []


@pytest.mark.parametrize("stamp", ["this build", "version only", None])
def test_this_build_a_version_only_stamp_or_none_runs(stamp):
    """kfp.local (compiled and run here), and pipelines compiled before the build was stamped."""
    value = {"this build": build_stamp(), "version only": VERSION, None: None}[stamp]
    env = _env() if value is None else _env(**{COMPILED_BY_VARIABLE: value})
    done = subprocess.run([sys.executable, "-c", "import kfp_tune; kfp_tune.check_compiled_version(); print('ran')"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == "ran\n", done.stderr


def test_the_mismatch_compares_builds_only_where_the_stamp_has_one():
    assert version_mismatch("1.0+abc", "1.0+abc") is None
    assert version_mismatch("1.0", "1.0+abc") is None  # compiled before builds were stamped: as before
    assert version_mismatch(VERSION) is None and version_mismatch(build_stamp()) is None
    problem = version_mismatch("1.0+abc", "1.0+def")
    # no image or recurring run is named first: on kfp.local there is none (review A, finding 4)
    assert problem == (
        "this pipeline was compiled by kfp-tune 1.0 (build abc) and is run by kfp-tune 1.0 (build def): recompile it with the "
        "kfp-tune that runs it (kfp.local: run it again; a cluster: and recreate its recurring run, if any), or run it in an "
        "image built from the kfp-tune that compiled it (tagged 1.0-abc)"
    )
    other = version_mismatch("1.0+abc", "2.0+def")
    assert other is not None and other.startswith("this pipeline was compiled by kfp-tune 1.0 (build abc) and is run by kfp-tune 2.0 (build def): ")
    assert version_mismatch("1.0", "2.0+def") == (
        "this pipeline was compiled by kfp-tune 1.0 and this image holds kfp-tune 2.0 (build def): recompile it "
        "(and recreate its recurring run) with the kfp-tune this image holds, or run it with the image for 1.0"
    )


def test_an_older_kfp_tune_refuses_a_build_stamped_pipeline_too():
    """An image of a build from before this change compares the whole stamp to its version: a
    build-stamped pipeline is another version to it, so it stops in one line rather than crash."""
    def old(compiled_by: str | None, running: str) -> str | None:  # version_mismatch before builds were stamped
        return None if not compiled_by or compiled_by == running else "refused"

    assert old(build_stamp(), VERSION) == "refused"


def test_an_image_tag_with_the_build_is_read_and_compared():
    build = build_fingerprint()
    assert image_version(f"r/kfp-tune-python:{VERSION}-{build}") == VERSION
    assert image_build(f"r/kfp-tune-python:{VERSION}-{build}") == build
    assert image_build(f"r/kfp-tune-python:v{VERSION}-{OTHER_BUILD}@sha256:" + "a" * 64) == OTHER_BUILD
    assert image_build(f"r/kfp-tune-python:{VERSION}") is None
    assert image_version(f"r/kfp-tune-python:{VERSION}-3f0d6e9") is None  # a short commit is no build of ours
    assert image_version_problem(f"r/kfp-tune-python:{VERSION}-{build}") is None
    assert image_version_problem(f"r/kfp-tune-python:{VERSION}") is None  # no build in the tag: the version says all it can
    assert image_version_problem(f"r/kfp-tune-python:{VERSION}-{OTHER_BUILD}") == (
        f"the steps' image r/kfp-tune-python:{VERSION}-{OTHER_BUILD} is tagged {VERSION} (build {OTHER_BUILD}), and they are compiled "
        f"by kfp-tune {VERSION} (build {build}): if that image holds kfp-tune {VERSION} (build {OTHER_BUILD}), every step stops at once; "
        f"use the runtime image built for kfp-tune {VERSION} (build {build}) (KFP_TUNE_IMAGE=REGISTRY/kfp-tune-python:{VERSION}-{build})"
    )
    # a pipeline compiled before builds were stamped: its image's build says nothing against it
    assert image_version_problem(f"r/kfp-tune-python:{VERSION}-{OTHER_BUILD}", VERSION) is None


def test_version_prints_the_version_and_the_build(capsys):
    from kfp_tune.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"kfp-tune {kfp_tune.__version__} (build {build_fingerprint()})\n"


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory) -> tuple[Path, dict[str, bytes], Path]:
    """A copy of this checkout, with what a wheel leaves out added (a dotfile, a folder that is no
    package, Emacs's dangling lock link), its wheel built as images/runtime/Dockerfile builds it and
    unpacked as pip installs it: (the copy, what the checkout ships, the unpacked wheel)."""
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"
    shipped = _checkout_sources()
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    (source / "src" / "kfp_tune" / ".scratch.py").write_text("scratch = 1\n")
    (source / "components" / "scratch").mkdir()
    (source / "components" / "scratch" / "notes.py").write_text("notes = 1\n")
    (source / "src" / "kfp_tune" / "core" / ".#version.py").symlink_to("user@host.1234:1700000000")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(folder), str(source)],
                   check=True, capture_output=True, text=True)
    site = folder / "site"
    zipfile.ZipFile(next(folder.glob("kfp_tune-*.whl"))).extractall(site)
    # the copy as an editable install maps it (src/ on the path, each top-level folder a subpackage)
    for package, top in SETUPTOOLS["package-dir"].items():
        link = source / "src" / "kfp_tune" / package.rpartition(".")[2]
        if "." in package and not link.exists():  # a checkout may hold such links already
            link.symlink_to(source / top)
    return source, shipped, site


def _run_in(site: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by a Python that imports kfp_tune from ``site`` (not from this checkout)."""
    prelude = f"import sys\nsys.path.insert(0, {str(site)!r})\nimport kfp_tune\nassert kfp_tune.__file__.startswith({str(site)!r})\n"
    return subprocess.run([sys.executable, "-c", prelude + code], env=_env(**env), capture_output=True, text=True, timeout=120, cwd=site)


def test_the_wheel_of_a_checkout_has_the_checkouts_build(built_wheel):
    """Review A, finding 1: the admin tags the image with the build `kfp-tune --version` prints in
    the checkout; the wheel the image installs must hold that build."""
    source, shipped, site = built_wheel
    stamp = "from kfp_tune.core.version import build_stamp\nprint(build_stamp())"
    in_the_checkout, in_the_image = _run_in(source / "src", stamp), _run_in(site, stamp)
    assert in_the_checkout.returncode == 0 and in_the_image.returncode == 0, in_the_checkout.stderr + in_the_image.stderr
    assert in_the_image.stdout == in_the_checkout.stdout == f"{VERSION}+{source_fingerprint(shipped)}\n"
    in_the_wheel = {path.relative_to(site).as_posix(): path.read_bytes() for path in site.rglob("*")
                    if path.is_file() and path.relative_to(site).parts[0] == "kfp_tune" and "__pycache__" not in path.parts
                    and path.name != "README.md"}  # documentation: shipped, not part of the build
    assert in_the_wheel == installed_sources(_roots(source)) == shipped  # what the wheel ships, read from the copy with its strays


def test_an_unreadable_file_in_the_installed_package_breaks_no_version_or_step(built_wheel):
    """Review A, finding 2: a dangling link with a module's name where kfp-tune is installed."""
    _, shipped, site = built_wheel
    (site / "kfp_tune" / "core" / "lost.py").symlink_to(site / "nowhere.py")
    try:
        done = _run_in(site, "from kfp_tune.cli import main\nsys.exit(main(['--version']))")
        assert done.returncode == 0 and done.stdout == f"kfp-tune {VERSION} (build {source_fingerprint(shipped)})\n", done.stderr
        assert "Traceback" not in done.stderr
    finally:
        (site / "kfp_tune" / "core" / "lost.py").unlink()


def test_an_install_without_its_python_files_checks_the_version_alone(built_wheel, tmp_path):
    """Review A, finding 5: bytecode only (compileall -b, the .py files removed: a slim image, a
    zipapp) hashed nothing, one constant build for every such install. Its build is unknown now: it
    stamps and checks the version alone, as before builds were stamped."""
    _, _, site = built_wheel
    slim = tmp_path / "slim"
    shutil.copytree(site, slim, symlinks=True)
    assert compileall.compile_dir(slim / "kfp_tune", quiet=1, legacy=True)
    for path in (slim / "kfp_tune").rglob("*.py"):
        path.unlink()
    code = (
        "from kfp_tune.core.version import build_fingerprint, build_stamp, compiled_by_text\n"
        "print(build_fingerprint(), build_stamp(), compiled_by_text(), sep='|')\n"
        "kfp_tune.check_compiled_version()\nprint('ran')"
    )
    done = _run_in(slim, code, **{COMPILED_BY_VARIABLE: f"{VERSION}+{OTHER_BUILD}"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"None|{VERSION}|compiled by kfp-tune {VERSION}\nran\n"
    other_version = _run_in(slim, "kfp_tune.check_compiled_version()", **{COMPILED_BY_VARIABLE: f"0.0.9+{OTHER_BUILD}"})
    assert other_version.returncode == 1 and other_version.stderr.startswith("error: this pipeline was compiled by kfp-tune 0.0.9"), other_version.stderr
