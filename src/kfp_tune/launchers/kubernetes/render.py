"""``kfp-tune render``: the resource the Kubernetes launcher would create for one trial, with no
cluster and no API call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfp_tune.core.catalogue import ALGORITHMS
from kfp_tune.core.naming import trial_name as make_trial_name
from kfp_tune.core.space import search_space_of
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_namespace, trial_run
from kfp_tune.launchers.kubernetes.launcher import KubernetesConfig, KubernetesLauncher


def render_manifest(
    experiment: Any,
    assignment: Mapping[str, str] | None = None,
    trial_name: str = "",
    config: KubernetesConfig | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The resource the launcher would create for one trial, with no API call: ``assignment``
    gives parameter values (Katib's strings; each is checked against its feasible space; a
    parameter left out takes its first value: min, or the first of its list). The owner
    reference is left out: the anchor's uid is known only in the cluster. Without ``config`` the
    trial is rendered in the experiment's namespace (``metadata.namespace``, else ``default``),
    as ``kfp-tune render`` and the launcher place it."""
    space = search_space_of(experiment.spec.parameters)
    given = dict(assignment or {})
    algorithm_name = experiment.spec.algorithm.algorithm_name if experiment.spec.algorithm else ""
    algorithm = ALGORITHMS.get(algorithm_name)
    searched = algorithm.trial_values if algorithm is not None and experiment.spec.nas_config is not None else ()
    missing = [name for name in searched if name not in given]
    if missing:  # the values an architecture search gives each trial: to render one, the user gives them
        raise ValueError(
            f"--assign {missing[0]}=...: a trial of this {algorithm_name} experiment gets {', '.join(searched)} from the "
            f"{algorithm_name} algorithm; give each with --assign to render one"
        )
    unknown = sorted(set(given) - set(space.names) - set(searched))
    if unknown:
        raise ValueError(f"--assign {unknown[0]}: not a parameter of the experiment; expected one of {space.names}")
    values: dict[str, str] = {}
    for parameter in space:
        if parameter.name in given:
            try:
                typed = parameter.parse(given[parameter.name])
            except ValueError as exc:
                raise ValueError(f"--assign {parameter.name}: {exc}") from None
            if not parameter.contains(typed):
                raise ValueError(f"--assign {parameter.name}={given[parameter.name]}: outside its feasible space; expected {parameter.feasible_text()}")
            values[parameter.name] = given[parameter.name]
        else:
            values[parameter.name] = parameter.format(parameter.value_at(0))
    name = trial_name or make_trial_name(experiment.name, "render", 0)
    config = config or KubernetesConfig(namespace=trial_namespace(experiment))
    values.update({key: given[key] for key in searched})
    state = TrialState(name=name, index=0, round="", assignment=values, created="")
    launcher = KubernetesLauncher(config, env=env)
    return launcher.prepare(trial_run(experiment, state, config.namespace))
