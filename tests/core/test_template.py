"""Trial template substitution: values stay exact strings and add no field."""

from __future__ import annotations

import pytest
import yaml

from fake_kube import CRDS, put_at, schema_places
from kfp_tune.core.template import placeholders_in, resolve_meta_reference, substitute, unsafe_settings

HOSTILE_VALUES = ['a"\nserviceAccountName: admin', "x: y", "$(rm -rf /)", "no", "off", "1e3", "0x1A", "~", "#c", "héllo ✓", "{a: 1}"]


def test_substitution_keeps_values_as_exact_strings_and_adds_no_field():
    template = {
        "spec": {
            "containers": [
                {"name": "main", "command": ["python3", "train.py", "--v=${trialParameters.v}"], "args": ["${trialParameters.v}"],
                 "env": [{"name": "V", "value": "${trialParameters.v}"}]}
            ]
        }
    }
    for value in HOSTILE_VALUES:
        out = substitute(template, {"v": value})
        container = out["spec"]["containers"][0]
        assert container["args"] == [value]
        assert container["command"][2] == f"--v={value}"
        assert container["env"][0]["value"] == value
        assert set(container) == {"name", "command", "args", "env"}
        # and it survives a YAML round trip unchanged (what a Kubernetes launcher would send)
        assert yaml.safe_load(yaml.safe_dump(out)) == out


def test_substitution_does_not_recurse_into_values():
    out = substitute({"a": "${trialParameters.x}"}, {"x": "${trialParameters.y}", "y": "boom"})
    assert out == {"a": "${trialParameters.y}"}


def test_non_string_leaves_are_kept():
    out = substitute({"replicas": 2, "flag": True, "none": None, "s": "${trialParameters.x}"}, {"x": "1"})
    assert out == {"replicas": 2, "flag": True, "none": None, "s": "1"}


def test_placeholders_and_meta_references():
    assert placeholders_in({"a": ["--x=${trialParameters.x}", "${trialParameters.y}${trialParameters.x}"]}) == {"x", "y"}
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t1", "namespace": "ns", "labels": {"k": "v"}, "annotations": {"a": "b"}}}
    assert resolve_meta_reference("${trialSpec.Name}", manifest) == "t1"
    assert resolve_meta_reference("${trialSpec.Namespace}", manifest) == "ns"
    assert resolve_meta_reference("${trialSpec.Kind}", manifest) == "Job"
    assert resolve_meta_reference("${trialSpec.APIVersion}", manifest) == "batch/v1"
    assert resolve_meta_reference("${trialSpec.Labels[k]}", manifest) == "v"
    assert resolve_meta_reference("${trialSpec.Annotations[a]}", manifest) == "b"


def test_settings_that_reach_the_node_are_named_where_they_are():
    manifest = {"spec": {
        "hostNetwork": True,
        "volumes": [{"name": "v", "hostPath": {"path": "/"}}],
        "containers": [{"securityContext": {"privileged": True}}, {"securityContext": {"privileged": False}}],
    }}
    assert [(e.path, e.message.split(" ")[0]) for e in unsafe_settings(manifest, "trialSpec")] == [
        ("trialSpec.spec.hostNetwork", "hostNetwork"),
        ("trialSpec.spec.volumes[0].hostPath", "hostPath"),
        ("trialSpec.spec.containers[0].securityContext.privileged", "privileged"),
    ]


UNSAFE = {"hostPath": {"path": "/"}, "privileged": True, "hostNetwork": True, "hostPID": True, "hostIPC": True, "hostPort": 80, "procMount": "Unmasked"}
KIND_KEYS = [("batch/v1", "Job"), *sorted(CRDS)]


@pytest.mark.parametrize(("api_version", "kind"), KIND_KEYS, ids=lambda v: str(v))
def test_unsafe_settings_are_found_at_every_place_the_kinds_schema_allows(api_version, kind):
    """Each place a setting may sit (read from the kind's schema: the CRDs, kubernetes-validate's
    Job) is found, under the path it is at, and only that."""
    places = schema_places(api_version, kind, frozenset(UNSAFE))
    assert places, f"no place found in the schema of {kind} {api_version}"
    for place in places:
        manifest = {"apiVersion": api_version, "kind": kind}
        path = put_at(manifest, place, UNSAFE[place[-1][1]])
        assert [e.path for e in unsafe_settings(manifest, "trialSpec")] == [f"trialSpec.{path}"], path


def test_settings_that_give_nothing_away_are_not_refused():
    manifest = {"spec": {"hostNetwork": False, "hostPID": False, "hostIPC": False, "volumes": [{"name": "v", "emptyDir": {}}],
                         "containers": [{"name": "c", "securityContext": {"privileged": False, "runAsNonRoot": True}}]}}
    assert unsafe_settings(manifest) == []


