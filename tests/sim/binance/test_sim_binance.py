"""Binance spot simulator over real loopback sockets with the ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from support.simclient import (
    PlainBook,
    assert_same_book,
    drain,
    get_json,
    post_json,
    recv_json,
    recv_until,
    run,
)
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from openclaw.sim import BinanceSim, MarketClock, SyntheticMarket, start_simulators


async def _sync_book(
    ws: Any, rest: str, symbol: str, events: asyncio.Queue[dict[str, Any]]
) -> tuple[PlainBook, int, int]:
    """The documented procedure (docs/venues/binance.md §1.5).

    Returns (book, last u, snapshots fetched)."""
    first = await events.get()
    buffered = [first]
    fetched = 0
    while True:
        status, snap = await get_json(f"{rest}/api/v3/depth?symbol={symbol}&limit=1000")
        fetched += 1
        assert status == 200
        if snap["lastUpdateId"] >= buffered[0]["U"]:
            break
    while not events.empty():
        buffered.append(events.get_nowait())
    book = PlainBook()
    book.load(snap["bids"], snap["asks"])
    last = snap["lastUpdateId"]
    applied_first = False
    for ev in buffered:
        if ev["u"] <= last:
            continue
        if not applied_first:
            assert ev["U"] <= last + 1 <= ev["u"], (ev["U"], ev["u"], last)
            applied_first = True
        else:
            assert ev["U"] == last + 1
        book.apply(ev["b"], ev["a"])
        last = ev["u"]
    return book, last, fetched


async def _reader(ws: Any, out: dict[str, asyncio.Queue[dict[str, Any]]]) -> None:
    async for raw in ws:
        msg = json.loads(raw)
        if "stream" in msg:
            out.setdefault(msg["data"]["s"], asyncio.Queue()).put_nowait(msg["data"])


def test_rest_snapshot_plus_diffs_equals_true_book_on_combined_stream() -> None:
    async def body() -> None:
        async with await start_simulators(seed=4, rate=40) as sims:
            b = sims.urls["binance"]
            queues: dict[str, asyncio.Queue[dict[str, Any]]] = {
                "BTCUSDT": asyncio.Queue(),
                "ETHBTC": asyncio.Queue(),
            }
            url = b["ws"] + "/stream?streams=btcusdt@depth@100ms/ethbtc@depth@100ms"
            async with connect(url) as ws:
                reader = asyncio.create_task(_reader(ws, queues))
                synced = {}
                for sym in ("BTCUSDT", "ETHBTC"):
                    synced[sym] = await _sync_book(ws, b["rest"], sym, queues[sym])
                await asyncio.sleep(0.3)  # a few live events on top of the snapshot
                assert (await post_json(b["control"] + "/_sim/pause"))[0] == 200
                for sym, (book, last, _) in synced.items():
                    status, truth = await get_json(f"{b['control']}/_sim/book?symbol={sym}")
                    assert status == 200 and truth["paused"]
                    while last < truth["lastUpdateId"]:
                        ev = await asyncio.wait_for(queues[sym].get(), 2)
                        assert ev["U"] == last + 1, "contiguous update ids on spot"
                        book.apply(ev["b"], ev["a"])
                        last = ev["u"]
                    assert last == truth["lastUpdateId"]
                    assert len(truth["bids"]) == 250
                    _assert_equal(book, truth)
                reader.cancel()

    run(body)


def _assert_equal(book: PlainBook, truth: dict[str, Any]) -> None:
    assert_same_book(book, truth)
    assert not book.crossed()


def test_raw_stream_payload_and_field_shapes() -> None:
    async def body() -> None:
        async with (
            BinanceSim(rate=50) as sim,
            connect(sim.ws_url("ethusdt@depth@100ms", combined=False)) as ws,
        ):
            events = [await recv_json(ws) for _ in range(5)]
        for prev, ev in zip(events, events[1:], strict=False):
            assert ev["U"] == prev["u"] + 1
        ev = events[0]
        assert list(ev) == ["e", "E", "s", "U", "u", "b", "a"]
        assert ev["e"] == "depthUpdate" and ev["s"] == "ETHUSDT"
        assert isinstance(ev["E"], int) and len(str(ev["E"])) == 13
        assert ev["U"] <= ev["u"]
        for px, sz in ev["b"] + ev["a"]:
            assert len(px.split(".")[1]) == 8 and len(sz.split(".")[1]) == 8

    run(body)


def test_live_subscribe_list_unsubscribe_and_errors() -> None:
    async def body() -> None:
        async with (
            BinanceSim(rate=50, max_incoming_per_s=None) as sim,
            connect(sim.ws_url(combined=False)) as ws,
        ):
            await ws.send(
                json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1})
            )
            ack, _ = await recv_until(ws, lambda m: "id" in m)
            assert ack == {"result": None, "id": 1}
            ev = await recv_json(ws)
            assert ev["e"] == "depthUpdate" and "stream" not in ev  # /ws => raw payloads
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": "abc"}))
            lst, _ = await recv_until(ws, lambda m: m.get("id") == "abc")
            assert lst["result"] == ["btcusdt@depth@100ms"]
            await ws.send(
                json.dumps({"method": "SET_PROPERTY", "params": ["combined", True], "id": 2})
            )
            await recv_until(ws, lambda m: m.get("id") == 2)
            ev, _ = await recv_until(ws, lambda m: "stream" in m)
            assert ev["stream"] == "btcusdt@depth@100ms"
            await ws.send(
                json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 3})
            )
            ack, _ = await recv_until(ws, lambda m: m.get("id") == 3)
            assert ack == {"result": None, "id": 3}
            assert await drain(ws, 0.3) == []
            await ws.send("{not json")
            assert (await recv_json(ws))["code"] == 3
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["BTCUSDT@depth"], "id": 4}))
            assert await recv_json(ws) == {
                "error": {"code": 2, "msg": "Invalid request: invalid stream"},
                "id": 4,
            }
            await ws.send(json.dumps({"method": "SUBSCRIB", "params": [], "id": 5}))
            err = await recv_json(ws)
            assert err["error"]["code"] == 2 and "unknown variant" in err["error"]["msg"]
            await ws.send(json.dumps({"method": "GET_PROPERTY", "params": ["nope"], "id": 6}))
            assert await recv_json(ws) == {"code": 0, "msg": "Unknown property", "id": 6}

    run(body)


def test_rest_errors_like_binance() -> None:
    async def body() -> None:
        async with BinanceSim() as sim:
            assert await get_json(sim.url + "/api/v3/depth?symbol=NOPEUSDT") == (
                400,
                {"code": -1121, "msg": "Invalid symbol."},
            )
            status, err = await get_json(sim.url + "/api/v3/depth")
            assert status == 400 and err["code"] == -1102
            status, err = await get_json(sim.url + "/api/v3/depth?symbol=btcusdt")
            assert status == 400 and err["code"] == -1100
            status, snap = await get_json(sim.url + "/api/v3/depth?symbol=ETHBTC&limit=5")
            assert status == 200 and list(snap) == ["lastUpdateId", "bids", "asks"]
            assert len(snap["bids"]) == 5 and snap["bids"][0][0] > snap["bids"][1][0]
            assert snap["asks"][0][0] < snap["asks"][1][0]

    run(body)


def test_microsecond_time_unit_and_book_ticker_matches_rebuilt_book() -> None:
    async def body() -> None:
        clock = MarketClock(SyntheticMarket(seed=6), paused=True)
        async with BinanceSim(clock=clock) as sim:
            url = sim.ws_url("btcusdt@depth@100ms", "btcusdt@bookTicker") + "&timeUnit=MICROSECOND"
            async with connect(url) as ws:
                await asyncio.sleep(0.05)
                _, snap = await get_json(sim.rest_depth_url("BTCUSDT", 5000))
                book = PlainBook()
                book.load(snap["bids"], snap["asks"])
                last = snap["lastUpdateId"]
                clock.step(20)
                matched = 0
                for raw in await drain(ws):
                    msg = json.loads(raw)
                    data = msg["data"]
                    if msg["stream"].endswith("@depth@100ms"):
                        assert len(str(data["E"])) == 16  # microseconds
                        assert data["U"] == last + 1
                        book.apply(data["b"], data["a"])
                        last = data["u"]
                    elif data["u"] == last:
                        (bp, bq), (ap, aq) = book.sorted_bids()[0], book.sorted_asks()[0]
                        assert (bp, bq, ap, aq) == tuple(
                            type(bp)(data[k]) for k in ("b", "B", "a", "A")
                        )
                        matched += 1
                assert matched >= 5

    run(body)


def test_slow_depth_stream_merges_ten_steps() -> None:
    async def body() -> None:
        clock = MarketClock(SyntheticMarket(seed=6), paused=True)
        async with BinanceSim(clock=clock) as sim:
            async with connect(sim.ws_url("ethusdt@depth", "ethusdt@depth@100ms")) as ws:
                await asyncio.sleep(0.05)
                clock.step(35)
                msgs = [json.loads(r) for r in await drain(ws)]
        slow = [m["data"] for m in msgs if m["stream"] == "ethusdt@depth"]
        fast = [m["data"] for m in msgs if m["stream"] == "ethusdt@depth@100ms"]
        assert len(slow) == 3 and len(fast) >= 30
        for prev, ev in zip(slow, slow[1:], strict=False):
            assert ev["U"] == prev["u"] + 1
        assert slow[-1]["u"] == [f["u"] for f in fast if f["u"] <= slow[-1]["u"]][-1]

    run(body)


def test_server_pings_and_closes_without_pong() -> None:
    async def body() -> None:
        async with BinanceSim(ping_interval=0.1, pong_timeout=0.4) as sim:
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(sim.ws_url(combined=False), autoping=False) as ws:
                    msg = await ws.receive(timeout=2)
                    assert msg.type == aiohttp.WSMsgType.PING
                    while True:  # never answer: the server gives up after pong_timeout
                        msg = await ws.receive(timeout=3)
                        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                            break
            # a client that answers pings (websockets does it automatically) stays connected
            async with connect(sim.ws_url("btcusdt@depth@100ms")) as ws:
                await asyncio.sleep(0.8)
                await recv_json(ws)

    run(body)


def test_more_than_five_incoming_messages_per_second_disconnects() -> None:
    async def body() -> None:
        async with BinanceSim() as sim, connect(sim.ws_url(combined=False)) as ws:
            for i in range(7):
                await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
            with pytest.raises(ConnectionClosed):
                for _ in range(20):
                    await recv_json(ws)

    run(body)


def test_stale_snapshot_fault_forces_a_refetch() -> None:
    async def body() -> None:
        async with await start_simulators(seed=8, rate=40) as sims:
            b = sims.urls["binance"]
            status, _ = await post_json(
                b["control"] + "/_sim/fault", {"kind": "stale_snapshot", "symbol": "BTCUSDT"}
            )
            assert status == 200
            queues: dict[str, asyncio.Queue[dict[str, Any]]] = {"BTCUSDT": asyncio.Queue()}
            async with connect(b["ws"] + "/stream?streams=btcusdt@depth@100ms") as ws:
                reader = asyncio.create_task(_reader(ws, queues))
                book, last, fetched = await _sync_book(ws, b["rest"], "BTCUSDT", queues["BTCUSDT"])
                assert fetched == 2  # the first snapshot was older than the first event
                sims.clock.pause()
                _, truth = await get_json(f"{b['control']}/_sim/book?symbol=BTCUSDT")
                while last < truth["lastUpdateId"]:
                    ev = await asyncio.wait_for(queues["BTCUSDT"].get(), 2)
                    book.apply(ev["b"], ev["a"])
                    last = ev["u"]
                _assert_equal(book, truth)
                reader.cancel()

    run(body)


def test_server_shutdown_event_then_close() -> None:
    async def body() -> None:
        async with BinanceSim(rate=20) as sim, connect(sim.ws_url("btcusdt@depth@100ms")) as ws:
            await recv_json(ws)
            sim.inject_fault("server_shutdown", seconds=0.1)
            msg, _ = await recv_until(ws, lambda m: m.get("stream") == "!serverShutdown")
            assert msg["data"]["e"] == "serverShutdown" and isinstance(msg["data"]["E"], int)
            with pytest.raises(ConnectionClosed):
                for _ in range(50):
                    await recv_json(ws)

    run(body)
