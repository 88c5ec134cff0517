"""kfp_api_errors (around every KFP API call of submit / schedule) undoes only what kfp's
client configured on a root logger that had no handler: a root logger the user had configured
(logging.basicConfig, a handler of their own) is left as it was (mutation pass, session 31:
sub2-01, sub2-03)."""

from __future__ import annotations

import logging

import pytest

import kfp_tune
from conftest import REPO

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")


def configure_root_logger(monkeypatch: pytest.MonkeyPatch) -> logging.Handler:
    """The user's own configuration of the root logger: one handler, level INFO (pytest's
    handlers set aside for the test: made in the test, after pytest added them)."""
    root = logging.getLogger()
    handler = logging.StreamHandler()
    monkeypatch.setattr(root, "handlers", [handler])
    monkeypatch.setattr(root, "level", logging.INFO)
    return handler


def test_a_submit_leaves_a_configured_root_logger_its_handlers(fake_kfp_host, monkeypatch):
    handler = configure_root_logger(monkeypatch)
    kfp_tune.submit(DIGITS, host=fake_kfp_host.url, store_uri="s3://team/tuning")
    root = logging.getLogger()
    assert len(fake_kfp_host.runs) == 1
    assert root.handlers == [handler] and root.level == logging.INFO


def test_an_api_error_block_keeps_the_users_handler_whether_it_ends_or_raises(monkeypatch):
    from kfp_tune.core.errors import KfpTuneError
    from kfp_tune.pipelines.submit import kfp_api_errors

    handler = configure_root_logger(monkeypatch)
    root = logging.getLogger()
    with kfp_api_errors("http://kfp.example"):
        logging.info("Creating experiment %s.", "x")  # what kfp's client logs on the root logger
    assert root.handlers == [handler]
    with pytest.raises(KfpTuneError), kfp_api_errors("http://kfp.example"):
        logging.info("Creating experiment %s.", "x")
        raise ConnectionError("refused")
    assert root.handlers == [handler]
