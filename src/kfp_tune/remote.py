"""Tune a Python function's trials on Kubeflow: ``kfp_tune.submit_function`` (and ``tune(..., host=)``).

As Katib's SDK ``tune()`` does, the function's source travels in the trial's container command:
each trial is a batch/v1 Job running ``base_image`` with ``sh -c`` and a short script that
(optionally) pip-installs ``packages_to_install``, writes the function's source and a call with
this trial's parameters to a file, and runs it with ``python3 -u``. The parameters reach the call
through Katib's trial parameter substitution (``${trialParameters.name}``, typed back into
float / int / str as the in-process ``tune()`` gives them); the metrics come back through the
StdOut collector: what the function prints as ``name=value``, and what it returns, printed in
that form by the call.

The rule Katib sets for such a function holds here too, and is checked before anything is sent:
it must be self-contained, a plain ``def`` whose source can be read (not a lambda, a builtin or a
function typed into a bare REPL), taking one argument (the parameters dict), with its imports
inside it and no names from the notebook or module around it (in its body or its default
values; its type hints are never evaluated in the trial). Its metric names must be ones the
StdOut collector reads back. The submission's own arguments (host, client, store, ...) are
checked before the first request to the host.

The experiment is a real Katib ``kubeflow.org/v1beta1`` Experiment, validated like any other, and
is started with :func:`kfp_tune.pipelines.submit.submit`; the handle it gives back waits for the
KFP run and reads the result from the run's store, as ``tune()`` reports it. The entry points,
``tune(host=)`` and ``submit_function``, are in :mod:`kfp_tune.api`, which checks the arguments.
"""

from __future__ import annotations

import builtins
import contextlib
import dis
import hashlib
import inspect
import json
import math
import numbers
import re
import shlex
import textwrap
import types
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kfp_tune.core.catalogue import DEFAULT_ALGORITHM
from kfp_tune.core.errors import ExperimentNotFound, KfpTuneError, SpecError, StoreError, masked_url, shown
from kfp_tune.core.job_fields import QUANTITY
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import is_dns_subdomain, namespace_problem
from kfp_tune.core.spec import (
    AlgorithmSpec,
    CollectorSpec,
    Experiment,
    ExperimentSpec,
    MetricsCollectorSpec,
    NameValue,
    ObjectiveSpec,
    ObjectMeta,
    ParameterSpec,
    TrialParameterSpec,
    TrialTemplate,
)
from kfp_tune.core.vocabulary import FAILED_STATUSES, CollectorKind, TrialStatus, looks_like_credential
from kfp_tune.search import categorical_objects, fixed_values, to_parameters

BASE_IMAGE = "docker.io/pytorch/pytorch:2.2.1-cuda12.1-cudnn8-runtime"
"""Katib's SDK default image for a function's trials (Python 3 with pip)."""
PRIMARY_CONTAINER = "training-container"
"""Katib's SDK name for the trial's container."""
PIP_INDEX_URLS = ("https://pypi.org/simple",)
FINISHED_RUN_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "ERROR", "CANCELED"})
"""KFP v2 run states after which a run does no more (kfp's own wait leaves out CANCELED)."""
GPU = "nvidia.com/gpu"
_FLAT_RESOURCES = {"cpu": "cpu", "memory": "memory", "gpu": GPU, GPU: GPU, "ephemeral-storage": "ephemeral-storage"}
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_VALUE_FROM = ("secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef")
_ENV_FROM = ("secretRef", "configMapRef")
_RESERVED_ENV = "KFP_TUNE_"
FUNCTION_COLLECTORS = ("StdOut", "Push")
"""The metrics collectors a function's trials can report through (Katib's SDK supports these two)."""
_WRAPPER_PREFIX = "_kfp_tune"
_SCRIPT_HEADER = "from __future__ import annotations"
"""The trial script's first line: the function's annotations stay text, never evaluated, so
type hints may name what only the module around the function imported (``Any``, a class)."""
_PUSH_NEEDS_KFP_TUNE = (
    "kfp-tune: this experiment's metrics collector is Push: the trial reports its metrics with kfp_tune.report_metrics, and kfp-tune "
    "is not installed in the trial's image (it is not on PyPI): use a base_image that has it (built FROM kfp-tune's runtime image, "
    "images/runtime/Dockerfile), or name a kfp-tune wheel's URL in packages_to_install, or an index serving it in pip_index_urls"
)
"""What a Push trial says, and exits with, when its image has no kfp-tune to report with."""


class RemoteArgumentError(ValueError):
    """An argument of ``submit_function`` / ``tune(host=)`` that cannot be used; the message
    names it. Raised before anything is sent."""


def _refuse(argument: str, message: str) -> RemoteArgumentError:
    return RemoteArgumentError(f"{argument}: {message}")


# --- the function ------------------------------------------------------------------------------


