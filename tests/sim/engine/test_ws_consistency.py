"""Liquidity taken by a REST order is published on the venue's depth WebSocket at once."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from support.ccxtclient import SYMBOL, VENUES, Env, client_id, with_env
from websockets.asyncio.client import connect


async def recv(ws: Any, timeout: float = 3.0) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def apply(book: dict[Decimal, Decimal], levels: list[list[str]]) -> None:
    for level in levels:
        px, sz = Decimal(level[0]), Decimal(level[1])
        if sz == 0:
            book.pop(px, None)
        else:
            book[px] = sz


async def subscribe(
    env: Env, ws: Any
) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal], Any]:
    """Subscribe to BTC/USDT depth; return (bids, asks, sequence marker) of the initial book."""
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    if env.venue == "binance":
        url = env.base + "/api/v3/depth?symbol=BTCUSDT&limit=1000"
        async with aiohttp.ClientSession() as s, s.get(url) as r:
            snap = json.loads(await r.text())
        apply(bids, snap["bids"])
        apply(asks, snap["asks"])
        return bids, asks, snap["lastUpdateId"]
    if env.venue == "okx":
        await ws.send(
            json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]})
        )
        assert (await recv(ws))["event"] == "subscribe"
        snap = await recv(ws)
        assert snap["action"] == "snapshot"
        apply(bids, snap["data"][0]["bids"])
        apply(asks, snap["data"][0]["asks"])
        return bids, asks, snap["data"][0]["seqId"]
    await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}))
    assert (await recv(ws))["success"] is True
    snap = await recv(ws)
    assert snap["type"] == "snapshot"
    apply(bids, snap["data"]["b"])
    apply(asks, snap["data"]["a"])
    return bids, asks, snap["data"]["u"]


def ws_url(env: Env) -> str:
    urls = env.sims.urls[env.venue]
    if env.venue == "binance":
        return urls["ws_raw"] + "/btcusdt@depth@100ms"
    return urls["ws"] if env.venue == "okx" else urls["ws_spot"]


@pytest.mark.parametrize("venue", VENUES)
def test_taken_liquidity_is_published_as_a_depth_update(venue: str) -> None:
    async def body(env: Env) -> None:
        await env.ex.load_markets()
        async with connect(ws_url(env)) as ws:
            bids, asks, marker = await subscribe(env, ws)
            best = sorted(asks)[:3]
            amount = asks[best[0]] + asks[best[1]] / 2
            lot = Decimal(env.sims.market.find(venue, SYMBOL, "spot").lot)
            amount = amount.quantize(lot, "ROUND_DOWN")
            await env.ex.create_order(
                SYMBOL,
                "market",
                "buy",
                float(amount),
                None,
                {"clientOrderId": client_id(venue, "ws1")},
            )
            msg = await recv(ws)  # the clock is paused: this can only be the trade's update
            if venue == "binance":
                assert msg["U"] == marker + 1
                changes_b, changes_a = msg["b"], msg["a"]
            elif venue == "okx":
                assert msg["action"] == "update" and msg["data"][0]["prevSeqId"] == marker
                changes_b, changes_a = msg["data"][0]["bids"], msg["data"][0]["asks"]
            else:
                assert msg["type"] == "delta" and msg["data"]["u"] == marker + 1
                changes_b, changes_a = msg["data"]["b"], msg["data"]["a"]
            assert changes_b == []
            sent = {Decimal(px): Decimal(sz) for px, sz, *_ in changes_a}
            assert sent[best[0]] == 0
            assert sent[best[1]] == asks[best[1]] - (amount - asks[best[0]])
            apply(bids, changes_b)
            apply(asks, changes_a)
            true = await env.true_book(depth=50)
            assert [[Decimal(p), Decimal(s)] for p, s in true["asks"]] == [
                [p, asks[p]] for p in sorted(asks)[:50]
            ]
            assert [[Decimal(p), Decimal(s)] for p, s in true["bids"]] == [
                [p, bids[p]] for p in sorted(bids, reverse=True)[:50]
            ]
            # the next clock step goes on from the changed book
            env.sims.clock.step(1)
            nxt = await recv(ws)
            if venue == "binance":
                assert nxt["U"] == msg["u"] + 1
            elif venue == "okx":
                assert nxt["data"][0]["prevSeqId"] == msg["data"][0]["seqId"]
            else:
                assert nxt["data"]["u"] == msg["data"]["u"] + 1

    with_env(venue, body)
