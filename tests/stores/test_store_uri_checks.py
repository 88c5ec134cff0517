"""A store URI or setting that cannot work is refused before anything is read or written, with
a message that says what was expected and never repeats a credential."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfp_tune.core.errors import StoreInputError, shown
from kfp_tune.stores import LocalStore, check_environment, check_store_uri, open_store
from kfp_tune.stores.retry import RetryingStore

EXPECTED = "expected s3://bucket/prefix, file:///path or a folder path"


ODD_BUT_USABLE_S3_URIS = [
    "s3://bucket/team/",  # a trailing slash
    "s3://bucket/a/b/c",  # nested
    "s3://bucket/Team/EXP",  # upper case
    "s3://bucket/with space/x",
    "s3://bucket/a%20b",  # kept as written: the key holds '%20'
    "s3://bucket/naïve/實驗",  # non-ASCII
    "s3://bucket/",  # the bucket's root
    "s3://bucket//x",  # a leading '//': prefix x
    "s3://bucket//",
]
"""S3 prefixes a QA pass found working against SeaweedFS: the prefix check must keep them."""


@pytest.mark.parametrize(
    "uri",
    ["s3://bucket", "s3://my.bucket-1/team/exp", "S3://bucket/x", "file:///srv/runs", "file://localhost/srv/runs", "runs", "./kfp-tune-runs", "/abs/path", "~/runs",
     *ODD_BUT_USABLE_S3_URIS],
)
def test_a_usable_uri_is_returned_as_it_is(uri: str):
    assert check_store_uri(uri) == uri


@pytest.mark.parametrize(
    ("uri", "prefix", "part"),
    [
        ("s3://bucket/a//b", "a//b", "an empty part ('//')"),
        ("s3://bucket/../escape", "../escape", "a '..' part"),
        ("s3://bucket/./dot", "./dot", "a '.' part"),
        ("s3://bucket/team/./exp/", "team/./exp", "a '.' part"),
        ("s3://bucket/team/..", "team/..", "a '..' part"),
        ("s3://bucket//a///b//", "a///b", "an empty part ('//')"),
    ],
)
def test_an_s3_prefix_with_an_empty_dot_or_dot_dot_part_is_refused_naming_it(uri: str, prefix: str, part: str):
    """As keys' parts are refused: a server may fold 'a//b' into 'a/b' (SeaweedFS does, so a
    listing of the prefix as written found nothing a put had written) or refuse '..'."""
    with pytest.raises(StoreInputError) as info:
        check_store_uri(uri)
    assert str(info.value) == (f"store URI {uri!r}: the prefix {prefix!r} has {part}: "
                               "expected names separated by single '/', none of them '.' or '..'")


def test_open_store_and_the_cli_refuse_such_a_prefix_before_any_request(monkeypatch, capsys):
    from kfp_tune.cli import main

    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: a request would fail otherwise
    with pytest.raises(StoreInputError, match="has an empty part"):
        open_store("s3://bucket/a//b")
    assert main(["status", "exp", "--store", "s3://bucket/../escape"]) == 2
    assert "--store: store URI 's3://bucket/../escape': the prefix '../escape' has a '..' part" in capsys.readouterr().err


@pytest.mark.parametrize("uri", ["", " s3://bucket/x", "s3://bucket/x ", "runs\n", "ru\x00ns"])
def test_an_empty_padded_or_nul_uri_is_refused(uri: str):
    with pytest.raises(StoreInputError) as info:
        check_store_uri(uri)
    padded = " it has white space at its start or end (a line break or space set or pasted with it?);"
    assert str(info.value) == (f"store URI {uri!r}:{padded} {EXPECTED}, as it is: a URI is never stripped" if uri.strip() != uri else f"store URI {uri!r}: {EXPECTED}")


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("s3://ab/x", "is not an S3 bucket name"),  # too short
        ("s3://" + "b" * 64 + "/x", "is not an S3 bucket name"),
        ("s3://Bucket/x", "is not an S3 bucket name"),
        ("s3://my..bucket/x", "is not an S3 bucket name"),
        ("s3://-bucket/x", "is not an S3 bucket name"),
        ("file://server/share/runs", "read as a host name"),
        ("file://", "no path"),
        ("gs://bucket/x", "the 'gs' scheme is not supported"),
        ("http://minio:9000/bucket", "the 'http' scheme is not supported"),
    ],
)
def test_an_unusable_uri_is_refused_saying_why(uri: str, words: str):
    with pytest.raises(StoreInputError) as info:
        check_store_uri(uri)
    assert words in str(info.value) and f"store URI {uri!r}" in str(info.value)


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("s3://AKIAEXAMPLE:wJalrXUtn@bucket/x", "s3://***@bucket/x"),
        ("s3://AKIAEXAMPLE:pa@ss@bucket/x", "s3://***@bucket/x"),  # a secret with an '@' in it
        ("file://user:hunter2@localhost/srv", "file://***@localhost/srv"),
    ],
)
def test_credentials_in_a_uri_are_refused_and_not_repeated(uri: str, shown: str):
    with pytest.raises(StoreInputError) as info:
        check_store_uri(uri)
    message = str(info.value)
    assert message.startswith(f"store URI {shown}: credentials do not belong in the URI"), "the user still sees which URI was meant"
    assert "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in message
    for secret in ("wJalrXUtn", "hunter2", "AKIAEXAMPLE", "user:", "pa@", "ss@"):
        assert secret not in message


@pytest.mark.parametrize(
    ("uri", "words", "masked"),
    [
        ("s3://qabucket/p1?token=QASECRET4", "no '?' or '#' part", "s3://qabucket/p1?***"),
        ("s3://bucket/x#QASECRET5", "no '?' or '#' part", "s3://bucket/x#***"),
        ("s3://Bad_Bucket/x?X-Amz-Security-Token=QASECRET6", "is not an S3 bucket name", "s3://Bad_Bucket/x?***"),
        ("gs://bucket/x?sig=QASECRET8", "the 'gs' scheme is not supported", "gs://bucket/x?***"),
        ("file://server/x?sig=QASECRET9", "read as a host name", "file://server/x?***"),
    ],
)
def test_a_query_or_fragment_in_a_uri_is_refused_and_not_repeated(uri: str, words: str, masked: str, capsys):
    """A presigned token in a URI's query was echoed back whole; it is masked as --host's is."""
    from kfp_tune.cli import main

    with pytest.raises(StoreInputError) as info:
        check_store_uri(uri)
    assert str(info.value).startswith(f"store URI {masked!r}: ") and words in str(info.value)
    assert main(["list", "--store", uri]) == 2
    err = capsys.readouterr().err
    assert f"store URI {masked!r}" in err and "QASECRET" not in str(info.value) + err


@pytest.mark.parametrize("name", ["KFP_TUNE_STORE_RETRY_SECONDS", "KFP_TUNE_RUN_TTL_SECONDS", "KFP_TUNE_TRIAL_TTL_SECONDS"])
@pytest.mark.parametrize("raw", ["soon", "-1", "nan", "inf"])
def test_a_seconds_setting_that_is_not_a_number_of_seconds_is_refused(name: str, raw: str):
    with pytest.raises(StoreInputError, match=f"\\${name}: expected a number of seconds"):
        check_environment({name: raw})


def test_zero_fractions_and_unset_seconds_settings_are_accepted():
    check_environment({"KFP_TUNE_STORE_RETRY_SECONDS": "0", "KFP_TUNE_RUN_TTL_SECONDS": "2.5", "KFP_TUNE_TRIAL_TTL_SECONDS": ""})
    check_environment({})


def test_open_store_refuses_a_bad_setting_before_opening(tmp_path, monkeypatch):
    monkeypatch.setenv("KFP_TUNE_TRIAL_TTL_SECONDS", "-5")
    with pytest.raises(StoreInputError):
        open_store(str(tmp_path / "runs"))
    assert not (tmp_path / "runs").exists()


def test_open_store_opens_what_the_uri_names(tmp_path, monkeypatch):
    for key in ("KFP_TUNE_STORE_RETRY_SECONDS", "KFP_TUNE_RUN_TTL_SECONDS", "KFP_TUNE_TRIAL_TTL_SECONDS"):
        monkeypatch.delenv(key, raising=False)
    folder = tmp_path / "with space"
    by_file_uri = open_store("FILE://" + (folder.as_uri()).removeprefix("file://"))
    assert isinstance(by_file_uri, LocalStore) and by_file_uri.root == folder.resolve()
    monkeypatch.setenv("KFP_TUNE_STORE", str(tmp_path / "from-env"))
    from_env = open_store()
    assert isinstance(from_env, LocalStore) and from_env.root == (tmp_path / "from-env").resolve()
    monkeypatch.setenv("KFP_TUNE_S3_ENDPOINT", "http://127.0.0.1:9")
    s3 = open_store("S3://bucket/team")
    assert isinstance(s3, RetryingStore) and s3.uri == "s3://bucket/team"
    assert s3.inner.endpoint_url == "http://127.0.0.1:9"  # type: ignore[attr-defined]
    by_parameter = open_store("s3://bucket/team", s3_endpoint="http://parameter:1")
    assert by_parameter.inner.endpoint_url == "http://parameter:1", "the pipeline's s3_endpoint wins over the environment"  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["runs#2", "a%41", "q?x"])
def test_a_folder_path_is_that_folder_even_where_a_uri_would_read_it_otherwise(tmp_path: Path, name: str) -> None:
    """A folder path is not a URI: its '#' starts no fragment and its '%41' is no escape
    (file:// URIs alone are read as URIs)."""
    store = open_store(str(tmp_path / name))
    assert isinstance(store, LocalStore) and store.root == tmp_path / name


def test_a_store_folder_under_a_file_is_refused(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("a file")
    for uri in (tmp_path / "notes.txt", tmp_path / "notes.txt" / "runs"):
        with pytest.raises(StoreInputError) as info:
            open_store(str(uri))
        # paths quoted as every message quotes a user's value (shown: cut short past a length,
        # which a deep pytest tmp folder reaches)
        assert str(info.value) == f"store {shown(str(uri))}: {shown(str(tmp_path / 'notes.txt'))} is a file; expected a folder for the store"
    assert isinstance(open_store(str(tmp_path / "new" / "runs")), LocalStore), "a folder that does not exist yet is fine"
    assert not Path(tmp_path / "new").exists()


@pytest.mark.s3
def test_s3_odd_prefixes_that_are_accepted_work_end_to_end(s3_env, s3_bucket):
    """Each kind of prefix kfp-tune accepts, on a real server: what a put wrote, a listing of
    the prefix finds and a get reads, under the prefix as written (outer '/' dropped)."""
    for number, uri in enumerate(ODD_BUT_USABLE_S3_URIS):
        store = open_store(uri.replace("bucket", s3_bucket, 1))
        store.put(f"exp/{number}.json", uri.encode())
        assert f"exp/{number}.json" in store.list("exp/"), uri
        assert store.get(f"exp/{number}.json") == uri.encode(), uri
    root = open_store(f"s3://{s3_bucket}")
    for name, number in (("team", 0), ("a/b/c", 1), ("Team/EXP", 2), ("with space/x", 3), ("a%20b", 4), ("naïve/實驗", 5), ("x", 7)):
        assert root.get(f"{name}/exp/{number}.json") == ODD_BUT_USABLE_S3_URIS[number].encode(), name



def test_open_store_refuses_an_empty_uri_and_reads_an_empty_variable_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """open_store('') opened the default store, where ``kfp-tune --store ''`` is refused; an empty
    $KFP_TUNE_STORE is unset, as a shell's ``KFP_TUNE_STORE=`` means and the CLI reads it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KFP_TUNE_STORE", str(tmp_path / "from-env"))
    with pytest.raises(StoreInputError) as info:
        open_store("")
    assert str(info.value) == "store: expected a URI or folder, got an empty string"
    assert open_store(None).uri == LocalStore(tmp_path / "from-env").uri
    monkeypatch.setenv("KFP_TUNE_STORE", "")
    assert open_store(None).uri == LocalStore(tmp_path / "kfp-tune-runs").uri
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["KFP_TUNE_RUN_TTL_SECONDS", "KFP_TUNE_TRIAL_TTL_SECONDS"])
def test_a_ttl_beyond_a_year_is_refused_before_it_overflows_the_clock_mid_run(name: str):
    """1e20 passed, then run and delete failed with an OverflowError and the heartbeat's thread died."""
    with pytest.raises(StoreInputError) as info:
        check_environment({name: "1e20"})
    assert str(info.value) == f"${name}: expected a number of seconds, 0 to 31536000 (a year), got '1e20'"
    check_environment({name: "31536000"})
    check_environment({name: "0"})


@pytest.mark.parametrize(("uri", "meant"), [
    ("s3:/qa-bucket/x", "s3://qa-bucket/x"), ("s3:qa-bucket/week", "s3://qa-bucket/week"), ("s3//qa-bucket/week", "s3://qa-bucket/week"),
    ("S3:/bucket/x", "S3://bucket/x"), ("file:/srv/runs", "file:///srv/runs"), ("file//srv/runs", "file:///srv/runs"),
])
def test_a_store_uri_with_its_colon_slashes_mistyped_is_refused_not_made_a_folder(uri: str, meant: str, tmp_path: Path, monkeypatch, capsys):
    """A daily-use QA pass: --store s3:/qa-bucket/x made a folder 's3:' here and ran the
    experiment into it, exit 0, its records never in S3 (a later status of the bucket found
    nothing). A folder that starts so is still a folder when written as a path."""
    from kfp_tune.cli import main

    with pytest.raises(StoreInputError) as info:
        check_store_uri(uri)
    assert str(info.value) == f"store URI {shown(uri)}: this reads as {shown(meant)} with its '://' mistyped; {EXPECTED} (a folder whose name starts so: ./{uri})"
    monkeypatch.chdir(tmp_path)
    assert main(["list", "--store", uri]) == 2 and capsys.readouterr().err.startswith(f"error: --store: store URI {shown(uri)}: this reads as")
    assert list(tmp_path.iterdir()) == []
    assert check_store_uri(f"./{uri}") == f"./{uri}" and check_store_uri("s3/x") == "s3/x" and check_store_uri("user:x") == "user:x"


@pytest.mark.parametrize("uri", ["s3:", "s3:/", "s3//", "file:"])
def test_a_scheme_with_nothing_after_it_is_refused_not_made_a_folder(uri: str):
    """A review: `--store s3:/$BUCKET` with the variable empty made a folder 's3:'."""
    with pytest.raises(StoreInputError) as info:
        check_store_uri(uri)
    scheme = uri.rstrip(":/")
    assert str(info.value).startswith(f"store URI {shown(uri)}: this reads as a {scheme}:// URI with nothing after the scheme (an empty variable")
