"""What the preflight reads from a venue, served by the simulators and changeable through their
control API: instrument status and published tick (``POST /_sim/instrument``), the API key's
permissions (``withdraw_enabled``, ``trade_enabled``, ``ip_restricted`` in ``/_sim/config``)
and the account's fee rates; read with ccxt's own calls, as production code reads them."""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt
import pytest
from support.ccxtclient import SYMBOL, D, Env, sim_post, with_env

VENUE_SYMBOL = {"binance": "BTCUSDT", "okx": "BTC-USDT", "bybit": "BTCUSDT"}
RAW_HALTED = {"binance": ("status", "HALT"), "okx": ("state", "suspend"),
              "bybit": ("status", "Closed")}


async def permissions(env: Env) -> tuple[bool, bool]:
    """(can trade, can withdraw) as each venue's key endpoint says."""
    ex = env.ex
    if env.venue == "binance":
        r = await ex.sapi_get_account_apirestrictions()
        return r["enableSpotAndMarginTrading"], r["enableWithdrawals"]
    if env.venue == "okx":
        perm = (await ex.private_get_account_config())["data"][0]["perm"].split(",")
        return "trade" in perm, "withdraw" in perm
    r = (await ex.private_get_v5_user_query_api())["result"]
    return bool(r["permissions"]["Spot"]) and not r["readOnly"], \
        "Withdraw" in r["permissions"]["Wallet"]


@pytest.mark.parametrize("venue", ["binance", "okx", "bybit"])
def test_halt_tick_and_permissions_through_the_control_api(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        m = (await ex.load_markets())[SYMBOL]
        assert m["active"] is True
        tick = D(m["precision"]["price"])
        assert await permissions(env) == (True, False)

        code, got = await sim_post(env.base, "/_sim/instrument",
                                   {"symbol": VENUE_SYMBOL[venue], "status": "halted",
                                    "tick_size": str(tick * 10)})
        assert code == 200 and got["status"] == "halted", got
        m = (await ex.load_markets(reload=True))[SYMBOL]
        key, value = RAW_HALTED[venue]
        assert m["active"] is False and m["info"][key] == value
        assert D(m["precision"]["price"]) == tick * 10
        with pytest.raises(ccxt.ExchangeError):          # a halted market takes no order
            await ex.create_order(SYMBOL, "market", "buy", 0.001)

        code, _ = await sim_post(env.base, "/_sim/config",
                                 {"withdraw_enabled": True, "trade_enabled": False})
        assert code == 200
        assert await permissions(env) == (False, True)
        code, bad = await sim_post(env.base, "/_sim/instrument",
                                   {"symbol": VENUE_SYMBOL[venue], "status": "closed"})
        assert code == 400 and "trading or halted" in bad["error"]

    with_env(venue, body)


@pytest.mark.parametrize("venue", ["binance", "okx", "bybit"])
def test_trading_fees_are_the_accounts(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        await sim_post(env.base, "/_sim/config", {"taker_fee": "0.00075"})
        if venue == "binance":         # ccxt's bybit fetchTradingFees refuses spot
            fee = (await ex.fetch_trading_fees())[SYMBOL]
        else:
            fee = await ex.fetch_trading_fee(SYMBOL)
        assert D(fee["taker"]) == Decimal("0.00075")

    with_env(venue, body)
