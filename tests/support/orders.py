"""Orders for the journal and order-model tests: a NEW limit order with a fresh client id."""

from __future__ import annotations

from decimal import Decimal

from openclaw.execution import ClientIdFactory, Order, OrderType, Side

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
