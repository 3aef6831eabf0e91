"""Worked examples of the order book API (the property tests cover random streams)."""

import math

import numpy as np
import pytest

from openclaw import BookSet, OrderBook
from openclaw.model.errors import LevelFormatError, PriceParseError


def make_book(capacity: int = 5000) -> OrderBook:
    book = OrderBook(tick_size="0.01", lot_size="0.00001", capacity=capacity)
    book.apply_snapshot(
        [("100.00", "1"), ("99.99", "2"), ("99.50", "3")],
        [("100.01", "0.5"), ("100.02", "0.25")],
        seq=7,
        exch_ts=123,
        recv_ts=456,
    )
    return book


def test_snapshot_and_reads() -> None:
    book = make_book()
    assert book.best_bid() == (100.0, 1.0)
    assert book.best_ask() == (100.01, 0.5)
    assert book.depth() == (3, 2)
    bids, asks = book.top(2)
    assert bids.tolist() == [[100.0, 1.0], [99.99, 2.0]]
    assert asks.tolist() == [[100.01, 0.5], [100.02, 0.25]]
    assert (book.seq, book.exch_ts, book.recv_ts) == (7, 123, 456)
    assert book.mid() == pytest.approx(100.005)
    assert book.spread() == pytest.approx(0.01)
    assert book.mid_ticks() == (10000 + 10001) // 2
    assert OrderBook("0.01", "0.00001").mid_ticks() == 0
    assert not book.is_crossed()


def test_message_is_all_or_nothing() -> None:
    book = make_book()
    before = [a.copy() for a in book.top(10)]
    with pytest.raises(PriceParseError) as err:
        book.apply([("100.00", "0"), ("99.98", "1")], [("100.015", "1")])
    assert err.value.field == "price" and err.value.reason == "not_multiple"
    after = book.top(10)
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    book.apply([("100.00", "0"), ("99.98", "1")], [])
    assert book.best_bid() == (99.99, 2.0)


def test_fill_walks_levels() -> None:
    book = make_book()
    filled, vwap, worst = book.fill(1, "0.6")
    assert filled == pytest.approx(0.6)
    assert vwap == pytest.approx((0.5 * 100.01 + 0.1 * 100.02) / 0.6)
    assert worst == 100.02
    filled, vwap, worst = book.fill(0, 100)
    assert filled == pytest.approx(6.0)
    empty = OrderBook("0.01", "0.00001")
    assert math.isnan(empty.fill(0, 1)[1])


def test_full_side_drops_furthest_never_top() -> None:
    book = OrderBook("0.01", "0.00001", capacity=3)
    for px in ("10", "11", "12"):
        book.set_level(0, px, "1")
    book.set_level(0, "9", "1")           # worse than all: it is the one dropped
    assert book.top(5)[0][:, 0].tolist() == [12.0, 11.0, 10.0]
    book.set_level(0, "13", "1")          # new top: the furthest (10) goes
    assert book.top(5)[0][:, 0].tolist() == [13.0, 12.0, 11.0]
    assert book.dropped == 2


def test_top_ticks_are_views() -> None:
    book = make_book()
    bid_px, bid_qty, ask_px, ask_qty = book.top_ticks(2)
    assert bid_px.tolist() == [10000, 9999]
    assert ask_qty.tolist() == [50000, 25000]
    assert bid_px.base is not None  # a view, not a copy
    book.set_level(0, "100.00", "4")
    assert bid_qty[0] == 400000    # the view sees the change


def test_bookset_views_share_storage() -> None:
    bs = BookSet(max_books=2, capacity=10)
    a = bs.add("0.01", "0.001")
    b = bs.add("0.5", "1")
    bs.book(a).set_level(1, "1.23", "0.004")
    assert bs.book(a).best_ask() == (1.23, 0.004)
    assert bs.book(b).best_ask() is None
    with pytest.raises(LevelFormatError):
        bs.book(b).set_level(2, "1", "1")
