"""What validation says about spec.trialTemplate.trialParameters and the trial template's
containers where mutants of ``validation`` passed every other test: the labels a template may
read because kfp-tune or the algorithm puts them on every trial (round; pbt's parent, under pbt
only), trialParameter names a substitution cannot carry, env entries that take their value from
elsewhere, and two parameter checks (logNormal's positive min, an operation's double step)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import DELETE, load_katib_example, merge, quadratic_experiment, validation_errors
from kfp_tune.core.errors import FieldError

TRIAL_PARAMETERS = "spec.trialTemplate.trialParameters"
PBT_PARENT = "pbt.suggestion.katib.kubeflow.org/parent"


def at(errors: list[FieldError], prefix: str) -> dict[str, str]:
    """path -> message for the errors under prefix."""
    return {e.path: e.message for e in errors if e.path.startswith(prefix)}


def reading_label(doc: dict[str, Any], label: str) -> dict[str, Any]:
    """doc whose first container also gets ``--from-label=`` the trial's label (a trialParameter)."""
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "fromLabel", "reference": f"${{trialSpec.Labels[{label}]}}"})
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0].setdefault("args", []).append("--from-label=${trialParameters.fromLabel}")
    return doc


def test_a_template_may_read_the_round_label_kfp_tune_puts_on_its_trials() -> None:
    assert validation_errors(reading_label(quadratic_experiment(), "kfp-tune.kubeflow.org/round")) == []


def test_pbts_parent_label_may_be_read_under_pbt() -> None:
    """pbt labels each trial with its parent before the references are read (Katib's pbt
    service does the same); under random the same reference is refused (tested beside it)."""
    simple_pbt = merge(load_katib_example("hp-tuning_simple-pbt.yaml"), {"spec.maxTrialCount": 4})  # Katib refuses its 2 (< 3 failures)
    assert validation_errors(reading_label(simple_pbt, PBT_PARENT)) == []
    refused = reading_label(merge(simple_pbt, {"spec.algorithm": {"algorithmName": "random"}}), PBT_PARENT)
    assert PBT_PARENT in at(validation_errors(refused), f"{TRIAL_PARAMETERS}[1].reference")[f"{TRIAL_PARAMETERS}[1].reference"]


@pytest.mark.parametrize("name", ["", "x{", "}x"])
def test_a_trial_parameter_name_that_is_empty_or_has_a_brace_is_refused_at_the_name(name: str) -> None:
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialParameters"][0]["name"] = name
    got = at(validation_errors(doc), f"{TRIAL_PARAMETERS}[0]")
    assert got == {f"{TRIAL_PARAMETERS}[0].name": f"required, without '{{' or '}}', got {name!r}"}


def test_an_env_entry_that_takes_its_value_from_a_secret_is_accepted() -> None:
    """Katib's examples pass credentials as ``valueFrom: secretKeyRef``: an entry without value."""
    doc = quadratic_experiment()
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}, {"name": "MODE", "value": "fast"}]
    assert validation_errors(doc) == []


@pytest.mark.parametrize("distribution", ["logUniform", "logNormal"])
def test_a_log_distribution_needs_a_positive_min(distribution: str) -> None:
    doc = quadratic_experiment()
    doc["spec"]["parameters"][0]["feasibleSpace"] = {"min": "0", "max": "1", "distribution": distribution}
    got = at(validation_errors(doc), "spec.parameters[0]")
    assert got == {"spec.parameters[0].feasibleSpace.min": f"expected min > 0 for the {distribution} distribution, got 0"}


