"""Trial templates: find the placeholders, substitute them by walking the parsed tree.

Values are never spliced into YAML text. A placeholder that is a whole string is replaced by the
value's string; one inside a longer string, or in a mapping key, is replaced in place. Either way
the result stays a string, so a value such as ``no``, ``1e3`` or ``a"\\nkind: Pod`` reaches the
trial exactly as is and cannot add a field to the manifest: as in Katib, which substitutes an
inline ``trialSpec`` in its JSON text.

A template from a ConfigMap is the exception, as it is in Katib, which substitutes the
ConfigMap's YAML text before it parses it: there a placeholder written as a whole unquoted value
(``replicas: ${trialParameters.workers}``) takes the value's YAML type (``replicas: 2``). Such a
placeholder is kept as ``${yaml:trialParameters.workers}`` in the template kfp-tune stores
(``core.template_source``).
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import yaml

from kfp_tune.core.errors import FieldError, SpecError, shown
from kfp_tune.core.vocabulary import looks_like_credential
from kfp_tune.core.yaml_bounds import check_yaml_shape

TRIAL_PARAMETER = re.compile(r"\$\{trialParameters\.([^{}]+?)\}")
TYPED_PREFIX = "${yaml:trialParameters."
"""How kfp-tune's own placeholder begins (``${yaml:trialParameters.x}``), which no user's document may hold."""
TYPED_PARAMETER = re.compile(rf"^{re.escape(TYPED_PREFIX)}([^{{}}]+?)\}}$")
"""A ConfigMap template's placeholder that was a whole unquoted YAML value: the value is read as
YAML reads it (see the module's doc)."""
TRIAL_SPEC_META = re.compile(r"^\$\{trialSpec\.(Name|Namespace|Kind|APIVersion|Labels\[(.+)\]|Annotations\[(.+)\])\}$")


def walk_strings(tree: Any) -> Iterator[str]:
    """Every string in a parsed YAML tree, mapping keys included (Katib substitutes them too)."""
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, Mapping):
        for key, value in tree.items():
            yield str(key)
            yield from walk_strings(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from walk_strings(item)


def placeholders_in(tree: Any) -> set[str]:
    """Names x of every ``${trialParameters.x}`` in the tree."""
    found: set[str] = set()
    for text in walk_strings(tree):
        found.update(TRIAL_PARAMETER.findall(text))
        found.update(TYPED_PARAMETER.findall(text))
    return found


PLACEHOLDER_START = "${trialParameters."
LEFTOVER_PLACEHOLDER = re.compile(r"\$\{trialParameters\..+?\}")
"""Katib's ``consts.TrialTemplateParamReplaceFormatRegex``: what its webhook still finds once the
declared placeholders are replaced."""


def malformed_placeholders(tree: Any) -> list[str]:
    """Each ``${trialParameters.`` text in the tree that is not a whole placeholder
    (``${trialParameters.lr`` unterminated, ``${trialParameters.}``, ``${trialParameters.{lr}}``):
    it would reach the trial as literal text. Katib's webhook refuses it
    (pkg/webhook/v1beta1/experiment/validator/validator.go, ``validateTrialTemplate``: its regex,
    run over the template's one-line JSON after the declared placeholders are replaced, finds
    anything that starts so, since the JSON closes with a brace). Each is the text as the regex
    finds it in its string, or up to the string's end."""
    found: list[str] = []
    for text in walk_strings(tree):
        rest = TYPED_PARAMETER.sub("", TRIAL_PARAMETER.sub("", text))
        while (start := rest.find(PLACEHOLDER_START)) >= 0:
            match = LEFTOVER_PLACEHOLDER.match(rest, start)
            end = match.end() if match else len(rest)
            found.append(rest[start:end])
            rest = rest[end:]
    return found


def is_meta_reference(reference: str) -> bool:
    """Whether a trialParameters reference is trial metadata such as ``${trialSpec.Name}``."""
    return TRIAL_SPEC_META.match(reference) is not None


def resolve_meta_reference(reference: str, manifest: Mapping[str, Any]) -> str:
    """The value of ``${trialSpec.Name|Namespace|Kind|APIVersion|Labels[k]|Annotations[k]}``."""
    match = TRIAL_SPEC_META.match(reference)
    if match is None:
        raise ValueError(f"not a trialSpec reference: {reference!r}")
    metadata = manifest.get("metadata") or {}
    key = match.group(1)
    if key == "Name":
        return str(metadata.get("name", ""))
    if key == "Namespace":
        return str(metadata.get("namespace", ""))
    if key == "Kind":
        return str(manifest.get("kind", ""))
    if key == "APIVersion":
        return str(manifest.get("apiVersion", ""))
    # validation has refused a key that neither the template nor kfp-tune sets (missing_metadata_key);
    # "" is left for a trial label an algorithm sets on some trials only (pbt's parent)
    if match.group(2) is not None:
        return str((metadata.get("labels") or {}).get(match.group(2), ""))
    return str((metadata.get("annotations") or {}).get(match.group(3), ""))


def missing_metadata_key(reference: str, trial_spec: Mapping[str, Any], trial_labels: Collection[str] = ()) -> str:
    """What is wrong with a ``${trialSpec.Labels[k]}`` or ``${trialSpec.Annotations[k]}``
    reference whose key the trial template's metadata does not have; "" when nothing is. Katib
    fails every such trial ("illegal reference of trial metadata"); kfp-tune refuses the
    experiment instead. ``trial_labels``: label keys kfp-tune puts on the trials themselves,
    which a template may also name."""
    match = TRIAL_SPEC_META.match(reference)
    if match is None or (match.group(2) is None and match.group(3) is None):
        return ""
    if match.group(2) is not None and match.group(2) in trial_labels:
        return ""
    field, key = ("labels", match.group(2)) if match.group(2) is not None else ("annotations", match.group(3))
    metadata = trial_spec.get("metadata")
    found = metadata.get(field) if isinstance(metadata, Mapping) else None
    if isinstance(found, Mapping) and key in found:
        return ""
    return f"{shown(reference)} refers to {field[:-1]} {shown(key)}, which trialSpec.metadata.{field} does not have: expected a key the trial template sets, or a label kfp-tune puts on the trials"


def substitute(tree: Any, values: Mapping[str, str]) -> Any:
    """A copy of the tree with every ``${trialParameters.x}`` replaced by ``values[x]``.

    Raises KeyError naming a placeholder with no value."""
    if isinstance(tree, str):
        typed = TYPED_PARAMETER.match(tree)
        if typed is not None:
            return yaml_value(_lookup(values, typed.group(1)))
        return TRIAL_PARAMETER.sub(lambda m: _lookup(values, m.group(1)), tree)
    if isinstance(tree, Mapping):
        return {_substitute_key(str(key), values): substitute(value, values) for key, value in tree.items()}
    if isinstance(tree, list):
        return [substitute(item, values) for item in tree]
    return copy.deepcopy(tree)


def _substitute_key(key: str, values: Mapping[str, str]) -> str:
    """A mapping key, its placeholders filled in; a key stays a string (as YAML turned into JSON
    makes every key)."""
    typed = TYPED_PARAMETER.match(key)
    if typed is not None:
        return _lookup(values, typed.group(1))
    return TRIAL_PARAMETER.sub(lambda m: _lookup(values, m.group(1)), key)


def yaml_value(text: str) -> Any:
    """``text`` as a whole unquoted YAML value reads in Katib, which substitutes the ConfigMap's
    text and decodes it with Kubernetes' YAML decoder (pkg/controller.v1beta1/util/unstructured.go,
    ``ConvertStringToUnstructured``): go-yaml v2's YAML 1.1 rules (:func:`go_yaml_scalar`: ``y``,
    ``no``, ``off`` booleans, ``1e-05`` a number, ``""`` null, ``[1, 2]`` a list), then JSON, where
    Kubernetes reads a whole number as an integer (``2.0`` is ``2``, :func:`json_numbers`). The text
    itself when YAML cannot read it or reads something JSON cannot carry (an infinity), or its
    aliases nest in themselves or expand past the bounds an experiment file has (a categorical
    value ``&a [*a]``: go-yaml refuses it)."""
    try:
        check_yaml_shape(text)
        value = json_numbers(yaml.load(text, Loader=_GoYamlLoader))  # a SafeLoader: no Python objects
        json.dumps(value, allow_nan=False)
    except (SpecError, yaml.YAMLError, TypeError, ValueError):
        return text
    return value


_GO_BOOLEANS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_GO_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_GO_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)")
"""What Go's ``strconv.ParseInt(s, 0, 64)`` reads (its base prefixes, a leading 0 octal)."""
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
"""go-yaml v2's ``yamlStyleFloat``: an exponent with no dot is a number (PyYAML needs the dot)."""
GO_INT64 = range(-(2**63), 2**63)
"""Go's int64: what strconv.ParseInt(s, 0, 64) and Atoi (on a 64-bit platform) return; beyond it they fail."""


