"""Every commit was kfp-tune 0.1.0 (QA "airgap", finding 1): a pipeline compiled by one build of
0.1.0 passed the compiled-version check in an image holding another build and crashed inside a
step with a TypeError. The build fingerprint tells two builds of one version apart."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kfp_tune
from kfp_tune.core import version
from kfp_tune.core.version import (
    COMPILED_BY_VARIABLE,
    VERSION,
    build_fingerprint,
    build_stamp,
    compiled_by_text,
    image_build,
    image_version,
    image_version_problem,
    source_fingerprint,
    version_mismatch,
)

REPO = Path(__file__).resolve().parents[2]
PACKAGE_FOLDERS = {"kfp_tune": "src/kfp_tune", "kfp_tune/algorithms": "algorithms", "kfp_tune/components": "components", "kfp_tune/pipelines": "pipelines"}
"""pyproject.toml's package-dir: where each part of the installed package lives in the checkout."""
OTHER_BUILD = "0" * len(build_fingerprint())
"""A build this checkout is not (its fingerprint is a hash: all zeros it is not, but check)."""


def _checkout_sources() -> dict[str, bytes]:
    """The .py files a wheel of this checkout installs, by their path in site-packages."""
    sources = {}
    for package, folder in PACKAGE_FOLDERS.items():
        for path in (REPO / folder).rglob("*.py"):
            if "__pycache__" not in path.parts:
                sources[f"{package}/{path.relative_to(REPO / folder).as_posix()}"] = path.read_bytes()
    return sources


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k != COMPILED_BY_VARIABLE}, **extra}


def test_the_fingerprint_is_of_every_python_file_the_package_installs():
    """algorithms/, components/ and pipelines/ included: a step function's new argument is in
    components/ (the QA case)."""
    assert build_fingerprint() != OTHER_BUILD
    sources = version.installed_sources()
    assert set(sources) == set(_checkout_sources())
    assert "kfp_tune/components/launch_trial/component.py" in sources and "kfp_tune/core/version.py" in sources
    assert build_fingerprint() == source_fingerprint(_checkout_sources())
    assert len(build_fingerprint()) == 12 and int(build_fingerprint(), 16) >= 0


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


def test_compiled_bytecode_is_not_part_of_the_build(tmp_path, monkeypatch):
    root = tmp_path / "kfp_tune"
    (root / "__pycache__").mkdir(parents=True)
    (root / "__init__.py").write_text("x = 1\n")
    (root / "__pycache__" / "stale.py").write_text("y = 2\n")
    (root / "notes.txt").write_text("not python\n")
    monkeypatch.setattr(version, "_PACKAGES", ("kfp_tune",))
    monkeypatch.setattr(version, "_package_folders", lambda name: [root])
    assert version.installed_sources() == {"kfp_tune/__init__.py": b"x = 1\n"}


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
        f"error: this pipeline was compiled by kfp-tune {VERSION} (build {OTHER_BUILD}) and this image holds kfp-tune {VERSION} "
        f"(build {build_fingerprint()}): recompile it (and recreate its recurring run) with the kfp-tune this image holds, or run it "
        f"in an image built from the kfp-tune that compiled it (tagged {VERSION}-{OTHER_BUILD})"
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
    assert problem is not None and problem.startswith("this pipeline was compiled by kfp-tune 1.0 (build abc) and this image holds kfp-tune 1.0 (build def): ")
    other = version_mismatch("1.0+abc", "2.0+def")
    assert other is not None and other.startswith("this pipeline was compiled by kfp-tune 1.0 (build abc) and this image holds kfp-tune 2.0 (build def): ")
    assert version_mismatch("1.0", "2.0+def") == (
        "this pipeline was compiled by kfp-tune 1.0 and this image holds kfp-tune 2.0 (build def): recompile it "
        "(and recreate its recurring run) with the kfp-tune this image holds, or run it with the image for 1.0"
    )


def test_an_older_kfp_tune_refuses_a_build_stamped_pipeline_too():
    """An image of a build from before this change compares the whole stamp to its version: a
    build-stamped pipeline is another version to it, so it stops in one line rather than crash."""
    old_check = "def old(compiled_by, running): return None if not compiled_by or compiled_by == running else 'refused'"
    namespace: dict[str, object] = {}
    exec(old_check, namespace)
    assert namespace["old"](build_stamp(), VERSION) == "refused"  # type: ignore[operator]


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
