"""Store keys and S3 prefixes are relative paths of '/'-separated names. A part that is empty,
'.' or '..' could reach outside the store's root, or name one object two ways: S3 keeps keys as
plain strings, but servers differ on such parts (SeaweedFS stores ``a//b/k`` as ``a/b/k`` and a
listing of ``a//b/`` then finds nothing), so every store refuses them before any request."""

from __future__ import annotations

from kfp_tune.core.errors import shown

UNSAFE_PARTS = ("", ".", "..")
"""Path parts no key or S3 prefix may have."""


def unsafe_part(path: str) -> str | None:
    """The first part of ``path`` (split at '/') that is empty, '.' or '..'; None when every
    part is a name. An empty path, or one with a leading, trailing or doubled '/', has an empty part."""
    return next((part for part in path.split("/") if part in UNSAFE_PARTS), None)


def describe_part(part: str) -> str:
    """How a message names an unsafe part: an empty one is two '/' in a row."""
    return "an empty part ('//')" if part == "" else f"a {part!r} part"


def prefix_problem(prefix: str) -> str | None:
    """What is wrong with an S3 store's prefix (the URI's path, its outer '/' dropped: ``s3://b/x/``
    and ``s3://b//x`` are prefix ``x``, ``s3://b`` and ``s3://b/`` the bucket's root); None if nothing."""
    prefix = prefix.strip("/")
    part = unsafe_part(prefix) if prefix else None
    if part is None:
        return None
    return f"the prefix {shown(prefix)} has {describe_part(part)}: expected names separated by single '/', none of them '.' or '..'"
