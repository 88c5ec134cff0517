"""``kfp-tune list`` of a store that holds no experiments, beside stores that do (teams sharing
one bucket, each under its prefix): a mistyped prefix (``teamAA``, ``teama``) or the bucket's
root said only "no experiments in ...". It still exits 0 (a new prefix is empty too), and names
the prefixes beside it that hold experiments, closest first, as ``status`` suggests close names."""

from __future__ import annotations

import io

import pytest

from kfp_tune.cli import main


def put(client, bucket: str, key: str) -> None:
    client.put_object(bucket, key, io.BytesIO(b"{}"), 2)


@pytest.fixture
def shared(seaweed, s3_env, s3_bucket) -> str:
    """A bucket with teamA's and teamB's experiments, and a prefix holding something else."""
    from minio import Minio

    client = Minio(seaweed.endpoint.split("://")[1], access_key=seaweed.access_key, secret_key=seaweed.secret_key, secure=False)
    put(client, s3_bucket, "teamA/experiments/alpha/experiment.json")
    put(client, s3_bucket, "teamB/experiments/beta/experiment.json")
    put(client, s3_bucket, "teamAB/notes/readme.txt")  # close to teamA, but no experiments
    return s3_bucket


@pytest.mark.s3
@pytest.mark.parametrize(("prefix", "named"), [("/teamAA", ["teamA", "teamB"]), ("/teama", ["teamA", "teamB"]), ("", ["teamA", "teamB"])])
def test_list_of_an_empty_prefix_names_the_prefixes_beside_it_that_hold_experiments(shared, capsys, prefix: str, named: list[str]):
    assert main(["list", "--store", f"s3://{shared}{prefix}"]) == 0
    out = capsys.readouterr().out
    assert out == f"no experiments in s3://{shared}{prefix}; did you mean: {', '.join(f's3://{shared}/{name}' for name in named)}?\n"


@pytest.mark.s3
def test_list_of_an_empty_prefix_with_nothing_close_says_only_that(shared, capsys):
    assert main(["list", "--store", f"s3://{shared}/elsewhere/new"]) == 0
    assert capsys.readouterr().out == f"no experiments in s3://{shared}/elsewhere/new\n"


def test_list_of_an_empty_folder_names_the_folders_beside_it_that_hold_experiments(tmp_path, capsys):
    (tmp_path / "runs" / "experiments" / "alpha").mkdir(parents=True)
    (tmp_path / "runs" / "experiments" / "alpha" / "experiment.json").write_text("{}")
    (tmp_path / "rune").mkdir()
    assert main(["list", "--store", str(tmp_path / "rune")]) == 0
    assert capsys.readouterr().out == f"no experiments in {(tmp_path / 'rune').as_uri()}; did you mean: {(tmp_path / 'runs').as_uri()}?\n"


@pytest.mark.s3
def test_list_of_a_buckets_root_looks_past_the_first_prefixes_and_of_a_prefix_past_the_first_thousand(seaweed, s3_env, s3_bucket, capsys):
    """At the root every prefix was a candidate but only the first 5 in name order were looked
    into (teamA/ came after alpha/ ... models/); beside a prefix the listing stopped at 1,000
    prefixes, before teamA/ (p0000 ... p1199 sort first)."""
    from minio import Minio

    client = Minio(seaweed.endpoint.split("://")[1], access_key=seaweed.access_key, secret_key=seaweed.secret_key, secure=False)
    for name in ("alpha", "backups", "checkpoints", "data", "datasets", "models"):
        put(client, s3_bucket, f"{name}/part-0.bin")
    put(client, s3_bucket, "teamA/experiments/alpha/experiment.json")
    assert main(["list", "--store", f"s3://{s3_bucket}"]) == 0
    assert capsys.readouterr().out == f"no experiments in s3://{s3_bucket}; did you mean: s3://{s3_bucket}/teamA?\n"
    for number in range(1200):
        put(client, s3_bucket, f"p{number:04d}/part-0.bin")
    assert main(["list", "--store", f"s3://{s3_bucket}/teamAA"]) == 0
    assert capsys.readouterr().out == f"no experiments in s3://{s3_bucket}/teamAA; did you mean: s3://{s3_bucket}/teamA?\n"


@pytest.mark.s3
def test_a_prefix_whose_experiments_folder_holds_no_experiment_is_not_offered(seaweed, s3_env, s3_bucket, capsys):
    from minio import Minio

    client = Minio(seaweed.endpoint.split("://")[1], access_key=seaweed.access_key, secret_key=seaweed.secret_key, secure=False)
    put(client, s3_bucket, "teamB/experiments/README.md")  # no experiments/<name>/experiment.json: nothing list would list
    put(client, s3_bucket, "teamC/experiments/notes/todo.txt")
    put(client, s3_bucket, "teamD/experiments/delta/experiment.json")
    assert main(["list", "--store", f"s3://{s3_bucket}/teamA"]) == 0
    assert capsys.readouterr().out == f"no experiments in s3://{s3_bucket}/teamA; did you mean: s3://{s3_bucket}/teamD?\n"


def test_a_folder_whose_experiments_folder_holds_no_experiment_is_not_offered(tmp_path, capsys):
    (tmp_path / "runs" / "experiments").mkdir(parents=True)
    (tmp_path / "runs" / "experiments" / "README.md").write_text("our experiments go here\n")
    (tmp_path / "rune").mkdir()
    assert main(["list", "--store", str(tmp_path / "rune")]) == 0
    assert capsys.readouterr().out == f"no experiments in {(tmp_path / 'rune').as_uri()}\n"


def test_list_of_a_folder_of_team_folders_names_those_that_hold_experiments(tmp_path, capsys):
    """A bucket's root named the prefixes under it that hold experiments; a folder holding team
    folders (lroot/teamA/experiments/e1/...) gave no hint: the same look now serves both."""
    root = tmp_path / "lroot"
    (root / "alpha").mkdir(parents=True)
    (root / "teamA" / "experiments" / "e1").mkdir(parents=True)
    (root / "teamA" / "experiments" / "e1" / "experiment.json").write_text("{}")
    (root / "teamB" / "experiments").mkdir(parents=True)
    (root / "teamB" / "experiments" / "README.md").write_text("ours go here\n")
    assert main(["list", "--store", str(root)]) == 0
    assert capsys.readouterr().out == f"no experiments in {root.as_uri()}; did you mean: {(root / 'teamA').as_uri()}?\n"


def test_a_store_that_cannot_name_what_is_next_to_it_gets_no_hint(tmp_path):
    from memory_store import MemoryStore

    from kfp_tune.stores import stores_beside

    assert stores_beside(MemoryStore()) == []
