"""What a careless or hostile user can write, and how it ends: an exit 2 (or a ValueError /
TypeError from ``tune()``) naming the field, flag or argument and what was expected, before
anything runs; never a hang, a traceback or a lost trial (issue 20).

Limits that come from outside kfp-tune are written out here (Katib's int32 counts, the API
server's 3 MiB request limit, KFP's 1-10 concurrency, etcd's 1.5 MiB object that the 1 MiB
pipeline budget serves), so a limit loosened in the code fails a test instead of moving it."""

from __future__ import annotations

import copy
import io
import json
import os
import shlex
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune import search, tune
from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.cli import main
from kfp_tune.core.catalogue import ALGORITHMS, parse_settings
from kfp_tune.core.errors import InputError, SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.space import search_space_of
from kfp_tune.core.vocabulary import ObjectiveType
from kfp_tune.pipelines.builder import compile_pipeline

INT32_MAX = 2**31 - 1  # Katib's CRD: maxTrialCount, parallelTrialCount, maxFailedTrialCount are int32
API_SERVER_REQUEST_LIMIT = 3 * 1024 * 1024  # kube-apiserver's request body limit
KFP_MAX_CONCURRENCY = 10  # the KFP API refuses a recurring run's max_concurrency outside 1-10
CONTAINER = "spec.trialTemplate.trialSpec.spec.template.spec.containers[0]"


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _errors(source: Any) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        load_experiment(source)
    return [(e.path, e.message) for e in info.value.errors]


def _yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]


