"""Where Katib would behave differently with an experiment that kfp-tune runs.

kfp-tune accepts every experiment Katib admits, but for four bounds of its own on what one
suggestion may cost (``n_ei_candidates``, hyperband's brackets, enas's candidate operations and
layers: :mod:`kfp_tune.core.validation`, :data:`kfp_tune.core.catalogue.MAX_ENAS_OPERATIONS`,
:data:`~kfp_tune.core.catalogue.MAX_ENAS_LAYERS`) and a
few setting values Katib's checks admit that no run can use (docs/guide.md, "Katib
compatibility": a hyperband r_l below 1, some infinities, n_ei_candidates 0), and a
little more than Katib: an algorithm or early stopping name Katib's default katib-config has no
service for (regularized-evolution, a plug-in's new name), names longer than Katib's 40 characters, a setting that Katib's other
service for the same algorithm knows (``tpe`` runs on hyperopt in Katib's default configuration,
``multivariate-tpe`` on Optuna; kfp-tune takes both services' settings for both), settings of its
own (``kappa``, ``xi``), a grid smaller than ``maxTrialCount``, normal distributions where Katib's
Optuna service takes only uniform ones, defaults where Katib's services require a value, what
Katib's hyperband, pbt and skopt services fail on (a small parallelTrialCount, any
resample_probability, a double without step, an acq_func EIps or PIps, a tree base_estimator with
acq_optimizer lbfgs), a darts operation without parameters, and success
and failure conditions for the training operator kinds Katib gives none (MXJob, PaddleJob,
JAXJob), and a YAML number where Katib's types want a string (a setting's value, a feasibleSpace
bound, step or list value: Katib's webhook fails decoding it). It also notes where both take an
experiment but read it differently: a setting name Katib's service ignores, a setting given
twice, an eta Katib replaces, a cmaes sigma <= 0 goptuna replaces, a sobol or pbt random_state
that is no seed (Katib never reads it), a grid whose last value Katib's enumeration loses, a
cmaes log-scaled parameter (goptuna searches its raw value), a stepped parameter under random or
tpe off the multiples of its step (hyperopt rounds to them), an enas double operation parameter
whose numpy arange passes max (Katib's enas service fails on it); and early stopping that Katib would not apply (Push and Custom
collectors), or would fail on (the TensorFlowEvent collector, hyperband, a medianstop start_step above
int32), and a trialParameters reference to a label kfp-tune puts on its trials (pbt's parent), which
Katib does not fill in; and, where both give it,
a hyperband resource value its discrete or categorical list lacks. ``kfp-tune validate``
prints these as notes (exit 0), so a team that still runs some experiments on Katib sees what
would not go back as it is. Katib's rules, from its source (kubeflow/katib): the experiment
webhook (``pkg/webhook/v1beta1/experiment/validator``), the pod webhook that adds the metrics
collector (``pkg/webhook/v1beta1/pod``), the collectors (``cmd/metricscollector/v1beta1``) and
the suggestion services (``pkg/suggestion/v1beta1/<service>/service.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from kfp_tune.core.catalogue import (
    ALGORITHMS,
    DARTS_PARAMETERLESS,
    EARLY_STOPPING,
    HYPERBAND_DEFAULT_ETA,
    did_you_mean,
    hyperband_bracket_resources,
    hyperband_largest_resource,
    hyperband_resources,
    hyperband_rung_sizes,
    hyperband_s_max,
    parse_settings,
)
from kfp_tune.core.checkpoints import TRIAL_DIR_SETTING
from kfp_tune.core.collector_checks import collector_notes
from kfp_tune.core.errors import FieldError, shown
from kfp_tune.core.naming import labels_for
from kfp_tune.core.observation import go_float
from kfp_tune.core.shell_form import katib_wraps, shell_form
from kfp_tune.core.space import search_space_of
from kfp_tune.core.spec import DEFAULT_PARALLEL_TRIAL_COUNT, Experiment, ParameterSpec
from kfp_tune.core.template import TRIAL_PARAMETER, TRIAL_SPEC_META, primary_container
from kfp_tune.core.validation import INT32_MAX, MAX_HYPERBAND_BRACKETS, metric_strategy_notes, primary_pod_label_notes
from kfp_tune.core.vocabulary import CollectorKind

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

KATIB_IGNORING_SERVICES: dict[str, tuple[str, frozenset[str]]] = {
    "cmaes": ("goptuna", frozenset({"random_state", "sigma", "restart_strategy"})),  # goptuna/converter.go, toGoptunaSampler
    "sobol": ("goptuna", frozenset()),  # toGoptunaSampler: sobol.NewSampler(), no settings read
    "hyperband": ("hyperband", frozenset({"resource_name", "eta", "r_l"})),  # hyperband/service.py, HyperBandParam.convert
    "pbt": ("pbt", frozenset({TRIAL_DIR_SETTING, "n_population", "truncation_threshold", "resample_probability"})),  # pbt/service.py
}
"""The algorithms whose service in Katib's default katib-config ignores a setting name it does not
read (where the others refuse it), with the names it reads; darts passes every name on instead."""

HYPERBAND_STATE_SETTINGS = frozenset({"s_max", "b_l", "r", "n", "current_s", "current_i", "evaluating_trials"})
"""The names Katib's hyperband service keeps its own progress under in the algorithm settings
(HyperBandParam.generate): given in the spec, Katib starts from them; kfp-tune ignores them."""

KATIB_REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "hyperband": ("r_l",),  # resource_name is required by kfp-tune too
    "pbt": ("n_population", "truncation_threshold"),  # suggestion_trial_dir is required by kfp-tune too
}
"""Settings Katib's service requires and kfp-tune gives a default (that default works: a number)."""


KATIB_DEFAULTED_KINDS = ("Job", "TFJob", "PyTorchJob", "XGBoostJob", "MPIJob", "TrainJob")
"""The trial kinds whose success and failure conditions Katib's webhook defaults; kfp-tune also
defaults MXJob's, PaddleJob's and JAXJob's (the training operator's), which Katib requires written."""


