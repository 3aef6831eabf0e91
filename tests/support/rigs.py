"""The trading rig of the execution tests: the venue simulators on loopback, a journal, one
``VenueRoute`` per venue (the ccxt client, and the venue's trading-WebSocket route unless
``ws=False``) and the ``Router`` over them, closed in the right order however the test ends.

    async with trading_rig(tmp_path) as rig:
        orders = await rig.router.send_list(rig.legs())
        truth = await rig.venue_orders("okx", orders[1].client_id)

Every order's truth is read back from the simulator's own order list (``GET /_sim/orders``), so
that "no duplicate" and "recovered state" are checked against the venue, not against ourselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from openclaw.execution.fast import FastConfig
from openclaw.execution.router import Router, VenueRoute
from openclaw.execution.venues import Credentials, make_client
from openclaw.journal import Journal
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.orders import Order
from openclaw.sim import Simulators, start_simulators
from openclaw.venues.registry import (
    SIM_PRIVATE_URL_KEYS,
    SIM_URL_KEYS,
    make_fast_route,
    make_private_stream,
)

#: The crypto venues the simulators serve, in leg order.
VENUES = ("binance", "okx", "bybit")


class AlertLog:
    """Collects what the routes report through the Alerter interface they use."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def disconnect(self, venue: str, detail: str) -> bool:
        self.lines.append((venue, detail))
        return True


async def venue_orders(sims: Simulators, venue: str, client_id: str) -> list[dict[str, Any]]:
    """The simulator's own record of every order with this client id."""
    async with aiohttp.ClientSession() as s, s.get(
            sims.urls[venue]["control"] + "/_sim/orders") as r:
        r.raise_for_status()
        body = await r.json()
    return [o for o in body["orders"] if o["client_id"] == client_id]


async def all_venue_orders(sims: Simulators, http: aiohttp.ClientSession | None = None
                           ) -> list[dict[str, Any]]:
    """Every order the simulators hold (``GET /_sim/orders`` of each venue), with its venue."""
    if http is None:
        async with aiohttp.ClientSession() as own:
            return await all_venue_orders(sims, own)
    out = []
    for v in VENUES:
        async with http.get(f"{sims.servers[v].url}/_sim/orders") as r:
            out += [{**o, "venue": v} for o in (await r.json())["orders"]]
    return out


def make_legs(ids: ClientIdFactory, venues: tuple[str, ...] = VENUES, qty: str = "0.01",
              kind: str = "market", price: str | None = None, side: str = "buy") -> list[Order]:
    """One opportunity's legs, one per venue, BTC/USDT, fresh client ids."""
    opp = ids.next_opportunity()
    px = Decimal(price) if price is not None else None
    return [Order(ids.make(opp, k), v, "BTC/USDT", side, kind, Decimal(qty), px, opp, k)
            for k, v in enumerate(venues)]


class Rig:
    """Simulators, journal, routes and router of one test (see ``trading_rig``)."""

    def __init__(self, sims: Simulators, journal: Journal, routes: dict[str, VenueRoute],
                 alerts: AlertLog, visibility_window_s: float | None) -> None:
        self.sims = sims
        self.journal = journal
        self.routes = routes
        window = {} if visibility_window_s is None else {
            "visibility_window_s": visibility_window_s}
        self.router = Router(routes, journal, **window)
        self.alerts = alerts
        self.ids = ClientIdFactory()

    def fast(self, venue: str) -> Any:
        """The venue's trading-WebSocket route."""
        return self.routes[venue].fast

    def legs(self, qty: str = "0.01", kind: str = "market", price: str | None = None,
             venues: tuple[str, ...] = VENUES, side: str = "buy") -> list[Order]:
        return make_legs(self.ids, venues, qty, kind, price, side)

    async def venue_orders(self, venue: str, client_id: str) -> list[dict[str, Any]]:
        return await venue_orders(self.sims, venue, client_id)

    async def close(self) -> None:
        await self.router.aclose()
        for r in self.routes.values():
            await r.close()
        await self.journal.close()
        await self.sims.aclose()


@asynccontextmanager
async def trading_rig(tmp: Path, *, venues: tuple[str, ...] = VENUES, ws: bool = True,
                      start: bool = True, timeout_s: float = 3.0,
                      creds: Credentials | None = None, backoff: float = 0.05,
                      fast_config: FastConfig | None = None, ed25519: Any = None,
                      client_timeout_ms: int | None = None,
                      visibility_window_s: float | None = 0.3,
                      synchronous: str | None = "NORMAL", seed: int = 5, rate: float = 20,
                      private: bool = False, **sim_options: Any) -> AsyncIterator[Rig]:
    """A started rig, closed on exit.

    ``ws``: each route gets the venue's trading-WebSocket route (logged in with ``creds``, the
    simulator's by default; the ccxt client always uses the simulator's); ``start=False``: the
    routes are not started (the test starts them); ``fast_config``: instead of the one built
    from ``timeout_s`` and ``backoff``; ``visibility_window_s``: short by default, so that an
    order the venue does not know is settled within a test (None: the Router's default);
    ``synchronous=None``: the journal's default; ``private``: each route also gets the
    venue's private order stream (``route.private``); ``sim_options``: to ``start_simulators``.
    """
    sims = await start_simulators(seed=seed, rate=rate, **sim_options)
    try:
        sync = {} if synchronous is None else {"synchronous": synchronous}
        journal = await Journal.open(tmp / "journal.sqlite", **sync)
    except BaseException:
        await sims.aclose()
        raise
    alerts = AlertLog()
    sim_creds = Credentials.simulator()
    cfg = fast_config or FastConfig(timeout_s=timeout_s, backoff_initial=backoff,
                                    backoff_max=max(2.0, backoff))
    client_kw = {} if client_timeout_ms is None else {"timeout_ms": client_timeout_ms}
    extra = {} if ed25519 is None else {"ed25519": ed25519}
    routes = {v: VenueRoute(v, make_client(v, sim_creds, sims.urls[v]["rest"], **client_kw),
                            timeout_s=timeout_s,
                            fast=make_fast_route(v, sims.urls[v][SIM_URL_KEYS[v]],
                                                 creds or sim_creds, cfg, alerts, **extra)
                            if ws else None,
                            private=make_private_stream(
                                v, sims.urls[v][SIM_PRIVATE_URL_KEYS[v]], sim_creds)
                            if private else None)
              for v in venues}
    rig = Rig(sims, journal, routes, alerts, visibility_window_s)
    try:
        if start:
            for r in routes.values():
                await r.start()
        yield rig
    finally:
        await rig.close()