def _alias_chain(levels: int, width: int = 9) -> str:
    """A "billion laughs" chain: each anchor a list of ``width`` aliases of the one before, so
    the last stands for width ** levels strings; the text is about a kilobyte."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines)


def _with_trial_spec_extra(extra_yaml: str) -> str:
    """The quadratic experiment with ``extra_yaml`` as a field inside its trialSpec, the trial a
    custom resource (whose fields are its own: a batch/v1 Job's unknown fields are refused, as
    Katib refuses them, core/job_fields.py)."""
    text = _yaml(quadratic_experiment(**{
        "spec.trialTemplate.trialSpec.apiVersion": "example.com/v1", "spec.trialTemplate.trialSpec.kind": "Trainer",
        "spec.trialTemplate.successCondition": "status.done", "spec.trialTemplate.failureCondition": "status.failed",
    }))
    indented = "\n".join("      " + line for line in ("x-extra:", *("  " + line for line in extra_yaml.splitlines())))
    return text.replace("    trialSpec:\n", "    trialSpec:\n" + indented + "\n", 1)


# --- YAML read with bounds ------------------------------------------------------------------


def test_an_alias_chain_is_refused_before_it_is_expanded():
    """Six levels stand for 9**6 (531,441) strings: enough to be refused, and few enough that
    a regression is slow here rather than hung (the issue's nine levels, 9**9, are probed in a
    child process with a timeout: tests/test_fuzz_cli.py)."""
    text = _with_trial_spec_extra(_alias_chain(6))
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip().startswith("l5:"))
    ((path, message),) = _errors(text)
    assert path == "(file)" and "aliases" in message and f"line {line}" in message


def test_aliases_within_the_budget_are_read_as_kubectl_reads_them():
    """Sharing a block by alias (an env list used by two containers) stays allowed."""
    text = _with_trial_spec_extra("shared: &env [{name: A, value: '1'}]\nagain: *env\n" + _alias_chain(3))
    experiment = load_experiment(text)
    extra = experiment.spec.trial_template.trial_spec["x-extra"]
    assert extra["again"] == [{"name": "A", "value": "1"}] and len(extra["l2"]) == 9 and extra["l2"][0][0] == ["lol"] * 9


def test_a_recursive_alias_is_refused_naming_its_line():
    text = _with_trial_spec_extra("loop: &me [1, *me]")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "*me" in row)
    ((path, message),) = _errors(text)
    assert path == "(file)" and f"line {line}" in message and "own anchor" in message


def test_nesting_is_bounded():
    deep = "\n".join("  " * level + f"k{level}:" for level in range(150)) + " end"
    ((path, message),) = _errors(_with_trial_spec_extra(deep))
    assert path == "(file)" and "deep" in message
    shallow = "\n".join("  " * level + f"k{level}:" for level in range(40)) + " end"
    load_experiment(_with_trial_spec_extra(shallow))


def test_a_file_larger_than_kubectl_could_send_is_refused_unread(tmp_path):
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"]["metadata"] = {"annotations": {"big": "x" * (API_SERVER_REQUEST_LIMIT + 1)}}
    path = tmp_path / "big.yaml"
    path.write_text(_yaml(doc))
    code, _, err = _cli("validate", str(path))
    assert code == 2 and "larger than" in err and "Traceback" not in err


def test_a_key_given_twice_is_refused_with_the_key_and_its_lines():
    text = _yaml(quadratic_experiment()).replace("  maxTrialCount: 6\n", "  maxTrialCount: 6\n  maxTrialCount: 60\n")
    lines = [i for i, row in enumerate(text.splitlines(), 1) if row.strip().startswith("maxTrialCount")]
    ((path, message),) = _errors(text)
    assert path == "(file)" and "'maxTrialCount'" in message and f"line {lines[1]}" in message and f"line {lines[0]}" in message


def test_a_merge_key_may_be_overridden_as_kubectl_allows():
    text = _with_trial_spec_extra("base: &base {a: '1', b: '2'}\nderived:\n  <<: *base\n  b: '3'")
    assert load_experiment(text).spec.trial_template.trial_spec["x-extra"]["derived"] == {"a": "1", "b": "3"}


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "!!binary aGVsbG8=", "!!set {a, b}"])
def test_values_json_cannot_carry_are_refused(value):
    ((path, message),) = _errors(_with_trial_spec_extra(f"value: {value}"))
    assert path == "(file)" and "JSON" in message


def test_timestamps_and_number_keys_are_read_as_kubernetes_turns_yaml_into_json():
    experiment = load_experiment(_with_trial_spec_extra("when: 2024-01-02\n1: one\ntrue: yes-key"))
    assert experiment.spec.trial_template.trial_spec["x-extra"] == {"when": "2024-01-02", "1": "one", "true": "yes-key"}


def test_a_file_that_is_not_utf8_text_is_refused(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"apiVersion: kubeflow.org/v1beta1\nkind: \xff\xfe\n")
    code, _, err = _cli("validate", str(path))
    assert code == 2 and "UTF-8" in err and "Traceback" not in err


def test_a_folder_or_fifo_as_the_experiment_file_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    for target in (tmp_path, fifo):
        code, _, err = _cli("validate", str(target))
        assert code == 2 and "not a file" in err


# --- numbers within Katib's limits and what the algorithms can handle -----------------------


@pytest.mark.parametrize("field", ["maxTrialCount", "parallelTrialCount", "maxFailedTrialCount"])
def test_counts_are_int32_as_in_katibs_crd(field):
    doc = quadratic_experiment(**{"spec.maxTrialCount": INT32_MAX, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    load_experiment(copy.deepcopy(doc))  # the largest int32 is accepted ...
    doc["spec"][field] = 99999999999999999999999  # ... the probe is not
    errors = _errors(doc)
    assert {p for p, _ in errors} == {f"spec.{field}"} and any("int32" in m for _, m in errors)
    for wrong in ("3", True, 2.5):
        doc["spec"][field] = wrong
        assert any(p == f"spec.{field}" and "integer" in m for p, m in _errors(doc)), wrong


def test_an_int_range_of_1e29_is_refused_naming_the_field():
    doc = quadratic_experiment(**{"spec.parameters.0": {"name": "x", "parameterType": "int", "feasibleSpace": {"min": "0", "max": "1e29"}}})
    ((path, message),) = _errors(doc)
    assert path == "spec.parameters[0].feasibleSpace.max" and "2**53" in message


def test_every_algorithm_suggests_feasible_ints_at_the_widest_range_validation_accepts():
    """The limit is where the algorithms still work: at +-2**53 every implemented algorithm's
    suggestions are integers inside the range (one past it, validation refuses)."""
    widest = str(2**53)
    for name in registry.implemented():
        if name == "hyperband":
            continue  # owns its resource parameter's range (checked below)
        if ALGORITHMS[name].searches_architectures:
            continue  # searches spec.nasConfig, not spec.parameters
        parameters = [
            {"name": "x", "parameterType": "int", "feasibleSpace": {"min": "-" + widest, "max": widest}},
            {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "-8e307", "max": "8e307", "step": "1e300"}},
        ]
        required = [("suggestion_trial_dir", "/var/log/katib/checkpoints/")] if name == "pbt" else []  # Katib's pbt requires it
        algorithm = {"algorithmName": name, "algorithmSettings": [{"name": k, "value": v} for k, v in required]}
        doc = quadratic_experiment(**{"spec.parameters": parameters, "spec.algorithm": algorithm})
        experiment = load_experiment(doc)
        space = search_space_of(experiment.spec.parameters)
        settings, _ = parse_settings(ALGORITHMS[name], required, "")
        problem = Problem(space=space, objective_type=ObjectiveType.MINIMIZE, objective_metric="loss", settings=settings)
        history: list[FinishedTrial] = []
        for batch in range(3):
            result = registry.create(name, settings).suggest(problem, history, [], 3, np.random.default_rng(batch))
            for assignment in result.assignments:
                assert space.contains(assignment) and isinstance(assignment["x"], int), (name, assignment)
                history.append(FinishedTrial(f"t{len(history)}", assignment, "Succeeded", float(len(history)), {"loss": float(len(history))}))
        one_past = copy.deepcopy(doc)
        one_past["spec"]["parameters"][0]["feasibleSpace"]["max"] = str(2**53 + 2)
        assert [p for p, _ in _errors(one_past)] == ["spec.parameters[0].feasibleSpace.max"]


@pytest.mark.parametrize(
    ("feasible", "field"),
    [
        ({"min": "-1e308", "max": "1e308"}, "max"),  # max - min overflows a float
        ({"min": "0", "max": "1e300", "step": "1e-300"}, "step"),  # more grid points than a float can count
    ],
)
def test_a_double_range_no_algorithm_can_sample_is_refused(feasible, field):
    doc = quadratic_experiment(**{"spec.parameters.0.feasibleSpace": feasible})
    assert f"spec.parameters[0].feasibleSpace.{field}" in [p for p, _ in _errors(doc)]


def test_a_command_written_as_one_string_is_refused_naming_it():
    doc = quadratic_experiment()
    _container(doc)["command"] = "python3 train.py --lr=0.1"
    ((path, message),) = _errors(doc)
    assert path == f"{CONTAINER}.command" and "list of strings" in message


def test_container_args_and_env_values_must_be_strings_as_kubernetes_requires():
    doc = quadratic_experiment()
    _container(doc)["args"] = ["x=${trialParameters.x}", 5, "y=${trialParameters.y}"]
    _container(doc)["env"] = [{"name": "EPOCHS", "value": 3}, "not-a-mapping"]
    assert sorted(p for p, _ in _errors(doc)) == sorted([f"{CONTAINER}.args[1]", f"{CONTAINER}.env[0].value", f"{CONTAINER}.env[1]"])


def _hyperband(**settings: str) -> dict[str, Any]:
    parameters = [
        {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
        {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}},
    ]
    algorithm = {"algorithmName": "hyperband", "algorithmSettings": [{"name": "resource_name", "value": "y"}, *({"name": k, "value": v} for k, v in settings.items())]}
    return quadratic_experiment(**{"spec.parameters": parameters, "spec.algorithm": algorithm})


def test_hyperband_settings_that_leave_no_bracket_or_too_many_are_refused():
    load_experiment(_hyperband(eta="3", r_l="9"))  # Katib's own example's shape
    eta_near_one = _errors(_hyperband(eta="1.0000001", r_l="9"))  # floor(log_eta(9)) + 1 would be about 22 million brackets
    assert [p for p, _ in eta_near_one] == ["spec.algorithm.algorithmSettings[1].value"]  # refused as Katib refuses it: eta >= 2
    too_many = _errors(_hyperband(eta="2", r_l=str(2**21)))  # 22 brackets
    assert any("brackets" in m for _, m in too_many)
    no_bracket = _errors(_hyperband(r_l="0.5"))  # a largest resource below 1: the schedule is empty
    assert [p for p, _ in no_bracket] == ["spec.algorithm.algorithmSettings[1].value"]


def test_tpe_candidates_are_bounded():
    doc = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "tpe", "algorithmSettings": [{"name": "n_ei_candidates", "value": "100000000000"}]}})
    assert [p for p, _ in _errors(doc)] == ["spec.algorithm.algorithmSettings[0].value"]


# --- user regexes: RE2, as Katib's Go engine ------------------------------------------------


@pytest.mark.parametrize("pattern", [r"(\w+)=(\d+)\1", r"(\w+)=(?=\d)(\d+)", r"(?<=\s)(\w+)=(\d+)"])
def test_a_metrics_format_re2_refuses_is_refused_at_validation(pattern):
    doc = quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "StdOut"}, "source": {"filter": {"metricsFormat": [pattern]}}}})
    ((path, message),) = _errors(doc)
    assert path == "spec.metricsCollectorSpec.source.filter.metricsFormat[0]" and "RE2" in message


@pytest.mark.parametrize("length", [4096, 4097])
def test_a_metrics_format_longer_than_4096_is_refused_as_kfp_tunes_own_limit(length):
    """4096 characters is kfp-tune's limit, not Katib's (Go's regexp sets none): the refusal
    says so, where it said 'not a regular expression Katib can run'."""
    pattern = r"(\w+)=(\d+)" + "a" * (length - 11)
    assert len(pattern) == length
    doc = quadratic_experiment(**{"spec.metricsCollectorSpec": {"collector": {"kind": "StdOut"}, "source": {"filter": {"metricsFormat": [pattern]}}}})
    if length == 4096:
        load_experiment(doc)
        return
    assert _errors(doc) == [("spec.metricsCollectorSpec.source.filter.metricsFormat[0]",
                             "longer than 4096 characters (kfp-tune's own limit, against patterns that take too long to compile; Katib sets none)")]


def test_metrics_are_matched_with_go_semantics():
    r"""Go's (and RE2's) ``\w`` is ASCII: Katib's default filter does not read a name with an
    accented letter, where Python's ``re`` would."""
    from kfp_tune.collectors.stdout import parse_metric_lines

    found = parse_metric_lines(["loss=0.5 pérte=0.7"], ["loss", "pérte"])
    assert [(m.name, m.value) for m in found] == [("loss", 0.5)]


