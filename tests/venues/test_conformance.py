"""One conformance suite for every crypto venue of the registry: a venue added to
``venues/registry.py`` (with its simulator) runs it without a new test.

Against the venue's simulator, over real sockets and the real ccxt client: the depth feed
reaches LIVE and its books equal the simulator's true books; an order through the ccxt route
and one through the trading WebSocket route are acknowledged, filled and journaled; the
venue's order history (``history.py``) lists both by client id; and the order query by client
id (the registry's parameter) finds them.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest
from support.aio import deadline
from support.livefeeds import assert_books_match, quiesce, started

from openclaw.execution.router import Router, VenueRoute
from openclaw.execution.venues import Credentials, make_client
from openclaw.journal import Journal
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.orders import Order, OrderStatus
from openclaw.sim import start_simulators
from openclaw.venues.registry import (
    KITS,
    SIM_URL_KEYS,
    VENUE_HISTORY,
    make_fast_route,
)

run = deadline(60.0)
VENUES = tuple(KITS)


@pytest.mark.parametrize("venue", VENUES)
def test_feed_goes_live_and_matches_the_simulator(venue: str) -> None:
    async def body() -> None:
        sims, agg = await started((venue,))
        try:
            await agg.wait_live(20)
            await quiesce(sims, agg)
            assert assert_books_match(sims, agg) >= 3
        finally:
            await agg.stop()
            await sims.aclose()

    run(body)


@pytest.mark.parametrize("venue", VENUES)
def test_both_order_routes_fill_journal_and_show_in_the_venue_history(venue: str,
                                                                      tmp_path: Path) -> None:
    async def body() -> None:
        sims = await start_simulators(seed=3, rate=20)
        journal = await Journal.open(tmp_path / "j.sqlite", synchronous="NORMAL")
        creds = Credentials.simulator()
        ccxt_route = VenueRoute(venue, make_client(venue, creds, sims.servers[venue].url))
        ws_client = make_client(venue, creds, sims.servers[venue].url)
        ws_route = VenueRoute(venue, ws_client, fast=make_fast_route(
            venue, sims.urls[venue][SIM_URL_KEYS[venue]], creds))
        ids = ClientIdFactory()
        since = int(time.time() * 1000) - 2000
        try:
            for route in (ccxt_route, ws_route):
                await route.start()
            orders = []
            for route in (ccxt_route, ws_route):
                router = Router({venue: route}, journal, visibility_window_s=1.0)
                opp = ids.next_opportunity()
                o = Order(ids.make(opp, 0), venue, "BTC/USDT", "buy", "market",
                          Decimal("0.001"), None, opp, 0)
                await router.send_list([o])
                await router.reconcile_unknown([o])
                assert await router.resolver.settle(10) == []
                await router.aclose()
                assert o.status is OrderStatus.FILLED, (venue, o.status, o.reason)
                assert o.filled_qty == Decimal("0.001") and o.fills
                row = await journal.order(o.client_id)
                assert row is not None and row.status is OrderStatus.FILLED
                orders.append(o)
            assert ws_route.fast.stats.sent == 1, ws_route.fast.stats     # it went by socket
            listed = await VENUE_HISTORY[venue](ccxt_route.client, "BTC/USDT", since)
            got = {str(x.get("clientOrderId")) for x in listed}
            assert {o.client_id for o in orders} <= got, (got, [o.client_id for o in orders])
            assert await journal.consistency_check() == []
        finally:
            for route in (ccxt_route, ws_route):
                await route.close()
            await journal.close()
            await sims.aclose()

    run(body)
