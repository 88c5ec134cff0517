"""The shipped StoreContract (kfp_tune.stores.testing) must catch a store that breaks it.

The contract is what the author of a new store relies on: a store that passes it works with
kfp-tune. Running it only against correct stores shows it is not too strict, never that it
is strict enough. Here each contract test meets a store with one realistic defect and must
fail, and an in-memory store without the defect must pass the same test, so the failure is
the defect's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest
from memory_store import MemoryStore

from kfp_tune.core.errors import StoreError
from kfp_tune.stores.testing import StoreContract

UNSAFE_KEYS = ("", "/abs", "a/../b", "..", "a//b", "./a", "a/.", "a/")
"""Keys that are not relative '/'-separated paths (the contract's list, written out here)."""


class ContractStore(MemoryStore):
    """The reference every broken store below differs from by one defect."""

    def __init__(self) -> None:
        super().__init__("memory://contract")


class EmptyUri(ContractStore):
    def __init__(self) -> None:
        super().__init__()
        self.uri = "  "


class BytesUri(ContractStore):
    def __init__(self) -> None:
        super().__init__()
        self.uri = b"memory://contract"  # type: ignore[assignment]


class Leftovers(ContractStore):
    """Hands out a store that already holds an object."""

    def __init__(self) -> None:
        super().__init__()
        self.objects["leftover.json"] = b"{}"


class EmptyBytesForMissing(ContractStore):
    def get(self, key: str) -> bytes | None:
        found = super().get(key)
        return b"" if found is None else found


class GetMatchesByPrefix(ContractStore):
    """Finds an object by listing, so a shorter name finds the longer key's object."""

    def get(self, key: str) -> bytes | None:
        self.check(key)
        with self.lock:
            return next((v for k, v in sorted(self.objects.items()) if k.startswith(key)), None)


class GetIgnoresSuffix(ContractStore):
    """Finds the object whose key the asked-for name starts with (``a.json.bak`` finds ``a.json``)."""

    def get(self, key: str) -> bytes | None:
        self.check(key)
        with self.lock:
            return next((v for k, v in sorted(self.objects.items()) if key.startswith(k)), None)


class TextMode(ContractStore):
    """Stores text: bytes that are not UTF-8 come back changed."""

    def put(self, key: str, data: bytes) -> None:
        super().put(key, data.decode("utf-8", errors="replace").encode("utf-8"))


class StripsTrailingWhitespace(ContractStore):
    def put(self, key: str, data: bytes) -> None:
        super().put(key, data.rstrip())


class NormalisesLineEnds(ContractStore):
    def put(self, key: str, data: bytes) -> None:
        super().put(key, data.replace(b"\r\n", b"\n"))


class Truncates(ContractStore):
    """Keeps at most 32 KiB of an object (a buffer that is never flushed past its size)."""

    def put(self, key: str, data: bytes) -> None:
        super().put(key, data[: 32 * 1024])


class EmptyIsNone(ContractStore):
    """Cannot tell an empty object from a missing one."""

    def get(self, key: str) -> bytes | None:
        return super().get(key) or None


class ReturnsText(ContractStore):
    def get(self, key: str) -> bytes | None:
        found = super().get(key)
        return None if found is None else found.decode("latin-1")  # type: ignore[return-value]


class ReturnsBytearray(ContractStore):
    def get(self, key: str) -> bytes | None:
        found = super().get(key)
        return None if found is None else bytearray(found)  # type: ignore[return-value]


class WritesInPlace(ContractStore):
    """Overwrites an object's first bytes without truncating it, as an unflagged file write does."""

    def put(self, key: str, data: bytes) -> None:
        self.check(key)
        with self.lock:
            old = self.objects.get(key, b"")
            self.objects[key] = data + old[len(data):]


class TornWrites(ContractStore):
    """Shows readers the first half of an object while a large put is under way. The first large
    put stays half-written until a reader has been handed the half, so a contract whose reader
    looks at all catches it without a race: other writers finishing meanwhile cannot hide it."""

    def __init__(self) -> None:
        super().__init__()
        self.half_written: dict[str, bytes] = {}
        self.half_seen = threading.Event()

    def put(self, key: str, data: bytes) -> None:
        tears = False
        if len(data) > 1024 and not self.half_seen.is_set():
            with self.lock:
                tears = key not in self.half_written
                if tears:
                    self.half_written[key] = data[: len(data) // 2]
        if tears:
            self.half_seen.wait(timeout=30)  # only a contract that never reads waits this out
            with self.lock:
                del self.half_written[key]
        super().put(key, data)

    def get(self, key: str) -> bytes | None:
        self.check(key)
        with self.lock:
            half = self.half_written.get(key)
        if half is not None:
            self.half_seen.set()
            return half
        return super().get(key)


class KeepsBackup(ContractStore):
    """Keeps the replaced version beside the new one, as ``<key>~``."""

    def put(self, key: str, data: bytes) -> None:
        with self.lock:
            old = self.objects.get(key)
        if old is not None:
            super().put(key + "~", old)
        super().put(key, data)


class PutClearsFolder(ContractStore):
    """Replaces an object by rewriting its whole folder: its neighbours are lost."""

    def put(self, key: str, data: bytes) -> None:
        folder = key.rpartition("/")[0] + "/"
        with self.lock:
            for other in [k for k in self.objects if k.startswith(folder) and k != key]:
                del self.objects[other]
        super().put(key, data)


class CreateOverwrites(ContractStore):
    """create is put: always True, the later bytes win."""

    def create(self, key: str, data: bytes) -> bool:
        self.put(key, data)
        return True


class CreateAlwaysTrue(ContractStore):
    """Keeps the first bytes but says True to every writer."""

    def create(self, key: str, data: bytes) -> bool:
        super().create(key, data)
        return True


class CreateReturnsInt(ContractStore):
    """Returns 1 / 0 instead of True / False."""

    def create(self, key: str, data: bytes) -> bool:
        return int(super().create(key, data))  # type: ignore[return-value]


class CreateRaises(ContractStore):
    """Fails every create (a server that answers conditional writes with an error)."""

    def create(self, key: str, data: bytes) -> bool:
        raise StoreError(f"conditional write of {key} refused")


class CreateTestsTruthiness(ContractStore):
    """Takes an empty object for a missing one, so a second create replaces it."""

    def create(self, key: str, data: bytes) -> bool:
        self.check(key)
        with self.lock:
            if self.objects.get(key):
                return False
            self.objects[key] = bytes(data)
            return True


class CreateIgnoresPut(ContractStore):
    """Keeps created keys in a set of their own, so it does not see what put wrote."""

    def __init__(self) -> None:
        super().__init__()
        self.created: set[str] = set()

    def create(self, key: str, data: bytes) -> bool:
        self.check(key)
        with self.lock:
            if key in self.created:
                return False
            self.created.add(key)
            self.objects[key] = bytes(data)
            return True


class CreatedIsReadOnly(ContractStore):
    """Refuses to replace an object that create wrote."""

    def __init__(self) -> None:
        super().__init__()
        self.created: set[str] = set()

    def create(self, key: str, data: bytes) -> bool:
        created = super().create(key, data)
        if created:
            self.created.add(key)
        return created

    def put(self, key: str, data: bytes) -> None:
        if key not in self.created:
            super().put(key, data)


class CreateInvisibleToList(ContractStore):
    """Keeps created objects where list does not look."""

    def __init__(self) -> None:
        super().__init__()
        self.created: dict[str, bytes] = {}

    def create(self, key: str, data: bytes) -> bool:
        self.check(key)
        with self.lock:
            if key in self.created or key in self.objects:
                return False
            self.created[key] = bytes(data)
            return True

    def get(self, key: str) -> bytes | None:
        self.check(key)
        with self.lock:
            return self.created.get(key, self.objects.get(key))


class ListUnsorted(ContractStore):
    def list(self, prefix: str) -> list[str]:
        with self.lock:
            return [k for k in self.objects if k.startswith(prefix)]


class ListByFolder(ContractStore):
    """Treats the prefix as a folder: ``a/b`` finds ``a/b/c`` but not ``a/bc``."""

    def list(self, prefix: str) -> list[str]:
        folder = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        return [k for k in super().list("") if k.startswith(folder)]


class ListNotRecursive(ContractStore):
    """Lists one level below the prefix's folder, as a delimiter listing does."""

    def list(self, prefix: str) -> list[str]:
        depth = prefix.count("/")
        return [k for k in super().list(prefix) if k.count("/") == depth]


class ListStripsSlash(ContractStore):
    """Drops a trailing '/' from the prefix, so ``k/`` lists the object ``k``."""

    def list(self, prefix: str) -> list[str]:
        return super().list(prefix.rstrip("/"))


class ListByParentFolder(ContractStore):
    """Lists the whole folder the prefix is in, as a listing that ignores the name part does."""

    def list(self, prefix: str) -> list[str]:
        return super().list(prefix.rpartition("/")[0])


class ListSortsIgnoringCase(ContractStore):
    def list(self, prefix: str) -> list[str]:
        return sorted(super().list(prefix), key=str.lower)


class ListReturnsTuple(ContractStore):
    def list(self, prefix: str) -> list[str]:
        return tuple(super().list(prefix))  # type: ignore[return-value]


class LowercasesKeys(ContractStore):
    """Folds case, as a case-insensitive file system does."""

    def get(self, key: str) -> bytes | None:
        return super().get(key.lower())

    def put(self, key: str, data: bytes) -> None:
        super().put(key.lower(), data)

    def create(self, key: str, data: bytes) -> bool:
        return super().create(key.lower(), data)


class RefusesDoubleDots(ContractStore):
    """Refuses any key with '..' in it, though ``name..double.dot`` is a plain name."""

    def check(self, key: str) -> None:
        super().check(key)
        if ".." in key:
            raise StoreError(f"invalid store key {key!r}")


class RefusesAfterWriting(ContractStore):
    """Writes the object, then notices the key is unsafe."""

    def put(self, key: str, data: bytes) -> None:
        with self.lock:
            self.objects[key] = bytes(data)
        self.check(key)


class DeletesByPrefix(ContractStore):
    """Deletes every key that starts with one given: experiment ``a`` takes ``ab`` with it."""

    def delete(self, keys: Sequence[str]) -> None:
        with self.lock:
            for key in list(self.objects):
                if any(key.startswith(k.rsplit("/", 1)[0]) for k in keys):
                    del self.objects[key]


class MissingKeyRaises(ContractStore):
    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            if key not in self.objects:
                raise StoreError(f"no such key {key!r}")
        super().delete(keys)


class DeleteLeavesATombstone(ContractStore):
    """Hides a deleted key instead of freeing it, so it can never be created again."""

    def __init__(self) -> None:
        super().__init__()
        self.tombstones: set[str] = set()

    def delete(self, keys: Sequence[str]) -> None:
        self.tombstones.update(k for k in keys if k in self.objects)
        super().delete(keys)

    def create(self, key: str, data: bytes) -> bool:
        return False if key in self.tombstones else super().create(key, data)


def _accepts(key: str, operation: str) -> type[MemoryStore]:
    """A store that refuses every unsafe key but ``key`` in ``operation``."""

    class Accepts(ContractStore):
        def check(self, checked: str) -> None:
            if checked == key and self.operation == operation:
                return
            super().check(checked)

        def get(self, key: str) -> bytes | None:
            self.operation = "get"
            return super().get(key)

        def put(self, key: str, data: bytes) -> None:
            self.operation = "put"
            super().put(key, data)

        def create(self, key: str, data: bytes) -> bool:
            self.operation = "create"
            return super().create(key, data)

        def delete(self, keys: Sequence[str]) -> None:
            self.operation = "delete"
            super().delete(keys)

    Accepts.__name__ = f"Accepts{operation.title()}Of{key!r}"
    return Accepts


CASES: list[tuple[str, Callable[[], MemoryStore]]] = [
    ("test_delete_removes_exactly_the_keys_given", DeletesByPrefix),
    ("test_delete_of_a_missing_key_or_of_none_is_no_error", MissingKeyRaises),
    ("test_a_deleted_key_can_be_created_again", DeleteLeavesATombstone),
    ("test_uri_is_a_non_empty_string", EmptyUri),
    ("test_uri_is_a_non_empty_string", BytesUri),
    ("test_starts_empty", Leftovers),
    ("test_get_of_a_missing_key_is_none", EmptyBytesForMissing),
    ("test_get_of_a_missing_key_is_none", GetMatchesByPrefix),
    ("test_get_of_a_missing_key_is_none", GetIgnoresSuffix),
    ("test_put_then_get_round_trips_bytes_exactly", TextMode),
    ("test_put_then_get_round_trips_bytes_exactly", StripsTrailingWhitespace),
    ("test_put_then_get_round_trips_bytes_exactly", NormalisesLineEnds),
    ("test_put_then_get_round_trips_bytes_exactly", Truncates),
    ("test_put_then_get_round_trips_bytes_exactly", EmptyIsNone),
    ("test_put_then_get_round_trips_bytes_exactly", ReturnsText),
    ("test_put_then_get_round_trips_bytes_exactly", ReturnsBytearray),
    ("test_put_replaces_the_whole_object", WritesInPlace),
    ("test_put_replaces_the_whole_object", KeepsBackup),
    ("test_keys_are_independent", PutClearsFolder),
    ("test_concurrent_puts_to_one_key_leave_one_whole_value", Truncates),
    ("test_concurrent_puts_to_one_key_leave_one_whole_value", TornWrites),
    ("test_create_is_true_once_and_keeps_the_first_bytes", CreateOverwrites),
    ("test_create_is_true_once_and_keeps_the_first_bytes", CreateAlwaysTrue),
    ("test_create_is_true_once_and_keeps_the_first_bytes", CreateReturnsInt),
    ("test_create_is_true_once_and_keeps_the_first_bytes", CreateInvisibleToList),
    ("test_create_of_empty_bytes_still_claims_the_key", CreateTestsTruthiness),
    ("test_create_of_empty_bytes_still_claims_the_key", CreateOverwrites),
    ("test_create_of_empty_bytes_still_claims_the_key", EmptyIsNone),
    ("test_create_refuses_a_key_that_put_wrote", CreateIgnoresPut),
    ("test_put_replaces_a_created_object", CreatedIsReadOnly),
    ("test_create_race_has_exactly_one_winner", CreateAlwaysTrue),
    ("test_create_race_has_exactly_one_winner", CreateOverwrites),
    ("test_create_race_has_exactly_one_winner", CreateReturnsInt),
    ("test_create_race_has_exactly_one_winner", CreateRaises),
    ("test_list_returns_every_key_with_the_prefix_sorted", ListUnsorted),
    ("test_list_returns_every_key_with_the_prefix_sorted", ListNotRecursive),
    ("test_list_returns_every_key_with_the_prefix_sorted", ListReturnsTuple),
    ("test_list_prefix_is_a_plain_string_prefix", ListByFolder),
    ("test_list_prefix_is_a_plain_string_prefix", ListNotRecursive),
    ("test_list_of_an_unused_prefix_is_empty", ListStripsSlash),
    ("test_list_of_an_unused_prefix_is_empty", ListByParentFolder),
    ("test_list_sorts_by_code_point", ListSortsIgnoringCase),
    ("test_list_shows_created_keys", CreateInvisibleToList),
    ("test_keys_with_dots_dashes_and_underscores", LowercasesKeys),
    ("test_keys_with_dots_dashes_and_underscores", RefusesDoubleDots),
    ("test_keys_with_dots_dashes_and_underscores", ListUnsorted),
    ("test_unsafe_keys_are_refused", RefusesAfterWriting),
]


def _run(test_name: str, store: MemoryStore) -> None:
    getattr(StoreContract(), test_name)(store)


@pytest.mark.parametrize(("test_name", "broken"), CASES, ids=[f"{t.removeprefix('test_')}-{b.__name__}" for t, b in CASES])
def test_the_contract_fails_a_store_with_the_defect_it_checks(test_name: str, broken: Callable[[], MemoryStore]) -> None:
    _run(test_name, ContractStore())  # the defect, not the test, makes the difference
    with pytest.raises((AssertionError, StoreError)):
        _run(test_name, broken())


@pytest.mark.parametrize("operation", ["put", "create", "get", "delete"])
@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_the_contract_fails_a_store_that_lets_one_unsafe_key_through(key: str, operation: str) -> None:
    """Each unsafe key, in each of put, create and get, must be refused: a store that misses
    any single one of them escapes or aliases its root."""
    with pytest.raises(AssertionError, match=f"{operation}\\({key!r}\\) was not refused"):
        _run("test_unsafe_keys_are_refused", _accepts(key, operation)())


def test_every_contract_test_passes_on_a_correct_store() -> None:
    """The reference store above is correct, so every failure in this file is its defect's."""
    names = sorted(n for n in dir(StoreContract) if n.startswith("test_"))
    assert {name for name, _ in CASES} == set(names), "a contract test without a broken store to catch"
    for name in names:
        _run(name, ContractStore())