def katib_notes(experiment: Experiment, written: Mapping[str, Any] | None = None) -> list[FieldError]:
    """Where Katib's webhook or its default suggestion service would refuse this experiment,
    which kfp-tune runs, and what both run but never apply (a metric strategy naming no metric,
    :func:`~kfp_tune.core.validation.metric_strategy_notes`) or run to no end (a primary pod label
    no pod gets, :func:`~kfp_tune.core.validation.primary_pod_label_notes`); empty for an experiment Katib
    admits and runs as written. ``written``: the
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
    if written is not None:
        notes += _yaml_number_notes(written)
    if len(experiment.name) > KATIB_NAME_LIMIT:
        notes.append(
            FieldError("metadata.name", f"Katib refuses names longer than {KATIB_NAME_LIMIT} characters (this one has {len(experiment.name)})")
        )
    spec = experiment.spec
    notes += _early_stopping_notes(experiment)
    notes += _trial_label_notes(experiment)
    notes += collector_notes(experiment)
    notes += before_run_notes(experiment)  # the ones run, submit, schedule and tune() say too
    notes += metric_strategy_notes(experiment)
    notes += primary_pod_label_notes(experiment)
    notes += shell_value_notes(experiment)
    algorithm = spec.algorithm
    if algorithm is None:
        return notes
    name = algorithm.algorithm_name
    given = [s.name for s in algorithm.algorithm_settings]
    if name in ALGORITHMS and not ALGORITHMS[name].in_katib:
        notes.append(_not_in_katib_note("spec.algorithm.algorithmName", "Suggestion", name))
    notes += _setting_name_notes(name, given, _unread_seed_ignored(name, algorithm.algorithm_settings))
    for required in KATIB_REQUIRED_SETTINGS.get(name, ()):
        if required not in given:
            notes.append(
                FieldError("spec.algorithm.algorithmSettings", f"Katib's {name} service requires {required!r}; kfp-tune gives it a default{_default_said(name, required, experiment)}")
            )
    settings = {s.name: s.value for s in algorithm.algorithm_settings}  # the last of a name, as Katib's services read them
    if name == "hyperband":
        notes += _hyperband_notes(settings, given, spec.parallel_trial_count)
        notes += _resource_list_notes(settings, spec.parameters)
        notes += _resource_range_notes(settings, spec.parameters)
    if name == "pbt":
        notes += _pbt_notes(given, spec.parameters, spec.resume_policy)
    if name == "darts" and spec.nas_config is not None:
        for index, operation in enumerate(spec.nas_config.operations or []):
            if not operation.parameters:
                notes.append(
                    FieldError(
                        f"spec.nasConfig.operations[{index}].parameters",
                        "Katib's darts service refuses an operation without parameters, skip_connection's too (nas/common/validation.py, "
                        f"validate_operations); kfp-tune takes {DARTS_PARAMETERLESS} as it is",
                    )
                )
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
    notes += _integer_text_notes(name, spec.parameters)
    notes += _setting_value_notes(name, algorithm.algorithm_settings)
    if name == "grid" and spec.parameters:
        notes += _grid_notes(spec.parameters, spec.max_trial_count)
    if name in KATIB_HYPEROPT_ALGORITHMS and spec.parameters:
        notes += _hyperopt_step_notes(name, spec.parameters)
    if name == "cmaes" and spec.parameters:
        notes += _goptuna_log_notes(spec.parameters)
    if name == "enas" and spec.nas_config is not None:
        notes += _enas_double_notes(spec.nas_config.operations or [])
    if name == "bayesianoptimization":
        notes += _skopt_notes(settings, given)
    return notes


SKOPT_TREE_ESTIMATORS = ("RF", "ET", "GBRT")
"""The base_estimator values that are scikit-learn trees, which have no gradient for lbfgs."""


def _skopt_notes(settings: Mapping[str, str], given: Sequence[str]) -> list[FieldError]:
    """bayesianoptimization settings Katib's skopt service admits (skopt/service.py,
    _validate_bayesianoptimization_setting, checks each value against its list alone) and then
    fails on, in scikit-optimize's Optimizer (skopt/base_service.py): built at the first
    suggestion (create_optimizer) and told each succeeded trial's objective (getSuggestions)."""
    def where(setting: str) -> str:
        return f"spec.algorithm.algorithmSettings[{len(given) - 1 - given[::-1].index(setting)}].value"

    notes: list[FieldError] = []
    estimator = settings.get("base_estimator", "GP")
    if "n_initial_points" in settings and _is_zero(settings["n_initial_points"]):
        starts = ("two trials have results (the Gaussian process needs two: 0 runs as 2)" if estimator not in SKOPT_TREE_ESTIMATORS
                  else "a trial has a result")
        notes.append(
            FieldError(
                where("n_initial_points"),
                "Katib's skopt service fails its first suggestion with n_initial_points 0 (scikit-optimize has no result to fit "
                f"and no random point left to give); kfp-tune's suggestions are random until {starts}",
            )
        )
    acq_func = settings.get("acq_func")
    if acq_func in ("EIps", "PIps"):
        notes.append(
            FieldError(
                where("acq_func"),
                f"Katib's skopt service fails the experiment once a trial has succeeded with acq_func {acq_func}: it tells "
                "scikit-optimize the objective alone, and EIps and PIps need (objective, run time) pairs (skopt/base_service.py, "
                f"getSuggestions: 'expected y to be a list of (func_val, t)'); kfp-tune runs it as {acq_func.removesuffix('ps')}",
            )
        )
    if estimator in SKOPT_TREE_ESTIMATORS and settings.get("acq_optimizer") == "lbfgs":
        notes.append(
            FieldError(
                where("acq_optimizer"),
                f"Katib's skopt service fails its first suggestion with base_estimator {estimator} and acq_optimizer lbfgs: "
                "scikit-optimize refuses to build the optimizer (skopt/base_service.py, create_optimizer: 'should run with "
                "acq_optimizer='sampling''), a tree has no gradient; kfp-tune optimises the acquisition by sampling",
            )
        )
    return notes


def _trial_label_notes(experiment: Experiment) -> list[FieldError]:
    """A trialParameters reference to a label kfp-tune puts on each trial (its own, or the
    algorithm's: pbt's generation and parent), which the trial template's metadata does not set.
    kfp-tune fills it in; Katib's controller resolves ``${trialSpec.Labels[k]}`` from the
    template's own metadata only (``experiment/manifest/generator.go``; a suggestion's labels go
    on the Trial object), so every trial fails to be created."""
    template = experiment.spec.trial_template
    if template is None or not template.trial_parameters or not isinstance(template.trial_spec, Mapping):
        return []
    algorithm = ALGORITHMS.get(experiment.spec.algorithm.algorithm_name) if experiment.spec.algorithm is not None else None
    trial_labels = {*labels_for("experiment", "trial", "round"), *(algorithm.trial_labels if algorithm else ())}
    metadata = template.trial_spec.get("metadata")
    written = metadata.get("labels") if isinstance(metadata, Mapping) else None
    notes = []
    for index, parameter in enumerate(template.trial_parameters):
        match = TRIAL_SPEC_META.match(parameter.reference or "")
        key = match.group(2) if match is not None else None
        if key in trial_labels and not (isinstance(written, Mapping) and key in written):
            notes.append(
                FieldError(
                    f"spec.trialTemplate.trialParameters[{index}].reference",
                    f"{shown(parameter.reference)} names a label kfp-tune puts on each trial, which Katib does not fill in: it reads "
                    "${trialSpec.Labels[k]} from trialSpec.metadata.labels only (the suggestion's labels go on the Trial object), "
                    "so every trial fails to be created; kfp-tune fills it in",
                )
            )
    return notes


def _yaml_number_notes(written: Mapping[str, Any]) -> list[FieldError]:
    """A YAML number where Katib's types have a Go string (common_types.go, AlgorithmSetting.Value;
    experiment_types.go, FeasibleSpace's Min, Max, Step and List): kfp-tune reads it as its text
    (spec.py, ``NumStr``), but Katib's webhooks decode the object into those types and answer 400
    on the mismatch (experiment/mutate_webhook.go, Handle), so ``kubectl apply`` fails. A boolean
    or null there is no number: kfp-tune refuses a boolean, and reads null as Katib's Go decoding
    does (the field left out). An unquoted ``min: 1e-3`` is such a number: the YAML is read as
    kubectl reads it (core.loading)."""
    spec = written.get("spec")
    if not isinstance(spec, Mapping):
        return []
    found: list[tuple[str, Any, bool]] = []
    for section in ("algorithm", "earlyStopping"):
        algorithm = spec.get(section)
        settings = algorithm.get("algorithmSettings") if isinstance(algorithm, Mapping) else None
        for index, setting in enumerate(settings if isinstance(settings, list) else []):
            if isinstance(setting, Mapping):
                found.append((f"spec.{section}.algorithmSettings[{index}].value", setting.get("value"), False))
    found += _feasible_space_values("spec.parameters", spec.get("parameters"))
    nas = spec.get("nasConfig")
    operations = nas.get("operations") if isinstance(nas, Mapping) else None
    for index, operation in enumerate(operations if isinstance(operations, list) else []):
        if isinstance(operation, Mapping):
            found += _feasible_space_values(f"spec.nasConfig.operations[{index}].parameters", operation.get("parameters"))
    return [
        FieldError(path, f'Katib\'s webhook refuses a number here (a string is expected: "{_number_text(value, integer)}")')
        for path, value, integer in found
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]


SHELL_UNQUOTED = frozenset("'\"\\`$|&;<>()*?[")
"""Characters the shell reads as syntax outside quotes (quotes, expansions, operators, globs)."""
BRACE_SHELLS = frozenset({"bash", "zsh", "ksh"})
"""Shells that expand ``{a,b}`` and ``{1..3}`` in a word (sh, dash, does not)."""
BRACE_EXPANSION = re.compile(r"\{[^{}]*(,|\.\.)[^{}]*\}")
"""A brace expression such a shell expands into several words."""
SHELL_WORD_START = frozenset("#~")
"""... and at the start of a word only (a comment, the home folder)."""
SHELL_DOUBLE_QUOTED = frozenset('"\\`$')
"""Characters the shell still reads inside double quotes."""
QUOTED = {"": "unquoted", '"': "in double quotes", "'": "in single quotes"}