def function_source(objective: Callable[..., Any]) -> str:
    """The function's own source, dedented, checked to run on its own in a trial's container
    (Katib's rule: a plain ``def`` of one argument, imports inside, nothing from outside it)."""
    if not isinstance(objective, types.FunctionType):
        raise _refuse("objective", f"expected a function defined with def, got {type(objective).__name__} {shown(objective)}; "
                      "its source is shipped to the trial, so it must be Python code whose source can be read")
    name = objective.__name__
    if name == "<lambda>":
        raise _refuse("objective", "a lambda cannot be shipped to a trial (its source is part of another statement); define it with def")
    if name.startswith(_WRAPPER_PREFIX):
        raise _refuse("objective", f"the name {name!r} is kept for kfp-tune's own call in the trial; rename the function")
    if hasattr(builtins, name):
        raise _refuse("objective", f"{name} is the name of a Python builtin, which kfp-tune's call in the trial uses, and the function "
                      "would hide it there; rename the function")
    if inspect.iscoroutinefunction(objective) or inspect.isgeneratorfunction(objective):
        raise _refuse("objective", f"{name} must be a plain function (not async, not a generator): the trial calls it once and reads what it returns")
    try:
        inspect.signature(objective).bind({})
    except TypeError:
        raise _refuse("objective", f"{name}{inspect.signature(objective)} must take exactly one argument, the parameters dict") from None
    try:
        source = textwrap.dedent(inspect.getsource(objective))
    except (OSError, TypeError):
        raise _refuse("objective", f"the source of {name} cannot be read (typed into a bare REPL, or built at run time?); "
                      "define it in a file or a notebook cell, which keep their source") from None
    if not source.startswith("def "):
        first = source.splitlines()[0] if source else ""
        raise _refuse("objective", f"{name} must be a plain def, without decorators (its source starts {first!r}); "
                      "a decorator's name would not exist in the trial")
    if objective.__code__.co_freevars:
        raise _refuse("objective", f"{name} uses {', '.join(objective.__code__.co_freevars)} from the function around it; "
                      "the trial runs the function alone: pass them as parameters or define them inside it")
    try:
        # compiled as the trial's script runs it: its defaults are evaluated there, its annotations are not
        shipped = compile(f"{_SCRIPT_HEADER}\n{source}", f"<{name}>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise _refuse("objective", f"the source of {name} does not compile on its own ({exc.msg}, line {exc.lineno}); "
                      "define it as a plain def in a file or a notebook cell") from None
    outside = sorted({n for n in _global_names(shipped) if n != name and not hasattr(builtins, n)})
    if outside:
        raise _refuse("objective", f"{name} uses {', '.join(outside)} from outside itself (a notebook's or module's globals, "
                      "in its body or its default values); the trial runs the function alone: import modules and define helpers inside it")
    return source


def _global_names(code: types.CodeType) -> Iterator[str]:
    """The names a code object (and the functions and classes defined in it) look up as globals."""
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(instruction.argval, str):
            yield instruction.argval
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _global_names(constant)


