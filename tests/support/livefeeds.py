"""Helpers for feed tests against the simulators (real sockets on loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from openclaw.feeds.aggregator import Aggregator, VenueEndpoints
from openclaw.feeds.connection import ConnectionConfig
from openclaw.feeds.state import BookState
from openclaw.model.instrument import Instrument
from openclaw.sim import Simulators, start_simulators
from openclaw.venues.registry import CRYPTO_VENUES, FEEDS, crypto_venue
from support.aio import deadline, until

T = TypeVar("T")


run = deadline(30.0)


def instruments_of(sims: Simulators, venues: tuple[str, ...] = ("binance", "okx", "bybit")
                   ) -> list[Instrument]:
    """The simulated instruments as a user would configure them (tick/lot from the venue)."""
    out = []
    for venue in venues:
        for spec in sims.market.instruments(venue):
            base, quote = spec.symbol.split("/")
            out.append(Instrument(venue, spec.venue_symbol, spec.tick, spec.lot,
                                  category=spec.category, base=base, quote=quote))
    return out


def endpoints_of(sims: Simulators) -> dict[str, VenueEndpoints]:
    return {v: VenueEndpoints(ws=getattr(sims.servers[v], crypto_venue(v).sim_ws_attr),
                              rest=sims.servers[v].url) for v in CRYPTO_VENUES}


FAST = ConnectionConfig(ping_interval=1.0, data_timeout=3.0, stale_after=2.0,
                        backoff_initial=0.02, backoff_max=0.2, open_timeout=3.0,
                        snapshot_timeout=3.0)


async def started(venues: tuple[str, ...] = ("binance", "okx", "bybit"), rate: float = 50.0,
                  **sim_kw: object) -> tuple[Simulators, Aggregator]:
    sims = await start_simulators(seed=11, rate=rate, **sim_kw)  # type: ignore[arg-type]
    agg = Aggregator(instruments_of(sims, venues), endpoints_of(sims), config=FAST, feeds=FEEDS)
    await agg.start()
    return sims, agg


async def quiesce(sims: Simulators, agg: Aggregator, quiet: float = 0.25) -> None:
    """Pause the market and wait until the client has read everything that was sent."""
    sims.clock.pause()
    last = -1
    while True:
        await asyncio.sleep(quiet)
        seen = sum(c.messages for c in agg.counters.values())
        queued = sum(s.status()["queued"] for s in sims.servers.values())
        if seen == last and queued == 0:
            return
        last = seen


async def wait_for(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``pred`` until it holds; fail the test after ``timeout`` seconds."""
    await until(pred, timeout)


def assert_books_match(sims: Simulators, agg: Aggregator, bybit_depth: int = 50) -> int:
    """Every client book equals the simulator's true book level by level; returns books checked."""
    checked = 0
    for book_id, inst in agg.instrument_of.items():
        assert agg.state(book_id) == BookState.LIVE, f"{inst.venue}:{inst.key} not LIVE"
        depth = bybit_depth if inst.venue == "bybit" else None
        true = sims.servers[inst.venue].true_book(inst.symbol, inst.category, depth)
        bids, asks = agg.bookset.book(book_id).top(100_000)
        want_b = [[float(p), float(q)] for p, q in true["bids"]]
        want_a = [[float(p), float(q)] for p, q in true["asks"]]
        assert bids.tolist() == want_b, f"{inst.venue}:{inst.key} bids differ"
        assert asks.tolist() == want_a, f"{inst.venue}:{inst.key} asks differ"
        checked += 1
    return checked
