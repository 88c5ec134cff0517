"""Trials that are KFP components: your own ``@dsl.component`` (or container component) is the
trial, one task of it per trial, so the KFP UI shows each trial's inputs, outputs, logs and
lineage.

KFP v2 compiles a static graph, so the trials are ``maxTrialCount`` iterations of one
``dsl.ParallelFor`` with ``parallelism = parallelTrialCount``::

    begin-trials  this call's own run id; refused before anything runs: another call of the
                  pipeline run on this experiment, or inputs other than those it was tuned on
    suggest (claim the experiment for the run)
      -> ParallelFor(slot in range(maxTrialCount), parallelism=parallelTrialCount):
           claim-trial   the next trial from the algorithm (every finished trial known, the
                         running ones pending) and its values, typed for your inputs
           If(should_run):
             <your component>(hyperparameters by input name, upstream artifacts passed through;
                              with an input ``kfp_tune_trial: str``, its trial's place: it
                              reports each step and stops early with kfp_tune.TrialReporter)
             record-trial  its metrics (its Metrics output's metadata, or the values it
                           returns) and its Model, into the store; the stop rules applied
    exit handler: end-component-trials (unreported trials Failed, status, claim released)
    -> best-trial (best parameters, objective, trial, metrics, model)

The loop body is compiled once, whatever ``maxTrialCount`` is, so the compiled pipeline stays
small (about 50 KB at 1,000 trials). What the claim-trial, record-trial and exit-handler tasks
do is in :mod:`kfp_tune.steps.component_trials`. A free iteration starts at once, as continuous slots do;
the costs of the static graph are a KFP task (a pod) for each claim and record beside each trial,
and, once the goal, the budget or the failed-trial limit ends the experiment, one short
claim-trial per iteration left, which finds nothing to run (its trial is skipped; the run
succeeds). A re-run continues the experiment from the store: recorded trials are not re-run;
one whose inputs to the trials differ from those the experiment was measured on is refused by
begin-trials, which reads (downloads) the component's artifact inputs to compare their files.
On kfp.local a component that pip-installs kfp (the ``@dsl.component`` default) runs one at a
time, whatever the parallelism: kfp.local serialises tasks that pip-install. Use
``install_kfp_package=False`` there.
"""

# No `from __future__ import annotations` here: KFP reads the components' annotations.
import inspect
import json
import keyword
import linecache
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from kfp_tune.core.errors import InputError
from kfp_tune.core.loading import load_experiment, parse_yaml
from kfp_tune.core.naming import dns_label, short_hash
from kfp_tune.core.spec import Experiment, ParameterSpec
from kfp_tune.core.version import compiled_by_text
from kfp_tune.steps.component_trials import input_value
from kfp_tune.steps.trial_reporter import PLACE_INPUT

if TYPE_CHECKING:
    from kfp_tune.pipelines.builder import ObjectStore

log = logging.getLogger(__name__)

MAX_COMPONENT_TRIALS = 10_000
"""The most trial slots one component-trial pipeline compiles (``maxTrialCount``): the loop's
items are listed in it, about 6 bytes a slot."""
PIPELINE_NAME_PREFIX = "kfp-tune-component-"
"""How a component-trial pipeline's name begins (then the experiment's name): submit tells it by
that, to say it takes no ``rounds``."""
COMPONENT_TRIAL_CONTAINER = "kfp-component"
"""The primary container of the trial template put in an experiment that has none: it only
records, in Katib's form, which component the trials ran."""

_PARAMETER_TYPES = {"Float": "float", "Integer": "int", "String": "str", "Boolean": "bool"}
_NUMBER_TYPES = {"Float": "float", "Integer": "int"}
_RANGE_INPUTS = {"double": (("float", "str"), "a float or str input"), "int": (("int", "float", "str"), "an int, float or str input")}
"""The input types a range parameter's values fit, and in words: a double's are not whole
numbers, and no number is a bool. A discrete or categorical parameter fits a str input, or one
of any type that every value of its list converts to."""
_PIPELINE_PARAMETERS = ("store_uri", "experiment_name", "take_over", "fresh_experiment", "s3_endpoint", "store_secret", "run_id", "call_id")


