"""Helpers of the journal and order-model tests (pytest-asyncio is not installed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

from openclaw.execution import ClientIdFactory, Order, OrderType, Side

T = TypeVar("T")


def run(fn: Callable[[], Awaitable[T]], timeout: float = 20.0) -> T:
    """Run one async test body with a hard timeout."""

    async def guarded() -> T:
        return await asyncio.wait_for(fn(), timeout)

    return asyncio.run(guarded())


_IDS = ClientIdFactory()


def make_order(
    qty: str = "1.0",
    price: str | None = "100.5",
    venue: str = "binance",
    symbol: str = "BTCUSDT",
    leg: int = 0,
) -> Order:
    """A NEW limit order with a fresh client id."""
    opp = _IDS.next_opportunity()
    return Order(
        client_id=_IDS.make(opp, leg),
        venue=venue,
        symbol=symbol,
        side=Side.BUY,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        qty=Decimal(qty),
        price=None if price is None else Decimal(price),
        opportunity_id=opp,
        leg=leg,
    )
