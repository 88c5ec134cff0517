"""``dns_label`` under a small ``max_length``: the label never exceeds it, or the limit is refused.

A label that had to change keeps a hash of the original text, so two texts never collapse into
one name. Below some length no readable part and hash fit; the old code then sliced with a
negative bound and returned a label far longer than the limit (``max_length=5`` gave 20+
characters), or one starting with a dash. Now every limit either works for every text or is
refused with a ValueError for every text, so a caller learns it at once, not for some inputs."""

from __future__ import annotations

import re

import pytest

from kfp_tune.core.naming import dns_label

DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
TEXTS = ["a", "ab", "abcdefghij", "Some_Text", "--", "", "2024-run", "x" * 80, "kfp-tune-" + "e" * 70, "Ünïcode name", "a-b-c-d-e-f-g-h"]


def outcome(text: str, max_length: int) -> str | None:
    """The label, or None when the limit is refused."""
    try:
        return dns_label(text, max_length)
    except ValueError as error:
        assert str(max_length) in str(error), "the refusal names the limit"
        return None


@pytest.mark.parametrize("max_length", range(-1, 70))
def test_a_label_never_exceeds_its_limit_and_a_limit_is_refused_for_every_text_or_none(max_length: int) -> None:
    labels = [outcome(text, max_length) for text in TEXTS]
    refused = [label is None for label in labels]
    assert all(refused) or not any(refused), f"limit {max_length}: refused for some texts only: {labels}"
    for text, label in zip(TEXTS, labels, strict=True):
        if label is not None:
            assert len(label) <= max_length, (text, max_length, label)
            assert DNS_LABEL.fullmatch(label), (text, max_length, label)


def test_refused_limits_are_exactly_those_below_the_first_that_works() -> None:
    """A refusal is a floor, not a hole: every limit from the first accepted one on works."""
    accepted = [n for n in range(0, 70) if outcome("Some_Text", n) is not None]
    assert accepted, "some limit must work"
    assert accepted == list(range(accepted[0], 70))


def test_at_the_smallest_accepted_limit_changed_texts_still_get_different_labels() -> None:
    """The reason for the floor: the hash must fit, or different texts would share a name."""
    smallest = next(n for n in range(0, 70) if outcome("Some_Text", n) is not None)
    texts = [f"Experiment_{i}" for i in range(50)]
    labels = {dns_label(text, smallest) for text in texts}
    assert len(labels) == len(texts)


def test_the_limits_callers_use_are_accepted() -> None:
    """Kubernetes' 63, the trial-name prefix and the api's 50 all work with hostile text."""
    for max_length in (63, 50, 36):
        label = dns_label("--Train_Run--" * 10, max_length)
        assert len(label) <= max_length and DNS_LABEL.fullmatch(label)
