"""A tune() experiment's stored spec (kfp-tune's PythonFunction record: the function is not
stored) given to `kfp-tune run` was refused with words about an image's entrypoint the user never
wrote (QA sdk of session 38, finding 2, left by e492a2e): run refuses it naming it as a tune()
function experiment and the call that resumes it; validate (exit 3), compile and submit refuse it
too, before anything is written or sent."""

from __future__ import annotations

import json

import pytest

import kfp_tune
from kfp_tune import Client, search, tune
from kfp_tune.cli import main
from kfp_tune.core.errors import SpecError
from kfp_tune.core.template import kubernetes_yaml


def test_run_and_validate_name_a_tune_function_experiments_yaml(tmp_path, capsys) -> None:
    store = str(tmp_path / "store")
    tune(lambda p: (p["x"] - 1) ** 2, {"x": search.double(0, 2)}, name="pf", max_trial_count=1, store=store, algorithm="random")
    doc = {k: v for k, v in json.loads(json.dumps(Client(store).get_experiment("pf"))).items() if k != "status"}
    doc["metadata"] = {"name": "pf-copy"}
    path = tmp_path / "pf.yaml"
    path.write_text(kubernetes_yaml(doc))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 3  # valid Katib, but nothing can run it (review C of session 38, finding 3)
    assert "is kfp-tune's record of a tune() function experiment" in capsys.readouterr().err
    assert main(["compile", str(path), "-o", str(tmp_path / "p.yaml")]) == 2 and not (tmp_path / "p.yaml").exists()
    assert "tune() function experiment" in capsys.readouterr().err
    with pytest.raises(SpecError, match=r"tune\(\) function experiment"):  # before the host is asked
        kfp_tune.submit(str(path), host="http://127.0.0.1:9")
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "other")]) == 2
    err = capsys.readouterr().err
    assert "tune() function experiment" in err and "tune(name=..., objective=...)" in err and "entrypoint" not in err, err
