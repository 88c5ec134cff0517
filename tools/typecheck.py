"""Type-check kfp-tune as it is installed: one package ``kfp_tune`` whose subpackages
``algorithms``, ``components`` and ``pipelines`` live in top-level folders (pyproject.toml's
``package-dir``). mypy cannot follow that mapping from the checkout (the editable install is an
import hook), so checked in place it read every ``kfp_tune.algorithms`` import as ``Any`` and hid
the errors behind it. This builds the installed layout as a tree of links under
``build/typecheck/`` (rebuilt each run, so a new module is seen) and runs mypy on it with
pyproject.toml's settings; an error's path is the link's, ``build/typecheck/kfp_tune/<folder>/...``,
which names the source file under that folder.

Usage: ``python tools/typecheck.py [MYPY ARGS...]`` (``make test`` runs it). Files named check
those files instead of the package, against the tree (``MYPYPATH``): how a plug-in author checks
a plug-in against a checkout installed with ``pip install -e`` (named from where the author
stands; pyproject.toml's settings apply to it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # mypy itself needs tomli below 3.11, so it is installed wherever mypy is
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
TREE = REPO / "build" / "typecheck"
CACHE = REPO / "build" / "typecheck-cache"


def installed_tree(root: Path, repo: Path = REPO) -> Path:
    """The package as ``pip install`` lays it out, as links under ``root`` (emptied first): a
    folder ``kfp_tune`` of links to the sources of every ``package-dir`` entry of pyproject.toml.
    Returns ``root``."""
    mapping = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-dir"]
    shutil.rmtree(root, ignore_errors=True)
    for package, source in sorted(mapping.items(), key=lambda item: item[0].count(".")):
        target = root.joinpath(*package.split("."))
        if "." not in package:
            target.mkdir(parents=True)
            for child in (repo / source).iterdir():
                if child.name != "__pycache__" and not (target / child.name).exists():
                    (target / child.name).symlink_to(child)
        else:
            target.symlink_to(repo / source)
    return root


def from_the_checkout(argument: str) -> str:
    """An argument as mypy, run from the checkout, reads what the caller meant: a path that
    exists where the caller stands, made absolute (links kept: a file of the tree stays one);
    anything else (an option, a module name) as given."""
    return str(Path(argument).absolute()) if not argument.startswith("-") and Path(argument).exists() else argument


def main(argv: list[str]) -> int:
    installed_tree(TREE)
    # the tree on mypy's path: files named on the command line replace pyproject.toml's `files`,
    # and their `import kfp_tune` would otherwise go to the editable install, which mypy cannot
    # follow (ignore_missing_imports then makes every kfp-tune name Any, and a wrong plug-in passes)
    environment = {**os.environ, "MYPYPATH": os.pathsep.join(filter(None, [str(TREE), os.environ.get("MYPYPATH")]))}
    # its own cache: one a checkout's earlier mypy runs filled, from the sources in place, holds the
    # same module names at other paths and read stale (kfp_tune.algorithms without its modules)
    return subprocess.call([sys.executable, "-m", "mypy", "--cache-dir", str(CACHE), *map(from_the_checkout, argv)], cwd=REPO, env=environment)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
