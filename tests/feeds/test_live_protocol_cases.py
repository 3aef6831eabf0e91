"""Protocol corner cases against the simulators: stale snapshots, shutdown notices, sequence
resets, heartbeats, the REST-seeded OKX flow, Bybit restarts, and the gap-free rollover."""

from __future__ import annotations

import asyncio
import dataclasses

from support.livefeeds import (
    FAST,
    assert_books_match,
    endpoints_of,
    instruments_of,
    quiesce,
    run,
    started,
)
from support.livefeeds import wait_for as _wait

from openclaw.feeds.aggregator import Aggregator
from openclaw.feeds.state import BookState
from openclaw.sim import start_simulators
from openclaw.venues.registry import FEEDS


async def _settle_and_match(sims, agg) -> None:  # noqa: ANN001
    await agg.wait_live(10)
    await asyncio.sleep(0.3)
    await quiesce(sims, agg)
    assert_books_match(sims, agg)


def test_binance_stale_snapshot_is_fetched_again() -> None:
    async def body() -> None:
        sims, agg = await started(("binance",))
        try:
            await agg.wait_live(10)
            c = agg.counters["binance"]
            sims.binance.inject_fault("stale_snapshot", "BTCUSDT")
            sims.binance.inject_fault("gap", "BTCUSDT")
            await _wait(lambda: c.resyncs["gap"] >= 1 and c.resyncs["stale_snapshot"] >= 1)
            await _settle_and_match(sims, agg)
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


def test_binance_server_shutdown_notice_reconnects() -> None:
    async def body() -> None:
        sims, agg = await started(("binance",))
        try:
            await agg.wait_live(10)
            sims.binance.inject_fault("server_shutdown", seconds=2.0)
            await _wait(lambda: agg.counters["binance"].reconnects >= 1)
            await _settle_and_match(sims, agg)
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


def test_okx_sequence_reset_and_heartbeat_keep_the_chain() -> None:
    async def body() -> None:
        sims, agg = await started(("okx",))
        try:
            await agg.wait_live(10)
            sims.okx.inject_fault("seq_reset", "BTC-USDT")
            sims.okx.inject_fault("heartbeat", "ETH-USDT")
            await asyncio.sleep(0.5)
            await _settle_and_match(sims, agg)
            assert agg.counters["okx"].total_resyncs == 0
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


def test_okx_without_snapshot_push_seeds_from_rest() -> None:
    async def body() -> None:
        sims, agg = await started(("okx",), okx_initial_snapshot=False)
        try:
            await agg.wait_live(10)
            assert agg.counters["okx"].snapshots_fetched >= len(agg.instrument_of)
            await _settle_and_match(sims, agg)
            # a gap in this flow resyncs through REST again
            sims.clock.resume()
            sims.okx.inject_fault("gap", "ETH-BTC")
            await _wait(lambda: agg.counters["okx"].resyncs["gap"] >= 1)
            await _settle_and_match(sims, agg)
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


def test_okx_real_checksums_verified_live() -> None:
    async def body() -> None:
        sims, agg = await started(("okx",), okx_checksum="real")
        try:
            await agg.wait_live(10)
            await asyncio.sleep(0.5)
            c = agg.counters["okx"]
            assert c.checksum_ok > 10 and c.checksum_failed == 0
            await _settle_and_match(sims, agg)
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


def test_bybit_restart_snapshot_u1_resets_the_book() -> None:
    async def body() -> None:
        sims, agg = await started(("bybit",))
        try:
            await agg.wait_live(10)
            sims.bybit.inject_fault("reset", "BTCUSDT", category="spot")
            sims.bybit.inject_fault("snapshot", "ETHUSDT", category="linear")
            await asyncio.sleep(0.5)
            await _settle_and_match(sims, agg)
            assert sum(c.total_resyncs for c in agg.counters.values()) == 0
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


def test_binance_rollover_keeps_books_live_without_a_gap() -> None:
    """The 24-hour cut, compressed: connections roll over every 0.7 s; no book ever leaves LIVE
    and no snapshot is fetched again."""

    async def body() -> None:
        sims = await start_simulators(seed=5, rate=50)
        cfg = dataclasses.replace(FAST, max_age=0.7)
        agg = Aggregator(instruments_of(sims, ("binance",)), endpoints_of(sims), config=cfg,
                         feeds=FEEDS)
        await agg.start()
        try:
            await agg.wait_live(10)
            fetched = agg.counters["binance"].snapshots_fetched
            seen_states: set[int] = set()
            loop = asyncio.get_running_loop()
            end = loop.time() + 3.0
            applied_before = agg.counters["binance"].depth_messages
            while loop.time() < end:
                seen_states |= {agg.bookset.state(b) for b in agg.instrument_of}
                await asyncio.sleep(0.005)
            c = agg.counters["binance"]
            assert seen_states == {BookState.LIVE}
            assert c.total_resyncs == 0 and c.reconnects == 0
            assert c.snapshots_fetched == fetched
            assert c.duplicates > 0            # the overlap was really read twice
            assert c.depth_messages > applied_before
            await quiesce(sims, agg)
            assert_books_match(sims, agg)
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)