# --- flags, paths, stores, environment: exit 2, the flag named ------------------------------


@pytest.fixture
def experiment_file(tmp_path: Path) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(_yaml(quadratic_experiment()))
    return path


def test_compile_refuses_to_write_onto_its_own_input(experiment_file):
    before = experiment_file.read_text()
    code, _, err = _cli("compile", str(experiment_file), "-o", str(experiment_file))
    assert code == 2 and "-o" in err and experiment_file.read_text() == before


@pytest.mark.parametrize(
    "output",
    [
        "{tmp}",  # a folder
        "{tmp}/missing/p.yaml",  # a missing parent
        "{tmp}/exp.yaml/p.yaml",  # below a file
        "{tmp}/p.json",  # not YAML
    ],
)
def test_compile_output_problems_are_refused_before_compiling(experiment_file, output):
    code, _, err = _cli("compile", str(experiment_file), "-o", output.format(tmp=experiment_file.parent))
    assert code == 2 and err.startswith("error: -o/--output") and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_compile_to_a_read_only_folder_is_refused(experiment_file, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    code, _, err = _cli("compile", str(experiment_file), "-o", str(folder / "p.yaml"))
    assert code == 2 and "not writable" in err
    with pytest.raises(InputError, match=r"^output .*: not writable$"):  # from Python too, not a PermissionError after compiling
        compile_pipeline(str(experiment_file), folder / "p.yaml")


@pytest.mark.parametrize(
    "output",
    ["{tmp}", "{tmp}/missing/p.yaml", "{tmp}/exp.yaml/p.yaml", "{tmp}/p.json", "{tmp}/exp.yaml"],
    ids=["folder", "missing-parent", "below-a-file", "not-yaml", "the-experiment"],
)
def test_compile_output_is_refused_in_the_same_words_from_the_cli_and_python(experiment_file, output):
    """``kfp-tune compile -o`` and ``compile_pipeline(output=)`` run one check: each names the
    path its own way (``-o/--output X:``, ``output 'X':``) and then says the same thing."""
    path = output.format(tmp=experiment_file.parent)
    code, _, err = _cli("compile", str(experiment_file), "-o", path)
    assert code == 2 and err.startswith(f"error: -o/--output {path}: ")
    said_by_cli = err.strip().splitlines()[0].removeprefix(f"error: -o/--output {path}: ")
    with pytest.raises(InputError) as refused:
        compile_pipeline(str(experiment_file), path)
    assert str(refused.value) == f"output {path!r}: {said_by_cli}"


def test_report_output_onto_a_file_is_refused(tmp_path, experiment_file):
    store = tmp_path / "store"
    assert _cli("run", str(experiment_file), "--engine", "inline", "--store", str(store))[0] == 0
    code, _, err = _cli("report", "quad", "--store", str(store), "-o", str(experiment_file))
    assert code == 2 and "-o/--output" in err and "expected a folder" in err
    code, _, err = _cli("report", "quad", "--store", str(store), "-o", str(experiment_file / "below"))
    assert code == 2 and "-o/--output" in err


def test_an_experiment_too_large_for_a_pipeline_is_refused_and_nothing_written(tmp_path):
    """A megabyte annotation: over what one step's task spec can carry (KFP's driver takes it
    as one command-line argument), so compile refuses it, naming the limit, before writing."""
    from kfp_tune.pipelines.builder import SPEC_ARGUMENT_BYTES

    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"]["metadata"] = {"annotations": {"note": "x" * (1024 * 1024)}}
    source = tmp_path / "big.yaml"
    source.write_text(_yaml(doc))
    code, _, err = _cli("compile", str(source), "-o", str(tmp_path / "p.yaml"))
    assert code == 2 and f"over the {SPEC_ARGUMENT_BYTES:,} bytes kfp-tune takes" in err and not (tmp_path / "p.yaml").exists()


def test_compile_rounds_are_bounded_with_the_limit_said(experiment_file, tmp_path):
    code, _, err = _cli("compile", str(experiment_file), "-o", str(tmp_path / "p.yaml"), "--rounds", "100000")
    assert code == 2 and err.startswith("error: --rounds: expected 1 to ") and not (tmp_path / "p.yaml").exists()


@pytest.mark.parametrize(
    ("store", "flag_text", "secret"),
    [
        ("ftp://x", "'ftp' scheme", None),
        ("s3://AKIA-user:hunter2-secret@bucket/prefix", "credentials", "hunter2-secret"),
        ("s3://Not_A_Bucket/p", "bucket name", None),
    ],
)
def test_a_store_uri_that_cannot_work_is_refused_naming_the_flag(store, flag_text, secret):
    code, out, err = _cli("status", "quad", "--store", store)
    assert code == 2 and err.startswith("error: --store: ") and flag_text in err
    if secret is not None:
        assert secret not in out + err


def test_a_file_uri_with_a_host_is_refused_not_written_to_a_relative_folder(tmp_path, experiment_file, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _cli("run", str(experiment_file), "--engine", "inline", "--store", "file://host/path")
    assert code == 2 and "three slashes" in err and not (tmp_path / "host").exists()


def test_an_endpoint_with_credentials_is_refused_and_not_echoed(experiment_file, monkeypatch):
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://minio:hunter2-secret@127.0.0.1:9")
    code, out, err = _cli("status", "quad", "--store", "s3://bucket/p")
    assert code == 2 and "KFP_TUNE_S3_ENDPOINT" in err and "hunter2-secret" not in out + err


def test_s3_with_no_endpoint_and_no_aws_settings_is_refused_at_once(monkeypatch):
    for name in ("KFP_TUNE_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KFP_TUNE_STORE_RETRY_SECONDS", "300")  # were the lookup retried, the test would run for minutes
    code, _, err = _cli("status", "quad", "--store", "s3://bucket/p")
    assert code == 2 and "KFP_TUNE_S3_ENDPOINT" in err


@pytest.mark.parametrize("variable", ["KFP_TUNE_STORE_RETRY_SECONDS", "KFP_TUNE_RUN_TTL_SECONDS", "KFP_TUNE_TRIAL_TTL_SECONDS"])
def test_a_seconds_variable_that_is_no_number_is_refused_naming_it(variable, monkeypatch, tmp_path):
    monkeypatch.setenv(variable, "ten")
    code, _, err = _cli("status", "quad", "--store", str(tmp_path))
    assert code == 2 and f"${variable}" in err


def test_cleanup_without_a_cluster_is_refused_with_a_hint(no_cluster, tmp_path):
    code, _, err = _cli("cleanup", "quad", "--namespace", "team-a", "--store", str(tmp_path / "store"))
    assert code == 2 and "KUBECONFIG" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--namespace", "Team_A"], "--namespace"),
        (["--namespace", "a" * 64], "--namespace"),
        (["--trial-name", "Trial.1"], "--trial-name"),
        (["--namespace", "team-a\n"], "--namespace"),  # a trailing newline: '$' alone would let it through
        (["--launcher-config", "[" * 20000 + "]" * 20000], "--launcher-config"),  # deeper than json can recurse
        (["--launcher-config", "{}" + " " * 100000], "--launcher-config"),
        (["--launcher-config", "[1, 2]"], "--launcher-config"),
    ],
)
def test_render_refuses_names_kubernetes_refuses(experiment_file, flags, named):
    code, out, err = _cli("render", str(experiment_file), *flags)
    assert code == 2 and err.startswith(f"error: {named}") and out == ""


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--host", "http://user:hunter2-secret@kfp.example"], "--host"),
        (["--namespace", "Bad_NS"], "--namespace"),
        (["--cron", "every day"], "--cron"),
        (["--max-concurrency", str(KFP_MAX_CONCURRENCY + 1)], "--max-concurrency"),
        (["--param", "s3_endpoint=http://u:hunter2-secret@minio:9000"], "--param s3_endpoint"),
    ],
)
def test_schedule_flags_are_checked_before_the_kfp_host_is_called(experiment_file, flags, named):
    argv = ["schedule", str(experiment_file), "--host", "http://127.0.0.1:9", *flags]
    if "--cron" not in flags:
        argv += ["--cron", "0 0 2 * * *"]
    code, out, err = _cli(*argv)
    assert code == 2 and err.startswith(f"error: {named}") and "hunter2-secret" not in out + err


