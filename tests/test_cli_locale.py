"""The command under a locale whose encoding cannot show a stored value (``LC_ALL=C``, a
Latin-1 terminal): the value is shown escaped, never "unexpected UnicodeEncodeError"."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import store_with_a_value

WIDE_VALUE = "中文"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store whose one experiment, wide, holds a Chinese categorical value."""
    return store_with_a_value(tmp_path_factory.mktemp("wide"), WIDE_VALUE)


@pytest.mark.parametrize("locale_env", [{"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}, {"PYTHONIOENCODING": "latin-1"}], ids=["C", "latin-1"])
@pytest.mark.parametrize("command", ["trials", "status"])
def test_a_value_the_terminal_cannot_show_is_escaped(store: str, locale_env: dict[str, str], command: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LANG", "LANGUAGE", "PYTHONUTF8") and not k.startswith("LC_")}
    env.update(locale_env)
    done = subprocess.run([sys.executable, "-m", "kfp_tune.cli", command, "wide", "--store", store], env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert WIDE_VALUE.encode("unicode_escape") in done.stdout, done.stdout
    assert b"UnicodeEncodeError" not in done.stderr
