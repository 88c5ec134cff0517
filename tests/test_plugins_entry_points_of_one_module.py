"""Entry points naming objects of one module (review E of session 37, finding 6, of 26a1a2b): a
module registering an algorithm and a rule at import, with one entry point per object
('shared-algo = mod:Mine', 'shared-stop = mod:Rule'), loads whole; the second entry point's
import registers nothing only because the first already imported the module, which is no
'setup is not called' problem. And an entry point naming an object whose module takes another
plug-in's name gets the clash's own advice."""

from __future__ import annotations

import textwrap
import warnings
from importlib import metadata
from pathlib import Path

import pytest

from kfp_tune import plugins
from kfp_tune.algorithms import early_stopping
from kfp_tune.core import catalogue

HEAD = "from kfp_tune.algorithms import register, register_early_stopping\nfrom kfp_tune.algorithms.random_search import RandomSearch\n" \
       "from kfp_tune.algorithms.early_stopping import MedianStop\n"


def _load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, modules: dict[str, str], entries: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Write ``modules`` (key: a suffix of its name, unique to the test) and load the entry
    points (name, 'SUFFIX:attr'), as ``import kfp_tune`` does."""
    prefix = f"qa_plug_one_{tmp_path.name}_".replace("-", "_")
    for suffix, source in modules.items():
        (tmp_path / f"{prefix}{suffix}.py").write_text(HEAD + textwrap.dedent(source))
    found = [metadata.EntryPoint(name, prefix + value, plugins.GROUP) for name, value in entries]
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "_loaded", None)
    monkeypatch.setattr(plugins, "_owners", {})
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: found)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = plugins.load_plugins()
    return dict(loaded), [str(w.message) for w in caught]


SHARED = """
    class Mine(RandomSearch):
        pass
    class Rule(MedianStop):
        pass
    register("shared-algo", Mine, settings=())
    register_early_stopping("shared-stop", Rule, settings=())
"""


@pytest.mark.usefixtures("clean_plugin_registries")
def test_two_entry_points_naming_objects_of_one_module_both_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded, said = _load(tmp_path, monkeypatch, {"shared": SHARED}, [("shared-algo", "shared:Mine"), ("shared-stop", "shared:Rule")])
    assert loaded == {"shared-algo": "", "shared-stop": ""} and said == [], (loaded, said)
    assert "shared-algo" in catalogue.ALGORITHMS and "shared-stop" in early_stopping.RULES


@pytest.mark.usefixtures("clean_plugin_registries")
def test_an_entry_point_naming_an_object_whose_module_takes_another_plugins_name_is_advised_as_a_clash(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded, said = _load(tmp_path, monkeypatch, {"first": SHARED, "second": SHARED},
                         [("a-first", "first:Mine"), ("b-second", "second:Mine")])
    assert loaded["a-first"] == "" and loaded["b-second"], loaded
    assert len(said) == 1 and "which kfp-tune plug-in 'a-first' registered" in said[0], said
    assert said[0].endswith("; uninstall one of the two, or have one register another name"), said[0]