def test_a_local_run_bounds_its_slots(experiment_file, tmp_path):
    doc = quadratic_experiment(**{"spec.maxTrialCount": 100000, "spec.parallelTrialCount": 100000, "spec.maxFailedTrialCount": 1})
    experiment_file.write_text(_yaml(doc))
    code, _, err = _cli("run", str(experiment_file), "--engine", "inline", "--store", str(tmp_path / "store"))
    assert code == 2 and err.startswith("spec.parallelTrialCount: ") and not (tmp_path / "store").exists()


def test_many_problems_print_a_bounded_number_of_lines(tmp_path):
    doc = quadratic_experiment()
    doc["spec"]["parameters"] = [{"name": f"p{i}", "parameterType": "double", "feasibleSpace": {"min": "1", "max": "0"}} for i in range(500)]
    path = tmp_path / "many.yaml"
    path.write_text(_yaml(doc))
    code, _, err = _cli("validate", str(path))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) < 100 and lines[-1].startswith("... and ")


def test_a_name_with_a_trailing_newline_is_refused():
    doc = quadratic_experiment(**{"metadata.name": "quad\n"})
    assert [p for p, _ in _errors(doc)] == ["metadata.name"]


# --- tune(): arguments refused at once -------------------------------------------------------


def test_tune_refuses_a_non_callable_objective_before_creating_anything(tmp_path):
    with pytest.raises(TypeError, match="objective"):
        tune(42, {"x": search.double(0, 1)}, store=str(tmp_path / "store"))  # type: ignore[arg-type]
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("arguments", "error", "named"),
    [
        ({"max_trial_count": True}, TypeError, "max_trial_count"),
        ({"parallel_trial_count": "2"}, TypeError, "parallel_trial_count"),
        ({"goal": float("nan")}, ValueError, "goal"),
        ({"additional_metric_names": "acc"}, TypeError, "additional_metric_names"),
        ({"objective_type": "up"}, ValueError, "objective_type"),
        ({"name": "Not A Name"}, ValueError, "name"),
        ({"max_trial_count": INT32_MAX + 1}, ValueError, "max_trial_count"),
        ({"parameters": {"lr": search.int(0, 10**29)}}, ValueError, "parameters['lr'].max"),
        ({"store": "ftp://x"}, ValueError, "store URI"),
    ],
)
def test_tune_names_the_argument_it_cannot_use(tmp_path, arguments, error, named):
    calls: list[Any] = []
    call = {"objective": lambda p: calls.append(p) or 0.0, "parameters": {"x": search.double(0, 1)}, "store": str(tmp_path / "store"), **arguments}
    with pytest.raises(error) as info:
        tune(**call)
    assert named in str(info.value) and calls == []


