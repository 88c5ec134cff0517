"""Katib's examples of the run-time kinds (an Argo Workflow, a Tekton PipelineRun: their pods
are made at run time) as the collector tests take them."""

from __future__ import annotations

from typing import Any

from conftest import load_katib_example


def argo() -> dict[str, Any]:
    return load_katib_example("argo_argo-workflow.yaml")


def tekton_pipeline_run() -> dict[str, Any]:
    """Katib's Tekton example, its learningRate passed on as older Katib versions had it (the
    example as shipped is refused for that, as Katib refuses it)."""
    doc = load_katib_example("tekton_pipeline-run.yaml")
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["params"][0] = {"name": "lr", "value": "${trialParameters.learningRate}"}
    return doc


def argo_from_a_workflow_template() -> dict[str, Any]:
    """Katib's Argo example with its templates in a WorkflowTemplate on the cluster."""
    doc = argo()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"] = {
        "workflowTemplateRef": {"name": "training"},
        "arguments": {"parameters": [{"name": "lr", "value": "${trialParameters.learningRate}"}]},
    }
    return doc
