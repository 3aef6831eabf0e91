"""The synthetic market: determinism, never crossing, exact venue number formats, arbitrage."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from support.simclient import PlainBook

from openclaw.sim.engine.market import (
    ASK,
    BID,
    DepthView,
    Formatter,
    SyntheticMarket,
    default_instruments,
    with_ticks,
)


def _snapshot(m: SyntheticMarket, key: tuple[str, str, str]) -> PlainBook:
    fmt = m.formatter(key)
    book = PlainBook()
    book.load(fmt.levels(m.book(key).top(BID)), fmt.levels(m.book(key).top(ASK)))
    return book


def test_same_seed_same_market_different_seed_differs() -> None:
    a, b, c = SyntheticMarket(seed=42), SyntheticMarket(seed=42), SyntheticMarket(seed=43)
    for _ in range(150):
        sa, sb = a.step(), b.step()
        c.step()
        assert {k: (d.bids, d.asks, d.updates) for k, d in sa.diffs.items()} == {
            k: (d.bids, d.asks, d.updates) for k, d in sb.diffs.items()
        }
    assert a.book(a.keys[0]).sides == b.book(b.keys[0]).sides
    assert a.book(a.keys[0]).sides != c.book(c.keys[0]).sides


def test_diffs_rebuild_every_book_and_it_never_crosses() -> None:
    m = SyntheticMarket(seed=5)
    books = {k: _snapshot(m, k) for k in m.keys}
    for _ in range(400):
        step = m.step()
        for key, diff in step.diffs.items():
            books[key].apply(diff.bid_levels(), diff.ask_levels())
        for key in m.keys:
            assert not m.book(key).is_crossed(), key
    for key in m.keys:
        truth = _snapshot(m, key)
        assert books[key].bids == truth.bids, key
        assert books[key].asks == truth.asks, key
        assert not books[key].crossed()
        assert m.book(key).count(BID) == m.depth == m.book(key).count(ASK)


def test_prices_respect_tick_and_venues_differ_in_tick() -> None:
    m = SyntheticMarket(seed=9)
    for _ in range(30):
        m.step()
    ticks = {}
    for key in m.keys:
        spec = m.spec(key)
        tick = Decimal(spec.tick)
        book = _snapshot(m, key)
        ticks[(spec.venue, spec.category, spec.symbol)] = tick
        for px in list(book.bids) + list(book.asks):
            assert px % tick == 0, (key, px)
        for sz in list(book.bids.values()) + list(book.asks.values()):
            assert sz % Decimal(spec.lot) == 0 and sz > 0
    assert ticks[("okx", "spot", "BTC/USDT")] != ticks[("binance", "spot", "BTC/USDT")]
    mid = (m.book(m.keys[0]).best(BID) or 0) * 0.01
    assert 50_000 < mid < 80_000


def test_number_formats_match_each_venue() -> None:
    m = SyntheticMarket(seed=2)
    step = next(iter(m.run(3)))
    assert step.diffs
    fixed8 = re.compile(r"^\d+\.\d{8}$")
    trimmed = re.compile(r"^\d+(\.\d*[1-9])?$")
    for key in m.keys:
        spec, fmt, book = m.spec(key), m.formatter(key), m.book(key)
        levels = fmt.levels(book.top(BID, 50)) + fmt.levels(book.top(ASK, 50))
        for px, sz in levels:
            if spec.venue == "binance":
                assert fixed8.match(px) and fixed8.match(sz), (px, sz)
            elif spec.category == "linear":
                decimals = len(spec.tick.split(".")[1])
                assert len(px.split(".")[1]) == decimals, px
                assert len(sz.split(".")[1]) == len(spec.lot.split(".")[1]), sz
            else:
                assert trimmed.match(px) and trimmed.match(sz), (px, sz)
                assert "e" not in px.lower() and "e" not in sz.lower()
    assert Formatter("0.01", "0.00001", "fixed8", "fixed8").size(0) == "0.00000000"
    assert Formatter("0.1", "0.00000001", "trim", "trim").size(1020) == "0.0000102"
    assert Formatter("0.10", "0.001", "fixed", "fixed").price(651142) == "65114.20"
    assert Formatter("0.10", "0.001", "fixed", "fixed").size(0) == "0"


def test_tick_and_lot_are_configurable() -> None:
    specs = with_ticks(default_instruments(), {("bybit", "spot", "ETH/USDT"): ("0.05", "0.001")})
    m = SyntheticMarket(seed=1, instruments=specs, depth=40)
    key = ("bybit", "spot", "ETHUSDT")
    for _ in range(20):
        m.step()
    book = _snapshot(m, key)
    assert all(px % Decimal("0.05") == 0 for px in book.bids)
    assert all(sz % Decimal("0.001") == 0 for sz in book.asks.values())
    assert len(book.bids) == 40


@pytest.mark.parametrize("depth", [1, 5, 50, 200, 400])
def test_depth_view_streams_exactly_the_top_n(depth: int) -> None:
    m = SyntheticMarket(seed=11)
    key = ("bybit", "spot", "BTCUSDT")
    fmt, book = m.formatter(key), m.book(key)
    view = DepthView(book, depth)
    client = PlainBook()
    client.load(fmt.levels(book.top(BID, depth)), fmt.levels(book.top(ASK, depth)))
    for _ in range(300):
        diff = m.step().diffs.get(key)
        if not diff:
            continue
        bids, asks = view.sync(book, diff)
        for side, changes in ((client.bids, bids), (client.asks, asks)):
            for px, sz in changes.items():
                if sz == 0:  # Bybit never deletes a level the client does not hold
                    assert Decimal(fmt.price(px)) in side
        client.apply(fmt.levels(bids.items()), fmt.levels(asks.items()))
        assert len(client.bids) == min(depth, book.count(BID))
        assert len(client.asks) == min(depth, book.count(ASK))
    truth = PlainBook()
    truth.load(fmt.levels(book.top(BID, depth)), fmt.levels(book.top(ASK, depth)))
    assert client.bids == truth.bids and client.asks == truth.asks


def test_triangular_arbitrage_opens_sometimes() -> None:
    m = SyntheticMarket(seed=3, dislocation_prob=0.0)
    for _ in range(5):
        m.step()
    baseline = m.triangular_edges()[0].edge_bps
    m.dislocate("okx", "ETH-BTC", -15.0)
    m.step()
    best = m.triangular_edges()[0]
    assert best.edge_bps > max(baseline, 5.0)
    assert best.ethbtc_venue == "okx" and best.direction == "usdt>btc>eth>usdt"
    for _ in range(400):  # the dislocation decays and the venues re-align
        m.step()
    assert m.triangular_edges()[0].edge_bps < 5.0
