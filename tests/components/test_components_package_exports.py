"""kfp_tune.components names every component a user's own pipeline may load, the one that fails
the run of a Failed experiment too (a249ea9 exported its component.yaml; the package did not
name it, so its README sent users to decide_stop's module)."""

from __future__ import annotations

from kfp_tune import components
from kfp_tune.components.export import COMPONENTS


def test_the_package_names_every_exported_component() -> None:
    assert set(COMPONENTS) <= set(components.__all__), set(COMPONENTS) - set(components.__all__)
    assert all(getattr(components, name) is COMPONENTS[name] for name in COMPONENTS)
