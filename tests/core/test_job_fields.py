"""A batch/v1 Job trial template's fields, checked as Katib's webhook checks them (it converts the
template to Kubernetes' typed Job and refuses what does not convert): a misspelt field is an
error naming it, before anything runs."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from fractions import Fraction

import pytest

from conftest import REPO, quadratic_experiment
from kfp_tune.core.errors import SpecError
from kfp_tune.core.job_fields import kubernetes_version, unknown_job_fields
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.quantities import trial_resource_amounts

JOB = "spec.trialTemplate.trialSpec"
POD = f"{JOB}.spec.template.spec"


def _tool():
    spec = importlib.util.spec_from_file_location("job_fields_tool", REPO / "tools" / "job_fields.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_field_table_is_what_the_tool_writes_from_katibs_kubernetes_schemas():
    """The table is Kubernetes 1.34's (Katib's go.mod: k8s.io/api v0.34.0), read from the schemas
    kubernetes-validate ships, not from the installed ``kubernetes`` client, which kfp caps at 30."""
    tool = _tool()
    table = json.loads((REPO / "src" / "kfp_tune" / "core" / "job_fields.json").read_text())
    assert table == tool.job_fields()
    assert table["kubernetes"] == tool.KUBERNETES == "1.34.0" and kubernetes_version() == "1.34"
    assert {"containers", "restartPolicy", "nodeSelector", "tolerations", "resources"} <= set(table["models"]["V1PodSpec"])


def _job_fields_or_skip(tool, version):
    """The tool's table for ``version``, or a skip saying why: kubernetes-validate ships a moving
    window of Kubernetes versions, so a newer release may lack one a comparison needs."""
    if not tool.has_schemas(version):
        pytest.skip(tool.missing_schemas(version))
    return tool.job_fields(version)


def test_a_comparison_skips_naming_the_schemas_the_installed_kubernetes_validate_lacks():
    """A kubernetes-validate past 1.30 (it dropped that folder) skips the 1.30 comparison with the
    reason rather than erroring with SystemExit."""
    with pytest.raises(pytest.skip.Exception, match=r"no schemas of Kubernetes 1\.20\.0 \(it ships a moving window"):
        _job_fields_or_skip(_tool(), "1.20.0")


def test_the_tool_advises_by_version_when_the_schemas_are_missing():
    """Too old a version: a newer kubernetes-validate dropped it, so upgrading is not the advice;
    too new: upgrading is."""
    tool = _tool()
    oldest, newest = tool.schema_versions()[0], tool.schema_versions()[-1]
    assert tool.has_schemas(oldest) and tool.has_schemas(newest) and tool.has_schemas(tool.KUBERNETES)
    with pytest.raises(SystemExit, match=r"an older kubernetes-validate ships 1\.0\.0 \(a newer release dropped it\)") as too_old:
        tool.definitions("1.0.0")
    assert ">=1.34" not in str(too_old.value) and f"Kubernetes {oldest} to {newest}" in str(too_old.value)
    with pytest.raises(SystemExit, match=r"no schemas of Kubernetes 99\.0\.0 .*: pip install --upgrade kubernetes-validate$"):
        tool.definitions("99.0.0")


def test_the_tool_reads_the_schemas_as_the_kubernetes_client_did():
    """Kubernetes 1.30's schemas give the table the ``kubernetes`` client 30 gives (in its type
    names: str for a quantity, object for an IntOrString or raw JSON): the source changed, not
    how it is read."""
    import kubernetes
    import kubernetes.client.models as client_models

    if not kubernetes.__version__.startswith("30."):
        pytest.skip(f"compares with the kubernetes client 30 (Kubernetes 1.30); installed {kubernetes.__version__}")
    from_schemas = _job_fields_or_skip(_tool(), "1.30.0")["models"]
    client_names = {"quantity": "str", "int-or-string": "object", "any": "object"}
    from_client = {}
    for name in from_schemas:
        model = getattr(client_models, name)
        from_client[name] = {model.attribute_map[attribute]: kind for attribute, kind in model.openapi_types.items()}
    assert from_schemas.keys() == from_client.keys() and len(from_schemas) > 100
    for name, fields in from_schemas.items():
        as_the_client_types = {field: re.sub(r"[\w-]+", lambda word: client_names.get(word.group(), word.group()), kind) for field, kind in fields.items()}
        assert as_the_client_types == from_client[name], name
    assert from_schemas["V1PodResourceClaim"] == {"name": "str", "source": "V1ClaimSource"}
    assert from_schemas["V1ResourceRequirements"]["limits"] == "dict(str, quantity)"


def _experiment(edit):
    doc = quadratic_experiment()
    edit(doc["spec"]["trialTemplate"]["trialSpec"])
    return doc


def _errors(doc) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        load_experiment(doc)
    return {e.path: e.message for e in caught.value.errors}


@pytest.mark.parametrize(
    "edit, where, near",
    [
        (lambda job: job["spec"]["template"]["spec"].update(restartPolcy="Never"), f"{POD}.restartPolcy", "restartPolicy"),
        (lambda job: job["spec"]["template"]["spec"].update(nodeSelecter={"gpu": "a100"}), f"{POD}.nodeSelecter", "nodeSelector"),
        (lambda job: job["spec"]["template"]["spec"]["containers"][0].update(imagePullPolcy="Always"), f"{POD}.containers[0].imagePullPolcy", "imagePullPolicy"),
        (lambda job: job["spec"]["template"]["spec"]["containers"][0].setdefault("env", []).append({"name": "A", "valueFrm": {}}), f"{POD}.containers[0].env[0].valueFrm", "valueFrom"),
        (lambda job: job["spec"].update(backofLimit=2), f"{JOB}.spec.backofLimit", "backoffLimit"),
        (lambda job: job.setdefault("metadata", {}).update(label={"a": "b"}), f"{JOB}.metadata.label", "labels"),
    ],
    ids=["pod", "pod-map", "container", "env-item", "job-spec", "metadata"],
)
def test_a_misspelt_field_is_refused_where_it_is_with_the_name_meant(edit, where, near):
    errors = _errors(_experiment(edit))
    assert list(errors) == [where]
    assert errors[where].startswith("not a field of ") and errors[where].endswith(f"did you mean {near!r}?")
    assert "(Katib's webhook, built on Kubernetes 1.34 types, refuses a Job template it cannot convert)" in errors[where]


def test_a_job_using_many_fields_is_accepted():
    """Fields from every corner of a Job (affinity, tolerations, volumes, probes, security,
    init containers, a pod failure policy) and any resource name (a device plugin's GPU)."""
    def edit(job):
        job["metadata"] = {"labels": {"team": "a"}, "annotations": {"note": "x"}}
        job["spec"].update(backoffLimit=0, ttlSecondsAfterFinished=60, activeDeadlineSeconds=600, parallelism=1,
                           podFailurePolicy={"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]})
        pod = job["spec"]["template"]["spec"]
        pod.update(
            nodeSelector={"accelerator": "nvidia"}, tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
            affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}, {"name": "shm", "emptyDir": {"medium": "Memory"}}],
            securityContext={"runAsNonRoot": True, "fsGroup": 1000}, serviceAccountName="trainer",
            initContainers=[{"name": "fetch", "image": "busybox", "command": ["true"]}],
        )
        container = pod["containers"][0]
        container.update(
            resources={"limits": {"nvidia.com/gpu": "1", "memory": "2Gi"}, "requests": {"cpu": "500m"}},
            volumeMounts=[{"name": "data", "mountPath": "/data"}],
            env=[{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            readinessProbe={"exec": {"command": ["true"]}, "periodSeconds": 5},
            securityContext={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        )
    assert load_experiment(_experiment(edit)).name == "quad"


def test_only_batch_v1_jobs_are_checked_as_in_katib():
    pytorch = {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {}, "madeUp": 1}}
    assert unknown_job_fields(pytorch, JOB) == []
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"madeUp": 1}}
    assert [p.path for p in unknown_job_fields(job, JOB)] == [f"{JOB}.spec.madeUp"]
    assert unknown_job_fields(copy.deepcopy({**job, "apiVersion": "batch/v2"}), JOB) == []


def test_a_limit_or_request_that_is_not_a_quantity_is_refused_where_it_is():
    """Katib converts a Job template to a typed Job, whose limits and requests are parsed as
    Kubernetes quantities: ``memory: lots`` is refused at admission. Numbers, every suffix, and
    a value a trial parameter fills in pass."""
    def edit(job):
        job["spec"]["template"]["spec"]["containers"][0]["resources"] = {
            "limits": {"memory": "lots", "nvidia.com/gpu": 1, "cpu": "1.5", "ephemeral-storage": "4Gi"},
            "requests": {"cpu": "2 cores", "memory": "${trialParameters.x}Mi", "hugepages-2Mi": "1e3"},
        }
    errors = _errors(_experiment(edit))
    container = f"{POD}.containers[0].resources"
    assert errors == {
        f"{container}.limits.memory": "expected a Kubernetes quantity such as 2, 500m or 4Gi, got 'lots'",
        f"{container}.requests.cpu": "expected a Kubernetes quantity such as 2, 500m or 4Gi, got '2 cores'",
    }


@pytest.mark.parametrize("amount", ["500000u", "250000000n", "1.", ".5", "+2", "1e3", "1E3", "1e-3", "1E+3", "1E", "1.5Ki", "0.5Gi", "2Ei",
                                    "0.1n", "1e-30", "1e9999999999", "9Ei"])
def test_every_quantity_apimachinery_parses_passes_and_reads_as_it_does(amount):
    """apimachinery's grammar (quantity.go): a signed number and a suffix, binary (Ki..Ei), decimal
    (n, u, m, k..E; a lone E is exa) or an exponent. ``cpu: 500000u`` (half a core) or
    ``250000000n`` in a trial template were refused though Katib takes them."""
    def edit(job):
        job["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": amount}}
    trial = load_experiment(_experiment(edit))
    expected = {"500000u": Fraction(1, 2), "250000000n": Fraction(1, 4), "1.": 1, ".5": Fraction(1, 2), "+2": 2, "1e3": 1000, "1E3": 1000,
                "1e-3": Fraction(1, 1000), "1E+3": 1000, "1E": 10**18, "1.5Ki": 1536, "0.5Gi": 2**29,
                "2Ei": 2**61,  # Ei is exbi, not an exponent ('i' read as its digits was a ValueError's text)
                "0.1n": Fraction(1, 10**9), "1e-30": Fraction(1, 10**9),  # finer than a nano: rounded up to one, as ParseQuantity does
                "1e9999999999": 2**63 - 1, "9Ei": 2**63 - 1,  # capped, read at once (10 ** 9999999999 was computed until killed)
                }[amount]
    assert trial_resource_amounts(trial) == {"cpu": expected}


