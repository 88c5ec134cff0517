"""Katib's ``trialTemplate.configMap``: the template read from a ConfigMap (local files for the
CLI, the Kubernetes API on the cluster), validated as if written inline, every failure a clear
error naming the field, and nothing stored before it is read."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
import yaml

from conftest import DATA, quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.collectors.sidecar import CONTAINER_NAME
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import KUBEFLOW_JOB_FAILURE_CONDITION, KUBEFLOW_JOB_SUCCESS_CONDITION
from kfp_tune.core.template_source import config_maps_from_files, needs_config_map, resolve_trial_template
from kfp_tune.launchers.kubernetes import render_manifest

EXAMPLE = DATA / "katib-examples" / "trial-template_trial-configmap-source.yaml"
FITTING = DATA / "trial-templates.yaml"
KATIBS = DATA / "katib-manifests" / "trial-templates.yaml"


def _by_config_map(**overrides: Any) -> dict[str, Any]:
    """The quadratic experiment with its template moved into ConfigMap team-a/templates, key quad.yaml."""
    doc = quadratic_experiment(**overrides)
    template = doc["spec"]["trialTemplate"]
    template["configMap"] = {"configMapName": "templates", "configMapNamespace": "team-a", "templatePath": "quad.yaml"}
    # Katib defaults these only when it can see a Job's kind; a ConfigMap template states them
    template["successCondition"] = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
    template["failureCondition"] = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    return doc


def _config_map(template: Any, key: str = "quad.yaml") -> dict[str, Any]:
    text = template if isinstance(template, str) else yaml.safe_dump(template)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "templates", "namespace": "team-a"}, "data": {key: text}}


def _resolve(doc: dict[str, Any], config_map: dict[str, Any] | None):
    inline = doc["spec"]["trialTemplate"].pop("trialSpec")
    experiment = load_experiment(doc)
    data = None if config_map is None else config_map["data"]
    return (
        experiment,
        inline,
        lambda: resolve_trial_template(experiment, lambda ns, name: data if (ns, name) == ("team-a", "templates") else None, "in the test"),
    )


def test_the_template_is_read_and_validated_as_if_inline():
    doc = _by_config_map()
    inline = doc["spec"]["trialTemplate"]["trialSpec"]
    experiment, _, resolve = _resolve(doc, _config_map(inline))
    assert needs_config_map(experiment)
    resolved = resolve()
    assert not needs_config_map(resolved)
    assert resolved.spec.trial_template.trial_spec == inline and resolved.spec.trial_template.config_map is None
    assert resolved.search_space_hash() == experiment.search_space_hash()


@pytest.mark.parametrize(
    ("config_map", "expected"),
    [
        (None, "spec.trialTemplate.configMap.configMapName: no ConfigMap 'templates' in namespace 'team-a' in the test"),
        (
            _config_map({"kind": "Job"}, key="other.yaml"),
            "spec.trialTemplate.configMap.templatePath: ConfigMap team-a/templates has no key 'quad.yaml' (its keys: other.yaml)",
        ),
        (_config_map("kind: [Job"), "spec.trialTemplate.configMap.templatePath: ConfigMap team-a/templates key 'quad.yaml': not valid YAML"),
        (_config_map("- a list"), "key 'quad.yaml': expected one Kubernetes resource (a YAML mapping)"),
        (_config_map("kind: Job\n---\nkind: Job\n"), "spec.trialTemplate.configMap.templatePath: ConfigMap team-a/templates key 'quad.yaml': expected one Kubernetes resource"),
    ],
    ids=["no-config-map", "no-key", "bad-yaml", "not-a-mapping", "two-documents"],
)
def test_what_cannot_be_read_is_named(config_map, expected):
    _, _, resolve = _resolve(_by_config_map(), config_map)
    with pytest.raises(SpecError) as caught:
        resolve()
    assert expected in "\n".join(f"{e.path}: {e.message}" for e in caught.value.errors)


def test_an_inline_template_is_the_experiment_itself_and_no_config_map_is_read():
    experiment = load_experiment(quadratic_experiment())

    def read(namespace: str, name: str) -> None:
        raise AssertionError(f"read ConfigMap {namespace}/{name}")

    assert resolve_trial_template(experiment, read, "in the test") is experiment


def test_a_template_that_does_not_fit_the_trial_parameters_is_refused_saying_where_it_came_from():
    doc = _by_config_map()
    template = doc["spec"]["trialTemplate"]["trialSpec"]
    template["spec"]["template"]["spec"]["containers"][0]["args"] = ["x=${trialParameters.x}", "z=${trialParameters.z}"]
    _, _, resolve = _resolve(doc, _config_map(template))
    with pytest.raises(SpecError) as caught:
        resolve()
    lines = [f"{e.path}: {e.message}" for e in caught.value.errors]
    assert any(line.startswith("spec.trialTemplate.trialParameters[1].name: ${trialParameters.y} does not appear") for line in lines), lines
    assert any("${trialParameters.z} is used but not declared" in line for line in lines), lines
    assert all("(template from ConfigMap team-a/templates key 'quad.yaml')" in line for line in lines)


def test_config_maps_from_files_reads_kubectl_output_lists_and_folders(tmp_path):
    folder = tmp_path / "maps"
    folder.mkdir()
    (folder / "a.yaml").write_text(yaml.safe_dump_all([_config_map("kind: Job"), {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}]))
    listed = {"apiVersion": "v1", "kind": "List", "items": [{"kind": "ConfigMap", "metadata": {"name": "plain"}, "data": {"k": "v"}}]}
    (tmp_path / "list.yaml").write_text(yaml.safe_dump(listed))
    found = config_maps_from_files([folder, tmp_path / "list.yaml"])
    assert found == {("team-a", "templates"): {"quad.yaml": "kind: Job"}, ("default", "plain"): {"k": "v"}}


def test_katibs_example_with_katibs_own_config_map_is_refused_as_katib_refuses_it(capsys):
    """Katib's example names learningRate, numberLayers and optimizer; Katib's shipped
    defaultTrialTemplate.yaml uses learningRate and momentum: Katib's validator refuses the pair."""
    assert main(["validate", str(EXAMPLE), "--trial-templates", str(KATIBS)]) == 2
    err = capsys.readouterr().err
    assert "spec.trialTemplate.trialParameters[1].name: ${trialParameters.numberLayers} does not appear" in err
    assert "${trialParameters.momentum} is used but not declared" in err


