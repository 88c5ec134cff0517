"""Reading an experiment: a Katib YAML file, YAML text, a dict or a model, parsed, given
Katib's defaults and validated, with every problem reported at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kfp_tune.core.errors import FieldError, SpecError
from kfp_tune.core.spec import Experiment, apply_katib_defaults, parse_experiment
from kfp_tune.core.validation import validate_experiment


def load_experiment(source: str | Path | dict[str, Any] | Experiment) -> Experiment:
    """Load, default and validate an experiment from a YAML file path, YAML text, a dict or a model.

    Returns the defaulted Experiment; raises SpecError with every problem found."""
    if isinstance(source, Experiment):
        experiment = source
    else:
        data = read_experiment_source(source)
        experiment = parse_experiment(data)
    experiment = apply_katib_defaults(experiment)
    errors = validate_experiment(experiment)
    if errors:
        raise SpecError(errors)
    return experiment


def read_experiment_source(source: str | Path | dict[str, Any]) -> Any:
    """The parsed (not yet validated) document of a YAML path, YAML text or dict."""
    if isinstance(source, dict):
        return source
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml", ".json"))):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError([FieldError("(file)", f"cannot read {path}: {exc.strerror}")]) from None
    else:
        text = str(source)
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise SpecError([FieldError("(file)", f"not valid YAML: {exc}")]) from None
    if len(documents) != 1:
        raise SpecError([FieldError("(file)", f"expected exactly one YAML document, found {len(documents)}")])
    return documents[0]
