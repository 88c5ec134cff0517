"""The contract every store must keep, as pytest tests you can run on your own.

Shipped in the package (like :mod:`kfp_tune.algorithms.testing`) so the author of a new
:class:`~kfp_tune.core.interfaces.Store` can check it the same way the built-in ones are checked::

    import pytest
    from kfp_tune.stores.testing import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(tmp_path / "store")   # a new, empty store for each test
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from kfp_tune.core.errors import StoreError
from kfp_tune.core.interfaces import Store

RACERS = 8
"""Threads that race for one key in the create and put tests."""


def payload(seed: int, size: int) -> bytes:
    """Deterministic pseudo-random bytes (almost never valid UTF-8)."""
    return random.Random(seed).randbytes(size)


def run_together(count: int, work: Callable[[int], object]) -> list[object]:
    """``work(0..count-1)`` on ``count`` threads released at once; their results in index order.

    A thread's exception is re-raised here, so a failing store fails the test."""
    barrier = threading.Barrier(count, timeout=60)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def body(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,), name=f"store-racer-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a store call hung"
    if errors:
        raise errors[0]
    return results


class StoreContract:
    """Subclass and give a pytest fixture named ``store`` that returns the store under test.

    The fixture must return a new, empty store for each test (``list("")`` is ``[]``): the
    listing tests compare with exactly the keys they wrote."""

    # --- uri -----------------------------------------------------------------------------
    def test_uri_is_a_non_empty_string(self, store: Store) -> None:
        assert isinstance(store.uri, str) and store.uri.strip()

    def test_starts_empty(self, store: Store) -> None:
        assert store.list("") == []

    # --- get / put -----------------------------------------------------------------------
    def test_get_of_a_missing_key_is_none(self, store: Store) -> None:
        assert store.get("missing.json") is None
        assert store.get("deep/ly/missing/key.bin") is None
        store.put("present/a.json", b"a")
        assert store.get("present/b.json") is None, "a neighbour of a written key"
        assert store.get("present/a.jso") is None, "a prefix of a written key's name"
        assert store.get("present/a.json.bak") is None, "a longer name than a written key's"

    def test_put_then_get_round_trips_bytes_exactly(self, store: Store) -> None:
        samples = {
            "empty": b"",
            "one-zero-byte": b"\x00",
            "not-utf8": b"\xff\xfe\x80\xc3\x28\xa0\xa1\xf0\x28\x8c\xbc",
            "every-byte": bytes(range(256)) * 4,
            "line-ends": b"a\r\nb\nc\rd\r\n\r\n",
            "trailing-whitespace": b"value \t\n  ",
            "random-1mib": payload(1, 1 << 20),
        }
        for name, data in samples.items():
            store.put(f"round-trip/{name}.bin", data)
        for name, data in samples.items():
            got = store.get(f"round-trip/{name}.bin")
            assert isinstance(got, bytes), f"{name}: get returned {type(got).__name__}"
            assert got == data, f"{name}: {len(data)} bytes put, {len(got)} different bytes read back"

    def test_put_replaces_the_whole_object(self, store: Store) -> None:
        store.put("k.txt", b"first version, the longer one")
        store.put("k.txt", b"second")
        assert store.get("k.txt") == b"second", "a shorter put must not leave the old tail"
        store.put("k.txt", b"third version, longer than the second")
        assert store.get("k.txt") == b"third version, longer than the second"
        store.put("k.txt", b"")
        assert store.get("k.txt") == b""
        assert store.list("") == ["k.txt"], "replacing must not leave another object behind"

    def test_keys_are_independent(self, store: Store) -> None:
        store.put("x/one", b"1")
        store.put("x/two", b"2")
        store.put("x/one", b"one again")
        assert (store.get("x/one"), store.get("x/two")) == (b"one again", b"2")

    def test_concurrent_puts_to_one_key_leave_one_whole_value(self, store: Store) -> None:
        datas = [payload(100 + i, 64 * 1024 + 17 * i) for i in range(RACERS)]
        allowed = set(datas) | {b"initial"}
        store.put("contended.bin", b"initial")
        torn: list[int | None] = []
        stop = threading.Event()

        def read_until_stopped() -> None:
            while not stop.is_set():
                got = store.get("contended.bin")
                if got not in allowed:
                    torn.append(None if got is None else len(got))

        def put_twice(i: int) -> None:
            for _ in range(2):
                store.put("contended.bin", datas[i])

        reader = threading.Thread(target=read_until_stopped, name="store-reader")
        reader.start()
        try:
            run_together(RACERS, put_twice)
        finally:
            stop.set()
            reader.join(timeout=120)
        assert store.get("contended.bin") in datas, "the last put must leave one writer's bytes whole"
        assert not torn, f"a reader saw bytes no writer wrote (lengths {torn[:5]})"

    # --- create --------------------------------------------------------------------------
    def test_create_is_true_once_and_keeps_the_first_bytes(self, store: Store) -> None:
        first, second = payload(7, 300), b"second writer"
        assert store.create("once/key.json", first) is True
        assert store.get("once/key.json") == first
        assert store.create("once/key.json", second) is False
        assert store.create("once/key.json", first) is False, "even with the same bytes"
        assert store.get("once/key.json") == first
        assert store.list("once/") == ["once/key.json"]

    def test_create_of_empty_bytes_still_claims_the_key(self, store: Store) -> None:
        assert store.create("empty", b"") is True
        assert store.create("empty", b"x") is False
        assert store.get("empty") == b""

    def test_create_refuses_a_key_that_put_wrote(self, store: Store) -> None:
        store.put("written", b"by put")
        assert store.create("written", b"by create") is False
        assert store.get("written") == b"by put"

    def test_put_replaces_a_created_object(self, store: Store) -> None:
        assert store.create("c", b"created") is True
        store.put("c", b"replaced")
        assert store.get("c") == b"replaced"

    def test_create_race_has_exactly_one_winner(self, store: Store) -> None:
        for round_index in range(3):
            key = f"race/{round_index}/claim.json"
            datas = [payload(1000 * round_index + i, 4096 + i) for i in range(RACERS)]

            def create(i: int, key: str = key, datas: list[bytes] = datas) -> bool:
                return store.create(key, datas[i])

            results = run_together(RACERS, create)
            assert all(isinstance(r, bool) for r in results), results
            winners = [i for i, created in enumerate(results) if created]
            assert len(winners) == 1, f"round {round_index}: {len(winners)} creates returned True"
            assert store.get(key) == datas[winners[0]], "the stored bytes must be the winner's"
            assert store.create(key, b"late") is False

    # --- list ----------------------------------------------------------------------------
    def test_list_returns_every_key_with_the_prefix_sorted(self, store: Store) -> None:
        inside = [
            "exp/a.json",
            "exp/b.json",
            "exp/sub/c.json",
            "exp/1/2/3/4/5/deep.bin",
            "exp/1/2/sibling.bin",
            "exp/z/last",
        ]
        outside = ["expert/x.json", "ex", "other/exp/y.json", "a/exp/z.json"]
        everything = inside + outside
        random.Random(3).shuffle(everything)
        for key in everything:
            store.put(key, key.encode())
        assert store.list("exp/") == sorted(inside)
        assert store.list("exp/1/") == ["exp/1/2/3/4/5/deep.bin", "exp/1/2/sibling.bin"]
        assert store.list("exp/1/2/3/4/5/") == ["exp/1/2/3/4/5/deep.bin"]
        assert store.list("") == sorted(everything)
        listed = store.list("exp/")
        assert isinstance(listed, list) and all(isinstance(k, str) for k in listed)

    def test_list_prefix_is_a_plain_string_prefix(self, store: Store) -> None:
        """"a/b" is not a folder name: it matches "a/b/c", "a/bc" and "a/b.x" alike."""
        for key in ("a/b/c", "a/b/d/e", "a/bc", "a/b.x", "a/a", "a/c", "ab", "b/a/b"):
            store.put(key, b"")
        assert store.list("a/b") == ["a/b.x", "a/b/c", "a/b/d/e", "a/bc"]
        assert store.list("a/b/") == ["a/b/c", "a/b/d/e"]
        assert store.list("a/") == ["a/a", "a/b.x", "a/b/c", "a/b/d/e", "a/bc", "a/c"]
        assert store.list("a") == ["a/a", "a/b.x", "a/b/c", "a/b/d/e", "a/bc", "a/c", "ab"]
        assert store.list("a/b/c") == ["a/b/c"], "a whole key is a prefix of itself"
        assert store.list("a/b/c/") == []

    def test_list_of_an_unused_prefix_is_empty(self, store: Store) -> None:
        store.put("here/k", b"v")
        assert store.list("nothere/") == []
        assert store.list("nothere") == []
        assert store.list("here/k/") == []
        assert store.list("here/kk") == []

    def test_list_sorts_by_code_point(self, store: Store) -> None:
        keys = ["s/aB", "s/a_b", "s/a/b", "s/a.b", "s/a-b", "s/A", "s/a0", "s/_", "s/-"]
        for key in keys:
            store.put(key, b"")
        assert store.list("s/") == sorted(keys)
        assert store.list("s/a") == sorted(k for k in keys if k.startswith("s/a"))

    def test_list_shows_created_keys(self, store: Store) -> None:
        assert store.create("made/by/create", b"1") is True
        store.put("made/by/put", b"2")
        assert store.list("made/") == ["made/by/create", "made/by/put"]

    # --- key names -----------------------------------------------------------------------
    def test_keys_with_dots_dashes_and_underscores(self, store: Store) -> None:
        keys = [
            "run-1/trial_02/metrics.v1.json",
            "x.y/z-w_v",
            "a-b_c.d/e.f-g_h/i_j-k.l.m",
            "Mixed-Case_09/File.Name.TXT",
            "trailing./dash-/under_",
            "name..double.dot",
            "__init__/--x--/..y..z",
        ]
        for index, key in enumerate(keys):
            store.put(key, payload(index, 50))
        for index, key in enumerate(keys):
            assert store.get(key) == payload(index, 50), key
        assert store.list("") == sorted(keys)
        assert store.create("run-1/trial_02/metrics.v1.json", b"other") is False
        assert store.create("run-1/trial_02/metrics.v2.json", b"new") is True
        assert store.list("run-1/trial_02/metrics.v") == ["run-1/trial_02/metrics.v1.json", "run-1/trial_02/metrics.v2.json"]

    def test_delete_removes_exactly_the_keys_given(self, store: Store) -> None:
        """Deleting an experiment's keys leaves another whose name it prefixes."""
        for key in ("experiments/a/experiment.json", "experiments/a/trials/t1.json", "experiments/ab/experiment.json", "other"):
            store.put(key, b"x")
        store.delete(["experiments/a/experiment.json", "experiments/a/trials/t1.json"])
        assert store.list("") == ["experiments/ab/experiment.json", "other"]
        assert store.get("experiments/a/experiment.json") is None
        assert store.get("experiments/ab/experiment.json") == b"x"

    def test_delete_of_a_missing_key_or_of_none_is_no_error(self, store: Store) -> None:
        store.put("k", b"v")
        store.delete([])
        store.delete(["absent", "k"])
        assert store.list("") == []

    def test_a_deleted_key_can_be_created_again(self, store: Store) -> None:
        assert store.create("claim", b"first") is True
        store.delete(["claim"])
        assert store.create("claim", b"second") is True
        assert store.get("claim") == b"second"

    def test_unsafe_keys_are_refused(self, store: Store) -> None:
        """Keys are relative '/'-separated paths: nothing may escape or alias the store's root."""
        for key in ("", "/abs", "a/../b", "..", "a//b", "./a", "a/.", "a/"):
            for name, call in (
                ("put", lambda key=key: store.put(key, b"x")),
                ("create", lambda key=key: store.create(key, b"x")),
                ("get", lambda key=key: store.get(key)),
                ("delete", lambda key=key: store.delete([key])),
            ):
                try:
                    call()
                except StoreError:
                    continue
                raise AssertionError(f"{name}({key!r}) was not refused with StoreError")
        assert store.list("") == [], "a refused write must leave nothing behind"
