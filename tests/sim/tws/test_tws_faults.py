"""TWS simulator faults and recovery with the real ib_async client: drop, restart, 326, pacing,
stall, reconnect replay, server version 176, the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal

import pytest
from ib_async import IB, ExecutionFilter, LimitOrder, MarketOrder, Stock
from support.twsclient import Errors, connect, reconnect, run, tws, wait_until

from openclaw.sim.tws.server import PACING_TEXT


async def _stock(ib: IB, sym: str) -> Stock:
    [c] = await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD"))
    return c


def test_reconnect_after_drop_restores_orders_and_fills() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, _ = await connect(sim, client_id=5)
            sym = sim.universe[1]
            c = await _stock(ib, sym)
            filled = ib.placeOrder(c, MarketOrder("BUY", 10))
            await wait_until(filled.isDone)
            bid = sim.quote(sym)[0]
            resting = ib.placeOrder(c, LimitOrder("BUY", 5, round(bid * 0.7, 2)))
            await wait_until(lambda: resting.orderStatus.status == "Submitted")
            used = {filled.order.orderId, resting.order.orderId}
            sim.inject_fault("drop")
            await wait_until(lambda: not ib.isConnected(), what="client sees the drop")
            await wait_until(lambda: sim.connections == 0)

            ib2, _ = await connect(sim, client_id=5)
            try:
                [open_trade] = ib2.openTrades()
                assert open_trade.order.orderId == resting.order.orderId
                assert open_trade.order.permId == resting.order.permId
                assert open_trade.orderStatus.status == "Submitted"
                done = [t for t in ib2.trades() if t.order.permId == filled.order.permId]
                assert len(done) == 1 and done[0].orderStatus.status == "Filled"
                [fill] = [f for f in ib2.fills() if f.execution.permId == filled.order.permId]
                assert fill.execution.shares == 10
                assert fill.commissionReport.commission == pytest.approx(0.35)
                # ids continue above everything this clientId used
                assert sim.next_order_id(5) > max(used)
                new = ib2.placeOrder(c, MarketOrder("SELL", 10))
                assert new.order.orderId > max(used)
                await wait_until(new.isDone)
                assert new.orderStatus.status == "Filled"
                ib2.cancelOrder(open_trade.order)
                await wait_until(lambda: open_trade.orderStatus.status == "Cancelled")
                assert sim.open_orders() == [] and sim.positions() == {}
            finally:
                ib2.disconnect()

    run(body)


def test_fill_during_restart_shows_up_after_reconnect() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, _ = await connect(sim, client_id=8)
            sym = sim.universe[2]
            c = await _stock(ib, sym)
            limit = round(sim.quote(sym)[0] * 0.8, 2)
            trade = ib.placeOrder(c, LimitOrder("BUY", 7, limit))
            await wait_until(lambda: trade.orderStatus.status == "Submitted")
            perm = trade.order.permId
            sim.inject_fault("restart", seconds=3.0)
            assert not sim.accepting
            await wait_until(lambda: not ib.isConnected(), what="client sees the restart")
            with pytest.raises(OSError):
                await asyncio.open_connection(sim.host, sim.port)
            assert sim.fill_resting() == 1  # filled while nobody is connected
            assert sim.positions() == {sym: Decimal(7)}

            ib2, _ = await reconnect(sim, client_id=8)
            try:
                assert sim.accepting
                assert ib2.openTrades() == []
                fills = [f for f in ib2.fills() if f.execution.permId == perm]
                assert len(fills) == 1 and fills[0].execution.price == pytest.approx(limit)
                assert fills[0].commissionReport.commission == pytest.approx(0.35)
                [done] = [t for t in ib2.trades() if t.order.permId == perm]
                assert done.orderStatus.status == "Filled"
                again = await ib2.reqExecutionsAsync(ExecutionFilter(symbol=c.symbol))
                assert [f.execution.permId for f in again] == [perm]
                assert {p.contract.symbol: p.position for p in ib2.positions()} == {sym: 7.0}
            finally:
                ib2.disconnect()

    run(body)


def test_client_id_in_use() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, _ = await connect(sim, client_id=9)
            try:
                other = IB()
                errors = Errors(other)
                with pytest.raises((TimeoutError, ConnectionError)):
                    await other.connectAsync(sim.host, sim.port, clientId=9, timeout=2)
                assert errors.has(326)
                assert not other.isConnected()
                # the first session is untouched
                assert ib.isConnected() and sim.client_ids() == [9]
                await ib.reqCurrentTimeAsync()
                # forced: the next startApi is refused whatever the clientId
                sim.inject_fault("client_id_in_use")
                third = IB()
                errors3 = Errors(third)
                with pytest.raises((TimeoutError, ConnectionError)):
                    await third.connectAsync(sim.host, sim.port, clientId=10, timeout=2)
                assert errors3.has(326)
                ib4, _ = await connect(sim, client_id=10)
                assert sim.client_ids() == [9, 10]
                ib4.disconnect()
            finally:
                ib.disconnect()

    run(body)


def test_pacing_faults_and_real_pacing_rule() -> None:
    async def body() -> None:
        async with tws(hist_pacing_limit=4, hist_pacing_window=600.0) as sim:
            ib, errors = await connect(sim)
            try:
                c = await _stock(ib, sim.universe[0])
                sim.inject_fault("pacing", count=1)
                bars = await ib.reqHistoricalDataAsync(c, "", "5 D", "1 day", "TRADES", True)
                assert len(bars) == 0
                assert any(code == 162 and msg == PACING_TEXT for _, code, msg in errors.items)
                # the injected violation did not count; four real requests pass, the fifth not
                for _ in range(4):
                    bars = await ib.reqHistoricalDataAsync(c, "", "5 D", "1 day", "TRADES", True)
                    assert len(bars) == 5
                n162 = errors.codes().count(162)
                bars = await ib.reqHistoricalDataAsync(c, "", "5 D", "1 day", "TRADES", True)
                assert len(bars) == 0 and errors.codes().count(162) == n162 + 1
                # error 100 for another message id (reqContractDetails = 9)
                sim.inject_fault("pacing", msg_id=9)
                res = await ib.qualifyContractsAsync(Stock(sim.universe[1], "SMART", "USD"))
                assert res == [None] and errors.has(100)
                ok = await ib.qualifyContractsAsync(Stock(sim.universe[1], "SMART", "USD"))
                assert ok[0] is not None and ok[0].conId
            finally:
                ib.disconnect()

    run(body)


def test_stall_swallows_requests() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, _ = await connect(sim)
            try:
                sim.inject_fault("stall", msg_id=9, count=1)
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(
                        ib.reqContractDetailsAsync(Stock(sim.universe[0], "SMART", "USD")), 1.0
                    )
                details = await asyncio.wait_for(
                    ib.reqContractDetailsAsync(Stock(sim.universe[0], "SMART", "USD")), 5.0
                )
                assert len(details) == 1
                assert sim.armed_faults == []
                # a stalled placeOrder is never answered: the trade stays PendingSubmit
                c = details[0].contract
                sim.inject_fault("stall", msg_id=3)
                t = ib.placeOrder(c, MarketOrder("BUY", 1))
                # a round trip after it: an answer to the order would have come before this
                await asyncio.wait_for(ib.reqCurrentTimeAsync(), 5.0)
                assert sim.orders() == [] and sim.positions() == {}
                assert t.orderStatus.status == "PendingSubmit"
            finally:
                ib.disconnect()

    run(body)


def test_server_version_176_layouts_with_reconnect() -> None:
    """ib_insync's version: faProfile present, no pendingPriceRevision; checked with ib_async."""

    async def body() -> None:
        async with tws(max_server_version=176) as sim:
            ib, _ = await connect(sim, client_id=4)
            sym = sim.universe[3]
            c = await _stock(ib, sym)
            assert ib.client.serverVersion() == 176
            t = ib.placeOrder(c, MarketOrder("BUY", 3))
            await wait_until(t.isDone)
            await wait_until(lambda: t.fills and t.fills[0].commissionReport.commission > 0)
            assert t.order.permId > 0 and t.fills[0].execution.shares == 3
            r = ib.placeOrder(c, LimitOrder("SELL", 3, round(sim.quote(sym)[1] * 1.5, 2)))
            await wait_until(lambda: r.orderStatus.status == "Submitted")
            ib.disconnect()
            await wait_until(lambda: sim.connections == 0)
            ib2, _ = await connect(sim, client_id=4)
            try:
                assert [x.order.permId for x in ib2.openTrades()] == [r.order.permId]
                assert ib2.openTrades()[0].order.lmtPrice == r.order.lmtPrice
                [done] = [x for x in ib2.trades() if x.order.permId == t.order.permId]
                assert done.orderStatus.status == "Filled" and done.order.totalQuantity == 3
                assert len(ib2.fills()) == 1
            finally:
                ib2.disconnect()

    run(body)


def test_cli_prints_urls_and_serves() -> None:
    async def body() -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "openclaw.sim.tws",
            "--port",
            "0",
            "--universe",
            "20",
            "--seed",
            "3",
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 20.0)
            info = json.loads(line)
            host, port = info["urls"]["tws"]["host"], info["urls"]["tws"]["port"]
            assert host == "127.0.0.1" and port > 0
            ib = IB()
            await ib.connectAsync(host, port, clientId=1, timeout=10)
            assert ib.managedAccounts() == ["DU1234567"]
            ib.disconnect()
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            rc = await asyncio.wait_for(proc.wait(), 10.0)
        assert rc == 0

    run(body)
