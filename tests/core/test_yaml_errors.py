"""Reading an experiment's YAML: a mistake is reported at its line and column, counted from 1 as
editors count, with what the parser expected; a YAML type JSON cannot carry is refused by name;
keys are read as Kubernetes turns YAML into JSON; and the bounds on size, nesting and nodes
(aliases expanded) hold exactly at their limits, so a hostile file costs little."""

from __future__ import annotations

import pytest

from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import MAX_DOCUMENT_BYTES, parse_template_documents, parse_yaml, read_experiment_source
from kfp_tune.core.yaml_bounds import MAX_DEPTH, MAX_NODES


def problem(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_yaml(text)
    [error] = info.value.errors
    assert error.path == "(file)"
    return error.message


def test_a_mistake_is_reported_at_its_line_and_column():
    assert problem("a: 1\n  b: 2\n") == "not valid YAML: line 2, column 4: mapping values are not allowed here"


def test_the_parsers_context_follows_in_parentheses():
    message = problem("spec:\n  a: [1, 2\n")
    assert message.startswith("not valid YAML: line 3, column 1: ") and message.endswith(" (while parsing a flow sequence)")


def test_the_character_the_parser_stopped_at_is_named():
    # libyaml's own message leaves the character out; a tab in the indentation is the usual one
    assert problem("apiVersion: kubeflow.org/v1beta1\nmetadata:\n\tname: x\n") == (
        "not valid YAML: line 3, column 1: found character '\\t' that cannot start any token (while scanning for the next token)"
    )


def test_a_trial_templates_yaml_names_the_character_too():
    with pytest.raises(SpecError) as info:
        parse_template_documents("spec:\n  a: 1\n\tb: ${trialParameters.lr}\n")
    assert "found character '\\t' that cannot start any token" in info.value.errors[0].message


@pytest.mark.parametrize(("tag", "name"), [("!!binary aGVsbG8=", "binary"), ("!!set {x}", "set"), ("!!omap [a: 1]", "omap")])
def test_a_yaml_type_json_cannot_carry_is_refused_where_it_is(tag: str, name: str):
    assert problem(f"spec:\n  value: {tag}\n") == f"not valid YAML: line 2, column 10: the YAML type {name!r} has no JSON form, so Kubernetes cannot read it"


def nested(levels: int) -> str:
    """A document whose innermost mapping is ``levels`` mappings deep."""
    return "\n".join("  " * level + f"k{level}:" for level in range(levels)) + " end\n"


def test_nesting_is_allowed_up_to_the_limit_and_refused_past_it():
    assert parse_yaml(nested(MAX_DEPTH))["k0"] is not None
    assert problem(nested(MAX_DEPTH + 1)) == f"line {MAX_DEPTH + 1}: nested more than {MAX_DEPTH} levels deep"


def test_the_node_budget_counts_every_node_once_and_refuses_past_it():
    # a list of n scalars is n + 1 nodes, inside a mapping (1) with its key (1)
    fits = "k: [" + ", ".join(["1"] * (MAX_NODES - 3)) + "]\n"
    assert len(parse_yaml(fits)["k"]) == MAX_NODES - 3
    over = "k: [" + ", ".join(["1"] * (MAX_NODES - 2)) + "]\n"
    assert problem(over) == f"line 1: more than {MAX_NODES:,} YAML nodes; an experiment has a few thousand"


def test_nodes_made_by_aliases_are_counted_and_named_as_such():
    block = "[" + ", ".join(["x"] * 999) + "]"  # 1,000 nodes
    text = f"a: &a {block}\n" + "".join(f"b{i}: *a\n" for i in range(100))
    message = problem(text)
    assert message.startswith("line ") and "YAML aliases expand this document to more than 100,000 nodes" in message
    assert "of them copies made by aliases); refused, as kubectl refuses excessive aliasing" in message


def test_an_alias_before_its_anchor_is_refused_at_its_line():
    assert problem("a: 1\nb: *later\nc: &later 2\n") == "line 2: alias *later names no anchor before it"


def test_keys_are_read_as_kubernetes_turns_yaml_into_json():
    assert parse_yaml("true: a\nfalse: b\nnull: c\n1: d\n1.5: e\n") == {"true": "a", "false": "b", "null": "c", "1": "d", "1.5": "e"}


def test_a_key_that_is_a_list_or_a_mapping_is_refused_at_its_line():
    assert problem("a: 1\n? [x, y]\n: v\n") == "not valid YAML: line 2, column 3: a mapping key must be a string, got ['x', True]"  # y: go-yaml's boolean


def test_a_file_at_the_size_limit_is_read_and_one_byte_more_is_refused(tmp_path):
    head = "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\n"  # a file needs both, as kubectl's manifests do
    padding = "#" * (MAX_DOCUMENT_BYTES - len(head) - 1) + "\n"
    at_limit = tmp_path / "at.yaml"
    at_limit.write_text(head + padding)
    assert at_limit.stat().st_size == MAX_DOCUMENT_BYTES and read_experiment_source(at_limit) == {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment"}
    over = tmp_path / "over.yaml"
    over.write_text(head + "#" + padding)
    with pytest.raises(SpecError, match=f"larger than {MAX_DOCUMENT_BYTES:,} bytes"):
        read_experiment_source(over)


def test_a_byte_order_mark_is_allowed_and_bad_bytes_are_named_with_their_offset(tmp_path):
    with_bom = tmp_path / "bom.yaml"
    with_bom.write_bytes(b"\xef\xbb\xbfapiVersion: kubeflow.org/v1beta1\nkind: Experiment\n")
    assert read_experiment_source(with_bom) == {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment"}
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(SpecError) as info:
        read_experiment_source(bad)
    assert str(info.value.errors[0]) == f"(file): {bad} is not UTF-8 text (byte 0xff at offset 8)"


def test_a_missing_file_says_why_it_cannot_be_read(tmp_path):
    with pytest.raises(SpecError) as info:
        read_experiment_source(tmp_path / "absent.yaml")
    assert info.value.errors[0].message == f"cannot read {tmp_path / 'absent.yaml'}: No such file or directory"
