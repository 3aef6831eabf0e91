"""OKX private WebSocket: batch orders, the ``orders`` channel (pushes for orders of both
routes) and the reply envelope."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from support.wsapiclient import VenueWs, WsClient, best, make_ccxt, orders, run, start

from openclaw.sim.okx.rest import inst_id_code


async def _push(c: WsClient, pred: Any, timeout: float = 10.0) -> dict[str, Any]:
    """The first ``orders`` push (kept or new) whose data row satisfies ``pred``."""
    deadline = asyncio.get_running_loop().time() + timeout
    seen = 0
    while True:
        for msg in c.pushes[seen:]:
            if isinstance(msg, dict) and msg.get("arg", {}).get("channel") == "orders":
                if pred(msg["data"][0]):
                    return msg
        seen = len(c.pushes)
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"no matching push in {c.pushes}"
        try:
            c.pushes.append(await c.recv(left))
        except TimeoutError:
            continue


def test_orders_channel_and_batch() -> None:
    async def body() -> None:
        sims = await start()
        base = sims.urls["okx"]["rest"]
        ex = make_ccxt("okx", base)
        c = await WsClient.open(sims.urls["okx"]["ws_private"], "id")
        try:
            await c.send(
                {"id": "s0", "op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]}
            )
            msg = await c.recv()
            assert msg["event"] == "error" and msg["code"] == "60011"
            ws = VenueWs("okx", c)
            await ws.login()
            await c.send(
                {"id": "s1", "op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]}
            )
            ack = await c.reply_to("s1")
            assert ack["event"] == "subscribe"
            assert ack["arg"] == {"channel": "orders", "instType": "SPOT"}

            # A WebSocket market order: reply, then a push with the fill.
            reply = await ws.place_wait("buy", "0.002", None, "okpush1")
            assert set(reply) == {"id", "op", "data", "code", "msg", "inTime", "outTime"}
            assert reply["op"] == "order" and reply["code"] == "0"
            row = reply["data"][0]
            assert set(row) >= {"ordId", "clOrdId", "tag", "sCode", "sMsg", "ts"}
            push = await _push(c, lambda d: d["clOrdId"] == "okpush1")
            data = push["data"][0]
            assert push["arg"]["channel"] == "orders" and push["arg"]["instType"] == "SPOT"
            assert data["state"] == "filled" and data["ordId"] == row["ordId"]
            assert Decimal(data["accFillSz"]) == Decimal("0.002")
            assert data["execType"] == "T" and data["fillFeeCcy"] == "BTC"

            # A REST order shows up on the channel too; cancelling it over WS pushes again.
            bid, _ = await best(base, "BTC-USDT")
            await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.001, float(bid - 200), {"clientOrderId": "okrest1"}
            )
            live = await _push(c, lambda d: d["clOrdId"] == "okrest1")
            assert live["data"][0]["state"] == "live"
            cancel = await ws.cancel("okrest1")
            assert cancel["op"] == "cancel-order" and cancel["data"][0]["sCode"] == "0"
            gone = await _push(c, lambda d: d["clOrdId"] == "okrest1" and d["state"] != "live")
            assert gone["data"][0]["state"] == "canceled"

            # batch-orders: one good, one refused -> code "2" with per-order sCode.
            batch = {
                "id": "b1",
                "op": "batch-orders",
                "args": [
                    {
                        "instIdCode": inst_id_code("BTC-USDT"),
                        "tdMode": "cash",
                        "side": "buy",
                        "ordType": "limit",
                        "px": f"{bid - 300:f}",
                        "sz": "0.001",
                        "clOrdId": "okb1",
                    },
                    {
                        "instIdCode": inst_id_code("BTC-USDT"),
                        "tdMode": "cash",
                        "side": "buy",
                        "ordType": "limit",
                        "px": f"{bid - 300:f}",
                        "sz": "50",
                        "clOrdId": "okb2",
                    },
                ],
            }
            r = await c.request(batch)
            assert r["code"] == "2"
            assert [d["sCode"] for d in r["data"]] == ["0", "51008"]
            cancel_all = {
                "id": "cb",
                "op": "batch-cancel-orders",
                "args": [
                    {"instIdCode": inst_id_code("BTC-USDT"), "clOrdId": "okb1"},
                    {"instIdCode": inst_id_code("BTC-USDT"), "clOrdId": "okb2"},
                ],
            }
            r = await c.request(cancel_all)
            assert r["code"] == "2" and r["data"][0]["sCode"] == "0"
            assert r["data"][1]["sCode"] == "51400"
            # Malformed order op: two args for "order".
            r = await c.request({"id": "m", "op": "order", "args": [batch["args"][0]] * 2})
            assert r["code"] == "60013" and r["data"] == []
            states = {o["client_id"]: o["status"] for o in await orders(base)}
            assert states == {"okpush1": "filled", "okrest1": "canceled", "okb1": "canceled"}
        finally:
            await c.close()
            await ex.close()
            await sims.aclose()

    run(body)


def test_ws_order_without_inst_id_code_is_refused_as_production_does() -> None:
    """Since 2026-03 OKX production refuses WebSocket orders named by ``instId`` alone:
    ``sCode`` 50014 "Parameter instIdCode can not be empty." (docs/venues/okx.md); REST is
    unchanged, and ``public/instruments`` publishes each code."""

    async def body() -> None:
        sims = await start()
        base = sims.urls["okx"]["rest"]
        ex = make_ccxt("okx", base)
        c = await WsClient.open(sims.urls["okx"]["ws_private"], "id")
        try:
            markets = await ex.load_markets()
            assert markets["BTC/USDT"]["info"]["instIdCode"] == inst_id_code("BTC-USDT")
            ws = VenueWs("okx", c)
            await ws.login()
            old = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market",
                   "sz": "0.001", "tgtCcy": "base_ccy", "clOrdId": "nocode1"}
            r = await c.request({"id": "n1", "op": "order", "args": [old]})
            assert r["code"] == "1"
            assert r["data"][0]["sCode"] == "50014"
            assert r["data"][0]["sMsg"] == "Parameter instIdCode can not be empty."
            bad = {**old, "instIdCode": 1, "clOrdId": "nocode2"}
            r = await c.request({"id": "n2", "op": "order", "args": [bad]})
            assert r["code"] == "1" and r["data"][0]["sCode"] == "51001"
            assert not [o for o in await orders(base) if o["client_id"].startswith("nocode")]
            good = {**old, "instIdCode": inst_id_code("BTC-USDT"), "clOrdId": "code1"}
            r = await c.request({"id": "n3", "op": "order", "args": [good]})
            assert r["code"] == "0" and r["data"][0]["ordId"]
        finally:
            await c.close()
            await ex.close()
            await sims.aclose()

    run(body)
