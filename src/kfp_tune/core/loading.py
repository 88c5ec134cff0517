"""Reading an experiment: a Katib YAML file, YAML text, a dict or a model, parsed, given
Katib's defaults and validated, with every problem reported at once.

YAML is read the way kubectl reads it, with bounds, so no file can make a command hang or run
out of memory: at most :data:`MAX_DOCUMENT_BYTES`, :data:`~.yaml_bounds.MAX_NODES` nodes once aliases are
expanded (a 1 KB alias chain, "billion laughs", stands for billions), :data:`~.yaml_bounds.MAX_DEPTH` levels;
a key given twice in one mapping is refused (kubectl: ``key "x" already set in map``), and so
are values JSON cannot carry (``.nan``, ``.inf``, ``!!binary``, ``!!set``), since Kubernetes
turns YAML into JSON before anything reads it. A plain (unquoted) scalar means what it means to
kubectl's go-yaml v2 (:func:`~kfp_tune.core.template.go_yaml_scalar`), not PyYAML's YAML 1.1:
``1e-3`` is a number, ``1:20`` and ``2024-01-01`` are text.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel
from yaml.nodes import MappingNode, Node, ScalarNode

from kfp_tune.core.errors import SHOWN_LIMIT, FieldError, SpecError, clipped, shown
from kfp_tune.core.spec import Experiment, apply_katib_defaults, parse_experiment, require_mapping
from kfp_tune.core.template import GO_RESOLVED_TAGS, TRIAL_PARAMETER, TYPED_PREFIX, go_yaml_scalar, go_yaml_tagged, json_numbers
from kfp_tune.core.validation import validate_experiment, yaml_type_name
from kfp_tune.core.yaml_bounds import BASE_LOADER, bounded_file_bytes, check_yaml_shape, file_error, yaml_problem

MAX_DOCUMENT_BYTES = 3 * 1024 * 1024
"""The Kubernetes API server's limit on a request body: kubectl cannot create a larger object."""
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_GO_PLAIN_TAG = "tag:kfp-tune,2026:go-yaml-plain"
"""The tag :meth:`_KubeLoader.resolve` gives a plain scalar go-yaml v2 reads as a number, a
boolean or null; its constructor reads it as go-yaml does."""


def load_experiment(source: str | Path | dict[str, Any] | Experiment | Any) -> Experiment:
    """Load, default and validate an experiment from a YAML file path, YAML text, a dict, a
    model, or a model of Katib's SDK (``kubeflow.katib.V1beta1Experiment``: see
    :func:`read_experiment_source`).

    Returns the defaulted Experiment; raises SpecError with every problem found, TypeError for
    a source of another type."""
    document = read_experiment_source(source)
    _refuse_python_names(document, from_dict=isinstance(source, dict))
    experiment = parse_experiment(document)
    parallel_given = experiment.spec.parallel_trial_count is not None
    experiment = apply_katib_defaults(experiment)
    template = experiment.spec.trial_template
    if template is not None and template.trial_spec is not None:
        # as Kubernetes creates the trial: `backoffLimit: 1.0` reaches it as Go's float64(1), which
        # its JSON writes `1`; sent as 1.0 the API server refuses it for an int32 field
        template.trial_spec = json_numbers(template.trial_spec)
    errors = validate_experiment(experiment)
    if errors:
        raise SpecError(errors if parallel_given else [_defaulted_parallel(error) for error in errors])
    return experiment


