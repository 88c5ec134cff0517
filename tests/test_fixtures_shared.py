"""The tests' own fixtures: one the folder's conftest provides is never redefined under the same
name by a test file (a reader of ``kube`` in a test would not know which cluster it gets), and a
fixture written out the same in two test files of a folder lives in that folder's conftest."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import TESTS

BUILTIN = frozenset({"tmp_path", "tmp_path_factory", "monkeypatch", "request", "capsys", "capfd", "caplog"})
"""pytest's own fixtures: the same everywhere."""


def _fixtures(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """The module-level fixtures a file defines: name -> (its body as code, the fixtures it takes)."""
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and any("fixture" in ast.unparse(d) for d in node.decorator_list):
            body = node.body[1:] if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) else node.body
            found[node.name] = ("\n".join(ast.unparse(statement) for statement in body), frozenset(a.arg for a in node.args.args))
    return found


def _provided(folder: Path) -> dict[str, Path]:
    """Fixtures the conftest files of ``folder`` and the folders above it (up to tests/) provide."""
    provided: dict[str, Path] = {}
    for place in [folder, *folder.parents]:
        conftest = place / "conftest.py"
        if conftest.exists():
            provided |= {name: conftest for name in _fixtures(conftest) if name not in provided}
        if place == TESTS:
            break
    return provided


def test_no_test_file_redefines_a_fixture_its_conftest_provides() -> None:
    shadowing = [
        f"{path.relative_to(TESTS)} redefines {name!r} from {_provided(path.parent)[name].relative_to(TESTS)}"
        for path in sorted(TESTS.rglob("test_*.py"))
        for name in _fixtures(path)
        if name in _provided(path.parent)
    ]
    assert not shadowing, f"{shadowing}: give the variant a name of its own"


def test_a_fixture_written_out_twice_in_a_folder_is_in_its_conftest() -> None:
    """Counted only when it takes no fixture of its own file's: the same words over two files'
    own fixtures (their ``finished`` experiments, say) are two fixtures."""
    bodies: dict[tuple[Path, str, str], list[str]] = defaultdict(list)
    for path in sorted(TESTS.rglob("test_*.py")):
        shared = BUILTIN | set(_provided(path.parent))
        for name, (body, takes) in _fixtures(path).items():
            if takes <= shared:
                bodies[(path.parent, name, body)].append(path.name)
    copies = [f"{folder.relative_to(TESTS)}: {name!r} in {files}" for (folder, name, _), files in bodies.items() if len(files) > 1]
    assert not copies, f"{copies}: define it once, in the folder's conftest.py"


def test_a_kfp_task_setting_on_a_pipeline_task_is_refused_as_kfp_refuses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest's ``_kfp_task_settings_name_their_caller_from_its_frame`` stands in for kfp's own
    check (which walks the whole stack): it is in place (kfp's function is, whole, the one it was
    written against: after a kfp upgrade this fails, not only the suite's time), and a setting that
    needs a container, asked of a pipeline used as a component, is refused with the very words
    kfp's own check gives, naming the setting as kfp names it."""
    from kfp import dsl
    from kfp.dsl.pipeline_task import PipelineTask

    from conftest import KFP_CALLER_CHECK_MESSAGE

    stand_in = PipelineTask._ensure_container_spec_exists
    assert hasattr(stand_in, "kfp_original"), "kfp's check is not the one conftest stands in for: update the stand-in and its hash"

    def step():  # no annotations: KFP reads them, and this file's are strings
        pass

    step_component = dsl.component(step)

    def steps():
        step_component()

    inner = dsl.pipeline(steps)

    def refusals() -> list[str]:
        refused: list[str] = []

        def outer():
            task = inner()
            for setting, value in (("set_env_variable", ("NAME", "value")), ("set_cpu_request", ("1",))):
                try:
                    getattr(task, setting)(*value)
                except ValueError as exc:
                    refused.append(str(exc))

        dsl.pipeline(outer)
        return refused

    assert refusals() == [f"set_env_variable {KFP_CALLER_CHECK_MESSAGE}", f"set_cpu_request {KFP_CALLER_CHECK_MESSAGE}"]
    monkeypatch.setattr(PipelineTask, "_ensure_container_spec_exists", stand_in.kfp_original)
    assert refusals() == [f"set_env_variable {KFP_CALLER_CHECK_MESSAGE}", f"set_cpu_request {KFP_CALLER_CHECK_MESSAGE}"], "kfp's own check"
