"""Targeted, hand-worked cases of the OrderBook contract (docs/core-api.md) that the random streams
of test_book_property.py hit only by luck: message-order independence at a full side, snapshot
trimming, timestamps, copies vs views, fill on large notionals, crossed books."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from bookcheck import assert_book_matches, snapshot_state
from refbook import RefBook

from openclaw import OrderBook
from openclaw.model.errors import BookError, PriceParseError


def book_with(bids, asks=(), capacity=2, tick="1", lot="1") -> OrderBook:
    book = OrderBook(tick_size=tick, lot_size=lot, capacity=capacity)
    book.apply_snapshot([(str(p), "1") for p in bids], [(str(p), "1") for p in asks])
    return book


def bid_ticks(book) -> list[int]:
    return book.top_ticks(100)[0].tolist()


MESSAGES_AT_FULL_SIDE = [  # capacity 2, bids 10 and 9; every permutation must give this result
    ([(8, 1), (10, 0)], [9, 8], 0),  # the delete frees the slot the insert needs
    ([(11, 1), (9, 5)], [11, 10], 1),  # 9 is updated, then pushed out once
    ([(11, 1), (11, 0)], [10, 9], 0),  # net effect nothing: nothing dropped
    ([(8, 1), (8, 0)], [10, 9], 0),
    ([(11, 1), (12, 1), (11, 0)], [12, 10], 1),
    ([(11, 1), (10, 0), (9, 5)], [11, 9], 0),
    ([(7, 1), (8, 1), (6, 1)], [10, 9], 3),
]


@pytest.mark.parametrize("message, expected, dropped", MESSAGES_AT_FULL_SIDE, ids=repr)
def test_message_order_does_not_matter_at_a_full_side(message, expected, dropped) -> None:
    results = set()
    for perm in itertools.permutations(message):
        # a later level for the same price overrides an earlier one: keep their relative order
        if any(
            perm.index(a) > perm.index(b)
            for a, b in itertools.combinations(message, 2)
            if a[0] == b[0]
        ):
            continue
        book = book_with([10, 9])
        book.apply([(str(p), str(q)) for p, q in perm], [])
        results.add((tuple(bid_ticks(book)), book.dropped))
        assert (bid_ticks(book), book.dropped) == (expected, dropped), f"message {list(perm)}"
    assert len(results) == 1


def test_snapshot_keeps_the_best_and_counts_the_rest() -> None:
    book = OrderBook(tick_size="1", lot_size="1", capacity=3)
    book.apply_snapshot([(str(p), "1") for p in (5, 1, 9, 3, 7)], [("20", "1"), ("11", "2")])
    assert bid_ticks(book) == [9, 7, 5]
    assert book.top_ticks(5)[2].tolist() == [11, 20]
    assert book.dropped == 2
    book.apply_snapshot([("4", "1"), ("4", "0"), ("2", "3")], [])  # later level for a price wins
    assert bid_ticks(book) == [2] and book.depth() == (1, 0)


def test_a_snapshot_replaces_both_sides() -> None:
    book = book_with([10, 9], [12, 13], capacity=4)
    book.apply_snapshot([("5", "1")], [])
    assert bid_ticks(book) == [5] and book.best_ask() is None


def test_the_top_is_never_dropped() -> None:
    book = OrderBook(tick_size="1", lot_size="1", capacity=1)
    for px in (5, 3, 8, 8, 1, 9, 2):
        book.set_level(0, str(px), "1")
        book.set_level(1, str(20 - px), "1")
    assert bid_ticks(book) == [9] and book.top_ticks(1)[2].tolist() == [11]


def test_stamps_follow_the_last_accepted_message() -> None:
    book = OrderBook(tick_size="0.01", lot_size="1", capacity=4)
    book.apply([("1", "1")], [], seq=11, exch_ts=12, recv_ts=13)
    assert (book.seq, book.exch_ts, book.recv_ts) == (11, 12, 13)
    book.apply_snapshot([("1", "1")], [], seq=21, exch_ts=22, recv_ts=23)
    assert (book.seq, book.exch_ts, book.recv_ts) == (21, 22, 23)
    with pytest.raises(PriceParseError):
        book.apply([("1.001", "1")], [], seq=31, exch_ts=32, recv_ts=33)
    assert (book.seq, book.exch_ts, book.recv_ts) == (21, 22, 23)
    with pytest.raises(PriceParseError):
        book.apply_snapshot([], [("x", "1")], seq=41, exch_ts=42, recv_ts=43)
    assert (book.seq, book.exch_ts, book.recv_ts) == (21, 22, 23)
    assert bid_ticks(book) == [100]


def test_recv_ts_zero_means_now() -> None:
    book = OrderBook(tick_size="0.01", lot_size="1", capacity=4)
    lo = time.monotonic_ns()
    book.apply([("1", "1")], [], seq=1, exch_ts=2, recv_ts=0)
    hi = time.monotonic_ns()
    assert lo <= book.recv_ts <= hi
    lo = time.monotonic_ns()
    book.apply_snapshot([("1", "1")], [], seq=1)
    hi = time.monotonic_ns()
    assert lo <= book.recv_ts <= hi


def test_top_returns_new_arrays() -> None:
    book = book_with([10, 9], [12], capacity=4)
    bids, asks = book.top(5)
    bids[:] = -1.0
    asks[:] = -1.0
    assert book.top(5)[0].tolist() == [[10.0, 1.0], [9.0, 1.0]]
    assert book.best_ask() == (12.0, 1.0)
    assert book.top(0)[0].shape == (0, 2)


def test_reads_on_empty_and_one_sided_books() -> None:
    book = OrderBook(tick_size="0.01", lot_size="0.001", capacity=4)
    assert book.best_bid() is None and book.best_ask() is None
    assert book.mid() is None and book.spread() is None and not book.is_crossed()
    assert book.depth() == (0, 0)
    assert [a.shape for a in book.top(3)] == [(0, 2), (0, 2)]
    assert [len(a) for a in book.top_ticks(3)] == [0, 0, 0, 0]
    book.set_level(0, "1", "1")
    assert book.mid() is None and book.spread() is None and not book.is_crossed()
    f = book.fill(1, "1")
    assert f[0] == 0.0 and math.isnan(f[1]) and math.isnan(f[2])


def test_crossed_input_is_kept_as_given() -> None:
    book = OrderBook(tick_size="0.01", lot_size="0.001", capacity=4)
    book.apply([("100.05", "1"), ("100.00", "2")], [("100.01", "3"), ("100.05", "1")])
    assert book.is_crossed()
    assert book.spread() == pytest.approx(-0.04)
    assert book.mid() == pytest.approx(100.03)
    book.set_level(0, "100.05", "0")
    book.set_level(0, "100.01", "1")  # best bid == best ask is crossed too
    assert book.is_crossed() and book.spread() == 0.0


def test_fill_is_read_only_and_exact_at_level_boundaries() -> None:
    book = OrderBook(tick_size="0.01", lot_size="0.001", capacity=8)
    book.apply_snapshot([], [("100.01", "1.5"), ("100.02", "2"), ("100.05", "0.001")])
    before = snapshot_state(book)
    assert book.fill(1, "1.5") == (1.5, 100.01, 100.01)  # exactly the first level: worst is it
    filled, vwap, worst = book.fill(1, "1.501")
    assert (filled, worst) == (1.501, 100.02)
    assert vwap == pytest.approx((1.5 * 100.01 + 0.001 * 100.02) / 1.501, rel=1e-12)
    filled, vwap, worst = book.fill(1, 1000.0)
    assert (filled, worst) == (3.501, 100.05)
    f = book.fill(1, 0)
    assert f[0] == 0.0 and math.isnan(f[1]) and math.isnan(f[2])
    assert snapshot_state(book) == before
    with pytest.raises(BookError):
        book.fill(1, "-1")
    with pytest.raises(BookError):
        book.fill(2, "1")


def test_fill_over_a_deep_btc_book_does_not_overflow() -> None:
    """tick 0.01 and lot 1e-8 (satoshi): 8 levels of 5000 BTC near 65000 is ~2.6e19 tick*lot,
    past int64; the vwap must still be right."""
    tick, lot = "0.01", "0.00000001"
    levels = [(f"{65000 + i}.{i:02d}", "5000") for i in range(8)]
    book = OrderBook(tick_size=tick, lot_size=lot, capacity=16)
    ref = RefBook(tick, lot, 16)
    for b in (book, ref):
        b.apply_snapshot([], levels)
    assert_book_matches(book, ref)
    filled, vwap, worst = book.fill(1, "40000")
    exact = ref.fill(1, "40000")
    assert filled == 40000.0 and worst == float(exact[2])
    assert vwap == pytest.approx(float(exact[1]), rel=1e-12)


def test_clear_empties_both_sides() -> None:
    book = book_with([10, 9], [11], capacity=2)
    book.set_level(0, "8", "1")  # dropped
    book.clear()
    assert book.depth() == (0, 0) and book.best_bid() is None and book.best_ask() is None
    book.set_level(0, "5", "1")
    assert bid_ticks(book) == [5]


def test_float_array_and_strings_give_the_same_book() -> None:
    arr = np.array([[100.01, 0.5], [99.99, 1.25], [100.0, 0.0]], dtype=np.float64)
    strs = [("100.01", "0.5"), ("99.99", "1.25"), ("100.00", "0")]
    a = OrderBook(tick_size="0.01", lot_size="0.00001", capacity=8)
    b = OrderBook(tick_size="0.01", lot_size="0.00001", capacity=8)
    a.apply(arr, arr[::-1].copy())
    b.apply(strs, strs[::-1])
    assert snapshot_state(a)[:4] == snapshot_state(b)[:4]  # not recv_ts: 0 means now
    assert a.top_ticks(5)[0].tolist() == [10001, 9999]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.setflags(write=False)
    return a


BASE = np.array([[100.01, 0.5], [99.99, 1.25], [100.0, 2.0], [98.0, 1.0]], dtype=np.float64)
LAYOUTS = {
    "c_contiguous": lambda: BASE.copy(),
    "fortran": lambda: np.asfortranarray(BASE),
    "strided": lambda: np.repeat(BASE, 2, axis=0)[::2],
    "reversed": lambda: BASE[::-1],
    "read_only": lambda: _readonly(BASE),
    "frombuffer": lambda: np.frombuffer(BASE.tobytes(), dtype=np.float64).reshape(-1, 2),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_float64_arrays_in_any_layout(layout) -> None:
    """Any float64 (k, 2) array is a valid side, including read-only ones (np.frombuffer over
    received bytes is read-only) and non-contiguous views."""
    arr = LAYOUTS[layout]()
    assert arr.dtype == np.float64 and arr.shape == (4, 2)
    book = OrderBook(tick_size="0.01", lot_size="0.00001", capacity=8)
    book.apply(arr, arr)
    assert book.top_ticks(8)[0].tolist() == [10001, 10000, 9999, 9800]
    assert book.top_ticks(8)[1].tolist() == [50000, 200000, 125000, 100000]
    book.apply_snapshot(arr, [])
    assert book.depth() == (4, 0)