def _end_component() -> Any:
    """The exit handler's component (built on demand: see the imports above)."""
    from kfp import dsl
    from kfp.dsl import HTML, Markdown, Output

    from kfp_tune.components._image import RUNTIME_IMAGE

    def end_component_trials(
        store_uri: str,
        experiment_name: str,
        run_id: str,
        trials_table: Output[Markdown],
        report: Output[HTML],
        s3_endpoint: str = "",
        fresh_experiment: bool = False,
    ) -> bool:
        """The exit handler of a component-trial run: whatever happened, close the trials whose
        component task never reported (Failed), write the status and give the run's claim back.

        Args:
            store_uri: The store: ``s3://bucket/prefix``, or a folder (path or ``file:///path``).
            experiment_name: The experiment, as given to suggest.
            run_id: The pipeline run, as given to suggest.
            s3_endpoint: The S3 store's endpoint. ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
            fresh_experiment: As given to suggest.

        Returns:
            Output: True while the experiment is Running (budget left for the next run).
            trials_table: Markdown table of every trial, the best marked.
            report: Self-contained HTML report with plots of the search.
        """
        import kfp_tune

        kfp_tune.check_compiled_version()
        from kfp_tune.steps.entrypoints import end_component_trials_step

        return end_component_trials_step(store_uri, experiment_name, run_id, s3_endpoint, fresh_experiment, trials_table.path, report.path)

    return dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)(end_component_trials)


# --- at build time: the pipeline around the user's component ----------------------------------


def _identifier(name: str) -> str:
    """A metric's or parameter's name as a Python identifier (how it must name an input or a
    returned field): other characters as ``_``."""
    text = re.sub(r"\W", "_", name)
    return f"_{text}" if not text or text[0].isdigit() or keyword.iskeyword(text) else text


def _doc_name(name: str) -> str:
    """A metric's or parameter's name, quoted, for a generated docstring: with every ``"``
    escaped, so that no name (they are the experiment's own text) can close the docstring and
    become code in the component's pod."""
    return repr(name).replace('"', '\\"')


def _generated(function_name: str, source: str) -> Any:
    """A lightweight component from generated source (its inputs and outputs are named after
    the experiment's parameters and metrics). KFP embeds a component's source, read with
    ``inspect.getsource``: the source is registered with linecache under a name of its own."""
    filename = f"<kfp-tune-{function_name}-{short_hash(source, 12)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": f"kfp_tune_generated_{function_name}"}
    exec(compile(source, filename, "exec"), namespace)  # names in code are identifiers or repr()s, in docstrings _doc_name()s
    function = namespace[function_name]
    from kfp import dsl

    from kfp_tune.components._image import RUNTIME_IMAGE

    return dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)(function)


_HEADER = "from typing import NamedTuple, Optional\n\nfrom kfp.dsl import Input, Metrics, Model, Output\n\n\n"

_STORE_ARGS = """        store_uri: The store: ``s3://bucket/prefix``, or a folder (path or ``file:///path``).
        experiment_name: The experiment, as given to suggest.
        run_id: The pipeline run, as given to suggest.
        s3_endpoint: The S3 store's endpoint. ``""``: ``$KFP_TUNE_S3_ENDPOINT``.
        fresh_experiment: As given to suggest.
"""


def _claim_component(bindings: dict[str, tuple[str, str]], with_place: bool) -> Any:
    """``with_place``: the component takes ``kfp_tune_trial``, which claim-trial outputs too."""
    outputs = [output for output, _ in bindings.values()] + ([PLACE_INPUT] if with_place else [])
    fields = ", ".join([*(f"({output!r}, {kind})" for output, kind in bindings.values()), *([f"({PLACE_INPUT!r}, str)"] if with_place else [])])
    source = (
        _HEADER
        + "def claim_trial(store_uri: str, experiment_name: str, run_id: str, slot: int, s3_endpoint: str = '', fresh_experiment: bool = False)"
        + f" -> NamedTuple('Outputs', [('should_run', bool), ('trial_name', str), {fields}]):\n"
        + '    """Claim the next trial from the algorithm, for one slot of the loop, and its values.\n\n'
        + "    Args:\n" + _STORE_ARGS + "        slot: The loop's iteration (for the log: any free iteration takes the next trial).\n\n"
        + "    Returns:\n        should_run: False once the experiment has ended: the trial is skipped.\n"
        + "        trial_name: The trial's name in the store.\n"
        + "".join(f"        {output}: Parameter {_doc_name(parameter)} of the trial.\n" for parameter, (output, _) in bindings.items())
        + (f"        {PLACE_INPUT}: The trial's place in the store, for the component's TrialReporter (no credentials).\n" if with_place else "")
        + '    """\n'
        + "    import kfp_tune\n\n    kfp_tune.check_compiled_version()\n"
        + "    from collections import namedtuple\n\n"
        + "    from kfp_tune.steps.entrypoints import claim_trial_step\n\n"
        + f"    inputs = {dict(bindings)!r}\n"
        + f"    values = claim_trial_step(store_uri, experiment_name, run_id, inputs, s3_endpoint, fresh_experiment{', with_place=True' if with_place else ''})\n"
        + f"    return namedtuple('Outputs', ['should_run', 'trial_name', *{outputs!r}])(*values)\n"
    )
    return _generated("claim_trial", source)


