"""enas's ``controller_hidden_size`` had no upper bound (QA settings, session 38, finding 2):
100,000 passed ``validate`` and the first suggestion failed allocating 745 GiB. The controller's
memory is estimated from the settings, and one that cannot fit is refused naming the setting and
the estimate, as kfp-tune's other limits on what one suggestion may cost are."""

from __future__ import annotations

import re
from typing import Any

from conftest import load_katib_example, merge, validation_errors
from kfp_tune.algorithms.enas import Controller, ControllerSettings
from kfp_tune.core.catalogue import ENAS_BYTES_PER_WEIGHT, MAX_ENAS_CONTROLLER_BYTES, enas_controller_bytes


def _enas(hidden_size: str) -> dict[str, Any]:
    """Katib's enas-cpu example with this controller_hidden_size."""
    return merge(load_katib_example("nas_enas-cpu.yaml"), {"spec.algorithm.algorithmSettings": [{"name": "controller_hidden_size", "value": hidden_size}]})


def test_the_estimate_counts_the_controller_s_own_weights() -> None:
    for hidden, operations in ((4, 3), (7, 11)):
        controller = Controller(2, operations, ControllerSettings(hidden_size=hidden), seed=0)
        assert enas_controller_bytes(hidden, operations) == controller.theta.size * ENAS_BYTES_PER_WEIGHT


def test_a_hidden_size_no_machine_fits_is_refused_naming_the_setting_and_the_estimate() -> None:
    [error] = validation_errors(_enas("100000"))
    assert error.path == "spec.algorithm.algorithmSettings", error
    assert error.message.startswith("controller_hidden_size 100,000: the enas controller would need about "), error.message
    needed = int(re.search(r"about ([\d,]+) GiB", error.message).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert 2000 < needed < 3000, error.message  # 1e11 weights at 24 bytes
    assert f"expected at most {MAX_ENAS_CONTROLLER_BYTES // 2**30} GiB" in error.message, error.message
    largest = int(re.search(r"hidden size up to about ([\d,]+)", error.message).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert validation_errors(_enas(str(largest))) == []
    assert [e.path for e in validation_errors(_enas(str(largest + 1)))] == ["spec.algorithm.algorithmSettings"]


def test_katib_s_example_sizes_pass() -> None:
    assert validation_errors(_enas("64")) == [] and validation_errors(_enas("100")) == []
