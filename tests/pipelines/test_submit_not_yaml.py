"""A ``.yaml`` file given to submit / schedule that is not valid YAML (a tab where YAML wants
spaces, a brace left open) or not UTF-8: one clear refusal naming the file, the line and column,
and what was expected (a compiled pipeline package or a Katib Experiment), before anything is
sent. It was PyYAML's own exception (libyaml's, which does not even show the character), because
``_ready`` parses a ``.yaml`` file to tell a package from an experiment before anything else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import kfp_tune
from kfp_tune.core.errors import KfpTuneError, SpecError

KFP_TUNE = str(Path(sys.executable).parent / "kfp-tune")
EXPECTED = "expected a compiled pipeline package (kfp-tune compile's output) or a Katib Experiment"
TAB_EXPERIMENT = "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata:\n\tname: e\n"
OPEN_BRACE_PACKAGE = "pipelineInfo:\n  name: p\nroot: {dag: {tasks: {}}\ncomponents: {}\n"


def submitted(call: str, path: Path, host: str) -> Any:
    if call == "submit":
        return kfp_tune.submit(str(path), host=host)
    return kfp_tune.schedule(path, "0 0 2 * * *", host=host)


@pytest.mark.parametrize("call", ["submit", "schedule"])
@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_a_tab_in_an_experiment_file_is_one_clear_refusal(fake_kfp_host: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         call: str, libyaml: bool) -> None:
    if not libyaml:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML built without libyaml")
    path = tmp_path / "tab.yaml"
    path.write_text(TAB_EXPERIMENT)
    with pytest.raises(SpecError) as refused:
        submitted(call, path, fake_kfp_host.url)
    assert not isinstance(refused.value, yaml.YAMLError) and refused.value.__cause__ is None
    message = str(refused.value)
    assert f"{path}: not valid YAML: line 4, column 1: found character '\\t' that cannot start any token" in message, message
    assert message.endswith(EXPECTED), message
    assert fake_kfp_host.requests == []


@pytest.mark.parametrize("call", ["submit", "schedule"])
def test_a_package_with_a_brace_left_open_is_one_clear_refusal(fake_kfp_host: Any, tmp_path: Path, call: str) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(OPEN_BRACE_PACKAGE)
    with pytest.raises(SpecError, match=r"pipeline\.yaml: not valid YAML: line 4, column 1: .*; expected a compiled pipeline package") as refused:
        submitted(call, path, fake_kfp_host.url)
    assert "Traceback" not in str(refused.value)
    assert fake_kfp_host.requests == []


def test_a_file_that_is_not_utf8_is_one_clear_refusal(fake_kfp_host: Any, tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata:\n  name: caf\xe9\n")
    with pytest.raises(KfpTuneError) as refused:
        kfp_tune.submit(str(path), host=fake_kfp_host.url)
    assert not isinstance(refused.value, UnicodeError)
    assert "latin1.yaml" in str(refused.value) and "not UTF-8 text (byte 0xe9 at offset" in str(refused.value), str(refused.value)
    assert fake_kfp_host.requests == []


def test_the_cli_refuses_a_broken_package_with_the_same_line(fake_kfp_host: Any, tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(OPEN_BRACE_PACKAGE)
    result = subprocess.run([KFP_TUNE, "submit", str(path), "--host", fake_kfp_host.url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "pipeline.yaml: not valid YAML: line 4, column 1" in result.stderr, result.stderr
    assert fake_kfp_host.requests == []


def test_the_cli_says_what_a_broken_experiment_file_should_be(fake_kfp_host: Any, tmp_path: Path) -> None:
    """A file that looks like an experiment goes to the experiment loader first; one that is not
    YAML at all is told what it should have been, as a broken package is (schedule reads its
    file through the same ``_source``)."""
    path = tmp_path / "tab.yaml"
    path.write_text(TAB_EXPERIMENT)
    result = subprocess.run([KFP_TUNE, "submit", str(path), "--host", fake_kfp_host.url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert f"{path}: not valid YAML: line 4, column 1: found character '\\t' that cannot start any token" in result.stderr, result.stderr
    assert EXPECTED in result.stderr, result.stderr
    assert fake_kfp_host.requests == []


def test_the_cli_keeps_the_loaders_words_for_an_experiment_that_reads_as_yaml(fake_kfp_host: Any, tmp_path: Path) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text("apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata:\n  name: e\nspec:\n  maxTrialCount: many\n")
    result = subprocess.run([KFP_TUNE, "submit", str(path), "--host", fake_kfp_host.url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "spec.maxTrialCount" in result.stderr and EXPECTED not in result.stderr, result.stderr
    assert fake_kfp_host.requests == []


@pytest.mark.parametrize("broken", ["pipelineInfo: kfp-tune-p\nroot: {dag: {tasks: {}}}\n", "pipelineInfo: {name: p}\nroot: [a]\n"], ids=["pipelineInfo", "root"])
def test_a_package_whose_top_keys_are_not_mappings_is_one_clear_refusal(fake_kfp_host: Any, tmp_path: Path, broken: str) -> None:
    """An edited package whose ``pipelineInfo`` is a string crashed the checks that read it
    ('unexpected AttributeError: 'str' object has no attribute 'get'')."""
    path = tmp_path / "pipeline.yaml"
    path.write_text(broken)
    key = "pipelineInfo" if broken.startswith("pipelineInfo: kfp") else "root"
    with pytest.raises(SpecError) as refused:
        kfp_tune.submit(str(path), host=fake_kfp_host.url)
    assert str(refused.value).endswith(
        f"{path}: a compiled KFP pipeline package, not a Katib Experiment, and a broken one: {key}: expected a mapping, as KFP's compiler "
        f"writes it, got {'str' if key == 'pipelineInfo' else 'list'} (compile it again)"
    ), str(refused.value)
    assert fake_kfp_host.requests == []