@pytest.mark.parametrize("step", [DELETE, ""])
def test_a_double_parameter_of_an_operation_needs_a_step(step: object) -> None:
    """An operation's values are enumerated (min, min + step, ... max): Katib's NAS services
    need the step; an empty string (as Katib's CRD leaves it) is no step."""
    doc = load_katib_example("nas_enas-cpu.yaml")
    doc["spec"]["nasConfig"]["operations"][0]["parameters"][0] = {
        "name": "dropout",
        "parameterType": "double",
        "feasibleSpace": {"min": "0.1", "max": "0.5", "step": "0.2"},
    }
    assert validation_errors(doc) == []
    if step is DELETE:
        del doc["spec"]["nasConfig"]["operations"][0]["parameters"][0]["feasibleSpace"]["step"]
    else:
        doc["spec"]["nasConfig"]["operations"][0]["parameters"][0]["feasibleSpace"]["step"] = step
    step_path = "spec.nasConfig.operations[0].parameters[0].feasibleSpace.step"
    assert at(validation_errors(doc), "spec.nasConfig") == {
        step_path: "required for a double parameter of an operation: its values are min, min + step, ... max"
    }


# --- trialParameters declared or referenced twice; each entry checked past a bad one -------------


def with_trial_parameters(*entries: dict[str, str]) -> dict[str, Any]:
    """The quadratic experiment with x and y's trialParameters followed by entries."""
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialParameters"] += list(entries)
    return doc


def test_a_trial_parameter_declared_twice_is_named_at_the_second() -> None:
    got = at(validation_errors(with_trial_parameters({"name": "x", "reference": "y"})), TRIAL_PARAMETERS)
    assert got == {f"{TRIAL_PARAMETERS}[2].name": "'x' is declared more than once"}


def test_a_parameter_referenced_twice_is_named_at_the_second() -> None:
    got = at(validation_errors(with_trial_parameters({"name": "x2", "reference": "x"})), TRIAL_PARAMETERS)
    assert got == {f"{TRIAL_PARAMETERS}[2].reference": "'x' is referenced more than once"}


def test_a_missing_reference_says_what_a_reference_may_be() -> None:
    got = at(validation_errors(with_trial_parameters({"name": "z", "reference": ""})), TRIAL_PARAMETERS)
    assert got == {f"{TRIAL_PARAMETERS}[2].reference": "required: a parameter name or ${trialSpec.Name|Namespace|Kind|APIVersion|Labels[k]|Annotations[k]}"}


def test_every_trial_parameter_is_checked_past_a_bad_one() -> None:
    """One mistake per entry, each reported: a bad name, no reference, a name and a reference
    given twice, and after them all a reference to nothing."""
    doc = with_trial_parameters(
        {"name": "a{", "reference": "x"},
        {"name": "b", "reference": ""},
        {"name": "x", "reference": "y"},
        {"name": "c", "reference": "x"},
        {"name": "d", "reference": "nothing"},
    )
    got = at(validation_errors(doc), TRIAL_PARAMETERS)
    assert [path.removeprefix(TRIAL_PARAMETERS) for path in got] == ["[2].name", "[3].reference", "[4].name", "[5].reference", "[6].reference", "[6].name"]
    assert got[f"{TRIAL_PARAMETERS}[6].reference"].startswith("'nothing' is not in spec.parameters")


# --- containers that are not under spec.template.spec: TrainJob's trainer, Argo's templates ------


def test_a_trainjobs_trainer_is_checked_as_a_container() -> None:
    """A TrainJob has no pod template: its spec.trainer holds the command and args."""
    doc = load_katib_example("kubeflow-trainer_trainjob-pytorch.yaml")
    assert validation_errors(doc) == []
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["trainer"]["command"] = "python3 /opt/pytorch-mnist/mnist.py --lr=${trialParameters.learningRate}"
    path = "spec.trialTemplate.trialSpec.spec.trainer.command"
    [message] = [e.message for e in validation_errors(doc) if e.path == path]
    assert "list of strings" in message and "got 'python3 /opt/pytorch-mnist/mnist.py" in message


def test_a_trainer_field_elsewhere_than_a_trainjob_is_no_container() -> None:
    """Only a TrainJob's spec.trainer is one; another kind's ``trainer`` is its own business (a
    custom resource's: a batch/v1 Job has no such field, and Katib refuses it there)."""
    doc = quadratic_experiment(**{
        "spec.trialTemplate.trialSpec.apiVersion": "example.com/v1", "spec.trialTemplate.trialSpec.kind": "Trainer",
        "spec.trialTemplate.successCondition": "status.done", "spec.trialTemplate.failureCondition": "status.failed",
    })
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["trainer"] = {"command": "not a container"}
    assert validation_errors(doc) == []


