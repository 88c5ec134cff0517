"""Katib's ``sh -c`` wrapping of the primary container's command (its pod webhook's
wrapWorkerContainer): the same line, for the same collectors."""

from __future__ import annotations

import subprocess

import pytest

from kfp_tune.core.shell_form import katib_wraps, shell_form


@pytest.mark.parametrize("kind, wrapped", [(None, True), ("StdOut", True), ("File", True), ("TensorFlowEvent", True), ("PrometheusMetric", False), ("Custom", False), ("Push", False), ("None", False)])
def test_katib_wraps_the_collectors_that_read_what_the_training_writes(kind, wrapped):
    assert katib_wraps(kind) is wrapped


def test_a_command_is_joined_by_single_spaces_under_sh():
    assert shell_form(["python3", "run_trial.py", '--num-layers="1"']) == ["sh", "-c", 'python3 run_trial.py --num-layers="1"']


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_a_command_that_is_already_a_shell_keeps_it_and_joins_the_rest(shell):
    assert shell_form([shell, "-c", "echo a", "&&", "echo b"]) == [shell, "-c", "echo a && echo b"]


def test_a_shell_path_or_a_shell_without_dash_c_is_joined_whole_as_katib_does():
    """Katib compares the first word with "sh" and "bash" exactly."""
    assert shell_form(["/bin/sh", "-c", "echo a"]) == ["sh", "-c", "/bin/sh -c echo a"]
    assert shell_form(["sh", "script.sh"]) == ["sh", "-c", "sh script.sh"]


def test_a_bare_shell_dash_c_keeps_its_shell_with_an_empty_line():
    """``sh -c`` and nothing after it: the shell, as Katib keeps it, and an empty line."""
    assert shell_form(["sh", "-c"]) == ["sh", "-c", ""]
    assert shell_form(["bash", "-c"]) == ["bash", "-c", ""]


def test_no_command_stays_none():
    assert shell_form([]) == []


def test_the_shell_removes_the_quotes_katibs_nas_examples_put_around_a_value():
    """What the trial receives: the darts example's ``--algorithm-settings="${...}"`` with Katib's
    single-quoted JSON arrives without the double quotes, one argument."""
    value = "{'num_epochs': '1', 'w_lr': 0.025}"
    line = shell_form(["python3", "-c", "import sys; print(sys.argv[1])", f'--algorithm-settings="{value}"'])
    # the -c program is split by the shell as well: Katib's examples never pass one this way
    assert line[2].startswith("python3 -c import sys;")
    echoed = subprocess.run(shell_form(["printf", "%s", f'--algorithm-settings="{value}"']), capture_output=True, text=True, check=True)
    assert echoed.stdout == f"--algorithm-settings={value}"
