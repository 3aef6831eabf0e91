"""Every fault kind, injected through ``POST /_sim/fault``, is observable by a real client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from support.simclient import drain, post_json, recv_json, run
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from openclaw.sim import Simulators, start_simulators

VENUES = ("binance", "okx", "bybit")


@dataclass
class Feed:
    """A subscribed client plus the venue's sequence rule."""

    venue: str
    ws: ClientConnection
    control: str
    last: int  # sequence id of the last message seen

    def link(self, msg: dict[str, Any]) -> tuple[int, int]:
        """(the id this message continues from, its own id)."""
        if self.venue == "binance":
            return msg["U"] - 1, msg["u"]
        if self.venue == "okx":
            d = msg["data"][0]
            return d["prevSeqId"], d["seqId"]
        return msg["data"]["u"] - 1, msg["data"]["u"]


@asynccontextmanager
async def feed(sims: Simulators, venue: str) -> AsyncIterator[Feed]:
    """Connect and subscribe to BTC/USDT depth on one venue; the clock is paused."""
    urls = sims.urls[venue]
    if venue == "binance":
        async with connect(urls["ws"] + "/ws/btcusdt@depth@100ms") as ws:
            await asyncio.sleep(0.05)
            sims.clock.step(1)
            ev = await recv_json(ws)
            yield Feed(venue, ws, urls["control"], ev["u"])
    elif venue == "okx":
        async with connect(urls["ws"]) as ws:
            await ws.send(
                json.dumps(
                    {"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]}
                )
            )
            await recv_json(ws)
            snap = await recv_json(ws)
            yield Feed(venue, ws, urls["control"], snap["data"][0]["seqId"])
    else:
        async with connect(urls["ws_spot"]) as ws:
            await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}))
            await recv_json(ws)
            snap = await recv_json(ws)
            yield Feed(venue, ws, urls["control"], snap["data"]["u"])


async def _with_feed(venue: str, check: Any) -> None:
    async with await start_simulators(seed=17, paused=True) as sims, feed(sims, venue) as f:
        await check(sims, f)


async def _fault(f: Feed, kind: str, **extra: Any) -> None:
    status, reply = await post_json(
        f.control + "/_sim/fault", {"kind": kind, "symbol": "BTCUSDT", **extra}
    )
    assert status == 200 and reply["ok"], reply


async def _step_and_read(sims: Simulators, f: Feed, n: int) -> list[str]:
    sims.clock.step(n)
    return await drain(f.ws, 0.2)


def _chain_ok(f: Feed, msgs: list[dict[str, Any]]) -> bool:
    last = f.last
    for m in msgs:
        prev, cur = f.link(m)
        if prev != last:
            return False
        last = cur
    return True


@pytest.mark.parametrize("venue", VENUES)
def test_gap(venue: str) -> None:
    async def check(sims: Simulators, f: Feed) -> None:
        await _fault(f, "gap")
        msgs = [json.loads(t) for t in await _step_and_read(sims, f, 4)]
        assert len(msgs) >= 2 and not _chain_ok(f, msgs)
        prev, _ = f.link(msgs[0])
        assert prev > f.last  # one message was never sent: the chain jumps
        f.last = f.link(msgs[0])[1]
        assert _chain_ok(f, msgs[1:])

    run(lambda: _with_feed(venue, check))


@pytest.mark.parametrize("venue", VENUES)
def test_duplicate(venue: str) -> None:
    async def check(sims: Simulators, f: Feed) -> None:
        await _fault(f, "duplicate")
        texts = await _step_and_read(sims, f, 3)
        assert texts[0] == texts[1]
        msgs = [json.loads(t) for t in texts]
        assert _chain_ok(f, msgs[:1]) and not _chain_ok(f, msgs[:2])
        f.last = f.link(msgs[1])[1]
        assert _chain_ok(f, msgs[2:])

    run(lambda: _with_feed(venue, check))


@pytest.mark.parametrize("venue", VENUES)
def test_reorder(venue: str) -> None:
    async def check(sims: Simulators, f: Feed) -> None:
        await _fault(f, "reorder")
        msgs = [json.loads(t) for t in await _step_and_read(sims, f, 3)]
        first, second = f.link(msgs[0]), f.link(msgs[1])
        assert second[0] == f.last and first[0] == second[1], "the first two were swapped"
        f.last = first[1]
        assert _chain_ok(f, msgs[2:])

    run(lambda: _with_feed(venue, check))


@pytest.mark.parametrize("venue", VENUES)
def test_malformed(venue: str) -> None:
    async def check(sims: Simulators, f: Feed) -> None:
        await _fault(f, "malformed")
        texts = await _step_and_read(sims, f, 2)
        with pytest.raises(json.JSONDecodeError):
            json.loads(texts[0])
        assert _chain_ok(f, [json.loads(t) for t in texts[1:]])  # nothing else was lost

    run(lambda: _with_feed(venue, check))


@pytest.mark.parametrize("venue", VENUES)
def test_stall_then_flush(venue: str) -> None:
    async def check(sims: Simulators, f: Feed) -> None:
        await _fault(f, "stall", seconds=0.3)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        sims.clock.step(3)
        first = await asyncio.wait_for(f.ws.recv(), 3)
        assert loop.time() - t0 >= 0.25
        rest = await drain(f.ws, 0.2)
        assert _chain_ok(f, [json.loads(t) for t in [first, *rest]])

    run(lambda: _with_feed(venue, check))


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize("kind", ["drop", "close"])
def test_drop_and_close(venue: str, kind: str) -> None:
    async def check(sims: Simulators, f: Feed) -> None:
        await _fault(f, kind)
        with pytest.raises(ConnectionClosed) as info:
            for _ in range(100):
                await recv_json(f.ws)
                sims.clock.step(1)
        if kind == "drop":
            assert info.value.rcvd is None, "a drop sends no close frame"
        else:
            assert info.value.rcvd is not None and info.value.rcvd.code == 1001

    run(lambda: _with_feed(venue, check))


def test_fault_endpoint_rejects_unknown_kind_and_symbol() -> None:
    async def body() -> None:
        async with await start_simulators(paused=True) as sims:
            control = sims.urls["okx"]["control"]
            status, reply = await post_json(control + "/_sim/fault", {"kind": "meteor"})
            assert status == 400 and "unknown fault kind" in reply["error"]
            status, reply = await post_json(
                control + "/_sim/fault", {"kind": "gap", "symbol": "DOGE-USDT"}
            )
            assert status == 400 and not reply["ok"]
            status, reply = await post_json(
                sims.urls["binance"]["control"] + "/_sim/fault", {"kind": "seq_reset"}
            )  # an OKX-only kind
            assert status == 400

    run(body)
