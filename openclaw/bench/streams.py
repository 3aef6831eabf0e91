"""Signal -> all legs filled, with and without the venues' private order streams, in one run.

Against the simulators in a child process (``python -m openclaw.sim``), four routers share
them: route ccxt or ws (trading WebSocket) x private stream on or off. Each order list is three
market legs (one per venue) sent through ``Router.send_list`` and followed until final by
``reconcile_unknown`` (the order manager's path): the time from the call (the strategy's
signal handed over) until every leg is final with its fills is measured; the lists alternate
between the four settings. ``python -m openclaw.bench.streams [LISTS]`` prints JSON.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from openclaw.bench.orders import (
    VENUES,
    WS_URL_KEY,
    start_sim_process,
    stop_sim_process,
)
from openclaw.execution.fast import FastConfig
from openclaw.execution.ratelimit import TokenBucket
from openclaw.execution.router import Router, VenueRoute
from openclaw.execution.venues import Credentials, make_client
from openclaw.journal import Journal
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.orders import Order, OrderStatus, OrderType, Side
from openclaw.venues.registry import SIM_PRIVATE_URL_KEYS, make_fast_route, make_private_stream

__all__ = ["main", "run"]

SETTINGS = [(route, stream) for route in ("ccxt", "ws") for stream in (False, True)]


def _ms(xs: list[float]) -> dict[str, float]:
    s = sorted(xs)
    if not s:
        return {"n": 0}
    return {"n": len(s), "min": round(s[0], 2), "p50": round(s[len(s) // 2], 2),
            "p90": round(s[min(len(s) - 1, int(0.9 * len(s)))], 2), "max": round(s[-1], 2)}


async def run(lists: int = 40, seed: int = 7) -> dict[str, Any]:
    """``lists`` order lists per setting; returns the ranges (ms) per setting."""
    proc, urls = await start_sim_process(seed)
    tmp = tempfile.TemporaryDirectory(prefix="openclaw-bench-streams-")
    journal = await Journal.open(Path(tmp.name) / "journal.sqlite", synchronous="NORMAL")
    creds = Credentials.simulator()
    routers: dict[tuple[str, bool], Router] = {}
    routes: list[VenueRoute] = []
    for route, stream in SETTINGS:
        rs = {v: VenueRoute(
            v, make_client(v, creds, urls[v]["rest"]), TokenBucket(rate=1e6, burst=1e6),
            fast=make_fast_route(v, urls[v][WS_URL_KEY[v]], creds, FastConfig(timeout_s=5.0))
            if route == "ws" else None,
            private=make_private_stream(v, urls[v][SIM_PRIVATE_URL_KEYS[v]], creds)
            if stream else None) for v in VENUES}
        routes += rs.values()
        routers[(route, stream)] = Router(rs, journal)
    ms: dict[tuple[str, bool], list[float]] = {k: [] for k in routers}
    queries: dict[tuple[str, bool], int] = {}
    failures: list[str] = []
    ids = ClientIdFactory()
    try:
        for r in routes:
            await r.start()
        for i in range(lists + 2):
            for key, router in routers.items():
                opp = ids.next_opportunity()
                side = Side.BUY if i % 2 == 0 else Side.SELL
                legs = [Order(ids.make(opp, k), v, "BTC/USDT", side, OrderType.MARKET,
                              "0.001", None, opp, k) for k, v in enumerate(VENUES)]
                t0 = time.perf_counter()
                await router.send_list(legs)
                await router.reconcile_unknown(legs)
                dt = (time.perf_counter() - t0) * 1e3
                if any(o.status is not OrderStatus.FILLED for o in legs):
                    failures.append(f"{key}: {[(o.venue, o.status.value) for o in legs]}")
                elif i >= 2:                                  # two warm-up lists
                    ms[key].append(dt)
        for key, router in routers.items():
            queries[key] = sum(r.stats.queries for r in router.routes.values())
    finally:
        for r in routes:
            await r.close()
        await journal.close()
        await stop_sim_process(proc)
        tmp.cleanup()
    return {"signal_to_all_filled_ms": {
        f"{route} {'stream' if stream else 'no-stream'}": {**_ms(ms[(route, stream)]),
                                                           "rest_queries": queries.get(
                                                               (route, stream), 0)}
        for route, stream in SETTINGS}, "failures": failures[:5], "lists": lists}


def main() -> None:
    """``python -m openclaw.bench.streams [LISTS]``."""
    lists = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    print(orjson.dumps(asyncio.run(run(lists)), option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
