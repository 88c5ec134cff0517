"""How a plug-in that fails to load is said (QA docs, session 32, finding 5): Python's raw warning
showed kfp_tune/__init__.py's path, a line number and its source line (``load_plugins()``), in the
kfp-tune command too, where every other message is one ``note:``, ``warning:`` or ``error:`` line.
The command now prints one ``warning:`` line; a library user's process gets one line naming the
user's own import, the warning's category and its text."""

from __future__ import annotations

import os
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


QUIET_PLUGIN = """
import logging
import warnings

# what a plug-in, or a library it imports (TensorFlow, absl), may do at import
warnings.filterwarnings("ignore", message="noisy deprecation")
logging.captureWarnings(True)
"""

CHECK_WARNINGS_SET_UP = """import logging
import warnings
logging.basicConfig(format="%(name)s: %(message)s")
import kfp_tune
kept = [f for f in warnings.filters if f[1] is not None and f[1].pattern == "noisy deprecation"]
print(len(kept), warnings.showwarning.__module__)
warnings.warn("noisy deprecation here")
"""


def this_source_first(site: Path) -> str:
    """A subprocess's PYTHONPATH: the plug-ins' site, then the kfp_tune this test imported (a
    worktree's on its PYTHONPATH; else the editable install's, which the subprocess finds anyway)."""
    import kfp_tune as imported

    return os.pathsep.join([str(site), str(Path(imported.__file__).parent.parent)])


@pytest.mark.parametrize("plugin_name", ["quiet", "a-quiet"], ids=["loaded-after-the-broken-one", "loaded-before-it"])
def test_warning_filters_and_display_a_plugin_sets_at_import_are_kept(tmp_path: Path, broken_site: Path, plugin_name: str):
    """A plug-in (or a library it imports) that sets a warning filter and logging's display of
    warnings at import keeps both: loading the plug-ins put back neither (a catch_warnings around
    the scan restored the filters and showwarning of before it). The broken one's failure is
    still said once, through logging as the plug-in asked (the application's handler prints it):
    at the user's import when it failed first; in Python's form when the display was logging's
    by then (the plug-ins load by entry point name), as every other warning of the process."""
    install(broken_site, "quiet-plugin", {"quiet_plugin.py": QUIET_PLUGIN}, {plugin_name: "quiet_plugin"})
    script = tmp_path / "user_script.py"
    script.write_text(CHECK_WARNINGS_SET_UP)
    env = {**environment(broken_site, tmp_path / "markers"), "PYTHONPATH": this_source_first(broken_site)}
    result = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["1 logging"], result.stdout
    assert "noisy deprecation" not in result.stderr
    said = [line for line in result.stderr.splitlines() if FAILURE in line]
    if plugin_name == "quiet":
        assert [line for line in result.stderr.splitlines() if line.strip()] == [f"py.warnings: {script}:4: PluginWarning: {FAILURE}"], result.stderr
    else:
        assert len(said) == 1 and said[0].startswith("py.warnings: "), result.stderr


def test_the_command_keeps_a_plugins_filters_and_says_the_failure_in_one_line(tmp_path: Path, broken_site: Path):
    """The command, as ``python -m kfp_tune.cli``: the plug-in's filter is still there when the
    process ends (its own atexit says), and the failure is the command's one ``warning:`` line."""
    at_exit = "\nimport atexit, sys\natexit.register(lambda: print('filters kept:', sum(1 for f in warnings.filters if f[1] is not None and f[1].pattern == 'noisy deprecation'), file=sys.stderr))\n"
    install(broken_site, "quiet-plugin", {"quiet_plugin.py": QUIET_PLUGIN + at_exit}, {"quiet": "quiet_plugin"})
    env = {**environment(broken_site, tmp_path / "markers"), "PYTHONPATH": this_source_first(broken_site)}
    result = subprocess.run([sys.executable, "-m", "kfp_tune.cli", "--version"], env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("kfp-tune "), result.stderr
    assert result.stderr.splitlines() == [f"warning: {FAILURE}", "filters kept: 1"]
