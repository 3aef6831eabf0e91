"""The IBKR session tests' helpers: a runner, polling, fresh ibkr orders."""

from __future__ import annotations

import itertools
from decimal import Decimal

from openclaw.model.orders import Order
from support.aio import deadline
from support.twsclient import wait_until

__all__ = ["order", "run", "wait_until"]

_ids = itertools.count(1)


run = deadline(50.0)


def order(symbol: str, side: str, qty: int | str, price: str | None = None,
          prefix: str = "T") -> Order:
    """A fresh ibkr order with a unique client id."""
    n = next(_ids)
    return Order(f"{prefix}{n:06d}x{id(object()) % 10**6:06d}", "ibkr", symbol, side,
                 "limit" if price else "market", Decimal(qty),
                 Decimal(price) if price else None, n, 0)