def status_not_carried(experiment: Experiment) -> str:
    """What to tell a migrator whose export's ``status:`` holds trials (``status.trials`` above 0,
    or a ``currentOptimalTrial``): that it is not carried over, what is taken, and what to do
    about the trials already done; "" for no status or one without trials. Katib's API server
    drops ``status`` on create too (the CRD's status subresource), so a new cluster also starts
    from none; said because a run of the export reads as a continuation otherwise."""
    status = experiment.status
    if not isinstance(status, dict):
        return ""
    trials = status.get("trials")
    trials = trials if isinstance(trials, int) and not isinstance(trials, bool) and trials > 0 else 0
    optimal = status.get("currentOptimalTrial")
    best = optimal.get("bestTrialName") if isinstance(optimal, dict) else None
    best = best if isinstance(best, str) and best else ""
    if not trials and not best:
        return ""
    counts = [f"{status[key]} {word}" for key, word in (("trialsSucceeded", "succeeded"), ("trialsFailed", "failed"), ("trialsRunning", "running"),
                                                        ("trialsKilled", "killed"), ("trialsEarlyStopped", "early stopped"))
              if isinstance(status.get(key), int) and status[key] > 0]
    told = ", ".join(part for part in (f"{trials} trial{'s' if trials != 1 else ''}" if trials else "", ", ".join(counts)) if part)
    told = told.replace(" trials, ", " trials: ", 1) if trials and counts else told
    told = "; ".join(part for part in (told, f"best trial {best}" if best else "") if part)
    budget = experiment.spec.max_trial_count
    return (
        f"experiment {experiment.name!r}: its status from Katib ({told}) is not carried over: this runs a new experiment"
        f"{f' of maxTrialCount {budget}' if budget is not None else ''}, from no trials, as a new cluster's Katib would (its API server "
        "drops status on create). Its spec, name, namespace, labels and annotations are taken; Katib's trials, their metrics and "
        "its best trial are not, and cannot be imported. To count the trials already done, lower spec.maxTrialCount by them; keep the "
        "export for their record"
    )


def _refuse_python_names(document: Any, from_dict: bool) -> None:
    """Katib's field names, one way throughout: kfp-tune's models also take their Python names
    (``max_trial_count``) when built in Python, but a document (YAML, text, a dict) is read by
    Katib's JSON names only, as Katib's Go types decode it, case-sensitively: there
    ``max_trial_count`` is an unknown field kept and never read (its CRD preserves unknown
    fields), and the experiment has no maxTrialCount. Refused as unknown, naming Katib's name,
    with every such field at once. Found by walking the document against the models, so a model
    that keeps extra keys (``metricsCollectorSpec.source``) refuses them too, and with no
    keyword of one pydantic version. ``from_dict``: a Katib SDK model's ``to_dict()`` (or
    kfp-tune's ``model_dump()``) writes Python names at every level, so the refusal says what to
    pass instead."""
    found: list[tuple[str, str, str]] = []
    _python_names_in(document, Experiment, "", found)
    if not found:
        return
    problems: list[FieldError] = []
    for path, key, katib_name in found:
        hint = ("; a Katib SDK model's to_dict() and kfp-tune's Experiment.model_dump() write these names: pass the model itself "
                "(a V1beta1Experiment is read by Katib's names), or kfp-tune's Experiment.to_dict()" if from_dict and not problems else "")
        problems.append(FieldError(path, f"unknown field (Katib's v1beta1 Experiment names it {katib_name}, and Katib's Go types "
                                         f"never read {key}, so on Katib it is not set); did you mean {katib_name}?{hint}"))
    try:
        parse_experiment(document)  # every other problem of the document with them, as one refusal
    except SpecError as other:
        problems += [e for e in other.errors if e.path not in {p.path for p in problems}]
    raise SpecError(problems)


def _python_names_in(tree: Any, model: type[BaseModel], path: str, found: list[tuple[str, str, str]]) -> None:
    """Appends (path, key, Katib's name) for each key of ``tree`` that is the Python name of one
    of ``model``'s fields and not its Katib name, walking into the fields that hold models."""
    if not isinstance(tree, dict):
        return
    by_katib_name = {field.alias or name: field for name, field in model.model_fields.items()}
    for key, value in tree.items():
        if not isinstance(key, str):
            continue
        where = f"{path}.{key}" if path else key
        field = by_katib_name.get(key)
        if field is None:
            named = model.model_fields.get(key)
            if named is not None and named.alias and named.alias != key:
                found.append((where, key, named.alias))
            continue
        inner = _model_of(field.annotation)
        if inner is None:
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                _python_names_in(item, inner, f"{where}[{index}]", found)
        else:
            _python_names_in(value, inner, where, found)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The one model class an annotation holds (``X``, ``X | None``, ``list[X]``), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    models = {model for argument in typing.get_args(annotation) if (model := _model_of(argument)) is not None}
    return models.pop() if len(models) == 1 else None


