"""QA "airgap" findings 5, 10 and 11: what an offline install and ``make test`` need, as declared.
The sdist's build asked for ``wheel`` (one more package an offline index must carry; setuptools
70.1 and later build wheels themselves), ``make test`` installed PyPI's torch where the docs said
the CPU wheel, and urllib3 and certifi, imported directly, came only through kfp's pins."""

from __future__ import annotations

import re
import sys

from conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli, which the test extra installs there
    import tomli as tomllib

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _names(requirements: list[str]) -> dict[str, str]:
    return {re.match(r"[A-Za-z0-9._-]+", r)[0].lower(): r for r in requirements}  # type: ignore[index]


def test_the_build_needs_setuptools_alone():
    requires = _names(PYPROJECT["build-system"]["requires"])
    assert list(requires) == ["setuptools"], requires
    lowest = re.search(r">=\s*([\d.]+)", requires["setuptools"])
    assert lowest and tuple(int(p) for p in lowest[1].split(".")) >= (70, 1)  # bdist_wheel is setuptools' own from 70.1


def test_urllib3_and_certifi_which_kfp_tune_imports_are_declared():
    source = "\n".join(path.read_text() for path in (REPO / "src" / "kfp_tune").rglob("*.py"))
    declared = _names(PYPROJECT["project"]["dependencies"])
    for module in ("urllib3", "certifi"):
        assert re.search(rf"^\s*import {module}\b", source, re.M), f"{module} is no longer imported: drop it from the dependencies"
        assert module in declared, f"{module} is imported by kfp-tune but not declared"
    assert re.search(r">=\s*2", declared["urllib3"]), "NameResolutionError is urllib3 2's"


def test_make_test_installs_torch_from_the_cpu_index_the_docs_name():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(rf"^TORCH_INDEX \?= {re.escape(CPU_INDEX)}$", makefile, re.M)
    (install,) = [line for line in makefile.splitlines() if '"$(TORCH)"' in line]
    assert '--index-url "$(TORCH_INDEX)"' in install, install
    guide = " ".join((REPO / "docs" / "guide.md").read_text().split())
    readme = " ".join((REPO / "README.md").read_text().split())
    assert f"`pip install torch --index-url {CPU_INDEX}`, as `make test` does" in guide
    assert f"`TORCH_INDEX={CPU_INDEX}`" in readme
