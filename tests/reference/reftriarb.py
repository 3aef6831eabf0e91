"""Brute-force triangular-arbitrage search in plain Python (the reference for triarb.pyx).

Enumerates every ordered triple of distinct assets and every market per hop, keeps each directed
cycle once (starting on its highest-priority asset), and sizes it by the rule documented in
openclaw/_core/triarb.pyx: walk the three books' levels while the marginal cycle rate beats
1 + min_profit_bps / 1e4 (balances capping each leg), then execute leg after leg in whole lots.
The float arithmetic follows the same formulas so that sizes agree to the lot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import permutations

PRIORITY = ("USDT", "USDC", "USD", "EUR", "BTC", "ETH")


@dataclass
class RefMarket:
    venue: str
    base: str
    quote: str
    bids: list[tuple[float, float]]      # best first, (price, size)
    asks: list[tuple[float, float]]
    lot: float
    fee: float                            # fraction
    min_notional: float = 0.0


@dataclass
class RefOpportunity:
    assets: tuple[str, str, str]
    legs: list[tuple[str, str, str, str, float, int]]   # venue, base, quote, side, limit, lots
    profit_bps: float
    start_amount: float
    expected_profit: float


def _rank(a: str) -> tuple[int, str]:
    return (PRIORITY.index(a) if a in PRIORITY else len(PRIORITY), a)


def _rate(m: RefMarket, buy: bool, px: float) -> float:
    return (1.0 - m.fee) / px if buy else px * (1.0 - m.fee)


def _levels(m: RefMarket, buy: bool) -> list[tuple[float, float]]:
    return m.asks if buy else m.bids


def _execute(m: RefMarket, buy: bool, budget: float) -> tuple[int, float, float, float, float]:
    """(lots, spent, received, notional, worst price) of spending ``budget`` in whole lots."""
    if budget <= 0.0:
        return 0, 0.0, 0.0, 0.0, math.nan
    worst = math.nan
    if buy:
        cost, q = 0.0, 0
        for px, size in m.asks:
            level_lots = round(size / m.lot)
            level_cost = float(level_lots) * m.lot * px
            if cost + level_cost <= budget:
                take = level_lots
            else:
                take = min(level_lots, math.floor((budget - cost) / (px * m.lot)))
            if take <= 0:
                break
            cost += float(take) * m.lot * px
            q += take
            worst = px
            if take < level_lots:
                break
        return q, cost, float(q) * m.lot * (1.0 - m.fee), cost, worst
    want = math.floor(budget / m.lot)
    gross, q = 0.0, 0
    for px, size in m.bids:
        if want <= 0:
            break
        level_lots = round(size / m.lot)
        take = min(level_lots, want)
        gross += float(take) * m.lot * px
        q += take
        want -= take
        worst = px
    return q, float(q) * m.lot, gross * (1.0 - m.fee), gross, worst


def find(markets: list[RefMarket], min_profit_bps: float = 0.0,
         balances: dict[tuple[str, str], float] | None = None) -> list[RefOpportunity]:
    balances = balances or {}
    assets = sorted({a for m in markets for a in (m.base, m.quote)})
    out = []
    for a0, a1, a2 in permutations(assets, 3):
        if _rank(a0) > min(_rank(a1), _rank(a2)):
            continue
        path = (a0, a1, a2)
        hops = [(path[k], path[(k + 1) % 3]) for k in range(3)]
        choices = [[m for m in markets if {m.base, m.quote} == set(h)] for h in hops]
        for m0 in choices[0]:
            for m1 in choices[1]:
                for m2 in choices[2]:
                    ms = (m0, m1, m2)
                    buys = [ms[k].base == hops[k][1] for k in range(3)]
                    if any(not _levels(ms[k], buys[k]) or not _levels(ms[k], not buys[k])
                           for k in range(3)):
                        continue
                    product = 1.0
                    for k in range(3):
                        product *= _rate(ms[k], buys[k], _levels(ms[k], buys[k])[0][0])
                    profit_bps = (product - 1.0) * 1e4
                    if not profit_bps > min_profit_bps:
                        continue
                    out.append(_size(path, ms, buys, profit_bps, min_profit_bps, balances))
    out.sort(key=lambda o: -o.profit_bps)
    return out


def _size(path, ms, buys, profit_bps, min_profit_bps, balances) -> RefOpportunity:  # noqa: ANN001
    threshold = 1.0 + min_profit_bps / 1e4
    levels = [_levels(ms[k], buys[k]) for k in range(3)]
    bal = [balances.get((ms[k].venue, path[k]), -1.0) for k in range(3)]
    j, used, spent = [0, 0, 0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    x = 0.0
    while all(j[k] < len(levels[k]) for k in range(3)):
        r = [_rate(ms[k], buys[k], levels[k][j[k]][0]) for k in range(3)]
        if not r[0] * r[1] * r[2] > threshold:
            break
        dx, bind, mult = -1.0, -1, 1.0
        for k in range(3):
            px, size = levels[k][j[k]]
            cap = ((px * size if buys[k] else size) - used[k]) / mult
            if dx < 0.0 or cap < dx:
                dx, bind = cap, k
            if bal[k] >= 0.0:
                lim = (bal[k] - spent[k]) / mult
                if lim < dx:
                    dx, bind = lim, 3 + k
            mult *= r[k]
        dx = max(dx, 0.0)
        mult = 1.0
        for k in range(3):
            used[k] += dx * mult
            spent[k] += dx * mult
            mult *= r[k]
        x += dx
        if bind >= 3:
            break
        j[bind] += 1
        used[bind] = 0.0
    budget = x
    legs = []
    start = 0.0
    for k in range(3):
        if bal[k] >= 0.0 and budget > bal[k]:
            budget = bal[k]
        lots, spent_k, got, notional, worst = _execute(ms[k], buys[k], budget)
        if lots == 0 or notional < ms[k].min_notional:
            legs = [(m.venue, m.base, m.quote, "buy" if b else "sell", math.nan, 0)
                    for m, b in zip(ms, buys, strict=True)]
            return RefOpportunity(path, legs, profit_bps, 0.0, 0.0)
        if k == 0:
            start = spent_k
        legs.append((ms[k].venue, ms[k].base, ms[k].quote, "buy" if buys[k] else "sell",
                     worst, lots))
        budget = got
    return RefOpportunity(path, legs, profit_bps, start, budget - start)
