"""The metrics collector container kfp-tune adds beside a trial on a cluster, as Katib's webhook
adds its own: ``python -m kfp_tune.collectors.sidecar``, in the kfp-tune image.

It follows the File collector's file or the TensorFlowEvent collector's folder (an ``emptyDir``
shared with the primary container), or scrapes the PrometheusMetric collector's endpoint on
``localhost``, and stores what the trial reports as it comes (:mod:`kfp_tune.collectors.observe`),
so early stopping sees it while the trial runs and collect-metrics after it ends.

It runs as a Kubernetes native sidecar (an init container with ``restartPolicy: Always``): it
starts before the trial's containers, and once they have ended the kubelet sends it SIGTERM; it
then reads everything once more, stores the rest, writes its ``done`` record and exits.

Everything it needs comes from the environment, as for a Push trial: ``KFP_TUNE_STORE``,
``KFP_TUNE_S3_ENDPOINT``, ``KFP_TUNE_EXPERIMENT``, ``KFP_TUNE_TRIAL`` and the store's credentials
(from a Secret). What to read comes from the experiment as the store holds it (the spec
launch-trial runs the trial from). In a pod that is not the trial's primary pod (a worker of a
TFJob, say: its labels, from the downward API file, do not match ``primaryPodLabels``) it stores
nothing, as Katib injects its collector in the primary pod only.

A pod the Training Operator makes again under the same name after a failure (``restartPolicy:
ExitCode``, an eviction) is a new attempt, told from this container restarting by the pod's uid
(the downward API file ``uid``): it stores apart, and only the latest attempt's observations are
the trial's (:class:`~kfp_tune.collectors.observe.ObservationWriter`), as under Katib only the
attempt that completes reports. A pod with no such file (made by an older kfp-tune) stores as
before.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kfp_tune.collectors.observe import FOLLOWED_KINDS, Follower, ObservationWriter, collector_source, follow
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import Experiment, parse_experiment
from kfp_tune.core.state import read_experiment_record

log = logging.getLogger("kfp_tune.collectors.sidecar")

CONTAINER_NAME = "kfp-tune-metrics-collector"
POD_INFO_VOLUME = "kfp-tune-pod-info"
"""The downward API volume the Kubernetes launcher adds for this container (``manifests``)."""
POD_INFO_PATH = "/etc/kfp-tune/pod"
"""Where the downward API volume puts the pod's labels (file ``labels``) and uid (file ``uid``)."""
POD_UID_FILE = "uid"
POLL_SECONDS = 2.0


def pod_labels(text: str) -> dict[str, str]:
    """The downward API's ``metadata.labels`` file: one ``key="value"`` line per label."""
    import json

    labels = {}
    for line in text.splitlines():
        key, sep, quoted = line.partition("=")
        if sep:
            try:
                labels[key] = str(json.loads(quoted))
            except ValueError:
                labels[key] = quoted.strip('"')
    return labels


def pod_uid(pod_info: Path) -> str:
    """The pod's uid from the downward API folder; "" where there is none (a pod an older kfp-tune made)."""
    try:
        return (pod_info / POD_UID_FILE).read_text().strip()
    except OSError:
        return ""


def is_primary_pod(labels: Mapping[str, str], primary: Mapping[str, str] | None) -> bool:
    """Katib's rule: every primary pod label is on the pod with its value (no labels: every pod)."""
    return all(labels.get(key) == value for key, value in (primary or {}).items())


def _experiment(records: ExperimentRecords) -> Experiment:
    head = read_experiment_record(records)
    if head is None or not isinstance(head.get("spec"), dict):
        raise SystemExit(f"kfp-tune metrics collector: experiment {records.experiment!r} is not in the store {records.store.uri}")
    return parse_experiment(head["spec"])


def run(records: ExperimentRecords, trial: str, stop: threading.Event, poll_seconds: float = POLL_SECONDS, pod_info: Path | None = None) -> int:
    """Follow the trial's metrics until ``stop`` is set, then store the rest and the ``done``
    record; returns how many observations it stored."""
    experiment = _experiment(records)
    source = collector_source(experiment)
    if source.kind not in FOLLOWED_KINDS:
        raise SystemExit(f"kfp-tune metrics collector: the {source.kind} collector is not followed by this container")
    template = experiment.spec.trial_template
    pod_info = pod_info or Path(POD_INFO_PATH)
    labels_file = pod_info / "labels"
    primary = template.primary_pod_labels if template is not None else None
    if primary and labels_file.exists() and not is_primary_pod(pod_labels(labels_file.read_text()), primary):
        log.info("not the trial's primary pod: nothing to collect here")
        stop.wait()
        return 0
    local = Path(source.path) if source.path else None
    stored = follow(Follower(source, local=local), ObservationWriter(records, trial, pod=pod_uid(pod_info)), stop, poll_seconds)
    log.info("trial %s: stored %d observations", trial, stored)
    return stored


def main(argv: Sequence[str] | None = None, stop: threading.Event | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kfp_tune.collectors.sidecar", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--poll-seconds", type=float, default=POLL_SECONDS)
    parser.add_argument("--pod-info", default=POD_INFO_PATH, help="the downward API folder holding the pod's labels")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from kfp_tune.stores import TrialPlaceMissing, open_trial_place

    try:
        records, trial = open_trial_place()
    except TrialPlaceMissing as exc:
        parser.error(f"{exc}: this container runs beside a trial kfp-tune launched")
    stop = stop or threading.Event()

    def on_term(signum: int, frame: Any) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
    run(records, trial, stop, args.poll_seconds, Path(args.pod_info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
