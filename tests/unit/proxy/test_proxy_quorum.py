"""Quorum size and Swift's best-response choice (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.proxy.quorum import (
    Reply,
    best_reply,
    best_status,
    have_quorum,
    pad,
    quorum_size,
)


@pytest.mark.parametrize(("n", "quorum"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3)])
def test_quorum_size_is_ceil_half(n, quorum):
    assert quorum_size(n) == quorum


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([201, 201, 201], 201),
        ([201, 201, 503], 201),
        ([201, 503, 503], 503),
        ([201, 202, 202], 202),  # container PUT: the highest of the winning class
        ([404, 404, 503], 404),
        ([204, 404, 503], 503),
        ([409, 409, 201], 409),
        ([412, 201, 201], 201),
        ([507, 507, 201], 503),
        ([], 503),
    ],
)
def test_best_status_follows_swift(statuses, expected):
    assert best_status(statuses) == expected


def test_best_status_with_explicit_quorum_counts_padded_answers():
    assert best_status(pad([201], 3)) == 503
    assert best_status(pad([201, 201], 3)) == 201


def test_have_quorum_waits_until_a_class_is_decided():
    assert not have_quorum([201], 3)
    assert have_quorum([201, 201], 3)
    assert not have_quorum([201, 404], 3)
    assert have_quorum([100, 100], 3)


def test_best_reply_returns_the_first_of_equal_statuses():
    replies = [Reply(503), Reply(404, "A"), Reply(404, "B")]
    chosen = best_reply(replies)
    assert chosen is not None
    assert chosen.reason == "A"


def test_reply_header_lookup_is_case_insensitive():
    reply = Reply(200, headers=[("X-Backend-Timestamp", "1.0")])
    assert reply.header("x-backend-timestamp") == "1.0"
    assert reply.header("missing", "d") == "d"


@settings(deadline=None, max_examples=200)
@given(
    st.lists(
        st.sampled_from([200, 201, 202, 204, 304, 400, 404, 409, 412, 500, 503, 507]),
        min_size=1,
    )
)
def test_best_status_is_backed_by_a_quorum_and_no_better_class_has_one(statuses):
    chosen = best_status(statuses)
    need = quorum_size(len(statuses))

    def members(hundred: int) -> list[int]:
        return [s for s in statuses if hundred <= s < hundred + 100]

    better = range(200, 500, 100) if chosen == 503 else range(200, chosen // 100 * 100, 100)
    for hundred in better:
        assert len(members(hundred)) < need
    if chosen != 503:
        assert len(members(chosen // 100 * 100)) >= need
        assert chosen == max(members(chosen // 100 * 100))
