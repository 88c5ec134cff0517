"""A pytest plug-in (pyproject's addopts) that runs every test as on a cluster whose registry
serves the default runtime image's name: ``KFP_TUNE_IMAGE`` names that very image, so that
submit, schedule and tune(host=) send pipelines to the fake KFP API, in this process and in the
CLI processes and notebook kernels a test starts. Nobody publishes that image, and kfp-tune
refuses to send a pipeline naming it otherwise; the tests of that refusal unset the variable
(tests/pipelines/test_unpublished_image.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _default_image_served(_same_environment_for_every_test: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set after tests/conftest.py's fixture has cleared the KFP_TUNE_ variables (it is asked
    for by name, so that it runs first), and before a test's own fixtures, which may unset it."""
    from kfp_tune.launchers.runtime_image import DEFAULT_RUNTIME_IMAGE

    monkeypatch.setenv("KFP_TUNE_IMAGE", DEFAULT_RUNTIME_IMAGE)