def shell_value_notes(experiment: Experiment) -> list[FieldError]:
    """A categorical value the shell splits or reads as syntax: for the StdOut, File and
    TensorFlowEvent collectors Katib's pod webhook runs the primary container's command and args
    as one ``sh -c`` line (:mod:`.shell_form`), and kfp-tune runs it the same way, so a value
    holding whitespace, quotes, ``;`` or ``$`` that reaches a ``${trialParameters.x}`` the line
    leaves unquoted is not the one the trial gets, though the records keep it whole. One note per
    value, at the first placeholder it reaches."""
    spec = experiment.spec
    template = spec.trial_template
    if template is None or not template.trial_spec or not katib_wraps(spec.collector_kind):
        return []
    container = primary_container(template.trial_spec, template.primary_container_name or "")
    if container is None:
        return []
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or []) if isinstance(w, (str, int, float))]
    shell, _, line = shell_form(words) if words else ("sh", "-c", "")
    braces = shell.rsplit("/", 1)[-1] in BRACE_SHELLS
    placeholders = _placeholders_in_shell(line)
    by_name = {p.name: (index, p) for index, p in enumerate(spec.parameters)}
    notes: list[FieldError] = []
    for trial_parameter in template.trial_parameters or []:
        found = by_name.get(trial_parameter.reference)
        if found is None or found[1].parameter_type != "categorical":
            continue
        index, parameter = found
        reached = [(quote, word_start, whole_word) for name, quote, word_start, whole_word in placeholders if name == trial_parameter.name]
        for position, value in enumerate(parameter.feasible_space.list or []):
            for quote, word_start, whole_word in reached:
                read = _what_the_shell_reads(str(value), quote, word_start, whole_word, braces)
                if read is None:
                    continue
                placeholder = "${trialParameters." + trial_parameter.name + "}"
                word = next((w for w in words if placeholder in w), placeholder)
                notes.append(
                    FieldError(
                        f"spec.parameters[{index}].feasibleSpace.list[{position}]",
                        f"{shown(str(value))} reaches the trial through {placeholder} in {shown(word)}, {QUOTED[quote]}, in the command and args of "
                        f"container {shown(template.primary_container_name)}, which Katib (and kfp-tune) run as one `sh -c` line for the "
                        f"{spec.collector_kind} collector: the shell {read}, so the trial does not get the value the experiment records; "
                        "quote the placeholder (\"...\" or '...', as the value needs) or pass the value in env",
                    )
                )
                break
    return notes


def _placeholders_in_shell(line: str) -> list[tuple[str, str, bool, bool]]:
    """Each ``${trialParameters.NAME}`` of a shell line: its name, the quote it stands in ("",
    "'" or '"'), whether it starts a word, and whether it is a whole word of its own (unquoted,
    between blanks or the line's ends)."""
    found: list[tuple[str, str, bool, bool]] = []
    matches = {m.start(): m for m in TRIAL_PARAMETER.finditer(line)}
    quote, escaped = "", False
    for position, char in enumerate(line):
        if position in matches and not escaped:
            starts_word = position == 0 or (not quote and line[position - 1] in " \t\n")
            end = matches[position].end()
            whole = starts_word and not quote and (end == len(line) or line[end] in " \t\n;|&")
            found.append((matches[position].group(1), quote, starts_word, whole))
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif char in "'\"" and quote in ("", char):
            quote = "" if quote == char else char
    return found


def _what_the_shell_reads(value: str, quote: str, word_start: bool, whole_word: bool = False, braces: bool = False) -> str | None:
    """What the shell does to ``value`` put in the line at a placeholder in ``quote``; None when
    it passes whole. ``whole_word``: the placeholder is a word of its own, which an empty value
    removes; ``braces``: the shell (bash) expands ``{a,b}`` and ``{1..3}``."""
    if quote == "'":
        return "ends the single quotes at its '" if "'" in value else None
    if quote == '"':
        special = sorted({c for c in value if c in SHELL_DOUBLE_QUOTED})
        return f"reads its {', '.join(repr(c) for c in special)} inside the double quotes" if special else None
    syntax = sorted({c for c in value if c in SHELL_UNQUOTED} | ({value[0]} & SHELL_WORD_START if value and word_start else set()))
    said = (["splits it at its whitespace"] if any(c.isspace() for c in value) else []) + (
        [f"reads its {', '.join(repr(c) for c in syntax)} as shell syntax"] if syntax else []
    ) + (["expands its braces into several words"] if braces and BRACE_EXPANSION.search(value) else []) + (
        ["drops the empty word, so the next argument takes its place"] if whole_word and not value else []
    )
    return " and ".join(said) or None


def _number_text(value: float, integer: bool = False) -> str:
    """The text to quote for a YAML number: kfp-tune's reading of it (spec.py, ``_to_str``), but
    an int parameter's whole number as integer text ("10" for 1e1), the only form Katib's int
    parsers take (goptuna's strconv.Atoi; optuna's and its grid's int())."""
    if integer and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _feasible_space_values(where: str, parameters: Any) -> list[tuple[str, Any, bool]]:
    """Each written value of each parameter's feasibleSpace that Katib keeps as a string, with its
    path, and whether it is an int parameter's bound or step."""
    values: list[tuple[str, Any, bool]] = []
    for index, parameter in enumerate(parameters if isinstance(parameters, list) else []):
        space = parameter.get("feasibleSpace") if isinstance(parameter, Mapping) else None
        if not isinstance(space, Mapping):
            continue
        path = f"{where}[{index}].feasibleSpace"
        integer = parameter.get("parameterType") == "int"
        values += [(f"{path}.{field}", space.get(field), integer) for field in ("min", "max", "step")]
        listed = space.get("list")
        values += [(f"{path}.list[{position}]", value, False) for position, value in enumerate(listed if isinstance(listed, list) else [])]
    return values


KATIB_DB_MANAGER = re.compile(r"katib-db-manager")
"""Katib's DB manager, by its service name, as a collector's argument names it (its port, 6789,
alone is no sign: a collector of one's own may listen or push there)."""


def _katib_db_collector_notes(experiment: Experiment) -> list[FieldError]:
    """A Custom collector that reports to Katib's DB manager (Katib's own collector images, and
    any written for Katib), which kfp-tune does not serve: each trial would end MetricsUnavailable.
    One note, at the first command, args or env value that names it."""
    collector = experiment.spec.metrics_collector_spec.collector if experiment.spec.metrics_collector_spec is not None else None
    container = (collector.model_extra or {}).get("customCollector") if collector is not None and collector.kind == CollectorKind.CUSTOM else None
    if not isinstance(container, Mapping):
        return []
    where = "spec.metricsCollectorSpec.collector.customCollector"
    texts = [(f"{where}.{key}[{i}]", v) for key in ("command", "args") if isinstance(container.get(key), list) for i, v in enumerate(container[key])]
    env = container.get("env")
    texts += [(f"{where}.env[{i}].value", e.get("value")) for i, e in enumerate(env if isinstance(env, list) else []) if isinstance(e, Mapping)]
    for path, text in texts:
        if isinstance(text, str) and KATIB_DB_MANAGER.search(text):
            return [
                FieldError(
                    path,
                    f"{shown(text)} is Katib's DB manager, to which a Custom collector written for Katib reports over gRPC; kfp-tune does not "
                    "serve it, so every trial would end MetricsUnavailable (and the experiment fail at maxFailedTrialCount): have the collector "
                    "report with kfp_tune.report_metrics (the Custom collector reports to kfp-tune's store as Push does), or read the trial's "
                    "metrics with the File or StdOut collector",
                )
            ]
    return []


KATIB_UNSTOPPED_COLLECTORS: dict[str, str] = {
    CollectorKind.PUSH: "Katib injects no collector for Push (webhook: pod/inject_webhook.go, Mutate), so nothing applies the trials' "
    "earlyStoppingRules and every trial runs to its end",
    CollectorKind.CUSTOM: "Katib runs the customCollector container as written, with no stop rule among its arguments (webhook: "
    "pod/inject_webhook.go, getMetricsCollectorContainer), so no trial is stopped unless that container stops it itself",
}
"""The collectors with which Katib gives early stopping rules to nothing that applies them."""


