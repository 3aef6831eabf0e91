"""A socket dropped mid-order on the REST route: the simulator's ``drop_conn`` fault executes the
order, then aborts the HTTP connection without a reply. Through the Router with real ccxt
clients on loopback: the order is UNKNOWN (never REJECTED), a query by client id brings it to
its true (filled) state, the venue holds it once, the journal holds its fill once; end to end
through the pipeline the leg is resolved, no unwind, and its fill is alerted at the fake
Telegram server. Also: how ccxt classifies such errors, and that the Router treats every
"maybe executed" class as UNKNOWN.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ccxt = pytest.importorskip("ccxt")

from support.aio import deadline  # noqa: E402
from support.rigs import VENUES, trading_rig  # noqa: E402
from test_faults_e2e import (  # noqa: E402
    assert_true_state,
    env,
    final_reconcile_ok,
    one_arbitrage,
)

from openclaw.execution.router import Router, VenueRoute  # noqa: E402
from openclaw.journal import Journal  # noqa: E402
from openclaw.model.client_ids import ClientIdFactory  # noqa: E402
from openclaw.model.orders import Order, OrderStatus  # noqa: E402

run = deadline(120.0)


@pytest.mark.parametrize("venue", VENUES)
def test_drop_conn_leaves_the_order_unknown_then_resolved_once(tmp_path: Path,
                                                               venue: str) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, venues=(venue,), ws=False, timeout_s=10.0,
                               client_timeout_ms=10_000, visibility_window_s=None) as rig:
            sims, journal, router, ids = rig.sims, rig.journal, rig.router, rig.ids
            route = rig.routes[venue]
            opp = ids.next_opportunity()
            order = Order(ids.make(opp, 0), venue, "BTC/USDT", "buy", "market",
                          Decimal("0.001"), None, opp, 0)
            sims.servers[venue].inject_fault("drop_conn")
            await router.send_list([order])
            # the connection died after the venue executed the order: maybe executed
            assert order.status is OrderStatus.UNKNOWN, (order.status, order.reason)
            assert (order.reason or "").startswith("ExchangeNotAvailable"), order.reason
            assert route.stats.unknown == 1 and route.stats.rejected == 0
            assert sims.servers[venue].trading.status()["armed_faults"] == []
            # the venue has it, filled, exactly once, placed over REST
            recs = await rig.venue_orders(venue, order.client_id)
            assert len(recs) == 1 and recs[0]["status"] == "filled" and recs[0]["via"] == "rest"
            # resolved by client id to the truth; nothing re-sent
            await router.reconcile_unknown([order])
            assert order.status is OrderStatus.FILLED, (order.status, order.reason)
            assert order.filled_qty == Decimal(recs[0]["filled"])
            assert order.venue_order_id == str(recs[0]["id"])
            assert len(await rig.venue_orders(venue, order.client_id)) == 1
            fills = [f for f in await journal.fills() if f.client_id == order.client_id]
            assert sum((f.fill.qty for f in fills), Decimal(0)) == order.filled_qty
            assert len(fills) == 1           # one query, one new filled quantity, one fill
            # a second query reads the same state: no fill counted twice
            await router.refresh(order)
            again = [f for f in await journal.fills() if f.client_id == order.client_id]
            assert len(again) == len(fills)
            events = [e.kind.value for e in await journal.events(order.client_id)]
            assert "unknown" in events and "reject" not in events, events
            assert await journal.consistency_check() == []
            # the connection is usable again afterwards (aiohttp opens a new one)
            opp2 = ids.next_opportunity()
            nxt = Order(ids.make(opp2, 0), venue, "BTC/USDT", "buy", "market",
                        Decimal("0.001"), None, opp2, 0)
            await router.send_list([nxt])
            await router.reconcile_unknown([nxt])
            assert nxt.status is OrderStatus.FILLED, (nxt.status, nxt.reason)

    run(body)


def test_drop_conn_mid_arbitrage_resolves_without_duplicate_and_alerts(tmp_path: Path) -> None:
    """Through the whole pipeline: one leg's connection drops after the venue filled it."""

    async def body() -> None:
        async with env(tmp_path, ["bybit"]) as e:
            e.sims.bybit.inject_fault("drop_conn")
            orders = await one_arbitrage(e, "bybit")
            first = orders[:3]
            lost = [o for o in first
                    if any(x.kind.value == "unknown" for x in await e.journal.events(o.client_id))]
            assert len(lost) == 1, [(o.status, o.reason) for o in first]
            assert lost[0].status is OrderStatus.FILLED, (lost[0].status, lost[0].reason)
            assert all(o.status is not OrderStatus.REJECTED for o in first)
            assert e.h.pipeline.manager.stats.unwinds == 0
            await assert_true_state(e, orders)          # once at the venue, fills == trades
            await final_reconcile_ok(e)
            await e.alerter.flush(10)
            text = e.texts()
            assert f"({lost[0].client_id})" in text, text      # its fill alert
            assert "UNKNOWN" not in text and "HALT" not in text, text

    run(body)


def test_ccxt_classes_of_a_lost_reply_are_maybe_executed(tmp_path: Path) -> None:
    """ccxt maps a dropped connection (aiohttp ``ClientConnectionError``, e.g.
    ``ServerDisconnectedError``) to ``ExchangeNotAvailable`` and a timeout to
    ``RequestTimeout``, both ``NetworkError``s; the Router leaves each of them (and a bare
    ``NetworkError``) UNKNOWN, while ccxt's rate-limit and nonce errors - also NetworkErrors -
    are refusals. A plain ``NetworkError`` cannot be provoked through the simulator, so this
    drives the Router with a client that raises ccxt's own exception classes."""
    assert issubclass(ccxt.ExchangeNotAvailable, ccxt.NetworkError)
    assert issubclass(ccxt.RequestTimeout, ccxt.NetworkError)

    class Raising:
        def __init__(self, exc: Exception) -> None:
            self.exc = exc

        async def create_order(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            raise self.exc

        last_response_headers: dict[str, str] = {}

    cases = [(ccxt.NetworkError("x"), OrderStatus.UNKNOWN),
             (ccxt.ExchangeNotAvailable("x"), OrderStatus.UNKNOWN),
             (ccxt.RequestTimeout("x"), OrderStatus.UNKNOWN),
             (ccxt.OnMaintenance("x"), OrderStatus.UNKNOWN),
             (ccxt.RateLimitExceeded("x"), OrderStatus.REJECTED),
             (ccxt.InvalidNonce("x"), OrderStatus.REJECTED),
             (ccxt.InsufficientFunds("x"), OrderStatus.REJECTED)]

    async def body() -> None:
        journal = await Journal.open(tmp_path / "journal.sqlite", synchronous="NORMAL")
        ids = ClientIdFactory()
        try:
            for exc, want in cases:
                route = VenueRoute("okx", Raising(exc))
                router = Router({"okx": route}, journal)
                opp = ids.next_opportunity()
                o = Order(ids.make(opp, 0), "okx", "BTC/USDT", "buy", "market",
                          Decimal("0.001"), None, opp, 0)
                await router.send_list([o])
                assert o.status is want, (type(exc).__name__, o.status, o.reason)
        finally:
            await journal.close()

    run(body)
