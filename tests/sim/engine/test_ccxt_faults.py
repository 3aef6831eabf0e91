"""Trading faults through the control API (POST /_sim/fault) as the real ccxt clients see them."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt.async_support as ccxt
import pytest
from support.ccxtclient import SYMBOL, VENUES, D, Env, cid_params, client_id, sim_post, with_env

#: (venue, status) -> the ccxt exception of a 5xx on create_order
SERVER_ERRORS = {
    ("binance", 500): ccxt.OperationFailed,  # JSON -1000
    ("binance", 502): ccxt.ExchangeNotAvailable,  # HTML
    ("binance", 503): ccxt.OperationFailed,  # JSON -1001
    ("binance", 504): ccxt.RequestTimeout,
    ("okx", 500): ccxt.ExchangeNotAvailable,  # 50026
    ("okx", 502): ccxt.ExchangeNotAvailable,
    ("okx", 503): ccxt.OnMaintenance,  # 50001
    ("okx", 504): ccxt.RequestTimeout,
    ("bybit", 500): ccxt.ExchangeNotAvailable,
    ("bybit", 502): ccxt.ExchangeNotAvailable,
    ("bybit", 503): ccxt.ExchangeNotAvailable,
    ("bybit", 504): ccxt.RequestTimeout,
}
#: (venue, status) -> (ccxt exception, headers the reply must carry)
RATE_LIMITS = {
    ("binance", 429): (ccxt.DDoSProtection, ("Retry-After", "X-MBX-USED-WEIGHT-1M")),
    ("binance", 418): (ccxt.DDoSProtection, ("Retry-After", "X-MBX-USED-WEIGHT-1M")),
    ("okx", 429): (ccxt.RateLimitExceeded, ()),
    ("bybit", 200): (
        ccxt.RateLimitExceeded,
        ("X-Bapi-Limit-Status", "X-Bapi-Limit-Reset-Timestamp"),
    ),
    ("bybit", 429): (
        ccxt.RateLimitExceeded,
        ("X-Bapi-Limit-Status", "X-Bapi-Limit-Reset-Timestamp"),
    ),
    ("bybit", 403): (ccxt.RateLimitExceeded, ()),
}
PARTIAL_IOC = {"binance": "expired", "okx": "canceled", "bybit": "closed"}


async def buy(env: Env, tag: str, amount: float = 0.001, symbol: str = SYMBOL) -> dict:
    return await env.ex.create_order(
        symbol, "market", "buy", amount, None, {"clientOrderId": client_id(env.venue, tag)}
    )


@pytest.mark.parametrize("venue", VENUES)
def test_reject_server_error_and_rate_limit(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        balances = await env.truth_balances()
        # order_reject: the venue's rejection, nothing executed; count and symbol targeting
        await env.fault("order_reject")
        with pytest.raises(ccxt.InvalidOrder):
            await buy(env, "rej1")
        await env.fault("order_reject", symbol="ETH/USDT", count=2)
        await buy(env, "ok1")  # BTC/USDT is not targeted
        for n in range(2):
            with pytest.raises(ccxt.InvalidOrder):
                await buy(env, f"rejeth{n}", 0.01, "ETH/USDT")
        await buy(env, "oketh", 0.01, "ETH/USDT")
        assert [o["client_id"][2:] for o in await env.truth_orders()] == ["ok1", "oketh"]
        # a reject with the caller's own code (here: insufficient funds)
        code = {"binance": -2010, "okx": "51008", "bybit": 170131}[venue]
        msg = (
            "Account has insufficient balance for requested action." if venue == "binance" else None
        )
        await env.fault("order_reject", code=code, **({"msg": msg} if msg else {}))
        with pytest.raises(ccxt.InsufficientFunds):
            await buy(env, "rej2")
        # server_error: every status, nothing executed
        for status in (500, 502, 503, 504):
            await env.fault("server_error", status=status)
            with pytest.raises(SERVER_ERRORS[(venue, status)]):
                await buy(env, f"err{status}")
        # rate_limit: the venue's status, body and headers
        for (v, status), (exc, headers) in RATE_LIMITS.items():
            if v != venue:
                continue
            await env.fault("rate_limit", status=status, seconds=7)
            with pytest.raises(exc):
                await ex.fetch_balance()
            got = {k.lower() for k in ex.last_response_headers or {}}
            assert {h.lower() for h in headers} <= got, (status, got)
            if venue == "binance":
                assert ex.last_response_headers["Retry-After"] == "7"
        # scope "private": public calls pass, the next signed call fails
        await env.fault("server_error", scope="private")
        await ex.fetch_order_book(SYMBOL, 5)
        with pytest.raises(ccxt.BaseError):
            await ex.fetch_balance()
        assert len(await env.truth_orders()) == 2
        after = await env.truth_balances()
        assert after["BTC"]["total"] > balances["BTC"]["total"]  # only ok1 moved BTC
        status, info = await sim_post(
            env.base, "/_sim/fault", {"kind": "rate_limit", "status": 599}
        )
        assert status == 400 and "status" in info["error"]

    with_env(venue, body)


@pytest.mark.parametrize("venue", VENUES)
def test_timeout_accepts_the_order_and_reconciles_by_client_id(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        await env.fault("order_timeout")
        cid = client_id(venue, "slow1")
        t0 = time.monotonic()
        with pytest.raises(ccxt.RequestTimeout):
            await ex.create_order(SYMBOL, "market", "buy", 0.002, None, {"clientOrderId": cid})
        assert time.monotonic() - t0 < 3.0
        # the venue executed it: reconcile by client id
        got = await ex.fetch_order(None, SYMBOL, cid_params(venue, cid))
        assert got["clientOrderId"] == cid and got["status"] == "closed"
        assert D(got["filled"]) == Decimal("0.002")
        truth = await env.truth_orders()
        assert [(o["client_id"], o["status"]) for o in truth] == [(cid, "filled")]
        bal = await ex.fetch_balance()
        assert D(bal["BTC"]["total"]) == Decimal("2.002") - Decimal("0.000002")
        # held replies are released when the simulator stops (aclose does not hang)
        await env.fault("order_timeout", seconds=60)
        with pytest.raises(ccxt.RequestTimeout):
            await ex.create_order(
                SYMBOL, "market", "buy", 0.001, None, {"clientOrderId": client_id(venue, "slow2")}
            )
        status = await _status(env)
        assert status["trading"]["held_replies"] == 2  # both are still held back

    with_env(venue, body, client={"timeout_ms": 400})


@pytest.mark.parametrize("venue", VENUES)
def test_partial_fill_fault(venue: str) -> None:
    async def body(env: Env) -> None:
        ex = env.ex
        await ex.load_markets()
        await env.fault("partial_fill", ratio=0.25)
        o = await buy(env, "part1", 0.01)
        got = await ex.fetch_order(o["id"], SYMBOL)
        assert D(got["filled"]) == Decimal("0.0025") and got["status"] == PARTIAL_IOC[venue]
        # a GTC limit that crosses: a quarter fills now, the rest rests open
        book = await ex.fetch_order_book(SYMBOL, 5)
        ask = D(book["asks"][0][0])
        amount = min(D(book["asks"][0][1]), Decimal("0.01"))
        await env.fault("partial_fill", ratio=0.5)
        o = await ex.create_order(
            SYMBOL,
            "limit",
            "buy",
            float(amount),
            float(ask),
            {"clientOrderId": client_id(venue, "part2")},
        )
        got = await ex.fetch_order(o["id"], SYMBOL)
        lot = Decimal(env.sims.market.find(venue, SYMBOL, "spot").lot)
        assert D(got["filled"]) == (amount / 2).quantize(lot, "ROUND_DOWN")
        assert got["status"] == "open"
        assert [x["id"] for x in await ex.fetch_open_orders(SYMBOL)] == [o["id"]]
        # without the fault the same order fills completely
        o = await ex.create_order(
            SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": client_id(venue, "full")}
        )
        assert D((await ex.fetch_order(o["id"], SYMBOL))["filled"]) == Decimal("0.01")

    with_env(venue, body)


async def _status(env: Env) -> dict:
    from support.ccxtclient import sim_get

    return await sim_get(env.base, "/_sim/status")