def _early_stopping_notes(experiment: Experiment) -> list[FieldError]:
    """Where Katib would not apply the experiment's early stopping, or would fail on it; kfp-tune
    applies its rule whatever the collector (:mod:`kfp_tune.collectors.running`)."""
    spec = experiment.spec
    if spec.early_stopping is None:
        return []
    notes: list[FieldError] = []
    name = spec.early_stopping.algorithm_name
    if name in EARLY_STOPPING and not EARLY_STOPPING[name].in_katib:
        notes.append(_not_in_katib_note("spec.earlyStopping.algorithmName", "EarlyStopping", name))
    if name == "medianstop":
        notes += _start_step_notes(spec.early_stopping.algorithm_settings)
    kind = spec.collector_kind
    path = "spec.metricsCollectorSpec.collector.kind"
    if kind == CollectorKind.TENSORFLOW_EVENT:
        notes.append(
            FieldError(
                path,
                "Katib's webhook gives the TensorFlowEvent collector a trial's early stopping rules as -stop-rule and -s-earlystop "
                "arguments (pod/inject_webhook.go, getMetricsCollectorArgs), which that collector's parser does not know "
                "(tfevent-metricscollector/main.py, parse_options): from the first trial created with a rule (once min_trials_required "
                "trials have succeeded) the collector exits at its start with 'unrecognized arguments' (status 2), reports no metrics "
                "and fails the trial's pod, so these trials fail; kfp-tune applies the rule to the event files' scalars",
            )
        )
    elif kind in KATIB_UNSTOPPED_COLLECTORS:
        notes.append(FieldError(path, f"{KATIB_UNSTOPPED_COLLECTORS[kind]}; kfp-tune applies the rule to what the trial reports"))
    if spec.algorithm is not None and spec.algorithm.algorithm_name == "hyperband":
        notes.append(
            FieldError(
                "spec.earlyStopping",
                "Katib's hyperband service fails each request for the next rung once a trial of the rung before it was early "
                "stopped (hyperband/service.py, _get_top_trial: 'There are some trials which are not completed yet'), and its "
                "controller asks again with the same trials, so the experiment makes no more trials; kfp-tune ranks an early "
                "stopped trial by the objective it reported before it was stopped",
            )
        )
    return notes


def _start_step_notes(settings: Sequence[Any]) -> list[FieldError]:
    """medianstop's start_step above int32: Katib's service builds its rule with it
    (medianstop/service.py, GetEarlyStoppingRules), and api.proto's EarlyStoppingRule.start_step
    is an int32, so protobuf refuses the value ('Value out of range') once min_trials_required
    trials have succeeded; its check (ValidateEarlyStoppingSettings) only asks for >= 1."""
    last = {setting.name: index for index, setting in enumerate(settings)}
    if "start_step" not in last:
        return []
    index = last["start_step"]
    try:
        start_step = int(settings[index].value)
    except ValueError:
        return []  # refused by kfp-tune's own checks
    if start_step <= INT32_MAX:
        return []
    return [
        FieldError(
            f"spec.earlyStopping.algorithmSettings[{index}].value",
            f"start_step {start_step} is above {INT32_MAX}, the most an int32 holds: Katib's medianstop service puts it in its "
            "rule's start_step, an int32 in its API (api.proto, EarlyStoppingRule), and fails each request once "
            "min_trials_required trials have succeeded, so the experiment makes no more trials; kfp-tune applies the rule "
            "(at a start_step no trial reaches, it stops none)",
        )
    ]


def _min_trials_notes(experiment: Experiment) -> list[FieldError]:
    """medianstop's min_trials_required above maxTrialCount - parallelTrialCount: a trial is
    judged only when that many trials have succeeded as it starts (medianstop/service.py,
    get_median_value), and with P trials run at once trial k > P starts when a slot frees, that
    is when k - P have ended, so the last one starts when at most maxTrialCount - P have (none
    when P >= maxTrialCount): the rule never stops a trial. Katib takes such a spec, and so does
    kfp-tune; validate, run, submit and schedule say so."""
    spec = experiment.spec
    if spec.early_stopping is None or spec.early_stopping.algorithm_name != "medianstop" or spec.max_trial_count is None:
        return []
    settings = spec.early_stopping.algorithm_settings
    parsed, errors = parse_settings(EARLY_STOPPING["medianstop"], [(s.name, s.value) for s in settings], "")
    required = parsed["min_trials_required"]
    parallel = max(spec.parallel_trial_count or DEFAULT_PARALLEL_TRIAL_COUNT, 1)
    ended_at_last_start = max(spec.max_trial_count - parallel, 0)
    if errors or required <= ended_at_last_start:
        return []
    last = {setting.name: index for index, setting in enumerate(settings)}
    given = "min_trials_required" in last
    unset = "" if given else " (not set: Katib's default)"
    where = f"spec.earlyStopping.algorithmSettings[{last['min_trials_required']}].value" if given else "spec.earlyStopping.algorithmSettings"
    return [
        FieldError(
            where,
            f"min_trials_required {required}{unset} is above maxTrialCount {spec.max_trial_count} - parallelTrialCount {parallel}: "
            f"a trial is judged only when min_trials_required trials have succeeded as it starts, and with {parallel} trials run at "
            f"once the last one starts when at most {ended_at_last_start} have ended, so medianstop never stops a trial (Katib takes it so too)",
        )
    ]


def _not_in_katib_note(path: str, config: str, name: str) -> FieldError:
    """A catalogue name Katib's default katib-config has no service for (``config``: Suggestion
    or EarlyStopping, as validator.go words it)."""
    return FieldError(
        path,
        f"Katib's webhook refuses {name!r} unless the cluster's katib-config names a service for it (its default one does not: "
        f"validator.go, 'unable to get {config} config data for algorithm {name}'); kfp-tune runs it",
    )


def _is_zero(text: str) -> bool:
    try:
        return int(text) == 0
    except ValueError:
        return False  # validation refuses it, naming the setting


def _setting_name_notes(name: str, given: Sequence[str], unread_seed_ignored: bool = False) -> list[FieldError]:
    """A name Katib's service does not know, where kfp-tune takes it or where both ignore it;
    a name given twice (both take the last value). ``unread_seed_ignored``: a random_state that
    kfp-tune ignores too (noted at its value, :func:`_setting_value_notes`)."""
    notes: list[FieldError] = []
    entry = ALGORITHMS.get(name)
    for index, setting in enumerate(given):
        path = f"spec.algorithm.algorithmSettings[{index}].name"
        if setting in given[index + 1 :]:
            notes.append(FieldError(path, f"{setting!r} is given again below: Katib's {name} service takes the last value, and so does kfp-tune"))
        if name in KATIB_SERVICE_SETTINGS:
            service, known = KATIB_SERVICE_SETTINGS[name]
            if setting not in known:
                notes.append(
                    FieldError(
                        path,
                        f"Katib's {service} service, which runs {name} in its default configuration, refuses {setting!r} "
                        f"(it takes {', '.join(sorted(known))}); kfp-tune takes it",
                    )
                )
        elif entry is not None and name == "darts" and setting not in entry.settings_by_name:
            notes.append(
                FieldError(path, f"Katib's darts service passes {setting!r}, a setting it does not know, on to the trial in algorithm-settings unchecked, "
                           f"and so does kfp-tune{did_you_mean(setting, entry)}")
            )
        elif entry is not None and name in KATIB_IGNORING_SERVICES:
            service, known = KATIB_IGNORING_SERVICES[name]
            if setting in known or (setting == "random_state" and unread_seed_ignored):
                continue
            unread = _unread_name_note(name, setting, path)
            if unread is not None:
                notes.append(unread)
            elif setting in entry.settings_by_name:
                notes.append(FieldError(path, f"Katib's {service} service ignores {setting!r} (it reads {', '.join(sorted(known)) or 'no settings'} for {name}); kfp-tune uses it"))
    return notes


