"""The experiment loader read 3 MiB + 1 bytes of any file before it refused it by its size (review
B of session 38, finding 8): core.loading had a bounded read of its own beside
yaml_bounds.bounded_file_bytes, which looks at the size first, and the guide said a larger file
"is refused by its size before any of it is read". The loader now reads by the one rule: a
regular file larger than the limit is refused unread, naming the limit, as before. Memory is
measured with tracemalloc, not time."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import MAX_DOCUMENT_BYTES, load_experiment, read_text_file


def _sparse(tmp_path: Path, size: int) -> Path:
    file = tmp_path / "big.exp"
    with file.open("wb") as handle:
        handle.truncate(size)
    return file


def test_a_file_past_the_limit_is_refused_without_reading_it(tmp_path):
    file = _sparse(tmp_path, 8 * MAX_DOCUMENT_BYTES)
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as refused:
            load_experiment(file)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"{file} is larger than {MAX_DOCUMENT_BYTES:,} bytes (Kubernetes' request limit); an experiment is a few KB" in str(refused.value)
    assert peak < MAX_DOCUMENT_BYTES // 4, peak


def test_a_file_at_the_limit_is_read(tmp_path):
    file = tmp_path / "at.exp"
    file.write_bytes(b"#" * MAX_DOCUMENT_BYTES)
    assert read_text_file(file) == "#" * MAX_DOCUMENT_BYTES