def go_yaml_scalar(text: str) -> Any:
    """A plain (unquoted) YAML scalar as go-yaml v2 resolves it (resolve.go, ``resolve``), which
    Kubernetes' decoder and so Katib use: the first character says what it may be; a word from its
    table (booleans ``y``/``yes``/``on``..., nulls); else an int as Go's ``ParseInt`` with base 0
    reads it (underscores dropped, ``0x``, ``0o``, ``0b``, ``0`` octal), an unsigned one, a float
    by ``yamlStyleFloat``; else the text (a timestamp too: go-yaml v2 keeps it a string when
    decoding into an interface, as Kubernetes does)."""
    first = text[:1]
    if text in _GO_BOOLEANS:
        return _GO_BOOLEANS[text]
    if text in _GO_NULLS:
        return None
    if text in _GO_SPECIAL_FLOATS:
        return _GO_SPECIAL_FLOATS[text]
    if first == ".":
        return float(text) if re.fullmatch(r"\.[0-9]+([eE][-+]?[0-9]+)?", text) else text
    if not (first.isascii() and (first.isdigit() or first in "+-")):
        return text
    plain = text.replace("_", "")
    match = _GO_INT.fullmatch(plain)
    if match:
        sign, digits = match.groups()
        base = {"x": 16, "b": 2, "o": 8}.get(digits[1:2].lower(), 8 if digits.startswith("0") and len(digits) > 1 else 10)
        body = digits[2:] if base != 10 and digits[1:2].isalpha() else digits
        try:
            number = int(body, base) * (-1 if sign == "-" else 1)
        except ValueError:  # over Python's 4,300 digits: far past 64 bits, ParseInt and ParseUint fail too
            number = None
        if number is not None and (number in GO_INT64 or (not sign and number < 2**64)):  # ParseInt, then ParseUint
            return number
    if _GO_FLOAT.fullmatch(plain):
        real = float(plain)
        if math.isfinite(real):  # Go's ParseFloat fails out of range: the text stays
            return real
    return text