def before_run_notes(experiment: Experiment) -> list[FieldError]:
    """Of :func:`katib_notes`, those that say what a run of this experiment will do unlike its
    spec's face: end before maxTrialCount (a finite space smaller than it; darts' one trial;
    hyperband's schedule shorter than it), search at random (hyperband with no promotion before
    maxTrialCount), stop no trial early (medianstop's min_trials_required never reached), or
    end every trial MetricsUnavailable (a Custom collector that reports to Katib's DB manager).
    ``kfp-tune run``, ``submit`` and ``schedule`` print them, as validate does, with
    :func:`unread_setting_notes`: a user who never ran validate hears them before the run."""
    spec = experiment.spec
    notes = _katib_db_collector_notes(experiment)
    name = spec.algorithm.algorithm_name if spec.algorithm is not None else None
    if name == "darts":
        notes += _darts_trial_count_notes(spec.max_trial_count, spec.parallel_trial_count)
    if name in KATIB_DRAWING_SERVICES and spec.parameters:
        notes += _small_space_notes(name, spec.parameters, spec.max_trial_count)
    if name == "hyperband":
        notes += _hyperband_schedule_notes(experiment)
    notes += _min_trials_notes(experiment)
    return notes


def unread_setting_notes(experiment: Experiment) -> list[FieldError]:
    """Of :func:`katib_notes`, those of the algorithm settings kfp-tune runs without reading: a
    name the algorithm does not know where it takes such names as Katib's service does (cmaes,
    sobol, hyperband, pbt: ``random_stat`` runs unseeded), hyperband's progress names, and a
    sobol or pbt random_state that is no seed. ``kfp-tune run`` and ``submit`` print them too, and
    ``tune()`` warns them: one verdict for the same settings (each path seeds a new experiment from
    its own new uid, so none of them differs here)."""
    algorithm = experiment.spec.algorithm
    if algorithm is None or algorithm.algorithm_name not in KATIB_IGNORING_SERVICES:
        return []
    name, known = algorithm.algorithm_name, KATIB_IGNORING_SERVICES[algorithm.algorithm_name][1]
    notes = [
        unread
        for index, setting in enumerate(algorithm.algorithm_settings)
        if setting.name not in known and (unread := _unread_name_note(name, setting.name, f"spec.algorithm.algorithmSettings[{index}].name")) is not None
    ]
    seed = _unread_seed_note(name, algorithm.algorithm_settings)
    return notes + ([seed] if seed is not None else [])


def _unread_name_note(name: str, setting: str, path: str) -> FieldError | None:
    """The note for a setting name that both Katib's service (one that ignores names it does not
    read: :data:`KATIB_IGNORING_SERVICES`) and kfp-tune run without: one neither knows, or one of
    hyperband's progress names, which only Katib reads; None for a name kfp-tune reads."""
    entry = ALGORITHMS[name]
    if name == "hyperband" and setting in HYPERBAND_STATE_SETTINGS:
        return FieldError(path, f"Katib's hyperband service reads {setting!r} as part of the progress it keeps and starts from it; kfp-tune ignores it")
    if setting in entry.settings_by_name:
        return None
    service = KATIB_IGNORING_SERVICES[name][0]
    return FieldError(path, f"Katib's {service} service ignores {setting!r}, a setting it does not know, and so does kfp-tune{did_you_mean(setting, entry)}")


def _hyperband_notes(settings: Mapping[str, str], given: Sequence[str], parallel: int | None) -> list[FieldError]:
    """Katib's hyperband/service.py, ValidateAlgorithmSettings: it checks with eta as an integer,
    int(float(eta)), 3 for one <= 0 (its run, HyperBandParam.convert, takes float(eta), 3 for one
    <= 0), and refuses a parallelTrialCount below ceil(eta ** int(log(r_l) / log(eta)))."""
    notes: list[FieldError] = []
    try:
        eta = float(settings.get("eta", HYPERBAND_DEFAULT_ETA))
        r_l = float(settings["r_l"]) if "r_l" in settings else None
    except ValueError:
        return notes  # refused by kfp-tune's own checks
    where = f"spec.algorithm.algorithmSettings[{len(given) - 1 - given[::-1].index('eta')}].value" if "eta" in given else ""
    checked = int(eta) if int(eta) > 0 else int(HYPERBAND_DEFAULT_ETA)
    if eta <= 0:
        notes.append(FieldError(where, f"Katib's hyperband service replaces an eta <= 0 with its default {HYPERBAND_DEFAULT_ETA:g}, and so does kfp-tune"))
    elif checked == 1:
        return notes  # an eta from 1 to 2, refused by kfp-tune as by Katib (catalogue._eta_setting)
    if r_l is None or r_l <= 0 or parallel is None:
        return notes  # Katib requires r_l (noted), and refuses r_l < 0; kfp-tune refuses r_l <= 0
    needed = math.ceil(checked ** hyperband_s_max(r_l, checked))
    if parallel < needed:
        notes.append(
            FieldError(
                "spec.parallelTrialCount",
                f"Katib's hyperband service refuses a parallelTrialCount below {needed} (eta ** s_max, with eta {checked} and r_l {r_l:g}; got {parallel}); "
                "kfp-tune runs each rung's trials as slots free up",
            )
        )
    return notes


def _pbt_notes(given: Sequence[str], parameters: Sequence[ParameterSpec], resume_policy: str) -> list[FieldError]:
    """pkg/suggestion/v1beta1/pbt/service.py: ValidateAlgorithmSettings compares the text of
    resample_probability with numbers, which raises, so any value is refused; and its
    HyperParameterSampler reads every number parameter's step, so a double without one fails
    the first suggestion (an int's step defaults to 1). And Katib's pod webhook mounts the
    suggestion's volume claim into every trial pod of an experiment with suggestion_trial_dir
    (inject_webhook.go, mutateSuggestionVolume), a claim its suggestion controller makes only
    under resumePolicy FromVolume (suggestion_controller.go, ReconcileSuggestion)."""
    notes: list[FieldError] = []
    if resume_policy != "FromVolume":
        notes.append(
            FieldError(
                "spec.resumePolicy",
                f"Katib runs pbt only under resumePolicy: FromVolume (this one is {resume_policy or 'Never'}): its pod webhook mounts the "
                "suggestion's volume claim into every trial pod for suggestion_trial_dir, and Katib makes that claim only under "
                "FromVolume, so each trial pod waits for a claim that never exists; kfp-tune keeps the checkpoints in its store "
                "whatever the policy",
            )
        )
    if "resample_probability" in given:
        notes.append(
            FieldError(
                f"spec.algorithm.algorithmSettings[{given.index('resample_probability')}].name",
                "Katib's pbt service fails on any resample_probability (its check compares the setting's text with numbers), so Katib refuses it; "
                "kfp-tune resamples each value with that probability",
            )
        )
    for index, parameter in enumerate(parameters):
        if parameter.parameter_type == "double" and not parameter.feasible_space.step:
            notes.append(
                FieldError(
                    f"spec.parameters[{index}].feasibleSpace.step",
                    "Katib's pbt service fails the experiment at its first suggestion on a double without step (it draws from the step grid); "
                    "kfp-tune draws it from its distribution",
                )
            )
    return notes


KATIB_INTEGER_TEXT_SERVICES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "grid": ("optuna", "internal/search_space.py, convert_to_combinations", ("min", "max", "step")),
    "multivariate-tpe": ("optuna", "optuna/base_service.py, _get_optuna_search_space", ("min", "max", "step")),
    "bayesianoptimization": ("skopt", "skopt/base_service.py, create_optimizer", ("min", "max")),
    "cmaes": ("goptuna", "goptuna/converter.go, toGoptunaSearchSpace", ("min", "max", "step")),
    "sobol": ("goptuna", "goptuna/converter.go, toGoptunaSearchSpace", ("min", "max", "step")),
    "hyperband": ("hyperband", "hyperband/parsing_util.py, parse_parameter_configs", ("min", "max")),
}
"""The services of Katib's default katib-config that read an int parameter's feasibleSpace fields
(those named) as integer text (Python's int(), Go's strconv.Atoi), so ``"1.0"`` or ``"1e0"``,
which kfp-tune and Katib's webhook take, fails the experiment at its first suggestion; hyperopt
(random, tpe) and pbt read them as floats."""


