"""How a plug-in that fails to load is said (QA docs, session 32, finding 5): Python's raw warning
showed kfp_tune/__init__.py's path, a line number and its source line (``load_plugins()``), in the
kfp-tune command too, where every other message is one ``note:``, ``warning:`` or ``error:`` line.
The command now prints one ``warning:`` line; a library user's process gets one line naming the
user's own import, the warning's category and its text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_plugins import NEW_NAMES, environment, experiment_file, install, kfp_tune

FAILURE = (
    "kfp-tune plug-in 'broken' (kfp_tune.plugins entry point 'broken_plugin' of distribution 'broken-plugin') "
    "could not be loaded and is left out: ImportError: no numpy2"
)


@pytest.fixture
def broken_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    install(site, "broken-plugin", {"broken_plugin.py": "raise ImportError('no numpy2')\n"}, {"broken": "broken_plugin"})
    return site


def test_the_command_says_a_plugin_failed_in_one_warning_line_before_the_refusal(tmp_path: Path, broken_site: Path):
    _, code, _, err = kfp_tune(["validate", str(experiment_file(tmp_path, **NEW_NAMES))], environment(broken_site, tmp_path / "markers"), tmp_path)
    lines = err.splitlines()
    assert code == 2
    assert lines[0] == f"warning: {FAILURE}", err
    assert lines[1].startswith("spec.algorithm.algorithmName: unknown algorithm 'marker-random'"), err
    assert "__init__.py" not in err and "load_plugins()" not in err and "PluginWarning" not in err


def test_the_command_run_as_a_module_says_it_the_same_way(tmp_path: Path, broken_site: Path):
    result = subprocess.run(
        [sys.executable, "-m", "kfp_tune.cli", "--version"], env=environment(broken_site, tmp_path / "markers"), cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("kfp-tune ")
    assert result.stderr.splitlines() == [f"warning: {FAILURE}"]


def test_a_library_user_is_told_at_their_own_import_in_one_line(tmp_path: Path, broken_site: Path):
    script = tmp_path / "user_script.py"
    script.write_text("import os\n\nimport kfp_tune\n")
    result = subprocess.run([sys.executable, str(script)], env=environment(broken_site, tmp_path / "markers"), cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [f"{script}:3: PluginWarning: {FAILURE}"]


def test_a_users_warning_filters_still_decide(tmp_path: Path, broken_site: Path):
    """Only the display changed: an ignored PluginWarning is not printed, in the command either."""
    env = {**environment(broken_site, tmp_path / "markers"), "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([sys.executable, "-c", "import kfp_tune"], env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stderr == ""
    _, code, out, err = kfp_tune(["--version"], env, tmp_path)
    assert code == 0 and out.startswith("kfp-tune ") and err == ""


def test_a_plugins_own_warning_is_shown_as_python_shows_it(tmp_path: Path):
    """A plug-in that loads but warns (its own DeprecationWarning, say) keeps its file and line:
    that one is the plug-in author's to read."""
    site = tmp_path / "site"
    install(site, "old-plugin", {"old_plugin.py": "import warnings\nwarnings.warn('old api', UserWarning)\n"}, {"old": "old_plugin"})
    result = subprocess.run([sys.executable, "-c", "import kfp_tune"], env=environment(site, tmp_path / "markers"), cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [f"{site / 'old_plugin.py'}:2: UserWarning: old api", "  warnings.warn('old api', UserWarning)"]
