"""Every edge case of the exact decimal parser (docs/core-api.md), through every entry point.

A rejected value must raise ``PriceParseError`` (a ``BookError``/``ValueError``) whose
``.field``, ``.value`` and ``.reason`` are right, and leave the book exactly as it was, whether it
came through ``to_ticks``/``to_lots``, ``set_level``, ``apply`` (mixed with valid levels),
``apply_snapshot`` or a float64 numpy array. The expected values are written out by hand here;
the reference parser (tests/reference/refbook.py) is checked against the same table at the end.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from bookcheck import snapshot_state
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numfmt import STYLES, float_safe, plain, render
from refbook import RefBook, RefParseError

from openclaw import OrderBook
from openclaw.model.errors import BookError, LevelFormatError, OpenclawError, PriceParseError

TICK = "0.01"
LOT = "0.00001"
UNITS_MAX = 2**62 - 1  # docs/core-api.md: the unit cap
INT64_MAX = 2**63 - 1


def seeded_book(tick: str = TICK, lot: str = LOT) -> OrderBook:
    book = OrderBook(tick_size=tick, lot_size=lot, capacity=16)
    book.apply_snapshot(
        [("100.00", "1"), ("99.99", "2")],
        [("100.01", "0.5"), ("100.02", "0.25")],
        seq=7,
        exch_ts=8,
        recv_ts=9,
    )
    return book


def full_state(book: OrderBook):
    bids, asks = book.top(100)
    return snapshot_state(book), bids.tolist(), asks.tolist()


# ---------------------------------------------------------------------------------- accepted

PRICE_OK = [  # (input, ticks at tick 0.01)
    ("27123.45", 2712345),
    ("0.01", 1),
    ("5e+2", 50000),
    ("5E+2", 50000),
    ("5e2", 50000),
    ("1e-2", 1),
    ("1E-2", 1),
    (".5", 50),
    ("5.", 500),
    ("+1", 100),
    ("+.5", 50),
    ("0100.50", 10050),
    ("6.500001e4", 6500001),
    ("6500001e-2", 6500001),
    ("65000.0100000", 6500001),
    ("1.00000000000000000000000000000000", 100),  # trailing zeros beyond int64 digits
    ("0000000000000000000000000001", 100),  # leading zeros beyond int64 digits
    ("100000000000000000000e-20", 100),  # mantissa > int64, value fine
    ("0.000000000000000000000000000001e30", 100),
    ("46116860184273879.03", UNITS_MAX),  # exactly the documented cap, 2**62 - 1 ticks
    (b"27123.45", 2712345),
    (b"+.5", 50),
    (27123.45, 2712345),
    (65000.01, 6500001),
    (0.1 + 0.2, 30),  # 30.000000000000004 ticks: within 1e-6 of a tick multiple
    (1.2300000001, 123),  # 1e-8 ticks off: accepted under either reading of "within 1e-6"
    (5, 500),
    (np.float64(100.01), 10001),
]

SIZE_OK = [  # (input, lots at lot 0.00001)
    ("0.00012000", 12),
    ("1e-5", 1),
    ("1E-5", 1),
    ("1", 100000),
    ("0", 0),
    ("0.0", 0),
    ("+0", 0),
    (".0", 0),
    ("0.", 0),
    ("0e10", 0),
    ("0E-10", 0),
    ("000", 0),
    (b"0.5", 50000),
    (0.1 + 0.2, 30000),
    (1e-5, 1),
    (0.0, 0),
    (0, 0),
    (3, 300000),
]


@pytest.mark.parametrize("text, ticks", PRICE_OK, ids=repr)
def test_price_accepted(text, ticks) -> None:
    book = seeded_book()
    assert book.to_ticks(text) == ticks
    assert type(book.to_ticks(text)) is int
    if ticks < 2**62:  # keep the INT64 edge out of the book (mid/spread arithmetic)
        book.set_level(0, text, "1")
        assert ticks in book.top_ticks(100)[0].tolist()
        book.clear()
        book.apply([], [(text, "2")])
        assert book.top_ticks(1)[2].tolist() == [ticks]
        assert book.top_ticks(1)[3].tolist() == [200000]


@pytest.mark.parametrize("text, lots", SIZE_OK, ids=repr)
def test_size_accepted(text, lots) -> None:
    book = seeded_book()
    assert book.to_lots(text) == lots
    assert type(book.to_lots(text)) is int
    book.set_level(0, "99.99", text)
    bid_px, bid_qty, _, _ = (a.tolist() for a in book.top_ticks(100))
    if lots == 0:  # a size of 0 deletes the level
        assert bid_px == [10000]
    else:
        assert bid_px == [10000, 9999] and bid_qty[1] == lots


def test_zero_size_for_missing_level_is_a_noop() -> None:
    book = seeded_book()
    before = full_state(book)[0][:3]
    book.set_level(0, "50", "0")
    book.apply([("51", "0")], [("150", "0.0")])
    assert full_state(book)[0][:3] == before


def test_tick_and_lot_are_kept_as_given() -> None:
    book = OrderBook(tick_size="0.010", lot_size="1e-5", capacity=4)
    assert book.tick_size == "0.010" and book.lot_size == "1e-5"
    assert book.to_ticks("1") == 100 and book.to_lots("1") == 100000


@pytest.mark.parametrize(
    "tick, text, ticks",
    [
        ("0.25", "0.5", 2),
        ("0.25", "1e0", 4),
        ("5", "15", 3),
        ("5", "1e1", 2),
        ("1", "7", 7),
        ("0.00000001", "0.00000003", 3),
        ("1", "4611686018427387903", UNITS_MAX),
        ("0.25", "46116860184273879.25", 184467440737095517),  # big mantissa, m brings it back
        ("5", "23058430092136939510", UNITS_MAX - 1),  # 2**62 - 2 ticks of 5
    ],
)
def test_other_ticks_accepted(tick, text, ticks) -> None:
    assert OrderBook(tick_size=tick, lot_size="1", capacity=2).to_ticks(text) == ticks


@pytest.mark.parametrize(
    "tick, text, reason",
    [
        ("0.25", "0.3", "not_multiple"),
        ("5", "12", "not_multiple"),
        ("5", "2.5", "not_multiple"),
        ("1", "9223372036854775808", "overflow"),
        ("1", "4611686018427387904", "overflow"),  # one past the cap
        ("0.00000001", "0.000000015", "not_multiple"),
    ],
)
def test_other_ticks_rejected(tick, text, reason) -> None:
    with pytest.raises(PriceParseError) as err:
        OrderBook(tick_size=tick, lot_size="1", capacity=2).to_ticks(text)
    assert (err.value.field, err.value.reason) == ("price", reason)


# ---------------------------------------------------------------------------------- rejected

PRICE_BAD = [  # (input, reason or set of acceptable reasons) at tick 0.01
    ("", "empty"),
    (b"", "empty"),
    ("-1", "negative"),
    ("-0", "negative"),
    ("-0.00", "negative"),
    ("-1e5", "negative"),
    ("-.5", "negative"),
    (b"-1", "negative"),
    ("nan", "nonfinite"),
    ("NaN", "nonfinite"),
    ("inf", "nonfinite"),
    ("Inf", "nonfinite"),
    ("INF", "nonfinite"),
    ("-inf", {"negative", "nonfinite"}),  # both rules apply; the contract does not rank them
    ("-nan", {"negative", "nonfinite"}),
    ("+inf", {"nonfinite", "syntax"}),
    ("infinity", {"nonfinite", "syntax"}),
    ("0", "zero"),
    ("0.00", "zero"),
    ("+0", "zero"),
    ("0e5", "zero"),
    (".0", "zero"),
    (0, "zero"),
    (0.0, "zero"),
    ("1.234", "not_multiple"),
    ("0.001", "not_multiple"),
    ("1e-5", "not_multiple"),
    ("27123.455", "not_multiple"),
    ("1e400", "overflow"),
    ("99999999999999999999999", "overflow"),
    ("92233720368547758.08", "overflow"),  # INT64_MAX + 1 ticks
    ("1e17", "overflow"),
    (" 1", "syntax"),
    ("1 ", "syntax"),
    ("\t1", "syntax"),
    ("1\n", "syntax"),
    ("1_000", "syntax"),
    ("0x10", "syntax"),
    ("0b1", "syntax"),
    ("1e", "syntax"),
    ("1e+", "syntax"),
    ("1e-", "syntax"),
    ("e5", "syntax"),
    (".", "syntax"),
    ("+", "syntax"),
    ("++1", "syntax"),
    ("+-1", "syntax"),
    ("1..2", "syntax"),
    ("1.2.3", "syntax"),
    ("1e5.5", "syntax"),
    ("1,5", "syntax"),
    ("1/2", "syntax"),
    ("abc", "syntax"),
    ("1a", "syntax"),
    ("\uff11", "syntax"),  # FULLWIDTH DIGIT ONE
    ("\u0663", "syntax"),  # ARABIC-INDIC DIGIT THREE
    ("1\x00", "syntax"),
    ("--1", {"negative", "syntax"}),
    (b"\xff", "syntax"),
    (b" 1", "syntax"),
    (1.234, "not_multiple"),
    (0.001, "not_multiple"),
    (1.23001, "not_multiple"),  # 1e-3 ticks off: rejected under either reading of "within 1e-6"
    (float("nan"), "nonfinite"),
    (float("inf"), "nonfinite"),
    (float("-inf"), {"negative", "nonfinite"}),
    (-1.0, "negative"),
    (-5, "negative"),
    (1e30, "overflow"),
    (9.3e16, "overflow"),
    (10**30, "overflow"),
    (2**63, "overflow"),
]

SIZE_BAD = [  # at lot 0.00001
    ("", "empty"),
    ("-0", "negative"),
    ("-1", "negative"),
    ("-0.00001", "negative"),
    ("nan", "nonfinite"),
    ("inf", "nonfinite"),
    ("0.000001", "not_multiple"),
    ("0.123456", "not_multiple"),
    ("1e-6", "not_multiple"),
    ("1e400", "overflow"),
    ("99999999999999999999999", "overflow"),
    (" 1", "syntax"),
    ("1_000", "syntax"),
    ("0x10", "syntax"),
    ("1e", "syntax"),
    (".", "syntax"),
    ("1..2", "syntax"),
    (1e-6, "not_multiple"),
    (0.123456, "not_multiple"),
    (float("nan"), "nonfinite"),
    (float("inf"), "nonfinite"),
    (-1.0, "negative"),
    (-1, "negative"),
    (1e30, "overflow"),
    (10**30, "overflow"),
]


def _reasons(expected) -> set[str]:
    return expected if isinstance(expected, set) else {expected}


def _value_ok(got, given) -> bool:
    if isinstance(given, float) and math.isnan(given):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(given, bytes):
        return got == given or got == given.decode("latin-1")
    return (
        got == given
        and type(got) is type(given)
        or (isinstance(given, float) and isinstance(got, float) and got == given)
    )


def check_error(err: PriceParseError, field: str, given, expected, value: bool = True) -> None:
    assert isinstance(err, BookError) and isinstance(err, ValueError)
    assert isinstance(err, OpenclawError)
    assert err.field == field, f"field {err.field!r} != {field!r}"
    assert err.reason in _reasons(expected), f"reason {err.reason!r} not in {_reasons(expected)}"
    if value:
        assert _value_ok(err.value, given), f"value {err.value!r} is not the input {given!r}"


def entry_points(field: str, bad, expected, good_price: str = "99.98", good_size: str = "3"):
    """(name, call(book)) for every way a bad price/size reaches the book."""

    def level(p, s):
        return (bad, s) if field == "price" else (p, bad)

    pts = []
    if expected != "zero":
        # to_ticks is a plain conversion: whether it refuses 0 is not in the contract
        pts.append(("to_units", lambda b: b.to_ticks(bad) if field == "price" else b.to_lots(bad)))
    pts += [
        ("set_level_bid", lambda b: b.set_level(0, *level(good_price, good_size))),
        ("set_level_ask", lambda b: b.set_level(1, *level("100.05", good_size))),
        (
            "apply_mixed",  # valid levels before and after, on both sides
            lambda b: b.apply(
                [("100.00", "0"), level(good_price, good_size), ("99.97", "1")],
                [("100.01", "0"), ("100.03", "7")],
                seq=99,
                exch_ts=98,
                recv_ts=97,
            ),
        ),
        (
            "apply_ask_side",
            lambda b: b.apply(
                [("99.90", "1")], [("100.02", "0"), level("100.09", good_size)], seq=99
            ),
        ),
        (
            "snapshot",
            lambda b: b.apply_snapshot([level(good_price, good_size)], [("100.05", "1")], seq=99),
        ),
    ]
    if isinstance(bad, float):
        other = 3.0 if field == "price" else 99.98
        row = [bad, 3.0] if field == "price" else [99.98, bad]
        arr = np.array([[99.5, 1.0], row, [99.4, 2.0]], dtype=np.float64)
        assert other  # (documents the column that stays valid)
        pts.append(("ndarray", lambda b: b.apply(arr, np.empty((0, 2)), seq=99)))
    return pts


@pytest.mark.parametrize("bad, expected", PRICE_BAD, ids=repr)
def test_price_rejected_everywhere(bad, expected) -> None:
    for name, call in entry_points("price", bad, expected):
        book = seeded_book()
        before = full_state(book)
        with pytest.raises(PriceParseError) as err:
            call(book)
        check_error(err.value, "price", bad, expected, value=name != "ndarray")
        assert full_state(book) == before, f"{name}: the book changed"


@pytest.mark.parametrize("bad, expected", SIZE_BAD, ids=repr)
def test_size_rejected_everywhere(bad, expected) -> None:
    for name, call in entry_points("size", bad, expected):
        book = seeded_book()
        before = full_state(book)
        with pytest.raises(PriceParseError) as err:
            call(book)
        check_error(err.value, "size", bad, expected, value=name != "ndarray")
        assert full_state(book) == before, f"{name}: the book changed"


EXTREME = [  # exact-value reading: what matters is the value, not how long its spelling is
    ("price", "1e99999999999999999999", "overflow"),
    ("price", "1e-99999999999999999999", "not_multiple"),
    ("price", "0e99999999999999999999", "zero"),
    ("price", "1.0000000000000000000001", "not_multiple"),  # mantissa > int64, not a multiple
    ("price", "1" + "0" * 400, "overflow"),
    ("price", "0." + "0" * 400 + "1", "not_multiple"),
    ("size", "0e-99999999999999999999", 0),
    ("size", "0." + "0" * 400, 0),
    ("price", "1." + "0" * 400, 100),
]


@pytest.mark.parametrize("field, text, expected", EXTREME, ids=repr)
def test_extreme_spellings(field, text, expected) -> None:
    book = seeded_book()
    conv = book.to_ticks if field == "price" else book.to_lots
    if expected == "zero":  # to_ticks does not refuse 0 (a conversion); a price level does

        def conv(text):
            return book.set_level(0, text, "1")

    if isinstance(expected, int):
        assert conv(text) == expected
    else:
        with pytest.raises(PriceParseError) as err:
            conv(text)
        check_error(err.value, field, text, expected)


CTOR_BAD = [
    ("0", "zero"),
    ("0.000", "zero"),
    ("-0.01", "negative"),
    ("", "empty"),
    ("abc", "syntax"),
    (" 0.01", "syntax"),
    ("nan", "nonfinite"),
    ("inf", "nonfinite"),
]


@pytest.mark.parametrize("text, reason", CTOR_BAD, ids=repr)
def test_constructor_rejects_tick_and_lot(text, reason) -> None:
    with pytest.raises(PriceParseError) as err:
        OrderBook(tick_size=text, lot_size="0.001", capacity=4)
    check_error(err.value, "tick_size", text, reason)
    with pytest.raises(PriceParseError) as err:
        OrderBook(tick_size="0.01", lot_size=text, capacity=4)
    check_error(err.value, "lot_size", text, reason)


# ---------------------------------------------------------------------------------- level format

BAD_LEVELS = [
    ("1",),
    ("1", "2", "3"),
    (),
    None,
    5,
    "12",  # a 2-character string is not a (price, size) pair
    b"12",
    ["100.00"],
]


@pytest.mark.parametrize("level", BAD_LEVELS, ids=repr)
def test_level_that_is_not_a_pair(level) -> None:
    for side in (0, 1):
        book = seeded_book()
        before = full_state(book)
        msg = [[("99.95", "1")], [("100.05", "1")]]
        msg[side].insert(1, level)
        with pytest.raises(LevelFormatError) as err:
            book.apply(*msg, seq=99)
        assert isinstance(err.value, BookError)
        assert full_state(book) == before
        with pytest.raises(LevelFormatError):
            book.apply_snapshot(*msg, seq=99)
        assert full_state(book) == before


@pytest.mark.parametrize(
    "side_value",
    [5, "ab", np.zeros((2, 3)), np.zeros(4), np.zeros((1, 2, 2))],
    ids=["int", "str", "array(2,3)", "array(4)", "array(1,2,2)"],
)
def test_side_that_is_not_a_sequence_of_pairs(side_value) -> None:
    book = seeded_book()
    before = full_state(book)
    with pytest.raises(LevelFormatError):
        book.apply(side_value, [])
    with pytest.raises(LevelFormatError):
        book.apply([], side_value)
    assert full_state(book) == before


@pytest.mark.parametrize("side", [2, -1, 3])
def test_bad_side_in_set_level(side) -> None:
    book = seeded_book()
    before = full_state(book)
    with pytest.raises(LevelFormatError):
        book.set_level(side, "100", "1")
    assert full_state(book) == before


@pytest.mark.parametrize("price", [None, [1], object()], ids=repr)
def test_price_of_unsupported_type_is_rejected_cleanly(price) -> None:
    book = seeded_book()
    before = full_state(book)
    with pytest.raises((BookError, TypeError)):
        book.apply([(price, "1")], [])
    assert full_state(book) == before


# ---------------------------------------------------------------------------------- properties

UNITS = ["0.01", "0.00001", "0.25", "5", "1", "0.00000001", "2.5"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(UNITS),
    st.one_of(st.integers(1, 10**6), st.integers(1, 10**15)),
    st.sampled_from(STYLES),
    st.integers(0, 6),
)
def test_every_spelling_parses_to_the_same_ticks(unit, n, style, variant) -> None:
    if style == "float" and not float_safe(n):
        style = "plain"
    book = OrderBook(tick_size=unit, lot_size=unit, capacity=2)
    spelled = render(n, unit, style, variant)
    assert book.to_ticks(spelled) == n, spelled
    assert book.to_lots(spelled) == n, spelled


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(UNITS), st.integers(10**15, UNITS_MAX), st.sampled_from(["plain", "sci"]))
def test_the_whole_unit_range_is_usable(unit, n, style) -> None:
    """The contract's bound is 2**62 - 1 units (headroom for sums): any count up to it parses,
    whatever the tick size (no intermediate scaling may overflow first), as long as the decimal
    mantissa itself fits in int64 (18-19 significant digits, documented)."""
    mantissa = int(unit.replace(".", "").lstrip("0"))
    assume(n * mantissa <= INT64_MAX)
    book = OrderBook(tick_size=unit, lot_size=unit, capacity=2)
    assert book.to_ticks(render(n, unit, style)) == n


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(UNITS), st.integers(0, 10**6), st.sampled_from(["plain", "sci"]))
def test_just_past_the_cap_is_overflow(unit, k, style) -> None:
    book = OrderBook(tick_size=unit, lot_size=unit, capacity=2)
    with pytest.raises(PriceParseError) as err:
        book.to_ticks(render(UNITS_MAX + 1 + k, unit, style))
    assert err.value.reason == "overflow"


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(UNITS),
    st.integers(0, 10**15),
    st.sampled_from(["plain", "padded", "sci", "intexp", "bytes", "lead0"]),
)
def test_half_a_unit_is_never_a_multiple(unit, n, style) -> None:
    from decimal import Decimal

    half = format(Decimal(unit) / 2, "f")
    book = OrderBook(tick_size=unit, lot_size=unit, capacity=2)
    spelled = render(2 * n + 1, half, style, n)
    with pytest.raises(PriceParseError) as err:
        book.to_lots(spelled)
    assert (err.value.field, err.value.reason) == ("size", "not_multiple")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(UNITS), st.integers(1, 2**30))
def test_floats_from_decimal_strings_are_accepted(unit, n) -> None:
    book = OrderBook(tick_size=unit, lot_size=unit, capacity=2)
    assert book.to_ticks(float(plain(n, unit))) == n


# ---------------------------------------------------------------------------------- the oracle


@pytest.mark.parametrize("bad, expected", PRICE_BAD, ids=repr)
def test_reference_agrees_with_price_table(bad, expected) -> None:
    with pytest.raises(RefParseError) as err:
        RefBook(TICK, LOT, 4).to_ticks(bad)
    assert err.value.reason in _reasons(expected)


@pytest.mark.parametrize("text, ticks", PRICE_OK, ids=repr)
def test_reference_agrees_with_accepted_table(text, ticks) -> None:
    assert RefBook(TICK, LOT, 4).to_ticks(text) == ticks