_GO_TAG_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "bool": (bool,), "float": (int, float), "null": (type(None),)}
GO_RESOLVED_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in _GO_TAG_TYPES)
"""The explicit tags whose scalar go-yaml v2 resolves as a plain one, then holds to the tag."""


def go_yaml_tagged(tag: str, text: str) -> Any:
    """A scalar with an explicit tag (``!!int 4``, ``!!bool y``, ``!!float 1``) as go-yaml v2 reads
    it (resolve.go): the text resolved as a plain scalar (:func:`go_yaml_scalar`), which must be of
    the tag's type, an int also a float's; else ValueError, as kubectl's decode fails ("cannot
    decode !!str `abc` as a !!int"). PyYAML's own constructors raised a bare KeyError for
    ``!!bool y`` and ValueError for ``!!int 4e0``."""
    name = tag.rsplit(":", 1)[-1]
    value = go_yaml_scalar(text)
    if isinstance(value, bool) is not (name == "bool") or not isinstance(value, _GO_TAG_TYPES[name]):
        read = shown(value) if isinstance(value, str) else json.dumps(value)
        raise ValueError(f"!!{name} {text!r} is no {name} to kubectl (untagged it reads {read}), which refuses it: write the {name}, or drop the tag")
    return float(value) if name == "float" and isinstance(value, (int, float)) else value


