"""``submit --param store_secret=`` / ``s3_endpoint=`` that a cluster cannot use are caught at
the terminal (QA s3, session 36, finding 5): a store_secret that is no Kubernetes Secret name
made every step's pod fail to be created (``secretKeyRef.name`` is a DNS-1123 subdomain), and an
s3_endpoint without a scheme (https) made every step fail TLS against KFP's plain-HTTP MinIO or
SeaweedFS, found only in the first pod's log. Through the real kfp.Client against the fake KFP
API server (tests/support/fake_kfp.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main


def _submit(tmp_path: Path, fake: Any, *param: str) -> int:
    spec = tmp_path / "quad.yaml"
    spec.write_text(yaml.safe_dump(quadratic_experiment()))
    return main(["submit", str(spec), "--host", fake.url, *(item for p in param for item in ("--param", p))])


def _sent(fake: Any) -> list[dict[str, Any]]:
    return [run["runtime_config"]["parameters"] for run in fake.runs.values()]


@pytest.mark.parametrize("secret", ["Bad_Secret", "my secret", "-leading", "a" * 254])
def test_a_store_secret_that_is_no_secret_name_is_refused_before_anything_is_sent(tmp_path, fake_kfp_host, capsys, secret) -> None:
    code = _submit(tmp_path, fake_kfp_host, f"store_secret={secret}")
    err = capsys.readouterr().err
    assert code == 2 and "store_secret" in err and "is not a Kubernetes Secret name" in err, err
    assert _sent(fake_kfp_host) == []


@pytest.mark.parametrize("secret", ["", "mlpipeline-minio-artifact", "team.s3-keys"])
def test_a_secret_name_or_none_is_sent(tmp_path, fake_kfp_host, capsys, secret) -> None:
    assert _submit(tmp_path, fake_kfp_host, f"store_secret={secret}") == 0
    assert "store_secret" not in capsys.readouterr().err
    assert [params["store_secret"] for params in _sent(fake_kfp_host)] == [secret]


def test_an_s3_endpoint_without_a_scheme_is_sent_with_a_warning(tmp_path, fake_kfp_host, capsys) -> None:
    assert _submit(tmp_path, fake_kfp_host, "s3_endpoint=minio-service.kubeflow:9000") == 0
    err = capsys.readouterr().err
    assert ("warning: s3_endpoint 'minio-service.kubeflow:9000' has no scheme, so the steps use https: "
            "KFP's MinIO and SeaweedFS speak plain HTTP (http://minio-service.kubeflow:9000)") in err, err
    assert [params["s3_endpoint"] for params in _sent(fake_kfp_host)] == ["minio-service.kubeflow:9000"]


def test_an_s3_endpoint_with_a_scheme_is_sent_without_a_word(tmp_path, fake_kfp_host, capsys) -> None:
    assert _submit(tmp_path, fake_kfp_host, "s3_endpoint=http://minio-service.kubeflow:9000") == 0
    assert "s3_endpoint" not in capsys.readouterr().err
