"""A link or a FIFO named like a write's temporary file (``.NAME.XXXXXXXX.tmp``) is not the
store's own: deleting its experiment leaves it, and the warning names it, however young it is.
Only a regular file a live writer holds, changed within STALE_TEMP_SECONDS, is left unnamed."""

from __future__ import annotations

import logging
import os

from kfp_tune.stores.local import LocalStore


def test_delete_names_a_link_and_a_fifo_with_temporary_file_names_that_it_leaves(tmp_path, caplog):
    store = LocalStore(tmp_path / "store")
    store.put("experiments/e/experiment.json", b"{}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "f").write_text("x")
    folder = store.root / "experiments" / "e"
    link, fifo = folder / ".result.json.abcdefgh.tmp", folder / ".ended.json.zzzzzzzz.tmp"
    os.symlink(elsewhere / "f", link)
    os.mkfifo(fifo)

    with caplog.at_level(logging.WARNING, logger="kfp_tune"):
        store.delete(["experiments/e/experiment.json"])

    assert link.is_symlink() and fifo.exists(), "not the store's own: never removed"
    assert (elsewhere / "f").read_text() == "x"
    warned = " ".join(record.getMessage() for record in caplog.records)
    assert str(link) in warned and str(fifo) in warned
