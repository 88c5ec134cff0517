"""The docs name tests as evidence for what they promise: every test they name must exist."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
TEST_NAME = re.compile(r"\b(test_\w+)\b(?!\.py)")


def _defined_tests() -> set[str]:
    return {m for path in (REPO / "tests").rglob("test_*.py") for m in re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.M)}


def test_every_test_the_docs_name_exists():
    defined = _defined_tests()
    missing = {f"{doc.relative_to(REPO)}: {name}" for doc in DOCS for name in TEST_NAME.findall(doc.read_text()) if name not in defined}
    assert not missing, f"the docs name tests that do not exist (renamed or removed?): {sorted(missing)}"


SOURCE_ROOTS = ("src/kfp_tune", "algorithms", "components", "pipelines")
BARE_REFERENCE = re.compile(r":(?:func|class|data|exc):`~?([A-Za-z_]\w*)`")
"""A docstring's reference to a name of its own module (``:func:`katib_value```); a dotted one
names its module and is left to the reader."""


def test_a_docstring_reference_to_a_name_of_its_module_names_one_it_has():
    """QA: client._plain's docstring pointed to :func:`_wrap`, renamed katib_value (f9dfecf); a
    renamed function leaves such pointers behind unseen."""
    import ast

    stale = []
    for root in SOURCE_ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            text = path.read_text()
            tree = ast.parse(text)
            names = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
            names |= {target.id for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AnnAssign))
                      for target in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(target, ast.Name)}
            names |= {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
            stale += [f"{path.relative_to(REPO)}:{text.count(chr(10), 0, m.start()) + 1} {m.group(0)}"
                      for m in BARE_REFERENCE.finditer(text) if m.group(1) not in names]
    assert not stale, f"{stale}: the name is not in its module (renamed or moved?): name it as it is now, or its module too"