def _integer_text_notes(name: str, parameters: Sequence[ParameterSpec]) -> list[FieldError]:
    """An int bound written as a decimal or an exponent, and (hyperband) a discrete value that is
    not integer text, where Katib's service for the algorithm fails on it."""
    if name not in KATIB_INTEGER_TEXT_SERVICES:
        return []
    service, where, fields = KATIB_INTEGER_TEXT_SERVICES[name]
    fails = f"Katib's {service} service, which runs {name} in its default configuration, fails the experiment at its first suggestion"
    notes: list[FieldError] = []
    for index, parameter in enumerate(parameters):
        space = parameter.feasible_space
        if parameter.parameter_type == "int":
            for field in fields:
                text = getattr(space, field)
                if text not in (None, "") and not _is_integer_text(str(text)):
                    notes.append(FieldError(f"spec.parameters[{index}].feasibleSpace.{field}",
                                            f"{fails} on {str(text)!r}, which it reads as integer text ({where}); kfp-tune reads it as a number"))
        elif parameter.parameter_type == "discrete" and name == "hyperband":
            odd = [str(v) for v in space.list or [] if not _is_integer_text(str(v))]
            if odd:
                notes.append(FieldError(f"spec.parameters[{index}].feasibleSpace.list",
                                        f"{fails} on {', '.join(map(repr, odd))}: it reads every discrete value as integer text ({where}); kfp-tune takes them"))
    return notes


def _is_integer_text(text: str) -> bool:
    """Whether both Python's int() and Go's strconv.Atoi read the text."""
    return re.fullmatch(r"[-+]?[0-9]+", text) is not None


def katib_grid_count(parameter: ParameterSpec) -> int | None:
    """How many values Katib's grid (its optuna service: internal/search_space.py,
    HyperParameterSearchSpace.convert_to_combinations) enumerates for a parameter: an int's
    range(min, max + 1, step or 1), a double's numpy arange(min, max + step, step) less its last
    value when that is past max, so floating-point error can lose max itself (1 to 2 by 0.1: ten
    values); None where Katib would fail."""
    space = parameter.feasible_space
    try:
        if parameter.parameter_type == "int":
            return len(range(int(str(space.min)), int(str(space.max)) + 1, int(str(space.step or 1))))
        if parameter.parameter_type == "double":
            count, last = _katib_arange(parameter)
            return count - (1 if count and last > float(str(space.max)) else 0)
    except (ValueError, ZeroDivisionError):
        return None
    return len(space.list or [])


def _katib_arange(parameter: ParameterSpec) -> tuple[int, float]:
    """How many values, and the last, of a double as Katib's grid and enas services start them:
    numpy's ``arange(min, max + step, step)``, whose last value can pass max by a floating-point
    error (0.1 + 2 * 0.2 is 0.5000000000000001); the last is nan for none. ValueError where the
    text is no number."""
    import numpy as np  # here: the CLI's other commands import this module without needing it

    space = parameter.feasible_space
    low, high, step = float(str(space.min)), float(str(space.max)), float(str(space.step))
    values = np.arange(low, high + step, step)
    return len(values), float(values[-1]) if len(values) else math.nan


def _grid_notes(parameters: Sequence[ParameterSpec], max_trial_count: int | None) -> list[FieldError]:
    """Where Katib's grid enumerates fewer values than kfp-tune's (which puts min + k * step on
    the step's decimals, max included), and a maxTrialCount above Katib's count, which Katib's
    optuna service refuses (_validate_grid_setting)."""
    notes: list[FieldError] = []
    space = search_space_of(parameters)
    points = space.grid_size()
    katibs: list[int] = []
    for index, (parameter, parsed) in enumerate(zip(parameters, space, strict=True)):
        count, own = katib_grid_count(parameter), parsed.count()
        if count is None or own is None:
            return notes
        katibs.append(count)
        if count != own:
            notes.append(
                FieldError(
                    f"spec.parameters[{index}].feasibleSpace.step",
                    f"Katib's grid enumerates {count} values of {parameter.name!r} (numpy's arange, whose floating-point steps can pass max and lose it); "
                    f"kfp-tune enumerates {own}, from min to max on the step",
                )
            )
    katib_points = math.prod(katibs)
    if points is not None and max_trial_count is not None and max_trial_count > katib_points:
        counted = " as Katib counts them" if points != katib_points else ""
        ours = f"; kfp-tune's grid has {points} points, and " if points != katib_points else "; "
        ends = "kfp-tune runs every point and ends with ExperimentSuggestionEndReached" if max_trial_count > points else f"it runs {max_trial_count} of them"
        notes.append(
            FieldError(
                "spec.maxTrialCount",
                f"Katib's grid refuses a maxTrialCount above the grid's {katib_points} points{counted} (got {max_trial_count}){ours}{ends}",
            )
        )
    return notes


KATIB_DRAWING_SERVICES = {
    "random": "hyperopt", "tpe": "hyperopt", "multivariate-tpe": "optuna", "cmaes": "goptuna", "sobol": "goptuna", "bayesianoptimization": "skopt",
}
"""The algorithms whose service in Katib's default katib-config runs the whole budget whatever
the space's size: nothing de-duplicates its suggestions (a discrete space's points come again;
skopt and optuna draw a stepped double as a continuous one)."""


def _small_space_notes(name: str, parameters: Sequence[ParameterSpec], max_trial_count: int | None) -> list[FieldError]:
    """A finite space with fewer points than maxTrialCount: Katib runs every trial (points come
    again, or a stepped double is drawn off its steps; some rely on it to rerun a noisy
    objective); kfp-tune never repeats a point and ends when the space is used up, as its grid
    does (the guide's "Ours beyond Katib's")."""
    points = search_space_of(parameters).grid_size()
    if points is None or max_trial_count is None or max_trial_count <= points:
        return []
    return [
        FieldError(
            "spec.maxTrialCount",
            f"Katib's {name} ({KATIB_DRAWING_SERVICES[name]}) runs all {max_trial_count} trials whatever the space's size (nothing there "
            f"de-duplicates a suggestion); this search space has only {points} points, and kfp-tune never repeats one: it runs at most {points} trials "
            "and ends with ExperimentSuggestionEndReached",
        )
    ]


class _HyperbandSchedule:
    """A valid hyperband spec's schedule, as the algorithm runs it: its r_l (given, or the
    resource parameter's max), eta, and each bracket's rung sizes and resources."""

    def __init__(self, resource_name: str, r_l: float, eta: float, r_l_given: bool, resource_has_max: bool = True):
        self.resource_name, self.r_l, self.eta, self.r_l_given = resource_name, r_l, eta, r_l_given
        self.resource_has_max = resource_has_max
        self.sizes = hyperband_rung_sizes(r_l, eta)
        self.resources = hyperband_bracket_resources(r_l, eta)
        self.total = sum(sum(bracket) for bracket in self.sizes)

    @property
    def r_l_default(self) -> str:
        """Where r_l left out comes from: the resource parameter's max, or, for one with none (a
        list), kfp-tune's default 1 (:func:`~kfp_tune.core.catalogue.hyperband_largest_resource`)."""
        if self.resource_has_max:
            return f"the max of {self.resource_name!r}"
        return f"kfp-tune's default for a resource parameter with no max, as {self.resource_name!r} is a list; set r_l"

    @property
    def shape(self) -> str:
        unset = "" if self.r_l_given else f" (not set: {self.r_l_default})"
        return f"r_l {self.r_l:g}{unset} and eta {self.eta:g}"


def _hyperband_schedule(experiment: Experiment) -> _HyperbandSchedule | None:
    """The schedule of a hyperband experiment whose settings parse and whose r_l is one a run
    takes (validation refuses the others); None otherwise."""
    algorithm = experiment.spec.algorithm
    if algorithm is None or algorithm.algorithm_name != "hyperband" or not experiment.spec.parameters:
        return None
    settings, errors = parse_settings(ALGORITHMS["hyperband"], [(s.name, s.value) for s in algorithm.algorithm_settings], "")
    space = search_space_of(experiment.spec.parameters)
    if errors or settings.get("resource_name") not in space.names:
        return None
    r_l = hyperband_largest_resource(space, settings)
    if not (math.isfinite(r_l) and r_l >= 1) or hyperband_s_max(r_l, settings["eta"]) + 1 > MAX_HYPERBAND_BRACKETS:
        return None
    return _HyperbandSchedule(settings["resource_name"], r_l, settings["eta"], settings.get("r_l") is not None,
                              space[settings["resource_name"]].high is not None)


def _trials(count: int) -> str:
    return f"{count} trial{'' if count == 1 else 's'}"