def test_every_setting_is_named_in_one_manifest_wherever_it_is():
    manifest = {"spec": {"a": {"b": [{"hostPID": True}, {"hostIPC": True}]}, "initContainers": [{"securityContext": {"privileged": True}}]}}
    assert sorted(e.path for e in unsafe_settings(manifest)) == ["spec.a.b[0].hostPID", "spec.a.b[1].hostIPC", "spec.initContainers[0].securityContext.privileged"]


def test_credentials_written_out_are_found_by_the_words_of_their_names():
    """my_db_pass and WANDB_KEY were not warned about (the QA pass's envcred.yaml); a name for
    where a credential is (TOKEN_FILE, SSH_KEY_PATH), or the shell's PWD, is no credential."""
    from kfp_tune.core.template import written_credentials

    secret = ["AWS_SECRET_ACCESS_KEY", "HF_TOKEN", "my_db_pass", "WANDB_KEY", "DB_PWD", "dbPassword", "stripeKey", "GITHUB_AUTH",
              "GOOGLE_CREDENTIALS", "SSH_PASSPHRASE"]
    plain = ["LR", "AUTHOR", "BYPASS_CACHE", "PWD", "TOKEN_FILE", "SSH_KEY_PATH", "SECRETS_DIR", "KEY_ID", "MONKEY"]
    env = [{"name": name, "value": "v"} for name in secret + plain] + [{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
    spec = {"spec": {"template": {"spec": {"containers": [{"name": "main", "env": env}]}}}}
    found = written_credentials(spec)
    assert [e.path for e in found] == [f"spec.trialTemplate.trialSpec: container 'main' env[{i}]" for i in range(len(secret))]
    assert [e.message.split(" ")[0] for e in found] == secret


def test_what_the_pod_security_baseline_forbids_is_refused_where_it_is():
    """capabilities.add SYS_ADMIN, procMount Unmasked, seccomp Unconfined and hostPort 80 passed
    (the QA pass's k_*.yaml); every setting the baseline profile forbids is refused at its path,
    saying it is that rule and what to do, and what baseline allows is not."""
    pod = {
        "metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/main": "unconfined",
                                     "container.apparmor.security.beta.kubernetes.io/side": "runtime/default"}},
        "spec": {
            "securityContext": {"seccompProfile": {"type": "Unconfined"}, "appArmorProfile": {"type": "Unconfined"},
                                "seLinuxOptions": {"type": "spc_t", "user": "system_u", "level": "s0:c1"},
                                "windowsOptions": {"hostProcess": True},
                                "sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}, {"name": "kernel.msgmax", "value": "1"}]},
            "containers": [{"name": "main", "ports": [{"containerPort": 80, "hostPort": 80}, {"containerPort": 81, "hostPort": 0}],
                            "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"], "drop": ["ALL"]},
                                                "procMount": "Unmasked", "seccompProfile": {"type": "RuntimeDefault"},
                                                "seLinuxOptions": {"type": "container_t", "role": "sysadm_r"}}}],
        },
    }
    found = unsafe_settings(pod, "trialSpec")
    assert sorted(e.path for e in found) == sorted([
        "trialSpec.metadata.annotations.container.apparmor.security.beta.kubernetes.io/main",
        "trialSpec.spec.securityContext.seccompProfile.type",
        "trialSpec.spec.securityContext.appArmorProfile.type",
        "trialSpec.spec.securityContext.seLinuxOptions.type",
        "trialSpec.spec.securityContext.seLinuxOptions.user",
        "trialSpec.spec.securityContext.windowsOptions.hostProcess",
        "trialSpec.spec.securityContext.sysctls[1].name",
        "trialSpec.spec.containers[0].ports[0].hostPort",
        "trialSpec.spec.containers[0].securityContext.capabilities.add[1]",
        "trialSpec.spec.containers[0].securityContext.procMount",
        "trialSpec.spec.containers[0].securityContext.seLinuxOptions.role",
    ])
    for problem in found:
        assert "Pod Security Standards' baseline" in problem.message and "must run outside kfp-tune" in problem.message, problem
        assert "; " not in problem.message, "a launcher joins the refusals with '; '"
    assert "'SYS_ADMIN' is refused" in next(e.message for e in found if e.path.endswith("add[1]"))


def test_what_the_pod_security_baseline_allows_is_not_refused():
    pod = {"spec": {"automountServiceAccountToken": True,
                    "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"},
                                        "seLinuxOptions": {"type": "container_init_t", "level": "s0:c1"}, "sysctls": [{"name": "kernel.shm_rmid_forced", "value": "1"}]},
                    "containers": [{"name": "main", "ports": [{"containerPort": 80}],
                                    "securityContext": {"allowPrivilegeEscalation": True, "runAsUser": 0, "procMount": "Default",
                                                        "capabilities": {"add": ["CHOWN", "SYS_CHROOT"]}, "appArmorProfile": {"type": "RuntimeDefault"},
                                                        "windowsOptions": {"hostProcess": False}}}]}}
    assert unsafe_settings(pod) == []


