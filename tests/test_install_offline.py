"""QA "airgap" findings 5, 10 and 11: what an offline install and ``make test`` need, as declared.
The sdist's build asked for ``wheel`` (one more package an offline index must carry; setuptools
70.1 and later build wheels themselves), ``make test``'s torch index was not the one the docs named, and urllib3 and certifi, imported directly, came only through kfp's pins."""

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


def test_make_test_installs_torch_from_the_index_the_docs_name():
    """From pip's configured index by default (PyTorch's CPU index, where it cannot be reached,
    costs ~85 s of retries per fresh install here), from TORCH_INDEX when it is given, and the
    README and the guide say how to take the CPU wheel from PyTorch's index."""
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^TORCH_INDEX \?=\s*$", makefile, re.M)
    (install,) = [line for line in makefile.splitlines() if '"$(TORCH)"' in line]
    assert '$(if $(TORCH_INDEX),--index-url "$(TORCH_INDEX)")' in install, install
    guide = " ".join((REPO / "docs" / "guide.md").read_text().split())
    readme = " ".join((REPO / "README.md").read_text().split())
    assert f"`make test TORCH_INDEX={CPU_INDEX}` does the same" in guide
    assert f"`TORCH_INDEX={CPU_INDEX}`" in readme
