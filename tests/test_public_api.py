"""What a user's tools see of ``kfp_tune``: the types a type checker or an IDE reads for the main
calls, and the names ``dir()`` (a notebook's tab completion) offers."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import kfp_tune
from conftest import REPO


def test_dir_offers_the_public_names_the_lazy_ones_included_and_not_the_modules_own_imports():
    """``submit`` and ``schedule`` (loaded on first use) were missing from dir(kfp_tune), and
    ``Any`` (an annotation's import) was in it."""
    names = dir(kfp_tune)
    assert set(kfp_tune.__all__) <= set(names) and {"submit", "schedule", "__version__"} <= set(names)
    assert not {"Any", "TYPE_CHECKING", "VERSION", "load_plugins"} & set(names)
    assert all(callable(getattr(kfp_tune, name)) or name == "search" for name in kfp_tune.__all__)
    assert names == sorted(names)


def _installed_tree(where: Path) -> Path:
    """The package as ``pip install`` lays it out, as links (tools/typecheck.py builds the same
    tree for ``make test``'s mypy): the default editable install is an import hook, which type
    checkers cannot follow."""
    spec = importlib.util.spec_from_file_location("typecheck_tool", REPO / "tools" / "typecheck.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool.installed_tree(where / "site", REPO)


def test_a_users_script_type_checks_with_the_types_of_what_each_call_returns(tmp_path):
    """mypy --strict on a user's script against the installed package: tune() was Any with or
    without host=, and kfp_tune.submit was Any (its module __getattr__), so a misspelt attribute
    of the result passed unnoticed."""
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent("""
        from typing import Any

        import kfp_tune
        from kfp_tune import search, tune


        def objective(params: dict[str, Any]) -> float:
            return float(params["x"])


        space = {"x": search.double(0, 1)}
        reveal_type(tune(objective, space))
        reveal_type(tune(objective, space, host="http://ml-pipeline-ui.kubeflow"))
        reveal_type(tune(objective, space, client=object(), base_image="python:3.11"))
        reveal_type(kfp_tune.submit_function(objective, space, host="http://ml-pipeline-ui.kubeflow"))
        reveal_type(kfp_tune.submit)
        reveal_type(kfp_tune.schedule)
        tune(objective, space).best_trials
        tune(objective, space, base_image="python:3.11")
        kfp_tune.sumbit
    """))
    environment = {**os.environ, "PYTHONPATH": str(_installed_tree(tmp_path))}
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull, "user.py"],
                            capture_output=True, text=True, cwd=tmp_path, env=environment)
    output = result.stdout + result.stderr
    revealed = re.findall(r'^user\.py:\d+: note: Revealed type is "(.*)"$', output, flags=re.M)
    assert revealed[:4] == ["kfp_tune.api.TuneResult", "kfp_tune.remote.RemoteTuning", "kfp_tune.remote.RemoteTuning", "kfp_tune.remote.RemoteTuning"], output
    assert [r.rpartition(" -> ")[2] for r in revealed[4:]] == ["kfp_tune.pipelines.submit.Submitted", "kfp_tune.pipelines.submit.Submitted"], output
    errors = re.findall(r"^user\.py:\d+: error: (.*)$", output, flags=re.M)
    assert len(errors) == 3, output  # nothing else: the package is found, and the rest of the script is typed
    assert '"TuneResult" has no attribute "best_trials"' in errors[0]
    assert 'No overload variant of "tune" matches' in errors[1]  # base_image is for trials on Kubeflow: host= or client= with it
    assert 'Module has no attribute "sumbit"' in errors[2]