def test_a_trainjob_whose_spec_is_no_mapping_is_an_error_not_a_crash() -> None:
    doc = load_katib_example("kubeflow-trainer_trainjob-pytorch.yaml")
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"] = "torch-distributed"
    got = at(validation_errors(doc), "spec.trialTemplate.primaryContainerName")
    assert got == {"spec.trialTemplate.primaryContainerName": "no container named 'node' in trialSpec"}


@pytest.mark.parametrize(("index", "key"), [(1, "script"), (2, "container")])
def test_an_argo_templates_container_and_script_are_checked_as_containers(index: int, key: str) -> None:
    doc = load_katib_example("argo_argo-workflow.yaml")
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["templates"][index][key]["command"] = "python3 train.py"
    path = f"spec.trialTemplate.trialSpec.spec.templates[{index}].{key}.command"
    [message] = [e.message for e in validation_errors(doc) if e.path == path]
    assert "['python3', 'train.py']" in message


def tekton(kind: str, command: str) -> dict[str, Any]:
    """The quadratic experiment run as a Tekton TaskRun or PipelineRun whose step and sidecar
    both have ``command`` written as one string."""
    doc = quadratic_experiment()
    task = {
        "steps": [{"name": "main", "image": "python:3.11", "command": command, "args": ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]}],
        "sidecars": [{"name": "side", "image": "busybox", "command": command}],
    }
    spec = {"taskSpec": task} if kind == "TaskRun" else {"pipelineSpec": {"tasks": [{"name": "train", "taskSpec": task}]}}
    doc["spec"]["trialTemplate"].update(
        trialSpec={"apiVersion": "tekton.dev/v1", "kind": kind, "spec": spec},
        primaryContainerName="step-main",
        successCondition='status.conditions.#(type=="Succeeded")#|#(status=="True")#',
        failureCondition='status.conditions.#(type=="Succeeded")#|#(status=="False")#',
    )
    return doc


@pytest.mark.parametrize(("kind", "where"), [("TaskRun", "taskSpec"), ("PipelineRun", "pipelineSpec.tasks[0].taskSpec")])
def test_a_tekton_tasks_steps_and_sidecars_are_checked_as_containers(kind: str, where: str) -> None:
    assert validation_errors(_with_list_commands(tekton(kind, "python train.py"))) == []
    got = {e.path: e.message for e in validation_errors(tekton(kind, "python train.py"))}
    prefix = f"spec.trialTemplate.trialSpec.spec.{where}"
    assert list(got) == [f"{prefix}.steps[0].command", f"{prefix}.sidecars[0].command"]
    assert "['python', 'train.py']" in got[f"{prefix}.steps[0].command"]


def _with_list_commands(doc: dict[str, Any]) -> dict[str, Any]:
    """doc with every Tekton step's and sidecar's command split into a list."""
    spec = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]
    task = spec["taskSpec"] if "taskSpec" in spec else spec["pipelineSpec"]["tasks"][0]["taskSpec"]
    for container in (*task["steps"], *task["sidecars"]):
        container["command"] = container["command"].split(" ")
    return doc


def test_a_list_named_steps_in_another_kind_is_not_read_as_containers() -> None:
    """Only Tekton's steps and sidecars are containers; an Argo template's steps are lists of
    step references, and a Job may carry any list under a field of that name."""
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["steps"] = ["warm-up", "train"]
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["sidecars"] = ["not-a-container"]
    assert [e for e in validation_errors(doc) if "container" in e.message] == []


def test_an_init_container_is_checked_as_a_container() -> None:
    doc = quadratic_experiment()
    pod = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
    pod["initContainers"] = [{"name": "fetch", "image": "busybox", "command": "wget data"}]
    got = {e.path: e.message for e in validation_errors(doc)}
    assert list(got) == ["spec.trialTemplate.trialSpec.spec.template.spec.initContainers[0].command"]
