"""Faults injected through ``POST /_sim/fault`` hit the trading WebSocket APIs too (and the
WebSocket-only ``drop_ws``)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import websockets
from support.wsapiclient import (
    VENUES,
    VenueWs,
    fault,
    fetch_by_client_id,
    make_ccxt,
    orders,
    run,
    start,
)

REJECT = {"binance": "-1013", "okx": "51006", "bybit": "170193"}
SERVER_ERROR = {"binance": "-1001", "okx": "50001", "bybit": "10016"}
RATE_LIMIT = {"binance": "-1003", "okx": "50011", "bybit": "10006"}


async def _wait_order(base: str, cid: str, timeout: float = 10.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [o for o in await orders(base) if o["client_id"] == cid]
        if found:
            return found[0]
        assert asyncio.get_running_loop().time() < deadline, f"order {cid} never appeared"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("venue", VENUES)
def test_reject_server_error_and_rate_limit(venue: str) -> None:
    async def body() -> None:
        sims = await start()
        base = sims.urls[venue]["rest"]
        ws = await VenueWs.connect(sims, venue)
        try:
            await fault(base, "order_reject")
            r = await ws.place_wait("buy", "0.001", None, f"{venue[:2]}rej")
            assert not ws.accepted(r) and ws.error_code(r) == REJECT[venue], r

            await fault(base, "server_error")
            r = await ws.place_wait("buy", "0.001", None, f"{venue[:2]}5xx")
            assert not ws.accepted(r) and ws.error_code(r) == SERVER_ERROR[venue], r
            if venue == "binance":
                assert r["status"] == 503

            await fault(base, "rate_limit")
            r = await ws.place_wait("buy", "0.001", None, f"{venue[:2]}429")
            assert not ws.accepted(r) and ws.error_code(r) == RATE_LIMIT[venue], r
            if venue == "binance":
                assert r["status"] == 429
                assert r["error"]["data"]["retryAfter"] > r["error"]["data"]["serverTime"]
            assert await orders(base) == []  # none of them executed

            r = await ws.place_wait("buy", "0.001", None, f"{venue[:2]}ok")
            assert ws.accepted(r)
        finally:
            await ws.client.close()
            await sims.aclose()

    run(body)


@pytest.mark.parametrize("venue", VENUES)
def test_partial_fill(venue: str) -> None:
    async def body() -> None:
        sims = await start()
        base = sims.urls[venue]["rest"]
        ws = await VenueWs.connect(sims, venue)
        try:
            await fault(base, "partial_fill", ratio=0.5)
            cid = f"{venue[:2]}part"
            r = await ws.place_wait("buy", "0.01", None, cid)
            assert ws.accepted(r)
            order = await _wait_order(base, cid)
            assert Decimal(order["filled"]) == Decimal("0.005")
            assert order["status"] in ("expired", "canceled")
        finally:
            await ws.client.close()
            await sims.aclose()

    run(body)


@pytest.mark.parametrize("venue", VENUES)
def test_order_timeout_accepts_but_never_answers(venue: str) -> None:
    async def body() -> None:
        sims = await start()
        base = sims.urls[venue]["rest"]
        ex = make_ccxt(venue, base)
        ws = await VenueWs.connect(sims, venue)
        try:
            await fault(base, "order_timeout", seconds=600)
            cid = f"{venue[:2]}tmo"
            await ws.place("buy", "0.001", None, cid)
            assert await ws.client.silent_for(1.0)
            order = await _wait_order(base, cid)
            assert order["status"] == "filled"
            rest = await fetch_by_client_id(ex, venue, cid)
            assert rest["status"] == "closed"
            # The socket still works for the next request.
            r = await ws.place_wait("buy", "0.001", None, f"{venue[:2]}after")
            assert ws.accepted(r)
        finally:
            await ws.client.close()
            await ex.close()
            await sims.aclose()

    run(body)


def test_order_timeout_reply_comes_late() -> None:
    async def body() -> None:
        sims = await start()
        base = sims.urls["bybit"]["rest"]
        ws = await VenueWs.connect(sims, "bybit")
        try:
            await fault(base, "order_timeout", seconds=2.0)
            rid = await ws.place("buy", "0.001", None, "bylate")
            assert await ws.client.silent_for(0.3)
            r = await ws.client.reply_to(rid, timeout=10)
            assert ws.accepted(r) and r["data"]["orderLinkId"] == "bylate"
        finally:
            await ws.client.close()
            await sims.aclose()

    run(body)


@pytest.mark.parametrize("venue", VENUES)
def test_drop_ws_after_accepting_the_order(venue: str) -> None:
    async def body() -> None:
        sims = await start()
        base = sims.urls[venue]["rest"]
        ex = make_ccxt(venue, base)
        ws = await VenueWs.connect(sims, venue)
        other = await VenueWs.connect(sims, venue)
        try:
            await fault(base, "drop_ws", symbol="BTC/USDT")
            cid = f"{venue[:2]}drop"
            await ws.place("buy", "0.001", None, cid)
            with pytest.raises(websockets.ConnectionClosed):
                await ws.client.recv(10)
            with pytest.raises(websockets.ConnectionClosed):
                await other.client.recv(10)  # every trading socket of the venue
            rest = await fetch_by_client_id(ex, venue, cid)
            assert rest["status"] == "closed" and Decimal(str(rest["filled"])) == Decimal("0.001")
            again = await VenueWs.connect(sims, venue)
            r = await again.place_wait("buy", "0.001", None, f"{venue[:2]}next")
            assert again.accepted(r)  # the fault was used up
            await again.client.close()
        finally:
            await ws.client.close()
            await other.client.close()
            await ex.close()
            await sims.aclose()

    run(body)


def test_ws_fault_validation() -> None:
    async def body() -> None:
        sims = await start()
        try:
            with pytest.raises(Exception, match="unknown"):
                sims.okx.inject_fault("drop_ws", "NOPE-USDT")
            with pytest.raises(ValueError):
                sims.bybit.inject_fault("expire_session", "BTCUSDT")
            assert "drop_ws" in sims.binance.fault_kinds
            status = sims.binance.status()
            assert status["wsapi"]["path"] == "/ws-api/v3"
        finally:
            await sims.aclose()

    run(body)
