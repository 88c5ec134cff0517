"""An enas run's trials as a person reads them: ``kfp-tune trials``, ``status`` and the report's
tables show each trial's architecture in words and no nn_config column (some 800 characters a
row, the same embedding again), while ``--json`` and the store keep Katib's two strings as the
trial got them. Run as a user runs it: the repository's enas example through ``kfp-tune run``,
its trial a short script that prints a metric."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import yaml

from conftest import REPO
from kfp_tune.cli import main

TRIAL = """\
import sys
architecture = sys.argv[1].split("=", 1)[1]
print("Validation-Accuracy=%.3f" % (len(architecture) / 1000))
"""


def _enas_run(tmp_path: Path, capsys) -> Path:
    document = yaml.safe_load((REPO / "images" / "enas-digits" / "experiment.yaml").read_text())
    spec = document["spec"]
    spec["maxTrialCount"], spec["parallelTrialCount"] = 3, 1
    container = spec["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    (tmp_path / "trial.py").write_text(TRIAL)
    container["command"] = [sys.executable, str(tmp_path / "trial.py"), *(a for a in container["command"] if a.startswith(("--architecture", "--nn_config")))]
    (tmp_path / "enas.yaml").write_text(yaml.safe_dump(document))
    store = tmp_path / "store"
    assert main(["run", str(tmp_path / "enas.yaml"), "--engine", "inline", "--store", str(store)]) == 0
    capsys.readouterr()
    return store


def test_an_enas_runs_tables_show_the_architecture_in_words(tmp_path, capsys):
    store = _enas_run(tmp_path, capsys)
    name = "enas-digits"

    assert main(["trials", name, "--store", str(store), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3
    for row in rows:  # Katib's strings, as the trial got them
        assert [len(layer) for layer in ast.literal_eval(row["parameters"]["architecture"])] == [1, 2, 3, 4]
        assert "embedding" in ast.literal_eval(row["parameters"]["nn_config"])

    assert main(["trials", name, "--store", str(store)]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split()[-1] == "architecture" and "nn_config" not in header
    assert len(lines) == 3
    for line in lines:
        assert "1: " in line and "; 4: " in line and "embedding" not in line and "[[" not in line

    assert main(["status", name, "--store", str(store)]) == 0
    [parameters] = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("parameters:")]
    assert parameters.strip().startswith("parameters: architecture=1: ") and "nn_config" not in parameters

    assert main(["report", name, "--store", str(store), "-o", str(tmp_path / "report")]) == 0
    markdown = (tmp_path / "report" / f"{name}.md").read_text()
    page = (tmp_path / "report" / f"{name}.html").read_text()
    assert "nn\\_config" not in markdown and "embedding" not in markdown and "; 4: " in markdown
    assert "nn_config" not in page and "embedding" not in page and "; 4: " in page