def _defaulted_parallel(error: FieldError) -> FieldError:
    """A refusal of ``spec.parallelTrialCount`` the user never wrote (``maxTrialCount: 2`` alone:
    Katib's default 3 is more, and Katib's webhook refuses it too) says where its value came from."""
    if error.path != "spec.parallelTrialCount":
        return error
    return FieldError(error.path, f"{error.message}, Katib's default when it is not given: set it")


def model_document(experiment: Experiment) -> dict[str, Any]:
    """An Experiment model as the document it stands for, its values as they are, for
    :func:`parse_experiment` to check as it checks a dict: a model built or edited in Python
    (``exp.spec.max_trial_count = "3"``, ``model_copy(update=...)``) skips the models' checks,
    and Katib refuses such an object when it decodes it into its Go types (``MaxTrialCount
    *int32``, ``Retain bool``: experiment_types.go, ``ExperimentSpec`` and ``TrialTemplate``;
    ``Goal *float64``: common_types.go, ``ObjectiveSpec``). Not :meth:`Experiment.to_dict`: its
    JSON form cannot hold every value a user may set and leaves out a None the dict path would
    refuse. ``status`` (left out of every dump) is put back, as a document from ``kubectl get``
    has it."""
    document = experiment.model_dump(by_alias=True, warnings=False)
    if experiment.status is not None:
        document["status"] = experiment.status
    return document


def read_experiment_source(source: str | Path | dict[str, Any] | Any) -> Any:
    """The parsed (not yet validated) document of a YAML path, YAML text, a dict, or a model
    with ``to_dict()``: one of Katib's SDK (generated from its OpenAPI spec: ``openapi_types``
    and ``attribute_map``) is read as Katib's ``ApiClient.sanitize_for_serialization`` sends it
    to the API server, unset fields left out and each named by its JSON name
    (``max_trial_count`` is ``maxTrialCount``); another model's ``to_dict()`` must give the
    document. A str is a file's path when it is one line naming a file (any suffix; a line break
    at its end, as ``$(...)`` or a line read from a file may leave, is dropped); one line YAML
    reads as bare text and naming no file is a mistyped path: SpecError "no such experiment
    file". A YAML file or text whose top level is not a mapping is the user's error: SpecError
    at ``(root)``. TypeError for a source of any other type, naming it."""
    if isinstance(source, dict):
        return refuse_other_kinds(_nested_models_as_json(source, {}, set()), from_file=False)
    if isinstance(source, Experiment):
        return model_document(source)
    is_file = isinstance(source, Path) or (isinstance(source, str) and _names_a_file(source))
    if is_file:
        text = _read_file(Path(source) if isinstance(source, Path) else Path(_one_line(source)))
    elif not isinstance(source, (str, Path)):  # (a Path is always a file, above)
        if not callable(getattr(source, "to_dict", None)):
            raise TypeError(
                f"expected an experiment as a YAML file path, YAML text, a dict or a model with to_dict() "
                f"(kubeflow.katib's V1beta1Experiment), got {type(source).__name__}"
            )
        document = openapi_document(source) if _is_openapi_model(source) else source.to_dict()
        if not isinstance(document, dict):
            raise TypeError(f"{type(source).__name__}.to_dict() gave {type(document).__name__}; expected the experiment as a dict")
        return document
    else:
        text = str(source)
        if len(text.encode("utf-8", errors="replace")) > MAX_DOCUMENT_BYTES:
            raise file_error(f"the YAML text is larger than {MAX_DOCUMENT_BYTES:,} bytes (Kubernetes' request limit)")
    parsed = parse_yaml(text, from_file=is_file)
    if not is_file and isinstance(parsed, str) and _is_one_line(_one_line(text)):
        raise file_error(f"no such experiment file: {clipped(_one_line(text), SHOWN_LIMIT)}")  # YAML reads it as bare text: a path, mistyped
    if is_file and not isinstance(parsed, dict):  # `42` or `- a` in a file: said of the file, which the message names
        raise file_error(f"expected a mapping (a Katib Experiment), got {yaml_type_name(parsed)}")
    document = refuse_other_kinds(require_mapping(parsed), from_file=is_file)  # the same in YAML text: the user's document, not a caller's type
    spec = document.get("spec")
    template = spec.get("trialTemplate") if isinstance(spec, dict) else None
    if isinstance(template, dict) and (internal := _internal_placeholders(template.get("trialSpec"), "spec.trialTemplate.trialSpec")):
        raise SpecError(internal)
    missing = [FieldError(key, "required (kubectl refuses a manifest without it)") for key in ("apiVersion", "kind") if document.get(key) is None]  # `kind: ~` too
    if missing and is_file:  # YAML text, a dict or a model from Python may leave them out: they can only be Katib's
        raise SpecError(missing)
    return document


