"""Pages that say the same thing say it alike (QA docs, session 32): the guide's ``tune(host=)``
table gave a store default without the namespace rule the rest of the docs give; README, the
guide and docs/testing.md gave three times for ``make test``; README and docs/benchmarks.md gave
two benchmark commands, one with the default seeds and neither with torch's CPU wheel."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO
from kfp_tune.pipelines.submit import cluster_store_default

CPU_WHEEL = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


def text(relative: str, root: Path = REPO) -> str:
    """A page, its lines joined where markdown wraps them (a command may span two lines)."""
    return re.sub(r"\s*\n\s*", " ", (root / relative).read_text())


def remote_tune_option(guide: str, option: str) -> str:
    """The default column of one row of the guide's table of ``tune(host=)``'s options."""
    section = guide[guide.index("## Tune a Python function on Kubeflow") : guide.index("## Scheduling")]
    rows = re.findall(r"\| `" + option + r"` \|([^|]*)\|", section)
    assert len(rows) == 1, rows
    return rows[0]


def test_the_remote_tune_table_gives_the_store_default_with_and_without_a_namespace(root: Path = REPO):
    default = remote_tune_option(text("docs/guide.md", root), "store")
    assert f"`{cluster_store_default(None)}`" in default
    assert f"`{cluster_store_default('NS')}`" in default and "namespace=NS" in default


def test_readme_guide_and_testing_give_one_time_for_make_test(root: Path = REPO):
    readme, guide, testing = (text(page, root) for page in ("README.md", "docs/guide.md", "docs/testing.md"))
    said = {page: re.findall(r"here (about \d+ minutes|\d+ to \d+ minutes) in all on an idle 2-core machine", body) for page, body in (("README", readme), ("guide", guide))}
    assert said["README"] == said["guide"] and len(said["README"]) == 1, said
    (minutes,) = re.findall(r"the README and the guide say about (\d+) minutes", testing)
    assert said["README"] == [f"about {minutes} minutes"]


def benchmark_commands(page: str) -> list[str]:
    """The options of each ``benchmarks/algorithms.py`` command a page gives, less ``--out``."""
    return [re.sub(r" --out \S+", "", options) for options in re.findall(r"python benchmarks/algorithms\.py([^`,]*)", page)]


def test_readme_and_benchmarks_give_one_benchmark_command_with_torchs_cpu_wheel(root: Path = REPO):
    readme, benchmarks = text("README.md", root), text("docs/benchmarks.md", root)
    readme_commands, benchmark_page_commands = benchmark_commands(readme), benchmark_commands(benchmarks[: benchmarks.index("## ")])
    assert readme_commands == benchmark_page_commands == [" --seeds 10 --trials 50"], (readme_commands, benchmark_page_commands)
    for page in (readme, benchmarks):
        assert CPU_WHEEL in page
        assert not re.search(r"pip install torch(?!['\"]? --index-url https://download\.pytorch\.org/whl/cpu)", page)
