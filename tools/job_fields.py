"""Write src/kfp_tune/core/job_fields.json: the fields of Kubernetes' batch/v1 Job and every
object inside it, for the trial template check Katib's webhook makes (core/job_fields.py).

Katib's webhook converts a Job template to the typed Job of the ``k8s.io/api`` its go.mod names
(v0.34.0 at Katib HEAD: Kubernetes 1.34), so the fields are read from that Kubernetes version's
OpenAPI definitions, as the ``kubernetes-validate`` package ships them (a test dependency; nothing
is downloaded). The installed ``kubernetes`` client is not the source: kfp caps it below 31
(Kubernetes 1.30), which lacks fields Katib takes (Dynamic Resource Allocation's
``resourceClaimTemplateName`` and ``request``, a pod's own ``resources``). The core reads the JSON
and imports neither; tests/core/test_job_fields.py checks that the file is what this script writes.

    python tools/job_fields.py            # rewrite the file
    python tools/job_fields.py --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import json
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parent.parent / "src" / "kfp_tune" / "core" / "job_fields.json"
# The Kubernetes of Katib's webhook: k8s.io/api v0.34.0 in kubeflow/katib's go.mod. Change it with Katib's.
KUBERNETES = "1.34.0"
ROOT_DEFINITION = "io.k8s.api.batch.v1.Job"
# Definitions with no fields of their own: the scalar each is in JSON, as core/job_fields.py reads it.
SCALARS = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "datetime",
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "int-or-string",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": "any",  # raw JSON, kept as it is
}
JSON_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def schema_versions() -> list[str]:
    """The Kubernetes versions the installed kubernetes-validate has schemas of, oldest first: a
    moving window, so a newer release drops the oldest as it adds the latest."""
    root = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    found = [match[1] for entry in root.iterdir() if (match := re.fullmatch(r"v(\d+(?:\.\d+)*)-local", entry.name))]
    return sorted(found, key=_release)


def has_schemas(version: str) -> bool:
    """Whether :func:`definitions` can read Kubernetes ``version`` from this kubernetes-validate."""
    return version in schema_versions()


def missing_schemas(version: str) -> str:
    """Why ``version``'s schemas cannot be read, and which kubernetes-validate has them."""
    shipped = schema_versions()
    window = f"Kubernetes {shipped[0]} to {shipped[-1]}" if shipped else "none"
    if shipped and _release(version) < _release(shipped[0]):
        advice = f"an older kubernetes-validate ships {version} (a newer release dropped it)"
    else:
        advice = "pip install --upgrade kubernetes-validate"
    return (f"the installed kubernetes-validate has no schemas of Kubernetes {version} (it ships a moving window "
            f"of versions; this one has {window}): {advice}")


def definitions(version: str = KUBERNETES) -> dict[str, Any]:
    """Kubernetes ``version``'s OpenAPI definitions (name -> JSON schema), from kubernetes-validate."""
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}-local"
    if not folder.is_dir():
        raise SystemExit(missing_schemas(version))
    loaded: dict[str, Any] = json.loads(folder.joinpath("_definitions.json").read_text(encoding="utf-8"))["$defs"]
    return loaded


def model_name(definition: str) -> str:
    """``io.k8s.api.core.v1.PodSpec`` as ``V1PodSpec``, the name the ``kubernetes`` client gives it."""
    *_, version, kind = definition.split(".")
    return version.capitalize() + kind


def job_fields(version: str = KUBERNETES) -> dict[str, Any]:
    """{"kubernetes": version, "root": "V1Job", "models": {model: {jsonName: type}}}, a type being
    a model, str, int, float, bool, datetime, quantity, int-or-string, any, list[T] or dict(str, T)."""
    schemas = definitions(version)
    found: dict[str, dict[str, str]] = {}
    named: dict[str, str] = {}

    def type_of(schema: dict[str, Any], where: str) -> str:
        if "$ref" in schema:
            definition = schema["$ref"].rpartition("/")[2]
            if definition in SCALARS:
                return SCALARS[definition]
            walk(definition)
            return model_name(definition)
        if "items" in schema:
            return f"list[{type_of(schema['items'], where)}]"
        if "additionalProperties" in schema:
            return f"dict(str, {type_of(schema['additionalProperties'], where)})"
        kinds = schema.get("type")
        kinds = [kind for kind in kinds if kind != "null"] if isinstance(kinds, list) else [kinds]
        if len(kinds) != 1 or kinds[0] not in JSON_TYPES:
            raise SystemExit(f"{where}: a schema this script does not know how to read: {schema}")
        return "datetime" if schema.get("format") == "date-time" else JSON_TYPES[kinds[0]]

    def walk(definition: str) -> None:
        name = model_name(definition)
        if named.setdefault(name, definition) != definition:
            raise SystemExit(f"{definition} and {named[name]} are both {name}")
        if name in found:
            return
        schema = schemas[definition]
        if "properties" not in schema:
            raise SystemExit(f"{definition} has no fields and is not one of SCALARS: {schema}")
        found[name] = {}
        for field, inner in sorted(schema["properties"].items()):
            found[name][field] = type_of(inner, f"{definition}.{field}")

    walk(ROOT_DEFINITION)
    return {"kubernetes": version, "root": model_name(ROOT_DEFINITION), "models": dict(sorted(found.items()))}


def main(argv: list[str]) -> int:
    text = json.dumps(job_fields(), indent=1, sort_keys=True) + "\n"
    if argv == ["--check"]:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python tools/job_fields.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