@pytest.mark.parametrize("amount", ["2\n", "1e", "1e1.5", "1ki", "1Ki ", "1mi", "1.5.2", "1 m", "0x10", "1_000", "٣", "２Gi", "1e٣"])
def test_text_apimachinery_refuses_as_a_quantity_is_refused(amount):
    """Go's ParseQuantity refuses ``2`` with a newline after it (a pattern ending in ``$`` let it
    by), an exponent with no digits or a fraction, a suffix it does not know, and digits other than
    ASCII's (Python's ``\\d`` took ``٣`` for 3)."""
    def edit(job):
        job["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"memory": amount}}
    where = f"{POD}.containers[0].resources.requests.memory"
    assert _errors(_experiment(edit)) == {where: f"expected a Kubernetes quantity such as 2, 500m or 4Gi, got {amount!r}"}


@pytest.mark.parametrize("policy", ["Always", "never"])
def test_a_job_pod_that_kubernetes_would_not_create_is_refused_before_anything_runs(policy):
    """Katib admits ``restartPolicy: Always`` in a Job template; Kubernetes then refuses to create
    every trial's Job. OnFailure and Never pass."""
    def edit(job):
        job["spec"]["template"]["spec"]["restartPolicy"] = policy
    assert _errors(_experiment(edit)) == {f"{POD}.restartPolicy": f"expected OnFailure or Never for a Job's pod (Kubernetes refuses to create a Job with another), got '{policy}'"}
    for fine in ("OnFailure", "Never"):
        assert load_experiment(_experiment(lambda job, fine=fine: job["spec"]["template"]["spec"].update(restartPolicy=fine))).name == "quad"


def _job_edit(where: str, value):
    """An edit setting ``where`` (JOB- or POD-relative, dotted, ``containers[0]`` indexed) to value."""
    def edit(job):
        holder = job
        *parents, last = where.replace("]", "").replace("[", ".").split(".")
        for part in parents:
            holder = holder[int(part)] if part.isdigit() else holder.setdefault(part, {})
        holder[last] = value
    return edit


MISTYPED = [  # (field under the Job, value, what is expected): the fuzzing pass's jobtypes.yaml and more
    ("spec.backoffLimit", "lots", "an integer"),
    ("spec.template.spec.nodeSelector", "gpu", "a mapping"),
    ("spec.template.spec.containers[0].resources", "2Gi", "a mapping"),
    ("spec.template.spec.containers[0].ports", "8080", "a list"),
    ("spec.template.spec.containers[0].resources.limits", 5, "a mapping"),
    ("spec.template.spec.containers[0].resources.limits", "", "a mapping"),
    ("spec.template.spec.containers[0].resources.requests", ["1"], "a mapping"),
    ("spec.template.spec.containers[0].volumeMounts", "x", "a list"),
    ("metadata.labels", "x", "a mapping"),
    ("metadata.labels.team", 1, "a string"),
    ("spec.template.spec.containers[0].ports", [{"containerPort": "80"}], "an integer"),
    ("spec.template.spec.containers[0].stdin", "yes", "true or false"),
    ("spec.template.spec.hostname", 3, "a string"),
    ("spec.backoffLimit", "${trialParameters.x}", "an integer"),
]


@pytest.mark.parametrize(("field", "value", "expected"), MISTYPED, ids=[f"{f}={v!r}" for f, v, _ in MISTYPED])
def test_a_field_of_the_wrong_type_is_refused_as_katibs_conversion_refuses_it(field, value, expected):
    errors = _errors(_experiment(_job_edit(field, value)))
    where = f"{JOB}.{field}" + (".containerPort" if isinstance(value, list) and value and isinstance(value[0], dict) else "")
    where = where.replace(".ports", ".ports[0]") if where.endswith("containerPort") else where
    assert list(errors) == [where], errors
    assert errors[where].startswith(f"expected {expected}") and "Katib's webhook, built on Kubernetes 1.34 types, refuses a Job template" in errors[where]
    if "${trialParameters." in str(value):
        assert "stays text" in errors[where], "the placeholder's case says why"


WELL_TYPED = [
    ("spec.backoffLimit", 2.0),  # a whole number written 2.0: JSON's 2
    ("spec.template.spec.containers[0].livenessProbe", {"httpGet": {"port": "http", "path": "/"}, "periodSeconds": 5}),  # IntOrString
    ("spec.template.spec.containers[0].livenessProbe", {"tcpSocket": {"port": 8080}}),
    ("spec.template.spec.containers[0].resources", {"limits": {"cpu": 2, "memory": "4Gi", "nvidia.com/gpu": "1"}}),
    ("spec.template.spec.volumes", [{"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}]),
    ("spec.backoffLimit", "${yaml:trialParameters.x}"),  # a ConfigMap template's unquoted placeholder: typed at trial time
]


@pytest.mark.parametrize(("field", "value"), WELL_TYPED, ids=[f"{f}={v!r}" for f, v in WELL_TYPED])
def test_values_that_convert_are_accepted(field, value):
    load_experiment(_experiment(_job_edit(field, value)))


def test_a_quantity_field_outside_resources_is_checked_too():
    errors = _errors(_experiment(_job_edit("spec.template.spec.volumes", [{"name": "v", "emptyDir": {"sizeLimit": "lots"}}])))
    assert list(errors) == [f"{POD}.volumes[0].emptyDir.sizeLimit"] and "quantity" in errors[f"{POD}.volumes[0].emptyDir.sizeLimit"]


def test_a_command_of_the_wrong_type_is_told_once():
    errors = _errors(_experiment(_job_edit("spec.template.spec.containers[0].command", "python train.py")))
    assert list(errors) == [f"{POD}.containers[0].command"] and "such as ['python', 'train.py']" in errors[f"{POD}.containers[0].command"]


def test_a_job_asking_for_a_gpu_through_dynamic_resource_allocation_is_accepted():
    """DRA as Kubernetes 1.31+ and NVIDIA's DRA driver write it (GA in 1.34, Katib's webhook's
    Kubernetes): a pod's claim from a ResourceClaimTemplate, a container's claim naming a request,
    and a pod's own resources. Refused as unknown fields when the table was Kubernetes 1.30's."""
    def edit(job):
        pod = job["spec"]["template"]["spec"]
        pod["resourceClaims"] = [{"name": "gpu", "resourceClaimTemplateName": "single-gpu"}, {"name": "shared", "resourceClaimName": "pool"}]
        pod["resources"] = {"limits": {"cpu": "4", "memory": "8Gi"}}
        pod["containers"][0]["resources"] = {"claims": [{"name": "gpu", "request": "gpu"}, {"name": "shared"}]}
    assert load_experiment(_experiment(edit)).name == "quad"


def test_kfp_tune_validate_passes_the_qa_dra_experiment(tmp_path, capsys):
    """The QA pass's job-dra.yaml through ``kfp-tune validate``: exit 0, no error printed."""
    from kfp_tune.cli import main

    path = tmp_path / "job-dra.yaml"
    path.write_text(DRA_EXPERIMENT)
    assert main(["validate", str(path)]) == 0
    assert "not a field" not in capsys.readouterr().err


DRA_EXPERIMENT = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: job-dra}
spec:
  parallelTrialCount: 1
  maxTrialCount: 1
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.05"}}
  trialTemplate:
    primaryContainerName: training
    trialParameters: [{name: learningRate, reference: lr}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            resourceClaims: [{name: gpu, resourceClaimTemplateName: single-gpu}]
            containers:
              - name: training
                image: nvcr.io/nvidia/pytorch:24.01-py3
                command: ["python3", "train.py", "--lr=${trialParameters.learningRate}"]
                resources: {claims: [{name: gpu, request: gpu}]}
"""


def test_a_pods_own_resources_are_checked_as_a_containers_are():
    errors = _errors(_experiment(_job_edit("spec.template.spec.resources", {"limits": {"memory": "lots"}, "requets": {}})))
    assert errors == {
        f"{POD}.resources.limits.memory": "expected a Kubernetes quantity such as 2, 500m or 4Gi, got 'lots'",
        f"{POD}.resources.requets": "not a field of ResourceRequirements in a batch/v1 Job (Katib's webhook, built on Kubernetes 1.34 types, "
                                    "refuses a Job template it cannot convert); did you mean 'requests'?",
    }


def test_the_alpha_claim_shape_kubernetes_dropped_is_refused_naming_the_kubernetes_checked():
    """Kubernetes 1.30's ``source`` (DRA's alpha shape) is gone from 1.31 on, so from the Job Katib
    converts to: refused, with the fields that are there and the Kubernetes version they are from."""
    errors = _errors(_experiment(_job_edit("spec.template.spec.resourceClaims", [{"name": "gpu", "source": {"resourceClaimTemplateName": "t"}}])))
    assert errors == {
        f"{POD}.resourceClaims[0].source": "not a field of PodResourceClaim in a batch/v1 Job (Katib's webhook, built on Kubernetes 1.34 types, "
                                           "refuses a Job template it cannot convert); known: name, resourceClaimName, resourceClaimTemplateName",
    }
