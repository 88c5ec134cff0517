import pytest


@pytest.fixture(autouse=True)
def short_liveness(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dead launch-trial attempt is recognised after 1 s here, not the default 120 s."""
    monkeypatch.setenv("KFP_TUNE_TRIAL_TTL_SECONDS", "1")
