"""Metric strategies over a trial's reports."""

from __future__ import annotations

from kfp_tune.core.observation import MetricLog, Observation


def test_observation_strategies():
    obs = Observation.from_logs([MetricLog("loss", v) for v in (0.5, 0.2, 0.4)] + [MetricLog("acc", 0.7)], ["loss", "acc"])
    assert obs.values({"loss": "min", "acc": "max"}) == {"loss": 0.2, "acc": 0.7}
    assert obs.values({"loss": "max"})["loss"] == 0.5
    assert obs.values({"loss": "latest"})["loss"] == 0.4
    assert Observation.from_dict(obs.to_dict()) == obs
