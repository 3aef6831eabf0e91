"""IOC fills level by level against the plain one-lot-at-a-time reference."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from reffill import ref_fill

from openclaw.app.backtest.fill import fill_ioc, fillable

levels = st.lists(st.tuples(st.integers(1, 50), st.integers(1, 20)), max_size=8)


@given(levels, st.booleans(), st.integers(0, 120), st.one_of(st.none(), st.integers(0, 60)))
def test_fill_matches_reference(raw: list[tuple[int, int]], buy: bool, qty: int,
                                limit: int | None) -> None:
    # a side's levels, best first, distinct prices
    book = sorted(dict(raw).items(), reverse=not buy)
    got = fill_ioc(book, buy, qty, limit)
    assert got == ref_fill(book, buy, qty, limit)
    assert sum(q for _, q in got) <= qty
    assert fillable(book, buy, qty, limit) == (sum(q for _, q in got) == qty)
