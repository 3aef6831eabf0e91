"""Both routes see one state: orders placed over the trading WebSocket are the REST side's
orders (ccxt sees them) and move the same balances; REST orders can be cancelled over the
WebSocket."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from support.wsapiclient import (
    SYMBOL,
    VENUES,
    VenueWs,
    balances,
    best,
    fetch_by_client_id,
    make_ccxt,
    orders,
    run,
    start,
)


@pytest.mark.parametrize("venue", VENUES)
def test_limit_order_over_ws_is_the_rest_order(venue: str) -> None:
    async def body() -> None:
        sims = await start()
        ex = make_ccxt(venue, sims.urls[venue]["rest"])
        ws = await VenueWs.connect(sims, venue)
        try:
            base = sims.urls[venue]["rest"]
            bid, _ = await best(base, SYMBOL[venue])
            price = bid - Decimal("100")
            before = await balances(base)
            cid = f"{venue[:2]}lim1"
            reply = await ws.place_wait("buy", "0.01", f"{price:f}", cid)
            assert ws.accepted(reply), reply
            oid = ws.order_id(reply)

            rest = await fetch_by_client_id(ex, venue, cid)
            assert str(rest["id"]) == oid
            assert rest["status"] == "open"
            assert Decimal(str(rest["price"])) == price
            after = await balances(base)
            locked = price * Decimal("0.01")
            assert after["USDT"]["locked"] - before["USDT"]["locked"] == locked
            assert after["USDT"]["total"] == before["USDT"]["total"]

            cancel = await ws.cancel(cid)
            assert ws.accepted(cancel), cancel
            rest = await fetch_by_client_id(ex, venue, cid)
            assert rest["status"] == "canceled"
            assert (await balances(base))["USDT"] == before["USDT"]
        finally:
            await ws.client.close()
            await ex.close()
            await sims.aclose()

    run(body)


@pytest.mark.parametrize("venue", VENUES)
def test_market_fill_over_ws_moves_the_shared_balances(venue: str) -> None:
    async def body() -> None:
        sims = await start()
        ex = make_ccxt(venue, sims.urls[venue]["rest"])
        ws = await VenueWs.connect(sims, venue)
        try:
            base = sims.urls[venue]["rest"]
            before = await balances(base)
            cid = f"{venue[:2]}mkt1"
            reply = await ws.place_wait("buy", "0.01", None, cid)
            assert ws.accepted(reply), reply
            (truth,) = [o for o in await orders(base) if o["client_id"] == cid]
            assert truth["status"] == "filled"
            assert Decimal(truth["filled"]) == Decimal("0.01")
            cost, fee = Decimal(truth["cost"]), Decimal(truth["fee"])
            assert cost > 0 and fee > 0
            after = await balances(base)
            assert after["USDT"]["total"] == before["USDT"]["total"] - cost
            assert after["BTC"]["total"] == before["BTC"]["total"] + Decimal("0.01") - fee

            rest = await fetch_by_client_id(ex, venue, cid)
            assert str(rest["id"]) == ws.order_id(reply)
            assert rest["status"] == "closed"
            assert Decimal(str(rest["filled"])) == Decimal("0.01")
            bal = await ex.fetch_balance()
            assert Decimal(str(bal["BTC"]["total"])) == after["BTC"]["total"]
        finally:
            await ws.client.close()
            await ex.close()
            await sims.aclose()

    run(body)


@pytest.mark.parametrize("venue", VENUES)
def test_rest_order_is_cancelled_over_ws(venue: str) -> None:
    async def body() -> None:
        sims = await start()
        ex = make_ccxt(venue, sims.urls[venue]["rest"])
        ws = await VenueWs.connect(sims, venue)
        try:
            base = sims.urls[venue]["rest"]
            _, ask = await best(base, SYMBOL[venue])
            cid = f"{venue[:2]}rest1"
            params = {"orderLinkId": cid} if venue == "bybit" else {"clientOrderId": cid}
            created = await ex.create_order(
                "BTC/USDT", "limit", "sell", 0.01, float(ask + 500), params
            )
            cancel = await ws.cancel(cid)
            assert ws.accepted(cancel), cancel
            rest = await ex.fetch_order(created["id"], "BTC/USDT")
            assert rest["status"] == "canceled"
            again = await ws.cancel(cid)
            assert not ws.accepted(again)
            expected = {"binance": "-2011", "okx": "51401", "bybit": "170213"}[venue]
            assert ws.error_code(again) == expected
        finally:
            await ws.client.close()
            await ex.close()
            await sims.aclose()

    run(body)


@pytest.mark.parametrize("venue", VENUES)
def test_order_without_login_is_refused_and_not_placed(venue: str) -> None:
    async def body() -> None:
        sims = await start()
        ws = await VenueWs.connect(sims, venue, login=False)
        try:
            base = sims.urls[venue]["rest"]
            if venue == "binance":
                # No apiKey/signature and no session.logon.
                req = {
                    "id": "u1",
                    "method": "order.place",
                    "params": {
                        "symbol": "BTCUSDT",
                        "side": "BUY",
                        "type": "MARKET",
                        "quantity": "0.01",
                        "timestamp": 1,
                    },
                }
                reply = await ws.client.request(req)
                assert reply["status"] == 400
                assert reply["error"]["code"] == -1102
                assert "apiKey" in reply["error"]["msg"]
            else:
                reply = await ws.place_wait("buy", "0.01", None, f"{venue[:2]}nolog")
                assert ws.error_code(reply) == {"okx": "60011", "bybit": "10003"}[venue]
            assert await orders(base) == []
        finally:
            await ws.client.close()
            await sims.aclose()

    run(body)


def test_three_legs_on_three_sockets_concurrently() -> None:
    """One order per venue sent back to back, all acknowledged (the arbitrage shape)."""

    async def body() -> None:
        sims = await start()
        socks = [await VenueWs.connect(sims, v) for v in VENUES]
        try:
            rids = [await s.place("buy", "0.001", None, f"{s.venue[:2]}leg1") for s in socks]
            replies = await asyncio.gather(
                *(s.client.reply_to(r) for s, r in zip(socks, rids, strict=True))
            )
            for s, reply in zip(socks, replies, strict=True):
                assert s.accepted(reply), reply
            for v in VENUES:
                found = [o for o in await orders(sims.urls[v]["rest"]) if o["status"] == "filled"]
                assert len(found) == 1
        finally:
            for s in socks:
                await s.client.close()
            await sims.aclose()

    run(body)
