"""Client order ids: venue-safe, unique, parseable back, never reused across sessions."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openclaw.model.client_ids import (
    MAX_ATTEMPT,
    MAX_LEG,
    MAX_OPPORTUNITY,
    ClientIdFactory,
    fits_all_venues,
    new_session,
    parse_client_id,
)
from openclaw.model.errors import ClientIdError

# the venues' documented rules, written out here independently of the module
OKX_CLORDID = re.compile(r"[A-Za-z0-9]{1,32}")
BYBIT_ORDERLINKID = re.compile(r"[A-Za-z0-9_-]{1,36}")
BINANCE_NEWCLIENTORDERID = re.compile(r"[.A-Za-z0-9:/_-]{1,36}")


def fits(cid: str) -> bool:
    return all(r.fullmatch(cid) for r in (OKX_CLORDID, BYBIT_ORDERLINKID, BINANCE_NEWCLIENTORDERID))


@given(st.integers(0, MAX_OPPORTUNITY), st.integers(0, MAX_LEG), st.integers(0, MAX_ATTEMPT))
def test_round_trip_and_fits_every_venue(opp: int, leg: int, attempt: int) -> None:
    f = ClientIdFactory(session="AbCdEfGh12")
    cid = f.make(opp, leg, attempt)
    assert fits(cid) and fits_all_venues(cid)
    parts = parse_client_id(cid)
    assert (parts.session, parts.opportunity_id, parts.leg, parts.attempt) == (
        "AbCdEfGh12",
        opp,
        leg,
        attempt,
    )
    assert f.owns(cid)


def test_extremes_are_at_most_32_chars() -> None:
    f = ClientIdFactory()
    assert len(f.make(MAX_OPPORTUNITY, MAX_LEG, MAX_ATTEMPT)) == 32
    assert len(f.make(0, 0)) == 14


def test_unique_within_and_across_sessions() -> None:
    a, b = ClientIdFactory(), ClientIdFactory()
    assert a.session != b.session
    ids = set()
    for f in (a, b):
        for _ in range(300):
            opp = f.next_opportunity()
            for leg in range(3):
                for attempt in range(2):
                    ids.add(f.make(opp, leg, attempt))
    assert len(ids) == 2 * 300 * 3 * 2
    assert not a.owns(b.make(0, 0))


def test_next_opportunity_increases() -> None:
    f = ClientIdFactory(first_opportunity=41)
    assert [f.next_opportunity() for _ in range(3)] == [41, 42, 43]


def test_sessions_of_later_starts_sort_later() -> None:
    """A restart (later millisecond) gets a different, later session prefix."""
    t = 1_795_000_000_000_000_000
    s1, s2 = new_session(t), new_session(t + 1_000_000)
    assert s1[:7] < s2[:7] and s1 != s2
    # the same millisecond: the random tail separates two processes (62**3 choices)
    same = {new_session(t) for _ in range(50)}
    assert len(same) > 40


@pytest.mark.parametrize(
    "cid",
    [
        "",
        "x" * 33,
        "C-bad",
        "Xabcdefghij000",  # wrong tag: not ours
        "Cabcdefghij00",  # too short: no opportunity
        "Cabcdefghij0001",  # leading zero: non-canonical
        "web_1234",
    ],
)
def test_parse_refuses_foreign_ids(cid: str) -> None:
    with pytest.raises(ClientIdError):
        parse_client_id(cid)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((-1, 0, 0), "opportunity_id"),
        ((MAX_OPPORTUNITY + 1, 0, 0), "opportunity_id"),
        ((0, MAX_LEG + 1, 0), "leg"),
        ((0, 0, MAX_ATTEMPT + 1), "attempt"),
        ((True, 0, 0), "opportunity_id"),
    ],
)
def test_make_refuses_out_of_range(args: tuple[int, int, int], field: str) -> None:
    with pytest.raises(ClientIdError) as info:
        ClientIdFactory().make(*args)
    assert info.value.field == field


def test_bad_session_refused() -> None:
    for bad in ("short", "has_under1", "x" * 11):
        with pytest.raises(ClientIdError):
            ClientIdFactory(session=bad)
