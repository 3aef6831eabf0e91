"""The trading side of the control API: truth endpoints, balances, config, fault validation."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import ccxt.async_support as ccxt
import pytest
from support.ccxtclient import SYMBOL, D, Env, make_client, run, sim_get, sim_post, with_env


def test_truth_endpoints_and_balance_reset() -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        o = await ex.create_order(SYMBOL, "market", "buy", 0.002, None, {"clientOrderId": "t1"})
        await ex.create_order("ETH/USDT", "limit", "buy", 0.1, 1000.0, {"clientOrderId": "t2"})
        orders = (await sim_get(env.base, "/_sim/orders"))["orders"]
        assert [(x["id"], x["client_id"], x["status"]) for x in orders] == [
            (int(o["id"]), "t1", "filled"),
            (orders[1]["id"], "t2", "new"),
        ]
        assert orders[0]["fills"] and orders[0]["filled"] == "0.002"
        only_open = (await sim_get(env.base, "/_sim/orders?open=1"))["orders"]
        assert [x["client_id"] for x in only_open] == ["t2"]
        btc = (await sim_get(env.base, "/_sim/orders?symbol=BTC/USDT"))["orders"]
        assert [x["client_id"] for x in btc] == ["t1"]
        trades = (await sim_get(env.base, "/_sim/trades?symbol=BTCUSDT"))["trades"]
        assert sum(Decimal(t["qty"]) for t in trades) == Decimal("0.002")
        assert {t["order_id"] for t in trades} == {int(o["id"])}
        status = await sim_get(env.base, "/_sim/status")
        assert status["trading"]["orders"] == 2 and status["trading"]["open_orders"] == 1
        assert "order_timeout" in status["fault_kinds"]
        bal = (await sim_get(env.base, "/_sim/balances"))["balances"]
        assert bal["USDT"]["locked"] == "100"
        # balances cannot be replaced under open orders; afterwards they can
        code, info = await sim_post(env.base, "/_sim/balances", {"USDT": "5"})
        assert code == 400 and "open orders" in info["error"]
        await ex.cancel_order(None, "ETH/USDT", {"clientOrderId": "t2"})
        code, info = await sim_post(
            env.base, "/_sim/balances", {"balances": {"USDT": "5", "SOL": "1.5"}}
        )
        assert code == 200 and info["balances"]["SOL"]["total"] == "1.5"
        fetched = await ex.fetch_balance()
        assert D(fetched["USDT"]["total"]) == 5 and D(fetched["SOL"]["free"]) == Decimal("1.5")
        with pytest.raises(ccxt.InsufficientFunds):
            await ex.create_order(SYMBOL, "market", "buy", 0.001, None)

    with_env("binance", body)


def test_config_faults_and_python_api() -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        # fees from the control API
        code, cfg = await sim_post(env.base, "/_sim/config", {"taker_fee": "0.002"})
        assert code == 200 and cfg["trading"]["taker_fee"] == "0.002"
        o = await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "f1"})
        fees = [D(t["fee"]["cost"]) for t in await ex.fetch_order_trades(o["id"], SYMBOL)]
        assert sum(fees) == Decimal("0.00002")
        # bad fault requests are refused with 400
        for bad in (
            {"kind": "order_reject", "scope": "all"},
            {"kind": "partial_fill", "ratio": 1.5},
            {"kind": "server_error", "status": 404},
            {"kind": "server_error", "bogus": 1},
            {"kind": "order_reject", "symbol": "DOGE/USDT"},
        ):
            code, info = await sim_post(env.base, "/_sim/fault", bad)
            assert code == 400, (bad, info)
        # the same faults from Python
        env.sims.okx.inject_fault("order_reject", "BTC-USDT")
        assert len(env.sims.okx.trading.faults) == 1
        env.sims.okx.trading.faults.clear()
        # a client that asks the venue for its clock copes with a skewed venue
        await sim_post(env.base, "/_sim/config", {"time_offset_ms": 120_000})
        with pytest.raises(ccxt.InvalidNonce):
            await ex.fetch_balance()
        synced = make_client("binance", env.base, options={"adjustForTimeDifference": True})
        try:
            await synced.load_markets()
            assert D((await synced.fetch_balance())["BTC"]["total"]) > 2
        finally:
            await synced.close()

    with_env("binance", body)


def test_trading_can_be_turned_off() -> None:
    async def main() -> None:
        from openclaw.sim import start_simulators

        sims = await start_simulators(seed=3, paused=True, trading=False)
        try:
            assert sims.binance.trading is None
            async with aiohttp.ClientSession() as s:
                async with s.get(sims.urls["binance"]["rest"] + "/api/v3/exchangeInfo") as r:
                    assert r.status == 404
                async with s.get(
                    sims.urls["okx"]["rest"] + "/api/v5/market/books?instId=BTC-USDT"
                ) as r:
                    assert r.status == 200
            assert "order_reject" not in sims.okx.fault_kinds
        finally:
            await sims.aclose()

    run(main)
