"""TriArb's order path: the recorder stamps taken in C, ``pick``/``handed_over``, the integer
legs (``legs``, ``write_orders``) against the Opportunity objects, and argument checks."""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openclaw import OrderBook
from openclaw._core.errors import CapacityError
from openclaw._core.risk import ORDER_DTYPE
from openclaw._core.stageclock import StageClock
from openclaw._core.triarb import TriArb

STAGES = ("recv", "book", "signal", "risk", "submit", "acked")


def _book(bids: list[tuple[str, str]], asks: list[tuple[str, str]], tick: str,
          lot: str) -> OrderBook:
    b = OrderBook(tick, lot, 32)
    b.apply_snapshot(bids, asks)
    b.state = 1
    return b


def _arb(ethbtc_bid: str = "0.05100") -> tuple[TriArb, list[OrderBook]]:
    books = [
        _book([("65000.00", "1")], [("65000.01", "1")], "0.01", "0.00001"),
        _book([("3250.00", "10")], [("3250.01", "10")], "0.01", "0.0001"),
        _book([(ethbtc_bid, "5")], [("0.05110", "5")], "0.00001", "0.0001"),
    ]
    rows = [("v", "BTC", "USDT", books[0], 10.0), ("v", "ETH", "USDT", books[1], 10.0),
            ("v", "ETH", "BTC", books[2], 10.0)]
    arb = TriArb(rows, min_profit_bps=1.0)
    arb.set_balance("v", "USDT", 3000.0)
    return arb, books


def test_on_update_stamps_recv_book_signal_and_the_order_stages() -> None:
    arb, _ = _arb()
    clock = StageClock(STAGES, capacity=4)
    arb.set_recorder(clock, 1, 2, 3, 4)
    assert arb.on_update(2, 0, True, 1234) >= 1
    e = arb.event
    assert e == 0 and clock.n_events == 1
    i = arb.pick()
    assert i >= 0
    arb.legs(i)
    row = clock.snapshot()[0]
    assert row[0] == 1234 and row[1] > 1234 and row[2] >= row[1]
    assert row[3] == 0 and row[4] == 0                 # not checked, not handed over yet
    arb.handed_over(i)
    row = clock.snapshot()[0]
    assert row[4] >= row[2] and row[3] == 0
    # detached: no event, no stamp
    arb.set_recorder(None)
    arb.on_update(2, 0, False, 99)
    assert clock.n_events == 1 and arb.event == -1


def test_ring_slots_wrap_without_division() -> None:
    arb, _ = _arb()
    clock = StageClock(STAGES, capacity=3)
    arb.set_recorder(clock, 1, 2)
    for k in range(7):
        arb.on_update(0, 0, False, 1000 + k)
    rows = clock.snapshot()
    assert clock.n_events == 7
    assert [int(r[0]) for r in rows] == [1004, 1005, 1006]      # the newest three, in order
    assert all(r[1] > 0 and r[2] > 0 for r in rows)
    clock.mark(6, 5, 42)                                        # the newest event, by id
    clock.mark(4, 5, 41)
    assert [int(r[5]) for r in clock.snapshot()] == [41, 0, 42]


def test_set_recorder_rejects_bad_stages() -> None:
    arb, _ = _arb()
    clock = StageClock(STAGES)
    for bad in ((0, 2), (1, 6), (-1, 2)):
        with pytest.raises(CapacityError):
            arb.set_recorder(clock, *bad)
    with pytest.raises(CapacityError):
        arb.set_recorder(clock, 1, 2, 7)


def test_pick_skips_markets_until_their_books_update() -> None:
    arb, books = _arb()
    assert arb.on_update(2, 0, False) >= 1
    i = arb.pick()
    assert i >= 0
    arb.handed_over(i)
    arb.on_update(2, 0, False)
    assert arb.pick() == -1                     # every leg's book still shows what we took
    for b in books:                             # the venues publish: books update
        b.set_level(0, b.best_bid()[0], "1")
    arb.on_update(2, 0, False)
    assert arb.pick() >= 0


def _limit(px: Decimal, tick: Decimal, slip: Decimal, buy: bool) -> Decimal:
    """The reference: ArbPipeline._limit's Decimal arithmetic."""
    if not slip:
        return px
    if buy:
        return ((px * (1 + slip)) / tick).to_integral_value(rounding=ROUND_CEILING) * tick
    return ((px * (1 - slip)) / tick).to_integral_value(rounding=ROUND_FLOOR) * tick


@settings(max_examples=150, deadline=None)
@given(bid=st.integers(5030, 5200), size=st.integers(1, 60000),
       bps=st.sampled_from(["0", "0.5", "2.5", "15", "33.3", "999"]))
def test_integer_legs_match_the_opportunity(bid: int, size: int, bps: str) -> None:
    arb, books = _arb(str(Decimal(bid) * Decimal("0.00001")))
    books[2].set_level(0, str(Decimal(bid) * Decimal("0.00001")),
                       str(Decimal(size) * Decimal("0.0001")))
    if arb.on_update(2, 0, False) == 0:
        return
    slip = Decimal(bps) / Decimal(10000)
    num, den = slip.as_integer_ratio()
    ticks = [Decimal("0.01"), Decimal("0.01"), Decimal("0.00001")]
    lots = [Decimal("0.00001"), Decimal("0.0001"), Decimal("0.0001")]
    out = np.zeros(4, dtype=ORDER_DTYPE)
    insts = np.array([7, 8, 9], dtype=np.int32)
    for i in range(arb.n_found):
        o = arb.opportunity(i)
        legs = arb.legs(i, num, den)
        if o.start_amount <= 0:
            continue
        assert arb.write_orders(i, out, insts, num, den, 100) == legs
        for k, leg in enumerate(o.legs):
            m, buy, q, p = legs[4 * k: 4 * k + 4]
            assert (buy == 1) == (leg.side == "buy")
            assert Decimal(q) * lots[m] == Decimal(repr(leg.qty))
            want = _limit(Decimal(repr(leg.price_limit)), ticks[m], slip, bool(buy))
            assert Decimal(p) * ticks[m] == want
            row = out[k]
            assert (row["client_id"], row["price"], row["qty"], row["inst"], row["side"]) == (
                100 + k, p, q, insts[m], 1 if buy else -1)
            mid = books[m].mid_ticks()
            assert row["ref_mid"] == mid and not math.isnan(leg.price_limit)


def test_argument_checks() -> None:
    arb, _ = _arb()
    arb.on_update(2, 0, False)
    n = arb.n_found
    with pytest.raises(IndexError):
        arb.legs(n)
    with pytest.raises(ValueError):
        arb.legs(0, 1, 1)                     # slippage must be < 1
    with pytest.raises(CapacityError):
        arb.write_orders(0, np.zeros(2, dtype=ORDER_DTYPE), np.zeros(3, dtype=np.int32), 0, 1, 1)
    with pytest.raises(CapacityError):
        arb.write_orders(0, np.zeros(3, dtype=ORDER_DTYPE), np.zeros(2, dtype=np.int32), 0, 1, 1)
    with pytest.raises(CapacityError):
        arb.check_risk(0, 1)                  # no engine bound
    assert arb.rehearse_risk() == -1
