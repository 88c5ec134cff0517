"""No two public classes of the package share a name: a reader (and ``from ... import``) takes
one for the other. core.records' place record was named ``TrialPlace`` beside
steps.trial_reporter's ``TrialPlace`` (where a component trial's records are)."""

from __future__ import annotations

import ast
from collections import defaultdict

from conftest import REPO
from source_scan import SOURCE_FOLDERS


def test_no_two_public_classes_share_a_name() -> None:
    defined: dict[str, list[str]] = defaultdict(list)
    for folder in SOURCE_FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                    defined[node.name].append(path.relative_to(REPO).as_posix())
    assert {name: paths for name, paths in defined.items() if len(paths) > 1} == {}
