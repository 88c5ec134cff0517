"""A folder store whose key may read and list, not write nor delete: an S3 policy of Read, List
(an analyst's key), refused as the S3 store words AccessDenied."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores.local import LocalStore

REFUSAL = "S3 write of s3://shared/teamA/{key} at http://127.0.0.1:18333 failed: AccessDenied (the credentials are valid but may not do this)"


class ReadOnlyStore(LocalStore):
    """Reads and lists as the folder store does; every write and delete refused, naming the key."""

    def put(self, key: str, data: bytes) -> None:
        raise StoreInputError(REFUSAL.format(key=key))

    def create(self, key: str, data: bytes) -> bool:
        raise StoreInputError(REFUSAL.format(key=key))

    def delete(self, keys: list[str]) -> None:
        raise StoreInputError(REFUSAL.format(key=keys[0] if keys else ""))


def stored_files(root: Path) -> dict[str, bytes]:
    """Every file under a folder store's root, by its key: what a command that must write nothing
    is compared on, before and after."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def completed_quad(folder: Path) -> Path:
    """The quadratic experiment's YAML in ``folder``, run to its end (2 trials, Succeeded) by
    ``kfp-tune run --engine inline`` in ``folder/store``."""
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})))
    assert main(["run", str(path), "--engine", "inline", "--store", str(folder / "store")]) == 0
    return path
