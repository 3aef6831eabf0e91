"""Compare every observable of a real order book with the reference (no openclaw import here).

Exact things are compared exactly (ticks/lots from ``top_ticks``, depth, ``dropped``, crossed);
float outputs are compared with a tight relative tolerance, because the contract only promises
floats (``ticks * tick`` may differ from the correctly rounded decimal in the last bit).
"""

from __future__ import annotations

import math

import numpy as np
from numfmt import float_safe, plain
from refbook import RefBook

REL = 1e-12  # prices and sizes: one conversion, a few ulps at most
REL_VWAP = 1e-9  # a sum over levels


def _close(actual, expected, what: str, rel: float = REL, scale: float = 0.0) -> None:
    if expected is None:
        assert actual is None, f"{what}: expected None, got {actual!r}"
        return
    assert actual is not None, f"{what}: expected {float(expected)!r}, got None"
    exp = float(expected)
    assert isinstance(actual, float), f"{what}: expected a float, got {type(actual).__name__}"
    tol = rel * max(abs(exp), scale) + 1e-300
    assert abs(actual - exp) <= tol, f"{what}: got {actual!r}, expected {exp!r} (exact {expected})"


def _close_nan(actual, expected, what: str, rel: float = REL) -> None:
    """Like _close but ``None`` in the reference means ``nan`` in the book."""
    if expected is None:
        assert isinstance(actual, float) and math.isnan(actual), (
            f"{what}: expected nan, got {actual!r}"
        )
    else:
        _close(actual, expected, what, rel)


def snapshot_state(book) -> tuple:
    """Everything observable about a book, as plain Python values (for unchanged-after-error)."""
    n = sum(book.depth()) + 1
    ticks = tuple(tuple(int(v) for v in np.asarray(a)) for a in book.top_ticks(n))
    return (book.depth(), ticks, book.dropped, book.seq, book.exch_ts, book.recv_ts)


def check_top_ticks(book, ref: RefBook, n: int) -> None:
    got = book.top_ticks(n)
    assert len(got) == 4
    exp = ref.top_ticks(n)
    names = ("bid_px", "bid_qty", "ask_px", "ask_qty")
    for name, g, e in zip(names, got, exp, strict=True):
        assert isinstance(g, np.ndarray), f"top_ticks({n}).{name}: not an ndarray"
        assert g.dtype == np.int64, f"top_ticks({n}).{name}: dtype {g.dtype}"
        assert g.ndim == 1, f"top_ticks({n}).{name}: ndim {g.ndim}"
        assert [int(v) for v in g] == e, f"top_ticks({n}).{name}: got {g.tolist()}, expected {e}"


def check_top(book, ref: RefBook, n: int) -> None:
    got = book.top(n)
    assert len(got) == 2
    exp = ref.top(n)
    for name, g, e in zip(("bids", "asks"), got, exp, strict=True):
        assert isinstance(g, np.ndarray) and g.dtype == np.float64, f"top({n}).{name}: {g!r}"
        assert g.shape == (len(e), 2), f"top({n}).{name}: shape {g.shape}, expected {(len(e), 2)}"
        for i, (row, (px, sz)) in enumerate(zip(g.tolist(), e, strict=True)):
            _close(row[0], px, f"top({n}).{name}[{i}].price")
            _close(row[1], sz, f"top({n}).{name}[{i}].size")


def check_best(got, exp, what: str) -> None:
    if exp is None:
        assert got is None, f"{what}: expected None, got {got!r}"
        return
    assert got is not None and len(got) == 2, f"{what}: got {got!r}, expected {exp}"
    _close(got[0], exp[0], f"{what}.price")
    _close(got[1], exp[1], f"{what}.size")


def fill_quantities(ref: RefBook, side: int) -> list[int]:
    """Lots to ask for: nothing, a part of the first level, every level boundary, +-1 around
    boundaries, and more than the whole side."""
    levels = ref.levels(side)
    out = {0, 1}
    cum = 0
    for _, lots in levels:
        if lots > 1:
            out.add(cum + lots // 2)
        out.add(cum + lots - 1)
        cum += lots
        out.add(cum)
        out.add(cum + 1)
    out.add(cum * 2 + 3)
    qs = sorted(q for q in out if q >= 0)
    if len(qs) > 12:  # keep the run time down on deep sides: the ends plus an even sample
        step = len(qs) // 8 + 1
        qs = sorted(set(qs[:3] + qs[-3:] + qs[::step]))
    return qs


def qty_input(lots: int, lot_size: str, k: int):
    """The same quantity as a decimal string or (when exactly representable enough) a float."""
    if k % 2 == 0 and float_safe(lots):
        return float(plain(lots, lot_size))
    return plain(lots, lot_size)


def check_fill(book, ref: RefBook, side: int, lots: int, qty) -> None:
    got = book.fill(side, qty)
    assert len(got) == 3, f"fill({side}, {qty!r}) returned {got!r}"
    filled, vwap, worst = ref.fill(side, plain(lots, ref.lot_size))
    what = f"fill({side}, {qty!r})"
    _close(got[0], filled, what + ".filled")
    _close_nan(got[1], vwap, what + ".vwap", rel=REL_VWAP)
    _close_nan(got[2], worst, what + ".worst")


def assert_book_matches(book, ref: RefBook, *, fills: bool = True, dropped_offset: int = 0) -> None:
    depth = book.depth()
    assert tuple(depth) == ref.depth(), f"depth: got {depth}, expected {ref.depth()}"
    nb, na = ref.depth()
    big = max(nb, na) + 2
    for n in sorted({1, 2, big}):
        check_top_ticks(book, ref, n)
    for n in sorted({1, 3, big}):
        check_top(book, ref, n)
    check_best(book.best_bid(), ref.best_bid(), "best_bid")
    check_best(book.best_ask(), ref.best_ask(), "best_ask")
    bb, ba = ref.best_bid(), ref.best_ask()
    scale = float(max(bb[0], ba[0])) if bb and ba else 0.0
    _close(book.mid(), ref.mid(), "mid")
    _close(book.spread(), ref.spread(), "spread", scale=scale)
    crossed = book.is_crossed()
    assert crossed is ref.is_crossed() or crossed == ref.is_crossed(), (
        f"is_crossed: got {crossed!r}, expected {ref.is_crossed()}"
    )
    assert book.dropped - dropped_offset == ref.dropped, (
        f"dropped: got {book.dropped} (offset {dropped_offset}), expected {ref.dropped}"
    )
    if fills:
        before = snapshot_state(book)
        for side in (0, 1):
            for k, lots in enumerate(fill_quantities(ref, side)):
                check_fill(book, ref, side, lots, qty_input(lots, ref.lot_size, k))
        assert snapshot_state(book) == before, "fill() changed the book"