# A whole unquoted value of a ConfigMap template, as Katib's decoder types it: go-yaml v2's
# resolve.go (gopkg.in/yaml.v2, as vendored by Kubernetes), then Kubernetes' JSON step.
GO_YAML_V2_VALUES = [
    ("n", False), ("N", False), ("no", False), ("off", False), ("OFF", False),
    ("y", True), ("Y", True), ("yes", True), ("on", True), ("True", True),
    ("nO", "nO"), ("yES", "yES"),  # not in go-yaml's table
    ("", None), ("~", None), ("null", None),
    ("1e-05", 1e-05), ("1e-3", 0.001), ("-2.5E-3", -0.0025), (".5", 0.5), ("+.5", 0.5), ("0.25", 0.25),
    ("1.5e5", 150000), ("2.0", 2), ("1.", 1), ("1e3", 1000),  # whole numbers are integers after JSON
    ("2", 2), ("+5", 5), ("-0", 0), ("1_000", 1000), ("0x1F", 31), ("0o17", 15), ("010", 8), ("0b101", 5), ("-0b101", -5),
    ("08", 8),  # no octal: yamlStyleFloat reads it
    ("9223372036854775808", 9223372036854775808.0),  # beyond int64: a float after JSON
    ("1e400", "1e400"), (".inf", ".inf"), (".nan", ".nan"),  # JSON cannot carry them
    ("1:30", "1:30"),  # no base 60 in go-yaml
    ("2024-01-02", "2024-01-02"),  # a timestamp stays a string when decoded into an interface
    ("abc", "abc"), ("1e", "1e"), ("0x", "0x"), ("1.2.3", "1.2.3"),
    ("[1e-3, n, '1']", [0.001, False, "1"]), ("{a: 1, 2: y}", {"a": 1, "2": True}),
]


@pytest.mark.parametrize(("text", "expected"), GO_YAML_V2_VALUES, ids=[repr(t) for t, _ in GO_YAML_V2_VALUES])
def test_a_typed_value_reads_as_kubernetes_decoder_reads_it(text, expected):
    from kfp_tune.core.template import yaml_value

    value = yaml_value(text)
    assert value == expected and type(value) is type(expected)


LAUGHS = "[" + ", ".join(["&a [x, x, x, x, x, x, x, x, x, x]"] + [f"&{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(5)]) + "]"
"""Six levels of aliases, each ten of the one before: a million copies once expanded, past MAX_NODES."""


@pytest.mark.parametrize("text", ["&a [*a]", "&a {k: *a}", "[&a [1], &b [*a, *a, *b]]", LAUGHS], ids=["list", "mapping", "nested", "laughs"])
def test_a_typed_value_whose_aliases_nest_in_themselves_or_expand_without_bound_stays_text(text):
    """A categorical value ``&a [*a]`` in a whole-value placeholder of a ConfigMap template made
    ``kfp-tune render`` fail with "unexpected RecursionError" (aliases expand without limit;
    go-yaml refuses it): it is read as loading reads an experiment, within its bounds, and kept
    as text when it does not fit them."""
    from kfp_tune.core.template import yaml_value

    assert yaml_value(text) == text
    assert substitute({"spec": {"parallelism": "${yaml:trialParameters.w}"}}, {"w": text}) == {"spec": {"parallelism": text}}
    assert yaml_value("[&a [1], *a]") == [[1], [1]]  # an alias within the bounds is read


def test_a_config_map_template_types_values_as_katib_does():
    """QA's cm2.yaml: ``suspend: ${trialParameters.flag}`` with n was the string "n" (PyYAML's
    rules) and ``1e-05`` a string, where Katib's decoder gives false and a number."""
    template = {"spec": {"suspend": "${yaml:trialParameters.flag}", "lr": "${yaml:trialParameters.lr}", "note": "lr=${trialParameters.lr}"}}
    out = substitute(template, {"flag": "n", "lr": "1e-05"})
    assert out["spec"] == {"suspend": False, "lr": 1e-05, "note": "lr=1e-05"}


def test_yaml_for_kubectl_reads_back_as_it_was_under_kubernetes_decoder():
    """render's output goes to kubectl, whose decoder resolves plain scalars as go-yaml v2: PyYAML
    left ``1e3``, ``y``, ``0o17`` unquoted (text to YAML 1.1), which kubectl read as a number or
    a boolean (QA: a label ``opt: 1e3`` failed to decode). Every such string is quoted now, and
    the numbers and booleans stay plain."""
    from kfp_tune.core.template import _GoYamlLoader, kubernetes_yaml

    texts = ["1e3", "1e-05", "y", "n", "on", "off", "0o17", "1_000", ".5", "~", "null", "", "2.0", "0x1F", "-1", "a b", "loss", "1.2.3"]
    manifest = {"metadata": {"labels": {f"l{i}": t for i, t in enumerate(texts)}}, "spec": {"backoffLimit": 3, "suspend": False, "ratio": 0.5}}
    assert yaml.load(kubernetes_yaml(manifest), Loader=_GoYamlLoader) == manifest
    assert "backoffLimit: 3\n" in kubernetes_yaml(manifest) and "l6: '0o17'" in kubernetes_yaml(manifest)