def test_the_cli_reads_templates_from_files_and_says_how_when_it_needs_them(tmp_path, capsys):
    assert main(["validate", str(EXAMPLE)]) == 0
    assert "read from ConfigMap kubeflow/trial-templates (key 'defaultTrialTemplate.yaml') when the run starts on the cluster" in capsys.readouterr().err
    for command in (["run", str(EXAMPLE), "--store", str(tmp_path / "store")], ["render", str(EXAMPLE)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "pass --trial-templates FILE (e.g. kubectl get configmap -n kubeflow trial-templates -o yaml > FILE)" in err and "Traceback" not in err
    assert not (tmp_path / "store").exists(), "nothing is stored before the template is read"
    assert main(["render", str(EXAMPLE), "--trial-templates", str(FITTING), "--assign", "lr=0.02"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sh", "-c"] and "lr=0.02" in shlex.split(container["args"][0])  # StdOut: Katib's sh -c line
    assert main(["run", str(EXAMPLE), "--trial-templates", str(tmp_path / "missing.yaml")]) == 2
    assert "--trial-templates" in capsys.readouterr().err


def test_compile_without_the_file_leaves_the_config_map_for_the_cluster(tmp_path):
    with_file, without = tmp_path / "with.yaml", tmp_path / "without.yaml"
    assert main(["compile", str(EXAMPLE), "-o", str(without)]) == 0
    assert main(["compile", str(EXAMPLE), "-o", str(with_file), "--trial-templates", str(FITTING)]) == 0
    assert "configMapName" in without.read_text() and "katib_example.py" not in without.read_text()
    assert "katib_example.py" in with_file.read_text()


def test_the_pipelines_first_step_reads_it_on_the_cluster_and_stores_the_experiment_with_it(tmp_path, monkeypatch):
    """suggest_step (the run's first step) reads the ConfigMap once; the stored experiment has
    the template inline, so every later step and a resumed run use the same one."""
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.launchers.kubernetes import config_maps
    from kfp_tune.steps.entrypoints import suggest_step
    from kfp_tune.stores import LocalStore

    doc = _by_config_map()
    inline = doc["spec"]["trialTemplate"].pop("trialSpec")
    reads: list[tuple[str, str]] = []

    def read(namespace: str, name: str, api_client: Any = None) -> dict[str, str] | None:
        reads.append((namespace, name))
        return _config_map(inline)["data"]

    monkeypatch.setattr(config_maps, "read_config_map", read)
    names = suggest_step(str(tmp_path / "store"), "quad", "run-1", 0, 1, experiment_spec=json.dumps(doc))
    assert names and reads == [("team-a", "templates")]
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    stored = records.read(records.experiment_key(), "Experiment")
    assert stored["spec"]["spec"]["trialTemplate"]["trialSpec"] == inline
    assert not stored["spec"]["spec"]["trialTemplate"].get("configMap")


def test_the_rbac_manifest_grants_that_read_and_nothing_more():
    docs = list(yaml.safe_load_all((DATA.parent.parent / "manifests" / "rbac-trial-templates.yaml").read_text()))
    (role,) = [d for d in docs if d["kind"] == "Role"]
    (binding,) = [d for d in docs if d["kind"] == "RoleBinding"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["trial-templates"], "verbs": ["get"]}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"] and binding["metadata"]["namespace"] == role["metadata"]["namespace"]
    # the account the guide runs pipelines as (manifests/rbac.yaml's), not default-editor
    assert [s["name"] for s in binding["subjects"]] == ["kfp-tune-launcher"]


def test_a_config_map_template_without_its_conditions_is_told_why_they_are_needed():
    """Katib defaults the success and failure conditions only for a trialSpec written in the
    Experiment; the error says so, rather than naming an empty kind."""
    doc = _by_config_map()
    template = doc["spec"]["trialTemplate"]
    del template["trialSpec"], template["successCondition"], template["failureCondition"]
    with pytest.raises(SpecError) as caught:
        load_experiment(doc)
    messages = {e.path: e.message for e in caught.value.errors}
    assert set(messages) == {"spec.trialTemplate.successCondition", "spec.trialTemplate.failureCondition"}
    assert all(m.startswith("required when the trial template comes from a ConfigMap") and "''" not in m for m in messages.values())


# Katib substitutes a ConfigMap template in its YAML text and parses it after
# (manifest/generator.go, applyParameters then ConvertStringToUnstructured): a placeholder that
# is a whole unquoted value takes the value's YAML type, and one may stand where YAML would not
# take ``${``, as in a flow sequence.
TYPED_TEMPLATE = """\
apiVersion: batch/v1
kind: Job
metadata:
  annotations:
    ${trialParameters.x}-seen: "yes"
spec:
  parallelism: ${trialParameters.y}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: python:3.11
          command: [python3, -c, "print(1)", --x=${trialParameters.x}, "${trialParameters.y}", ${trialParameters.x}]
          env: [{name: "Y", value: ${trialParameters.y}}]
"""


def test_a_config_map_template_is_substituted_as_katib_substitutes_its_text():
    from kfp_tune.core.state import TrialState
    from kfp_tune.core.trials import render_trial

    _, _, resolve = _resolve(_by_config_map(), _config_map(TYPED_TEMPLATE))
    resolved = resolve()
    trial = TrialState(name="quad-abcd1234", index=0, round="run-1-r000", assignment={"x": "0.25", "y": "2"}, created="")
    manifest = render_trial(resolved, trial)
    assert manifest["spec"]["parallelism"] == 2  # an int, as Katib's text substitution gives it, not "2"
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python3", "-c", "print(1)", "--x=0.25", "2", "0.25"]  # quoted, inside a word, or where
    assert container["env"] == [{"name": "Y", "value": "2"}]  # Kubernetes takes only strings (a number fails every create under Katib)
    assert manifest["metadata"]["annotations"]["0.25-seen"] == "yes"  # keys too
    # what kfp-tune stores in place of the ConfigMap says which placeholders take a YAML type
    assert resolved.spec.trial_template.trial_spec["spec"]["parallelism"] == "${yaml:trialParameters.y}"


def test_an_inline_template_keeps_every_value_a_string_and_fills_in_keys():
    """Katib substitutes an inline trialSpec in its JSON text: a value stays a string. (A
    custom resource's: in a batch/v1 Job, text where an integer belongs is refused, as Katib's
    webhook refuses it, tests/core/test_job_fields.py.)"""
    from kfp_tune.core.state import TrialState
    from kfp_tune.core.trials import render_trial

    doc = quadratic_experiment(**{
        "spec.trialTemplate.trialSpec.apiVersion": "example.com/v1", "spec.trialTemplate.trialSpec.kind": "Trainer",
        "spec.trialTemplate.successCondition": "status.done", "spec.trialTemplate.failureCondition": "status.failed",
    })
    job = doc["spec"]["trialTemplate"]["trialSpec"]
    job["spec"]["parallelism"] = "${trialParameters.y}"
    job.setdefault("metadata", {})["annotations"] = {"${trialParameters.x}-seen": "yes"}
    trial = TrialState(name="quad-abcd1234", index=0, round="run-1-r000", assignment={"x": "0.25", "y": "2"}, created="")
    manifest = render_trial(load_experiment(doc), trial)
    assert manifest["spec"]["parallelism"] == "2" and manifest["metadata"]["annotations"] == {"0.25-seen": "yes"}


def test_a_parameter_used_only_in_a_key_is_used():
    """Katib's webhook looks for the placeholder in the whole template text, keys included."""
    doc = quadratic_experiment()
    job = doc["spec"]["trialTemplate"]["trialSpec"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["command"] = [part.replace("${trialParameters.x}", "0") for part in container.get("command", [])]
    container["args"] = [part.replace("${trialParameters.x}", "0") for part in container.get("args", [])]
    for env in container.get("env", []):
        env["value"] = str(env.get("value", "")).replace("${trialParameters.x}", "0")
    job.setdefault("metadata", {})["annotations"] = {"x-${trialParameters.x}": "seen"}
    load_experiment(doc)  # no "does not appear in spec.trialTemplate.trialSpec"


def _pytorch_job_experiment(primary_pod_labels: dict[str, str] | None) -> dict[str, Any]:
    """The quadratic experiment as an inline PyTorchJob (Master and two Workers), File collector."""
    doc = quadratic_experiment()
    template = doc["spec"]["trialTemplate"]
    container = {**template["trialSpec"]["spec"]["template"]["spec"]["containers"][0], "name": "pytorch"}
    replica = {"restartPolicy": "OnFailure", "template": {"spec": {"containers": [container]}}}
    template["trialSpec"] = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, **replica}, "Worker": {"replicas": 2, **replica}}},
    }
    template["primaryContainerName"] = "pytorch"
    template["successCondition"] = KUBEFLOW_JOB_SUCCESS_CONDITION
    template["failureCondition"] = KUBEFLOW_JOB_FAILURE_CONDITION
    if primary_pod_labels is not None:
        template["primaryPodLabels"] = primary_pod_labels
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "File"}}
    return doc


