"""Helpers for the TWS simulator tests: run async bodies, connect ib_async, poll, collect errors.

Nothing here imports the simulator's wire code: the client side is the real ib_async library.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from ib_async import IB

from openclaw.sim.tws.server import TwsSim, start_tws
from support.aio import deadline, until

T = TypeVar("T")

# ib_async logs every error code it receives at ERROR level; the tests check the codes instead
logging.getLogger("ib_async").setLevel(logging.CRITICAL)


run = deadline(40.0)


@asynccontextmanager
async def tws(**kwargs: Any) -> AsyncIterator[TwsSim]:
    """A started simulator (smaller default universe), closed afterwards."""
    sim = await start_tws(**{"universe_size": 60, **kwargs})
    try:
        yield sim
    finally:
        await sim.aclose()


class Errors:
    """Every error/warning event an IB instance receives: (reqId, code, message)."""

    def __init__(self, ib: IB) -> None:
        self.items: list[tuple[int, int, str]] = []
        ib.errorEvent += self._on

    def _on(self, req_id: int, code: int, msg: str, contract: Any = None) -> None:
        self.items.append((req_id, code, msg))

    def codes(self) -> list[int]:
        """Error codes in arrival order."""
        return [c for _, c, _ in self.items]

    def has(self, code: int, req_id: int | None = None) -> bool:
        """True if the code arrived (for ``req_id`` if given)."""
        return any(c == code and (req_id is None or r == req_id) for r, c, _ in self.items)


async def connect(sim: TwsSim, client_id: int = 1, timeout: float = 10.0) -> tuple[IB, Errors]:
    """A connected ib_async IB and its error collector."""
    ib = IB()
    errors = Errors(ib)
    await ib.connectAsync(sim.host, sim.port, clientId=client_id, timeout=timeout)
    return ib, errors


async def wait_until(pred: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``pred`` every 10 ms until true; AssertionError after ``timeout`` seconds."""
    await until(pred, timeout, what or str(pred), step=0.01)


async def reconnect(sim: TwsSim, client_id: int, timeout: float = 15.0) -> tuple[IB, Errors]:
    """Connect, retrying while the simulator refuses connections (restart outage)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await connect(sim, client_id)
        except (ConnectionRefusedError, ConnectionError, OSError, TimeoutError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.1)
