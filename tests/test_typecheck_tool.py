"""``python tools/typecheck.py <a plug-in's file>``: what a plug-in author runs to type-check a
plug-in against a checkout installed with ``pip install -e``. mypy cannot follow the editable
install's import hook, and ``ignore_missing_imports`` hid that: every kfp-tune name was ``Any``
and a plug-in with wrong types reported "Success"."""

from __future__ import annotations

import re
import textwrap

from plugin_typecheck import typecheck_as_an_author

PLUGIN = textwrap.dedent("""
    from kfp_tune.algorithms import Suggestions, register


    def bad() -> Suggestions:
        return Suggestions(assignments=5, exhausted="yes")


    class NoAlgorithm:
        def suggest(self, problem: int) -> int:
            return 1


    register("probe", NoAlgorithm, settings=())
    reveal_type(Suggestions)
""")


def test_a_plugins_file_outside_the_checkout_is_checked_against_kfp_tunes_types(tmp_path, monkeypatch, capfd):
    """Named relative to where the author stands (the tool runs mypy from the checkout), with a
    tree and cache of this test's own, so a ``make test`` running beside it keeps its tree."""
    author = tmp_path / "my-ext"
    author.mkdir()
    (author / "plugin.py").write_text(PLUGIN)
    status, output = typecheck_as_an_author(author, ["plugin.py"], tmp_path, monkeypatch, capfd)
    assert status == 1, output
    assert 'Revealed type is "Any"' not in output and "kfp_tune.algorithms.base.Suggestions" in output, output
    assert 'Argument "assignments" to "Suggestions" has incompatible type "int"' in output, output
    assert 'Argument "exhausted" to "Suggestions" has incompatible type "str"' in output, output
    assert 'Argument 2 to "register" has incompatible type "type[NoAlgorithm]"' in output, output
    assert len(re.findall(r"^\S*plugin\.py:\d+: error:", output, flags=re.M)) == 3, output  # the plug-in's, nothing else of it