class _KubernetesDumper(yaml.SafeDumper):
    """PyYAML's dumper, quoting every string Kubernetes' decoder would read as something else."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    if not isinstance(go_yaml_scalar(text), str):  # "1e3", "y", "0o17": plain, kubectl reads a number or a boolean
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="'")
    return dumper.represent_str(text)


_KubernetesDumper.add_representer(str, _represent_text)


def kubernetes_yaml(manifest: Any) -> str:
    """``manifest`` as YAML that ``kubectl apply`` reads back as it is: PyYAML (YAML 1.1) leaves
    ``1e3`` or ``y`` unquoted as text, which go-yaml v2 (:func:`go_yaml_scalar`) reads as a number
    or a boolean, so a label ``opt: 1e3`` failed to decode; such strings are quoted."""
    return yaml.dump(manifest, Dumper=_KubernetesDumper, sort_keys=False)


def json_numbers(value: Any) -> Any:
    """``value`` as Kubernetes holds it after its JSON step: a number that is whole and fits an
    int64 is an integer (Go writes ``float64(2)`` as ``2``, and apimachinery's util/json reads
    ``2`` back as int64), any other number a float; mapping keys are strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        if math.isfinite(value) and value == int(value) and int(value) in GO_INT64:
            return int(value)
        return float(value)
    if isinstance(value, list):
        return [json_numbers(item) for item in value]
    if isinstance(value, dict):
        return {_json_key(key): json_numbers(item) for key, item in value.items()}
    return value


def _json_key(key: Any) -> str:
    """A mapping key as JSON writes it (``true``, ``1``, ``null``)."""
    return key if isinstance(key, str) else json.dumps(json_numbers(key))


class _GoYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader with go-yaml v2's resolution of plain scalars (:func:`go_yaml_scalar`)
    in place of PyYAML's own (no ``y`` / ``n`` booleans, no ``1e-05`` number, base-60 ints)."""


_GoYamlLoader.yaml_implicit_resolvers = {}
_GoYamlLoader.add_implicit_resolver("!go-plain", re.compile(r"(?s).*"), None)


def _construct_plain(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return go_yaml_scalar(loader.construct_scalar(node))


_GoYamlLoader.add_constructor("!go-plain", _construct_plain)


def _construct_tagged(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    try:
        return go_yaml_tagged(node.tag, loader.construct_scalar(node))
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from None


for _tag in GO_RESOLVED_TAGS:
    _GoYamlLoader.add_constructor(_tag, _construct_tagged)


def _construct_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


_GoYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)  # text, as go-yaml v2 decodes one into interface{}


def untyped_in_containers(tree: Any) -> None:
    """Make the typed placeholders of every container's ``command``, ``args`` and env values
    plain ones, in place: Kubernetes takes only strings there, so a number would make every
    trial's create fail (as it does under Katib); as text it reaches the trial."""
    def plain(value: Any) -> Any:
        typed = TYPED_PARAMETER.match(value) if isinstance(value, str) else None
        return f"${{trialParameters.{typed.group(1)}}}" if typed else value

    for container in find_containers(tree):
        for field in ("command", "args"):
            if isinstance(container.get(field), list):
                container[field] = [plain(word) for word in container[field]]
        for env in container.get("env") or []:
            if isinstance(env, dict) and "value" in env:
                env["value"] = plain(env["value"])


def written_credentials(trial_spec: Any, path: str = "spec.trialTemplate.trialSpec") -> list[FieldError]:
    """The env values in the trial template whose names look like credentials and that are
    written out (not ``valueFrom``): Katib takes them, but the value is then kept in the
    experiment record, the compiled pipeline and the KFP UI. The values are never quoted."""
    found = []
    for container in find_containers(trial_spec):
        for index, env in enumerate(container.get("env") or []):
            if not isinstance(env, Mapping) or not env.get("value") or not isinstance(env.get("name"), str):
                continue
            if looks_like_credential(env["name"]) and TRIAL_PARAMETER.fullmatch(str(env["value"])) is None:
                found.append(FieldError(
                    f"{path}: container {shown(container.get('name', ''))} env[{index}]",
                    f"{env['name']} is written out, so the experiment record, the compiled pipeline and the KFP UI keep its value; "
                    "give it by reference: valueFrom: {secretKeyRef: {name: SECRET, key: KEY}}",
                ))
    return found


def _lookup(values: Mapping[str, str], name: str) -> str:
    if name not in values:
        raise KeyError(f"${{trialParameters.{name}}} has no value")
    return str(values[name])


def find_containers(tree: Any) -> Iterator[dict[str, Any]]:
    """Every container (an item of a ``containers`` or ``initContainers`` list) in a manifest."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        yield item
            else:
                yield from find_containers(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from find_containers(item)


def find_primary_container(manifest: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The first container named ``name`` (Katib's primaryContainerName) in the manifest."""
    for container in find_containers(manifest):
        if container.get("name") == name:
            return container
    return None


TRAINER_GROUP, TRAIN_JOB = "trainer.kubeflow.org", "TrainJob"


def is_train_job(manifest: Mapping[str, Any]) -> bool:
    """Whether the manifest is Kubeflow Trainer's TrainJob, in any version of its API: a kind named
    TrainJob in another group is a user's own, whose pods its manifest shows as any kind's."""
    api_version = manifest.get("apiVersion")
    return manifest.get("kind") == TRAIN_JOB and isinstance(api_version, str) and api_version.rpartition("/")[0] == TRAINER_GROUP


def primary_container(manifest: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The container that trains: the one named ``name``; for Trainer's TrainJob, ``spec.trainer``
    (its pods' trainer container is named ``node``)."""
    if is_train_job(manifest):
        spec = manifest.get("spec")
        trainer = spec.get("trainer") if isinstance(spec, Mapping) else None
        return trainer if isinstance(trainer, dict) else None
    return find_primary_container(manifest, name)


BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP",
    "SETUID", "SYS_CHROOT",
})
"""The capabilities the Pod Security Standards' baseline lets a container add (container runtimes'
default set); any other one is refused."""
BASELINE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
})
"""The "safe" sysctls (namespaced, isolated from other pods) the baseline allows."""
BASELINE_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
BASELINE_RULE = ("(the Pod Security Standards' baseline, which kfp-tune applies to the whole of every trial's pod with no opt-out and "
                 "Katib does not check: a trial that needs it must run outside kfp-tune)")
