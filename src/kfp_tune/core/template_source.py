"""Trial templates kept in a ConfigMap (Katib's ``trialTemplate.configMap``).

Katib reads the template from the ConfigMap ``configMapNamespace/configMapName``, key
``templatePath``, when it creates each trial. kfp-tune reads it once, before the experiment is
created or resumed, and stores the experiment with the template filled in, so every later step
(and a resumed run) uses the same template. The text is read as Katib reads it, which
substitutes the placeholders before it parses the YAML (``loading.parse_template_documents``). Where it is read from is the caller's choice, a
:data:`ConfigMapReader`: the Kubernetes API on a cluster
(``launchers.kubernetes.config_maps``), ConfigMap manifests in local files for ``kfp-tune run``,
``render`` and ``compile`` (:func:`config_maps_from_files`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from kfp_tune.core.errors import FieldError, SpecError
from kfp_tune.core.loading import load_experiment, parse_template_documents, parse_yaml_documents, read_text_file
from kfp_tune.core.spec import Experiment
from kfp_tune.core.template import untyped_in_containers

ConfigMapReader = Callable[[str, str], "Mapping[str, str] | None"]
"""(namespace, name) -> the ConfigMap's ``data``, or None when there is no such ConfigMap."""

PATH = "spec.trialTemplate.configMap"


def needs_config_map(experiment: Experiment) -> bool:
    """Whether the experiment's trial template is still to be read from a ConfigMap."""
    template = experiment.spec.trial_template
    return template is not None and template.config_map is not None and template.trial_spec is None


def config_map_reference(experiment: Experiment) -> tuple[str, str, str]:
    """(namespace, name, key) of the experiment's template ConfigMap."""
    template = experiment.spec.trial_template
    assert template is not None and template.config_map is not None
    source = template.config_map
    return str(source.config_map_namespace), str(source.config_map_name), str(source.template_path)


def resolve_trial_template(experiment: Experiment, read: ConfigMapReader, where: str) -> Experiment:
    """The experiment with its trial template read from the ConfigMap it names (unchanged when
    it has an inline ``trialSpec``), validated as if the template had been written inline.
    ``where`` says where ``read`` looks, for the error when the ConfigMap is not there."""
    if not needs_config_map(experiment):
        return experiment
    namespace, name, key = config_map_reference(experiment)
    data = read(namespace, name)
    if data is None:
        raise SpecError([FieldError(f"{PATH}.configMapName", f"no ConfigMap {name!r} in namespace {namespace!r} {where}")])
    if key not in data:
        keys = ", ".join(sorted(data)) or "none"
        raise SpecError([FieldError(f"{PATH}.templatePath", f"ConfigMap {namespace}/{name} has no key {key!r} (its keys: {keys})")])
    try:
        documents = parse_template_documents(str(data[key]))  # as Katib reads it: placeholders first
    except SpecError as exc:
        raise SpecError([FieldError(f"{PATH}.templatePath", f"ConfigMap {namespace}/{name} key {key!r}: {e.message}") for e in exc.errors]) from None
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise SpecError([FieldError(f"{PATH}.templatePath", f"ConfigMap {namespace}/{name} key {key!r}: expected one Kubernetes resource (a YAML mapping)")])
    resolved = experiment.model_copy(deep=True)
    template = resolved.spec.trial_template
    assert template is not None
    untyped_in_containers(documents[0])  # strings only there: a typed number would fail every create
    template.trial_spec = documents[0]
    template.config_map = None
    try:
        return load_experiment(resolved)
    except SpecError as exc:
        origin = f" (template from ConfigMap {namespace}/{name} key {key!r})"
        raise SpecError([FieldError(e.path, e.message + origin) for e in exc.errors]) from None


def config_maps_from_files(paths: Iterable[Path]) -> dict[tuple[str, str], dict[str, str]]:
    """The ConfigMaps in YAML files (``kubectl get configmap NAME -o yaml``, Katib's
    ``trial-templates`` manifest; several documents per file, or a ``List``) and folders of
    them (``*.yaml`` / ``*.yml``): (namespace, name) -> data. A ConfigMap without a namespace
    is in ``default``, as ``kubectl apply`` would put it. Other kinds are skipped."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for path in paths:
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
        for file in files:
            try:
                documents = parse_yaml_documents(read_text_file(file))
            except SpecError as exc:
                raise exc.in_file(str(file)) from None
            for document in _resources(documents):
                if document.get("kind") != "ConfigMap":
                    continue
                metadata = document["metadata"] if isinstance(document.get("metadata"), dict) else {}
                data = document["data"] if isinstance(document.get("data"), dict) else {}
                key = (str(metadata.get("namespace") or "default"), str(metadata.get("name") or ""))
                found[key] = {str(k): str(v) for k, v in data.items()}
    return found


def _resources(documents: list[Any]) -> Iterable[dict[str, Any]]:
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "List" and isinstance(document.get("items"), list):
            yield from (item for item in document["items"] if isinstance(item, dict))
        elif isinstance(document, dict):
            yield document
