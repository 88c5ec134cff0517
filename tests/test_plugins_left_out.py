"""A plug-in "left out" is left out entirely (QA plugin, session 37, findings 2-4): one whose import
raises SystemExit (argparse at module level) is a PluginWarning like any failing import, not the
end of every kfp-tune command; what one registered before its import failed is undone (its
takeover of a Katib name included); and a second plug-in registering a new name another plug-in
registered is refused, naming both, instead of silently replacing its factory and settings."""

from __future__ import annotations

import textwrap
import warnings
from importlib import metadata
from pathlib import Path

import pytest

from kfp_tune import plugins
from kfp_tune.algorithms import early_stopping, registry
from kfp_tune.core import catalogue

HEAD = "from kfp_tune.algorithms import register, register_early_stopping\nfrom kfp_tune.algorithms.random_search import RandomSearch\n" \
       "from kfp_tune.core.catalogue import int_setting\n"


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, modules: dict[str, str], attr: str = "") -> tuple[dict[str, str], list[str]]:
    """Load plug-ins whose entry point names are the keys of ``modules`` (written as modules
    ``qa_plug_<test>_<key>``: none cached from another test), as ``import kfp_tune`` does:
    (load_plugins' result, the warnings)."""
    found = []
    for name, source in modules.items():
        module = f"qa_plug_{tmp_path.name}_{name}".replace("-", "_")
        (tmp_path / f"{module}.py").write_text(HEAD + textwrap.dedent(source))
        found.append(metadata.EntryPoint(name, f"{module}:{attr}" if attr else module, plugins.GROUP))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "_loaded", None)
    monkeypatch.setattr(plugins, "_owners", {})
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: found)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = plugins.load_plugins()
    assert all(w.category is plugins.PluginWarning for w in caught), caught
    return dict(loaded), [str(w.message) for w in caught]


@pytest.mark.usefixtures("clean_plugin_registries")
@pytest.mark.parametrize("statement", ["raise SystemExit('exitplug: refusing to load')", "import argparse; argparse.ArgumentParser().parse_args(['--nope'])"])
def test_a_plugin_raising_system_exit_as_it_imports_is_left_out_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, statement: str) -> None:
    loaded, said = load(tmp_path, monkeypatch, {"exits": statement + "\n", "fine": "register('fine-algo', RandomSearch, settings=())\n"})
    assert loaded["exits"].startswith("SystemExit: "), loaded
    assert loaded["fine"] == "" and "fine-algo" in catalogue.ALGORITHMS, loaded  # the plug-ins after it still load
    assert len(said) == 1 and "kfp-tune plug-in 'exits'" in said[0] and "could not be loaded and is left out: SystemExit" in said[0], said


@pytest.mark.usefixtures("clean_plugin_registries")
def test_what_a_plugin_registered_before_its_import_failed_is_undone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    random_before = registry._FACTORIES["random"]
    loaded, said = load(tmp_path, monkeypatch, {"half": """
        class Mine(RandomSearch):
            pass
        register("random", Mine, ends="never")
        register("half-a", RandomSearch, settings=())
        register_early_stopping("half-stop", RandomSearch, settings=())
        import not_installed_dependency_of_qa_half  # noqa: F401
        register("half-b", RandomSearch, settings=())
    """})
    assert loaded["half"].startswith("ModuleNotFoundError"), loaded
    assert registry._FACTORIES["random"] is random_before, registry._FACTORIES["random"]
    assert "half-a" not in catalogue.ALGORITHMS and "half-a" not in registry._FACTORIES
    assert "half-stop" not in catalogue.EARLY_STOPPING and "half-stop" not in early_stopping.RULES
    assert not any(name == "random" and end == "never" for (name, _), (_, end) in registry._SEARCH_ENDS.items())
    assert len(said) == 1 and "is left out" in said[0], said
    assert "what it registered before the error is undone: algorithms 'half-a', 'random'; early-stopping rules 'half-stop'" in said[0], said[0]


@pytest.mark.usefixtures("clean_plugin_registries")
def test_a_second_plugin_registering_a_new_name_of_another_is_refused_naming_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded, said = load(tmp_path, monkeypatch, {
        "a-first": """
            class First(RandomSearch):
                pass
            register("shared-name", First, settings=[int_setting("radius", 1)])
            register_early_stopping("shared-stop", First, settings=())
        """,
        "b-second": """
            class Second(RandomSearch):
                pass
            register("own-name", Second, settings=())
            register("shared-name", Second, settings=())
            register_early_stopping("shared-stop", Second, settings=())
        """,
    })
    assert loaded["a-first"] == "" and loaded["b-second"], loaded
    assert registry.create("shared-name", {"radius": 1}).__class__.__name__ == "First"
    assert [s.name for s in catalogue.ALGORITHMS["shared-name"].settings] == ["radius"]
    assert early_stopping.RULES["shared-stop"].__name__ == "First"
    assert "own-name" not in catalogue.ALGORITHMS  # the refused plug-in is left out whole
    assert len(said) == 1, said
    assert "kfp-tune plug-in 'b-second'" in said[0] and "is left out" in said[0], said[0]
    assert "algorithm 'shared-name', which kfp-tune plug-in 'a-first' registered" in said[0], said[0]
    assert "early-stopping rule 'shared-stop', which kfp-tune plug-in 'a-first' registered" in said[0], said[0]


@pytest.mark.usefixtures("clean_plugin_registries")
def test_two_takeovers_of_a_katib_name_still_go_to_the_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded, said = load(tmp_path, monkeypatch, {
        "a-first": "class First(RandomSearch):\n    pass\nregister('random', First)\n",
        "b-second": "class Second(RandomSearch):\n    pass\nregister('random', Second)\n",
    })
    assert loaded == {"a-first": "", "b-second": ""} and said == [], (loaded, said)
    assert registry.create("random", {}).__class__.__name__ == "Second"


@pytest.mark.usefixtures("clean_plugin_registries")
def test_an_entry_point_naming_a_function_is_left_out_saying_to_name_the_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'attrplug:setup' loaded without a word, its setup() never called, and the experiment was
    refused as an unknown algorithm with no hint (QA plugin, finding 7)."""
    loaded, said = load(tmp_path, monkeypatch, {"attr": "def setup():\n    register('attr-algo', RandomSearch, settings=())\n"}, attr="setup")
    assert loaded["attr"], loaded
    assert "attr-algo" not in catalogue.ALGORITHMS
    assert len(said) == 1 and "kfp-tune plug-in 'attr'" in said[0] and "is left out" in said[0], said
    assert ":setup', an object in a module, not a module, and importing the module registered nothing" in said[0] and "setup is not called" in said[0], said[0]


@pytest.mark.usefixtures("clean_plugin_registries")
def test_an_entry_point_naming_an_object_of_a_module_that_registers_at_import_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded, said = load(tmp_path, monkeypatch, {"attr-ok": "class Mine(RandomSearch):\n    pass\nregister('attr-ok-algo', Mine, settings=())\n"}, attr="Mine")
    assert loaded == {"attr-ok": ""} and said == [], (loaded, said)
    assert "attr-ok-algo" in catalogue.ALGORITHMS
