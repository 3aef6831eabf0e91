"""The oracles check themselves on hand-worked examples (no openclaw involved): a wrong reference
would make every property test meaningless."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from numfmt import STYLES, render, value_of
from refbook import RefBook, RefLevelFormatError, RefParseError
from refmerge import RefMerged


def book(capacity: int = 10) -> RefBook:
    return RefBook("0.01", "0.00001", capacity)


@pytest.mark.parametrize(
    "text, ticks",
    [
        ("27123.45", 2712345),
        (".5", 50),
        ("5.", 500),
        ("+1", 100),
        ("5E+2", 50000),
        ("1e-2", 1),
        ("0.0100000", 1),
        ("100000000000000000000e-20", 100),
        (b"1.5", 150),
        (0.1 + 0.2, 30),
        (27123.45, 2712345),
        (3, 300),
    ],
)
def test_ref_to_ticks(text, ticks) -> None:
    assert book().to_ticks(text) == ticks


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("-1", "negative"),
        ("-0", "negative"),
        ("nan", "nonfinite"),
        ("1_000", "syntax"),
        (" 1", "syntax"),
        ("1\n", "syntax"),
        (".", "syntax"),
        ("e5", "syntax"),
        ("1.234", "not_multiple"),
        ("1e400", "overflow"),
        ("1e-99999999999", "not_multiple"),
        ("0", "zero"),
        ("0e99999999999", "zero"),
        (1.234, "not_multiple"),
        (float("inf"), "nonfinite"),
        (-1.0, "negative"),
        (10**30, "overflow"),
        ("92233720368547758.08", "overflow"),
    ],
)
def test_ref_rejects(text, reason) -> None:
    with pytest.raises(RefParseError) as err:
        book().to_ticks(text)
    assert err.value.reason == reason and err.value.field == "price"


def test_ref_int64_edge() -> None:
    assert book().to_ticks("92233720368547758.07") == 2**63 - 1


def test_ref_drop_rule_and_fill() -> None:
    b = book(capacity=3)
    for px in ("10", "11", "12"):
        b.set_level(0, px, "1")
    b.set_level(0, "9", "1")
    assert [t for t, _ in b.levels(0)] == [1200, 1100, 1000]
    b.set_level(0, "13", "1")
    assert [t for t, _ in b.levels(0)] == [1300, 1200, 1100]
    assert b.dropped == 2
    # net effect of a message: insert then delete of the same price never drops
    b.apply([("5", "1"), ("5", "0")], [])
    assert b.dropped == 2
    # deletes are applied before inserts, whatever their position in the message
    b.apply([("14", "2"), ("11", "0")], [])
    assert [t for t, _ in b.levels(0)] == [1400, 1300, 1200] and b.dropped == 2
    assert b.fill(0, "2.5") == (F(5, 2), (14 * 2 + F(13, 2)) / F(5, 2), F(13))
    assert b.fill(0, "100") == (F(4), (14 * 2 + 13 + 12) / F(4), F(12))
    assert b.fill(1, "1") == (F(0), None, None)
    with pytest.raises(RefLevelFormatError):
        b.apply([("1",)], [])


def test_ref_snapshot_trims_and_counts() -> None:
    b = book(capacity=2)
    b.apply_snapshot([("1", "1"), ("3", "1"), ("2", "1"), ("3", "0")], [("4", "1")], seq=5)
    assert b.levels(0) == [(200, 100000), (100, 100000)]
    assert b.dropped == 0 and b.seq == 5
    b.apply_snapshot([("1", "1"), ("3", "1"), ("2", "1")], [])
    assert [t for t, _ in b.levels(0)] == [300, 200] and b.dropped == 1
    assert b.depth() == (2, 0) and b.mid() is None


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "n, unit", [(6500001, "0.01"), (1, "0.00001"), (50, "0.25"), (7, "5"), (0, "0.01")]
)
def test_numfmt_spellings_are_exact(style, n, unit) -> None:
    for variant in range(7):
        s = render(n, unit, style, variant)
        if isinstance(s, float):
            assert abs(F(s) - value_of(n, unit)) <= F(1, 10**9) * max(1, value_of(n, unit))
        else:
            assert RefBook("1", unit, 1).to_lots(s) == n, (style, variant, s)


def test_ref_merge() -> None:
    a = RefBook("0.01", "0.001", 10)
    b = RefBook("0.005", "1", 10)
    a.apply_snapshot([("100.00", "2"), ("99.99", "1")], [("100.02", "1")])
    b.apply_snapshot([("100.000", "2"), ("99.995", "7")], [("100.015", "1")])
    m = RefMerged([a, b], depth=10)
    assert m.best_bid() == (F(100), F(2), 0)  # tie on price and size: lowest index
    assert m.best_ask() == (F(100015, 1000), F(1), 1)
    bids, asks = m.top(3)
    assert bids == [
        (F(100), F(4), [F(2), F(2)]),
        (F(99995, 1000), F(7), [F(0), F(7)]),
        (F(9999, 100), F(1), [F(1), F(0)]),
    ]
    b.set_level(0, "100", "3")
    assert m.best_bid() == (F(100), F(3), 1)  # larger size wins the tie
    assert len(RefMerged([a, b], depth=2).top(3)[0]) == 2