def fixed_parameter_values(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The fixed (not searched) values of ``parameters``, each checked to come through JSON as
    it is: they are written into every trial's script, where Katib's SDK writes their Python
    text (``utils.get_exec_script_from_objective``). RemoteArgumentError naming one that would not."""
    fixed = fixed_values(parameters)
    for name, value in fixed.items():
        try:
            kept = json.loads(json.dumps(value, allow_nan=False)) == value
        except (TypeError, ValueError, RecursionError):
            kept = False
        if not kept:
            raise _refuse(f"parameters[{name!r}]", f"a fixed value is written into each trial's script as JSON, so it must come back as it is: None, "
                          f"True / False, a finite number, a string, or lists and dicts (string keys) of those; got {type(value).__name__} {shown(value)}")
    return fixed


def categorical_parameter_objects(parameters: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The objects of each ``search.categorical`` list, by their text, each checked to come
    through JSON as it is: the trial's script gives the function the object for its
    substituted text, as the in-process ``tune()`` does. RemoteArgumentError naming one that would not."""
    objects = categorical_objects(parameters)
    for name, by_text in objects.items():
        for value in by_text.values():
            try:
                kept = json.loads(json.dumps(value, allow_nan=False)) == value
            except (TypeError, ValueError, RecursionError):
                kept = False
            if not kept:
                raise _refuse(f"parameters[{name!r}]", "a categorical value is written into each trial's script as JSON, so that the function "
                              "gets it as given, as in this process: expected None, True / False, a finite number or a string; "
                              f"got {type(value).__name__} {shown(value)} (give its name, and map the name to it inside the function)")
    return objects


def _value_text(parameter: ParameterSpec) -> str:
    """The Python literal that holds this parameter's substituted value in the shipped call."""
    for value in parameter.feasible_space.list or ():
        text = str(value)
        if any(c in text for c in "'\\\r\n"):
            raise _refuse(f"parameters[{parameter.name!r}]", f"the value {text!r} has a quote, a backslash or a line break, "
                          "which cannot be substituted into the trial's command; use plain values and map them inside the function")
    return f"r'''${{trialParameters.{parameter.name}}}'''"


def trial_script(
    objective: Callable[..., Any],
    parameters: Sequence[ParameterSpec],
    objective_metric_name: str,
    packages_to_install: Sequence[str] = (),
    pip_index_urls: Sequence[str] = PIP_INDEX_URLS,
    fixed: Mapping[str, Any] | None = None,
    order: Sequence[str] = (),
    push: bool = False,
    searched_as_text: bool = False,
    objects: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """The ``sh -c`` script a trial runs: pip install, then the function's source and a call with
    this trial's ``${trialParameters.x}`` values, written to a file and run with ``python3 -u``.
    The source goes through a quoted here-document, so the shell leaves it exactly as written.
    ``fixed`` values (JSON, :func:`fixed_parameter_values`) go to the call as they are, beside the
    searched ones, in ``order``, as Katib's SDK writes them into its call. ``push``: the Push
    collector reads no output, so what the function returns is reported with
    :func:`kfp_tune.report_metrics` (after its own reports, as ``tune()`` in this process keeps
    it), and a trial image without kfp-tune fails first, saying so. ``searched_as_text``: the
    searched values go to the function as the trial's strings, as Katib's SDK writes them into
    its call (``'${trialParameters.lr}'``, ``KatibClient.tune``); else typed, as ``tune()`` gives them,
    a categorical one as the object ``objects`` gives for its text (JSON,
    :func:`categorical_parameter_objects`)."""
    source = function_source(objective)
    kinds = {p.name: "text" if searched_as_text else p.parameter_type for p in parameters}  # typed() leaves a "text" value as it is
    given_as = "as text, as Katib's tune() gives them" if searched_as_text else "typed as tune() gives them"
    texts = ", ".join(f"{p.name!r}: {_value_text(p)}" for p in parameters)
    fixed_text = repr(json.dumps(dict(fixed or {})))  # a Python literal of JSON: any text is safe in it
    objects_text = repr(json.dumps({} if searched_as_text else {name: dict(by_text) for name, by_text in (objects or {}).items()}))
    names = list(order) or list(kinds)
    pad = " " * 12  # the wrapper's body, as written below before dedent
    if push:
        returned_goes = "report what it returns with kfp_tune.report_metrics for Katib's Push collector."
        none_means = "after calling kfp_tune.report_metrics"
        push_check = textwrap.indent(textwrap.dedent(f"""\
            try:
                import kfp_tune as _kfp_tune
            except ImportError:
                raise SystemExit({_PUSH_NEEDS_KFP_TUNE!r}) from None
            """), pad)
        report = f"{pad}if finite:\n{pad}    _kfp_tune.report_metrics(finite)"
    else:
        returned_goes = "print what it returns as name=value lines for Katib's StdOut collector."
        none_means = "with the metrics printed as name=value"
        push_check = ""
        report = f'{pad}for name, value in finite.items():\n{pad}    print(f"{{name}}={{value!r}}", flush=True)'
    call = textwrap.dedent(f'''

        def {_WRAPPER_PREFIX}_trial({_WRAPPER_PREFIX}_objective={objective.__name__}):
            """kfp-tune: call {objective.__name__} with this trial's parameters, {given_as};
            {returned_goes} (The
            function comes in as an argument: its name may be one of the names used here.)"""
            import math as _math
            import numbers as _numbers
{push_check}
            def typed(name, kind, text):
                if kind == "double":
                    return float(text)
                if kind == "int":
                    return int(text)
                if kind == "discrete":
                    return int(float(text)) if float(text).is_integer() and not any(c in text for c in ".eE") else float(text)
                return objects.get(name, {{}}).get(text, text)  # a categorical: the object given for its text

            kinds = {kinds!r}
            texts = {{{texts}}}
            fixed = __import__("json").loads({fixed_text})
            objects = __import__("json").loads({objects_text})
            returned = {_WRAPPER_PREFIX}_objective({{name: fixed[name] if name in fixed else typed(name, kinds[name], texts[name]) for name in {names!r}}})
            if returned is None:
                return  # {none_means}
            def number(value):  # a real number, or one held in a 0-d array or tensor (NumPy, PyTorch); no boolean
                dtype = getattr(value, "dtype", None)
                if isinstance(value, bool) or getattr(dtype, "kind", None) == "b" or str(dtype) == "torch.bool":
                    return False
                return isinstance(value, _numbers.Real) or (getattr(value, "shape", None) == () and hasattr(type(value), "__float__"))

            if isinstance(returned, dict):
                metrics = returned
            elif number(returned):
                metrics = {{{objective_metric_name!r}: returned}}
            else:
                raise TypeError(f"{objective.__name__} returned {{type(returned).__name__}}; expected a number, a dict of metric name -> number, or None {none_means}")
            for name, value in metrics.items():
                if not number(value):
                    shape = getattr(value, "shape", None)
                    raise TypeError(f"metric {{name!r}} is {{type(value).__name__}}{{f' of shape {{tuple(shape)}}' if shape else ''}}; expected a number")
            finite = {{name: float(value) for name, value in metrics.items() if _math.isfinite(float(value))}}
{report}

        {_WRAPPER_PREFIX}_trial()
        ''')
    program = _SCRIPT_HEADER + "\n" + source.rstrip("\n") + "\n" + call
    end = f"KFP_TUNE_SOURCE_END_{hashlib.sha256(program.encode()).hexdigest()[:12]}"
    lines = ["set -e"]
    if packages_to_install:
        index = [f"--index-url {shlex.quote(u)}" if i == 0 else f"--extra-index-url {shlex.quote(u)}" for i, u in enumerate(pip_index_urls)]
        lines.append(" ".join([
            "PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --prefer-binary --no-warn-script-location",
            *index, *(shlex.quote(p) for p in packages_to_install),
        ]))
    lines += [
        'kfp_tune_program="$(mktemp -d)/objective.py"',
        f"cat > \"$kfp_tune_program\" <<'{end}'",
        program.rstrip("\n"),
        end,
        # last, with no newline after it: Katib's webhook appends its log redirect to this line
        'python3 -u "$kfp_tune_program"',
    ]
    return "\n".join(lines)


# --- the other arguments -------------------------------------------------------------------------


def _quantity(argument: str, value: Any) -> str:
    text = str(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None
    if text is None or not QUANTITY.match(text) or text.startswith("-"):  # a trial asks for no negative amount
        raise _refuse(argument, f"expected a Kubernetes quantity such as 2, 500m or 4Gi, got {shown(value)}")
    return text


def trial_resources(resources: Any) -> dict[str, dict[str, str]]:
    """``resources_per_trial`` as the container's ``resources``: Katib's flat dict (``cpu``,
    ``memory``, ``gpu`` as ``nvidia.com/gpu``; each both requested and the limit), or a
    V1ResourceRequirements or its dict (``limits`` / ``requests``)."""
    if resources is None:
        return {}
    if not isinstance(resources, Mapping) and all(hasattr(resources, a) for a in ("num_workers", "num_procs_per_worker", "resources_per_worker")):
        raise NotImplementedError(
            "tune(): resources_per_trial: a TrainerResources (Katib's distributed tune(), each trial a PyTorchJob of num_workers x "
            "num_procs_per_worker processes) is not supported: a function's trial runs as one process. For distributed trials submit "
            "an experiment whose trialTemplate is a PyTorchJob (kubeflow.org/v1) running your training script (kfp-tune submit, or "
            "KatibClient(host=...).create_experiment); for one process per trial pass a dict such as {'cpu': '2', 'memory': '4Gi', 'gpu': 1}"
        )
    if hasattr(resources, "to_dict") and not isinstance(resources, Mapping):
        resources = {k: v for k, v in resources.to_dict().items() if v is not None}
    if not isinstance(resources, Mapping):
        raise _refuse("resources_per_trial", f"expected a dict such as {{'cpu': '2', 'memory': '4Gi', 'gpu': 1}} or "
                      f"{{'limits': {{...}}, 'requests': {{...}}}}, got {shown(resources)}")
    if set(resources) & {"limits", "requests"}:
        unknown = sorted(set(resources) - {"limits", "requests"})
        if unknown:
            raise _refuse(f"resources_per_trial[{unknown[0]!r}]", "expected only limits and requests (the V1ResourceRequirements form)")
        out: dict[str, dict[str, str]] = {}
        for part in ("limits", "requests"):
            given = resources.get(part) or {}
            if not isinstance(given, Mapping):
                raise _refuse(f"resources_per_trial[{part!r}]", f"expected a dict of resource name: quantity, got {shown(given)}")
            if given:
                out[part] = {str(k): _quantity(f"resources_per_trial[{part!r}][{k!r}]", v) for k, v in given.items()}
        gpu_limit, gpu_request = out.get("limits", {}).get(GPU), out.get("requests", {}).get(GPU)
        if gpu_request is not None and gpu_limit not in (None, gpu_request):
            raise _refuse("resources_per_trial", f"{GPU}: Kubernetes needs the request equal to the limit, got {gpu_request} and {gpu_limit}")
        if gpu_limit is not None:
            _gpu_count(f"resources_per_trial['limits'][{GPU!r}]", gpu_limit)
        return out
    flat: dict[str, str] = {}
    for key, value in resources.items():
        if key not in _FLAT_RESOURCES:
            raise _refuse(f"resources_per_trial[{key!r}]", f"expected one of {sorted(_FLAT_RESOURCES)} (or the limits / requests form for other resources)")
        flat[_FLAT_RESOURCES[key]] = _quantity(f"resources_per_trial[{key!r}]", value)
    if GPU in flat:
        _gpu_count(f"resources_per_trial[{'gpu' if 'gpu' in resources else GPU!r}]", flat[GPU])
    return {"limits": dict(flat), "requests": dict(flat)} if flat else {}


def _gpu_count(argument: str, text: str) -> None:
    if not re.fullmatch(r"[1-9]\d*", text):
        raise _refuse(argument, f"expected a whole number of GPUs of 1 or more, got {text!r}")


def trial_env(env: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``env_per_trial`` as the container's ``env`` and ``envFrom``: a dict of name: value, or a
    list of ``{"name", "value"}`` / ``{"name", "valueFrom"}`` dicts (or V1EnvVar /
    V1EnvFromSource objects). A value written out for a name that looks like a credential is
    refused: it would be stored in the pipeline, the experiment and the KFP UI. Give it by
    reference (``valueFrom.secretKeyRef``) instead. The value is never repeated in the message."""
    if env is None:
        return [], []
    items: list[Any]
    if isinstance(env, Mapping):
        items = [{"name": k, "value": v} for k, v in env.items()]
    elif isinstance(env, (list, tuple)):
        items = [_plain(item) for item in env]
    else:
        raise _refuse("env_per_trial", f"expected a dict of name: value or a list of {{'name': ..., 'value': ...}}, got {type(env).__name__}")
    out: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"env_per_trial[{index}]"
        if isinstance(item, Mapping) and set(item) & set(_ENV_FROM) and "name" not in item:
            sources.append(_env_from(where, item))
            continue
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise _refuse(where, f"expected {{'name': ..., 'value': ...}} or {{'name': ..., 'valueFrom': {{'secretKeyRef': ...}}}}, got {type(item).__name__}")
        name = item["name"]
        where = f"env_per_trial[{name!r}]"
        unknown = sorted(set(item) - {"name", "value", "valueFrom"})
        if unknown:
            raise _refuse(where, f"unknown field {unknown[0]!r}; expected name with value or valueFrom")
        if not _ENV_NAME.match(name):
            raise _refuse(where, "not a valid environment variable name (letters, digits, '_', '-', '.'; not starting with a digit)")
        if name.startswith(_RESERVED_ENV):
            raise _refuse(where, f"names starting {_RESERVED_ENV} are set by kfp-tune for every trial")
        if name in seen:
            raise _refuse(where, "given twice")
        seen.add(name)
        if "valueFrom" in item:
            value_from = item["valueFrom"]
            if "value" in item or not isinstance(value_from, Mapping) or len(value_from) != 1 or next(iter(value_from)) not in _VALUE_FROM:
                raise _refuse(where, f"valueFrom: expected exactly one of {', '.join(_VALUE_FROM)}, and no value beside it")
            out.append({"name": name, "valueFrom": dict(value_from)})
            continue
        value = item.get("value", "")
        if looks_like_credential(name):
            raise _refuse(where, "looks like a credential, and a value given here would be stored in the pipeline, the experiment and "
                          "the KFP UI; give it by reference: {'name': " + repr(name) + ", 'valueFrom': {'secretKeyRef': {'name': SECRET, 'key': KEY}}}")
        if (value is not None and not isinstance(value, (str, int, float))) or isinstance(value, bool):
            raise _refuse(where, f"expected a string or a number as the value, got {type(value).__name__}")
        out.append({"name": name, "value": "" if value is None else str(value)})
    return out, sources


def _plain(item: Any) -> Any:
    """A V1EnvVar / V1EnvFromSource (kubernetes client) as its Kubernetes JSON; dicts as they are."""
    if isinstance(item, Mapping) or not hasattr(item, "to_dict"):
        return item
    from kubernetes.client import ApiClient

    return ApiClient().sanitize_for_serialization(item)


def _env_from(where: str, item: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(item) - {*_ENV_FROM, "prefix"})
    if unknown or sum(k in item for k in _ENV_FROM) != 1:
        raise _refuse(where, f"expected one of {', '.join(_ENV_FROM)} (and an optional prefix)")
    return dict(item)


def _strings(argument: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _refuse(argument, f"expected a list of non-empty strings, got {shown(_masked_urls(value))}")
    return list(value)


def _masked_urls(value: Any) -> Any:
    """``value`` (index URLs, pip requirements such as ``git+https://user:token@host/repo``) as a
    refusal may quote it: each string with what could be a credential masked."""
    if isinstance(value, str):
        return masked_url(value)
    if isinstance(value, (list, tuple)):
        return [masked_url(v) if isinstance(v, str) else v for v in value]
    return value


def _index_urls(urls: Any) -> list[str]:
    out = _strings("pip_index_urls", urls)
    for url in out:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _refuse("pip_index_urls", f"expected http(s) URLs, got {shown(masked_url(url))}")
        if "@" in parts.netloc:
            raise _refuse("pip_index_urls", "credentials do not belong in an index URL (it is stored in the pipeline and shown in the KFP UI); "
                          "configure pip in the image, or use a mirror that needs none")
    return out


def _metric_name(argument: str, name: Any, push: bool) -> str:
    """A metric name the trial's collector reads back: any name for Push (the trial reports it
    by name), one the StdOut collector's filter reads otherwise."""
    if push:
        if not isinstance(name, str) or not name:
            raise _refuse(argument, f"expected a metric name, got {shown(name)}")
        return name
    return _stdout_metric_name(argument, name)


def _stdout_metric_name(argument: str, name: Any) -> str:
    """A metric name Katib's StdOut collector can read back from the trial's ``name=value`` line.
    A function's trials report through stdout, and with no ``metricsFormat`` the collector's
    filter (:data:`kfp_tune.collectors.stdout.DEFAULT_METRICS_FORMAT`) reads only names of ASCII
    letters, digits, ``_``, ``-`` and ``|``: any other name would leave every trial
    MetricsUnavailable."""
    from kfp_tune.collectors.stdout import DEFAULT_METRICS_FORMAT, parse_metric_lines

    if not isinstance(name, str) or not name:
        raise _refuse(argument, f"expected a metric name, got {shown(name)}")
    if [(m.name, m.value) for m in parse_metric_lines([f"{name}=0.5"], [name])] != [(name, 0.5)]:
        suggestion = re.sub(r"[^A-Za-z0-9_|-]", "_", name)
        raise _refuse(argument, f"{shown(name)} cannot be read from the trial's output: a function's trials on Kubeflow report "
                      f"their metrics as name=value lines, and Katib's StdOut collector (filter {DEFAULT_METRICS_FORMAT}) reads "
                      f"only names made of ASCII letters, digits, '_', '-' and '|'; rename it, e.g. {suggestion!r}")
    return name


def _positive_int(argument: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise _refuse(argument, f"expected a whole number of 1 or more, or None, got {shown(value)}")
    return int(value)


# --- the experiment ------------------------------------------------------------------------------


def function_job_experiment(
    objective: Callable[..., Any],
    parameters: Mapping[str, Any],
    name: str,
    objective_metric_name: str = "objective",
    objective_type: str = "minimize",
    algorithm: str = DEFAULT_ALGORITHM,
    algorithm_settings: Mapping[str, Any] | None = None,
    max_trial_count: int | None = 10,
    parallel_trial_count: int = 1,
    max_failed_trial_count: int | None = None,
    goal: float | None = None,
    additional_metric_names: Sequence[str] | None = None,
    base_image: str = BASE_IMAGE,
    namespace: str | None = None,
    resources_per_trial: Any = None,
    env_per_trial: Any = None,
    packages_to_install: Sequence[str] | None = None,
    pip_index_urls: Sequence[str] | None = PIP_INDEX_URLS,
    trial_active_deadline_seconds: int | None = None,
    retain_trials: bool = False,
    metrics_collector: str = "StdOut",
    searched_as_text: bool = False,
) -> Experiment:
    """The Katib Experiment whose trials run ``objective`` in ``base_image``, as Katib's SDK
    ``tune()`` builds it: a batch/v1 Job per trial (``restartPolicy: Never``), the collector
    ``metrics_collector`` names (StdOut: the function prints ``name=value`` lines or returns its
    metrics; Push, as Katib's ``metrics_collector_config={"kind": "Push"}``: it calls
    :func:`kfp_tune.report_metrics` in the trial, which then needs kfp-tune in its image),
    ``trial_active_deadline_seconds`` as the Job's ``activeDeadlineSeconds``,
    ``retain_trials`` as the template's ``retain`` (the Job and its pods are kept after the trial),
    ``searched_as_text`` as :func:`trial_script` takes it. Validated as any Experiment; RemoteArgumentError or SpecError (with field paths) when not."""
    if metrics_collector not in FUNCTION_COLLECTORS:
        raise _refuse("metrics_collector", f"expected one of {', '.join(FUNCTION_COLLECTORS)} (a function's trials report through stdout "
                      f"or with kfp_tune.report_metrics), got {shown(metrics_collector)}")
    push = metrics_collector == "Push"
    from kfp_tune.launchers.runtime_image import is_image_reference

    if not is_image_reference(base_image):
        raise _refuse("base_image", f"expected an image reference such as python:3.11, got {shown(base_image)}")
    if namespace is not None and (problem := namespace_problem(namespace)) is not None:
        raise _refuse("namespace", problem)
    if not isinstance(retain_trials, bool):
        raise _refuse("retain_trials", f"expected True or False, got {shown(retain_trials)}")
    metric_name = _metric_name("objective_metric_name", objective_metric_name, push)
    if isinstance(additional_metric_names, str) or not isinstance(additional_metric_names, (list, tuple, type(None))):
        raise _refuse("additional_metric_names", f"expected a list of metric names or None, got {shown(additional_metric_names)}")
    additional = [_metric_name(f"additional_metric_names[{i}]", n, push) for i, n in enumerate(additional_metric_names or [])]
    deadline = _positive_int("trial_active_deadline_seconds", trial_active_deadline_seconds)
    packages = _strings("packages_to_install", packages_to_install)
    urls = _index_urls(pip_index_urls)
    resources = trial_resources(resources_per_trial)
    env, env_from = trial_env(env_per_trial)
    params = to_parameters(parameters)
    fixed = fixed_parameter_values(parameters)
    objects = {} if searched_as_text else categorical_parameter_objects(parameters)
    container: dict[str, Any] = {
        "name": PRIMARY_CONTAINER,
        "image": base_image,
        "command": ["sh", "-c"],
        "args": [trial_script(objective, params, metric_name, packages, urls, fixed, list(parameters), push=push,
                                  searched_as_text=searched_as_text, objects=objects)],
    }
    if resources:
        container["resources"] = resources
    if env:
        container["env"] = env
    if env_from:
        container["envFrom"] = env_from
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {"template": {"spec": {"containers": [container], "restartPolicy": "Never"}}},
    }
    if deadline is not None:
        job["spec"]["activeDeadlineSeconds"] = deadline
    experiment = Experiment(
        metadata=ObjectMeta(name=name, namespace=namespace),
        spec=ExperimentSpec(
            parameters=params,
            objective=ObjectiveSpec(
                type=objective_type, goal=goal, objective_metric_name=metric_name, additional_metric_names=additional,
            ),
            algorithm=AlgorithmSpec(
                algorithm_name=algorithm,
                algorithm_settings=[NameValue(name=str(k), value=str(v)) for k, v in (algorithm_settings or {}).items()],
            ),
            trial_template=TrialTemplate(
                retain=retain_trials,
                primary_container_name=PRIMARY_CONTAINER,
                trial_parameters=[TrialParameterSpec(name=p.name, reference=p.name) for p in params],
                trial_spec=job,
            ),
            parallel_trial_count=parallel_trial_count,
            max_trial_count=max_trial_count,
            max_failed_trial_count=max_failed_trial_count,
            metrics_collector_spec=MetricsCollectorSpec(collector=CollectorSpec(kind=metrics_collector)),
        ),
    )
    return load_experiment(experiment)


# --- submitting and waiting ----------------------------------------------------------------------


def no_trial_succeeded(result: Any, katib_client: bool = False) -> str:
    """What ``tune()`` warns of when trials failed and none succeeded ("" otherwise): Katib's
    rules end such an experiment Succeeded (maxTrialCount reached) when maxFailedTrialCount is
    not set, and an objective that raises every time should not pass unseen. ``result``: a
    TuneResult (``kfp_tune.api``, which imports this module, so it is not named here).
    ``katib_client``: said to a ``KatibClient.tune`` caller, in its client's words (the prefix
    its other messages have, and Katib's ``get_job_logs`` for the output)."""
    failed = [t for t in result.trials if t.status in FAILED_STATUSES]
    if not failed or any(t.status == TrialStatus.SUCCEEDED for t in result.trials):
        return ""
    last = failed[-1]
    if katib_client:
        caller, output = "KatibClient.tune:", f"get_job_logs({result.experiment!r}, {last.name!r}) on this KatibClient"
    else:
        caller, output = "tune():", f"kfp_tune.Client({result.store!r}).get_trial_logs(({result.experiment!r}, {last.name!r}))"
    return (
        f"{caller} none of the {len(result.trials)} trials succeeded; the last failed trial, {last.name}, "
        f"ended with {last.message or last.status}; its output: {output}"
    )


def _run_state(run: Any) -> str:
    """A KFP run's state in capitals ('' when it has none)."""
    return str(getattr(run, "state", "") or "").upper()


@dataclass(frozen=True)
class RemoteTuning:
    """A function's tuning run on a KFP host: ``run_id`` and ``url`` (the run in the KFP UI);
    :meth:`wait` for the result, :meth:`result` to read it as it stands."""

    experiment: str
    run_id: str
    url: str
    kfp_experiment_id: str
    store: str
    client: Any = field(repr=False, compare=False, default=None)
    host: str | None = None
    reader: Callable[..., Any] | None = field(repr=False, compare=False, default=None)
    """(store URI, experiment name) -> TuneResult: ``kfp_tune.api`` gives its own reader."""

    def wait(self, timeout: float = 24 * 3600, poll_seconds: float = 10.0) -> Any:
        """Wait (at most ``timeout`` seconds) for the KFP run to end, then the TuneResult read
        from the store, as ``tune()`` gives it (an experiment that ended Failed too, whose run
        KFP shows failed). TimeoutError when it runs on; KfpTuneError when the run did not
        succeed for another reason or the store cannot be read from here."""
        from kfp_tune.pipelines.submit import kfp_api_errors

        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise _refuse("timeout", f"expected seconds greater than 0, got {shown(timeout)}")
        if isinstance(poll_seconds, bool) or not isinstance(poll_seconds, (int, float)) or not 0 < poll_seconds < math.inf:
            # else kfp's wait fails on it and the failure reads as the host's ("could not be reached: ValueError: sleep length ...")
            raise _refuse("poll_seconds", f"expected a finite number of seconds greater than 0, got {shown(poll_seconds)}")
        run = None
        with kfp_api_errors(self.host), contextlib.suppress(TimeoutError):  # said below, not as a KFP error
            # Looked at once first: kfp's wait checks the time before the state, so a run that has
            # already ended would read as timed out when that first request is slow.
            run = self.client.get_run(self.run_id)
            if _run_state(run) not in FINISHED_RUN_STATES:
                run = None  # stays None if the wait below times out
                run = self.client.wait_for_run_completion(self.run_id, timeout=timeout, sleep_duration=poll_seconds)
        if run is None:
            raise TimeoutError(f"run {self.run_id} of experiment {self.experiment!r} is still running after {timeout:g} s: {self.url}")
        state = _run_state(run)
        if state == "FAILED":  # the run fails when its experiment ended Failed: that is a result, as tune()'s
            failed = self._experiment_failed()
            if failed is not None:
                return failed
        if state != "SUCCEEDED":
            raise KfpTuneError(f"run {self.run_id} of experiment {self.experiment!r} ended {state or 'without a state'}: see {self.url}")
        result = self.result()
        warning = no_trial_succeeded(result)
        if warning:
            warnings.warn(f"{warning}; the run: {self.url}", stacklevel=2)
        return result

    def _experiment_failed(self) -> Any:
        """The TuneResult of a run that failed because its experiment ended Failed (its last step
        fails the run then, after writing everything: 36d7cf6), as ``tune()`` returns it; None
        when the store says otherwise or cannot be read (the run itself failed)."""
        if self.reader is None:
            return None
        try:  # a look, not the store's retry window: the run failed, and the store may be why
            result = self.reader(self.store, self.experiment, retry_seconds=FAILED_RUN_LOOK_SECONDS)
        except (TypeError, KfpTuneError, StoreError):  # TypeError: a reader of one's own, without retry_seconds
            return None
        return result if getattr(result, "status", None) == "Failed" else None

    def result(self) -> Any:
        """The TuneResult as the store holds it now (``status`` Running while the run goes on)."""
        if self.reader is None:
            raise KfpTuneError("this handle was made without a result reader; use kfp_tune.submit_function or tune(host=)")
        try:
            return self.reader(self.store, self.experiment)
        except ExperimentNotFound:
            raise KfpTuneError(f"experiment {self.experiment!r} has no records in {self.store} yet (the run never started it?): see {self.url}") from None
        except StoreError as exc:
            raise KfpTuneError(
                f"the records of experiment {self.experiment!r} are in {self.store}, which cannot be read from here: {exc}. "
                "Set the store's endpoint and credentials in this environment (KFP_TUNE_S3_ENDPOINT, AWS_ACCESS_KEY_ID, "
                f"AWS_SECRET_ACCESS_KEY), or look at the run in the KFP UI: {self.url}"
            ) from None


FAILED_RUN_LOOK_SECONDS = 5.0
"""How long ``wait()`` waits for the store to tell whether a FAILED run's experiment ended Failed."""

_CLIENT_METHODS = ("create_run_from_pipeline_package", "get_run", "wait_for_run_completion")
"""What the handle calls on a ``client=``: kfp.Client's methods."""


def is_kfp_client(client: Any) -> bool:
    """Whether ``client`` has the kfp.Client methods the handle calls (:data:`_CLIENT_METHODS`)."""
    return not isinstance(client, str) and all(callable(getattr(client, method, None)) for method in _CLIENT_METHODS)


def _refuse_call(argument: str, message: str) -> RemoteArgumentError:
    """A ``tune(host=)`` / ``submit_function`` argument refused, worded as the call's other arguments are."""
    return RemoteArgumentError(f"tune(): {argument}: {message}")


def check_submission(
    host: Any = None,
    client: Any = None,
    store: Any = None,
    kfp_experiment: Any = None,
    run_name: Any = None,
    object_store: Any = None,
    service_account: Any = None,
    namespace: str | None = None,
) -> str:
    """The store URI the run will keep its records in, once every argument of the submission is
    known to be usable; RemoteArgumentError naming the first one that is not. Makes no request:
    kfp.Client asks the host's health as it is made, so nothing is checked after that. With no
    store, a run sent to ``namespace`` keeps them where multi-user KFP lets that namespace write
    (``pipelines.submit.cluster_store_default``), as ``kfp-tune submit --namespace`` does."""
    from kfp_tune.pipelines.builder import OBJECT_STORES, ObjectStore, cluster_store_problem
    from kfp_tune.pipelines.submit import TOKEN_HINT, check_host, cluster_store_default
    from kfp_tune.stores import check_store_uri

    example = "e.g. http://ml-pipeline-ui.kubeflow"
    if host is not None:
        if not isinstance(host, str) or not host.strip() or host.strip() != host:
            raise _refuse_call("host", f"expected the KFP API's URL, {example}, got {shown(masked_url(host) if isinstance(host, str) else host)}")
        try:
            check_host(host)  # credentials, a query, no http:// or https:// (at "host HOST", the host masked)
        except SpecError as exc:
            raise _refuse_call("host", "; ".join(f"{e.path.removeprefix('host').strip()}: {e.message}".removeprefix(": ") for e in exc.errors)) from None
    if client is not None:
        if isinstance(client, str):
            raise _refuse_call("client", f"expected a kfp.Client, got the string {shown(masked_url(client))}; for the KFP API's URL "
                               f"pass host= instead, or client=kfp.Client(host=URL, ...) for your own authentication ({TOKEN_HINT})")
        missing = [m for m in _CLIENT_METHODS if not callable(getattr(client, m, None))]
        if missing:
            raise _refuse_call("client", f"expected a kfp.Client, such as kfp.Client(host=URL), got {type(client).__name__} (it has no {missing[0]})")
    store_uri = cluster_store_default(namespace) if store is None else str(store)
    if cluster_store_problem(store_uri):
        raise _refuse_call("store", cluster_store_problem(store_uri))
    try:
        check_store_uri(store_uri)
    except KfpTuneError as exc:
        raise _refuse_call("store", str(exc)) from None
    for argument, value in (("kfp_experiment", kfp_experiment), ("run_name", run_name)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise _refuse_call(argument, f"expected a non-empty string or None, got {shown(value)}")
    if object_store is not None and not isinstance(object_store, ObjectStore) and object_store not in OBJECT_STORES:
        raise _refuse_call("object_store", f"expected one of {', '.join(repr(n) for n in sorted(OBJECT_STORES))} (KFP's object store: "
                           f"seaweedfs from KFP 2.16, minio before) or None, got {shown(object_store)}")
    if service_account is not None and not is_dns_subdomain(service_account):
        raise _refuse_call("service_account", "expected a Kubernetes service account name (a DNS-1123 subdomain: lower-case letters, "
                           f"digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters), got {shown(service_account)}")
    return store_uri


def submit_experiment(
    experiment: Experiment,
    host: str | None = None,
    namespace: str | None = None,
    store: str | None = None,
    kfp_experiment: str | None = None,
    run_name: str | None = None,
    object_store: str | None = None,
    service_account: str | None = None,
    client: Any = None,
    reader: Callable[[str, str], Any] | None = None,
) -> RemoteTuning:
    """Start the experiment's pipeline with :func:`kfp_tune.pipelines.submit.submit`; its trials
    run as Jobs in ``namespace`` (default: the run's own). Every argument is checked
    (:func:`check_submission`) before the first request. ``reader``: how the handle reads the
    result (see :class:`RemoteTuning`). A Push experiment's trials get the object store's Secret
    (the launcher config's ``storeSecret``), as its steps do: they write their reports to the
    store themselves."""
    import json

    from kfp_tune.launchers import runtime_image
    from kfp_tune.pipelines.builder import resolve_object_store
    from kfp_tune.pipelines.submit import DEFAULT_OBJECT_STORE, kfp_api_client, kfp_api_errors
    from kfp_tune.pipelines.submit import submit as submit_pipeline

    store_uri = check_submission(host, client, store, kfp_experiment, run_name, object_store, service_account, namespace)
    runtime_image.refuse_unpublished_image([runtime_image.RUNTIME_IMAGE])  # before kfp.Client asks the host's health: the image is told first
    launcher: dict[str, Any] = {"kind": "kubernetes", "namespace": namespace} if namespace else {}
    secret = resolve_object_store(object_store or DEFAULT_OBJECT_STORE).secret
    if experiment.spec.collector_kind == CollectorKind.PUSH and secret:
        launcher = {"kind": "kubernetes", **launcher, "storeSecret": secret}
    arguments = {"launcher_config": json.dumps(launcher, sort_keys=True)} if launcher else {}
    with kfp_api_errors(host):
        kfp_client = kfp_api_client(host, namespace, client)
    submitted = submit_pipeline(
        experiment, host=host, namespace=namespace, kfp_experiment=kfp_experiment, run_name=run_name, arguments=arguments,
        store_uri=store_uri, object_store=object_store or DEFAULT_OBJECT_STORE, service_account=service_account, client=kfp_client,
    )
    return RemoteTuning(experiment.name, submitted.id, submitted.url, submitted.kfp_experiment_id, store_uri, kfp_client, host, reader)


__all__ = [
    "BASE_IMAGE", "FUNCTION_COLLECTORS", "PRIMARY_CONTAINER", "RemoteArgumentError", "RemoteTuning", "check_submission", "function_job_experiment",
    "no_trial_succeeded", "submit_experiment", "trial_script",
]
