"""``submit`` / ``schedule`` in one namespace with a launcher config naming another (QA
multiuser, session 37, finding 5): the trials go to the launcher config's namespace, where on
multi-user KFP the run's service account usually may not create them (403) and where the trials
read the store Secret; it was sent without a word, where a metadata.namespace other than the
run's is warned about."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from fake_kfp import serve
from kfp_tune.cli import main
from kfp_tune.pipelines.submit import TrialsNamespaceWarning

DIGITS = str(REPO / "images" / "sklearn-digits" / "experiment.yaml")


@pytest.fixture
def kfp_host(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "kfptune-secret-9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "kfptune-access-id")
    fake, server = serve()
    yield fake
    server.shutdown()


def test_a_launcher_config_namespace_other_than_the_runs_is_warned_naming_both(kfp_host, capsys):
    config = "--param=launcher_config=" + json.dumps({"kind": "kubernetes", "namespace": "team-b"})
    assert main(["submit", DIGITS, "--host", kfp_host.url, "--namespace", "team-a", config]) == 0
    err = capsys.readouterr().err
    assert "\nwarning: the run goes to namespace 'team-a', but launcher_config creates its trials in namespace 'team-b'" in "\n" + err, err
    assert "403" in err and "store Secret" in err, err
    assert len(kfp_host.posted("runs")) == 1  # a warning: the run is sent
    same = "--param=launcher_config=" + json.dumps({"kind": "kubernetes", "namespace": "team-a"})
    assert main(["submit", DIGITS, "--host", kfp_host.url, "--namespace", "team-a", same]) == 0
    assert main(["submit", DIGITS, "--host", kfp_host.url, config]) == 0  # no --namespace: the run's is KFP's to choose
    assert "warning" not in capsys.readouterr().err
    import kfp_tune

    with pytest.warns(TrialsNamespaceWarning, match="launcher_config creates its trials in namespace 'team-b'"):
        kfp_tune.schedule(DIGITS, "@daily", host=kfp_host.url, namespace="team-a", name="b-side",
                          arguments={"launcher_config": json.dumps({"kind": "kubernetes", "namespace": "team-b"})})