def _begin_component(passthrough: dict[str, Any]) -> Any:
    """The call's first task: its run id, and the inputs every trial gets (``passthrough``: the
    component's inputs not bound to a parameter, by name) compared with those the experiment
    was tuned on (``entrypoints.begin_component_trials_step``)."""
    artifacts = [name for name, spec in passthrough.items() if str(spec.type) not in _PYTHON_TYPES]
    inputs = "".join(
        f", {name}: Optional[{_PYTHON_TYPES[str(spec.type)].__name__}] = None" if name not in artifacts
        else f", {name}: Optional[Input[{_artifact_class(str(spec.type)).__name__}]] = None"
        for name, spec in passthrough.items()
    )
    source = (
        "from typing import NamedTuple, Optional\n\nfrom kfp.dsl import HTML, Artifact, ClassificationMetrics, Dataset, Input, Markdown, Metrics, Model, "
        "SlicedClassificationMetrics\n\n\n"
        + f"def begin_trials(store_uri: str, experiment_name: str, run_id: str, call_id: str, s3_endpoint: str = '', fresh_experiment: bool = False{inputs})"
        + " -> NamedTuple('Outputs', [('run_id', str)]):\n"
        + '    """Open one call of the component trials: name it, and refuse it before any trial runs when another call of this\n'
        + "    pipeline run tunes the experiment, or when the experiment's trials were measured on other inputs.\n\n"
        + "    Args:\n" + _STORE_ARGS.replace("run_id: The pipeline run, as given to suggest.", "run_id: The pipeline run.")
        + "        call_id: This call's own id (its first task's), so that two calls in one run are told apart.\n"
        + "".join(f"        {name}: Input {name!r} of every trial, compared with the experiment's.\n" for name in passthrough)
        + "\n    Returns:\n        run_id: The run id of every later step of this call.\n"
        + '    """\n'
        # The inputs are read first, before any name below is bound: an input may be named run,
        # artifacts, kfp_tune or call_run_id (any name but the pipeline's own parameters).
        + "    artifacts, values = (\n"
        + "        {" + ", ".join(f"{name!r}: {name}" for name in artifacts) + "},\n"
        + "        {" + ", ".join(f"{name!r}: {name}" for name in passthrough if name not in artifacts) + "},\n"
        + "    )\n"
        + "    import kfp_tune\n\n    kfp_tune.check_compiled_version()\n"
        + "    from collections import namedtuple\n\n"
        + "    from kfp_tune.core.claims import call_run_id\n"
        + "    from kfp_tune.steps.entrypoints import begin_component_trials_step\n\n"
        + "    run = call_run_id(run_id, call_id)\n"
        + "    begin_component_trials_step(\n"
        + "        store_uri, experiment_name, run, {k: (a.path, a.uri) for k, a in artifacts.items() if a is not None},\n"
        + "        {k: v for k, v in values.items() if v is not None}, s3_endpoint, fresh_experiment,\n"
        + "    )\n"
        + "    return namedtuple('Outputs', ['run_id'])(run)\n"
    )
    return _generated("begin_trials", source)


