"""Random streams through the Cython OrderBook and the plain-Python reference, compared after
every step (every observable: depth, top, top_ticks, best, mid, spread, crossed, dropped, fill,
seq/timestamps, and "unchanged" after a rejected call).

Prices are generated as integer ticks near a centre (so levels collide, repeat and cross) and
rendered in many equivalent spellings (see tests/reference/numfmt.py). Capacities are small so the
drop-furthest rule fires often. Invalid levels are mixed into messages: the book must raise the
same error (class, field, reason) as the reference and be left exactly as it was.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from bookcheck import assert_book_matches, snapshot_state
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from numfmt import STYLES, float_safe, plain, render
from refbook import RefBook, RefCapacityError, RefLevelFormatError, RefParseError

from openclaw import OrderBook
from openclaw.model.errors import CapacityError, LevelFormatError, PriceParseError

TICKS = ["0.01", "0.5", "0.00001", "1", "0.25", "5", "0.001"]
LOTS = ["0.00001", "0.001", "1", "0.1", "0.00000001", "2.5"]

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=False,
    print_blob=True,  # a failure prints @reproduce_failure(...) to replay it exactly
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ERROR_MAP = {
    RefParseError: PriceParseError,
    RefLevelFormatError: LevelFormatError,
    RefCapacityError: CapacityError,
}


def half_unit(unit: str) -> str:
    return format(Decimal(unit) / 2, "f")


# ---------------------------------------------------------------------------------- strategies


@st.composite
def configs(draw):
    return {
        "tick": draw(st.sampled_from(TICKS)),
        "lot": draw(st.sampled_from(LOTS)),
        "capacity": draw(st.one_of(st.integers(1, 8), st.sampled_from([16, 64]))),
        "center": draw(
            st.one_of(st.integers(1, 40), st.integers(1_000, 10**7), st.integers(10**8, 10**9))
        ),
    }


def lots_strategy():
    return st.one_of(
        st.just(0),
        st.integers(1, 20),
        st.integers(1, 10**6),
        st.integers(10**9, 10**12),
    )


def render_checked(n: int, unit: str, style: str, variant: int):
    if style == "float" and not float_safe(n):
        style = "plain"
    return render(n, unit, style, variant)


@st.composite
def levels_strategy(draw, cfg, max_size=10):
    """Raw levels: (ticks, lots) plus how to spell each."""
    wide = draw(st.booleans())
    spread = 200 if wide else 15
    raw = draw(
        st.lists(
            st.tuples(
                st.integers(-spread, spread),
                lots_strategy(),
                st.sampled_from(STYLES),
                st.sampled_from(STYLES),
                st.integers(0, 6),
            ),
            max_size=max_size,
        )
    )
    out = []
    for off, lots, ps, ss, var in raw:
        ticks = max(1, cfg["center"] + off)
        out.append((ticks, lots, ps, ss, var))
    # repeated prices within one message: duplicate some levels with another size
    if out and draw(st.booleans()):
        for idx in draw(st.lists(st.integers(0, len(out) - 1), max_size=3)):
            t, _, ps, ss, var = out[idx]
            out.insert(draw(st.integers(0, len(out))), (t, draw(lots_strategy()), ss, ps, var))
    return out


def build_side(cfg, raw, as_array: bool):
    """Spell the levels; as a float64 (k, 2) array when asked and every value fits a float."""
    if as_array and all(float_safe(t) and float_safe(q) for t, q, *_ in raw):
        arr = np.array(
            [[float(plain(t, cfg["tick"])), float(plain(q, cfg["lot"]))] for t, q, *_ in raw],
            dtype=np.float64,
        ).reshape(-1, 2)
        return arr
    return [
        (render_checked(t, cfg["tick"], ps, var), render_checked(q, cfg["lot"], ss, var))
        for t, q, ps, ss, var in raw
    ]


PRICE_BAD = ["not_multiple", "zero", "negative", "syntax", "empty", "nonfinite", "overflow"]
SIZE_BAD = ["not_multiple", "negative", "syntax", "empty", "nonfinite", "overflow"]
SYNTAX_BAD = [
    "1_000",
    " 5",
    "5 ",
    "abc",
    "1..2",
    "0x10",
    "1e",
    ".",
    "+",
    "e5",
    "5\n",
    "1,5",
    "1e5.5",
]


def bad_value(cfg, which: str, reason: str, n: int, k: int):
    unit = cfg["tick"] if which == "price" else cfg["lot"]
    n = max(n, 1)
    if reason == "not_multiple":
        if k % 3 == 0 and Decimal(unit) >= Decimal("0.001") and float_safe(n):
            return float(plain(2 * n + 1, half_unit(unit)))
        return render(2 * n + 1, half_unit(unit), ("plain", "sci", "intexp", "bytes")[k % 4], k)
    if reason == "zero":
        return ["0", "0.000", "+0", "0e5", ".0", 0.0, 0, b"0"][k % 8]
    if reason == "negative":
        return ["-" + plain(n, unit), -float(plain(n, unit)) if float_safe(n) else "-1", "-0"][
            k % 3
        ]
    if reason == "syntax":
        return SYNTAX_BAD[k % len(SYNTAX_BAD)]
    if reason == "empty":
        return ["", b""][k % 2]
    if reason == "nonfinite":
        return [float("nan"), float("inf")][k % 2]
    if reason == "overflow":
        return ["1e30", 1e30, 10**30][k % 3]
    raise AssertionError(reason)


@st.composite
def corruption(draw, cfg):
    """How to make a message invalid: (target side, position, replacement level)."""
    kind = draw(st.sampled_from(["price", "size", "format"]))
    k = draw(st.integers(0, 50))
    n = cfg["center"] + draw(st.integers(-5, 5))
    good_p = plain(max(n, 1), cfg["tick"])
    good_s = plain(k + 1, cfg["lot"])
    if kind == "price":
        level = (bad_value(cfg, "price", draw(st.sampled_from(PRICE_BAD)), n, k), good_s)
    elif kind == "size":
        level = (good_p, bad_value(cfg, "size", draw(st.sampled_from(SIZE_BAD)), k + 1, k))
    else:
        level = [(good_p,), (good_p, good_s, good_s), None, 7, [good_p]][k % 5]
    return (draw(st.sampled_from([0, 1])), draw(st.integers(0, 20)), level)


def corrupt(message, where):
    side, pos, level = where
    message = list(message)
    levels = message[side]
    if isinstance(levels, np.ndarray):
        levels = [tuple(r) for r in levels.tolist()]
    else:
        levels = list(levels)
    levels.insert(pos % (len(levels) + 1), level)
    message[side] = levels
    return tuple(message)


@st.composite
def operations(draw, cfg):
    r = draw(st.integers(0, 99))
    kind = (
        "apply"
        if r < 60
        else "snapshot"
        if r < 70
        else "set_level"
        if r < 92
        else "clear"
        if r < 97
        else "bad_side"
    )
    if kind == "clear":
        return ("clear",)
    if kind == "bad_side":
        return (
            "set_level",
            draw(st.sampled_from([2, -1, 3])),
            plain(cfg["center"], cfg["tick"]),
            "1",
        )
    if kind == "set_level":
        t, q, ps, ss, var = draw(levels_strategy(cfg, max_size=1).filter(len))[0]
        level = (render_checked(t, cfg["tick"], ps, var), render_checked(q, cfg["lot"], ss, var))
        if draw(st.integers(0, 9)) == 0:
            k = draw(st.integers(0, 50))
            if draw(st.booleans()):
                level = (bad_value(cfg, "price", draw(st.sampled_from(PRICE_BAD)), t, k), level[1])
            else:
                level = (level[0], bad_value(cfg, "size", draw(st.sampled_from(SIZE_BAD)), q, k))
        return ("set_level", draw(st.sampled_from([0, 1])), level[0], level[1])
    bids = build_side(cfg, draw(levels_strategy(cfg)), draw(st.booleans()))
    asks = build_side(cfg, draw(levels_strategy(cfg)), draw(st.booleans()))
    message = (bids, asks)
    if draw(st.integers(0, 5)) == 0:
        message = corrupt(message, draw(corruption(cfg)))
    stamps = (draw(st.integers(0, 2**40)), draw(st.integers(0, 2**40)), draw(st.integers(1, 2**62)))
    return ("apply" if kind == "apply" else "snapshot", message[0], message[1], *stamps)


@st.composite
def scenarios(draw):
    cfg = draw(configs())
    ops = draw(st.lists(operations(cfg), min_size=1, max_size=25))
    return cfg, ops


# ---------------------------------------------------------------------------------- driver


def run_op(target, op):
    name = op[0]
    if name == "clear":
        return target.clear()
    if name == "set_level":
        return target.set_level(op[1], op[2], op[3])
    bids, asks, seq, exch_ts, recv_ts = op[1:]
    fn = target.apply if name == "apply" else target.apply_snapshot
    return fn(bids, asks, seq=seq, exch_ts=exch_ts, recv_ts=recv_ts)


def attempt(target, op):
    try:
        run_op(target, op)
    except Exception as exc:  # noqa: BLE001 - compared below
        return exc
    return None


def check_same_outcome(book, ref, op, ref_exc, exc, before) -> None:
    if ref_exc is None:
        assert exc is None, f"book raised {exc!r}; the reference accepted {op!r}"
        return
    if isinstance(ref_exc, TypeError):
        # the reference has no opinion about types outside the contract: any rejection will do
        assert exc is not None, f"book accepted {op!r}"
    else:
        expected = ERROR_MAP[type(ref_exc)]
        assert isinstance(exc, expected), (
            f"expected {expected.__name__} ({ref_exc}), got {exc!r} for {op!r}"
        )
        if isinstance(ref_exc, RefParseError):
            assert (exc.field, exc.reason) == (ref_exc.field, ref_exc.reason), (
                f"expected field/reason {(ref_exc.field, ref_exc.reason)}, got "
                f"{(exc.field, exc.reason)} ({exc})"
            )
    assert snapshot_state(book) == before, f"a rejected call changed the book: {op!r}"


def drive(cfg, ops, book=None) -> None:
    ref = RefBook(cfg["tick"], cfg["lot"], cfg["capacity"])
    if book is None:
        book = OrderBook(tick_size=cfg["tick"], lot_size=cfg["lot"], capacity=cfg["capacity"])
    dropped_offset = 0
    for step, op in enumerate(ops):
        note(f"step {step}: {op!r}")
        before = snapshot_state(book)
        ref_exc = attempt(ref, op)
        exc = attempt(book, op)
        check_same_outcome(book, ref, op, ref_exc, exc, before)
        if ref_exc is None and op[0] in ("apply", "snapshot"):
            assert (book.seq, book.exch_ts, book.recv_ts) == tuple(op[3:6]), (
                f"seq/exch_ts/recv_ts {(book.seq, book.exch_ts, book.recv_ts)} != {op[3:6]}"
            )
        if op[0] == "clear":
            # what clear() does to the drop counter is not in the contract: re-baseline
            dropped_offset = book.dropped - ref.dropped
        assert_book_matches(book, ref, dropped_offset=dropped_offset)


@SETTINGS
@given(scenarios())
def test_random_streams_match_reference(scenario) -> None:
    cfg, ops = scenario
    note(f"config: {cfg}")
    drive(cfg, ops)


@st.composite
def full_side_scenarios(draw):
    """Capacity 1-3 and many inserts around the top: the drop rule on every step."""
    cfg = draw(configs())
    cfg["capacity"] = draw(st.integers(1, 3))
    ops = []
    for _ in range(draw(st.integers(1, 30))):
        side = draw(st.sampled_from([0, 1]))
        ticks = max(1, cfg["center"] + draw(st.integers(-6, 6)))
        lots = draw(st.sampled_from([0, 1, 2, 3, 10**6]))
        ops.append(("set_level", side, plain(ticks, cfg["tick"]), plain(lots, cfg["lot"])))
        if draw(st.integers(0, 3)) == 0:
            raw = draw(levels_strategy(cfg, max_size=6))
            ops.append(("apply", build_side(cfg, raw, False), [], 1, 2, 3))
    return cfg, ops


@SETTINGS
@given(full_side_scenarios())
def test_full_sides_match_reference(scenario) -> None:
    cfg, ops = scenario
    note(f"config: {cfg}")
    drive(cfg, ops)


@SETTINGS
@given(
    st.sampled_from(TICKS),
    st.sampled_from(LOTS),
    st.integers(1, 8),
    st.lists(st.tuples(st.integers(1, 30), st.integers(0, 5)), max_size=12),
    st.randoms(use_true_random=False),
)
def test_message_order_does_not_matter(tick, lot, capacity, levels, rnd) -> None:
    """The same message in any order gives the same book (levels and drop counter), as long as
    repeated prices keep their relative order (the later one wins)."""
    seed = [(plain(t, tick), plain(q, lot)) for t, q in [(t, 1) for t in range(10, 18)]]
    msg = [(plain(t, tick), plain(q, lot)) for t, q in levels]
    # shuffle while keeping the relative order of levels that share a price
    by_price: dict[str, list] = {}
    for lv in msg:
        by_price.setdefault(lv[0], []).append(lv)
    order = [p for p, group in by_price.items() for _ in group]
    rnd.shuffle(order)
    cursor = {p: 0 for p in by_price}
    shuffled = []
    for p in order:
        shuffled.append(by_price[p][cursor[p]])
        cursor[p] += 1
    books = []
    for m in (msg, shuffled):
        b = OrderBook(tick_size=tick, lot_size=lot, capacity=capacity)
        b.apply_snapshot(seed, seed)
        b.apply(m, m)
        books.append(b)
    a, b = books
    state_a = snapshot_state(a)[:3]
    state_b = snapshot_state(b)[:3]
    assert state_a == state_b, f"{msg} vs {shuffled}"
    ref = RefBook(tick, lot, capacity)
    ref.apply_snapshot(seed, seed)
    ref.apply(msg, msg)
    assert_book_matches(a, ref, fills=False)
