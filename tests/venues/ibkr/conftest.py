"""Fixtures of the IBKR session tests: the TWS simulator and a journal, on loopback."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

import pytest

pytest.importorskip("ib_async")

from support.aio import deadline, until

from openclaw.model.orders import Order  # noqa: E402

_ids = itertools.count(1)


run = deadline(50.0)


async def wait_until(cond: Callable[[], bool], timeout: float = 10.0, step: float = 0.01) -> None:
    """Poll ``cond`` until it holds; AssertionError at the deadline."""
    await until(cond, timeout, step=step)


def order(symbol: str, side: str, qty: int | str, price: str | None = None,
          prefix: str = "T") -> Order:
    """A fresh ibkr order with a unique client id."""
    n = next(_ids)
    return Order(f"{prefix}{n:06d}x{id(object()) % 10**6:06d}", "ibkr", symbol, side,
                 "limit" if price else "market", Decimal(qty),
                 Decimal(price) if price else None, n, 0)
