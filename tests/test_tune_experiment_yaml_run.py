"""A tune() experiment's stored spec (kfp-tune's PythonFunction record: the function is not
stored) given to `kfp-tune run` was refused with words about an image's entrypoint the user never
wrote (QA sdk of session 38, finding 2, left by e492a2e): run refuses it naming it as a tune()
function experiment and the call that resumes it, and validate says so in its note."""

from __future__ import annotations

import json

from kfp_tune import Client, search, tune
from kfp_tune.cli import main
from kfp_tune.core.template import kubernetes_yaml


def test_run_and_validate_name_a_tune_function_experiments_yaml(tmp_path, capsys) -> None:
    store = str(tmp_path / "store")
    tune(lambda p: (p["x"] - 1) ** 2, {"x": search.double(0, 2)}, name="pf", max_trial_count=1, store=store, algorithm="random")
    doc = {k: v for k, v in json.loads(json.dumps(Client(store).get_experiment("pf"))).items() if k != "status"}
    doc["metadata"] = {"name": "pf-copy"}
    path = tmp_path / "pf.yaml"
    path.write_text(kubernetes_yaml(doc))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 0
    assert "is kfp-tune's record of a tune() function experiment" in capsys.readouterr().err
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "other")]) == 2
    err = capsys.readouterr().err
    assert "tune() function experiment" in err and "tune(name=..., objective=...)" in err and "entrypoint" not in err, err
