"""MergedBook (incremental) against a brute-force merge recomputed from scratch at every step.

2-4 venue books of one symbol with different tick sizes (0.01, 0.1, 0.005, ...) and lot sizes;
prices are drawn both on a grid common to every venue (so venues tie on price, and on size) and on
each venue's own fine grid. After every change of venue i: ``mb.update(i)``, then best_bid/best_ask
(price, size, venue) and top(n) for n in {1, 2, depth/2, depth} are compared with the reference.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from refbook import RefBook
from refmerge import RefMerged

from openclaw import OrderBook
from openclaw._core.merge import MergedBook

VENUE_TICKS = ["0.01", "0.1", "0.005", "0.05", "0.5"]
VENUE_LOTS = ["0.001", "0.01", "1", "0.00001", "0.5"]
CENTER = Decimal(100)
COARSE = Decimal("0.5")  # a multiple of every tick above: venues meet on these prices
REL = 1e-12

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=False,
    print_blob=True,  # a failure prints @reproduce_failure(...) to replay it exactly
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def dec(d: Decimal) -> str:
    return format(d, "f")


@st.composite
def venue_configs(draw):
    n = draw(st.integers(2, 4))
    return [
        {
            "tick": draw(st.sampled_from(VENUE_TICKS)),
            "lot": draw(st.sampled_from(VENUE_LOTS)),
            "capacity": draw(st.integers(2, 16)),
        }
        for _ in range(n)
    ]


@st.composite
def price_for(draw, cfg):
    if draw(st.booleans()):
        return dec(CENTER + draw(st.integers(-6, 6)) * COARSE)
    return dec(CENTER + draw(st.integers(-30, 30)) * Decimal(cfg["tick"]))


@st.composite
def size_for(draw, cfg):
    r = draw(st.integers(0, 9))
    if r < 2:
        return "0"
    if r < 6:  # whole units: equal sizes across venues with different lots
        return str(draw(st.integers(1, 3)))
    return dec(draw(st.integers(1, 10**6)) * Decimal(cfg["lot"]))


@st.composite
def merge_scenarios(draw):
    venues = draw(venue_configs())
    depth = draw(st.integers(1, 10))
    ops = []
    for _ in range(draw(st.integers(1, 40))):
        v = draw(st.integers(0, len(venues) - 1))
        cfg = venues[v]
        r = draw(st.integers(0, 19))
        if r < 12:
            ops.append(
                (
                    "set_level",
                    v,
                    draw(st.sampled_from([0, 1])),
                    draw(price_for(cfg)),
                    draw(size_for(cfg)),
                )
            )
        elif r < 17:
            levels = st.lists(st.tuples(price_for(cfg), size_for(cfg)), max_size=6)
            ops.append(("apply", v, draw(levels), draw(levels)))
        elif r < 19:
            levels = st.lists(st.tuples(price_for(cfg), size_for(cfg)), max_size=8)
            ops.append(("snapshot", v, draw(levels), draw(levels)))
        else:
            ops.append(("clear", v))
    return venues, depth, ops


def run_op(book, op) -> None:
    name = op[0]
    if name == "set_level":
        book.set_level(op[2], op[3], op[4])
    elif name == "apply":
        book.apply(op[2], op[3])
    elif name == "snapshot":
        book.apply_snapshot(op[2], op[3])
    else:
        book.clear()


def close(got: float, exp, what: str) -> None:
    e = float(exp)
    assert isinstance(got, float), f"{what}: {got!r} is not a float"
    assert abs(got - e) <= REL * abs(e) + 1e-300, f"{what}: got {got!r}, expected {e!r} ({exp})"


def check_best(got, exp, what: str) -> None:
    if exp is None:
        assert got is None, f"{what}: expected None, got {got!r}"
        return
    assert got is not None and len(got) == 3, f"{what}: got {got!r}, expected {exp}"
    close(got[0], exp[0], what + ".price")
    close(got[1], exp[1], what + ".size")
    assert int(got[2]) == exp[2], f"{what}.venue: got {got[2]!r}, expected {exp[2]} ({exp})"


def check_top(mb, ref: RefMerged, n: int, n_venues: int) -> None:
    got = mb.top(n)
    exp = ref.top(n)
    for name, g, e in zip(("bids", "asks"), got, exp, strict=True):
        assert isinstance(g, np.ndarray) and g.dtype == np.float64, f"top({n}).{name}: {g!r}"
        assert g.shape == (len(e), 2 + n_venues), (
            f"top({n}).{name}: shape {g.shape}, expected {(len(e), 2 + n_venues)}: "
            f"got {g.tolist()}, expected {[(float(p), float(t)) for p, t, _ in e]}"
        )
        for i, (row, (px, total, per)) in enumerate(zip(g.tolist(), e, strict=True)):
            close(row[0], px, f"top({n}).{name}[{i}].price")
            close(row[1], total, f"top({n}).{name}[{i}].total")
            for v in range(n_venues):
                close(row[2 + v], per[v], f"top({n}).{name}[{i}].venue{v}")


def check_all(mb, ref: RefMerged, depth: int, n_venues: int) -> None:
    check_best(mb.best_bid(), ref.best_bid(), "best_bid")
    check_best(mb.best_ask(), ref.best_ask(), "best_ask")
    for n in sorted({1, 2, (depth + 1) // 2, depth} & set(range(1, depth + 1))):
        check_top(mb, ref, n, n_venues)


def make(venues, depth):
    books = [
        OrderBook(tick_size=c["tick"], lot_size=c["lot"], capacity=c["capacity"]) for c in venues
    ]
    refs = [RefBook(c["tick"], c["lot"], c["capacity"]) for c in venues]
    return books, refs, MergedBook(books, depth=depth), RefMerged(refs, depth)


@SETTINGS
@given(merge_scenarios())
def test_incremental_merge_matches_brute_force(scenario) -> None:
    venues, depth, ops = scenario
    note(f"venues={venues} depth={depth}")
    books, refs, mb, ref = make(venues, depth)
    check_all(mb, ref, depth, len(venues))
    for step, op in enumerate(ops):
        note(f"step {step}: {op!r}")
        v = op[1]
        before = (ref.best_bid(), ref.best_ask())
        run_op(refs[v], op)
        run_op(books[v], op)
        changed = mb.update(v)
        after = (ref.best_bid(), ref.best_ask())
        if before != after:
            assert changed, f"update({v}) returned {changed!r} but the merged top changed"
        check_all(mb, ref, depth, len(venues))


@SETTINGS
@given(merge_scenarios())
def test_update_all_after_many_changes(scenario) -> None:
    venues, depth, ops = scenario
    note(f"venues={venues} depth={depth}")
    books, refs, mb, ref = make(venues, depth)
    for op in ops:
        run_op(refs[op[1]], op)
        run_op(books[op[1]], op)
    mb.update_all()
    check_all(mb, ref, depth, len(venues))


def test_tie_rule_largest_size_then_lowest_index() -> None:
    a = OrderBook(tick_size="0.01", lot_size="0.001", capacity=8)
    b = OrderBook(tick_size="0.005", lot_size="1", capacity=8)
    c = OrderBook(tick_size="0.1", lot_size="0.5", capacity=8)
    mb = MergedBook([a, b, c], depth=5)
    assert mb.best_bid() is None and mb.best_ask() is None
    a.set_level(0, "100.00", "2")
    mb.update(0)
    b.set_level(0, "100.000", "2")
    mb.update(1)
    assert mb.best_bid() == (100.0, 2.0, 0)  # same price, same size: lowest index
    c.set_level(0, "100.0", "2.5")
    mb.update(2)
    assert mb.best_bid() == (100.0, 2.5, 2)  # same price: largest size
    b.set_level(0, "100.005", "1")
    assert mb.update(1) is True
    assert mb.best_bid() == (100.005, 1.0, 1)  # better price wins whatever the size
    bids, _ = mb.top(5)
    assert bids.tolist() == [[100.005, 1.0, 0.0, 1.0, 0.0], [100.0, 6.5, 2.0, 2.0, 2.5]]


def test_bad_venue_index_and_dimensions() -> None:
    from openclaw.model.errors import CapacityError

    a = OrderBook(tick_size="0.01", lot_size="0.001", capacity=4)
    b = OrderBook(tick_size="0.1", lot_size="1", capacity=4)
    mb = MergedBook([a, b], depth=3)
    for bad in (2, 99, -1):
        with pytest.raises(CapacityError):
            mb.update(bad)
    with pytest.raises(CapacityError):
        MergedBook([a, b], depth=0)
    with pytest.raises(CapacityError):
        MergedBook([], depth=3)


def test_merge_over_bookset_views() -> None:
    from openclaw._core.book import BookSet

    bs = BookSet(max_books=3, capacity=8)
    ids = [bs.add(tick_size=t, lot_size=lot) for t, lot in (("0.01", "0.001"), ("0.005", "1"))]
    mb = MergedBook([bs.book(i) for i in ids], depth=4)
    bs.book(ids[1]).set_level(1, "100.005", "3")
    mb.update(1)
    assert mb.best_ask() == (100.005, 3.0, 1)
    bs.book(ids[0]).set_level(1, "100.00", "0.5")  # written through another view of book 0
    assert mb.update(0) is True
    assert mb.best_ask() == (100.0, 0.5, 0)
    asks = mb.top(4)[1]
    assert asks.tolist() == [[100.0, 0.5, 0.5, 0.0], [100.005, 3.0, 0.0, 3.0]]


def test_merge_keeps_its_books_alive() -> None:
    code = textwrap.dedent(
        """
        import gc
        from openclaw import OrderBook
        from openclaw._core.merge import MergedBook
        books = [OrderBook(tick_size="0.01", lot_size="0.001", capacity=64) for _ in range(3)]
        mb = MergedBook(books, depth=5)
        for i, b in enumerate(books):
            b.set_level(0, f"{100 + i}.00", "1")
        del books, b
        gc.collect()
        junk = [bytearray(1 << 16) for _ in range(200)]
        mb.update_all()
        assert mb.best_bid() == (102.0, 1.0, 2), mb.best_bid()
        print("ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
