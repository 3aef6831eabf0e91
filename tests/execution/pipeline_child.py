"""The arbitrage pipeline wired to simulators given by URL: a test harness and a child process.

Imported by the execution tests (``build``) and run as the child of the kill -9 test:

    python pipeline_child.py SPEC.json

SPEC: {"journal": path, "venues": [...], "urls": {venue: {"ws", "rest"}},
       "instruments": [[venue, venue_symbol, tick, lot, base, quote], ...],
       "route_timeout_s": 60}
The child runs feeds -> books -> detection -> orders through ccxt -> journal until killed,
printing READY once every book is LIVE and ``ARB n`` each time an order list is handed to the
router.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from typing import Any

from openclaw.execution.manager import OrderManager
from openclaw.execution.reconcile import ReconcileConfig, Reconciler
from openclaw.execution.router import Router, VenueRoute
from openclaw.execution.venues import Credentials, make_client
from openclaw.feeds.aggregator import Aggregator, VenueEndpoints
from openclaw.feeds.connection import ConnectionConfig
from openclaw.journal import Journal
from openclaw.model.instrument import Instrument
from openclaw.strategies.triarb import ArbPipeline
from openclaw.venues.registry import FEEDS

FEES_BPS = {"binance": 10.0, "okx": 10.0, "bybit": 10.0}


def sim_spec(sims: Any, venues: list[str]) -> dict[str, Any]:
    """URLs and instruments of running simulators, as the child and ``build`` take them."""
    ws = {"binance": sims.binance.ws_base, "okx": sims.okx.ws_url, "bybit": sims.bybit.ws_base}
    return {
        "venues": venues,
        "urls": {v: {"ws": ws[v], "rest": sims.servers[v].url} for v in venues},
        "instruments": [[v, s.venue_symbol, s.tick, s.lot, *s.symbol.split("/")]
                        for v in venues for s in sims.market.instruments(v, "spot")],
    }


@dataclass
class Harness:
    agg: Aggregator
    routes: dict[str, VenueRoute]
    router: Router
    pipeline: ArbPipeline
    reconciler: Reconciler | None

    async def start(self) -> None:
        for r in self.routes.values():
            await r.start()
        await self.router.recover()
        if self.reconciler is not None:
            await self.reconciler.snapshot()
            self.reconciler.start()
        await self.agg.start()
        await self.agg.wait_live(20)

    async def close(self) -> None:
        await self.pipeline.drain(15)
        if self.reconciler is not None:
            await self.reconciler.stop()
        await self.agg.stop()
        await self.router.aclose()
        for r in self.routes.values():
            await r.close()


def build(spec: dict[str, Any], journal: Journal, *, alerter: Any = None,
          reconcile: ReconcileConfig | None = None, engine: Any = None,
          route_timeout_s: float = 3.0, cooldown_ms: int = 300,
          partial_policy: str = "unwind") -> Harness:
    """Aggregator, routes (real ccxt clients), router, pipeline and (optionally) reconciler."""
    venues = spec["venues"]
    instruments = [Instrument(v, vs, tick, lot, base=b, quote=q)
                   for v, vs, tick, lot, b, q in spec["instruments"]]
    endpoints = {v: VenueEndpoints(ws=spec["urls"][v]["ws"], rest=spec["urls"][v]["rest"])
                 for v in venues}
    agg = Aggregator(instruments, endpoints, config=ConnectionConfig(stale_after=2.0), feeds=FEEDS)
    routes = {v: VenueRoute(v, make_client(v, Credentials.simulator(), spec["urls"][v]["rest"],
                                           timeout_ms=int(route_timeout_s * 1000) + 5000),
                            timeout_s=route_timeout_s)
              for v in venues}
    # a short visibility window: an order the venue does not know settles within a test
    router = Router(routes, journal, visibility_window_s=0.5)
    reconciler = None
    if reconcile is not None:
        reconciler = Reconciler(router, journal, config=reconcile, alerter=alerter,
                                engine=engine)
    manager = OrderManager(router, partial_policy=partial_policy, alerter=alerter,
                           reconciler=reconciler)
    pipeline = ArbPipeline(
        agg, manager, {v: FEES_BPS[v] for v in venues}, min_profit_bps=1.0,
        cooldown_ms=cooldown_ms, max_book_age_ms=2000,
        max_start={(v, a): amt for v in venues
                   for a, amt in (("USDT", 3000.0), ("BTC", 0.05), ("ETH", 1.0))},
        slippage_bps=15.0)
    return Harness(agg, routes, router, pipeline, reconciler)


async def _child(spec: dict[str, Any]) -> None:
    journal = await Journal.open(spec["journal"], synchronous="NORMAL")
    h = build(spec, journal, route_timeout_s=float(spec.get("route_timeout_s", 60)))
    await h.start()
    seen = 0
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True:     # until SIGKILL
        await asyncio.sleep(0.01)
        if h.pipeline.stats.arbitrages != seen:
            seen = h.pipeline.stats.arbitrages
            sys.stdout.write(f"ARB {seen}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        asyncio.run(_child(json.load(f)))
