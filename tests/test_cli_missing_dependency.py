"""QA "airgap" finding 4: after an install without kfp-tune's dependencies (pip install
--no-deps, an incomplete offline wheelhouse) a command said "unexpected ModuleNotFoundError: No
module named 'minio' (a defect in kfp-tune ...)". It names the package and the pip command that
installs it (the extra, for a package only an extra declares); kfp-tune's own modules missing is
still a defect."""

from __future__ import annotations

import sys

import pytest

from kfp_tune.cli import main


def _failing_list(monkeypatch, module: str) -> None:
    """``kfp-tune list`` failing on an import of ``module``, as where it is not installed."""
    from kfp_tune import cli

    def command(args):
        raise ModuleNotFoundError(f"No module named {module!r}", name=module)

    monkeypatch.setattr(cli, "cmd_list", command)


@pytest.mark.parametrize(
    "module, said",
    [
        ("minio", "error: kfp-tune's dependency minio is not installed here (kfp-tune installed with --no-deps?): pip install 'minio"),
        ("yaml", "error: kfp-tune's dependency pyyaml (module 'yaml') is not installed here (kfp-tune installed with --no-deps?): pip install 'pyyaml"),
        ("torch", "error: the Python package torch, which kfp-tune's 'nas-examples' extra installs, is not installed here: pip install 'kfp-tune[nas-examples]'"),
        ("no_such_module_kfp_tune_test", "error: the Python module 'no_such_module_kfp_tune_test' is not installed here (pip install the package that provides it"),
    ],
)
def test_a_missing_package_is_named_with_the_command_that_installs_it(monkeypatch, capsys, module, said):
    _failing_list(monkeypatch, module)
    assert main(["list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(said) and err.count("\n") == 1, err
    assert "a defect in kfp-tune" not in err


def test_a_missing_module_of_kfp_tune_itself_is_still_a_defect(monkeypatch, capsys):
    _failing_list(monkeypatch, "kfp_tune.gone")
    assert main(["list"]) == 1
    assert capsys.readouterr().err == "error: unexpected ModuleNotFoundError: No module named 'kfp_tune.gone' (a defect in kfp-tune; -vv shows the traceback)\n"


def test_a_store_whose_client_is_not_installed_says_so(monkeypatch, capsys, tmp_path):
    """As QA met it: minio uninstalled, ``kfp-tune list --store s3://...``."""
    monkeypatch.setitem(sys.modules, "minio", None)  # importing it raises ModuleNotFoundError, name 'minio'
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-never-shown")
    assert main(["list", "--store", "s3://bkt/x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: kfp-tune's dependency minio is not installed here") and "secret-never-shown" not in err, err
