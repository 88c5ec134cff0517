"""A plug-in's store: a URI scheme of its own, taken by every entry point that takes a store
URI (``--store``, ``open_store``), and a Store object taken by ``tune(store=)`` as by ``Client``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from memory_store import MemoryStore

from conftest import quadratic_experiment
from kfp_tune import Client, search, tune
from kfp_tune.cli import main
from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores import check_store_uri, open_store, register_scheme, registered_schemes
from kfp_tune.stores.testing import StoreContract


class TestMemoryStoreKeepsTheStoreContract(StoreContract):
    @pytest.fixture
    def store(self) -> MemoryStore:
        return MemoryStore()


@pytest.fixture
def memory_scheme(clean_plugin_registries) -> dict[str, MemoryStore]:
    """``memory://NAME``: one MemoryStore per URI for the test's process."""
    opened: dict[str, MemoryStore] = {}
    register_scheme("memory", lambda uri: opened.setdefault(uri, MemoryStore(uri)))
    return opened


def test_a_registered_scheme_is_checked_and_opened_by_its_opener(memory_scheme):
    assert registered_schemes() == ["memory"]
    assert check_store_uri("memory://runs") == "memory://runs"
    store = open_store("memory://runs")
    assert store is memory_scheme["memory://runs"] and open_store("MEMORY://runs") is not store
    with pytest.raises(StoreInputError, match=r"credentials do not belong in the URI"):
        check_store_uri("memory://user:secret@runs")
    with pytest.raises(StoreInputError, match=r"the 'gs' scheme is not supported; expected s3://bucket/prefix, file:///path or a folder path, memory://\.\.\."):
        check_store_uri("gs://bucket/x")


def test_an_unknown_scheme_says_a_plugins_scheme_needs_its_plugin():
    with pytest.raises(StoreInputError, match=r"the 'memory' scheme is not supported; .* \(a plug-in's scheme needs its plug-in installed\)"):
        check_store_uri("memory://runs")


@pytest.mark.parametrize(
    ("scheme", "error", "words"),
    [
        ("s3", ValueError, "store scheme 's3' is kfp-tune's own"),
        ("file", ValueError, "store scheme 'file' is kfp-tune's own"),
        ("mem://", ValueError, "expected lower case letters"),
        ("Memory", ValueError, "expected lower case letters"),
    ],
)
def test_kfp_tunes_own_schemes_and_odd_names_cannot_be_registered(clean_plugin_registries, scheme, error, words):
    with pytest.raises(error, match=words):
        register_scheme(scheme, MemoryStore)


def test_an_opener_that_cannot_be_called_is_refused_when_registered(clean_plugin_registries):
    """Not at the first open, in a pipeline's step, as "'MemoryStore' object is not callable"."""
    with pytest.raises(TypeError, match=r"^store scheme 'memory': the opener must be a callable, opener\(uri\) -> Store$"):
        register_scheme("memory", MemoryStore())  # type: ignore[arg-type]
    assert registered_schemes() == []


def test_the_cli_runs_and_reads_an_experiment_in_a_plugins_store(tmp_path: Path, capsys, memory_scheme):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2})))
    assert main(["run", str(path), "--engine", "inline", "--store", "memory://cli", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["succeeded"] == 2
    assert memory_scheme["memory://cli"].list("experiments/quad/")
    assert main(["trials", "quad", "--store", "memory://cli", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_tune_takes_a_store_object_as_client_does():
    store = MemoryStore("memory://tune")
    result = tune(lambda p: (p["x"] - 0.5) ** 2, {"x": search.double(0, 1)}, algorithm="random", max_trial_count=3, store=store, name="fn")  # type: ignore[arg-type]
    assert result.status == "Succeeded" and len(result.trials) == 3 and result.store == "memory://tune"
    assert Client(store).get_optimal_hyperparameters("fn") is not None  # type: ignore[arg-type]


def test_tune_refuses_a_store_that_is_neither_a_uri_nor_a_store_object():
    with pytest.raises(TypeError, match=r"tune\(\): store: expected a URI, a folder, a Store object \(kfp_tune\.core\.interfaces\.Store\) or None, got 42"):
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, store=42)  # type: ignore[arg-type]
