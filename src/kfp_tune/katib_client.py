"""``kfp_tune.KatibClient``: Katib's SDK client's method and argument names over
:class:`kfp_tune.Client`, so a notebook written for ``kubeflow.katib`` changes one import::

    from kfp_tune import KatibClient          # was: from kubeflow.katib import KatibClient
    client = KatibClient(store="s3://mlpipeline/kfp-tune")
    client.wait_for_experiment_condition("my-exp")
    print(client.get_optimal_hyperparameters("my-exp"))

Objects read as Katib's models do (``exp.status.current_optimal_trial.best_trial_name``) and are
dicts too (:class:`kfp_tune.client.KatibObject`). ``namespace`` is accepted everywhere and names
where a running trial's pod is looked for; experiments are not namespaced in a store. What is not
supported raises NotImplementedError naming what to use instead: ``create_experiment`` (use
``kfp-tune submit`` / :func:`kfp_tune.submit`), ``tune``'s LLM fine-tuning arguments, suggestions
(kfp-tune has no Suggestion objects: the algorithm runs in the pipeline's steps), and following a
log (``follow=True``). ``timeout`` / ``apiserver_timeout`` arguments that bound a single API call
are accepted and unused: the store is read directly.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from kfp_tune.client import Client, ExperimentFailedError, KatibObject, has_condition
from kfp_tune.core.errors import ExperimentNotFound

DEFAULT_TIMEOUT = 120
"""Katib's per-call API server timeout (accepted, unused)."""


def _settings(algorithm_settings: Any) -> dict[str, Any] | None:
    """Katib's algorithm_settings, a dict or a list of V1beta1AlgorithmSetting (name, value), as
    a dict."""
    if algorithm_settings is None or isinstance(algorithm_settings, dict):
        return algorithm_settings
    if isinstance(algorithm_settings, (list, tuple)):
        out = {}
        for item in algorithm_settings:
            name, value = (item.get("name"), item.get("value")) if isinstance(item, dict) else (getattr(item, "name", None), getattr(item, "value", None))
            if not isinstance(name, str):
                raise TypeError(f"KatibClient.tune: algorithm_settings: expected items with a name and a value, got {item!r:.60}")
            out[name] = value
        return out
    raise TypeError(f"KatibClient.tune: algorithm_settings: expected a dict or a list of V1beta1AlgorithmSetting, got {type(algorithm_settings).__name__}")


