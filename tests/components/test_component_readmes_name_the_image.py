"""QA "airgap" finding 8: the shipped component.yaml files name the default runtime image, under
which this project publishes no image, and their READMEs did not say so nor how to export them
for an image of one's own registry."""

import pytest

from conftest import REPO
from kfp_tune.core.version import VERSION
from kfp_tune.launchers.runtime_image import DEFAULT_RUNTIME_IMAGE

FOLDERS = ["suggest", "launch_trial", "collect_metrics", "decide_stop", "stage_inputs", "best_trial"]


@pytest.mark.parametrize("folder", FOLDERS)
def test_each_readme_says_its_image_is_not_published_and_how_to_export_another(folder):
    assert f"image: {DEFAULT_RUNTIME_IMAGE}" in (REPO / "components" / folder / "component.yaml").read_text()
    readme = " ".join((REPO / "components" / folder / "README.md").read_text().split())
    assert f"`component.yaml` names `{DEFAULT_RUNTIME_IMAGE}`" in readme
    assert "publishes no image" in readme
    assert "`KFP_TUNE_IMAGE=REGISTRY/kfp-tune-python:" in readme and "python -m kfp_tune.components.export DEST`" in readme
    # review B finding 6: the build tag the guide asks for, as its "Your own pipelines" note says, not the version alone
    assert f"`KFP_TUNE_IMAGE=REGISTRY/kfp-tune-python:{VERSION}-BUILD python -m kfp_tune.components.export DEST`" in readme
    assert "`kfp-tune --version`" in readme and '"Your own pipelines"' in readme
    assert f"`from kfp_tune.components import {folder}` with `KFP_TUNE_IMAGE` set" in readme
