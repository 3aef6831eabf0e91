"""The TWS simulator with ib_insync 0.9.86 (server version 176).

Runs in a separate virtualenv that has ib_insync and NOT ib_async (their ``eventkit`` modules
clash, see docs/venues/ibkr.md §1), with the repository on PYTHONPATH:

    python3 -m venv /tmp/venv-insync
    /tmp/venv-insync/bin/pip install ib_insync pytest numpy orjson websockets aiohttp typer \
        rich pydantic
    PYTHONPATH=. /tmp/venv-insync/bin/python -m pytest -q tests_insync

The simulator is started in-process (it imports neither client library).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

import pytest

ib_insync = pytest.importorskip("ib_insync")

from ib_insync import IB, Forex, LimitOrder, MarketOrder, Stock  # noqa: E402

from openclaw.sim.tws.server import start_tws  # noqa: E402

T = TypeVar("T")
logging.getLogger("ib_insync").setLevel(logging.CRITICAL)


def run(fn: Callable[[], Awaitable[T]], timeout: float = 40.0) -> T:
    """Run one async test body with a hard timeout."""

    async def guarded() -> T:
        return await asyncio.wait_for(fn(), timeout)

    return asyncio.run(guarded())


async def wait_until(pred: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Poll until ``pred()`` is truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or pred}")
        await asyncio.sleep(0.01)


def test_insync_connect_order_fill_commission_and_reconnect() -> None:
    async def body() -> None:
        sim = await start_tws(seed=2, universe_size=40)
        try:
            sym = sim.universe[0]
            sim.set_positions({sim.universe[1]: 25})
            ib = IB()
            errors: list[int] = []
            ib.errorEvent += lambda req_id, code, msg, contract: errors.append(code)
            await ib.connectAsync(sim.host, sim.port, clientId=12, timeout=10)
            assert ib.client.serverVersion() == 176
            assert ib.managedAccounts() == ["DU1234567"]
            tags = {v.tag for v in ib.accountValues() if v.currency == "USD"}
            assert {"NetLiquidation", "TotalCashValue", "BuyingPower"} <= tags
            assert {p.contract.symbol: p.position for p in ib.positions()} == {
                sim.universe[1]: 25.0
            }
            [c] = await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD"))
            assert c.conId == sim.instrument(sym).con_id
            trade = ib.placeOrder(c, MarketOrder("BUY", 100))
            await wait_until(trade.isDone, what="MKT filled")
            assert trade.orderStatus.status == "Filled" and trade.order.permId > 0
            [fill] = trade.fills
            assert fill.execution.shares == 100
            await wait_until(lambda: fill.commissionReport.commission > 0, what="commission")
            assert fill.commissionReport.commission == pytest.approx(0.35)
            assert sim.positions()[sym] == Decimal(100)

            limit = round(sim.quote(sym)[0] * 0.8, 2)
            resting = ib.placeOrder(c, LimitOrder("BUY", 5, limit))
            await wait_until(lambda: resting.orderStatus.status == "Submitted")
            bars = await ib.reqHistoricalDataAsync(c, "", "1 M", "1 day", "TRADES", True)
            assert 18 <= len(bars) <= 24
            for b in bars:
                assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
            [eur] = await ib.qualifyContractsAsync(Forex("EURUSD"))
            ticker = ib.reqMktData(eur)
            await wait_until(lambda: ticker.bid > 0 and ticker.ask > ticker.bid, what="FX quote")

            sim.inject_fault("drop")
            await wait_until(lambda: not ib.isConnected(), what="drop seen")
            assert sim.fill_resting() == 1  # filled while disconnected

            ib2 = IB()
            await ib2.connectAsync(sim.host, sim.port, clientId=12, timeout=10)
            try:
                assert ib2.openTrades() == []
                perms = {f.execution.permId for f in ib2.fills()}
                assert perms == {trade.order.permId, resting.order.permId}
                done = {t.order.permId: t.orderStatus.status for t in ib2.trades()}
                assert done[resting.order.permId] == "Filled"
                assert all(f.commissionReport.commission > 0 for f in ib2.fills())
                t2 = ib2.placeOrder(c, MarketOrder("SELL", 105))
                await wait_until(t2.isDone)
                assert t2.orderStatus.status == "Filled"
                assert sim.positions() == {sim.universe[1]: Decimal(25)}
            finally:
                ib2.disconnect()
        finally:
            await sim.aclose()

    run(body)