# --- the regex hang, end to end, in a child with a timeout (a hang fails, never stalls) ----


def test_a_nested_quantifier_metrics_format_cannot_hang_a_run(tmp_path):
    """Python's backtracking ``re`` needs about 2**40 steps for this line and this pattern;
    RE2 reads it at once, so the run finishes and reads the metrics."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    doc["spec"]["objective"] = {"type": "minimize", "objectiveMetricName": "beta"}
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "StdOut"}, "source": {"filter": {"metricsFormat": [r"([a-z]+(?:a+)+)=([0-9.]+)"]}}}
    program = "import sys; print('beta ' + 'a' * 40 + '!'); print('beta=0.25')"
    _container(doc).update(command=["python3", "-c", shlex.quote(program)], args=["x=${trialParameters.x}", "y=${trialParameters.y}"])
    path = tmp_path / "redos.yaml"
    path.write_text(_yaml(doc))
    argv = [sys.executable, "-m", "kfp_tune.cli", "run", str(path), "--engine", "inline", "--store", str(tmp_path / "s"), "--json"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)  # a hang raises TimeoutExpired: the test fails
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["best_trial"]["metrics"] == {"beta": 0.25}


# --- what the fuzzing pass found: refused with the field named, exit 2, nothing stored --------


def _refused_everywhere(path: Path, store: Path, field: str) -> None:
    """``validate``, ``run`` and ``compile`` each exit 2 with ``field`` named, and nothing is stored."""
    for argv in (["validate", str(path)], ["run", str(path), "--store", str(store)], ["compile", str(path), "-o", str(path.with_suffix(".ir.yaml"))]):
        code, _, err = _cli(*argv)
        assert code == 2 and f"{field}:" in err and "unexpected" not in err, (argv, err)
    assert not store.exists() or not any(store.iterdir())
    assert not path.with_suffix(".ir.yaml").exists()


@pytest.mark.parametrize(("text", "got"), [("42\n", "a number"), ("- a\n", "a list"), ("4.5\n", "a number"), ("true\n", "a boolean"), ("just text\n", "text")])
def test_a_file_whose_top_level_is_not_a_mapping_is_the_users_error(tmp_path, text, got):
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    _refused_everywhere(path, tmp_path / "store", str(path))  # the file named, as a file's other problems name it
    assert f"{path}: expected a mapping (a Katib Experiment), got {got}" in _cli("validate", str(path))[2]


def test_a_python_caller_passing_a_wrong_type_still_gets_a_type_error():
    with pytest.raises(TypeError, match="got int"):
        load_experiment(42)


@pytest.mark.parametrize("returned", [10**400, {"objective": -(10**400), "acc": 0.5}, {"objective": __import__("fractions").Fraction(10**400, 3)}],
                         ids=["int", "dict", "fraction"])
def test_an_objective_returning_a_number_past_any_float_ends_its_trial_and_the_run_goes_on(tmp_path, returned):
    """As an inf is: no finite objective, so each trial ends MetricsUnavailable and the run
    finishes its budget (an OverflowError escaped tune() and left the experiment Running)."""
    with pytest.warns(UserWarning, match="MetricsUnavailable"):
        result = tune(lambda p: returned, {"lr": search.double(0.01, 0.1)}, max_trial_count=2, parallel_trial_count=1,
                      store=str(tmp_path / "store"), name="huge", algorithm_settings={"random_state": 7})
    assert result.status == "Succeeded" and len(result.trials) == 2
    assert {t.status for t in result.trials} == {"MetricsUnavailable"}
    assert all("no finite value" in t.message for t in result.trials)
    if isinstance(returned, dict) and "acc" in returned:
        assert {t.metrics.get("acc") for t in result.trials} <= {0.5, None}


NUL = "\0"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"spec.trialTemplate.trialSpec.spec.template.spec.containers[0].command": ["python3", f"-c{NUL}"]}, f"{CONTAINER}.command[1]"),
        ({"spec.trialTemplate.trialSpec.spec.template.spec.containers[0].env": [{"name": "X", "value": f"a{NUL}b"}]}, f"{CONTAINER}.env[0].value"),
        ({"spec.parameters[1]": {"name": "y", "parameterType": "categorical", "feasibleSpace": {"list": [f"s{NUL}", "adam"]}}}, "spec.parameters[1].feasibleSpace.list[0]"),
        ({"spec.parameters[1]": {"name": "y", "parameterType": "discrete", "feasibleSpace": {"list": ["1", f"2{NUL}"]}}}, "spec.parameters[1].feasibleSpace.list[1]"),
        ({"spec.objective.additionalMetricNames": [f"acc{NUL}"]}, "spec.objective.additionalMetricNames[0]"),
        ({"spec.trialTemplate.trialParameters[0].description": f"x{NUL}"}, "spec.trialTemplate.trialParameters[0].description"),
        ({"spec.trialTemplate.trialSpec.metadata": {"annotations": {"note": f"a{NUL}"}}}, "spec.trialTemplate.trialSpec.metadata.annotations.note"),
        ({"metadata.labels": {f"k{NUL}": "v"}}, "metadata.labels"),
    ],
    ids=["command", "env", "categorical", "discrete", "metric", "trial-parameter", "annotation", "label-key"],
)
def test_a_nul_character_is_refused_where_it_is_before_anything_runs(tmp_path, override, field):
    """No process takes a NUL in argv or env: such a trial could only fail, and the run stored
    the experiment Failed with 'unexpected ValueError: embedded null byte'."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    for key, value in override.items():
        *parents, last = [int(p) if p.isdigit() else p for p in key.replace("]", "").replace("[", ".").split(".")]
        holder: Any = doc
        for part in parents:
            holder = holder[part] if isinstance(part, int) else holder.setdefault(part, {})
        holder[last] = value
    errors = dict(_errors(copy.deepcopy(doc)))
    assert "NUL character" in errors.pop(field) and not any("NUL" in message for message in errors.values())
    path = tmp_path / "exp.yaml"
    path.write_text(json.dumps(doc))  # YAML is JSON's superset; json writes the NUL as \u0000
    _refused_everywhere(path, tmp_path / "store", field)


