"""The command Katib really runs in a trial's primary container.

For the collectors that read what the training writes (StdOut, File, TensorFlowEvent), Katib's
pod webhook (``wrapWorkerContainer``) replaces the primary container's command with ``sh -c``
and one argument: its command and args joined by single spaces (after a leading ``sh -c`` or
``bash -c``, kept as the shell). So the shell parses the line: the double quotes Katib's NAS
examples put around ``${trialParameters...}`` are removed, ``$VAR`` expands, ``&&`` chains.
Running an example's argv as exec form instead would hand the quotes to the trial. kfp-tune runs
the same line the same way, locally and on a cluster, so an Experiment behaves as under Katib.
"""

from __future__ import annotations

from collections.abc import Sequence

from kfp_tune.core.vocabulary import CollectorKind

WRAPPED_KINDS = frozenset({CollectorKind.STDOUT.value, CollectorKind.FILE.value, CollectorKind.TENSORFLOW_EVENT.value})
"""Katib's ``NeedWrapWorkerMetricsCollectorList``: the collector kinds whose trials run via ``sh -c``."""

SHELLS = ("sh", "bash")


def katib_wraps(collector_kind: str | None) -> bool:
    """Whether Katib runs the primary container's command through a shell for this collector
    (no ``metricsCollectorSpec`` means StdOut)."""
    return (collector_kind or CollectorKind.STDOUT.value) in WRAPPED_KINDS


def shell_form(argv: Sequence[str]) -> list[str]:
    """``[shell, "-c", line]`` as Katib builds it: a command that is already ``sh -c ...`` or
    ``bash -c ...`` keeps its shell and has the rest joined; any other is joined whole under
    ``sh``. An empty argv stays empty (Katib would take the image's entrypoint)."""
    words = list(argv)
    if not words:
        return []
    if len(words) >= 2 and words[0] in SHELLS and words[1] == "-c":
        return [words[0], "-c", " ".join(words[2:])]
    return ["sh", "-c", " ".join(words)]
