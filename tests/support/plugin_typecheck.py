"""``python tools/typecheck.py FILES`` as a plug-in author runs it, in this process: the tool
loaded afresh from tools/, run from the author's folder."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conftest import REPO


def typecheck_as_an_author(author: Path, files: list[str], scratch: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The tool's status and what it printed for ``files`` (named relative to ``author``, where
    the author stands: the tool runs mypy from the checkout), with a tree and cache of the test's
    own under ``scratch``, so a ``make test`` running beside it keeps its tree; MYPYPATH unset."""
    spec = importlib.util.spec_from_file_location("typecheck_tool_of_plugins", REPO / "tools" / "typecheck.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(tool, "TREE", scratch / "tree")
    monkeypatch.setattr(tool, "CACHE", scratch / "cache")
    monkeypatch.chdir(author)
    monkeypatch.delenv("MYPYPATH", raising=False)
    status = tool.main(files)
    return status, capfd.readouterr().out