EXPERIMENT_API_GROUP = "kubeflow.org/"
"""The API group of Katib's kinds (``kubeflow.org/v1beta1``), and of the Training Operator's."""
EXPERIMENT_SPEC_FIELDS = frozenset({"objective", "algorithm", "parameters", "trialTemplate", "maxTrialCount", "parallelTrialCount", "nasConfig"})
"""Fields of an Experiment's spec: a document of another kind that has one is an Experiment with
its kind mistyped, refused field by field, not as another kind."""


def _called(document: dict[str, Any]) -> str:
    """A document's name, quoted, in parentheses ("" without one)."""
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f" ({shown(name)})" if isinstance(name, str) and name else ""


def _item_called(item: Any) -> str:
    """A List's item as its reader knows it: kind, name and namespace."""
    called = _document_called(item)
    metadata = item.get("metadata") if isinstance(item, dict) else None
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    return f"{called} in {shown(namespace)}" if isinstance(namespace, str) and namespace else called


def _owning_experiment(document: dict[str, Any]) -> tuple[str, str] | None:
    """(name, namespace) of the Experiment a Katib Trial or Suggestion belongs to, from Katib's
    label or its owner reference; None where neither says."""
    metadata = document.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    labels = metadata.get("labels")
    name = labels.get("katib.kubeflow.org/experiment") if isinstance(labels, dict) else None
    owners = metadata.get("ownerReferences")
    owners = owners if isinstance(owners, list) else []
    name = name or next((o.get("name") for o in owners if isinstance(o, dict) and o.get("kind") == "Experiment"), None)
    namespace = metadata.get("namespace")
    return (name, namespace if isinstance(namespace, str) and namespace else "NAMESPACE") if isinstance(name, str) and name else None


