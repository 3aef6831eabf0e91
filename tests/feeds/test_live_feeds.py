"""Feeds against the venue simulators over real WebSockets: sync, faults, errors."""

from __future__ import annotations

import asyncio

import pytest
from support.livefeeds import assert_books_match, quiesce, run, started
from support.livefeeds import wait_for as _wait

from openclaw.feeds.aggregator import Aggregator
from openclaw.feeds.state import BookState
from openclaw.feeds.sync import SubscriptionError
from openclaw.sim import Simulators
from openclaw.venues.registry import FEEDS


def test_all_feeds_reach_live_and_match_the_true_books() -> None:
    async def body() -> None:
        sims, agg = await started()
        notified: list[int] = []
        agg.subscribe(lambda book_id, ts: notified.append(book_id))
        try:
            await agg.wait_live(10)
            await asyncio.sleep(0.5)
            await quiesce(sims, agg)
            assert assert_books_match(sims, agg) == 11
            assert set(notified) == set(agg.instrument_of)
            # merged books carry every spot venue
            mb = agg.merged["BTC/USDT"]
            bb = mb.best_bid()
            assert bb is not None
            venues = agg.merged_venues["BTC/USDT"]
            assert agg.book(venues[bb[2]], {"binance": "BTCUSDT", "okx": "BTC-USDT",
                                            "bybit": "spot:BTCUSDT"}[venues[bb[2]]]
                            ).best_bid()[0] == bb[0]
            for c in agg.counters.values():
                assert c.total_resyncs == 0 and c.parse_errors == 0
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


FAULTS = [
    ("binance", "BTCUSDT", "spot", "gap", "gap"),
    ("binance", "ETHUSDT", "spot", "reorder", "gap"),
    ("okx", "BTC-USDT", "spot", "gap", "gap"),
    ("okx", "ETH-USDT", "spot", "bad_checksum", "checksum"),
    ("bybit", "BTCUSDT", "spot", "gap", "gap"),
    ("bybit", "ETHUSDT", "linear", "reorder", "gap"),
]


@pytest.mark.parametrize(("venue", "symbol", "category", "kind", "cause"), FAULTS)
def test_fault_ends_in_a_counted_resync_and_a_correct_book(
    venue: str, symbol: str, category: str, kind: str, cause: str
) -> None:
    async def body() -> None:
        kw = {"okx_checksum": "real"} if kind == "bad_checksum" else {}
        sims, agg = await started((venue,), **kw)
        try:
            await agg.wait_live(10)
            name = f"bybit:{category}" if venue == "bybit" else venue
            counters = agg.counters[name]
            sims.servers[venue].inject_fault(kind, symbol, category=category)
            await _wait(lambda: counters.resyncs[cause] >= 1)
            await agg.wait_live(10)
            await asyncio.sleep(0.3)
            await quiesce(sims, agg)
            assert_books_match(sims, agg)
            assert counters.resyncs[cause] >= 1
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


@pytest.mark.parametrize("venue", ["binance", "okx", "bybit"])
def test_duplicates_and_malformed_frames_do_not_break_the_book(venue: str) -> None:
    async def body() -> None:
        sims, agg = await started((venue,))
        try:
            await agg.wait_live(10)
            inst = next(iter(agg.instrument_of.values()))
            name = f"bybit:{inst.category}" if venue == "bybit" else venue
            counters = agg.counters[name]
            sims.servers[venue].inject_fault("malformed", inst.symbol, category=inst.category)
            await _wait(lambda: counters.parse_errors >= 1)
            sims.servers[venue].inject_fault("duplicate", inst.symbol, category=inst.category)
            await asyncio.sleep(0.5)
            await quiesce(sims, agg)
            assert_books_match(sims, agg)
            assert counters.parse_errors >= 1
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


@pytest.mark.parametrize("venue", ["binance", "okx", "bybit"])
def test_dropped_connection_reconnects_and_resyncs(venue: str) -> None:
    async def body() -> None:
        sims, agg = await started((venue,))
        try:
            await agg.wait_live(10)
            sims.servers[venue].inject_fault("drop")
            await _wait(lambda: sum(c.reconnects for c in agg.counters.values()) >= 1)
            await agg.wait_live(10)
            await asyncio.sleep(0.3)
            await quiesce(sims, agg)
            assert_books_match(sims, agg)
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


def test_stalled_feed_turns_books_stale_then_reconnects() -> None:
    async def body() -> None:
        sims, agg = await started(("okx",))
        try:
            await agg.wait_live(10)
            sims.okx.inject_fault("stall", seconds=4.0)
            await _wait(lambda: any(agg.state(b) == BookState.STALE for b in agg.instrument_of)
                        or agg.counters["okx"].resyncs["timeout"] >= 1, timeout=6)
            await _wait(lambda: agg.counters["okx"].resyncs["timeout"] >= 1, timeout=8)
            await agg.wait_live(10)
        finally:
            await agg.stop()
            await sims.aclose()

    run(body, timeout=40)


@pytest.mark.parametrize("venue", ["binance", "okx", "bybit"])
def test_unknown_symbol_is_a_clear_error(venue: str, ) -> None:
    async def body() -> None:
        from support.livefeeds import FAST, endpoints_of

        from openclaw.model.instrument import Instrument
        from openclaw.sim import start_simulators

        sims: Simulators = await start_simulators(seed=3, rate=20)
        symbol = {"binance": "NOPEUSDT", "okx": "NOPE-USDT", "bybit": "NOPEUSDT"}[venue]
        agg = Aggregator([Instrument(venue, symbol, "0.01", "0.001")], endpoints_of(sims),
                         config=FAST, feeds=FEEDS)
        try:
            await agg.start()
            with pytest.raises(SubscriptionError) as err:
                await agg.wait_live(5)
            assert "NOPE" in str(err.value) or venue == "binance"
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)