def _default_said(name: str, required: str, experiment: Experiment) -> str:
    """What the default of a setting Katib requires is, where it depends on the spec: hyperband's
    r_l is the resource parameter's max (1 for one with no max, a list), which sets the whole schedule."""
    schedule = _hyperband_schedule(experiment) if (name, required) == ("hyperband", "r_l") else None
    if schedule is None:
        return ""
    if not schedule.resource_has_max:
        return f": {schedule.r_l:g}, {schedule.r_l_default}; a schedule of {_trials(schedule.total)}"
    return f": the max of the resource parameter {schedule.resource_name!r}, {schedule.r_l:g}, a schedule of {_trials(schedule.total)}"


def _hyperband_schedule_notes(experiment: Experiment) -> list[FieldError]:
    """hyperband's schedule against maxTrialCount, known from r_l and eta before anything runs:
    one without a promotion (r_l below eta: one bracket, one rung) or a maxTrialCount that ends
    the run within the first rung is a random search; one shorter than maxTrialCount ends with
    ExperimentSuggestionEndReached (Katib's service answers nothing after its last bracket and its
    controller refuses that answer, suggestionclient.go: 'The response contains unexpected
    trials', so there the experiment stays Running)."""
    schedule = _hyperband_schedule(experiment)
    if schedule is None:
        return []
    max_trial_count = experiment.spec.max_trial_count
    first, at = schedule.sizes[0][0], schedule.resources[0][0]
    ends = (
        f"fewer than maxTrialCount {max_trial_count}: kfp-tune runs the schedule and ends with ExperimentSuggestionEndReached; Katib's hyperband service "
        "answers nothing after its last bracket and its controller refuses that answer ('The response contains unexpected trials'), so there "
        "the experiment stays Running"
        if max_trial_count is not None and max_trial_count > schedule.total else ""
    )
    if len(schedule.sizes) == 1 and len(schedule.sizes[0]) == 1:
        said = (
            f"hyperband's schedule with {schedule.shape} is one bracket of {_trials(first)} at {schedule.resource_name} {at}, none promoted to a "
            "larger resource: a random search (a bracket halves only where r_l is at least eta)"
        )
        return [FieldError("spec.maxTrialCount", f"{said}; {_trials(first)}, {ends}" if ends else said)]
    rungs = ", ".join("/".join(map(str, bracket)) for bracket in schedule.sizes)
    if ends:
        return [FieldError("spec.maxTrialCount", f"hyperband's schedule with {schedule.shape} has {schedule.total} trials (brackets' rungs {rungs}), {ends}")]
    if max_trial_count is not None and max_trial_count <= first:
        return [
            FieldError(
                "spec.maxTrialCount",
                f"maxTrialCount {max_trial_count} ends the run within hyperband's first rung ({first} configurations at {schedule.resource_name} {at}), "
                f"before any trial is promoted to a larger resource: a random search; the whole schedule with {schedule.shape} is "
                f"{schedule.total} trials (brackets' rungs {rungs}), its first promotion the trial after the first {first}",
            )
        ]
    return []


def _darts_trial_count_notes(max_trial_count: int | None, parallel: int | None) -> list[FieldError]:
    """darts asked for more than one trial: Katib's darts service hands the same values to every
    trial it is asked for (darts/service.py, GetSuggestions: ``current_request_number``) and runs
    them all; kfp-tune never gives a point twice, so its darts gives one trial and ends (the
    guide's "darts gives one trial and then ends"). Said before the run, not after one trial."""
    if max_trial_count is not None and max_trial_count <= 1:
        return []
    at_a_time = parallel if parallel is not None else 1
    katib = (
        f"runs all {max_trial_count} trials ({at_a_time} at a time)" if max_trial_count is not None
        else f"with no maxTrialCount, runs trials ({at_a_time} at a time) until the experiment is stopped"
    )
    return [
        FieldError(
            "spec.maxTrialCount",
            f"Katib's darts service gives the same values to every trial it is asked for and{',' if max_trial_count is None else ''} {katib}; "
            "kfp-tune never gives a point twice: darts gives one trial and ends with ExperimentSuggestionEndReached",
        )
    ]


KATIB_HYPEROPT_ALGORITHMS = ("random", "tpe")
"""The algorithms Katib's default katib-config runs on its hyperopt service (suggestion-hyperopt)."""

HYPEROPT_QUANTIZED = {"uniform": "quniform", "logUniform": "qloguniform", "normal": "qnormal", "logNormal": "qlognormal"}
"""hyperopt's distribution for a stepped int or double of each distribution
(hyperopt/base_service.py, create_hyperopt_domain): each draws x and returns round(x / step) * step."""


def _hyperopt_step_notes(name: str, parameters: Sequence[ParameterSpec]) -> list[FieldError]:
    """A stepped int or double whose values under Katib's hyperopt service are not kfp-tune's.
    hyperopt rounds each draw to a multiple of step counted from 0, kfp-tune takes min + k * step
    (as Katib's grid does), so the two agree only when min is such a multiple and (for a bounded
    distribution) max rounds to kfp-tune's last value; otherwise Katib's values are shifted, can
    fall below min (min 0.12, step 0.1: 0.1) or pass max (0 to 7 by 4: 8). Computed in decimal
    on each number's shortest text (repr), so 0.3 is a multiple of 0.1 as written, though
    0.3 / 0.1 is 2.9999999999999996 in floats."""
    notes: list[FieldError] = []
    for index, (parameter, parsed) in enumerate(zip(parameters, search_space_of(parameters), strict=True)):
        if parsed.type not in ("int", "double") or not parsed.step or parsed.low is None or parsed.high is None:
            continue
        count = parsed.count()
        low, high, step = (Decimal(repr(float(number))) for number in (parsed.low, parsed.high, parsed.step))
        if count is None or not all(number.is_finite() for number in (low, high, step)):
            continue
        last = low + (count - 1) * step  # kfp-tune's
        katib_low = (low / step + Decimal("0.5")).to_integral_value(ROUND_FLOOR) * step
        katib_high = (high / step - Decimal("0.5")).to_integral_value(ROUND_CEILING) * step
        bounded = parsed.distribution in ("uniform", "logUniform")  # qnormal and qlognormal have no bounds
        if low % step == 0 and (not bounded or katib_high == last):
            continue
        if bounded:
            outside = [f"{_decimal_text(katib_low)} below min" if katib_low < low else "", f"{_decimal_text(katib_high)} past max" if katib_high > high else ""]
            there = f"{_decimal_text(katib_low)} to {_decimal_text(katib_high)} in steps of {_decimal_text(step)} there" + "".join(
                f", {words}" for words in outside if words
            )
        else:
            there = f"multiples of {_decimal_text(step)} there, unbounded as hyperopt's {HYPEROPT_QUANTIZED[parsed.distribution]} is"
        notes.append(
            FieldError(
                f"spec.parameters[{index}].feasibleSpace.step",
                f"Katib's hyperopt service, which runs {name} in its default configuration, rounds {parameter.name!r} to a multiple of its "
                f"step counted from 0 (hyperopt's {HYPEROPT_QUANTIZED[parsed.distribution]}: round(x / step) * step; "
                f"hyperopt/base_service.py, create_hyperopt_domain), so it takes {there}; kfp-tune takes min + k * step: "
                f"{_decimal_text(low)} to {_decimal_text(last)}, as Katib's grid does",
            )
        )
    return notes


def _decimal_text(number: Decimal) -> str:
    """A decimal as plain text: 4, 0.15, never 4.0 or 1E+1."""
    return format((number + 0).normalize(), "f")


