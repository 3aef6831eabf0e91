"""The triangular-arbitrage detector in plain Python: the benchmark's baseline.

Same logic as ``openclaw/_core/triarb.pyx`` (cycle table, market -> cycles index, top-of-book
test, depth walk, execution in whole lots), on plain lists of (price, size) floats, so that the
benchmark compares implementations, not algorithms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PRIORITY = ("USDT", "USDC", "USD", "EUR", "BTC", "ETH")


@dataclass
class PyMarket:
    venue: str
    base: str
    quote: str
    bids: list[tuple[float, float]] = field(default_factory=list)   # best first
    asks: list[tuple[float, float]] = field(default_factory=list)
    lot: float = 1e-8
    fee: float = 0.0


class PyTriArb:
    """Incremental plain-Python detector over ``PyMarket`` books."""

    def __init__(self, markets: list[PyMarket], min_profit_bps: float = 0.0) -> None:
        self.markets = markets
        self.min_profit_bps = min_profit_bps
        assets = sorted({a for m in markets for a in (m.base, m.quote)},
                        key=lambda a: (PRIORITY.index(a) if a in PRIORITY else 99, a))
        pair: dict[frozenset[str], list[int]] = {}
        for i, m in enumerate(markets):
            pair.setdefault(frozenset((m.base, m.quote)), []).append(i)
        self.cycles: list[tuple[tuple[str, str, str], tuple[int, int, int], tuple[bool, ...]]] = []
        n = len(assets)
        for x in range(n):
            for y in range(x + 1, n):
                for z in range(y + 1, n):
                    trio = (assets[x], assets[y], assets[z])
                    if not all(frozenset(p) in pair for p in
                               ((trio[0], trio[1]), (trio[1], trio[2]), (trio[0], trio[2]))):
                        continue
                    for path in (trio, (trio[0], trio[2], trio[1])):
                        hops = [(path[k], path[(k + 1) % 3]) for k in range(3)]
                        for m0 in pair[frozenset(hops[0])]:
                            for m1 in pair[frozenset(hops[1])]:
                                for m2 in pair[frozenset(hops[2])]:
                                    ms = (m0, m1, m2)
                                    buys = tuple(markets[ms[k]].base == hops[k][1]
                                                 for k in range(3))
                                    self.cycles.append((path, ms, buys))
        self.index: list[list[int]] = [[] for _ in markets]
        for c, (_, ms, _) in enumerate(self.cycles):
            for m in set(ms):
                self.index[m].append(c)

    def on_update(self, market: int) -> list[tuple[int, float, float, float]]:
        """(cycle, profit_bps, start, end) of every cycle of ``market`` beating the threshold."""
        out = []
        for c in self.index[market]:
            r = self.evaluate(c)
            if r is not None:
                out.append((c, *r))
        return out

    def evaluate(self, c: int) -> tuple[float, float, float] | None:
        _, ms, buys = self.cycles[c]
        mk = [self.markets[i] for i in ms]
        levels = [mk[k].asks if buys[k] else mk[k].bids for k in range(3)]
        if not all(levels) or not all(m.bids and m.asks for m in mk):
            return None
        rate = [_rate_fn(mk[k], buys[k]) for k in range(3)]
        product = rate[0](levels[0][0][0]) * rate[1](levels[1][0][0]) * rate[2](levels[2][0][0])
        profit_bps = (product - 1.0) * 1e4
        if not profit_bps > self.min_profit_bps:
            return None
        threshold = 1.0 + self.min_profit_bps / 1e4
        j = [0, 0, 0]
        used = [0.0, 0.0, 0.0]
        x = 0.0
        while j[0] < len(levels[0]) and j[1] < len(levels[1]) and j[2] < len(levels[2]):
            r = [rate[k](levels[k][j[k]][0]) for k in range(3)]
            if not r[0] * r[1] * r[2] > threshold:
                break
            dx, bind, mult = -1.0, -1, 1.0
            for k in range(3):
                px, size = levels[k][j[k]]
                cap = ((px * size if buys[k] else size) - used[k]) / mult
                if dx < 0.0 or cap < dx:
                    dx, bind = cap, k
                mult *= r[k]
            dx = max(dx, 0.0)
            mult = 1.0
            for k in range(3):
                used[k] += dx * mult
                mult *= r[k]
            x += dx
            j[bind] += 1
            used[bind] = 0.0
        budget, start = x, 0.0
        for k in range(3):
            lots, spent, got = _execute(mk[k], buys[k], budget)
            if lots == 0:
                return profit_bps, 0.0, 0.0
            if k == 0:
                start = spent
            budget = got
        return profit_bps, start, budget


def _rate_fn(m: PyMarket, buy: bool):  # noqa: ANN202
    fee = 1.0 - m.fee
    return (lambda px: fee / px) if buy else (lambda px: px * fee)


def _execute(m: PyMarket, buy: bool, budget: float) -> tuple[int, float, float]:
    if buy:
        cost, q = 0.0, 0
        for px, size in m.asks:
            level_lots = round(size / m.lot)
            level_cost = level_lots * m.lot * px
            take = level_lots if cost + level_cost <= budget else min(
                level_lots, math.floor((budget - cost) / (px * m.lot)))
            if take <= 0:
                break
            cost += take * m.lot * px
            q += take
            if take < level_lots:
                break
        return q, cost, q * m.lot * (1 - m.fee)
    want = math.floor(budget / m.lot)
    gross, q = 0.0, 0
    for px, size in m.bids:
        if want <= 0:
            break
        take = min(round(size / m.lot), want)
        gross += take * m.lot * px
        q += take
        want -= take
    return q, q * m.lot, gross * (1 - m.fee)
