"""What Katib itself would refuse in an experiment that kfp-tune runs.

kfp-tune accepts every experiment Katib admits, and a little more: names longer than Katib's 40
characters, a setting that Katib's other service for the same algorithm knows (``tpe`` runs on
hyperopt in Katib's default configuration, ``multivariate-tpe`` on Optuna; kfp-tune takes both
services' settings for both), settings of its own (``kappa``, ``xi``), a grid smaller than
``maxTrialCount``, normal distributions where Katib's Optuna service takes only uniform ones,
defaults where Katib's services require a value, and success and failure conditions for the
training operator kinds Katib gives none (MXJob, PaddleJob, JAXJob). ``kfp-tune validate``
prints these as notes (exit 0), so a team that still runs some experiments on Katib sees what
would not go back. Katib's rules, from its source (kubeflow/katib): the experiment webhook
(``pkg/webhook/v1beta1/experiment/validator``) and the suggestion services
(``pkg/suggestion/v1beta1/<service>/service.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfp_tune.core.errors import FieldError
from kfp_tune.core.space import search_space_of
from kfp_tune.core.spec import Experiment

KATIB_NAME_LIMIT = 40
"""Katib's webhook refuses a longer experiment name (kfp-tune's limit is a DNS label's 63)."""

KATIB_SERVICE_SETTINGS: dict[str, tuple[str, frozenset[str]]] = {
    "tpe": ("hyperopt", frozenset({"gamma", "prior_weight", "n_EI_candidates", "random_state"})),
    "multivariate-tpe": ("optuna", frozenset({"n_startup_trials", "n_ei_candidates", "random_state"})),
    "bayesianoptimization": ("skopt", frozenset({"base_estimator", "n_initial_points", "acq_func", "acq_optimizer", "random_state"})),
}
"""The settings each algorithm's service in Katib's default katib-config accepts, where kfp-tune
accepts more; any other setting that service refuses as unknown."""

OPTUNA_UNIFORM_ONLY = ("multivariate-tpe", "grid")
"""Algorithms Katib's default configuration runs on its Optuna service, which since
kubeflow/katib#2666 raises on a normal or logNormal int or double parameter."""

KATIB_REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "hyperband": ("r_l",),  # resource_name is required by kfp-tune too
    "pbt": ("suggestion_trial_dir", "n_population", "truncation_threshold"),
}
"""Settings Katib's service requires and kfp-tune gives a default."""


KATIB_DEFAULTED_KINDS = ("Job", "TFJob", "PyTorchJob", "XGBoostJob", "MPIJob", "TrainJob")
"""The trial kinds whose success and failure conditions Katib's webhook defaults; kfp-tune also
defaults MXJob's, PaddleJob's and JAXJob's (the training operator's), which Katib requires written."""


def katib_notes(experiment: Experiment, written: Mapping[str, Any] | None = None) -> list[FieldError]:
    """Where Katib's webhook or its default suggestion service would refuse this experiment,
    which kfp-tune runs; empty for an experiment Katib admits and runs. ``written``: the
    document as the file has it, before defaults (to tell a condition written from one
    defaulted); without it those notes are left out."""
    notes: list[FieldError] = []
    template = experiment.spec.trial_template
    kind = template.trial_spec.get("kind") if template is not None and template.trial_spec else None
    if written is not None and template is not None and isinstance(kind, str) and kind not in KATIB_DEFAULTED_KINDS:
        written_template = (written.get("spec") or {}).get("trialTemplate") or {}
        defaulted = {"successCondition": template.success_condition, "failureCondition": template.failure_condition}
        for key, condition in defaulted.items():
            if isinstance(written_template, Mapping) and not written_template.get(key) and condition:
                notes.append(
                    FieldError(
                        f"spec.trialTemplate.{key}",
                        f"Katib's webhook requires it for kind {kind} (it defaults it for {', '.join(KATIB_DEFAULTED_KINDS)} only); "
                        "kfp-tune uses the Kubeflow training operator's",
                    )
                )
    if len(experiment.name) > KATIB_NAME_LIMIT:
        notes.append(
            FieldError("metadata.name", f"Katib refuses names longer than {KATIB_NAME_LIMIT} characters (this one has {len(experiment.name)})")
        )
    spec = experiment.spec
    algorithm = spec.algorithm
    if algorithm is None:
        return notes
    name = algorithm.algorithm_name
    given = [s.name for s in algorithm.algorithm_settings]
    if name in KATIB_SERVICE_SETTINGS:
        service, known = KATIB_SERVICE_SETTINGS[name]
        for index, setting in enumerate(given):
            if setting not in known:
                notes.append(
                    FieldError(
                        f"spec.algorithm.algorithmSettings[{index}].name",
                        f"Katib's {service} service, which runs {name} in its default configuration, refuses {setting!r} "
                        f"(it takes {', '.join(sorted(known))}); kfp-tune takes it",
                    )
                )
    for required in KATIB_REQUIRED_SETTINGS.get(name, ()):
        if required not in given:
            notes.append(FieldError("spec.algorithm.algorithmSettings", f"Katib's {name} service requires {required!r}; kfp-tune gives it a default"))
    if name in OPTUNA_UNIFORM_ONLY:
        for index, parameter in enumerate(spec.parameters):
            distribution = parameter.feasible_space.distribution
            if parameter.parameter_type in ("int", "double") and distribution in ("normal", "logNormal"):
                notes.append(
                    FieldError(
                        f"spec.parameters[{index}].feasibleSpace.distribution",
                        f"Katib's optuna service, which runs {name} in its default configuration, fails the experiment at its first "
                        f"suggestion on {distribution} (only uniform and logUniform); kfp-tune samples it",
                    )
                )
    points = search_space_of(spec.parameters).grid_size() if name == "grid" and spec.parameters else None
    if points is not None and spec.max_trial_count is not None and spec.max_trial_count > points:
        notes.append(
            FieldError(
                "spec.maxTrialCount",
                f"Katib's grid refuses a maxTrialCount above the grid's {points} points (got {spec.max_trial_count}); "
                "kfp-tune runs every point and ends with ExperimentSuggestionEndReached",
            )
        )
    return notes