def _goptuna_log_notes(parameters: Sequence[ParameterSpec]) -> list[FieldError]:
    """A logUniform or logNormal int or double under cmaes. Katib's goptuna service builds every
    number parameter from its raw min and max and never reads its distribution
    (goptuna/converter.go, toGoptunaSearchSpace), so its CMA-ES starts at the middle of the raw
    range and takes ``sigma`` in raw units; kfp-tune searches the parameter's natural log, the
    scale its distribution names, so the start and what a ``sigma`` means there differ."""
    notes: list[FieldError] = []
    for index, (parameter, parsed) in enumerate(zip(parameters, search_space_of(parameters), strict=True)):
        if parsed.type not in ("int", "double") or not parsed.is_log or parsed.low is None or parsed.high is None:
            continue
        middle = f"{(parsed.low + parsed.high) / 2:.6g}"
        start = f"its geometric middle, {math.sqrt(parsed.low * parsed.high):.6g}" if parsed.type == "double" else "the middle of its log range"
        if parsed.distribution == "logUniform":
            ours = f"it starts at {start}, and takes sigma in natural-log units (sigma 0.1 is about ±10 %), so a sigma tuned on Katib needs restating"
        else:
            ours = f"it starts at {start} with a standard deviation of a sixth of its range in natural-log units, which sigma does not set"
        notes.append(
            FieldError(
                f"spec.parameters[{index}].feasibleSpace.distribution",
                f"Katib's goptuna service, which runs cmaes in its default configuration, searches {parameter.name!r} on its raw value "
                f"({parsed.distribution} is not read: goptuna/converter.go, toGoptunaSearchSpace): it starts it at the middle of its range, "
                f"{middle}, and takes sigma in its own units; kfp-tune searches it on its natural log: {ours}",
            )
        )
    return notes


def _enas_double_notes(operations: Sequence[Any]) -> list[FieldError]:
    """An enas operation's double parameter whose numpy arange passes max: Katib's enas service
    then runs ``del double_list[-1]`` on the numpy array (nas/enas/Operation.py,
    SearchSpace._parse_operations), which raises, when it builds its search space at the first
    suggestion (enas/service.py, EnasExperiment), though its webhook admitted the experiment.
    kfp-tune takes arange's values up to max, one past it by a rounding error as max
    (algorithms/nas_space.py)."""
    notes: list[FieldError] = []
    for index, operation in enumerate(operations):
        for position, parameter in enumerate(operation.parameters or []):
            if parameter.parameter_type != "double" or parameter.feasible_space.step in (None, ""):
                continue
            try:
                (count, last), high = _katib_arange(parameter), float(str(parameter.feasible_space.max))
            except (ValueError, ZeroDivisionError):
                continue  # refused by kfp-tune's own checks
            if count and last > high:
                notes.append(
                    FieldError(
                        f"spec.nasConfig.operations[{index}].parameters[{position}].feasibleSpace.step",
                        f"Katib's enas service fails the experiment at its first suggestion on {parameter.name!r}: numpy's arange(min, max + step, "
                        f"step) ends at {last!r}, past max, and its del double_list[-1] on that array raises (nas/enas/Operation.py, "
                        "SearchSpace); kfp-tune takes the values up to max, one past it by a rounding error as max",
                    )
                )
    return notes


def _setting_value_notes(name: str, settings: Sequence[Any]) -> list[FieldError]:
    """A setting's value that Katib's service and kfp-tune both take but use otherwise than as
    written (the last of a name, as both read them)."""
    notes: list[FieldError] = []
    last = {setting.name: index for index, setting in enumerate(settings)}
    seed = _unread_seed_note(name, settings)
    if seed is not None:
        notes.append(seed)
    if name == "cmaes" and "sigma" in last:
        index = last["sigma"]
        try:
            sigma = go_float(settings[index].value)  # as the setting is read (catalogue): Go's ParseFloat, '-0x1p-2' too
        except ValueError:
            sigma = 1.0  # refused by kfp-tune's own checks
        if not sigma > 0:
            notes.append(
                FieldError(
                    f"spec.algorithm.algorithmSettings[{index}].value",
                    f"sigma {settings[index].value}: Katib's goptuna service uses a sigma only when it is > 0 (goptuna cmaes/sampler.go, "
                    "initOptimizer) and its default otherwise, and so does kfp-tune (each parameter starts at a sixth of its range)",
                )
            )
    return notes


def _unread_seed_note(name: str, settings: Sequence[Any]) -> FieldError | None:
    """The note for a sobol or pbt random_state that kfp-tune ignores (:func:`_unread_seed_ignored`), else None."""
    if not _unread_seed_ignored(name, settings):
        return None
    index = max(i for i, setting in enumerate(settings) if setting.name == "random_state")
    service = KATIB_IGNORING_SERVICES[name][0]
    return FieldError(
        f"spec.algorithm.algorithmSettings[{index}].value",
        f"random_state {settings[index].value!r}: Katib's {service} service never reads random_state for {name}, and kfp-tune "
        "ignores this one too (its seed is an integer >= 0): the experiment is seeded from its uid, as without random_state",
    )


def _unread_seed_ignored(name: str, settings: Sequence[Any]) -> bool:
    """Whether the last random_state of sobol or pbt (which Katib's services never read) is text
    kfp-tune ignores too (catalogue's ``_unread_seed``: not an integer >= 0)."""
    values = [setting.value for setting in settings if setting.name == "random_state"]
    return name in ("sobol", "pbt") and bool(values) and ALGORITHMS[name].settings_by_name["random_state"].parse(str(values[-1])) is None


def _resource_list_notes(settings: Mapping[str, str], parameters: Sequence[ParameterSpec]) -> list[FieldError]:
    """A discrete or categorical hyperband resource: Katib's service gives it the schedule's
    whole numbers whatever its list holds (service.py, _make_master_bracket and _copy_trials:
    ``str(r)``), and so does kfp-tune; a note names the ones its list lacks."""
    parsed, errors = parse_settings(ALGORITHMS["hyperband"], list(settings.items()), "")
    found = [(i, p) for i, p in enumerate(parameters) if p.name == parsed.get("resource_name")]
    if errors or not found or found[0][1].parameter_type not in ("discrete", "categorical"):
        return []
    index, resource = found[0]
    r_l = parsed["r_l"] if parsed["r_l"] is not None else 1.0  # a list has no max: the algorithm's default (largest_resource)
    if not r_l >= 1:
        return []  # refused by kfp-tune's own checks
    listed = [str(value) for value in resource.feasible_space.list or []]
    resources = hyperband_resources(r_l, parsed["eta"])
    missing = [r for r in resources if not any(_names_number(text, r, resource.parameter_type) for text in listed)]
    if not missing:
        return []
    return [
        FieldError(
            f"spec.parameters[{index}].feasibleSpace.list",
            f"hyperband gives its resource {resource.name!r} the schedule's values {', '.join(map(str, resources))} whatever the list holds, "
            f"as Katib's hyperband service does (str(r)); {', '.join(map(str, missing))} {'is' if len(missing) == 1 else 'are'} not in the list "
            "and trials get them all the same",
        )
    ]


def _resource_range_notes(settings: Mapping[str, str], parameters: Sequence[ParameterSpec]) -> list[FieldError]:
    """An int or double hyperband resource: Katib's service gives it the schedule's whole numbers
    whatever its min and max (``str(r)``), and so does kfp-tune; a note names the ones outside.
    A range of one value (Katib's hyperband example: num-epochs 1..1) is a placeholder that says
    the algorithm owns the values: nothing to note."""
    parsed, errors = parse_settings(ALGORITHMS["hyperband"], list(settings.items()), "")
    found = [(i, p) for i, p in enumerate(parameters) if p.name == parsed.get("resource_name")]
    if errors or not found or found[0][1].parameter_type not in ("int", "double"):
        return []
    index, resource = found[0]
    try:
        low, high = float(resource.feasible_space.min or ""), float(resource.feasible_space.max or "")
    except ValueError:
        return []  # the parameter's own checks say what is wrong with it
    if low == high:
        return []
    r_l = parsed["r_l"] if parsed["r_l"] is not None else high  # the algorithm's default: the resource's max
    if not r_l >= 1:
        return []  # refused by kfp-tune's own checks
    resources = hyperband_resources(r_l, parsed["eta"])
    outside = [r for r in resources if not low <= r <= high]
    if not outside:
        return []
    return [
        FieldError(
            f"spec.parameters[{index}].feasibleSpace",
            f"hyperband gives its resource {resource.name!r} the schedule's values {', '.join(map(str, resources))} whatever its range, "
            f"as Katib's hyperband service does (str(r)); {', '.join(map(str, outside))} {'is' if len(outside) == 1 else 'are'} outside "
            f"min {resource.feasible_space.min} .. max {resource.feasible_space.max} and trials get them all the same",
        )
    ]


def _names_number(text: str, number: int, parameter_type: str) -> bool:
    """Whether a list value is the number: a discrete value as a number, a categorical as its text."""
    if parameter_type == "categorical":
        return text == str(number)
    try:
        return float(text) == number
    except ValueError:
        return False