def refuse_other_kinds(document: dict[str, Any], from_file: bool) -> dict[str, Any]:
    """``document`` when it may be an Experiment; else SpecError at the whole file saying what it
    is and what is expected, not field by field: a ``kind: List`` (``kubectl get experiments
    -A -o yaml``, or ``-n NS`` even with one item) named item by item as a multi-document file
    is, a Katib Trial or Suggestion, a ConfigMap (a trial template's, given with
    ``--trial-templates``) or any other kind without an Experiment's spec. A document of another
    kind with an Experiment's spec fields is taken as an Experiment whose kind is mistyped, and
    left to its field errors. ``from_file``: the advice says what to do with the file (else
    with what a caller passed)."""
    kind = document.get("kind")
    if not isinstance(kind, str) or kind == "Experiment":
        return document
    api_version = document.get("apiVersion")
    items = document.get("items")
    if kind.endswith("List") and isinstance(items, list):
        if not items:
            raise file_error(f"an empty kind: {kind} (kubectl get found nothing): expected one Katib Experiment")
        named = ", ".join(_item_called(item) for item in items[:NAMED_DOCUMENTS])
        more = f" and {len(items) - NAMED_DOCUMENTS} more" if len(items) > NAMED_DOCUMENTS else ""
        advice = ("kfp-tune takes one Experiment per file: save each on its own (kubectl get experiment NAME -n NAMESPACE -o yaml > "
                  "NAME.yaml) and give each file to validate, run or submit" if from_file else
                  "pass one Experiment, an item of the list (document['items'][0])")
        raise file_error(
            f"a kind: {kind} of {len(items)} item{'s' if len(items) != 1 else ''} (what kubectl get -o yaml prints for several objects, "
            f"or for -n NAMESPACE even with one): {named}{more}; {advice}; two of one name in two namespaces are two experiments, "
            "and a store keeps one per name: give one another name (kfp-tune run --name NEW) or a store of its own (--store)"
        )
    spec = document.get("spec")
    katib = isinstance(api_version, str) and api_version.startswith(EXPERIMENT_API_GROUP)
    if katib and kind in ("Trial", "Suggestion"):
        owner = _owning_experiment(document)
        get = (f"kubectl get experiment {owner[0]} -n {owner[1]} -o yaml" if owner else "kubectl get experiment NAME -n NAMESPACE -o yaml")
        what = ("a Trial is one run of an Experiment's trialTemplate, which kfp-tune makes itself" if kind == "Trial" else
                "kfp-tune has no Suggestion objects (the algorithm runs in the pipeline's suggest step)")
        raise file_error(f"a Katib {kind}{_called(document)}, not an Experiment: {what}; give the Experiment it belongs to ({get})")
    if kind == "ConfigMap":
        where = ("give it with --trial-templates beside the Experiment's file (kfp-tune validate EXPERIMENT.yaml --trial-templates "
                 "THIS.yaml; run, submit and compile take it too)" if from_file else "give it as the trial templates (--trial-templates)")
        raise file_error(f"a ConfigMap{_called(document)}, not an Experiment: a trial-template ConfigMap is read beside the Experiment "
                         f"that names it in spec.trialTemplate.configMap: {where}")
    if isinstance(spec, dict) and EXPERIMENT_SPEC_FIELDS & set(spec):
        return document  # an Experiment with its kind mistyped: its field errors say so
    version = f" ({api_version})" if isinstance(api_version, str) and api_version else ""
    raise file_error(
        f"a {kind}{version}{_called(document)}, not a Katib Experiment: expected apiVersion kubeflow.org/v1beta1 and kind Experiment "
        "(a trial's Job or training job goes under the Experiment's spec.trialTemplate.trialSpec)"
    )


INTERNAL_PLACEHOLDER = re.compile(re.escape(TYPED_PREFIX) + r"[^}\n]*\}?")
"""kfp-tune's own form of a ConfigMap template's whole unquoted placeholder (``core.template``),
which no user's document may hold. Only that form: a shell's ``${yaml:-default}`` or
``${yaml:+set}`` (a variable named yaml) is the trial's own, left as written, as Katib leaves it."""


def _internal_placeholder_problem(found: str) -> str:
    name = found.removeprefix(TYPED_PREFIX).rstrip("}")
    return (
        f"{shown(found)} is not a Katib placeholder (Katib leaves it as written, and refuses the experiment when it is "
        f"the only use of the parameter); kfp-tune keeps this form for itself: write ${{trialParameters.{name}}}"
    )


def _internal_placeholders(tree: Any, path: str) -> list[FieldError]:
    """Where a YAML document's inline ``trialSpec`` holds a ``${yaml:...}`` (in a value or a key),
    read as kfp-tune's typed placeholder were it let through: Katib's is ``${trialParameters.x}``
    only. Not checked in a dict or a model: kfp-tune's stored experiments pass them with a
    template read from a ConfigMap."""
    found: list[FieldError] = []
    if isinstance(tree, str) and (match := INTERNAL_PLACEHOLDER.search(tree)):
        found.append(FieldError(path, _internal_placeholder_problem(match.group())))
    elif isinstance(tree, dict):
        for key, value in tree.items():
            if match := INTERNAL_PLACEHOLDER.search(str(key)):
                found.append(FieldError(f"{path}.{key}", f"the key: {_internal_placeholder_problem(match.group())}"))
            found.extend(_internal_placeholders(value, f"{path}.{key}"))
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            found.extend(_internal_placeholders(item, f"{path}[{index}]"))
    return found


def _is_one_line(text: str) -> bool:
    return "\n" not in text and "\r" not in text


def _one_line(text: str) -> str:
    """``text`` without one line break at its end: ``exp.yaml`` and a newline names ``exp.yaml``."""
    return text.removesuffix("\n").removesuffix("\r")