"""How every refusal of :func:`unsafe_settings` ends: the rule it follows and what is left to do.
No "; " in it: a launcher joins the refusals with "; "."""


POD_SPEC_PATCH = "podSpecPatch"
POD_SPEC_PATCH_REFUSED = (
    "podSpecPatch is refused: Argo applies it as a patch to every pod it makes, and kfp-tune cannot check a patch against the Pod "
    "Security Standards' baseline (which it applies to the whole of every trial's pod with no opt-out): it is text, perhaps an "
    "expression Argo fills in only at run time. Instead write what it sets in the fields Argo reads whole (a template's container, "
    "securityContext, resources, volumes, nodeSelector, tolerations, affinity, or the Workflow spec's), which are checked"
)
"""Why Argo's ``podSpecPatch`` (a Workflow's, a template's, ``templateDefaults``') is refused
wherever it is: what it sets reaches every pod unread. No "; " in it (see :data:`BASELINE_RULE`)."""

TEXT_MAPS = frozenset({"labels", "matchLabels", "nodeSelector"})
"""Maps of text to text (Kubernetes' map[string]string): a text entry there sets nothing in the
pod, whatever its key, so :func:`unsafe_settings` reads only what is not text in them (what the
API server refuses anyway). Annotations are not among them: an AppArmor annotation is a setting."""


