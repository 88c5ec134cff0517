"""Search-space helpers in the Katib SDK's style: ``search.double(0.01, 0.1)`` and friends.

Each returns Katib's ``feasibleSpace`` with its ``parameterType``; :func:`kfp_tune.tune` and
:func:`to_parameters` turn a ``{name: helper(...)}`` dict into ``spec.parameters``. As in Katib's
SDK, the dict may also hold fixed values (``"epochs": 10``), passed to the function as they are,
and Katib's own ``kubeflow.katib.search`` results.
"""

from __future__ import annotations

import builtins
import numbers
import re
import types
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import PrivateAttr

from kfp_tune.core.errors import shown
from kfp_tune.core.space import as_given as as_given  # where tune() and its result take it
from kfp_tune.core.spec import FeasibleSpace, ParameterSpec


def _number(value: Any) -> str:
    """A number as Katib's feasibleSpace writes it: ``0.1`` for a float, ``3`` for an int; a
    string as given (Katib's own form). A numpy float is written as Katib's SDK writes it,
    ``str(value)``: numpy's shortest text for its own precision (``np.float32(0.1)`` is ``0.1``,
    where its float64 widening is ``0.10000000149011612``; its repr is ``np.float32(0.1)``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)  # a string as given; anything else validation refuses, naming the field
    if isinstance(value, numbers.Integral):
        return str(builtins.int(value))
    if getattr(getattr(value, "dtype", None), "kind", None) == "f":
        return str(value)
    return repr(float(value))


def _values(helper: str, values: Any) -> builtins.list[Any]:
    """The values of a categorical or discrete parameter: a list, tuple, array or other
    iterable, never a single string (whose letters would become the values)."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(f"search.{helper}: expected a list of values, got {type(values).__name__} {values!r:.60}")
    return builtins.list(values)


def double(min: float, max: float, step: float | None = None, distribution: str = "uniform") -> ParameterSpec:
    """A real number in [min, max] (numpy numbers too); ``step`` makes it a grid of min, min +
    step, ... (for grid search); ``distribution`` uniform, logUniform, normal or logNormal (for
    the normal ones, as in Katib, min and max bound the values and their middle and width set
    the mean and spread)."""
    return ParameterSpec(
        parameter_type="double",
        feasible_space=FeasibleSpace(min=_number(min), max=_number(max), step=None if step is None else _number(step), distribution=distribution),
    )


def int(min: builtins.int, max: builtins.int, step: builtins.int | None = None, distribution: str = "uniform") -> ParameterSpec:  # shadows the builtin: the Katib SDK name
    """An integer in [min, max] (numpy integers too); ``step`` keeps every step-th from min;
    ``distribution`` as for :func:`double`."""
    return ParameterSpec(
        parameter_type="int",
        feasible_space=FeasibleSpace(min=_number(min), max=_number(max), step=None if step is None else _number(step), distribution=distribution),
    )


class CategoricalSpec(ParameterSpec):
    """:func:`categorical`'s result: Katib's ParameterSpec, its values as text, holding the
    objects it was given, so that a function trial gets them back (:func:`categorical_objects`)."""

    _objects: tuple[Any, ...] = PrivateAttr(default=())


def categorical(values: Iterable[Any] | None = None, *, list: Iterable[Any] | None = None) -> ParameterSpec:
    """One of the given values, unordered. A ``tune()`` function gets the very object given
    (``True``, ``None``, ``0.1``, a function or class), as Optuna's ``suggest_categorical``
    returns it; Katib's spec, the records, a Katib trial's command line and ``KatibClient.tune``
    hold each as its text (:func:`categorical_text`), the same in every kernel, so that a re-run
    finds its experiment. Refused: values whose text is the same (``1`` and ``"1"``), values that
    compare equal (``1`` and ``1.0``: one value to the function) and a value whose text holds a
    memory address. ``list=`` is the Katib SDK's keyword."""
    if (values is None) == (list is None):
        raise TypeError("search.categorical: give the values once: categorical(['a', 'b']) or, as Katib's SDK, categorical(list=['a', 'b'])")
    objects = _values("categorical", values if list is None else list)
    texts = [categorical_text(v) for v in objects]
    for place, (value, text) in enumerate(zip(objects, texts, strict=True), start=1):
        if " at 0x" in text:
            raise ValueError(f"search.categorical: value {place} of the list, {type(value).__name__} {text!r}, reads as text with its memory "
                             "address, which differs in every kernel: a re-run could not find its experiment, and the records would show the "
                             "address; give its name ('adam') and map the name to the object inside the function")
    first: dict[str, Any] = {}
    for value, text in zip(objects, texts, strict=True):
        if text in first and not _same(first[text], value):
            raise ValueError(f"search.categorical: {shown(first[text])} and {shown(value)} read alike as text ({text!r}), the form Katib's "
                             "spec and the trial records keep: a record could not say which was meant; give values whose text differs")
        first.setdefault(text, value)
    for i, (a, a_text) in enumerate(zip(objects, texts, strict=True)):
        for b, b_text in zip(objects[i + 1:], texts[i + 1:], strict=True):
            if a_text != b_text and _equal(a, b):
                raise ValueError(f"search.categorical: {shown(a)} and {shown(b)} are one value to the function (they compare equal), "
                                 "so a search would try one point twice; give one of them")
    spec = CategoricalSpec(parameter_type="categorical", feasible_space=FeasibleSpace(list=texts))
    spec._objects = tuple(objects)
    return spec


