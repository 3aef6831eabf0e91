"""Brute-force cross-venue merge: the oracle for ``openclaw._core.merge.MergedBook``.

Recomputes everything from the venue books on every call, exactly (``Fraction`` prices and sizes),
so tick and lot sizes may differ freely between venues (the exact rationals *are* the common unit).

Readings of the contract encoded here:

* ``best_bid()``/``best_ask()``: the best price over all venues; if several venues have that price,
  the one with the largest size there (compared exactly, across lot sizes), then the lowest index;
  returns ``(price, size of that venue, venue index)`` or ``None`` when every venue's side is empty.
* ``top(n)``: rows ``(price, total size, [size per venue])`` for the best ``min(n, depth)`` distinct
  prices of the union of the venues' levels, best first (bids descending, asks ascending); a venue
  with no level at that price contributes 0.
"""

from __future__ import annotations

from fractions import Fraction


class RefMerged:
    def __init__(self, books, depth: int) -> None:
        self.books = list(books)  # objects with levels(side), price(ticks), size(lots)
        self.depth = depth

    def _venue_levels(self, side: int):
        """For each venue, a list of exact (price, size), best first."""
        out = []
        for book in self.books:
            out.append([(book.price(t), book.size(q)) for t, q in book.levels(side)])
        return out

    def _best(self, side: int):
        cands = []
        for venue, levels in enumerate(self._venue_levels(side)):
            if levels:
                cands.append((levels[0][0], levels[0][1], venue))
        if not cands:
            return None
        best_px = max(c[0] for c in cands) if side == 0 else min(c[0] for c in cands)
        tied = [c for c in cands if c[0] == best_px]
        tied.sort(key=lambda c: (-c[1], c[2]))
        return tied[0]

    def best_bid(self):
        return self._best(0)

    def best_ask(self):
        return self._best(1)

    def _rows(self, side: int, n: int):
        n_venues = len(self.books)
        agg: dict[Fraction, list[Fraction]] = {}
        for venue, levels in enumerate(self._venue_levels(side)):
            for px, sz in levels:
                agg.setdefault(px, [Fraction(0)] * n_venues)[venue] += sz
        prices = sorted(agg, reverse=(side == 0))[: min(n, self.depth)]
        return [(px, sum(agg[px]), list(agg[px])) for px in prices]

    def top(self, n: int):
        return (self._rows(0, n), self._rows(1, n))
