"""The guide's plug-in example passes ``python tools/typecheck.py``, the check the guide sends a
plug-in author to, and an algorithm's ``name`` may be written either way an author writes it (a
plain class attribute, as the guide and most built-ins do, or a ``ClassVar[str]``): the Algorithm
Protocol declared ``name: ClassVar[str]``, and mypy blamed ``register``'s argument for the plain
one. One mypy run for both files, with a tree and cache of the test's own (about 10 s of CPU,
cold: mypy reads kfp-tune and numpy's stubs)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from test_plugins import guide_plugin_blocks

from plugin_typecheck import typecheck_as_an_author

CLASS_VAR_NAME = textwrap.dedent("""
    from collections.abc import Sequence
    from typing import Any, ClassVar

    import numpy as np

    from kfp_tune.algorithms import FinishedTrial, Problem, Suggestions, create, register


    class ClassVarName:
        name: ClassVar[str] = "class-var-name"

        def __init__(self, settings: dict[str, Any]) -> None:
            self.settings = settings

        def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Any]], n: int, rng: np.random.Generator) -> Suggestions:
            return create("random", {}).suggest(problem, history, pending, n, rng)


    register("class-var-name", ClassVarName, settings=())
""")


def test_the_guides_plugin_example_and_a_class_var_name_pass_the_type_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    example = next(code for language, code in guide_plugin_blocks() if language == "python" and code.startswith("# my_tuner/plugin.py"))
    author = tmp_path / "my-ext"
    (author / "my_tuner").mkdir(parents=True)
    (author / "my_tuner" / "plugin.py").write_text(example)
    (author / "class_var_name.py").write_text(CLASS_VAR_NAME)
    status, output = typecheck_as_an_author(author, ["my_tuner/plugin.py", "class_var_name.py"], tmp_path, monkeypatch, capfd)
    assert re.search(r"^Success: no issues found in 2 source files$", output, flags=re.M), output
    assert status == 0, output
