"""OKX v5 simulator over real loopback sockets with the ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from support.paths import VENUE_DATA
from support.simclient import (
    PlainBook,
    assert_same_book,
    drain,
    get_json,
    okx_book_crc,
    okx_crc_signed,
    post_json,
    recv_json,
    recv_until,
    run,
)
from websockets.asyncio.client import connect

from openclaw.sim import MarketClock, OkxSim, SyntheticMarket, okx_checksum

RECORDING = VENUE_DATA / "okx/okx_books_BTC-USDT_2022.ws"


def _sub(channel: str, inst: str, req_id: str | None = None) -> str:
    req: dict[str, Any] = {"op": "subscribe", "args": [{"channel": channel, "instId": inst}]}
    if req_id is not None:
        req = {"id": req_id, **req}
    return json.dumps(req)


def test_checksum_helpers_agree_with_the_documented_examples() -> None:
    one = ([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")])
    two = ([("3366.1", "7")], [("3366.8", "9"), ("3368", "8"), ("3372", "8")])
    assert okx_crc_signed(*one) == -1881014294
    assert okx_crc_signed(*two) == 831078360
    assert okx_checksum([list(x) for x in one[0]], [list(x) for x in one[1]]) == -1881014294
    assert okx_checksum([list(x) for x in two[0]], [list(x) for x in two[1]]) == 831078360


def test_client_crc_reproduces_the_real_2022_recording() -> None:
    if not RECORDING.is_file():
        pytest.fail(f"recorded venue data missing at {RECORDING}", pytrace=False)
    book = PlainBook()
    checked = 0
    for line in RECORDING.read_text().splitlines():
        if '"channel":"books"' not in line or '"action"' not in line:
            continue
        msg = json.loads(line.split(": ", 1)[1])
        data = msg["data"][0]
        if msg["action"] == "snapshot":
            book.load(data["bids"], data["asks"])
        else:
            book.apply(data["bids"], data["asks"])
        assert okx_book_crc(book) == data["checksum"]
        checked += 1
    assert checked > 90


def test_books_snapshot_then_updates_with_real_checksums_and_true_book() -> None:
    async def body() -> None:
        async with OkxSim(rate=50, checksum="real") as sim, connect(sim.ws_url) as ws:
            await ws.send(_sub("books", "BTC-USDT", "r1"))
            ack = await recv_json(ws)
            assert ack == {
                "id": "r1",
                "event": "subscribe",
                "arg": {"channel": "books", "instId": "BTC-USDT"},
                "connId": ack["connId"],
            }
            snap = await recv_json(ws)
            assert snap["action"] == "snapshot" and snap["arg"]["instId"] == "BTC-USDT"
            data = snap["data"][0]
            assert list(data) == ["asks", "bids", "ts", "checksum", "prevSeqId", "seqId"]
            assert data["prevSeqId"] == -1 and isinstance(data["ts"], str)
            assert all(len(level) == 4 and level[2] == "0" for level in data["asks"])
            book = PlainBook()
            book.load(data["bids"], data["asks"])
            assert okx_book_crc(book) == data["checksum"] != 0
            last = data["seqId"]
            jumps = set()
            for _ in range(30):
                msg = await recv_json(ws)
                d = msg["data"][0]
                assert msg["action"] == "update" and d["prevSeqId"] == last
                jumps.add(d["seqId"] - last)
                book.apply(d["bids"], d["asks"])
                assert okx_book_crc(book) == d["checksum"]
                last = d["seqId"]
            assert len(jumps) > 1, "seqId must not be contiguous"
            sim.clock.pause()
            truth = sim.true_book("BTC-USDT")
            while last != truth["seqId"]:
                d = (await recv_json(ws))["data"][0]
                book.apply(d["bids"], d["asks"])
                last = d["seqId"]
            assert_same_book(book, truth)
            assert okx_book_crc(book) == truth["checksum"]

    run(body)


def test_zero_checksum_mode_is_the_live_default() -> None:
    async def body() -> None:
        async with OkxSim(rate=50) as sim, connect(sim.ws_url) as ws:
            await ws.send(_sub("books", "ETH-USDT"))
            ack = await recv_json(ws)
            assert "id" not in ack
            for _ in range(6):
                assert (await recv_json(ws))["data"][0]["checksum"] == 0

    run(body)


def test_rest_seeded_flow_without_initial_snapshot() -> None:
    """docs/venues/okx.md §2.8: no WS snapshot; seed from REST and chain by prevSeqId."""

    async def body() -> None:
        async with OkxSim(rate=50, initial_snapshot=False, checksum="real") as sim:
            async with connect(sim.ws_url) as ws:
                await ws.send(_sub("books", "ETH-BTC"))
                await recv_json(ws)
                buffered = [await recv_json(ws) for _ in range(2)]
                assert all(m["action"] == "update" for m in buffered)
                _, rest = await get_json(sim.rest_books_url("ETH-BTC", 400))
                assert rest["code"] == "0"
                snap = rest["data"][0]
                assert list(snap) == ["asks", "bids", "ts", "seqId"]
                first_prev = buffered[0]["data"][0]["prevSeqId"]
                assert snap["seqId"] >= first_prev
                book = PlainBook()
                book.load(snap["bids"], snap["asks"])
                last = snap["seqId"]
                started = False
                while True:
                    msg = buffered.pop(0) if buffered else await recv_json(ws)
                    d = msg["data"][0]
                    if d["seqId"] <= snap["seqId"]:
                        continue
                    if not started:
                        assert d["prevSeqId"] <= snap["seqId"] < d["seqId"]
                        started = True
                    else:
                        assert d["prevSeqId"] == last
                    book.apply(d["bids"], d["asks"])
                    assert okx_book_crc(book) == d["checksum"]
                    last = d["seqId"]
                    if not buffered:
                        break
                sim.clock.pause()
                truth = sim.true_book("ETH-BTC")
                while last != truth["seqId"]:
                    d = (await recv_json(ws))["data"][0]
                    assert d["prevSeqId"] == last
                    book.apply(d["bids"], d["asks"])
                    last = d["seqId"]
                assert_same_book(book, truth)

    run(body)


def test_errors_ping_and_unsubscribe() -> None:
    async def body() -> None:
        async with OkxSim(rate=20) as sim, connect(sim.ws_url) as ws:
            await ws.send(_sub("books", "NOPE-USDT", "e1"))
            err = await recv_json(ws)
            assert err["event"] == "error" and err["code"] == "60018" and err["id"] == "e1"
            assert "channel:books,instId:NOPE-USDT doesn't exist" in err["msg"]
            await ws.send(_sub("books-l2-tbt", "BTC-USDT"))
            assert (await recv_json(ws))["code"] == "64003"
            await ws.send("{oops")
            assert (await recv_json(ws))["code"] == "60012"
            await ws.send(json.dumps({"op": "fly", "args": []}))
            assert (await recv_json(ws))["code"] == "60019"
            await ws.send("ping")
            assert await asyncio.wait_for(ws.recv(), 2) == "pong"
            await ws.send(_sub("books", "BTC-USDT"))
            await recv_until(ws, lambda m: m.get("action") == "snapshot")
            await ws.send(
                json.dumps(
                    {"op": "unsubscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]}
                )
            )
            ack, _ = await recv_until(ws, lambda m: m.get("event") == "unsubscribe")
            assert ack["arg"] == {"channel": "books", "instId": "BTC-USDT"}
            assert await drain(ws, 0.3) == []
            _, rest = await get_json(sim.url + "/api/v5/market/books?instId=NOPE-USDT")
            assert rest["code"] == "51001" and rest["data"] == []

    run(body)


def test_books5_and_bbo_are_full_snapshots_without_action() -> None:
    async def body() -> None:
        async with OkxSim(rate=50) as sim, connect(sim.ws_url) as ws:
            await ws.send(
                json.dumps(
                    {
                        "op": "subscribe",
                        "args": [
                            {"channel": "books5", "instId": "ETH-USDT"},
                            {"channel": "bbo-tbt", "instId": "ETH-USDT"},
                        ],
                    }
                )
            )
            msgs = [await recv_json(ws) for _ in range(10)]
        pushes = [m for m in msgs if "data" in m]
        assert {m["arg"]["channel"] for m in pushes} == {"books5", "bbo-tbt"}
        for m in pushes:
            d = m["data"][0]
            assert "action" not in m and "checksum" not in d and d["instId"] == "ETH-USDT"
            n = 5 if m["arg"]["channel"] == "books5" else 1
            assert len(d["bids"]) == n and len(d["asks"]) == n
            assert float(d["bids"][0][0]) < float(d["asks"][0][0])

    run(body)


def test_heartbeat_seq_reset_and_bad_checksum_faults() -> None:
    async def body() -> None:
        clock = MarketClock(SyntheticMarket(seed=12), paused=True)
        async with OkxSim(clock=clock, checksum="zero") as sim, connect(sim.ws_url) as ws:
            await ws.send(_sub("books", "BTC-USDT"))
            await recv_json(ws)
            snap = (await recv_json(ws))["data"][0]
            book = PlainBook()
            book.load(snap["bids"], snap["asks"])
            last = snap["seqId"]
            sim.inject_fault("heartbeat", "BTC-USDT")
            hb = (await recv_json(ws))["data"][0]
            assert hb["bids"] == hb["asks"] == [] and hb["seqId"] == hb["prevSeqId"] == last
            sim.inject_fault("seq_reset", "BTC-USDT")
            clock.step(1)
            d = (await recv_json(ws))["data"][0]
            assert d["prevSeqId"] == last and d["seqId"] < d["prevSeqId"]
            book.apply(d["bids"], d["asks"])
            last = d["seqId"]
            status, _ = await post_json(
                sim.url + "/_sim/fault", {"kind": "bad_checksum", "symbol": "BTC-USDT"}
            )
            assert status == 200
            clock.step(2)
            bad, good = (await recv_json(ws))["data"][0], (await recv_json(ws))["data"][0]
            assert bad["prevSeqId"] == last and good["prevSeqId"] == bad["seqId"]
            book.apply(bad["bids"], bad["asks"])
            assert bad["checksum"] != 0 and bad["checksum"] != okx_book_crc(book)
            assert good["checksum"] == 0

    run(body)


def test_idle_connection_is_closed_and_heartbeat_pushes() -> None:
    async def body() -> None:
        clock = MarketClock(SyntheticMarket(seed=1), paused=True)
        async with OkxSim(clock=clock, idle_timeout=0.6, heartbeat_s=0.3) as sim:
            async with connect(sim.ws_url) as ws:
                await ws.send(_sub("books", "ETH-USDT"))
                await recv_json(ws)
                snap = (await recv_json(ws))["data"][0]
                hb = (await recv_json(ws, 2))["data"][0]  # paused market: heartbeat only
                assert hb["seqId"] == hb["prevSeqId"] == snap["seqId"] and hb["bids"] == []
            async with connect(sim.ws_url) as ws:  # never subscribes: closed after 0.6 s
                await asyncio.wait_for(ws.wait_closed(), 3)

    run(body)
