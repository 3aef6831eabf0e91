"""Bybit v5 simulator over real loopback sockets with the ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from support.simclient import PlainBook, assert_same_book, get_json, recv_json, recv_until, run
from websockets.asyncio.client import ClientConnection, connect

from openclaw.sim import BybitSim, MarketClock, SyntheticMarket


def _sub(*topics: str, req_id: str | None = None, op: str = "subscribe") -> str:
    req: dict[str, Any] = {"op": op, "args": list(topics)}
    if req_id is not None:
        req["req_id"] = req_id
    return json.dumps(req)


async def _follow(ws: ClientConnection, book: PlainBook, last_u: int, until_u: int) -> int:
    while last_u != until_u:
        msg = await recv_json(ws)
        assert msg["type"] == "delta" and msg["data"]["u"] == last_u + 1
        book.apply(msg["data"]["b"], msg["data"]["a"])
        last_u = msg["data"]["u"]
    return last_u


def test_spot_and_linear_books_rebuild_exactly_at_their_depth() -> None:
    async def body() -> None:
        async with BybitSim(rate=50) as sim:
            async with connect(sim.ws_url("spot")) as spot, connect(sim.ws_url("linear")) as lin:
                await spot.send(_sub("orderbook.50.BTCUSDT", req_id="s1"))
                await lin.send(_sub("orderbook.200.BTCUSDT"))
                ack_s, ack_l = await recv_json(spot), await recv_json(lin)
                assert ack_s == {
                    "success": True,
                    "ret_msg": "subscribe",
                    "conn_id": ack_s["conn_id"],
                    "req_id": "s1",
                    "op": "subscribe",
                }
                assert ack_l == {
                    "success": True,
                    "ret_msg": "",
                    "conn_id": ack_l["conn_id"],
                    "req_id": "",
                    "op": "subscribe",
                }
                books, last = {}, {}
                for name, ws, depth in (("spot", spot, 50), ("linear", lin, 200)):
                    snap = await recv_json(ws)
                    assert snap["type"] == "snapshot"
                    assert snap["topic"] == f"orderbook.{depth}.BTCUSDT"
                    expected_keys = (
                        ["topic", "ts", "type", "data", "cts"]
                        if name == "spot"
                        else ["topic", "type", "ts", "data", "cts"]
                    )
                    assert list(snap) == expected_keys
                    assert list(snap["data"]) == ["s", "b", "a", "u", "seq"]
                    assert len(snap["data"]["b"]) == len(snap["data"]["a"]) == depth
                    books[name] = PlainBook()
                    books[name].load(snap["data"]["b"], snap["data"]["a"])
                    last[name] = snap["data"]["u"]
                    prev_seq = snap["data"]["seq"]
                    for _ in range(15):
                        msg = await recv_json(ws)
                        assert msg["type"] == "delta" and msg["data"]["u"] == last[name] + 1
                        assert msg["data"]["seq"] > prev_seq and msg["ts"] >= msg["cts"]
                        prev_seq = msg["data"]["seq"]
                        books[name].apply(msg["data"]["b"], msg["data"]["a"])
                        assert len(books[name].bids) == len(books[name].asks) == depth
                        last[name] = msg["data"]["u"]
                lin_px = next(iter(books["linear"].raw["bids"].values()))[0]
                assert len(lin_px.split(".")[1]) == 2  # linear keeps the tick decimals
                sim.clock.pause()
                for name, ws, depth in (("spot", spot, 50), ("linear", lin, 200)):
                    truth = sim.true_book("BTCUSDT", name, depth)
                    last[name] = await _follow(ws, books[name], last[name], truth["u"][str(depth)])
                    assert_same_book(books[name], truth)
                    assert not books[name].crossed()

    run(body)


def test_ping_pong_shapes_and_failure_replies() -> None:
    async def body() -> None:
        async with BybitSim(rate=20) as sim:
            async with connect(sim.ws_url("spot")) as ws:
                await ws.send(json.dumps({"op": "ping"}))
                pong = await recv_json(ws)
                assert pong == {
                    "success": True,
                    "ret_msg": "pong",
                    "conn_id": pong["conn_id"],
                    "op": "ping",
                }
                await ws.send(_sub("orderbook.50.NOPEUSDT"))
                fail = await recv_json(ws)
                assert fail["success"] is False and fail["op"] == "subscribe"
                assert fail["ret_msg"] == "Invalid symbol :[orderbook.50.NOPEUSDT]"
                await ws.send(_sub("orderbook.7.BTCUSDT"))
                assert "handler not found" in (await recv_json(ws))["ret_msg"]
                await ws.send(_sub(*[f"orderbook.50.X{i}" for i in range(11)]))
                assert (await recv_json(ws))["success"] is False
                await ws.send(_sub("orderbook.1.ETHUSDT"))
                await recv_json(ws)
                await ws.send(_sub("orderbook.1.ETHUSDT"))
                again, _ = await recv_until(ws, lambda m: "success" in m)
                assert again["success"] is False and "already subscribed" in again["ret_msg"]
            async with connect(sim.ws_url("linear")) as ws:
                await ws.send(json.dumps({"op": "ping", "req_id": "p1"}))
                assert (await recv_json(ws))["req_id"] == "p1"
                await ws.send(_sub("orderbook.50.ETHBTC"))  # spot-only symbol
                assert (await recv_json(ws))["ret_msg"] == "Invalid symbol :[orderbook.50.ETHBTC]"

    run(body)


def test_reset_u1_and_resend_snapshot_faults() -> None:
    async def body() -> None:
        clock = MarketClock(SyntheticMarket(seed=21), paused=True)
        async with BybitSim(clock=clock) as sim, connect(sim.ws_url("spot")) as ws:
            await ws.send(_sub("orderbook.200.ETHUSDT"))
            await recv_json(ws)
            snap = await recv_json(ws)
            book = PlainBook()
            book.load(snap["data"]["b"], snap["data"]["a"])
            clock.step(5)
            u = await _follow(ws, book, snap["data"]["u"], sim.true_book("ETHUSDT")["u"]["200"])
            sim.inject_fault("reset", "ETHUSDT", category="spot")
            reset = await recv_json(ws)
            assert reset["type"] == "snapshot" and reset["data"]["u"] == 1
            book.load(reset["data"]["b"], reset["data"]["a"])
            clock.step(3)
            u = await _follow(ws, book, 1, sim.true_book("ETHUSDT")["u"]["200"])
            sim.inject_fault("snapshot", "ETHUSDT")
            again = await recv_json(ws)
            assert again["type"] == "snapshot" and again["data"]["u"] == u + 1
            book.load(again["data"]["b"], again["data"]["a"])
            assert_same_book(book, sim.true_book("ETHUSDT", "spot", 200))

    run(body)


def test_level1_is_snapshot_only_and_repushed_with_same_u() -> None:
    async def body() -> None:
        clock = MarketClock(SyntheticMarket(seed=2), paused=True)
        async with BybitSim(clock=clock, level1_repush_s=0.3) as sim:
            async with connect(sim.ws_url("linear")) as ws:
                await ws.send(_sub("orderbook.1.BTCUSDT"))
                await recv_json(ws)
                first = await recv_json(ws)
                repeat = await recv_json(ws, 2)
                assert first["type"] == repeat["type"] == "snapshot"
                assert repeat["data"]["u"] == first["data"]["u"]
                assert repeat["data"]["b"] == first["data"]["b"]
                assert len(first["data"]["b"]) == len(first["data"]["a"]) == 1
                clock.step(10)
                msg, _ = await recv_until(ws, lambda m: m["data"]["u"] != first["data"]["u"])
                assert msg["type"] == "snapshot" and msg["data"]["u"] > first["data"]["u"]

    run(body)


def test_rest_orderbook_u_is_the_1000_level_u() -> None:
    async def body() -> None:
        clock = MarketClock(SyntheticMarket(seed=5), paused=True)
        async with BybitSim(clock=clock) as sim, connect(sim.ws_url("spot")) as ws:
            await ws.send(_sub("orderbook.1000.BTCUSDT"))
            await recv_json(ws)
            snap = await recv_json(ws)
            clock.step(4)
            await asyncio.sleep(0.1)
            status, rest = await get_json(sim.rest_orderbook_url("BTCUSDT", "spot", 1000))
            assert status == 200 and rest["retCode"] == 0 and rest["retMsg"] == "OK"
            res = rest["result"]
            assert list(res) == ["s", "b", "a", "ts", "u", "seq", "cts"]
            assert res["u"] > snap["data"]["u"]
            book = PlainBook()
            book.load(snap["data"]["b"], snap["data"]["a"])
            await _follow(ws, book, snap["data"]["u"], res["u"])
            rest_book = PlainBook()
            rest_book.load(res["b"], res["a"])
            assert book.bids == rest_book.bids and book.asks == rest_book.asks
            _, err = await get_json(sim.url + "/v5/market/orderbook?category=spot&symbol=NOPE")
            assert err["retCode"] == 10001 and err["retMsg"] == "params error: symbol invalid"

    run(body)
