"""The private order streams (Binance ``executionReport`` over the WS-API user data
subscription, OKX ``orders``, Bybit ``order``/``execution``) against the simulators, through
the Router on both routes (ccxt and the trading WebSocket): a push that beats the answer, the
same fill on the stream and in an answer applied once, a stream cut mid-order."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("ccxt")

from support.aio import deadline, until
from support.rigs import VENUES, Rig, trading_rig

from openclaw.model.orders import Order, OrderStatus  # noqa: E402

run = deadline(30.0)
ROUTES = ("ccxt", "ws")


async def _settled_once(rig: Rig, o: Order) -> None:
    """The order's fills equal the venue's, each counted once, journaled once."""
    truth = await rig.venue_orders(o.venue, o.client_id)
    assert len(truth) == 1, truth                      # one order at the venue, never re-sent
    assert o.status is OrderStatus.FILLED, (o.venue, o.status, o.reason)
    assert o.filled_qty == Decimal(truth[0]["filled"]) == o.qty
    assert sum(f.qty for f in o.fills.values()) == o.filled_qty
    assert o.fees and sum(o.fees.values()) == Decimal(truth[0]["fee"])
    row = await rig.journal.order(o.client_id)
    assert row is not None and row.status is OrderStatus.FILLED
    assert row.filled_qty == o.filled_qty and len(row.fills) == len(o.fills)
    assert await rig.journal.consistency_check() == []


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("venue", VENUES)
def test_fill_pushed_before_the_answer(tmp_path: Path, venue: str, route: str) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, venues=(venue,), ws=route == "ws", private=True,
                               timeout_s=3.0) as rig:
            assert rig.routes[venue].streaming
            # the venue executes the order at once but holds its answer back 0.8 s
            rig.sims.servers[venue].inject_fault("order_timeout", seconds=0.8)
            (o,) = legs = rig.legs(venues=(venue,))
            send = asyncio.ensure_future(rig.router.send_list(legs))
            await until(lambda: o.status is OrderStatus.FILLED, 2.0, "the pushed fill")
            assert not send.done()                     # the answer has not arrived yet
            await send
            await rig.router.reconcile_unknown(legs)
            assert rig.routes[venue].stats.queries == 0      # nothing asked over REST
            assert rig.router.stream_stats.fills >= 1
            await _settled_once(rig, o)

    run(body)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("venue", VENUES)
def test_same_fill_on_stream_and_answer_applied_once(tmp_path: Path, venue: str,
                                                     route: str) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, venues=(venue,), ws=route == "ws",
                               private=True) as rig:
            (o,) = legs = await rig.router.send_list(rig.legs(venues=(venue,)))
            await rig.router.reconcile_unknown(legs)
            assert o.status is OrderStatus.FILLED
            assert rig.routes[venue].stats.queries == 0    # the stream finished it
            await until(lambda: rig.router.stream_stats.applied >= 1, 2.0, "a push")
            fills = dict(o.fills)
            # the same fills again, in a REST answer now: nothing new, nothing journaled
            await rig.router.refresh(o)
            assert o.fills == fills
            await asyncio.sleep(0.1)                       # late pushes, if any
            assert o.fills == fills
            await _settled_once(rig, o)

    run(body)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("venue", VENUES)
def test_stream_dropped_mid_order_settles_by_query(tmp_path: Path, venue: str,
                                                   route: str) -> None:
    async def body() -> None:
        async with trading_rig(tmp_path, venues=(venue,), ws=route == "ws",
                               private=True) as rig:
            stream = rig.routes[venue].private
            # the next order executes, then the venue cuts the stream before pushing it
            rig.sims.servers[venue].inject_fault("drop_stream")
            (o,) = legs = await rig.router.send_list(rig.legs(venues=(venue,)))
            await rig.router.reconcile_unknown(legs)
            await _settled_once(rig, o)
            assert rig.router.stream_stats.fills == 0      # nothing came over the stream
            await until(lambda: stream.stats.drops == 1 and stream.up, 5.0, "a reconnect")
            # a second order after the reconnect is pushed again
            (o2,) = legs2 = await rig.router.send_list(rig.legs(venues=(venue,)))
            await rig.router.reconcile_unknown(legs2)
            await _settled_once(rig, o2)
            await _settled_once(rig, o)

    run(body)