def unsafe_settings(tree: Any, path: str = "") -> list[FieldError]:
    """Every setting that the Kubernetes Pod Security Standards' baseline profile forbids, since
    it would give a trial the node or escalate its privileges: ``hostPath`` volumes,
    ``privileged`` containers, ``hostNetwork`` / ``hostPID`` / ``hostIPC``, capabilities added
    beyond :data:`BASELINE_CAPABILITIES`, a ``hostPort`` other than 0, a seccomp or AppArmor
    profile ``Unconfined`` (the AppArmor annotation too), a ``procMount`` other than
    ``Default``, a Windows ``hostProcess``, SELinux options other than the container types, and
    sysctls outside :data:`BASELINE_SYSCTLS`; and Argo's ``podSpecPatch``, a patch applied to
    every pod that no check here can read (:data:`POD_SPEC_PATCH_REFUSED`; an empty one patches
    nothing). What baseline allows (``allowPrivilegeEscalation``,
    ``runAsUser: 0``) passes. Found anywhere in the manifest, whatever the kind, so a runtime
    patch cannot slip one in either; but not in the text entries of a label map or a node
    selector (:data:`TEXT_MAPS`), whose keys name no setting (a label ``hostPort: "8080"``).
    Katib's webhook checks none of these
    (pkg/webhook/v1beta1/experiment/validator/validator.go, ``validateTrialTemplate`` and
    ``validateTrialJob``): this is kfp-tune's own rule. Also run on a Custom collector's
    container and on the whole manifest the Kubernetes launcher creates, after what it adds."""
    problems: list[FieldError] = []
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            here = f"{path}.{key}" if path else str(key)
            if key in TEXT_MAPS and isinstance(value, Mapping):
                value = {name: item for name, item in value.items() if not isinstance(item, str)}
            if key == "hostPath":
                problems.append(FieldError(here, f"hostPath volumes are refused: a trial must not reach the node's files {BASELINE_RULE}"))
                continue
            problems.extend(_baseline_problems(str(key), value, here))
            problems.extend(unsafe_settings(value, here))
    elif isinstance(tree, list):
        for index, item in enumerate(tree):
            problems.extend(unsafe_settings(item, f"{path}[{index}]"))
    return problems


def _baseline_problems(key: str, value: Any, here: str) -> list[FieldError]:
    """What the baseline forbids in the field ``key`` itself (its children are walked apart)."""
    def refused(where: str, what: str) -> list[FieldError]:
        return [FieldError(where, f"{what} {BASELINE_RULE}")]

    if key == "privileged" and value is True:
        return refused(here, "privileged containers are refused")
    if key == POD_SPEC_PATCH and value not in ("", None):
        return [FieldError(here, POD_SPEC_PATCH_REFUSED)]
    if key in ("hostNetwork", "hostPID", "hostIPC") and value is True:
        return refused(here, f"{key} is refused: a trial must not share the node's namespaces")
    if key == "hostPort" and value not in (0, None):
        return refused(here, f"hostPort {shown(value)} is refused: expected 0 or none")
    if key == "procMount" and value not in ("Default", None):
        return refused(here, f"procMount {shown(value)} is refused: expected Default")
    if key in ("seccompProfile", "appArmorProfile") and isinstance(value, Mapping) and value.get("type") == "Unconfined":
        return refused(f"{here}.type", f"{key} Unconfined is refused: expected RuntimeDefault or Localhost")
    if key.startswith(APPARMOR_ANNOTATION) and isinstance(value, str) and value != "runtime/default" and not value.startswith("localhost/"):
        return refused(here, f"AppArmor profile {shown(value)} is refused: expected runtime/default or localhost/NAME")
    if key == "windowsOptions" and isinstance(value, Mapping) and value.get("hostProcess") is True:
        return refused(f"{here}.hostProcess", "hostProcess containers are refused")
    if key == "capabilities" and isinstance(value, Mapping) and isinstance(value.get("add"), list):
        return [problem for index, name in enumerate(value["add"]) if name not in BASELINE_CAPABILITIES
                for problem in refused(f"{here}.add[{index}]", f"capability {shown(name)} is refused: expected only {', '.join(sorted(BASELINE_CAPABILITIES))}")]
    if key == "seLinuxOptions" and isinstance(value, Mapping):
        found = [] if value.get("type") in BASELINE_SELINUX_TYPES | {None} else refused(
            f"{here}.type", f"SELinux type {shown(value.get('type'))} is refused: expected one of {', '.join(sorted(BASELINE_SELINUX_TYPES - {''}))}")
        return found + [problem for field in ("user", "role") if value.get(field) for problem in refused(f"{here}.{field}", f"SELinux {field} is refused: expected none")]
    if key == "sysctls" and isinstance(value, list):
        return [problem for index, item in enumerate(value) if isinstance(item, Mapping) and item.get("name") not in BASELINE_SYSCTLS
                for problem in refused(f"{here}[{index}].name", f"sysctl {shown(item.get('name'))} is refused: expected only {', '.join(sorted(BASELINE_SYSCTLS))}")]
    return []
