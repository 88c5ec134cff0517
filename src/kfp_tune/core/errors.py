"""Errors that carry what a user needs to fix the input: a field path and what was expected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem in an experiment, at a Katib-style field path such as
    ``spec.parameters[1].feasibleSpace.min``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class KfpTuneError(Exception):
    """Base class of every error kfp-tune raises on purpose."""


class SpecError(KfpTuneError):
    """An experiment is invalid. Holds every problem found, not only the first."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"invalid experiment ({len(self.errors)} error(s)):\n{lines}")


class ExperimentConflict(KfpTuneError):
    """The store already holds an experiment of this name that the given spec cannot resume."""


class StoreError(KfpTuneError):
    """The store refused or failed an operation, or holds a record kfp-tune cannot read.

    ``transient`` marks failures worth retrying (connection errors, 5xx, slow-down); a
    permanent one (access denied, no such bucket, a damaged record) is raised at once."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


class ExperimentBusy(KfpTuneError):
    """Another run is driving this experiment now (or took it over from this run)."""


class NotImplementedAlgorithm(KfpTuneError):
    """A Katib algorithm name that this version of kfp-tune does not implement yet."""
