"""Where the package's code spells a string: for tests that hold a vocabulary to one definition."""

from __future__ import annotations

import ast
import functools

from conftest import REPO

SOURCE_FOLDERS = ("src/kfp_tune", "algorithms", "components", "pipelines")


def literal_uses(values: set[str]) -> list[str]:
    """``path:line value`` for each string constant equal to one of ``values`` in the package's
    code; docstrings (and other bare strings) are prose and left out."""
    return [f"{place} {value}" for place, value in _string_constants() if value in values]


@functools.cache
def _string_constants() -> tuple[tuple[str, str], ...]:
    """(``path:line``, value) of every string constant of the package's code that is no prose,
    read once per process: each check asks after its own values (the whole source parsed for
    every one of them took some 20 s of the suite)."""
    found = []
    for folder in SOURCE_FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text())
            prose = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
                    found.append((f"{path.relative_to(REPO).as_posix()}:{node.lineno}", node.value))
    return tuple(found)