def _record_component(values: dict[str, tuple[str, str]], with_metrics: bool, with_model: bool) -> Any:
    """``values``: record input -> (metric name, type) for the numbers the trial returns."""
    inputs = "".join(f", {name}: {kind}" for name, (_, kind) in values.items())
    if with_metrics:
        inputs += ", metrics: Input[Metrics]"
    if with_model:
        inputs += ", model: Input[Model]"
    collected = "{" + ", ".join(f"{metric!r}: {name}" for name, (metric, _) in values.items()) + "}"
    source = (
        _HEADER
        + f"def record_trial(store_uri: str, experiment_name: str, run_id: str, trial_name: str{inputs}, s3_endpoint: str = '', fresh_experiment: bool = False) -> str:\n"
        + '    """Record a component trial\'s metrics and model in the store, and apply the stop rules.\n\n'
        + "    Args:\n" + _STORE_ARGS + "        trial_name: The trial claim-trial gave.\n"
        + "".join(f"        {name}: Metric {_doc_name(metric)}, as the trial returned it.\n" for name, (metric, _) in values.items())
        + ("        metrics: The trial's Metrics output: each logged metric by name.\n" if with_metrics else "")
        + ("        model: The trial's Model output, kept for the best-trial output.\n" if with_model else "")
        + "\n    Returns:\n        Output: The trial's status (Succeeded, EarlyStopped when its TrialReporter stopped it, or MetricsUnavailable without the objective).\n"
        + '    """\n'
        + "    import kfp_tune\n\n    kfp_tune.check_compiled_version()\n"
        + "    from kfp_tune.steps.entrypoints import record_trial_step\n\n"
        + f"    values = {collected}\n"
        + ("    values = {**{k: v for k, v in metrics.metadata.items() if isinstance(v, (int, float))}, **values}\n" if with_metrics else "")
        + "    return record_trial_step(store_uri, experiment_name, run_id, trial_name, values, s3_endpoint, fresh_experiment"
        + (", model.path)\n" if with_model else ")\n")
    )
    return _generated("record_trial", source)


def _artifact_class(type_name: str) -> Any:
    from kfp import dsl

    title = type_name.split("@", 1)[0]
    for cls in (dsl.Artifact, dsl.Dataset, dsl.Model, dsl.Metrics, dsl.ClassificationMetrics, dsl.SlicedClassificationMetrics, dsl.HTML, dsl.Markdown):
        if getattr(cls, "schema_title", None) == title:
            return cls
    return dsl.Artifact


_PYTHON_TYPES: dict[str, Any] = {"Float": float, "Integer": int, "String": str, "Boolean": bool, "Dict": dict, "List": list}


def _a(kind: str) -> str:
    return f"an {kind}" if kind == "int" else f"a {kind}"


def _check_binding(component_name: str, parameter: ParameterSpec, input_name: str, kind: str) -> None:
    """Refuse, before anything runs, a parameter whose values claim-trial could not convert to
    the type of the input it is bound to (``kind``: float, int, str or bool)."""
    space = parameter.feasible_space
    if parameter.parameter_type in _RANGE_INPUTS:
        fits, expected = _RANGE_INPUTS[parameter.parameter_type]
        if kind in fits:
            return
        described, reason = f"{parameter.parameter_type} from {space.min} to {space.max}", ""
        if kind == "int":
            expected += "; an int input takes an int parameter"
    elif parameter.parameter_type in ("discrete", "categorical"):
        reason = ""
        for value in space.list or []:
            try:
                input_value(value, kind)
            except ValueError as exc:
                reason = f": its value {exc}"
                break
        if not reason:
            return
        described = f"{parameter.parameter_type} {list(space.list or [])}"
        expected = "a str input, or a float, int or bool input when every value of its list converts to it"
    else:
        return
    raise InputError(
        f"parameter {parameter.name!r} ({described}) is bound to input {input_name!r} of component {component_name!r}, {_a(kind)}{reason}: "
        f"expected {expected}"
    )


def with_component_template(doc: dict[str, Any], component_name: str) -> dict[str, Any]:
    """The experiment, with a trial template saying that the component ``component_name`` runs
    the trials when it has none (Katib requires one; kfp-tune's records keep it)."""
    spec = doc.setdefault("spec", {})
    if spec.get("trialTemplate"):
        return doc
    names = [p.get("name") for p in spec.get("parameters") or [] if isinstance(p, dict)]
    spec["trialTemplate"] = {
        "primaryContainerName": COMPONENT_TRIAL_CONTAINER,
        "trialParameters": [{"name": name, "reference": name} for name in names],
        "trialSpec": {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{
                "name": COMPONENT_TRIAL_CONTAINER,
                "image": f"kfp-component/{dns_label(component_name)}",
                "args": [f"{name}=${{trialParameters.{name}}}" for name in names],
            }]}}},
        },
    }
    return doc


