"""Helpers of the journal and order-model tests (pytest-asyncio is not installed)."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from openclaw.execution import ClientIdFactory, Order, OrderType, Side

T = TypeVar("T")


# children started by the kill -9 tests import this module from its own folder: the shared
# harness (tests/support) is found through the tests folder
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.aio import deadline  # noqa: E402

run = deadline(20.0)


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
