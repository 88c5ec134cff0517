"""A test that calls an entry point in this process (a step's function, the CLI's main) leaves
the next test logging as pytest set it up: tests/conftest.py's ``_logging_as_it_was`` puts the
root logger, the loggers the entry points set and ``sys.excepthook`` back after each test. Before
it, a test that ran a pipeline on kfp.local here (tests/pipelines/test_component_trials.py) left
the root logger at INFO with kfp's handler in place of pytest's, and two later tests in the same
worker counted suggest-log lines they never asked for (e7f3cd9).

Shown on two tests of a file run in their order (pytest in a child process, ``-p no:randomly``):
the first configures logging through a step, as the step's own process starts with it (no
handler on the root logger); the second looks at what it was left."""

from __future__ import annotations

import os

import pytest

from conftest import TESTS

pytest_plugins = ["pytester"]

TWO_TESTS = '''
import logging
import sys

import pytest

from kfp_tune.core.errors import InputError
from kfp_tune.steps.entrypoints import suggest_step


def test_a_step_configures_logging_as_in_its_own_process(monkeypatch):
    logging.root.handlers.clear()  # pytest's set aside: a step's process starts with none
    with pytest.raises(InputError):
        suggest_step("", "quad", "run-1", 0, 1)
    monkeypatch.setenv("KFP_TUNE_DEBUG", "1")
    with pytest.raises(InputError):
        suggest_step("", "quad", "run-1", 0, 1)
    assert logging.root.level == logging.INFO and logging.getLogger("kfp_tune").level == logging.DEBUG
    assert sys.excepthook is not sys.__excepthook__


def test_the_next_test_finds_logging_as_pytest_set_it_up():
    root = logging.getLogger()
    assert [type(h).__module__ for h in root.handlers] == ["_pytest.logging"] * len(root.handlers) != []
    assert root.level == logging.WARNING and logging.getLogger("kfp_tune").level == logging.NOTSET
    assert sys.excepthook is sys.__excepthook__
'''


def _two_tests_in_order(pytester: pytest.Pytester, *options: str) -> dict[str, int]:
    pytester.makepyfile(test_two=TWO_TESTS)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])  # put back after the test (conftest)
    return pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", *options).parseoutcomes()


def test_with_the_suites_fixtures_the_next_test_finds_logging_as_it_was(pytester: pytest.Pytester) -> None:
    assert _two_tests_in_order(pytester, "-p", "conftest") == {"passed": 2}


def test_without_them_the_step_leaves_logging_configured_for_the_next_test(pytester: pytest.Pytester) -> None:
    """The same two tests without tests/conftest.py: the second fails, so the first one does leak
    (the test above shows the fixture's work, not a step that no longer configures logging)."""
    assert _two_tests_in_order(pytester) == {"passed": 1, "failed": 1}