def _experiment_doc(experiment: Experiment | str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """The experiment as a plain dict, not yet validated (its trialTemplate may be missing); YAML
    read as kubectl reads it (``goal: 1e-3`` a number, as for every other experiment)."""
    if isinstance(experiment, Experiment):
        return experiment.to_dict()
    if isinstance(experiment, Mapping):
        return json.loads(json.dumps(dict(experiment)))
    text = Path(experiment).read_text(encoding="utf-8") if isinstance(experiment, Path) or "\n" not in experiment else experiment
    doc = parse_yaml(text)
    if not isinstance(doc, dict):
        raise InputError(f"experiment: expected a Katib Experiment (YAML mapping), got {type(doc).__name__}")
    return doc


def component_trials(
    experiment: Experiment | str | Path | Mapping[str, Any],
    component: Any,
    configure_trial: Callable[[Any], Any] | None = None,
    store_uri: str | None = None,
    object_store: "str | ObjectStore | None" = None,
) -> Callable[..., Any]:
    """The pipeline that tunes ``component`` (a ``@dsl.component`` or container component) for
    ``experiment`` (a Katib Experiment: a model, a dict, a YAML path or text; its
    ``trialTemplate`` may be left out), to call inside your own pipeline or submit on its own.

    Binding: each of the experiment's parameters goes to the component's input of the same name
    (other characters than letters, digits and ``_`` as ``_``), converted to that input's type
    (float, int, str or bool); a parameter whose values the input cannot take (a double for an
    int, a categorical ``[sgd, adam]`` for a float) is refused here, naming both. The
    component's other inputs (a Dataset, settings) become the pipeline's inputs of the same
    names, passed to every trial. Metrics: its ``Metrics``
    output's logged metrics, a returned number (the objective) or the returned fields named
    after metrics; its first ``Model`` output becomes ``best_model``. ``configure_trial(task)``
    is called on every trial task: set its GPUs, CPU, memory, node selector there (e.g.
    ``lambda t: t.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)``).

    Early stopping is cooperative: a component with an input ``kfp_tune_trial: str`` gets its
    trial's place (JSON: store, S3 endpoint, experiment, trial; its pod gets the store's
    credentials from the store Secret, as the store steps do) and reports each step and asks
    whether to stop with :class:`kfp_tune.TrialReporter`; record-trial then records a trial it
    stopped EarlyStopped, with the metrics it reported. Its reports are the trial's curve.

    Outputs: as the tuning step's (``best_parameters``, ``best_objective``, ``best_trial``,
    ``best_model``, ``best_metrics``, ``metrics``). As for the tuning step, each call is a run of its own
    (``begin-trials`` names it): a second call of one pipeline run on the same experiment is
    refused, and so is a later run whose inputs to the trials (its artifacts' files, its other
    values) differ from those the experiment's trials were measured on. ``maxTrialCount`` is
    required (one loop iteration per trial, at most :data:`MAX_COMPONENT_TRIALS`);
    parallelTrialCount is the loop's parallelism. The goal, the
    budgets and maxFailedTrialCount apply after each trial. As the tuning step does, the call
    fails (fail-if-experiment-failed, before best-trial) when its experiment is Failed, in this
    call or before, so no step after it takes a Failed experiment's best trial."""
    from kfp import dsl, kubernetes

    from kfp_tune.components.best_trial import best_trial
    from kfp_tune.components.decide_stop import fail_if_experiment_failed
    from kfp_tune.components.suggest import suggest
    from kfp_tune.launchers.runtime_image import checked_runtime_image
    from kfp_tune.pipelines.builder import (
        DEFAULT_OBJECT_STORE,
        RUN_PARAMETERS,
        embedded_spec,
        pipeline_doc,
        pipeline_store_uri,
        resolve_object_store,
        stateful_task,
    )
    from kfp_tune.pipelines.tuning_step import TUNING_OUTPUTS, CheckedCall, TuningOutputs

    spec_obj = getattr(component, "component_spec", None)
    if spec_obj is None:
        raise InputError(f"component: expected a KFP component (@dsl.component or @dsl.container_component), got {type(component).__name__}")
    loaded = load_experiment(with_component_template(_experiment_doc(experiment), spec_obj.name))
    exp_spec = loaded.spec
    if exp_spec.max_trial_count is None or not 1 <= exp_spec.max_trial_count <= MAX_COMPONENT_TRIALS:
        raise InputError(
            f"spec.maxTrialCount: component trials need one from 1 to {MAX_COMPONENT_TRIALS:,} (the pipeline compiles one loop iteration per trial), "
            f"got {exp_spec.max_trial_count!r}"
        )
    component_inputs = dict(spec_obj.inputs or {})
    with_place = PLACE_INPUT in component_inputs
    if with_place and str(component_inputs[PLACE_INPUT].type) != "String":
        raise InputError(f"input {PLACE_INPUT!r} of component {spec_obj.name!r} is a {component_inputs[PLACE_INPUT].type}: kfp-tune binds a str (the trial's place) to it")
    if exp_spec.early_stopping is not None and not with_place:
        log.warning(
            "experiment %s: early stopping (%s) does not stop a trial of component %s, which has no input %r: to stop trials early, give it an "
            "input `%s: str` and call kfp_tune.TrialReporter(%s).should_stop() after each report",
            loaded.name, exp_spec.early_stopping.algorithm_name, spec_obj.name, PLACE_INPUT, PLACE_INPUT, PLACE_INPUT,
        )
    spec_json = embedded_spec(loaded)
    checked_runtime_image()
    cluster_store = resolve_object_store(DEFAULT_OBJECT_STORE if object_store is None else object_store)
    store_uri = pipeline_store_uri(store_uri)  # as tuning_step takes it: a public parameter default, no credentials

    by_identifier = {_identifier(name): name for name in component_inputs}
    bindings: dict[str, tuple[str, str]] = {}
    for parameter in exp_spec.parameters or []:
        input_name = parameter.name if parameter.name in component_inputs else by_identifier.get(_identifier(parameter.name))
        if input_name is None:
            raise InputError(f"component {spec_obj.name!r} has no input for parameter {parameter.name!r}: expected one named {_identifier(parameter.name)!r}")
        kind = _PARAMETER_TYPES.get(str(component_inputs[input_name].type))
        if kind is None:
            raise InputError(f"input {input_name!r} of component {spec_obj.name!r} is a {component_inputs[input_name].type}: a parameter needs float, int, str or bool")
        _check_binding(spec_obj.name, parameter, input_name, kind)
        taken = next((name for name, (bound_input, _) in bindings.items() if bound_input == input_name), None)
        if taken is not None:  # Katib takes both (a-b and a_b are two names); one input cannot hold two values
            raise InputError(
                f"parameters {taken!r} and {parameter.name!r} both bind to input {input_name!r} of component {spec_obj.name!r}: "
                "expected one parameter per input; rename one of them (an input is named after its parameter, other characters as _)"
            )
        bindings[parameter.name] = (input_name, kind)
    bound = {input_name for input_name, _ in bindings.values()}
    if bound & {"should_run", "trial_name", PLACE_INPUT, *_PIPELINE_PARAMETERS}:
        raise InputError(
            f"component {spec_obj.name!r}: inputs bound to parameters may not be named should_run, trial_name, {PLACE_INPUT} or {', '.join(_PIPELINE_PARAMETERS)}"
        )
    passthrough = {name: spec for name, spec in component_inputs.items() if name not in bound and name != PLACE_INPUT}
    clashes = sorted(set(passthrough) & set(_PIPELINE_PARAMETERS))
    if clashes:
        raise InputError(f"component {spec_obj.name!r}: its inputs {clashes} clash with the tuning pipeline's own parameters of those names")

    objective = exp_spec.objective
    assert objective is not None
    outputs = dict(spec_obj.outputs or {})
    metric_by_identifier = {_identifier(m): m for m in objective.metric_names}
    values: dict[str, tuple[str, str]] = {}  # record-trial's input -> (metric, type)
    value_sources: dict[str, str] = {}  # record-trial's input -> the component's output
    for name, out in outputs.items():
        kind = _NUMBER_TYPES.get(str(out.type))
        metric = objective.objective_metric_name if name == "Output" else metric_by_identifier.get(_identifier(name))
        if kind is not None and metric is not None:
            key = f"value_{len(values)}"
            values[key], value_sources[key] = (metric, kind), name
    metrics_output = next((n for n, o in outputs.items() if str(o.type).startswith("system.Metrics@")), None)
    model_output = next((n for n, o in outputs.items() if str(o.type).startswith("system.Model@")), None)
    if metrics_output is None and objective.objective_metric_name not in {metric for metric, _ in values.values()}:
        raise InputError(
            f"component {spec_obj.name!r} reports no objective {objective.objective_metric_name!r}: give it an Output[Metrics] "
            f"(metrics.log_metric({objective.objective_metric_name!r}, value)), return a float, or return a field named "
            f"{_identifier(objective.objective_metric_name)!r}"
        )

    begin_trials = _begin_component(passthrough)
    claim_trial = _claim_component(bindings, with_place)
    end_component = _end_component()
    record_trial = _record_component(values, metrics_output is not None, model_output is not None)
    slots = list(range(exp_spec.max_trial_count))
    parallelism = exp_spec.parallel_trial_count or 1

    def stateful(task: Any, display_name: str, store_secret: Any) -> Any:
        return stateful_task(task, display_name, cluster_store, store_secret)

    def signature(names_first: list[inspect.Parameter]) -> inspect.Signature:
        extra = []
        for name, input_spec in passthrough.items():
            type_name = str(input_spec.type)
            if type_name in _PYTHON_TYPES:
                annotation: Any = _PYTHON_TYPES[type_name]
                default = input_spec.default if input_spec.default is not None else (None if input_spec.optional else inspect.Parameter.empty)
            else:
                annotation = dsl.Input[_artifact_class(type_name)]
                default = inspect.Parameter.empty
                if input_spec.optional:
                    annotation, default = Optional[annotation], None  # noqa: UP045 (KFP reads this form)
            extra.append(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation))
        ordered = [p for p in extra if p.default is inspect.Parameter.empty] + names_first + [p for p in extra if p.default is not inspect.Parameter.empty]
        return inspect.Signature(ordered)

    own = [
        inspect.Parameter("store_uri", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=store_uri, annotation=str),
        inspect.Parameter("experiment_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=loaded.name, annotation=str),
        inspect.Parameter("take_over", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False, annotation=bool),
        inspect.Parameter("fresh_experiment", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False, annotation=bool),
        inspect.Parameter("s3_endpoint", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=cluster_store.endpoint, annotation=str),
        inspect.Parameter("store_secret", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=cluster_store.secret, annotation=str),
    ]
    outer_signature = signature(own)
    own.append(inspect.Parameter("run_id", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="", annotation=str))  # the call's, from begin-trials
    loop_signature = signature(own)
    bound_names = [input_name for input_name, _ in bindings.values()]
    handle_names = ("store_uri", "experiment_name", "fresh_experiment", "s3_endpoint", "store_secret", "run_id")
    required = inspect.Parameter.empty
    trial_signature = signature(
        [inspect.Parameter("should_run", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=bool),
         inspect.Parameter("trial_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)]
        + ([inspect.Parameter(PLACE_INPUT, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)] if with_place else [])
        + [inspect.Parameter(input_name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=_PYTHON_TYPES[str(component_inputs[input_name].type)])
           for input_name in bound_names]
        + [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=required, annotation=p.annotation) for p in own if p.name in handle_names]
    )

    def trial_body(*args: Any) -> None:
        # The If is on this sub-pipeline's input: kfp.local (2.17) resolves a condition on a
        # task output only when the output is named "Output".
        arguments = dict(zip(trial_signature.parameters, args, strict=True))
        handles = dict(
            store_uri=arguments["store_uri"], experiment_name=arguments["experiment_name"], run_id=arguments["run_id"],
            s3_endpoint=arguments["s3_endpoint"], fresh_experiment=arguments["fresh_experiment"],
        )
        with dsl.If(arguments["should_run"] == True, name="trial-runs"):  # noqa: E712 (a KFP condition)
            trial_inputs = {name: arguments[name] for name in bound_names}
            trial_inputs.update({name: arguments[name] for name in passthrough if arguments[name] is not None})
            if with_place:
                trial_inputs[PLACE_INPUT] = arguments[PLACE_INPUT]
            trial = component(**trial_inputs)
            trial.set_caching_options(False)
            if with_place and cluster_store.secret:  # it reads and writes the store: its credentials, as the store steps get them
                kubernetes.use_secret_as_env(trial, secret_name=arguments["store_secret"], secret_key_to_env=dict(cluster_store.secret_keys))
            if configure_trial is not None:
                configure_trial(trial)
            recorded: dict[str, Any] = {name: trial.outputs[value_sources[name]] for name in values}
            if metrics_output is not None:
                recorded["metrics"] = trial.outputs[metrics_output]
            if model_output is not None:
                recorded["model"] = trial.outputs[model_output]
            stateful(
                record_trial(trial_name=arguments["trial_name"], **recorded, **handles), "record-trial (metrics, model, stop rules)", arguments["store_secret"]
            )

    trial_body.__signature__ = trial_signature  # type: ignore[attr-defined]
    run_trial = dsl.pipeline(name=dns_label(f"kfp-tune-trial-{loaded.name}"), description=f"kfp-tune: one trial of {loaded.name!r}")(trial_body)

    def loop_body(*args: Any) -> None:
        arguments = dict(zip(loop_signature.parameters, args, strict=True))
        secret = arguments["store_secret"]
        handles = dict(
            store_uri=arguments["store_uri"], experiment_name=arguments["experiment_name"], run_id=arguments["run_id"],
            s3_endpoint=arguments["s3_endpoint"], fresh_experiment=arguments["fresh_experiment"],
        )
        end = stateful(end_component(**handles), "end-component-trials (run ended: status, claim released)", secret)
        with dsl.ExitHandler(end, name="run"):
            prepare = stateful(
                suggest(round_index=0, rounds_total=1, experiment_spec=spec_json, take_over=arguments["take_over"], trial_count=0, **handles),
                "suggest (claim the experiment)", secret,
            )
            with dsl.ParallelFor(items=slots, parallelism=parallelism, name="trial-slots") as slot:
                claim = stateful(claim_trial(slot=slot, **handles).after(prepare), "claim-trial (the next trial's values)", secret)
                trial_arguments = {name: claim.outputs[name] for name in ("should_run", "trial_name", *bound_names, *([PLACE_INPUT] if with_place else []))}
                trial_arguments.update({name: arguments[name] for name in (*passthrough, *handle_names) if arguments[name] is not None})
                run_trial(**trial_arguments).set_caching_options(False).set_display_name("trial (skipped once the experiment has ended)")

    loop_body.__signature__ = loop_signature  # type: ignore[attr-defined]
    loop = dsl.pipeline(name=dns_label(f"kfp-tune-trials-{loaded.name}"), description=f"kfp-tune: the trials of {loaded.name!r}")(loop_body)

    def component_trials_pipeline(*args: Any) -> TuningOutputs:
        arguments = dict(zip(outer_signature.parameters, args, strict=True))
        secret = arguments["store_secret"]
        handles = dict(
            store_uri=arguments["store_uri"], experiment_name=arguments["experiment_name"],
            s3_endpoint=arguments["s3_endpoint"], fresh_experiment=arguments["fresh_experiment"],
        )
        given = {name: arguments[name] for name in passthrough if arguments[name] is not None}
        # the call's first task: checks, and names the call (its task id) for every later task
        opened = stateful(
            begin_trials(run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER, call_id=dsl.PIPELINE_TASK_ID_PLACEHOLDER, **handles, **given),
            "begin-trials (checks this call and its inputs)", secret,
        )
        run_id = opened.outputs["run_id"]
        tuned = loop(**{name: value for name, value in arguments.items() if value is not None}, run_id=run_id).after(opened)
        tuned.set_caching_options(False).set_display_name(f"tune {loaded.name} ({spec_obj.name} trials)")
        # its experiment Failed, in this call or before, the call fails, as a tuning step's: no step after it takes a Failed
        # experiment's best trial (after the loop, whose exit handler has written the status and the reports)
        failed = stateful(
            fail_if_experiment_failed(**handles, run_id=run_id, failed_before_fails=True).after(tuned),
            "fail-if-experiment-failed (the run fails when its experiment is Failed)", secret,
        )
        best = stateful(best_trial(**handles, run_id=run_id).after(failed), "best-trial (parameters, objective, metrics, model)", secret)
        return TuningOutputs(
            best_parameters=best.outputs["best_parameters"], best_objective=best.outputs["best_objective"],
            best_trial=best.outputs["best_trial"], best_model=best.outputs["best_model"], best_metrics=best.outputs["best_metrics"],
            metrics=best.outputs["metrics"],
        )

    component_trials_pipeline.__signature__ = outer_signature.replace(return_annotation=TuningOutputs)  # type: ignore[attr-defined]
    component_trials_pipeline.__doc__ = pipeline_doc(
        f"kfp-tune: Katib experiment {loaded.name!r}, each trial a task of component {spec_obj.name!r}.",
        {**{name: RUN_PARAMETERS[name] for name in outer_signature.parameters if name in RUN_PARAMETERS},
         **{name: f"Input {name!r} of component {spec_obj.name!r}, passed to every trial." for name in passthrough}},
        TUNING_OUTPUTS,
    )
    pipeline = dsl.pipeline(
        name=dns_label(f"{PIPELINE_NAME_PREFIX}{loaded.name}"),
        description=(
            f"kfp-tune: Katib experiment {loaded.name!r}, each trial a task of component {spec_obj.name!r}; outputs the best parameters, objective, "
            f"trial, metrics and model; {compiled_by_text()}"
        ),
    )(component_trials_pipeline)
    pipeline.__class__ = CheckedCall  # KFP's own component, its constant store_uri and s3_endpoint checked where it is called
    return pipeline


__all__ = ["MAX_COMPONENT_TRIALS", "component_trials", "with_component_template"]
