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
