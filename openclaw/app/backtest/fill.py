"""Fills of an order against a book as it stands: level by level, IOC, integer ticks and lots.

Pure functions on (price ticks, quantity lots) levels, best first; the simulated route
(``route.py``) reads them from the recorded book (``OrderBook.top_ticks``) at the instant a leg
reaches its venue.
"""

from __future__ import annotations

from collections.abc import Sequence


def fill_ioc(levels: Sequence[tuple[int, int]], buy: bool, qty: int,
             limit: int | None) -> list[tuple[int, int]]:
    """The (price, lots) fills of an IOC order of ``qty`` lots against the opposite side's
    ``levels`` (asks for a buy, bids for a sell), best first; ``limit`` in ticks (None: a
    market order). What is left is cancelled (IOC)."""
    out: list[tuple[int, int]] = []
    left = qty
    for px, size in levels:
        if left <= 0:
            break
        if limit is not None and (px > limit if buy else px < limit):
            break
        take = size if size < left else left
        if take > 0:
            out.append((px, take))
            left -= take
    return out


def fillable(levels: Sequence[tuple[int, int]], buy: bool, qty: int, limit: int | None) -> bool:
    """Whether the whole ``qty`` would fill now (the opportunity is still there)."""
    return sum(q for _, q in fill_ioc(levels, buy, qty, limit)) >= qty