def test_tune_refuses_a_nul_in_a_value_naming_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"parameters\['opt'\]\.list\[0\].*NUL character"):
        tune(lambda p: 0.0, {"opt": search.categorical([f"a{NUL}", "b"])}, store=str(tmp_path / "store"))
    with pytest.raises(ValueError, match=r"objective_metric_name \(spec.objective.objectiveMetricName\): contains a NUL") as info:
        tune(lambda p: 0.0, {"x": search.double(0, 1)}, objective_metric_name=f"lo{NUL}ss", store=str(tmp_path / "store"))
    assert str(info.value).count("NUL") == 1, "said once, at the name written, not again at its defaulted strategy"
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("override", "field", "said"),
    [
        ({"metadata.namespace": "Bad NS/x"}, "metadata.namespace", "DNS-1123 label"),
        ({"metadata.namespace": "a.b"}, "metadata.namespace", "DNS-1123 label"),
        ({"metadata.namespace": "n" * 64}, "metadata.namespace", "at most 63"),
        ({"spec.objective.goal": "0.02"}, "spec.objective.goal", "expected a number, got '0.02'"),
        ({"spec.objective.goal": True}, "spec.objective.goal", "expected a number, got True"),
        ({"spec.trialTemplate.retain": "yes"}, "spec.trialTemplate.retain", "expected true or false, got 'yes'"),
        ({"spec.trialTemplate.retain": 1}, "spec.trialTemplate.retain", "expected true or false, got 1"),
        ({"metadata.foo": 1}, "metadata.foo", "not part of Kubernetes' ObjectMeta"),
        ({"metadata.namespacex": "a"}, "metadata.namespacex", "did you mean 'namespace'?"),
    ],
    ids=["namespace", "namespace-dots", "namespace-long", "goal-text", "goal-bool", "retain-text", "retain-int", "meta-unknown", "meta-misspelt"],
)
def test_what_kubectl_or_katib_refuses_in_the_experiment_itself_is_refused(tmp_path, override, field, said):
    doc = quadratic_experiment(**override)
    errors = dict(_errors(copy.deepcopy(doc)))
    assert list(errors) == [field] and said in errors[field]
    path = tmp_path / "exp.yaml"
    path.write_text(_yaml(doc))
    _refused_everywhere(path, tmp_path / "store", field)


def test_values_katib_takes_for_those_fields_still_load():
    """A whole-number goal, YAML 1.1's unquoted yes (true for kubectl too), and what kubectl get -o yaml writes in metadata."""
    text = _yaml(quadratic_experiment(**{"spec.objective.goal": 1, "metadata.namespace": "team-a", "metadata.uid": "x-1",
                                         "metadata.creationTimestamp": "2024-01-02T00:00:00Z", "metadata.generation": 2}))
    experiment = load_experiment(text.replace("  trialTemplate:\n", "  trialTemplate:\n    retain: yes\n", 1))
    assert experiment.spec.objective.goal == 1.0 and experiment.spec.trial_template.retain is True and experiment.metadata.namespace == "team-a"


@pytest.mark.parametrize("key", ["apiVersion", "kind"])
def test_a_yaml_file_without_api_version_or_kind_is_refused_as_kubectl_refuses_it(tmp_path, key):
    doc = quadratic_experiment()
    del doc[key]
    path = tmp_path / "exp.yaml"
    path.write_text(_yaml(doc))
    _refused_everywhere(path, tmp_path / "store", key)
    load_experiment(doc)  # a dict from Python may leave them out: Katib's are the only ones it can mean