def categorical_text(value: Any) -> str:
    """A categorical value's text, as the spec and records keep it: ``str(value)``, but a
    function or class as its ``module.qualname``, whose ``str()`` would hold a memory address
    (a function's) or differ from the name the user wrote (a class's)."""
    named = isinstance(value, (type, types.FunctionType)) or (
        isinstance(value, types.BuiltinFunctionType) and (value.__self__ is None or isinstance(value.__self__, types.ModuleType)))
    if named:
        module = getattr(value, "__module__", None)
        return f"{module}.{value.__qualname__}" if module else value.__qualname__
    return str(value)


NAMED_TEXT_SINCE = "2026-12-07 08:42 UTC"
"""Since when a function or class is stored as its ``module.qualname`` (:func:`categorical_text`);
before, as its str()."""


def older_text(value: Any) -> str | None:
    """The text a kfp-tune from before :data:`NAMED_TEXT_SINCE` stored for ``value``, its str(),
    where that differs from :func:`categorical_text` and names the value alone: a class's
    ``<class 'mod.Adam'>`` (a builtin class's ``<class 'int'>``). None for a value stored as it
    is now, and for one whose old text another value shares or no kernel repeats
    (:func:`unmatchable_older_text`): a builtin function's ``<built-in function sqrt>`` (math's
    and cmath's alike), an enum class's ``<enum 'Color'>``, a function's, with its address."""
    text = str(value)
    if text == categorical_text(value) or not isinstance(value, type):
        return None
    named = {f"<class '{categorical_text(value)}'>"} | ({f"<class '{value.__qualname__}'>"} if value.__module__ == "builtins" else set())
    return text if text in named else None


_UNNAMED_OLDER_TEXT = re.compile(r"<(built-in function [\w.]+|(enum|flag) '[\w.]+')>")
"""The str() of a builtin function or an enum class, which names no module."""


def unmatchable_older_text(text: str) -> str | None:
    """Why a categorical value's ``text``, as a kfp-tune from before :data:`NAMED_TEXT_SINCE`
    stored it (its str()), cannot be matched to a value given now, or None when it is not such a
    text: a memory address differs in every kernel; a builtin function's or an enum class's
    names no module, so another module's value of the name reads alike."""
    if " at 0x" in text:
        return "with a memory address, which differs in every kernel"
    if _UNNAMED_OLDER_TEXT.fullmatch(text):
        return "which names no module: another module's value of the name reads alike (math.sqrt and cmath.sqrt were both '<built-in function sqrt>')"
    return None


def with_stored_texts(parameters: Mapping[str, Any], stored_lists: Mapping[str, builtins.list[Any]]) -> dict[str, Any]:
    """``parameters``, each :func:`categorical` value written as the stored experiment's list
    (``stored_lists``: by parameter name) holds it where an older kfp-tune stored it as its
    :func:`older_text` and the list does not hold its text now: so that the same call resumes
    its experiment, and the stored trials' values map back to the object given. Nothing else is
    taken for a stored text: another class of the name, or the new text given as a string,
    reads as it is, and the experiment is refused as changed."""
    out = dict(parameters)
    for name, spec in parameters.items():
        stored = stored_lists.get(name)
        if not isinstance(spec, CategoricalSpec) or not isinstance(stored, builtins.list) or not spec._objects:
            continue
        now = builtins.list(spec.feasible_space.list or [])
        texts = [old if (old := older_text(value)) is not None and old in stored and text not in stored else text
                 for value, text in zip(spec._objects, now, strict=True)]
        if texts != now:
            written = spec.model_copy(update={"feasible_space": spec.feasible_space.model_copy(update={"list": texts})})
            written._objects = spec._objects
            out[name] = written
    return out


