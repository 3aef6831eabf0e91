"""BookSet: ids, views sharing one preallocated block, per-book state, independence of the books
(a full side of one book must never spill into its neighbour), capacity/id errors, and lifetimes
(a view or a top_ticks array outliving its owner must stay valid)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from bookcheck import assert_book_matches, snapshot_state
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from numfmt import plain
from refbook import RefBook

from openclaw import OrderBook
from openclaw._core.book import BookSet
from openclaw.model.errors import BookError, CapacityError, OpenclawError, PriceParseError

SYNCING, LIVE, STALE, RESYNCING = 0, 1, 2, 3


def test_bookset_is_exported_at_top_level() -> None:
    import openclaw

    assert openclaw.BookSet is BookSet


def test_ids_are_dense_from_zero_and_capacity_is_enforced() -> None:
    bs = BookSet(max_books=3, capacity=4)
    assert bs.n_books == 0
    ids = [bs.add(tick_size="0.01", lot_size="0.001") for _ in range(3)]
    assert ids == [0, 1, 2]
    assert all(type(i) is int for i in ids)
    assert bs.n_books == 3
    with pytest.raises(CapacityError):
        bs.add(tick_size="0.01", lot_size="0.001")
    assert bs.n_books == 3


def test_a_rejected_add_does_not_use_an_id() -> None:
    bs = BookSet(max_books=2, capacity=4)
    with pytest.raises(PriceParseError) as err:
        bs.add(tick_size="0.0x1", lot_size="0.001")
    assert err.value.field == "tick_size" and err.value.reason == "syntax"
    with pytest.raises(PriceParseError) as err:
        bs.add(tick_size="0.01", lot_size="-1")
    assert err.value.field == "lot_size" and err.value.reason == "negative"
    assert bs.n_books == 0
    assert bs.add(tick_size="0.01", lot_size="0.001") == 0
    assert bs.add(tick_size="0.5", lot_size="1") == 1


@pytest.mark.parametrize("max_books, capacity", [(0, 10), (-1, 10), (4, 0), (4, -5)])
def test_bad_bookset_dimensions(max_books, capacity) -> None:
    with pytest.raises(CapacityError):
        BookSet(max_books=max_books, capacity=capacity)


@pytest.mark.parametrize("capacity", [0, -1])
def test_bad_orderbook_capacity(capacity) -> None:
    with pytest.raises(CapacityError) as err:
        OrderBook(tick_size="0.01", lot_size="0.001", capacity=capacity)
    assert isinstance(err.value, BookError)


@pytest.mark.parametrize("bad_id", [-1, 2, 3, 4, 1000])
def test_bad_book_ids(bad_id) -> None:
    bs = BookSet(max_books=4, capacity=4)
    bs.add(tick_size="0.01", lot_size="0.001")
    bs.add(tick_size="0.01", lot_size="0.001")  # ids 0, 1 exist; 2, 3 allocated but not added
    with pytest.raises(CapacityError):
        bs.book(bad_id)
    with pytest.raises(CapacityError):
        bs.state(bad_id)
    with pytest.raises(CapacityError):
        bs.set_state(bad_id, LIVE)
    assert [bs.state(i) for i in (0, 1)] == [SYNCING, SYNCING]


def test_views_share_storage() -> None:
    bs = BookSet(max_books=2, capacity=4)
    i = bs.add(tick_size="0.01", lot_size="0.001")
    v1, v2 = bs.book(i), bs.book(i)
    v1.apply_snapshot([("100.00", "1")], [("100.05", "2")], seq=3, exch_ts=4, recv_ts=5)
    assert v2.best_bid() == (100.0, 1.0) and v2.best_ask() == (100.05, 2.0)
    assert (v2.seq, v2.exch_ts, v2.recv_ts) == (3, 4, 5)
    v2.set_level(0, "100.01", "0.5")
    assert v1.best_bid() == (100.01, 0.5)
    assert v1.depth() == (2, 1)
    for px in ("99.99", "99.98", "99.97", "99.96"):  # capacity 4: two of these are dropped
        v2.set_level(0, px, "1")
    assert v1.dropped == v2.dropped == 2
    assert snapshot_state(v1) == snapshot_state(v2)
    v1.clear()
    assert v2.depth() == (0, 0)
    assert v1.tick_size == v2.tick_size == "0.01" and v1.lot_size == "0.001"


def test_tick_and_lot_per_book() -> None:
    bs = BookSet(max_books=3, capacity=4)
    a = bs.add(tick_size="0.01", lot_size="0.00001")
    b = bs.add(tick_size="0.5", lot_size="1")
    c = bs.add(tick_size="0.010", lot_size="1e-3")
    assert (bs.book(a).tick_size, bs.book(b).tick_size, bs.book(c).tick_size) == (
        "0.01",
        "0.5",
        "0.010",
    )
    assert bs.book(b).to_ticks("2") == 4 and bs.book(a).to_ticks("2") == 200
    assert bs.book(c).to_lots("1") == 1000
    with pytest.raises(PriceParseError):
        bs.book(b).set_level(0, "1.25", "1")  # fine for book a, not for book b
    bs.book(a).set_level(0, "1.25", "1")


def test_state_get_set() -> None:
    bs = BookSet(max_books=3, capacity=4)
    ids = [bs.add(tick_size="0.01", lot_size="0.001") for _ in range(3)]
    assert [bs.state(i) for i in ids] == [SYNCING] * 3
    bs.set_state(1, LIVE)
    assert [bs.state(i) for i in ids] == [SYNCING, LIVE, SYNCING]
    for s in (STALE, RESYNCING, LIVE, SYNCING):
        bs.set_state(2, s)
        assert bs.state(2) == s
    assert bs.state(1) == LIVE
    for bad in (4, -1, 99):
        with pytest.raises((ValueError, OpenclawError)):
            bs.set_state(1, bad)
        assert bs.state(1) == LIVE
    # state is metadata: it does not touch the levels
    bs.book(0).set_level(0, "1", "1")
    bs.set_state(0, STALE)
    assert bs.book(0).best_bid() == (1.0, 1.0)


@st.composite
def set_scenarios(draw):
    n_books = draw(st.integers(2, 4))
    capacity = draw(st.integers(1, 6))
    units = [
        (
            draw(st.sampled_from(["0.01", "0.5", "1", "0.00001"])),
            draw(st.sampled_from(["0.001", "1"])),
        )
        for _ in range(n_books)
    ]
    ops = []
    for _ in range(draw(st.integers(1, 40))):
        b = draw(st.integers(0, n_books - 1))
        tick, lot = units[b]
        r = draw(st.integers(0, 9))
        if r < 6:
            ops.append(
                (
                    b,
                    "set_level",
                    draw(st.sampled_from([0, 1])),
                    plain(draw(st.integers(1, 30)), tick),
                    plain(draw(st.integers(0, 4)), lot),
                )
            )
        elif r < 8:
            lv = st.lists(
                st.tuples(st.integers(1, 30), st.integers(0, 4)).map(
                    lambda tq, tick=tick, lot=lot: (plain(tq[0], tick), plain(tq[1], lot))
                ),
                max_size=10,
            )
            ops.append((b, "apply", draw(lv), draw(lv)))
        elif r < 9:
            lv = st.lists(
                st.tuples(st.integers(1, 30), st.integers(1, 4)).map(
                    lambda tq, tick=tick, lot=lot: (plain(tq[0], tick), plain(tq[1], lot))
                ),
                max_size=12,
            )
            ops.append((b, "snapshot", draw(lv), draw(lv)))
        else:
            ops.append((b, "clear"))
    return capacity, units, ops


def _run(book, op) -> None:
    name = op[1]
    if name == "set_level":
        book.set_level(op[2], op[3], op[4])
    elif name == "apply":
        book.apply(op[2], op[3], seq=7, exch_ts=8, recv_ts=9)
    elif name == "snapshot":
        book.apply_snapshot(op[2], op[3], seq=7, exch_ts=8, recv_ts=9)
    else:
        book.clear()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(set_scenarios())
def test_books_in_a_set_are_independent(scenario) -> None:
    """Random streams into the books of one BookSet; after every step *every* book (not just the
    one written) matches its own reference, so no write spills into a neighbour's slots."""
    capacity, units, ops = scenario
    note(f"capacity={capacity} units={units}")
    bs = BookSet(max_books=len(units) + 1, capacity=capacity)
    ids = [bs.add(tick_size=t, lot_size=lot) for t, lot in units]
    refs = [RefBook(t, lot, capacity) for t, lot in units]
    offsets = [0] * len(units)
    for step, op in enumerate(ops):
        note(f"step {step}: {op!r}")
        b = op[0]
        _run(refs[b], op)
        _run(bs.book(ids[b]), op)
        if op[1] == "clear":
            offsets[b] = bs.book(ids[b]).dropped - refs[b].dropped
        for i, ref in enumerate(refs):
            assert_book_matches(bs.book(ids[i]), ref, fills=(i == b), dropped_offset=offsets[i])


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_view_outlives_its_bookset() -> None:
    """A view keeps the block alive (run in a child process: a use-after-free would crash it)."""
    proc = _run_python(
        """
        import gc
        from openclaw._core.book import BookSet
        bs = BookSet(max_books=2, capacity=64)
        bs.add(tick_size="0.01", lot_size="0.001")
        view = bs.book(0)
        del bs
        gc.collect()
        junk = [bytearray(1 << 16) for _ in range(200)]  # reuse freed memory if any
        for i in range(64):
            view.set_level(0, f"{100 + i}.00", "1")
        assert view.depth() == (64, 0), view.depth()
        assert view.best_bid() == (163.0, 1.0), view.best_bid()
        print("ok")
        """
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_top_ticks_view_outlives_its_book() -> None:
    proc = _run_python(
        """
        import gc
        from openclaw import OrderBook
        book = OrderBook(tick_size="0.01", lot_size="0.001", capacity=64)
        book.apply_snapshot([("100.00", "1"), ("99.99", "2")], [("100.01", "3")])
        bid_px, bid_qty, ask_px, ask_qty = book.top_ticks(2)
        del book
        gc.collect()
        junk = [bytearray(1 << 16) for _ in range(200)]
        assert bid_px.tolist() == [10000, 9999], bid_px.tolist()
        assert ask_qty.tolist() == [3000], ask_qty.tolist()
        print("ok")
        """
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
