"""What the Kubernetes launcher says when the API server answers an error it does not retry:
the verb, the resource and its name, the namespace, the status with the server's reason, and
what the server's Status said (cut short), so a user can tell a refused body (422, and which
field) from an unauthorised token (401) or a server that stayed down past the retry budget
(500). Only a 404 on create or list reads as "not there"."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import fake_kube
from conftest import quadratic_experiment
from fake_kube import FakeKube, Fault
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

TRIAL = "quad-api-1"
WHERE = f"jobs.batch '{TRIAL}' in namespace 'team-a'"


def launch(kube: FakeKube) -> None:
    launcher = KubernetesLauncher(
        KubernetesConfig(namespace="team-a", poll_seconds=0.0, api_retry_seconds=0.0), api_client=kube.api_client(), env={}, sleep=time.sleep,
    )
    state = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    launcher.run(trial_run(load_experiment(quadratic_experiment()), state))


INVALID = (
    f"Job.batch '{TRIAL}' is invalid: spec.template.spec.containers[0].ports[0].containerPort: Invalid value: \"string\": "
    "spec.template.spec.containers[0].ports[0].containerPort in body must be of type integer: \"string\""
)


@pytest.mark.parametrize(("status", "reason", "said"), [(422, "Unprocessable Entity", INVALID), (500, "Internal Server Error", "etcdserver: request timed out")])
def test_a_refused_create_names_the_status_and_the_servers_words(kube: FakeKube, status: int, reason: str, said: str) -> None:
    """The server's Status message says what to fix (a 422 names the field and the type it
    takes); the reason phrase alone did not."""
    kube.faults = [Fault("POST", "/jobs$", status, times=100, message=said, reason="Invalid" if status == 422 else "InternalError")]
    with pytest.raises(KfpTuneError) as caught:
        launch(kube)
    # the trial was never created: the launcher's configuration or the cluster, not the trial (TrialNotCreated)
    assert str(caught.value) == f"Kubernetes trial {TRIAL!r} could not be created: Kubernetes create {WHERE} failed: {status} {reason}: {said}"


def test_a_long_status_message_is_cut_short(kube: FakeKube) -> None:
    """An error quotes at most STATUS_MESSAGE_LIMIT characters of what the server said (one 422
    can list every field of a large manifest)."""
    from kfp_tune.launchers.kubernetes.launcher import STATUS_MESSAGE_LIMIT

    said = "; ".join(f"spec.template.spec.containers[{i}].image: Required value" for i in range(200))
    kube.faults = [Fault("POST", "/jobs$", 422, times=100, message=said, reason="Invalid")]
    with pytest.raises(KfpTuneError) as caught:
        launch(kube)
    quoted = str(caught.value).partition("422 Unprocessable Entity: ")[2]
    assert len(quoted) == STATUS_MESSAGE_LIMIT and quoted.endswith("...") and said.startswith(quoted[:-3])


def test_an_answer_that_is_no_status_is_named_by_its_status_alone(kube: FakeKube, monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy's HTML or text error page has no message to quote."""
    kube.faults = [Fault("POST", "/jobs$", 502, times=100)]
    monkeypatch.setattr(fake_kube, "_status", lambda code, message, reason="": "<html>Bad Gateway</html>")
    with pytest.raises(KfpTuneError) as caught:
        launch(kube)
    assert str(caught.value).endswith(f"Kubernetes create {WHERE} failed: 502 Bad Gateway")


def test_an_unauthorised_read_of_the_trial_names_it(kube: FakeKube) -> None:
    kube.faults = [Fault("GET", f"/jobs/{TRIAL}$", 401, times=100, message="Unauthorized", reason="Unauthorized")]
    with pytest.raises(KfpTuneError) as caught:
        launch(kube)
    assert str(caught.value) == f"Kubernetes get {WHERE} failed: 401 Unauthorized: Unauthorized"