def _same(a: Any, b: Any) -> bool:
    """Whether two categorical values are one value given twice (``"a"`` and ``"a"``; refused
    as a duplicate by validation, naming the parameter), not two that share a text."""
    return type(a) is type(b) and _equal(a, b)


def _equal(a: Any, b: Any) -> bool:
    """``a == b``, or identity for an object whose == fails or is an array."""
    try:
        return bool(a == b)
    except Exception:
        return a is b


def categorical_objects(parameters: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """For each :func:`categorical` parameter of ``parameters`` with a value that is not a
    string: its values by their text, as a trial's assignment holds them, to give a function
    trial the objects given."""
    out = {}
    for name, spec in parameters.items():
        objects = spec._objects if isinstance(spec, CategoricalSpec) else ()
        if any(not isinstance(v, str) for v in objects):  # by the list's texts: an older one (with_stored_texts) maps back too
            out[name] = dict(zip(spec.feasible_space.list or [], objects, strict=True))
    return out


def discrete(values: Iterable[float]) -> ParameterSpec:
    """One of the given numbers, ordered (the trial gets the number)."""
    return ParameterSpec(parameter_type="discrete", feasible_space=FeasibleSpace(list=[_number(v) for v in _values("discrete", values)]))


def is_searched(value: Any) -> bool:
    """Whether a ``parameters`` value is a search space: one of these helpers' results, or the
    same from Katib's SDK (``kubeflow.katib.search.double(...)``: an object with
    ``parameter_type`` and ``feasible_space``, told apart without importing Katib). Anything else
    is a fixed value, passed to the function as it is, as Katib's SDK passes it
    (``utils.get_trial_substitutions_from_dict``)."""
    return isinstance(value, ParameterSpec) or (
        not isinstance(value, (Mapping, str, bytes)) and hasattr(value, "parameter_type") and hasattr(value, "feasible_space")
    )


def _from_katib(name: str, value: Any) -> ParameterSpec:
    """A Katib SDK ``V1beta1ParameterSpec`` as this module's ParameterSpec. Katib's
    ``search.categorical`` passes its list as ``V1beta1FeasibleSpace``'s first argument,
    ``distribution`` (a list where Katib's CRD takes a distribution's name): it is taken as the
    list it was meant to be."""
    space = value.feasible_space
    fields = {key: getattr(space, key, None) for key in ("min", "max", "step", "distribution", "list")}
    if fields["list"] is None and isinstance(fields["distribution"], (builtins.list, tuple)):
        fields["list"], fields["distribution"] = fields["distribution"], None
    kind = value.parameter_type
    if fields["list"] is not None:
        fields["list"] = [str(v) if kind == "categorical" else _number(v) for v in _values(f"parameters[{name!r}]", fields["list"])]
    for key in ("min", "max", "step"):
        if fields[key] is not None:
            fields[key] = _number(fields[key])
    return ParameterSpec.model_validate({"parameter_type": kind, "feasible_space": {k: v for k, v in fields.items() if v is not None}})


def to_parameters(parameters: Mapping[str, Any]) -> list[ParameterSpec]:
    """``spec.parameters`` from ``{name: helper(...)}``: the searched ones, in order (see
    :func:`is_searched`; :func:`fixed_values` gives the rest)."""
    out = []
    for name, spec in parameters.items():
        if not is_searched(spec):
            continue
        typed = spec if isinstance(spec, ParameterSpec) else _from_katib(name, spec)
        # a plain ParameterSpec: a CategoricalSpec's objects stay out of the spec, compared and stored
        out.append(ParameterSpec(name=name, parameter_type=typed.parameter_type, feasible_space=typed.feasible_space.model_copy(deep=True)))
    return out


def fixed_values(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``parameters`` that are not searched (:func:`is_searched`), by name: each
    trial's function gets them as given, beside the searched ones, as Katib's SDK gives them."""
    return {name: value for name, value in parameters.items() if not is_searched(value)}


__all__ = ["categorical", "discrete", "double", "fixed_values", "int", "is_searched", "to_parameters"]
