"""Triangular arbitrage: a worked seed case, and random books against the brute-force search."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reftriarb import RefMarket, find

from openclaw import OrderBook, find_arbitrage
from openclaw._core.triarb import TriArb

FEES = {"binance": 10.0, "okx": 8.0, "bybit": 10.0}


def book(bids, asks, tick="0.01", lot="0.0001", capacity=64) -> OrderBook:  # noqa: ANN001
    b = OrderBook(tick, lot, capacity)
    b.apply_snapshot(bids, asks)
    return b


def seed_books() -> dict:
    """Binance, OKX, Bybit x BTC/USDT, ETH/USDT, ETH/BTC, with ETH/BTC cheap on Bybit."""
    return {
        ("binance", "BTC", "USDT"): book([("65000", "1"), ("64990", "2")],
                                         [("65010", "1"), ("65020", "2")]),
        ("okx", "BTC", "USDT"): book([("64995", "1")], [("65040", "1")]),
        ("bybit", "BTC", "USDT"): book([("64990", "1")], [("65030", "1")]),
        ("binance", "ETH", "USDT"): book([("3390", "10")], [("3392", "10")]),
        ("okx", "ETH", "USDT"): book([("3400", "10"), ("3399", "10")],
                                     [("3401", "10"), ("3402", "10")]),
        ("bybit", "ETH", "USDT"): book([("3391", "10")], [("3393", "10")]),
        ("binance", "ETH", "BTC"): book([("0.05215", "5")], [("0.05225", "5")], tick="0.00001"),
        ("okx", "ETH", "BTC"): book([("0.05216", "5")], [("0.05224", "5")], tick="0.00001"),
        ("bybit", "ETH", "BTC"): book([("0.0520", "5"), ("0.0519", "5")],
                                      [("0.05205", "5"), ("0.0521", "5")], tick="0.00001"),
    }


def test_seed_case_known_answer() -> None:
    opps = find_arbitrage(seed_books(), FEES, min_profit_bps=0.0)
    best = opps[0]
    assert best.assets == ("USDT", "BTC", "ETH")
    assert [(leg.venue, leg.side, leg.base, leg.quote) for leg in best.legs] == [
        ("binance", "buy", "BTC", "USDT"),
        ("bybit", "buy", "ETH", "BTC"),
        ("okx", "sell", "ETH", "USDT"),
    ]
    # top of book: 1/65010 BTC per USDT, 1/0.05205 ETH per BTC, 3400 USDT per ETH, fees 10/10/8
    expected = (1 / 65010) * (1 / 0.05205) * 3400 * 0.999 * 0.999 * 0.9992
    assert best.profit_bps == pytest.approx((expected - 1) * 1e4, rel=1e-12)
    assert best.start_amount > 0 and best.expected_profit > 0
    # every listed cycle is profitable after fees at the top, and listed once
    keys = [(o.assets, tuple((leg.venue, leg.side) for leg in o.legs)) for o in opps]
    assert len(keys) == len(set(keys))
    assert all(o.profit_bps > 0 for o in opps)


def test_balances_cap_the_start_amount() -> None:
    free = find_arbitrage(seed_books(), FEES)[0]
    capped = find_arbitrage(seed_books(), FEES,
                            balances={("binance", "USDT"): 1000.0})[0]
    assert capped.start_amount <= 1000.0 < free.start_amount
    assert capped.legs[0].qty == pytest.approx(0.0153)     # 1000 / 65010, in lots of 0.0001


def test_min_profit_filters() -> None:
    all_ = find_arbitrage(seed_books(), FEES, min_profit_bps=0.0)
    few = find_arbitrage(seed_books(), FEES, min_profit_bps=all_[0].profit_bps - 1e-6)
    assert len(few) == 1
    assert find_arbitrage(seed_books(), FEES, min_profit_bps=all_[0].profit_bps) == []


def test_incremental_index_and_cooldown() -> None:
    books = seed_books()
    rows = [(v, b, q, bk, FEES[v]) for (v, b, q), bk in books.items()]
    arb = TriArb(rows, min_profit_bps=0.0, require_live=False, cooldown_ns=1_000)
    assert arb.n_cycles == 2 * 27
    m = arb.market_index("bybit", "ETH", "BTC")
    assert len(arb.cycles_of(m)) == 2 * 9        # cycles through that market only
    n1 = arb.on_update(m, now=10_000)
    assert n1 >= 1
    assert arb.on_update(m, now=10_500) == 0        # cooling down
    assert arb.on_update(m, now=11_001) == n1
    # a market in no profitable cycle's path: its cycles are evaluated, nothing found
    books[("bybit", "ETH", "BTC")].apply([], [("0.05205", "0"), ("0.0521", "0")])
    books[("bybit", "ETH", "BTC")].apply([], [("0.0530", "5")])
    assert arb.on_update(m, now=20_000) < n1


def test_only_live_fresh_books() -> None:
    books = seed_books()
    rows = [(v, b, q, bk, FEES[v]) for (v, b, q), bk in books.items()]
    arb = TriArb(rows, require_live=True, max_age_ns=1_000_000)
    assert arb.evaluate_all() == 0                 # books are SYNCING
    for bk in books.values():
        bk.state = 1                                # LIVE
        bk.set_level(0, bk.best_bid()[0], bk.best_bid()[1])   # touch: fresh recv_ts
    assert arb.evaluate_all() > 0
    assert arb.evaluate_all(now=books[("okx", "ETH", "USDT")].recv_ts + 2_000_000) == 0


# ---- property test against the brute-force search -------------------------------------------

VENUES = ("binance", "okx", "bybit")
PAIRS = (("BTC", "USDT", 65000.0, "0.01", "0.0001"),
         ("ETH", "USDT", 3400.0, "0.01", "0.001"),
         ("ETH", "BTC", 3400.0 / 65000.0, "0.00001", "0.001"))


@st.composite
def markets(draw):  # noqa: ANN001, ANN201
    out = []
    for venue in VENUES:
        fee = draw(st.sampled_from([0.0, 2.5, 7.5, 10.0]))
        for base, quote, mid, tick, lot in PAIRS:
            if draw(st.integers(0, 9)) == 0:
                continue                           # market absent on this venue
            t = float(tick)
            shift = draw(st.integers(-60, 60)) * 1e-4
            center = round(mid * (1 + shift) / t)
            spread = draw(st.integers(1, 5))
            levels = []
            for side in (0, 1):
                n = draw(st.integers(1, 6))
                gaps = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
                px = center - (0 if side == 0 else -spread)
                lv = []
                for g in gaps:
                    px = px - g if side == 0 else px + g
                    size = draw(st.integers(1, 3000)) * float(lot)
                    lv.append((px, size))
                levels.append(lv)
            out.append((venue, base, quote, tick, lot, fee, levels))
    return out


def _to_books(spec):  # noqa: ANN001, ANN202
    books, refs = {}, []
    for venue, base, quote, tick, lot, fee, (bids, asks) in spec:
        t = float(tick)
        ob = OrderBook(tick, lot, 64)
        ob.apply_snapshot([(p * t, s) for p, s in bids], [(p * t, s) for p, s in asks])
        books[(venue, base, quote)] = ob
        b, a = ob.top(64)
        refs.append(RefMarket(venue, base, quote, [tuple(x) for x in b.tolist()],
                              [tuple(x) for x in a.tolist()], float(lot), fee / 1e4))
    return books, refs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markets(), st.sampled_from([0.0, 1.0, 5.0]), st.booleans(),
       st.floats(0.001, 50.0), st.floats(10.0, 200000.0))
def test_matches_brute_force(spec, min_profit, use_bal, bal_btc, bal_usdt) -> None:  # noqa: ANN001
    books, refs = _to_books(spec)
    fees = {v: f for v, _, _, _, _, f, _ in spec} | {v: 0.0 for v in VENUES if v not in
                                                      {s[0] for s in spec}}
    balances = None
    if use_bal:
        balances = {}
        for v in VENUES:
            balances[(v, "BTC")] = bal_btc
            balances[(v, "USDT")] = bal_usdt
            balances[(v, "ETH")] = bal_btc * 19
    got = find_arbitrage(books, fees, min_profit, balances)
    want = find(refs, min_profit, balances)
    key = lambda o: (o.assets, tuple((leg[0], leg[3]) for leg in o.legs))  # noqa: E731
    gkey = lambda o: (o.assets, tuple((leg.venue, leg.side) for leg in o.legs))  # noqa: E731
    assert sorted(map(gkey, got)) == sorted(map(key, want))
    by = {key(o): o for o in want}
    for o in got:
        w = by[gkey(o)]
        assert o.profit_bps == pytest.approx(w.profit_bps, rel=1e-9, abs=1e-9)
        lots = [round(leg.qty / float(_lot(spec, leg))) for leg in o.legs]
        assert lots == [leg[5] for leg in w.legs], (o, w)
        assert o.start_amount == pytest.approx(w.start_amount, rel=1e-12, abs=1e-12)
        assert o.expected_profit == pytest.approx(w.expected_profit, rel=1e-9, abs=1e-9)
        for leg, wl in zip(o.legs, w.legs, strict=True):
            if wl[5]:
                assert leg.price_limit == wl[4]
            else:
                assert math.isnan(leg.price_limit)


def _lot(spec, leg):  # noqa: ANN001, ANN202
    for venue, base, quote, _tick, lot, _fee, _ in spec:
        if (venue, base, quote) == (leg.venue, leg.base, leg.quote):
            return lot
    raise KeyError(leg)
