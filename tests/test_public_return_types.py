"""A module's public names (``__all__``) include the classes its public functions and methods
return: a caller annotating what ``KubernetesLauncher.sweep`` gave back imported ``SweepResult``
from a module whose ``__all__`` left it out (a private name, to a linter)."""

from __future__ import annotations

import ast

from conftest import REPO
from source_scan import SOURCE_FOLDERS


def returned_classes_left_out(tree: ast.Module) -> list[str]:
    """``function -> Class`` for each class of the module a public function (or a public method
    of an exported class) returns, where the module has an ``__all__`` that leaves the class out."""
    exported: set[str] | None = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets):
            exported = set(ast.literal_eval(node.value))
    if exported is None:
        return []
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef) and not node.name.startswith("_")}
    left_out = []
    for node in tree.body:
        if not isinstance(node, (ast.ClassDef, ast.FunctionDef)) or node.name not in exported:
            continue
        functions = [node] if isinstance(node, ast.FunctionDef) else [f for f in node.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("_")]
        for function in functions:
            if function.returns is None:
                continue
            named = {n.id for n in ast.walk(function.returns) if isinstance(n, ast.Name)}
            named |= {n.value for n in ast.walk(function.returns) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
            left_out += [f"{node.name}.{function.name} -> {name}" if function is not node else f"{node.name} -> {name}" for name in sorted((named & classes) - exported)]
    return left_out


def test_the_classes_public_functions_return_are_public_names_of_their_module() -> None:
    found = {}
    for folder in SOURCE_FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            if left_out := returned_classes_left_out(ast.parse(path.read_text())):
                found[path.relative_to(REPO).as_posix()] = left_out
    assert found == {}
