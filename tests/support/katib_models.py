"""Stand-ins for the models of Katib's SDK (``kubeflow.katib.models``) and the Kubernetes
client's ``V1ObjectMeta``, which the tests cannot install: classes shaped as OpenAPI Generator
makes them (``openapi_types``: attribute -> type, ``attribute_map``: attribute -> JSON name;
positional arguments in ``openapi_types`` order; ``to_dict()`` with attribute names, unset
fields as None, nested models as dicts), and ``search`` as Katib's SDK builds its spaces
(``kubeflow.katib.search``), its categorical's list landing in ``distribution`` included."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from pydantic.alias_generators import to_camel


class _Model:
    openapi_types: ClassVar[dict[str, str]] = {}
    attribute_map: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, fields: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.openapi_types = {name: "object" for name in fields.split()}
        cls.attribute_map = {name: to_camel(name) for name in cls.openapi_types}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = list(self.openapi_types)
        values = dict(zip(names, args, strict=False))
        unknown = set(kwargs) - set(names)
        if unknown or len(args) > len(names):
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(unknown)}")
        values.update(kwargs)
        for name in names:
            setattr(self, name, values.get(name))

    def to_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, _Model):
                return value.to_dict()
            if isinstance(value, list):
                return [plain(item) for item in value]
            return value

        return {name: plain(getattr(self, name)) for name in self.openapi_types}


class V1ObjectMeta(_Model, fields="annotations creation_timestamp generate_name labels name namespace uid"):
    pass


class V1beta1FeasibleSpace(_Model, fields="distribution list max min step"):
    pass


class V1beta1ParameterSpec(_Model, fields="feasible_space name parameter_type"):
    pass


class V1beta1ObjectiveSpec(_Model, fields="additional_metric_names goal metric_strategies objective_metric_name type"):
    pass


class V1beta1AlgorithmSetting(_Model, fields="name value"):
    pass


class V1beta1AlgorithmSpec(_Model, fields="algorithm_name algorithm_settings"):
    pass


class V1beta1TrialParameterSpec(_Model, fields="description name reference"):
    pass


class V1beta1TrialTemplate(_Model, fields="config_map failure_condition primary_container_name primary_pod_labels retain success_condition trial_parameters trial_spec"):
    pass


class V1beta1CollectorSpec(_Model, fields="custom_collector kind"):
    pass


class V1beta1MetricsCollectorSpec(_Model, fields="collector source"):
    pass


class V1beta1ExperimentSpec(_Model, fields=(
    "algorithm early_stopping max_failed_trial_count max_trial_count metrics_collector_spec nas_config objective "
    "parallel_trial_count parameters resume_policy trial_template"
)):
    pass


class V1beta1Experiment(_Model, fields="api_version kind metadata spec status"):
    pass


class search:  # Katib's module name: katib.search.double(...)
    @staticmethod
    def double(min: float, max: float, step: float | None = None) -> V1beta1ParameterSpec:
        return V1beta1ParameterSpec(parameter_type="double", feasible_space=V1beta1FeasibleSpace(min=str(min), max=str(max), step=None if step is None else str(step)))

    @staticmethod
    def int(min: int, max: int, step: int | None = None) -> V1beta1ParameterSpec:
        return V1beta1ParameterSpec(parameter_type="int", feasible_space=V1beta1FeasibleSpace(min=str(min), max=str(max), step=None if step is None else str(step)))

    @staticmethod
    def categorical(list: list[Any]) -> V1beta1ParameterSpec:
        return V1beta1ParameterSpec(parameter_type="categorical", feasible_space=V1beta1FeasibleSpace(list))  # positional: distribution, as Katib's


def experiment(name: str = "katib-model", created: datetime.datetime | None = None) -> V1beta1Experiment:
    """A Katib Experiment built with the models, as a Katib notebook builds one: tests/trials/quadratic.py's trial."""
    from conftest import quadratic_experiment

    doc = quadratic_experiment(**{"metadata.name": name, "spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})
    spec = doc["spec"]
    template = spec["trialTemplate"]
    return V1beta1Experiment(
        api_version="kubeflow.org/v1beta1",
        kind="Experiment",
        metadata=V1ObjectMeta(name=name, namespace="kubeflow-user", creation_timestamp=created),
        spec=V1beta1ExperimentSpec(
            max_trial_count=spec["maxTrialCount"],
            parallel_trial_count=spec["parallelTrialCount"],
            objective=V1beta1ObjectiveSpec(type=spec["objective"]["type"], objective_metric_name=spec["objective"]["objectiveMetricName"],
                                           additional_metric_names=spec["objective"].get("additionalMetricNames")),
            algorithm=V1beta1AlgorithmSpec(algorithm_name=spec["algorithm"]["algorithmName"],
                                           algorithm_settings=[V1beta1AlgorithmSetting(name=s["name"], value=s["value"])
                                                               for s in spec["algorithm"].get("algorithmSettings", [])] or None),
            parameters=[V1beta1ParameterSpec(name=p["name"], parameter_type=p["parameterType"], feasible_space=V1beta1FeasibleSpace(**p["feasibleSpace"]))
                        for p in spec["parameters"]],
            trial_template=V1beta1TrialTemplate(
                primary_container_name=template["primaryContainerName"],
                trial_parameters=[V1beta1TrialParameterSpec(name=t["name"], reference=t["reference"]) for t in template["trialParameters"]],
                trial_spec=template["trialSpec"],
            ),
        ),
    )
