"""Write src/kfp_tune/core/job_fields.json: the fields of Kubernetes' batch/v1 Job and every
object inside it, from the ``kubernetes`` client's models (its ``openapi_types`` and
``attribute_map``), for the trial template check Katib's webhook makes (core/job_fields.py).
The core reads the JSON and never imports ``kubernetes``; tests/core/test_job_fields.py checks
that the file is what this script writes with the installed client.

    python tools/job_fields.py            # rewrite the file
    python tools/job_fields.py --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parent.parent / "src" / "kfp_tune" / "core" / "job_fields.json"
ROOT = "V1Job"


def job_fields() -> dict[str, Any]:
    """{"kubernetes_client": version, "root": "V1Job", "models": {model: {jsonName: type}}}."""
    import kubernetes
    import kubernetes.client.models as models

    found: dict[str, dict[str, str]] = {}

    def walk(name: str) -> None:
        if name in found or not hasattr(models, name):
            return
        model = getattr(models, name)
        found[name] = {model.attribute_map[attribute]: kind for attribute, kind in sorted(model.openapi_types.items())}
        for kind in model.openapi_types.values():
            for inner in re.findall(r"\b[A-Z]\w+", kind):
                walk(inner)

    walk(ROOT)
    return {"kubernetes_client": kubernetes.__version__, "root": ROOT, "models": dict(sorted(found.items()))}


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