class KatibClient:
    """Katib's ``KatibClient`` over a kfp-tune store (``store``: a folder or ``s3://bucket/prefix``;
    default ``$KFP_TUNE_STORE``, else ``./kfp-tune-runs``). ``config_file``, ``context`` and
    ``client_configuration`` configure the Kubernetes client as in Katib; it is only used to read
    the log of a trial still running on a cluster, and only loaded then."""

    def __init__(
        self,
        config_file: str | None = None,
        context: str | None = None,
        client_configuration: Any = None,
        namespace: str | None = None,
        store: str | os.PathLike[str] | Any = None,
        host: str | None = None,
    ):
        self.client = Client(store)
        self.namespace = namespace
        self.host = host
        """The KFP API's URL: where :meth:`tune` sends a function's trials (else they run here)."""
        if config_file or context or client_configuration is not None:

            def kubernetes_client() -> Any:
                """The Kubernetes client Katib's constructor builds, made on first use."""
                from kubernetes import client, config

                if client_configuration is None:
                    config.load_kube_config(config_file=config_file, context=context)
                return client.ApiClient(client_configuration)

            self.client.kubernetes_factory = kubernetes_client

    # --- experiments --------------------------------------------------------------------------

    def create_experiment(self, experiment: Any, namespace: str | None = None) -> None:
        raise NotImplementedError(
            "KatibClient.create_experiment: kfp-tune runs an experiment as a Kubeflow Pipelines run, not a custom resource: "
            "use kfp-tune submit experiment.yaml (or kfp_tune.submit), or kfp-tune run experiment.yaml on this machine"
        )

    def tune(
        self,
        name: str,
        objective: Any = None,
        parameters: dict[str, Any] | None = None,
        base_image: str | None = None,
        namespace: str | None = None,
        env_per_trial: Any = None,
        algorithm_name: str = "random",
        algorithm_settings: Any = None,
        objective_metric_name: str | None = None,
        additional_metric_names: list[str] | None = None,
        objective_type: str = "maximize",
        objective_goal: float | None = None,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
        max_failed_trial_count: int | None = None,
        resources_per_trial: Any = None,
        retain_trials: bool = False,
        packages_to_install: list[str] | None = None,
        pip_index_urls: list[str] | None = None,
        metrics_collector_config: dict[str, Any] | None = None,
        **llm_arguments: Any,
    ) -> None:
        """Katib's ``tune()``, with its argument names and defaults (``algorithm_name`` random,
        ``objective_type`` maximize, ``parallel_trial_count`` 3 as Katib's webhook defaults it).
        With ``host=`` given to this client (or ``$KF_PIPELINES_ENDPOINT`` set) the trials run on
        Kubeflow as :func:`kfp_tune.tune` with ``host`` runs them, and it returns once the run is
        sent, as Katib's returns once the Experiment is created; otherwise they run in this
        process, to the end, and the options for a cluster's trials (``base_image``,
        ``resources_per_trial``, ...) are refused. Then ``wait_for_experiment_condition(name)``
        and ``get_optimal_hyperparameters(name)`` work as in Katib. Katib's LLM fine-tuning
        arguments (model, dataset and trainer providers) are not supported."""
        from kfp_tune.api import tune

        if llm_arguments:
            unsupported = sorted(llm_arguments)
            raise NotImplementedError(f"KatibClient.tune: {', '.join(unsupported)}: Katib's LLM fine-tuning path of tune() is not supported; "
                                      "tune a function with objective= and parameters=")
        if objective is None or parameters is None or objective_metric_name is None:
            raise ValueError("KatibClient.tune: objective, parameters and objective_metric_name are required (Katib's SDK requires them too)")
        collector = (metrics_collector_config or {}).get("kind", "StdOut")
        if collector not in ("StdOut", "Push"):
            raise NotImplementedError(f"KatibClient.tune: metrics_collector_config kind {collector!r}: a function's trials report through "
                                      "stdout or by returning their metrics (StdOut, Push)")
        settings = _settings(algorithm_settings)
        host = self.host or os.environ.get("KF_PIPELINES_ENDPOINT") or None
        cluster = {
            "base_image": base_image, "env_per_trial": env_per_trial, "resources_per_trial": resources_per_trial,
            "packages_to_install": packages_to_install, "pip_index_urls": pip_index_urls, "retain_trials": retain_trials or None,
        }
        if host is None:
            given = [key for key, value in cluster.items() if value is not None]
            if given:
                raise TypeError(f"KatibClient.tune: {given[0]} is for trials on Kubeflow: make the client with KatibClient(host=KFP_API_URL) "
                                "(or set KF_PIPELINES_ENDPOINT); without a host the trials run in this process")
            cluster = {}
        tune(
            objective, parameters, objective_metric_name=objective_metric_name, objective_type=objective_type, algorithm=algorithm_name,
            algorithm_settings=settings, max_trial_count=max_trial_count, parallel_trial_count=parallel_trial_count or 3,
            max_failed_trial_count=max_failed_trial_count, goal=objective_goal, store=self.client.store.uri, name=name,
            additional_metric_names=additional_metric_names, **({"host": host, "namespace": namespace or self.namespace, **cluster} if host else {}),
        )

    def get_experiment(self, name: str, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> KatibObject:
        return self.client.get_experiment(name)

    def list_experiments(self, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> list[KatibObject]:
        return self.client.list_experiments()

    def get_experiment_conditions(
        self, name: str, namespace: str | None = None, experiment: KatibObject | None = None, timeout: int = DEFAULT_TIMEOUT
    ) -> list[KatibObject]:
        experiment = experiment if experiment is not None else self.get_experiment(name)
        return list(experiment.status.conditions or []) if experiment.status else []

    def _is(self, condition: str, name: str, experiment: KatibObject | None) -> bool:
        return has_condition(experiment if experiment is not None else self.get_experiment(name), condition)

    def is_experiment_created(self, name: str, namespace: str | None = None, experiment: KatibObject | None = None, timeout: int = DEFAULT_TIMEOUT) -> bool:
        return self._is("Created", name, experiment)

    def is_experiment_running(self, name: str, namespace: str | None = None, experiment: KatibObject | None = None, timeout: int = DEFAULT_TIMEOUT) -> bool:
        return self._is("Running", name, experiment)

    def is_experiment_restarting(self, name: str, namespace: str | None = None, experiment: KatibObject | None = None, timeout: int = DEFAULT_TIMEOUT) -> bool:
        return self._is("Restarting", name, experiment)

    def is_experiment_succeeded(self, name: str, namespace: str | None = None, experiment: KatibObject | None = None, timeout: int = DEFAULT_TIMEOUT) -> bool:
        return self._is("Succeeded", name, experiment)

    def is_experiment_failed(self, name: str, namespace: str | None = None, experiment: KatibObject | None = None, timeout: int = DEFAULT_TIMEOUT) -> bool:
        return self._is("Failed", name, experiment)

    def wait_for_experiment_condition(
        self,
        name: str,
        namespace: str | None = None,
        expected_condition: str = "Succeeded",
        timeout: int = 600,
        polling_interval: int = 15,
        apiserver_timeout: int = DEFAULT_TIMEOUT,
    ) -> KatibObject:
        """As Katib's: the experiment once it holds ``expected_condition``; RuntimeError if it
        Failed instead, TimeoutError after ``timeout`` seconds."""
        return self.client.wait_for_experiment_condition(name, expected_condition, timeout, polling_interval)

    def edit_experiment_budget(
        self,
        name: str,
        namespace: str | None = None,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
        max_failed_trial_count: int | None = None,
        timeout: int = DEFAULT_TIMEOUT,
    ) -> None:
        self.client.edit_experiment_budget(name, max_trial_count, parallel_trial_count, max_failed_trial_count)

    def delete_experiment(self, name: str, namespace: str | None = None, delete_options: Any = None) -> None:
        """Deletes the experiment's records at once, as Katib's deletes the custom resource (no
        confirmation: the call is the confirmation)."""
        self.client.delete_experiment(name, confirm=True)

    def get_suggestion(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("KatibClient.get_suggestion: kfp-tune has no Suggestion objects; the algorithm runs in the pipeline's suggest step")

    def list_suggestions(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("KatibClient.list_suggestions: kfp-tune has no Suggestion objects; the algorithm runs in the pipeline's suggest step")

    # --- trials --------------------------------------------------------------------------------

    def get_trial(self, name: str, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> KatibObject:
        return self.client.get_trial(name)

    def list_trials(self, experiment_name: str | None = None, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> list[KatibObject]:
        """Katib's: the trials of the experiment, or of every experiment; ``[]`` for an experiment
        that is not there, as Katib's label selector finds no trials."""
        names = [experiment_name] if experiment_name is not None else self.client.experiment_names()
        found: list[KatibObject] = []
        for name in names:
            with contextlib.suppress(ExperimentNotFound):
                found.extend(self.client.list_trials(name))
        return found

    def get_success_trial_details(self, experiment_name: str | None = None, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> list[KatibObject]:
        """Each Succeeded trial's ``name``, ``parameter_assignments`` and ``metrics`` (Katib's keys)."""
        return [
            KatibObject({"name": t.metadata.name, "parameter_assignments": t.spec.parameter_assignments, "metrics": (t.status.observation or {}).get("metrics", [])})
            for t in self.list_trials(experiment_name)
            if has_condition(t, "Succeeded")
        ]

    def get_optimal_hyperparameters(self, name: str, namespace: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> KatibObject | None:
        return self.client.get_optimal_hyperparameters(name)

    def get_trial_metrics(self, name: str, namespace: str | None = None, db_manager_address: str = "", timeout: int = DEFAULT_TIMEOUT) -> list[KatibObject]:
        """As Katib's DB manager returns them: ``[{"timeStamp", "metric": {"name", "value"}}]``
        (``value`` a string, as Katib keeps it; ``timeStamp`` empty: kfp-tune keeps no time per
        report), every report in order; ``get_trial_metrics(name)[0].metric.value``."""
        return [
            KatibObject({"timeStamp": "", "metric": {"name": m["name"], "value": m["value"] if isinstance(m["value"], str) else repr(m["value"])}})
            for m in self.client.get_trial_metrics(name)
        ]

    def get_job_logs(self, name: str, trial_name: str, follow: bool = False, namespace: str | None = None) -> Iterator[str]:
        """The trial's log, line by line (``name`` is the experiment's)."""
        if not name:
            raise ValueError("Experiment name is required")
        if not trial_name:
            raise ValueError("Trial name is required")
        if follow:
            raise NotImplementedError("KatibClient.get_job_logs: follow=True is not supported; call it again for what was logged since")
        yield from self.client.get_trial_logs((name, trial_name), namespace=namespace or self.namespace).splitlines()


__all__ = ["ExperimentFailedError", "KatibClient"]
