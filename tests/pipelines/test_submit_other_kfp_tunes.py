"""Which other kfp-tune compiled a package, as submit's warning and schedule's refusal both
ask it (Review B of the s35 upgrade fixes, findings 2 and 5): an unstamped package is kfp-tune
compile's only where one of its steps runs kfp_tune, not on its description alone, and the
images the warning names are those of its kfp-tune steps."""

import re
from pathlib import Path
from typing import Any

import yaml

from conftest import REPO
from kfp_tune.cli import main
from kfp_tune.core.version import build_stamp, described

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")
LOOKALIKE = "kfp-tune: Katib experiment search around my model, by hand"
OLD_WARNING = "was compiled by a kfp-tune from before 2026-12-05 03:46 UTC"


def _plain_kfp_pipeline(path: Path) -> None:
    """A user's own pipeline built with the plain KFP compiler (one python:3.11 step, no kfp-tune
    in it) whose description starts as kfp-tune compile's do."""
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def add(a: float, b: float) -> float:
        return a + b

    @dsl.pipeline(name="lookalike", description=LOOKALIKE)
    def lookalike(a: float = 1.0, b: float = 7.0) -> None:
        add(a=a, b=b)

    compiler.Compiler().compile(lookalike, str(path))


def _unstamped_kfp_tune_package(tmp_path: Path) -> list[dict[str, Any]]:
    """A package of kfp-tune compile's as a kfp-tune before 2026-12-05 made it: no
    KFP_TUNE_COMPILED_BY on any step, no 'compiled by' in its description (its YAML documents)."""
    package = tmp_path / "p.yaml"
    assert main(["compile", DIGITS, "-o", str(package), "--rounds", "1"]) == 0
    text = re.sub(r"\n\s+- name: KFP_TUNE_COMPILED_BY\n\s+value: \S+", "", package.read_text())
    text = re.sub(r"(description: 'kfp-tune: Katib experiment [^;]*); compiled by kfp-tune [^']*'", r"\g<1>'", text)
    assert "KFP_TUNE_COMPILED_BY" not in text
    return list(yaml.safe_load_all(text))


def test_a_plain_kfp_pipeline_with_kfp_tunes_description_is_sent_and_scheduled_without_a_word(fake_kfp_host, tmp_path, capsys):
    """Its description alone made it 'compiled by a kfp-tune from before 2026-12-05', and the
    warning named python:3.11 as the image whose kfp-tune its steps run; schedule's refusal beside
    it said it runs a pipeline another kfp-tune compiled. No step of it runs kfp-tune: silent."""
    package = tmp_path / "lookalike.yaml"
    _plain_kfp_pipeline(package)
    capsys.readouterr()
    assert main(["submit", str(package), "--host", fake_kfp_host.url]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["schedule", str(package), "--host", fake_kfp_host.url, "--cron", "@daily", "--name", "nightly"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["schedule", str(package), "--host", fake_kfp_host.url, "--cron", "@daily", "--name", "nightly"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: recurring run 'nightly' is already in KFP experiment") and "runs a pipeline compiled by" not in err, err


def test_an_unstamped_package_names_only_its_kfp_tune_steps_images_and_ones_own_pipeline_is_not_taken_for_it(fake_kfp_host, tmp_path, capsys):
    """An old component-trials package holds the user's own component too, and the executors sort
    by name: a step 'exec-add' in python:3.11 came first and was named as the image whose kfp-tune
    the steps run. Only the kfp-tune steps' image is named now. A pipeline of one's own around
    kfp-tune's components (named by its author, not kfp-tune-...) stays silent whatever its
    description."""
    documents = _unstamped_kfp_tune_package(tmp_path)
    executors = documents[0]["deploymentSpec"]["executors"]
    kfp_tune_images = {e["container"]["image"] for e in executors.values()}
    assert len(kfp_tune_images) == 1 and "python:3.11" not in kfp_tune_images
    documents[0]["deploymentSpec"]["executors"] = {
        "exec-add": {"container": {"image": "python:3.11", "command": ["python3", "-c"], "args": ["print(1 + 7)"]}}, **executors,
    }
    (tmp_path / "old.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    capsys.readouterr()
    assert main(["submit", str(tmp_path / "old.yaml"), "--host", fake_kfp_host.url]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and OLD_WARNING in err, err
    assert f"not by this kfp-tune {described(build_stamp())}: it is sent as it is, and its steps run the kfp-tune of their image {kfp_tune_images.pop()} (" in err, err
    assert "python:3.11" not in err, err
    documents[0]["pipelineInfo"]["name"] = "my-training"  # one's own pipeline: kfp-tune's steps, kfp-tune's description
    (tmp_path / "own.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    assert main(["submit", str(tmp_path / "own.yaml"), "--host", fake_kfp_host.url]) == 0
    assert "warning" not in capsys.readouterr().err
