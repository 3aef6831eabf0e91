"""Helpers of the scheduler tests: a clock that never waits, a runner with a deadline."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from openclaw.execution import Order, OrderType, Side

T = TypeVar("T")


# children started by the kill -9 tests import this module from its own folder: the shared
# harness (tests/support) is found through the tests folder
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.aio import deadline  # noqa: E402

run = deadline(30.0)


class FakeClock:
    """Aware wall time that moves only when told to (no real wait).

    ``auto=False``: ``sleep`` returns once the test moved the time past its end (a lease
    heartbeat then never runs ahead of the test); ``auto=True``: ``sleep`` moves the time itself
    (for ``run_forever``).
    """

    def __init__(self, start: datetime, auto: bool = False) -> None:
        self.t = start
        self.auto = auto
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.t

    def set(self, t: datetime) -> None:
        self.t = t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        end = self.t + timedelta(seconds=seconds)
        if self.auto:
            self.t = end
            await asyncio.sleep(0.001)  # let other tasks run, but do not spin
            return
        while self.t < end:
            await asyncio.sleep(0.002)


def order(client_id: str, symbol: str = "AAPL", side: Side = Side.BUY) -> Order:
    """A NEW limit order with the given (deterministic) client id."""
    return Order(
        client_id=client_id,
        venue="ibkr",
        symbol=symbol,
        side=side,
        order_type=OrderType.LIMIT,
        qty=Decimal(10),
        price=Decimal("100.00"),
        opportunity_id=0,
        leg=0,
    )
