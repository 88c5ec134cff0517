"""An Experiment's ``metadata.labels`` reach every pod of its trials, so a label the API server
refuses (``team: 'ml/bad value'``) made every cluster trial fail at create, naming
``spec.template.metadata.labels.team``, a path the user never wrote, while validate said the
experiment was valid and compile went through. validate refuses it now, naming
``metadata.labels.KEY``, by the same rule the Kubernetes launcher applies (core.naming)."""

from __future__ import annotations

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import label_problems


def refused(labels: dict[str, str]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_experiment(quadratic_experiment(**{"metadata.labels": labels}))
    return [f"{e.path}: {e.message}" for e in caught.value.errors]


def test_a_label_value_the_api_server_refuses_is_refused_naming_the_experiments_field() -> None:
    told = refused({"team": "ml/bad value"})
    assert told == ["metadata.labels.team: 'ml/bad value' is not a valid label value "
                    "(63 characters at most, alphanumeric at both ends, '-', '_' or '.' between)"]
    assert told == label_problems({"team": "ml/bad value"}, "metadata.labels"), "one rule, the launcher's"


def test_a_label_key_the_api_server_refuses_is_refused() -> None:
    assert refused({"bad key": "ml"}) == ["metadata.labels: 'bad key' is not a valid label key"]
    assert refused({"x" * 64: "ml"}) == [f"metadata.labels: {'x' * 64!r} is not a valid label key"]


def test_valid_labels_pass() -> None:
    load_experiment(quadratic_experiment(**{"metadata.labels": {"team": "ml", "example.com/tier": "", "v": "1.2_a-b"}}))