def _names_a_file(text: str) -> bool:
    """Whether a str given as the experiment is a file's name rather than YAML text: one line
    that names something on disk, whatever its suffix or case (``EXP.YAML``, ``experiment``,
    ``exp.yaml.bak``), as the CLI takes it. Any other one-line text is read as YAML: a flow
    mapping (``{apiVersion: ...}``) is the experiment, bare text a missing file's name."""
    line = _one_line(text)
    if not _is_one_line(line) or not line.strip():  # Path("") is the current folder
        return False
    try:
        return Path(line).exists()
    except (OSError, ValueError):  # a name too long for the system, a NUL byte: not a file's name
        return False


def _is_openapi_model(value: Any) -> bool:
    """A model generated by OpenAPI Generator (Katib's SDK, the Kubernetes client): its
    attributes listed in ``openapi_types``, their JSON names in ``attribute_map``."""
    return isinstance(getattr(value, "openapi_types", None), dict) and isinstance(getattr(value, "attribute_map", None), dict)


def openapi_document(value: Any) -> Any:
    """An OpenAPI-generated model (and what it holds) as the JSON document its client sends:
    unset (None) fields left out, each field under its JSON name, dates as ISO 8601 text
    (Katib's ``api_client.py``, ``sanitize_for_serialization``)."""
    if _is_openapi_model(value):
        return {value.attribute_map[name]: openapi_document(getattr(value, name)) for name in value.openapi_types if getattr(value, name, None) is not None}
    if isinstance(value, dict):
        return {key: openapi_document(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [openapi_document(item) for item in value]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return value


def _nested_models_as_json(value: Any, done: dict[int, Any], open_ids: set[int]) -> Any:
    """``value`` with each OpenAPI-generated model inside it (a Katib SDK model appended to a list
    of an experiment read back, a dict experiment built with some) as its JSON document
    (:func:`openapi_document`), as Katib's client sends such a mixed object
    (``sanitize_for_serialization``); ``value`` itself, not a copy, where it holds none, and a
    plain dict or list in place of one that held some: a list for a tuple (JSON has no other
    sequence), a dict for any other mapping. Each model or container is read once (``done``:
    by id, what it became), so one held twice stays one, and a container that holds itself
    (``open_ids``: those being read) is left as it is."""
    if id(value) in done:
        return done[id(value)]
    if _is_openapi_model(value):
        result: Any = openapi_document(value)
    elif not isinstance(value, (Mapping, list, tuple)) or id(value) in open_ids:
        return value
    else:
        open_ids.add(id(value))
        try:
            if isinstance(value, Mapping):
                items = {key: _nested_models_as_json(item, done, open_ids) for key, item in value.items()}
                result = items if any(items[key] is not item for key, item in value.items()) else value
            else:
                listed = [_nested_models_as_json(item, done, open_ids) for item in value]
                result = listed if any(new is not old for new, old in zip(listed, value, strict=True)) else value
        finally:
            open_ids.discard(id(value))
    done[id(value)] = result
    return result


def _read_file(path: Path) -> str:
    """The file's text, by the one bounded read (:func:`~.yaml_bounds.bounded_file_bytes`): a
    larger file than the size limit is refused by its size unread, and no more than the limit
    + 1 bytes are ever read (a device or a huge file cannot stall the read); decoded as UTF-8."""
    try:
        if path.exists() and not path.is_file():
            raise file_error(f"{path} is not a regular file")
        data = bounded_file_bytes(path, MAX_DOCUMENT_BYTES)
    except OSError as exc:
        raise file_error(f"cannot read {path}: {exc.strerror or exc}") from None
    if data is None:
        raise file_error(f"{path} is larger than {MAX_DOCUMENT_BYTES:,} bytes (Kubernetes' request limit); an experiment is a few KB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise file_error(f"{path} is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})") from None


NAMED_DOCUMENTS = 5
"""The documents of a multi-document file a refusal names; the rest are counted."""


def parse_yaml(text: str, from_file: bool = True) -> Any:
    """The one document in ``text``, read as kubectl reads it with the bounds above; SpecError
    naming the line of the first problem. ``from_file``: the text is a file's (the refusal of
    several documents says what to do with the file; else with the text a caller passed)."""
    documents = parse_yaml_documents(text)
    if not documents:
        raise file_error("expected exactly one YAML document, found 0")
    if len(documents) > 1:  # often a ConfigMap and its Experiment, as kubectl apply -f takes them
        named = ", ".join(_document_called(d) for d in documents[:NAMED_DOCUMENTS])
        more = f" and {len(documents) - NAMED_DOCUMENTS} more" if len(documents) > NAMED_DOCUMENTS else ""
        advice = (
            "put each Experiment in a file of its own, and a trial-template ConfigMap in its own file, given with --trial-templates"
            if from_file else "pass one Experiment per YAML text (a trial-template ConfigMap is read from its own file: kfp-tune run --trial-templates)"
        )
        raise file_error(
            f"expected exactly one YAML document (one Experiment per {'file' if from_file else 'text'}), found {len(documents)}: {named}{more}; {advice}"
        )
    return documents[0]


def _document_called(document: Any) -> str:
    """A document of a multi-document file as its reader knows it: kind and name."""
    if not isinstance(document, dict):
        return yaml_type_name(document)
    kind = document.get("kind")
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(kind, str) or not kind:
        return "a mapping without a kind"
    return f"{kind} {shown(name)}" if isinstance(name, str) and name else f"{kind} without a name"


def parse_yaml_documents(text: str) -> list[Any]:
    """Every (non-empty) document in ``text``, read as kubectl reads it with the bounds above;
    SpecError naming the line of the first problem."""
    check_yaml_shape(text)
    try:
        return [d for d in yaml.load_all(text, Loader=_KubeLoader) if d is not None]
    except yaml.YAMLError as exc:
        raise file_error(f"not valid YAML: {yaml_problem(exc, text)}") from None


def parse_template_documents(text: str) -> list[Any]:
    """The documents of a trial template kept as YAML text (a ConfigMap's), read as Katib reads
    it: Katib substitutes the placeholders in the text first, so a placeholder may stand where
    YAML would not take ``${...}`` (``args: [--lr=${trialParameters.lr}]``), and one written as
    a whole unquoted value becomes ``${yaml:trialParameters.x}``, whose value is read as YAML
    (``core.template``). Every other placeholder stays as written; a ``${yaml:...}`` written in
    the text is refused (Katib's placeholder is ``${trialParameters.x}`` only)."""
    if match := INTERNAL_PLACEHOLDER.search(text):
        line = text.count("\n", 0, match.start()) + 1
        raise file_error(f"line {line}: {_internal_placeholder_problem(match.group())}")
    names: list[str] = []

    def token(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"{nonce}{len(names) - 1}E"

    nonce = next(f"KFPTUNEPARAM{n}X" for n in range(len(text) + 1) if f"KFPTUNEPARAM{n}X" not in text)
    tokenized = TRIAL_PARAMETER.sub(token, text)
    tokens = {f"{nonce}{i}E": name for i, name in enumerate(names)}
    loader = type("_Loader", (_TemplateLoader,), {"whole_values": {t: f"{TYPED_PREFIX}{n}}}" for t, n in tokens.items()}})
    check_yaml_shape(tokenized)
    try:
        documents = [d for d in yaml.load_all(tokenized, Loader=loader) if d is not None]
    except yaml.YAMLError as exc:
        raise file_error(f"not valid YAML: {yaml_problem(exc, tokenized)}") from None
    pattern = re.compile(re.escape(nonce) + r"(\d+)E")
    return [_untokenized(d, lambda s: pattern.sub(lambda m: f"${{trialParameters.{names[int(m.group(1))]}}}", s)) for d in documents]


def _untokenized(tree: Any, put_back: Callable[[str], str]) -> Any:
    if isinstance(tree, str):
        return put_back(tree)
    if isinstance(tree, dict):
        return {put_back(key): _untokenized(value, put_back) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_untokenized(item, put_back) for item in tree]
    return tree


def read_text_file(path: Path) -> str:
    """A file's text, read no further than the size limit of an experiment file."""
    return _read_file(path)


def _json_key(key: Any, node: Node) -> str:
    """A mapping key as Kubernetes' YAML-to-JSON conversion writes it: a string."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, (int, float)):
        return str(key)
    raise yaml.constructor.ConstructorError(None, None, f"a mapping key must be a string, got {shown(key)}", node.start_mark)


class _KubeLoader(BASE_LOADER):
    """A safe loader that reads YAML as Kubernetes does: plain scalars resolved by go-yaml v2's
    rules, string keys, no key twice in a mapping, nothing JSON cannot carry."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        """A plain scalar's tag as go-yaml v2 resolves it (PyYAML's YAML 1.1 resolvers read
        ``1e-3`` as text, ``1:20`` as 80, ``2024-01-01`` as a date, ``=`` as a tag it cannot
        build); quoted and block scalars, and explicit tags (``!!str 1e-3``), as PyYAML does."""
        if kind is ScalarNode and implicit[0] and value != "<<":  # '<<': a merge key, to both
            return _STR_TAG if isinstance(go_yaml_scalar(value), str) else _GO_PLAIN_TAG
        return str(super().resolve(kind, value, implicit))

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, MappingNode):
            raise yaml.constructor.ConstructorError(None, None, f"expected a mapping, but found {type(node).__name__}", node.start_mark)
        first_line: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # '<<' merges: keys written here may override the merged ones
            key = _json_key(self.construct_object(key_node, deep=True), key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {shown(key)} is given twice in this mapping (first on line {first_line[key]}); kubectl refuses it too", key_node.start_mark
                )
            first_line[key] = line
        self.flatten_mapping(node)  # '<<' merges: the merged pairs first, so the written ones win
        mapping: dict[str, Any] = {}  # keyed by the JSON string: 1 and true are two keys, as in Kubernetes
        for key_node, value_node in node.value:
            mapping[_json_key(self.construct_object(key_node, deep=True), key_node)] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_go_tagged(self, node: ScalarNode) -> Any:
        """A scalar tagged ``!!int``, ``!!bool``, ``!!float`` or ``!!null`` as go-yaml v2 reads it
        (:func:`go_yaml_tagged`); one that does not fit its tag is refused, naming its line."""
        try:
            return _json_number(go_yaml_tagged(node.tag, str(node.value)), node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from None

    def construct_go_plain(self, node: ScalarNode) -> Any:
        """A plain scalar go-yaml v2 reads as a number, a boolean or null, as it reads it."""
        return _json_number(go_yaml_scalar(str(node.value)), node)

    def construct_timestamp_as_text(self, node: ScalarNode) -> str:
        return str(node.value)

    def refuse_tag(self, node: Node) -> Any:
        raise yaml.constructor.ConstructorError(
            None, None, f"the YAML type {node.tag.rsplit(':', 1)[-1]!r} has no JSON form, so Kubernetes cannot read it", node.start_mark
        )


for _tag in GO_RESOLVED_TAGS:
    _KubeLoader.add_constructor(_tag, _KubeLoader.construct_go_tagged)
_KubeLoader.add_constructor(_GO_PLAIN_TAG, _KubeLoader.construct_go_plain)
_KubeLoader.add_constructor("tag:yaml.org,2002:timestamp", _KubeLoader.construct_timestamp_as_text)
for _tag in ("binary", "set", "omap", "pairs"):
    _KubeLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _KubeLoader.refuse_tag)


def _json_number(value: Any, node: ScalarNode) -> Any:
    """``value``, refused when it is a number JSON cannot carry (an infinity, NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a number JSON can carry (kubectl refuses it too); quote it to mean the text", node.start_mark
        )
    return value


class _TemplateLoader(_KubeLoader):
    """Reads a template whose placeholders were replaced by tokens: a token that is a whole
    plain (unquoted) scalar becomes its ``${yaml:...}`` placeholder."""

    whole_values: ClassVar[dict[str, str]] = {}

    def construct_yaml_str(self, node: ScalarNode) -> str:
        value = str(super().construct_yaml_str(node))
        return self.whole_values.get(value, value) if not node.style else value  # plain: None, or "" from libyaml


_TemplateLoader.add_constructor("tag:yaml.org,2002:str", _TemplateLoader.construct_yaml_str)