def _collected_replicas(experiment: Any) -> list[str]:
    """The replicas whose pods get kfp-tune's metrics collector."""
    replicas = render_manifest(experiment)["spec"]["pytorchReplicaSpecs"]
    return [role for role, spec in replicas.items() if any(c["name"] == CONTAINER_NAME for c in spec["template"]["spec"].get("initContainers", []))]


@pytest.mark.parametrize("primary_pod_labels", [None, {"training.kubeflow.org/replica-type": "worker"}], ids=["left-out", "given"])
def test_a_kubeflow_job_from_a_config_map_gets_the_default_primary_pod_labels_an_inline_one_gets(primary_pod_labels):
    """Katib's webhook defaults primaryPodLabels (job-role: master) only for an inline trialSpec
    (experiment_defaults.go, setDefaultTrialTemplate); left out for a ConfigMap's template, every
    pod there is a primary pod and each replica's collector reports. kfp-tune reads one pod's log,
    so it gives a ConfigMap's Kubeflow job the inline default (the master's metrics, not a worker's
    picked by age), and what the user wrote when given: a difference the guide lists, kept so that
    experiments stored with the default resume."""
    doc = _pytorch_job_experiment(primary_pod_labels)
    expected = primary_pod_labels or {"training.kubeflow.org/job-role": "master"}
    inline = load_experiment(doc)
    assert inline.spec.trial_template.primary_pod_labels == expected
    assert _collected_replicas(inline) == (["Worker"] if primary_pod_labels else ["Master"])
    doc["spec"]["trialTemplate"]["configMap"] = {"configMapName": "templates", "configMapNamespace": "team-a", "templatePath": "quad.yaml"}
    trial_spec = doc["spec"]["trialTemplate"]["trialSpec"]
    resolved = _resolve(doc, _config_map(trial_spec))[2]()
    assert resolved.spec.trial_template.primary_pod_labels == expected
    assert resolved.to_dict()["spec"]["trialTemplate"].get("primaryPodLabels") == expected  # as stored
    assert _collected_replicas(resolved) == (["Worker"] if primary_pod_labels else ["Master"])