def test_a_forbidden_read_of_the_trial_names_the_permission_it_needs(kube: FakeKube) -> None:
    kube.faults = [Fault("GET", f"/jobs/{TRIAL}$", 403, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launch(kube)
    assert str(caught.value) == (
        f"Kubernetes refused to get {WHERE} (403 Forbidden: injected fault): the launch-trial service account needs 'get' on jobs.batch in that "
        "namespace (see manifests/rbac.yaml)"
    )


def test_a_forbidden_create_of_the_anchor_names_the_permission_it_needs(kube: FakeKube) -> None:
    kube.faults = [Fault("POST", "/configmaps$", 403, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launch(kube)
    assert str(caught.value) == (
        f"Kubernetes trial {TRIAL!r} could not be created: Kubernetes refused to create configmaps 'kfp-tune-quad' in namespace 'team-a' (403 Forbidden: injected fault): the launch-trial service account "
        "needs 'create' on configmaps in that namespace (see manifests/rbac.yaml)"
    )


def test_a_forbidden_read_of_an_anchor_already_there_names_get(kube: FakeKube) -> None:
    """The anchor's create answers 409 (a run before made it) and its read 403: the permission
    missing is 'get' on configmaps, not the 'create' that was granted."""
    kube.faults = [Fault("POST", "/configmaps$", 409, times=1, reason="AlreadyExists"), Fault("GET", "/configmaps/kfp-tune-quad$", 403, times=100)]
    with pytest.raises(KfpTuneError) as caught:
        launch(kube)
    assert str(caught.value) == (
        f"Kubernetes trial {TRIAL!r} could not be created: Kubernetes refused to get configmaps 'kfp-tune-quad' in namespace 'team-a' (403 Forbidden: injected fault): the launch-trial service account "
        "needs 'get' on configmaps in that namespace (see manifests/rbac.yaml)"
    )


KUBEFLOW_FORBIDDEN = ('configmaps is forbidden: User "system:serviceaccount:team-a:default-editor" cannot create resource "configmaps" '
                      'in API group "" in the namespace "kubeflow"')


def launch_as_launch_trial_would(kube: FakeKube, config: dict[str, object], run_namespace: Path) -> None:
    """The launcher as launch-trial builds it, for an experiment whose metadata.namespace is
    kubeflow (every Katib example's), in a run whose namespace ``run_namespace`` holds."""
    import kfp_tune.launchers.kubernetes.launcher as launcher_module
    from kfp_tune.launchers import launcher_from_config

    launcher = launcher_from_config({"kind": "kubernetes", "pollSeconds": 0, "apiRetrySeconds": 0, **config}, experiment_namespace="kubeflow")
    launcher._api_client = kube.api_client()  # type: ignore[attr-defined]
    state = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(launcher_module, "NAMESPACE_FILE", run_namespace)
        launcher.run(trial_run(load_experiment(quadratic_experiment()), state, "kubeflow"))


def test_a_refusal_in_the_experiments_namespace_says_how_to_put_the_trials_beside_the_run(kube: FakeKube, tmp_path: Path) -> None:
    """Trials sent to metadata.namespace kubeflow from a run in team-a, refused there: the way
    out is the launcher config's namespace, not rights in kubeflow; the server's words (which
    name the account) are quoted."""
    (tmp_path / "namespace").write_text("team-a\n")
    kube.faults = [Fault("POST", "/namespaces/kubeflow/", 403, times=100, message=KUBEFLOW_FORBIDDEN, reason="Forbidden")]
    with pytest.raises(KfpTuneError) as caught:
        launch_as_launch_trial_would(kube, {}, tmp_path / "namespace")
    assert str(caught.value) == (
        f"Kubernetes trial {TRIAL!r} could not be created: Kubernetes refused to create configmaps 'kfp-tune-quad' in namespace 'kubeflow' "
        f"(403 Forbidden: {KUBEFLOW_FORBIDDEN}): 'kubeflow' is the experiment's metadata.namespace, where trials go when the launcher config "
        'names no namespace; to create them beside the run, give launcher_config {"kind": "kubernetes", "namespace": "team-a"} '
        "(kfp-tune submit --param launcher_config=...) or set metadata.namespace to 'team-a' (docs/guide.md, 'Which namespace the trials go to')"
    )


def test_a_refusal_in_a_namespace_the_launcher_config_names_says_what_to_grant_there(kube: FakeKube, tmp_path: Path) -> None:
    (tmp_path / "namespace").write_text("team-a\n")
    kube.faults = [Fault("POST", "/namespaces/kubeflow/", 403, times=100, message=KUBEFLOW_FORBIDDEN, reason="Forbidden")]
    with pytest.raises(KfpTuneError) as caught:
        launch_as_launch_trial_would(kube, {"namespace": "kubeflow"}, tmp_path / "namespace")
    assert str(caught.value).endswith(
        f"in namespace 'kubeflow' (403 Forbidden: {KUBEFLOW_FORBIDDEN}): the launch-trial service account needs 'create' on configmaps "
        "in that namespace (see manifests/rbac.yaml)"
    )


def test_retries_back_off_doubling_from_a_quarter_second(kube: FakeKube, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four 503s on the trial's read, then an answer: the launcher waits before each retry,
    the n-th wait (n from 1) drawn in [0.125 * 2^n, 0.25 * 2^n] s (0.25 * 2^n, less up to half
    at random, at most 10 s)."""
    import random

    from kfp_tune.launchers.kubernetes import launcher as kube_launcher

    monkeypatch.setattr(kube_launcher, "random", random.Random(20261206))
    kube.faults = [Fault("GET", f"/jobs/{TRIAL}$", 503, times=4, message="etcdserver: leader changed")]
    waits: list[float] = []
    launcher = KubernetesLauncher(
        KubernetesConfig(namespace="team-a", poll_seconds=0.0, api_retry_seconds=60.0), api_client=kube.api_client(), env={}, sleep=waits.append,
    )
    state = TrialState(name=TRIAL, index=0, round="run-1-r000", assignment={"x": "0.1", "y": "0.2"}, created="")
    launcher.run(trial_run(load_experiment(quadratic_experiment()), state))
    retries = [wait for wait in waits if wait > 0][:4]  # the polls wait 0 s
    assert len(retries) == 4 and all(0.125 * 2 ** n <= wait <= 0.25 * 2 ** n for n, wait in enumerate(retries, start=1)), retries
